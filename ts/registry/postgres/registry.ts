/**
 * The PostgreSQL registry: one database shared by every `certgate serve` process of
 * several sidecars on different hosts, and by the operator CLI. The rules are
 * `../rules/` over this backend's store (database.ts): reads are single autocommit
 * queries (READ COMMITTED: each sees every write committed before it started); writes
 * are serializable transactions committed with `synchronous_commit = on` before the
 * promise resolves, so the next read in any process on any host sees them.
 */
import { StoreRegistry, type RegistryOptions } from '../rules/registry.js';
import { RegistryError } from '../types.js';
import { DEFAULT_POOL_SIZE, PgStore, redactConnectionString } from './database.js';
import { migrate } from './schema.js';

/** Options for `openPostgresRegistry`. Settings apply only when the database is first set up. */
export interface PostgresRegistryOptions extends RegistryOptions {
  /** `postgres://` or `postgresql://` URL (libpq-style parameters as understood by `pg`). */
  connectionString: string;
  /** Connections in this process's pool; default `DEFAULT_POOL_SIZE`. */
  poolSize?: number;
}

/** Open (migrating in the background if needed) the PostgreSQL registry. */
export function openPostgresRegistry(options: PostgresRegistryOptions): PostgresRegistry {
  return new PostgresRegistry(options);
}

export class PostgresRegistry extends StoreRegistry {
  private readonly pg: PgStore;

  constructor(options: PostgresRegistryOptions) {
    const store = new PgStore(options.connectionString, options.poolSize ?? DEFAULT_POOL_SIZE);
    super(
      store,
      options,
      store.withClient(migrate).then(() => undefined),
      (error) => {
        // A refusal of the master key is already specific; keep its code for callers.
        if (error instanceof RegistryError && error.code !== 'UNAVAILABLE') return error;
        const reason = error instanceof Error ? error.message : String(error);
        return new Error(`cannot open the PostgreSQL registry at ${redactConnectionString(options.connectionString)}: ${reason}`, {
          cause: error,
        });
      },
    );
    this.pg = store;
  }

  override async close(): Promise<void> {
    await super.close();
    await this.pg.close();
  }
}
