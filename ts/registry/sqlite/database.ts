/**
 * Opening the SQLite file with the durability and concurrency settings every process
 * must share, plus a prepared-statement cache (the authorizer's reads are the hot path).
 */
import Database from 'better-sqlite3';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
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

/** An open database and its statement cache. */
export class Sqlite {
  readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(file: string) {
    if (file !== ':memory:') createPrivately(file);
    this.db = new Database(file);
    // busy_timeout first: the WAL switch and the migration may wait for another process.
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    this.db.pragma('journal_mode = WAL');
    // FULL syncs the WAL on every commit: an acknowledged write survives kill -9 and power loss.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    migrate(this.db);
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

  /**
   * Run `fn` in a BEGIN IMMEDIATE transaction: it takes the write lock up front, so a
   * read-check-write sequence cannot interleave with another process's write.
   */
  write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  close(): void {
    this.db.close();
  }
}
