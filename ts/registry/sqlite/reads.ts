/**
 * The reads a decision makes (routing, a certificate's standing, a CA, a CRL's
 * metadata), answered synchronously from this process's connection. With the fast path
 * on (ts/fastpath/), the certificate reads go through `CommittedReads`, which reuses a
 * value only while nothing has been committed to the file since it was read.
 */
import { endpointRoute } from '../endpoints.js';
import { certificateArn } from '../arn.js';
import { META_COLUMNS, crlMetaFromRow, type CaCrlRow } from '../crlRows.js';
import type { Account, CaCertificateRecord, CaCrlMeta, CertificateRecord, CertificateStanding, RegistrySettings } from '../types.js';
import { CommittedReads, SqliteStandings } from '../../fastpath/index.js';
import type { Sqlite } from './database.js';
import {
  accountFromRow,
  caCertificateFromRow,
  certificateFromRow,
  joinedThingNames,
  standingFromRow,
  type AccountRow,
  type CaCertificateRow,
  type CertificateRow,
  type StandingRow,
} from './rows.js';

/**
 * Bytes of the database file this connection reads through a memory map instead of
 * read() calls (`PRAGMA mmap_size`, https://www.sqlite.org/pragma.html#pragma_mmap_size;
 * https://www.sqlite.org/mmap.html): a registration read of a certificate not seen
 * before touches B-tree pages SQLite has not cached, and each was a system call (≈ 3 µs
 * of a ≈ 10 µs read at 100,000 certificates, bench/README.md "Cold path and warm
 * 100,000"). The mapping is read-only and SQLite's own: pages newer in the WAL are still
 * read from the WAL, so what a read returns is unchanged. Address space only; the pages
 * are the OS's file cache, shared by every process on the file. SQLite caps it at its
 * compile-time SQLITE_MAX_MMAP_SIZE (2 GB in better-sqlite3's build).
 */
export const READ_MMAP_BYTES = 1 << 30;

/** Standing objects a process keeps ready for warm decisions by default (`--view-cache-size`). */
const DEFAULT_MATERIALISED = 100_000;

export interface SqliteReadsOptions {
  /** The warm-path machinery (ts/fastpath/); default on. */
  fastPath?: boolean;
  /** Check "nothing committed" through the mapped wal-index (needs the native addon). */
  watchWalIndex?: boolean;
  /**
   * `all`: hold every registered certificate's standing in memory (ts/fastpath/standings.ts;
   * needs the fast path); `seen` (default): read SQLite, remembering the standings of
   * certificates seen before.
   */
  standings?: 'all' | 'seen';
  /** With `all`: standing objects kept ready for warm decisions. */
  materialised?: number;
}

export class SqliteReads {
  readonly #sqlite: Sqlite;
  readonly #settings: RegistrySettings;
  readonly #memo: CommittedReads | undefined;
  /** Every registered certificate's standing, in memory (fast path on, `standings: 'all'`). */
  readonly #held: SqliteStandings | undefined;
  /** Stamps given without the fast path: negative, each new (see commitStamp). */
  #unvouched = 0;

  /** `sqlite` must have read the database already (see ts/fastpath/walIndex.ts). */
  constructor(sqlite: Sqlite, settings: RegistrySettings, options: SqliteReadsOptions = {}) {
    this.#sqlite = sqlite;
    this.#settings = settings;
    if (!sqlite.db.memory) sqlite.db.pragma(`mmap_size = ${READ_MMAP_BYTES}`);
    const fastPath = options.fastPath !== false;
    this.#held =
      fastPath && options.standings === 'all'
        ? new SqliteStandings(sqlite.db, () => `arn:aws:iot:${settings.region}:`, options.materialised ?? DEFAULT_MATERIALISED)
        : undefined;
    const held = this.#held;
    this.#memo = fastPath
      ? new CommittedReads(sqlite.db, undefined, {
          useWalIndex: options.watchWalIndex === true,
          ...(held === undefined ? {} : { onCommit: () => held.catchUp() }),
        })
      : undefined;
  }

  /** Whether every standing is held in memory (fast path on, `standings: 'all'`). */
  get holdsStandings(): boolean {
    return this.#held !== undefined;
  }

  /** Certificates whose standing this process holds in memory (0 when it holds none). */
  get standingsHeld(): number {
    return this.#held?.size ?? 0;
  }

