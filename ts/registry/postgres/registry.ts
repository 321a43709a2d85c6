/**
 * The PostgreSQL registry: one database shared by every `certgate serve` process of
 * several sidecars on different hosts, and by the operator CLI. The rules are
 * `../rules/` over this backend's store (database.ts): reads are single autocommit
 * queries (READ COMMITTED: each sees every write committed before it started); writes
 * are serializable transactions committed with `synchronous_commit = on` before the
 * promise resolves, so the next read in any process on any host sees them.
 *
 * Fleet mode (ts/view/index.ts): a write that can turn an allow into a deny returns
 * only once every sidecar with a live lease has applied it, or its lease has run out
 * (`awaitFleet`), whichever path made it — admin API, operator CLI, any host.
 */
import { StoreRegistry, type RegistryOptions } from '../rules/registry.js';
import { RegistryError } from '../types.js';
import { DEFAULT_MAX_STALENESS_MS, FleetView, type FleetViewOptions } from '../../view/fleetView.js';
import { awaitFleet, type FleetWaitResult } from '../../view/fleetWait.js';
import { DEFAULT_POOL_SIZE, PgStore, redactConnectionString } from './database.js';
import { migrate } from './schema.js';

/** Options for `openPostgresRegistry`. Settings apply only when the database is first set up. */
export interface PostgresRegistryOptions extends RegistryOptions {
  /** `postgres://` or `postgresql://` URL (libpq-style parameters as understood by `pg`). */
  connectionString: string;
  /** Connections in this process's pool; default `DEFAULT_POOL_SIZE`. */
  poolSize?: number;
  /** The sidecars' lease assumed when their rows cannot be read (`awaitFleet`); default the `--max-staleness` default. */
  fleetLeaseMs?: number;
}

/** Open (migrating in the background if needed) the PostgreSQL registry. */
export function openPostgresRegistry(options: PostgresRegistryOptions): PostgresRegistry {
  return new PostgresRegistry(options);
}

export class PostgresRegistry extends StoreRegistry {
  private readonly pg: PgStore;
  readonly #connectionString: string;
  readonly #fleetLeaseMs: number;
  #onFleetWait: ((result: FleetWaitResult) => void) | undefined;

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
    this.#connectionString = options.connectionString;
    this.#fleetLeaseMs = options.fleetLeaseMs ?? DEFAULT_MAX_STALENESS_MS;
  }

  override async close(): Promise<void> {
    await super.close();
    await this.pg.close();
  }

  /** Told how long each lowering write waited for the fleet (the revoke-wait histogram). */
  observeFleetWaits(observer: (result: FleetWaitResult) => void): void {
    this.#onFleetWait = observer;
  }

  /**
   * This process's local view of the registry (ts/view/fleetView.ts), started: its
   * misses read through this registry's pool; it adds one LISTEN connection.
   */
  async openFleetView(options: Omit<FleetViewOptions, 'connectionString' | 'pool' | 'settings'> = {}): Promise<FleetView> {
    const view = new FleetView({ ...options, connectionString: this.#connectionString, pool: this.pg, settings: await this.settings() });
    try {
      await view.start();
    } catch (error) {
      await view.close();
      throw error;
    }
    return view;
  }

  /** After a committed write that can lower a decision (../rules/registry.ts): wait for the fleet (never throws). */
  protected override async lowered<R>(result: R): Promise<R> {
    const waited = await awaitFleet(this.pg, this.#fleetLeaseMs);
    this.#onFleetWait?.(waited);
    return result;
  }
}
