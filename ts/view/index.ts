/**
 * Fleet mode: many `certgate serve` sidecars on one PostgreSQL registry, each process
 * deciding from a local view (docs/fleet.md), and a lowering write (revoke, deactivate,
 * delete, transfer, detach, CA or CRL change, domain removal, account settings) that
 * returns only when no sidecar anywhere can still allow what it lowered.
 *
 *   fleetView.ts     the view: DecisionReads from memory, catch-up, heartbeats
 *   tables.ts        routing, CAs and CRL metadata, loaded whole in one snapshot
 *   allStandings.ts  every registered certificate's standing, packed (`--view-standings all`, default)
 *   fullLoad.ts      the whole load (one snapshot) and the catch-up read (one statement) of `all`
 *   standings.ts     certificate standings seen (lru), negative answers included (`seen`)
 *   lease.ts      may this process allow now, for a decision that started then?
 *   feed.ts       the one LISTEN connection per process
 *   fleetWait.ts  the writer's wait for the fleet
 *
 * The claim
 * ---------
 * Let W be a lowering write that commits at time t_c with change-log sequence S, and
 * whose call returns at t_r (after `awaitFleet`). Then no decision of any sidecar X
 * that starts after t_r allows on the strength of a state older than W.
 *
 * Why it holds
 * ------------
 * 1. The log (ts/registry/postgres/schema.ts, migration 9). Every write a decision
 *    reads inserts a change-log row in its own transaction, with sequence MAX + 1. A
 *    number N + 1 is drawn only by a transaction that saw N committed (under
 *    SERIALIZABLE two writers drawing the same number conflict, and the primary key
 *    refuses a duplicate either way), so the committed sequences are always exactly
 *    1..MAX, in commit order, with no holes. Reading `sequence > applied ORDER BY
 *    sequence` therefore returns every change after `applied` up to the newest committed
 *    one; a missing number can only mean removed rows, and then the view drops what it
 *    holds, or (`all`) loads it all again (fleetView.ts `#catchUp`).
 * 2. Applying, and the miss rule (`--view-standings seen`). Applying a certificate or attachment change drops the
 *    certificate's held standing; any other kind reloads the small tables whole, in a
 *    snapshot taken after the change was read. `#seen` (drops done through) advances in
 *    the same synchronous step as the drops; `#applied` (what heartbeats report) only
 *    once the tables are reloaded too. A standing not held is read from PostgreSQL in
 *    ONE statement together with M = MAX(sequence) of the same snapshot, and kept only
 *    if M >= `#seen` at that moment: every change after M then reaches the view after
 *    the standing is kept, and drops it. (Without the rule, a read that saw the state
 *    before change S, returning after S was applied, would be kept stale for good:
 *    test/view/fleetView.test.ts "raced".) A change the kept read already saw (its
 *    sequence <= M) does not drop it. Held answers are thus never older than what the
 *    view has applied.
 *    That is `--view-standings seen`. With `all` (the default) the view holds the standing
 *    of every registered certificate, and absence means "not registered", so a change
 *    cannot just drop an entry; instead the view applies STATE read in the same snapshot
 *    as the changes, and there are no misses:
 *    (a) The whole load (fullLoad.ts `loadAll`, at start and after a gap) reads the
 *        tables, M = MAX(sequence) and every certificate and attachment in ONE
 *        REPEATABLE READ transaction: what it holds is exactly the registry as of M, and
 *        `#seen` = `#applied` = M. Every change after M is read by the catch-up after.
 *    (b) A catch-up reads the changes after `#seen` (up to a batch) and, in the SAME
 *        statement (one snapshot T), the current standing and things of each certificate
 *        a certificate or attachment change names; they are applied in one synchronous
 *        step with advancing `#seen` to the newest change read. The state applied is the
 *        registry's as of T, at least as new as every change read (each committed before
 *        T). Catch-ups run one at a time on one connection, so successive T only grow and
 *        a held standing only moves forward. Hence for every certificate: after the view
 *        has applied through S, what it holds is the certificate's state as of some
 *        snapshot that includes every change <= S naming it (from (a) if none after M
 *        did). The tables follow as before, reloaded in a snapshot after the changes.
 *    (c) A certificate the view does not hold: it was not registered in the load's
 *        snapshot, and no change read since named it with a registered state — i.e. it is
 *        not registered as of what the view has applied; a decision refuses it
 *        (CERTIFICATE_NOT_REGISTERED) without reading PostgreSQL.
 *    (d) A gap in the sequences (rows removed: a standby promoted without the newest
 *        changes) may mean the view holds state the log no longer has: the lease is ended
 *        at once (REGISTRY_STALE) and everything is loaded again as in (a).
 *    test/view/fleetView.test.ts "whole load is in flight" fails if the load's M comes
 *    from a later snapshot than its standings.
 * 3. The lease. Every H ms a heartbeat, in one implicit transaction, upserts X's row in
 *    `sidecars` (applied sequence, lease_until = the database's now() + L + margin) and
 *    then, in a new snapshot taken while that row is still locked, reads MAX(sequence).
 *    If X had applied through that MAX (catching up first when not), X is confirmed
 *    until (local monotonic time when the heartbeat was sent) + L, which is never later
 *    than its row's lease_until. X registers its row (committed, its lease_until = now():
 *    already run out) before loading its first snapshot, so every heartbeat that can
 *    confirm X is an UPDATE of a row the writers' polls lock FOR SHARE (step 4 (b));
 *    writers do not wait for X while it loads (seconds, at a million certificates), and
 *    X allows nothing until a heartbeat after the load confirms it, having caught up
 *    through that heartbeat's MAX first. Rule 11 (`requireCurrentView`, ts/authz/rules.ts) allows only if
 *    the lease holds now and has held without a break since the decision started.
 * 4. The writer's wait (fleetWait.ts). After W commits, the writer reads S' = MAX >= S
 *    and polls the rows with applied_sequence < S' FOR SHARE until none has a live lease
 *    (or L + margin have passed). For each sidecar X, the wait ended because
 *    (a) X's row showed applied >= S: X had applied W before that heartbeat was sent; a
 *        decision starting after t_r reads held answers that reflect W (step 2), or
 *        (`seen`) misses that read PostgreSQL after t_c; or
 *    (b) X's row had lease_until <= now(): the poll waited for any heartbeat holding the
 *        row, so every heartbeat of X whose MAX snapshot lacks W (its row lock was taken
 *        before t_c < the poll) is already visible in that row, and its confirmation
 *        ended by its lease_until, before t_r. Any later confirmation comes from a
 *        heartbeat whose snapshot includes W, so X applied W before it; a decision that
 *        started after t_r while X was lapsed is refused by the "no break" condition if
 *        the renewal came after it started, and otherwise reads state that includes W; or
 *    (c) L + margin passed since t_c: every confirmation of X from a snapshot without W
 *        was sent before t_c and so ended by t_c + L; as in (b) for the later ones.
 *    Rows that appear after the poll belong to sidecars whose snapshot includes W.
 * 5. The caches beside the view. Routing, CA anchors and CRL sets (one ConfigCache each,
 *    configCache.ts; anchors.ts, crls.ts) are tagged with the view's config generation,
 *    bumped when the tables are reloaded; an entry whose load started under another
 *    generation is neither used nor stored, and a load in flight is not shared with a
 *    decision that starts after a change, so none outlives an applied change (nor an
 *    in-flight load that raced it).
 *    The same number is the view's `configStamp`: while it is unchanged the tables are
 *    the same objects, so the caches keep an entry past `--config-cache-ms` without
 *    reading it again (configCache.ts `renewed`); the TTL adds nothing in fleet mode.
 *    Reads the decision makes straight from the registry (connections without SNI, JITR,
 *    CRL bytes) see every commit before them.
 *
 * Assumptions: the database's clock and this host's monotonic clock run at the same rate
 * within the margin (LEASE_MARGIN_MS over L) and the database clock is not stepped
 * forward by more than the margin during a lease; all sidecars of a fleet use the same
 * `--max-staleness` (a writer that cannot read the rows waits for its own L).
 * What a lease costs in an outage, and how to choose L and H: docs/fleet.md.
 */
export {
  FleetView,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_MAX_STALENESS_MS,
  type FleetViewOptions,
  type ViewStandingsMode,
  type ViewStats,
} from './fleetView.js';
export { awaitFleet, type FleetWaitOutcome, type FleetWaitResult } from './fleetWait.js';
export { Lease } from './lease.js';