  /** Load the standings to hold now (start-up), rather than on the first decision. */
  loadStandings(): void {
    if (this.#held === undefined || this.#memo === undefined) return;
    this.#memo.stamp();
    this.#held.load();
  }

  /** Whether certificate reads are checked through the mapped wal-index header. */
  get watchesWalIndex(): boolean {
    return this.#memo?.watchesWalIndex ?? false;
  }

  close(): void {
    this.#memo?.close();
  }

  /**
   * The same number as an earlier call only if nothing was committed to the file in
   * between (CommittedReads.stamp); without the fast path a new number every time (it
   * vouches for nothing, so the configuration caches keep to their TTL).
   */
  commitStamp(): number {
    return this.#memo?.stamp() ?? --this.#unvouched;
  }

  /** `read()`, through the committed-reads memo when the fast path is on. */
  #committed<T extends object | null>(key: string, read: () => T): T {
    return this.#memo === undefined ? read() : this.#memo.get(key, read);
  }

  accountForHost(host: string): Account | null {
    // Built-in endpoints first: a host in the installation's endpoint namespace is never
    // looked up among custom domains (endpoints.ts).
    const route = endpointRoute(host, this.#settings);
    if (route.builtIn) {
      if (route.prefix === null) return null;
      const row = this.#sqlite.get<AccountRow>('SELECT * FROM accounts WHERE endpoint_prefix = ?', route.prefix);
      return row ? accountFromRow(row) : null;
    }
    const custom = this.#sqlite.get<AccountRow>(
      'SELECT a.* FROM domains d JOIN accounts a ON a.account_id = d.account_id WHERE d.domain_name = ?',
      host,
    );
    return custom ? accountFromRow(custom) : null;
  }

  certificate(accountId: string, certificateId: string): CertificateRecord | null {
    return this.#committed(`get\0${accountId}\0${certificateId}`, () => {
      const row = this.#sqlite.get<CertificateRow>(
        'SELECT * FROM certificates WHERE account_id = ? AND certificate_id = ?',
        accountId,
        certificateId,
      );
      return row ? certificateFromRow(row) : null;
    });
  }

  /**
   * A registration's standing; through the committed-reads memo only when `seenBefore`
   * (a certificate met for the first time is read straight: remembering every cold read
   * would cost each one more than a later hit saves, ts/fastpath/index.ts).
   */
  certificateStanding(accountId: string, certificateId: string, seenBefore = true): CertificateStanding | null {
    // Held in memory: current once the check has found no commit, or caught up on one.
    if (this.#held !== undefined && this.#memo?.settled() === true) return this.#held.get(accountId, certificateId, seenBefore);
    if (this.#memo === undefined || !seenBefore) return this.#standing(accountId, certificateId);
    return this.#memo.owned(accountId, certificateId, () => this.#standing(accountId, certificateId));
  }

  #standing(accountId: string, certificateId: string): CertificateStanding | null {
    // One statement for both (each statement is a WAL read transaction of its own);
    // only the columns a decision reads, not the PEM. Positional parameters (no object
    // per read); the thing names are sorted here rather than by an ORDER BY inside
    // group_concat, which costs SQLite a sorter per read.
    const row = this.#sqlite.get<StandingRow & { things: string | null }>(
      `SELECT status, certificate_mode, ca_certificate_id,
         (SELECT group_concat(thing_name, ',') FROM thing_principals WHERE account_id = ? AND principal = ?) AS things
       FROM certificates WHERE account_id = ? AND certificate_id = ?`,
      accountId,
      certificateArn(this.#settings.region, accountId, certificateId),
      accountId,
      certificateId,
    );
    if (row === undefined) return null;
    return standingFromRow(accountId, certificateId, row, joinedThingNames(row.things));
  }

  certificateRegistrations(certificateId: string): CertificateRecord[] {
    return this.#committed(`find\0${certificateId}`, () =>
      this.#sqlite
        .all<CertificateRow>('SELECT * FROM certificates WHERE certificate_id = ? ORDER BY account_id', certificateId)
        .map(certificateFromRow),
    );
  }

  caCertificate(accountId: string, caCertificateId: string): CaCertificateRecord | null {
    const row = this.#sqlite.get<CaCertificateRow>(
      'SELECT * FROM ca_certificates WHERE account_id = ? AND certificate_id = ?',
      accountId,
      caCertificateId,
    );
    return row ? caCertificateFromRow(row) : null;
  }

  caCrlMeta(accountId: string, caCertificateId: string): CaCrlMeta | null {
    const row = this.#sqlite.get<CaCrlRow>(
      `SELECT ${META_COLUMNS} FROM ca_crls WHERE account_id = ? AND ca_certificate_id = ?`,
      accountId,
      caCertificateId,
    );
    return row ? crlMetaFromRow(row) : null;
  }
}
