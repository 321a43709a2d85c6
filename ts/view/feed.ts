/**
 * The one dedicated connection of a fleet view (besides the registry's pool): it
 * LISTENs on {@link CHANGES_CHANNEL} (https://www.postgresql.org/docs/current/sql-listen.html),
 * and carries the view's heartbeats, change-log reads and table reloads, one at a time.
 * A connection that errors, ends or times out is dropped and replaced on next use; the
 * notifications lost meanwhile do not matter, because the view reads the log by sequence.
 */
import pg from 'pg';

/** The channel the change-log triggers notify (ts/registry/postgres/schema.ts). */
export const CHANGES_CHANNEL = 'certgate_changes';

export class FeedConnection {
  #client: pg.Client | undefined;
  #connecting: Promise<pg.Client> | undefined;
  #closed = false;
  /** Connections opened so far (1 + reconnects). */
  connections = 0;

  constructor(
    private readonly connectionString: string,
    private readonly onNotify: () => void,
    /** A statement not answered within this is abandoned with its connection. */
    private readonly queryTimeoutMs: number,
  ) {}

  get connected(): boolean {
    return this.#client !== undefined;
  }

  /** The open connection, or a new one (LISTENing before it is returned). */
  client(): Promise<pg.Client> {
    if (this.#closed) return Promise.reject(new Error('the fleet view is closed'));
    if (this.#client !== undefined) return Promise.resolve(this.#client);
    this.#connecting ??= this.#connect().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.connectionString,
      keepAlive: true,
      connectionTimeoutMillis: this.queryTimeoutMs,
      query_timeout: this.queryTimeoutMs,
      application_name: 'certgate-view',
    });
    client.on('error', () => this.drop(client));
    client.on('end', () => this.drop(client));
    client.on('notification', () => this.onNotify());
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (error) {
      this.drop(client);
      throw error;
    }
    if (this.#closed) {
      this.drop(client);
      throw new Error('the fleet view is closed');
    }
    this.connections++;
    this.#client = client;
    return client;
  }

  /** Abandon `client` (default: the current one): its socket is destroyed, not drained. */
  drop(client: pg.Client | undefined = this.#client): void {
    if (client === undefined) return;
    if (this.#client === client) this.#client = undefined;
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    client.end().catch(() => undefined);
  }

  close(): void {
    this.#closed = true;
    this.drop();
  }
}
