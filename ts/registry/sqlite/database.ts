/**
 * The SQLite driver: opening the file with the durability and concurrency settings every
 * process must share (with a prepared-statement cache), and the `Store` the rules run on.
 *
 * Transactions: better-sqlite3 is synchronous, but the rules are async (one rule layer
 * for every backend), so a transaction body spans `await`s. Two dangers, two measures:
 * - Another caller in this process must not read the open transaction's uncommitted
 *   rows: the store writes on a connection of its own (`#write`); every read outside a
 *   transaction, and the authorizer's synchronous reads (reads.ts), use the other
 *   connection, which only ever sees committed data (WAL snapshots).
 * - Two transactions of this process must not interleave on the write connection: they
 *   run one after the other through an in-process queue per file (shared by every
 *   store of this process on that file, else one store's `BEGIN IMMEDIATE` would wait
 *   out the busy timeout on another's open transaction), each `BEGIN IMMEDIATE` (the
 *   write lock up front, so a read-check-write sequence cannot interleave with another
 *   process's write either; busy_timeout waits for it). A transaction body awaits only
 *   the store, whose calls complete at once, so the queue never waits on I/O.
 * A savepoint inside a transaction (`transaction` on the body's store) runs on the same
 * connection within the same turn. Chosen over one connection with a queue for every
 * statement because the authorizer's hot reads must stay synchronous and never wait.
 */
import Database from 'better-sqlite3';
import { closeSync, existsSync, mkdirSync, openSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { savepoint, type Dialect, type Params, type Store } from '../store.js';
import { migrate } from './schema.js';

/**
 * How long a writer waits for another process's write lock before SQLITE_BUSY.
 * Writes are single short transactions, so 5 s only expires under a stuck process.
 */
export const BUSY_TIMEOUT_MS = 5000;

/**
 * Create a new database file readable by its owner only, in a directory (created if
 * needed) that only its owner can enter: the file holds SigV4 secrets and the issuing
 * CA's private key. SQLite gives the -wal and -shm files the main file's mode. An
 * existing file keeps the mode its operator chose.
 */
function createPrivately(file: string): void {
  const resolved = path.resolve(file);
  mkdirSync(path.dirname(resolved), { recursive: true, mode: 0o700 });
  if (!existsSync(resolved)) closeSync(openSync(resolved, 'a', 0o600));
}

/**
 * Put the file in WAL mode (a no-op when it already is; the mode is stored in the file).
 *
 * Retried here, not left to busy_timeout: two processes opening a new file at once (the
 * workers of `serve --processes N`) both read its first page, then both try to write the
 * WAL mark into it; SQLite answers one of them SQLITE_BUSY at once, without calling the
 * busy handler, because waiting would deadlock (https://www.sqlite.org/c3ref/busy_handler.html).
 * Measured: two processes started together on a new file, 38 of 60 pairs failed this way.
 * The retry finds the file in WAL mode (the other process finished) and succeeds.
 */
function switchToWal(db: Database.Database, file: string): void {
  const giveUpAt = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      const mode = String(db.pragma('journal_mode = WAL', { simple: true }));
      if (mode !== 'wal') throw new Error(`${file}: SQLite could not put the file in WAL mode (it is in ${mode} mode)`);
      return;
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() >= giveUpAt) throw err;
      sleepSync(WAL_SWITCH_RETRY_MS);
    }
  }
}

/** Between attempts of the WAL switch: the other process's switch takes ~1 ms. */
const WAL_SWITCH_RETRY_MS = 5;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** An open database and its statement cache. */
export class Sqlite {
  readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  /** `migrate` false for a second connection to a file another one has migrated. */
  constructor(file: string, options: { migrate?: boolean } = {}) {
    if (file !== ':memory:') createPrivately(file);
    this.db = new Database(file);
    // busy_timeout first: the migration may wait for another process.
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (file !== ':memory:') switchToWal(this.db, file);
    // FULL syncs the WAL on every commit: an acknowledged write survives kill -9 and power loss.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    if (options.migrate !== false) migrate(this.db);
  }

