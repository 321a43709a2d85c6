/**
 * The PostgreSQL driver: the connection pool, the `Store` the rules run on (../store.ts)
 * and its dialect. Every transaction is SERIALIZABLE, retried when PostgreSQL reports
 * that it had to abort it to keep the history serializable.
 *
 * Why SERIALIZABLE (and not `SELECT ... FOR UPDATE`): most registry rules are checks of
 * rows that do not exist yet ("no other account holds this CA in DEFAULT mode", "fewer
 * than 10 CAs with this subject", "the account does not hold this certificate"), and
 * row locks cannot lock an absent row. Under SERIALIZABLE, PostgreSQL's predicate locks
 * see those read-then-insert patterns across every connection and every host, and abort
 * one side of a conflicting pair (SQLSTATE 40001); rerunning it then sees the winner's
 * row and refuses with the same `RegistryError` the SQLite backend gives. So the rules
 * (../rules/) are the same check-then-write code for both backends (SQLite serialises
 * writers with `BEGIN IMMEDIATE`), with the unique indexes of the schema as a second line
 * of defence. Sequences readers page by additionally take an advisory lock
 * (`POSTGRES_DIALECT.sequenceLock`), because their numbers must also follow commit order.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { savepoint, type Dialect, type Params, type Queries, type Store } from '../store.js';
import { RegistryError } from '../types.js';
import { ADVISORY_LOCKS } from './schema.js';

/**
 * Connections per pool (pg's own default is also 10; we choose it deliberately).
 * `certgate serve` opens one pool per process (one process per core by default), and
 * several sidecars share one server whose `max_connections` defaults to 100, so the
 * product sidecars x processes x pool size must stay below it: e.g. 3 sidecars x
 * 2 processes x 10 = 60. Each registry call holds a connection for one short query or
 * one short transaction, so 10 in flight per process is ample.
 */
export const DEFAULT_POOL_SIZE = 10;

/**
 * How long a call waits for a free pooled connection (or a new one) before failing.
 * The authorizer must answer (deny) rather than hang when the server is unreachable;
 * 5 s matches the SQLite backend's busy timeout. A stopped server refuses the TCP
 * connection at once, so this bound matters for a host that does not answer at all.
 */
export const CONNECT_TIMEOUT_MS = 5000;

/**
 * TCP keepalive on every pooled connection, so a connection to a host that vanished
 * (failover, partition) is detected by the kernel rather than waited on forever.
 */
export const KEEPALIVE_INITIAL_DELAY_MS = 5000;

/**
 * How many times a write transaction is attempted when PostgreSQL aborts it for a
 * serialization conflict, deadlock or concurrent unique insert. Registry transactions
 * are a few statements long, so conflicts are rare; 20 attempts with jittered backoff
 * (up to ~1.3 s in total) only run out under a pathological storm, and then the
 * caller sees the database error rather than a wrong answer.
 */
export const WRITE_ATTEMPTS = 20;

/** SQLSTATEs after which rerunning the whole transaction is correct. */
const RETRYABLE = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '23505', // unique_violation: a concurrent insert won; the rerun's checks name it properly
]);

/** `?` placeholders (the rules' SQL) as `$1`, `$2`, ... */
const numbered = new Map<string, string>();
function placeholders(sql: string): string {
  let text = numbered.get(sql);
  if (text === undefined) {
    let n = 0;
    text = sql.replace(/\?/g, () => `$${++n}`);
    numbered.set(sql, text);
  }
  return text;
}

function over(client: pg.Pool | pg.PoolClient): Queries {
  const query = (sql: string, params: Params = [], name?: string) =>
    client.query({ name, text: placeholders(sql), values: params as unknown[] });
  return {
    all: async <T>(sql: string, params?: Params) => (await query(sql, params)).rows as T[],
    get: async <T>(sql: string, params?: Params, prepared?: string) => (await query(sql, params, prepared)).rows[0] as T | undefined,
    run: async (sql: string, params?: Params) => (await query(sql, params)).rowCount ?? 0,
  };
}

/** What PostgreSQL spells differently (../store.ts). */
export const POSTGRES_DIALECT: Dialect = {
  sequenceLock: (sequence) => `SELECT pg_advisory_xact_lock(${ADVISORY_LOCKS[sequence].toString()})`,
  listOf: (_column, select) => `ARRAY(${select})`,
  list: (value) => value as string[],
};

/**
 * `url` with any password replaced by `***`, for messages and logs. The connection
 * string is otherwise never logged.
 */
export function redactConnectionString(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***');
    return parsed.toString();
  } catch {
    return '<unparseable PostgreSQL URL>';
  }
}

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * SQLSTATEs meaning the server is not accepting work now, not that the request was
 * wrong (https://www.postgresql.org/docs/current/errcodes-appendix.html): class 08
 * (connection exception), 57P01 admin_shutdown (`pg_ctl stop`), 57P02 crash_shutdown,
 * 57P03 cannot_connect_now (starting up, recovering), 53300 too_many_connections, and
 * 25006 read_only_sql_transaction (a write reached a standby, e.g. right after a
 * failover before the URL points at the promoted server).
 */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '25006']);

