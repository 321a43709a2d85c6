/**
 * The storage interface every registry backend provides, and the only thing the rules
 * (`rules/`) know about storage. SQL is written once, with `?` placeholders, in the
 * subset SQLite and PostgreSQL share (`INSERT ... ON CONFLICT`, `RETURNING`, `SAVEPOINT`);
 * a driver rewrites placeholders for its database, and its `Dialect` answers what
 * really differs. A third backend is a driver (connection, transaction), its schema and
 * migrations, and a dialect.
 */

export type Params = readonly unknown[];

/** Something that answers SQL. */
export interface Queries {
  all<T>(sql: string, params?: Params): Promise<T[]>;
  /**
   * `prepared` names a statement the driver may prepare once per connection and reuse
   * (PostgreSQL: a named prepared statement, planned once instead of on every call).
   * Only for hot reads that name their columns: a prepared `SELECT *` fails once a
   * migration adds a column under it.
   */
  get<T>(sql: string, params?: Params, prepared?: string): Promise<T | undefined>;
  /** Returns the number of rows the statement changed. */
  run(sql: string, params?: Params): Promise<number>;
}

/**
 * A database. Outside a transaction each call is one committed statement, and a read
 * sees every write committed before it started. `transaction(fn)` runs `fn` atomically
 * and isolated from every other writer in every process (how: the driver's header),
 * committed durably before it resolves; `fn` may be run again after a conflict, so it
 * must have no effect outside the transaction, and it awaits only the store it is given.
 * Inside a transaction, `transaction(fn)` is a savepoint: a refusal rolls back `fn` alone.
 */
export interface Store extends Queries {
  readonly dialect: Dialect;
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
  /**
   * Run `rewrite` (which replaces secret values) so that the replaced bytes do not stay
   * in the database's files when it changed anything (`changed`).
   */
  scrubbing<T>(rewrite: () => Promise<T>, changed: (result: T) => boolean): Promise<T>;
}

/** What differs between the SQL of two databases, beyond placeholders. */
export interface Dialect {
  /**
   * A statement taking a lock held until commit, run before drawing a sequence number
   * that readers page by ("after N"), so numbers follow commit order; null where
   * writers are serialised anyway.
   */
  sequenceLock(sequence: 'events' | 'audit'): string | null;
  /** An expression holding the values of `column` of a one-column `select`, in its order. */
  listOf(column: string, select: string): string;
  /** The strings of a `listOf` value as returned by the driver. */
  list(value: unknown): string[];
}

/** `fn` in a savepoint of the transaction `tx` (both databases spell it the same). */
export async function savepoint<T>(tx: Queries, fn: () => Promise<T>): Promise<T> {
  await tx.run('SAVEPOINT nested');
  try {
    const result = await fn();
    await tx.run('RELEASE SAVEPOINT nested');
    return result;
  } catch (error) {
    await tx.run('ROLLBACK TO SAVEPOINT nested');
    await tx.run('RELEASE SAVEPOINT nested');
    throw error;
  }
}