  /** A cached prepared statement. */
  stmt(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  get<T>(sql: string, ...params: unknown[]): T | undefined {
    return this.stmt(sql).get(...params) as T | undefined;
  }

  all<T>(sql: string, ...params: unknown[]): T[] {
    return this.stmt(sql).all(...params) as T[];
  }

  run(sql: string, ...params: unknown[]): Database.RunResult {
    return this.stmt(sql).run(...params);
  }

  /** Run `fn` in a synchronous BEGIN IMMEDIATE transaction on this connection (the memo's tests). */
  write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  close(): void {
    this.db.close();
  }
}

/** What SQLite spells differently (../store.ts). */
export const SQLITE_DIALECT: Dialect = {
  // BEGIN IMMEDIATE serialises every writer of the file: sequences follow commit order.
  sequenceLock: () => null,
  listOf: (column, select) => `(SELECT json_group_array(${column}) FROM (${select}))`,
  list: (value) => JSON.parse(String(value)) as string[],
};

/** The last queued transaction of each file in this process (by real path). */
const queues = new Map<string, Promise<unknown>>();

/** The store of one SQLite file: reads on `read`, transactions queued on a write connection. */
export class SqliteStore implements Store {
  readonly dialect = SQLITE_DIALECT;
  readonly #write: Sqlite;
  readonly #file: string;
  /** This store's last transaction (close waits for it). */
  #last: Promise<unknown> = Promise.resolve();

  /** `read` is the migrated connection the authorizer's reads also use. */
  constructor(
    readonly read: Sqlite,
    file: string,
  ) {
    this.#write = new Sqlite(file, { migrate: false });
    this.#file = file === ':memory:' ? `:memory:${Math.random()}` : realpathSync(file);
  }

  async all<T>(sql: string, params: Params = []): Promise<T[]> {
    return this.read.all<T>(sql, ...params);
  }

  async get<T>(sql: string, params: Params = []): Promise<T | undefined> {
    return this.read.get<T>(sql, ...params);
  }

  run(sql: string, params: Params = []): Promise<number> {
    return this.transaction((tx) => tx.run(sql, params));
  }

  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    const turn = (queues.get(this.#file) ?? Promise.resolve()).then(() => this.#immediate(fn));
    this.#last = turn.catch(() => undefined);
    queues.set(this.#file, this.#last);
    return turn;
  }

  async #immediate<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    const write = this.#write;
    const tx: Store = {
      dialect: SQLITE_DIALECT,
      all: async <R>(sql: string, params: Params = []) => write.all<R>(sql, ...params),
      get: async <R>(sql: string, params: Params = []) => write.get<R>(sql, ...params),
      run: async (sql, params = []) => write.run(sql, ...params).changes,
      transaction: (inner) => savepoint(tx, () => inner(tx)),
      scrubbing: () => Promise.reject(new Error('scrubbing runs outside a transaction')),
    };
    write.db.exec('BEGIN IMMEDIATE');
    try {
      const result = await fn(tx);
      write.db.exec('COMMIT');
      return result;
    } catch (error) {
      if (write.db.inTransaction) write.db.exec('ROLLBACK');
      throw error;
    }
  }

  /**
   * secure_delete zeroes the bytes of the replaced values in the file; the checkpoint
   * then drops the WAL frames that still held them (complete when no other process is
   * reading at that moment; `certgate registry encrypt` on an idle registry).
   */
  async scrubbing<T>(rewrite: () => Promise<T>, changed: (result: T) => boolean): Promise<T> {
    this.#write.db.pragma('secure_delete = ON');
    try {
      const result = await rewrite();
      if (changed(result)) this.read.db.pragma('wal_checkpoint(TRUNCATE)');
      return result;
    } finally {
      this.#write.db.pragma('secure_delete = OFF');
    }
  }

  /** Close the write connection once queued transactions are done (the caller closes `read`). */
  async close(): Promise<void> {
    await this.#last;
    this.#write.close();
  }
}