/** Socket errors (Node's `error.code`) of a server that is down or unreachable. */
const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * Errors `pg` and `pg-pool` raise without a code when a connection is lost or cannot be
 * made in time (pg/lib/client.js, pg-pool/index.js).
 */
const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
];

/**
 * The one place a PostgreSQL driver failure becomes "the registry is unavailable": a
 * `RegistryError` UNAVAILABLE (the admin API answers it 503 ServiceUnavailableException,
 * ts/control/refusals.ts; the authorizer denies, as on every registry error), or
 * undefined for any other error, which propagates unchanged.
 */
export function unavailableError(error: unknown): RegistryError | undefined {
  if (error instanceof RegistryError) return undefined;
  const code = sqlState(error);
  const message = error instanceof Error ? error.message : String(error);
  const matches =
    (code !== undefined && (code.startsWith('08') || UNAVAILABLE_STATES.has(code) || UNAVAILABLE_ERRNOS.has(code))) ||
    UNAVAILABLE_MESSAGES.some((m) => message.startsWith(m));
  if (!matches) return undefined;
  const cause = code === undefined ? message : `${code}: ${message}`;
  return new RegistryError('UNAVAILABLE', 'REGISTRY_UNAVAILABLE', { cause }, `the PostgreSQL registry is unavailable (${cause})`);
}

/** `error` as callers should see it: UNAVAILABLE when the database is unreachable, else unchanged. */
function translated(error: unknown): unknown {
  return unavailableError(error) ?? error;
}

/** Run `call`, turning a lost or refused connection into UNAVAILABLE. */
async function guarded<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw translated(error);
  }
}

/** A bounded pool: autocommit statements and retried serializable transactions. */
export class PgStore implements Store {
  readonly dialect = POSTGRES_DIALECT;
  private readonly pool: pg.Pool;
  private readonly direct: Queries;

  constructor(connectionString: string, poolSize: number = DEFAULT_POOL_SIZE) {
    this.pool = new pg.Pool({
      connectionString,
      max: poolSize,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
    });
    // An idle pooled connection that the server drops (restart, failover) emits 'error'
    // on the pool; pg has already discarded it and the next query opens a new one.
    // Without a listener the event would crash the process.
    this.pool.on('error', () => undefined);
    this.direct = over(this.pool);
  }

  all<T>(sql: string, params?: Params): Promise<T[]> {
    return guarded(() => this.direct.all<T>(sql, params));
  }

  get<T>(sql: string, params?: Params, prepared?: string): Promise<T | undefined> {
    return guarded(() => this.direct.get<T>(sql, params, prepared));
  }

  run(sql: string, params?: Params): Promise<number> {
    return guarded(() => this.direct.run(sql, params));
  }

  /**
   * Run `fn` in a SERIALIZABLE transaction that is committed (durably:
   * `synchronous_commit` is forced on for it) before the promise resolves. `fn` may run
   * several times. An error thrown by `fn` that is not a retryable SQLSTATE rolls back
   * and propagates unchanged; a lost or refused connection becomes UNAVAILABLE and is not
   * retried (a COMMIT whose answer was lost may have been applied).
   */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    return guarded(() => this.#transaction(fn));
  }

  async #transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE; SET LOCAL synchronous_commit TO on');
        const queries = over(client);
        const tx: Store = {
          ...queries,
          dialect: POSTGRES_DIALECT,
          transaction: (inner) => savepoint(queries, () => inner(tx)),
          scrubbing: () => Promise.reject(new Error('scrubbing runs outside a transaction')),
        };
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          // The connection itself failed: do not return it to the pool.
          broken = rollbackError as Error;
        }
        const state = sqlState(error);
        if (state === undefined || !RETRYABLE.has(state) || attempt >= WRITE_ATTEMPTS) throw error;
      } finally {
        client.release(broken);
      }
      // Jittered exponential backoff, capped at 128 ms, so racing writers spread out.
      await sleep(Math.random() * Math.min(128, 2 ** attempt));
    }
  }

  /**
   * The replaced values live on in dead row versions until the table is rewritten:
   * VACUUM FULL writes new table files without them (the tables are small).
   */
  async scrubbing<T>(rewrite: () => Promise<T>, changed: (result: T) => boolean): Promise<T> {
    const result = await rewrite();
    if (changed(result)) for (const table of ['credentials', 'issuing_ca', 'account_issuing_cas']) await this.run(`VACUUM FULL ${table}`);
    return result;
  }

  /** Run `fn` on one connection outside any transaction the pool manages (migrations). */
  async withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await guarded(() => this.pool.connect());
    try {
      return await fn(client);
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
