/**
 * A per-connection memo of hot registry reads (the authorizer's certificate lookups)
 * that is exact: an entry is reused only while nothing has been committed to the file
 * since it was read, checked on every lookup. So a revoke acknowledged by any process
 * is seen by the very next read here, exactly as without the memo.
 *
 * How "nothing changed" is known:
 * - First, without a system call (~0.1 µs): the wal-index header, which every commit by
 *   any connection rewrites before it returns, is still equal to the one marked at the
 *   last full check (walIndex.ts; the native addon maps it). Only when it differs,
 *   or cannot be watched, does the full check run (~1.4–2.6 µs, a WAL read transaction):
 * - `PRAGMA data_version` changes whenever *another* connection (this process or any
 *   other) commits to the file (sqlite.org/pragma.html#pragma_data_version). It does
 *   not change for this connection's own commits, so
 * - `total_changes()` covers those: SQLite counts every row this connection inserted,
 *   updated or deleted, whichever code path issued the statement
 *   (sqlite.org/c3ref/total_changes.html). Schema changes are not counted; they happen
 *   only in the migration, before the first read.
 * Inside an open transaction nothing is memoised or reused: what it reads may be its own
 * uncommitted writes, which a rollback would take back without moving either counter.
 *
 * The version is read before the row, so a commit landing between the two makes the
 * entry look older than it is (re-read next time), never newer.
 */
import type Database from 'better-sqlite3';
import { deepFreeze } from '../deepFreeze.js';
import { LRUCache } from 'lru-cache';
import { watchWalIndex, type WalIndexWatch } from './walIndex.js';

/**
 * Entries kept at most; on overflow the least recently used is dropped (lru-cache). Sized
 * like the verification cache's default (`--verify-cache-size`, 100,000): a fleet of
 * 100,000 devices reconnecting in turn would otherwise evict every entry before its next
 * use and read SQLite on every decision. ~0.23 KB per standing (frozen, keyed by the
 * certificateId string the decision already holds), ≈ 23 MB when full (bench/README.md
 * "A fleet's traffic", "Cold path and warm 100,000").
 */
export const COMMITTED_READS_MAX = 100_000;

export class CommittedReads {
  readonly #db: Database.Database;
  readonly #dataVersion: Database.Statement;
  readonly #totalChanges: Database.Statement;
  readonly #entries: LRUCache<string, object> | undefined;
  /**
   * Registration standings by certificateId alone ({@link standing}): the decision already
   * holds that string (its hash computed by the verification cache's lookup), so a warm
   * read builds no key. Each value carries the account it was read for, checked on a hit.
   */
  readonly #standings: LRUCache<string, OwnedRead> | undefined;
  readonly #wal: WalIndexWatch | undefined;
  #seenData = -1;
  #seenChanges = -1;
  /** Moves whenever a check finds a commit (see {@link stamp}). */
  #epoch = 0;
  /** Told, right after a check found a commit, before the check answers (standings.ts catches up). */
  readonly #onCommit: (() => void) | undefined;
  /** Set while `#onCommit` has not completed since a commit was found: the next check runs it again. */
  #behind = false;

  /**
   * `db` must have read the database already (see walIndex.ts). `useWalIndex: true`
   * first compares the wal-index header (needs the native addon); without it every
   * lookup asks SQLite's counters (the tests run both ways).
   */
  constructor(db: Database.Database, max = COMMITTED_READS_MAX, options: { useWalIndex?: boolean; onCommit?: () => void } = {}) {
    this.#db = db;
    this.#dataVersion = db.prepare('PRAGMA data_version').pluck();
    this.#totalChanges = db.prepare('SELECT total_changes()').pluck();
    // lru-cache needs max >= 1: a size of 0 remembers nothing.
    this.#entries = max > 0 ? new LRUCache({ max }) : undefined;
    this.#standings = max > 0 ? new LRUCache({ max }) : undefined;
    this.#wal = options.useWalIndex === true ? watchWalIndex(db) : undefined;
    this.#onCommit = options.onCommit;
  }

