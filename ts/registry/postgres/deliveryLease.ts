/**
 * The fleet's one webhook deliverer on a PostgreSQL registry (issue 11 item 4): every
 * `certgate serve` primary of every host tries, about once a second, to take a
 * session-level advisory lock (`pg_try_advisory_lock`,
 * https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS) on a
 * connection of its own; the one that holds it delivers (ts/authz/webhooks.ts), the
 * others deliver nothing. PostgreSQL releases a session lock when the session ends, so
 * when the holder dies (kill -9, crash, host loss) another primary takes over at its next
 * try. The cursors live in the `webhook_cursors` table (schema.ts) and are written over
 * the lock's own session: a deliverer whose session is gone can no longer move them.
 *
 * Delivery stays at least once: a takeover may repeat the events the old holder posted
 * but had not yet recorded; receivers deduplicate on the event sequence.
 */
import pg from 'pg';
import { CONNECT_TIMEOUT_MS, KEEPALIVE_INITIAL_DELAY_MS } from './database.js';
import { ADVISORY_LOCKS } from './schema.js';

/** How often a primary that does not hold the lock tries to take it, and the holder checks its session. */
export const LEASE_RETRY_MS = 1000;

/**
 * Server-side TCP keepalive of the lock's session, so the server ends the session of a
 * holder that vanished without closing its socket (partition, power loss), releasing the
 * lock, after about idle + interval × count = 5 + 2 × 3 = 11 s; without them Linux waits
 * two hours (https://www.postgresql.org/docs/current/runtime-config-connection.html).
 * A holder killed on a live host closes its socket at once.
 */
const SESSION_OPTIONS = '-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3';

/** Move one cursor forward (never back). */
const UPSERT = `INSERT INTO webhook_cursors (url, account_id, sequence) VALUES ($1, $2, $3)
  ON CONFLICT (url, account_id) DO UPDATE SET sequence = GREATEST(webhook_cursors.sequence, EXCLUDED.sequence)`;

export interface DeliveryLeaseOptions {
  connectionString: string;
  retryMs?: number;
  /** Told when this process becomes, or stops being, the deliverer. */
  onChange?: (held: boolean) => void;
  /** A try failed (the server unreachable); the next try is `retryMs` later. */
  onError?: (error: unknown) => void;
  /**
   * Cursors this host kept before fleet delivery (the `certgate-webhooks.json` of its
   * working directory, by `url account`), merged into the table when the lock is taken:
   * each cursor only moves forward, so events some host already delivered are not all
   * delivered again after an upgrade.
   */
  seed?: Record<string, number>;
}

/** The advisory lock and the cursors of the fleet's deliverer (a `DeliveryLease` and a `CursorStore` of webhooks.ts). */
export class PgDeliveryLease {
  readonly #o: Required<Pick<DeliveryLeaseOptions, 'connectionString' | 'retryMs'>> & DeliveryLeaseOptions;
  #client: pg.Client | undefined;
  #held = false;
  #timer: NodeJS.Timeout | undefined;
  #trying: Promise<void> | undefined;
  #stopped = false;

  constructor(options: DeliveryLeaseOptions) {
    this.#o = { retryMs: LEASE_RETRY_MS, ...options };
  }

  /** Try now, then every `retryMs`. */
  start(): void {
    this.#stopped = false;
    this.#next(0);
  }

  held(): boolean {
    return this.#held;
  }

  /** One try: take the lock, or (holding it) check that its session is alive. */
  async tryOnce(): Promise<void> {
    this.#trying ??= this.#try().finally(() => {
      this.#trying = undefined;
    });
    return this.#trying;
  }

  async load(): Promise<Record<string, number>> {
    const rows = (
      await this.#holder().query<{ url: string; account_id: string; sequence: string }>(
        'SELECT url, account_id, sequence FROM webhook_cursors',
      )
    ).rows;
    return Object.fromEntries(rows.map((r) => [`${r.url} ${r.account_id}`, Number(r.sequence)]));
  }

  async save(url: string, accountId: string, sequence: number): Promise<void> {
    await this.#holder().query(UPSERT, [url, accountId, sequence]);
  }

  /** Stop trying; release the lock (by ending the session) if held. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#trying;
    const client = this.#client;
    if (client !== undefined) this.#drop(client);
  }

  /** The lock's session, only while it holds the lock. */
  #holder(): pg.Client {
    if (!this.#held || this.#client === undefined)
      throw new Error('this process is not the webhook deliverer (the delivery lock is not held)');
    return this.#client;
  }

  #next(ms: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.tryOnce().then(() => this.#next(this.#o.retryMs)), ms);
    this.#timer.unref();
  }

  async #try(): Promise<void> {
    if (this.#stopped) return;
    let client = this.#client;
    try {
      if (client === undefined) {
        client = new pg.Client({
          connectionString: this.#o.connectionString,
          connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
          keepAlive: true,
          keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
          options: SESSION_OPTIONS,
          application_name: 'certgate-webhook-deliverer',
        });
        const connecting = client;
        // A session lost while idle: drop it (and the lease) at once, not at the next try.
        connecting.on('error', () => this.#drop(connecting));
        connecting.on('end', () => this.#drop(connecting));
        this.#client = connecting;
        await connecting.connect();
      }
      if (this.#held) {
        // The lock lives as long as this session: check the session.
        await client.query('SELECT 1');
        return;
      }
      const got = (await client.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1) AS got', [ADVISORY_LOCKS.webhooks.toString()]))
        .rows[0]?.got;
      if (got === true && this.#client === client) {
        await this.#seed(client);
        this.#set(true);
      }
    } catch (error) {
      if (client !== undefined) this.#drop(client);
      this.#o.onError?.(error);
    }
  }

  async #seed(client: pg.Client): Promise<void> {
    for (const [key, sequence] of Object.entries(this.#o.seed ?? {})) {
      const space = key.lastIndexOf(' ');
      if (space <= 0 || !Number.isSafeInteger(sequence)) continue;
      await client.query(UPSERT, [key.slice(0, space), key.slice(space + 1), sequence]);
    }
  }

  #drop(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    if (this.#held) this.#set(false);
    // Ending the session releases the lock on the server if it is still there.
    client.end().catch(() => undefined);
  }

  #set(held: boolean): void {
    this.#held = held;
    this.#o.onChange?.(held);
  }
}
