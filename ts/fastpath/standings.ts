/**
 * Every registered certificate's standing, held in memory by a SQLite-backed serving
 * process (`certgate serve --view-standings all`, the default; ts/fastpath/index.ts,
 * "Every standing in memory" has the argument). A decision then answers its registration
 * read from here, without a SQLite statement, the same way a fleet sidecar answers from
 * its view (ts/view/allStandings.ts holds the standings, packed, for both).
 *
 * Kept exact by the committed-reads check (committedReads.ts): a lookup first asks
 * whether anything was committed to the file since the last check; when something was,
 * the change log (every certificate write and every attachment, logged by triggers in
 * the writing transaction: ts/registry/sqlite/schema.ts) is read from the last sequence
 * applied, each change with its certificate's current state in the same statement, and
 * applied before the lookup answers.
 */
import Database from 'better-sqlite3';
import { AllStandings, type StandingChange } from '../view/allStandings.js';
import { joinedThingNames } from '../registry/rows.js';
import { BUSY_TIMEOUT_MS } from '../registry/sqlite/database.js';
import type { CertificateStanding } from '../registry/types.js';

/** Changes read per catch-up statement; a catch-up repeats until it reads fewer. */
const CATCH_UP_BATCH = 5_000;

interface ChangeRow extends StandingChange {
  sequence: number;
  /** `group_concat` of the thing names (null: none, or a change of another kind). */
  things: string | null;
}

/**
 * One statement, so one WAL snapshot: the changes after `?` and, for each certificate or
 * attachment change, its certificate's state now (null: not registered in that account).
 * The state is at least as new as every change read (each committed before the snapshot).
 */
const CHANGES_WITH_STATE = `SELECT l.sequence, l.kind, l.account_id, l.resource_id,
    c.status, c.certificate_mode, c.ca_certificate_id,
    (SELECT group_concat(t.thing_name, ',') FROM thing_principals t
      WHERE t.account_id = l.account_id AND t.principal = ? || l.account_id || ':cert/' || l.resource_id) AS things
  FROM (SELECT sequence, kind, account_id, resource_id FROM change_log WHERE sequence > ? ORDER BY sequence LIMIT ?) AS l
  LEFT JOIN certificates c ON l.kind IN ('certificate', 'attachment') AND c.account_id = l.account_id AND c.certificate_id = l.resource_id
  ORDER BY l.sequence`;

export class SqliteStandings {
  readonly #db: Database.Database;
  readonly #arnPrefix: () => string;
  readonly #changes: Database.Statement;
  readonly #materialised: number;
  #held: AllStandings | undefined;
  /** The newest change-log sequence applied. */
  #applied = 0;

  /**
   * `arnPrefix()`: `arn:aws:iot:<region>:`, what a certificate principal starts with
   * (read when first needed: the region is known once the registry has opened).
   * `materialised`: standing objects kept ready for the warm path (`--view-cache-size`).
   */
  constructor(db: Database.Database, arnPrefix: () => string, materialised: number) {
    this.#db = db;
    this.#arnPrefix = arnPrefix;
    this.#changes = db.prepare(CHANGES_WITH_STATE);
    this.#materialised = materialised;
  }

  /** Certificates held (registered, in every account). */
  get size(): number {
    return this.#held?.size ?? 0;
  }

  /**
   * Bring what is held up to what is committed: the changes logged since the last
   * sequence applied (nothing before the first load, which {@link get} or {@link load}
   * does). Call right after a check found a commit, outside any transaction.
   */
  catchUp(): void {
    if (this.#held === undefined) return;
    const prefix = this.#arnPrefix();
    for (;;) {
      const rows = this.#changes.all(prefix, this.#applied, CATCH_UP_BATCH) as ChangeRow[];
      // SQLite serialises writers and AUTOINCREMENT never reuses a number, so the log has
      // no holes; a hole means rows were removed (a file restored or edited): what is held
      // may be newer than the log. Start again from the whole registry. (Before the first
      // change after a load of an empty log, the numbering may start anywhere.)
      let expected = this.#applied === 0 ? (rows[0]?.sequence ?? 0) : this.#applied + 1;
      if (rows.some((row) => row.sequence !== expected++)) {
        this.#load();
        return;
      }
      const held = this.#held;
      for (const row of rows) {
        held.applyChange(row, joinedThingNames(row.things));
        this.#applied = row.sequence;
      }
      if (rows.length < CATCH_UP_BATCH) return;
    }
  }

  /**
   * The standing held for the certificate in the account, or null (not registered).
   * `seenBefore` false (a certificate met for the first time): a fresh object, not kept
   * (ts/fastpath/index.ts, "Remembered on second sight").
   */
  get(accountId: string, certificateId: string, seenBefore: boolean): CertificateStanding | null {
    return (this.#held ?? this.load()).get(accountId, certificateId, seenBefore);
  }

  /**
   * Load every standing, once (later calls return what is held). Call after a check (a
   * commit landing after its mark is found by the next check, and caught up from the
   * sequence this load read), outside any transaction.
   */
  load(): AllStandings {
    if (this.#held === undefined) this.#load();
    return this.#held as AllStandings;
  }

  /**
   * Every standing and attachment and the newest sequence, in one read transaction (one
   * snapshot). On a connection of its own, which does not map the file: the scan reads
   * every row of the certificates table, PEM included, and through the decision
   * connection's memory map (ts/registry/sqlite/reads.ts) those pages would stay in the
   * process's resident set (~1.6 KB per certificate, measured: +163 MB of RssFile at
   * 100,000) for nothing a decision reads.
   */
  #load(): void {
    const own = this.#db.memory ? undefined : new Database(this.#db.name, { readonly: true, fileMustExist: true });
    try {
      own?.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      own?.pragma('mmap_size = 0');
      this.#loadFrom(own ?? this.#db);
    } finally {
      own?.close();
    }
  }

  #loadFrom(db: Database.Database): void {
    const held = new AllStandings(this.#materialised);
    const load = db.transaction(() => {
      const newest = db.prepare('SELECT COALESCE(MAX(sequence), 0) AS n FROM change_log').pluck().get() as number;
      const certificates = db
        .prepare('SELECT account_id, certificate_id, status, certificate_mode, ca_certificate_id FROM certificates')
        .raw()
        .iterate() as IterableIterator<[string, string, string, string, string | null]>;
      for (const [accountId, certificateId, status, mode, caCertificateId] of certificates)
        held.set(accountId, certificateId, { status, mode, caCertificateId });
      // Only a principal naming the certificate in the account it is attached in counts,
      // as in the registration read (ts/registry/sqlite/reads.ts).
      const prefix = this.#arnPrefix();
      const attachments = db
        .prepare('SELECT account_id, principal, thing_name FROM thing_principals ORDER BY account_id, principal, thing_name')
        .raw()
        .iterate() as IterableIterator<[string, string, string]>;
      for (const [accountId, principal, thingName] of attachments) {
        const own = `${prefix}${accountId}:cert/`;
        if (principal.startsWith(own)) held.addThing(accountId, principal.slice(own.length), thingName);
      }
      return newest;
    });
    this.#applied = load.deferred();
    this.#held = held;
  }
}