  /** Whether the no-system-call check is in use. */
  get watchesWalIndex(): boolean {
    return this.#wal !== undefined;
  }

  /** Stop using the wal-index watch; call before closing the connection. */
  close(): void {
    this.#wal?.close();
  }

  /**
   * The value `read()` would return now. `key` must identify the read (query and
   * arguments). Values are frozen: they are shared between callers.
   */
  get<T extends object | null>(key: string, read: () => T): T {
    if (this.#db.inTransaction) return read();
    if (this.#unchanged()) {
      const hit = this.#entries?.get(key);
      if (hit !== undefined) return unbox<T>(hit);
    }
    return this.#remember(key, read());
  }

  /**
   * {@link get} for one account's read about one certificate (its standing), remembered
   * by the certificateId alone and answered only for the account it was read for: a
   * certificate registered in two accounts has its two reads evict each other, never
   * answer for each other.
   */
  owned<T extends { readonly accountId: string }>(accountId: string, certificateId: string, read: () => T | null): T | null {
    if (this.#db.inTransaction) return read();
    if (this.#unchanged()) {
      const hit = this.#standings?.get(certificateId);
      if (hit !== undefined && hit.accountId === accountId) return hit instanceof NoRowIn ? null : (hit as T);
    }
    const value = read();
    this.#standings?.set(certificateId, value === null ? new NoRowIn(accountId) : (deepFreeze(value) as T));
    return value;
  }

  /**
   * Run the check now (a commit found is told to the follower, `onCommit`, before this
   * returns); false inside an open transaction, where nothing may be reused.
   */
  settled(): boolean {
    if (this.#db.inTransaction) return false;
    this.#unchanged();
    return true;
  }

  /**
   * A number that is the same as one returned earlier only if nothing has been committed
   * to the file since that earlier call (the same check as {@link get}'s, so as exact).
   * Read it *before* reading what it vouches for: a commit landing in between then makes
   * the value look older than it is, never newer. The configuration cache
   * (ts/authz/configCache.ts: routing, anchors, CRL states) keeps an entry past its TTL
   * while this is unchanged.
   */
  stamp(): number {
    // Inside a transaction a read may be rolled back: vouch for nothing.
    if (this.#db.inTransaction) this.#epoch++;
    else this.#unchanged();
    return this.#epoch;
  }

  /**
   * Whether nothing has been committed since the last check; when something has, every
   * remembered value is dropped (and the epoch moves).
   */
  #unchanged(): boolean {
    // Nothing committed since the mark, which was taken before the last full check.
    if (!this.#behind && this.#wal?.unchanged() === true) return true;
    // The mark comes first: a commit landing after it is seen by the next check.
    this.#wal?.mark();
    const data = this.#dataVersion.get() as number;
    const changes = this.#totalChanges.get() as number;
    if (!this.#behind && data === this.#seenData && changes === this.#seenChanges) return true;
    this.#entries?.clear();
    this.#standings?.clear();
    this.#seenData = data;
    this.#seenChanges = changes;
    this.#epoch++;
    if (this.#onCommit !== undefined) {
      // Reads after the mark: whatever commits later is found by the next check. If it
      // throws, the next check runs it again (the error refuses the decision that asked).
      this.#behind = true;
      this.#onCommit();
      this.#behind = false;
    }
    return false;
  }

  #remember<T>(key: string, value: T): T {
    this.#entries?.set(key, value === null ? NO_ROW : (deepFreeze(value) as object));
    return value;
  }
}

/** What a read that found no row is remembered as (lru-cache keeps no null values). */
const NO_ROW: object = Object.freeze({});

/** An owned read ({@link CommittedReads.owned}) that found no row in that account. */
class NoRowIn {
  constructor(readonly accountId: string) {
    Object.freeze(this);
  }
}

type OwnedRead = { readonly accountId: string };

function unbox<T>(hit: object): T {
  return (hit === NO_ROW ? null : hit) as T;
}
