/**
 * The fast path: everything that makes a warm decision cheaper without changing what it
 * decides, behind this one door, and switched off as a whole by one option
 * (`certgate serve --no-fast-path`; `fastPath: false` on `openSqliteRegistry`,
 * `Authorizer`, `createAuthzHttpServer` and `createAuthzGrpcServer`). Each piece is kept
 * because `bench/fastPath.ts` shows it pays (numbers in bench/README.md, "Fast path,
 * piece by piece"):
 *
 *   committedReads.ts  a SQLite registration read reused while nothing was committed
 *   walIndex.ts          ... checked first against the mapped wal-index header (native engine only)
 *   standings.ts       every registered certificate's standing in memory, kept up by the
 *                      change log at each commit found (`--view-standings all`, the default of
 *                      `certgate serve`; `seen` reads SQLite for a certificate not met before)
 *   textMemo.ts        decoded chains / escaped PEMs remembered by their exact text
 *   sharedAnswers.ts   one frozen allow per unchanged registration; one HTTP encoding each
 *   encodedAnswers.ts  one protobuf encoding per distinct gRPC answer
 *   fastMetrics.ts     per-decision metric series bound once (always on: it decides nothing)
 *   (every memo here is bounded by lru-cache, as are ts/authz/configCache.ts and verifyCache.ts)
 *
 * Remembered on second sight
 * --------------------------
 * A memo pays on a device's later decisions and costs on its first: keeping a value
 * means allocating what outlives the request, which V8's young-generation collector
 * then copies and promotes, and a new entry in a large map. For a device met once (a
 * cold decision) that was ~13 µs of ~145 µs of server CPU (bench/README.md "Remembered
 * on second sight"), paid for nothing. So the memos keep only what belongs to a
 * certificate met before, as the decision knows from the verification cache or, on a
 * chain's second sight, from the cache's doorkeeper (ts/authz/doorkeeper.ts, TinyLFU's
 * "doorkeeper", https://arxiv.org/abs/1512.00727: an item is admitted on its second
 * access; the verification cache itself admits a chain that way too, bench/README.md
 * "Admitted on second sight"). On a device's first decision nothing is looked up or
 * kept in the committed-reads memo, the decoded-chain memo, the shared allows, the
 * doors' memos or the verification cache; its second decision fills them; from its
 * third on it is served warm. This
 * decides nothing: every memo answers only what a read or a decoding would, so which
 * decision fills it changes cost, never answers (test/authz/secondSight.test.ts). A
 * decision tells the doors through the answer itself: only a shared answer is frozen
 * (sharedAnswers.ts `isShared`), and a door remembers what it made of one only then.
 *
 * Every standing in memory
 * ------------------------
 * A cold decision's registration read was its dearest step after the signature check:
 * ~6 µs in a loop, but ~20 µs of server CPU per cold request under load (a SQLite read
 * transaction — two `fcntl` locks and an `fstat` — and B-tree pages the rest of the
 * request had evicted from the CPU caches). Answering it from a `Map` saved ~18 µs per
 * cold request (bench/README.md "Every standing in memory"). So a serving process holds
 * the standing of every registered certificate (standings.ts, packed as a fleet sidecar
 * packs them: ts/view/allStandings.ts, ~80 bytes each), loaded before it listens, and
 * answers the read from there. It stays exact by the same check as the memo (1–2
 * below): when a check finds a commit, the change log is read from the last sequence
 * applied, each change together with its certificate's current state in ONE statement
 * (one snapshot, so the state is at least as new as every change read), and applied
 * before the check answers. The log is complete: triggers write it in the writing
 * transaction for every insert, status or account change and delete of a certificate and
 * every attachment of a thing (ts/registry/sqlite/schema.ts), whatever code or process
 * writes; SQLite serialises writers, so sequences are in commit order without holes
 * (AUTOINCREMENT; a hole can only mean removed rows, and then everything is loaded
 * again). A catch-up that fails is run again by the next check, whose decision is refused
 * if it fails again (test/registry/sqliteCommittedReads.test.ts runs every case with and
 * without the standings held, and the contract suite runs on both).
 *
 * Why "revocation is immediate" still holds with the fast path on
 * ------------------------------------------------------------------
 * The claim: a status change (or deletion, or thing detachment) committed before a
 * decision starts — by any connection, in any process — is what that decision sees.
 * Only the registration read could break it; everything else here is a pure function of
 * bytes (a chain's decoding, an answer's encoding) or of an object that is itself the
 * result of a fresh read.
 *
 * 1. The registration read (committedReads.ts) returns a remembered value only if no
 *    transaction has committed to the database file since that value was read. "No
 *    commit since" is established on every lookup, before the remembered value is used:
 *    a. `PRAGMA data_version` differs after any commit by *another* connection, in this
 *       process or any other (https://www.sqlite.org/pragma.html#pragma_data_version);
 *    b. `total_changes()` differs after any row this connection inserted, updated or
 *       deleted (https://www.sqlite.org/c3ref/total_changes.html);
 *    so any commit moves one of the two, and a mismatch drops every remembered value.
 *    The counters are read *before* the row, so a commit landing in between makes the
 *    value look older than it is (read again next time), never newer. Inside an open
 *    transaction nothing is remembered or reused (its reads may be rolled back).
 * 2. With the native engine, a cheaper equivalent of (a)+(b) is tried first
 *    (walIndex.ts): every commit in WAL mode rewrites the wal-index header in the `-shm`
 *    file before it returns (https://www.sqlite.org/walformat.html, "The WAL-Index
 *    Header"); the header is mapped read-only and compared word for word with a copy
 *    taken just before the last full check (2a+2b). Equal means no commit since that
 *    check; anything else — a writer mid-update, an uninitialised index, a closed watch —
 *    falls back to the full check. The header cannot be bypassed while the registry is
 *    open: its connection holds the shared locks that stop any other connection from
 *    leaving WAL mode or using exclusive locking, the only ways to commit without the
 *    header (test/registry/sqliteCommittedReads.test.ts, sqliteWalIndexLocks.test.ts).
 *    With `--engine wasm` (or no addon) this step is absent and 1 alone is used.
 *    With every standing held, 1–2 run the same way before each registration read, and a
 *    commit found is caught up before the read answers (above), so the held standing
 *    is the committed one exactly when a fresh read would be.
 * 3. The allow is made from the standing that read returned (sharedAnswers.ts): a shared
 *    allow is found by the identity of that object, and a new read after any commit is a
 *    new object, hence a new allow. The HTTP and gRPC encodings are keyed by the decision
 *    object (or, gRPC, by every field the response is made of), so they can only repeat
 *    an answer that the current read produced.
 * 4. Nothing here caches configuration or verification results; those caches
 *    (ts/authz/configCache.ts, verifyCache.ts) belong to the decision and are on either
 *    way, with their own documented TTLs. The fast path only lets the configuration
 *    caches keep an entry past its TTL while the check of 1–2 (committedReads.ts `stamp`)
 *    says nothing at all was committed since the entry was loaded: a read would then
 *    answer the same, so the decisions are those of a cache reading again each TTL.
 *
 * So a decision with the fast path on answers exactly what it would answer with it off
 * (`--no-fast-path`): the authorizer and door tests run both ways
 * (test/authz/revocationRace.test.ts, test/ingress/http.test.ts, test/ingress/grpc.test.ts),
 * and the registry's memo tests run with and without the wal-index watch.
 */
export { CommittedReads, COMMITTED_READS_MAX } from './committedReads.js';
export { SqliteStandings } from './standings.js';
export { TextMemo } from './textMemo.js';
export { PerDecision, SharedAllows, isShared } from './sharedAnswers.js';
export { EncodedAnswers, ENCODED_ANSWERS_MAX } from './encodedAnswers.js';
export { FastCounter, FastHistogram, type CounterSeries, type HistogramSeries } from './fastMetrics.js';
