/**
 * A fleet sidecar's local view of a PostgreSQL registry: the reads a decision makes
 * (ts/authz/reads.ts), answered from memory — routing, CAs and CRL metadata whole
 * (tables.ts), the standing of every registered certificate (allStandings.ts, the
 * default) or of those seen (standings.ts, `--view-standings seen`) — kept current by
 * the change log, and valid only while its lease holds (lease.ts). Why that is enough for
 * "revocation reaches every sidecar before the API call returns": index.ts.
 *
 * One per serving process (each `--processes` worker is its own sidecar row).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { DecisionReads } from '../authz/reads.js';
import type { Step } from '../authz/step.js';
import { certificateArn } from '../registry/arn.js';
import { standingFromRow, type StandingRow } from '../registry/rows.js';
import type { Queries } from '../registry/store.js';
import type { Account, CaCertificateRecord, CaCrlMeta, CertificateStanding, RegistrySettings } from '../registry/types.js';
import type { AllStandings } from './allStandings.js';
import { FeedConnection } from './feed.js';
import { LOAD_PAGE_TIMEOUT_MS, loadAll, readChanges, type LoadOptions } from './fullLoad.js';
import { Lease } from './lease.js';
import { DEFAULT_VIEW_CACHE_SIZE, Standings } from './standings.js';
import { loadTables, type ConfigTables } from './tables.js';

/** Defaults of `--max-staleness` and `--heartbeat-ms` (measured: docs/fleet.md). */
export const DEFAULT_MAX_STALENESS_MS = 5000;
export const DEFAULT_HEARTBEAT_MS = 1000;
/**
 * Added to the lease the database records (never to the local one): a sidecar's local
 * deadline must not outlive its `lease_until` even if the two clocks' rates differ
 * slightly or the database clock is stepped forward by less than this.
 */
export const LEASE_MARGIN_MS = 250;
/** Change-log rows read per statement while catching up. */
export const CATCH_UP_BATCH = 5000;
/** At most one acknowledging heartbeat per this many ms under a stream of changes. */
export const ACK_SPACING_MS = 5;

/** `--view-standings`: every registered certificate's standing, or those seen (lru). */
export type ViewStandingsMode = 'all' | 'seen';

export interface FleetViewOptions {
  connectionString: string;
  /** The registry's pool: a certificate not held is read through it. */
  pool: Queries;
  settings: RegistrySettings;
  maxStalenessMs?: number;
  heartbeatMs?: number;
  /** Default 'all'. */
  standings?: ViewStandingsMode;
  /**
   * 'seen': standings held at most (lru); 'all': standing objects kept materialised for
   * the warm path's shared answers (allStandings.ts). Default {@link DEFAULT_VIEW_CACHE_SIZE}.
   */
  cacheSize?: number;
  /** 'all': how the whole load pages (tests hold it between pages). */
  load?: LoadOptions;
  /** Told about a failed round (heartbeat, catch-up, reconnect); the view retries on its own. */
  onError?: (error: unknown) => void;
  /** Told the duration of every heartbeat round trip (seconds). */
  onHeartbeat?: (seconds: number) => void;
}

/** What /readyz and /metrics show of a view. */
export interface ViewStats {
  id: string;
  /** Changes applied (heartbeats report it). */
  applied: number;
  /** The newest sequence a heartbeat saw. */
  newest: number;
  lagSequences: number;
  /** Since the newest confirming heartbeat was sent (Infinity before the first). */
  sinceConfirmedMs: number;
  leaseRemainingMs: number;
  standings: ViewStandingsMode;
  /** Standings held: every registered certificate ('all'), or those seen, negative answers included ('seen'). */
  cacheEntries: number;
  cacheHits: number;
  cacheMisses: number;
  /** Misses read while a change was being applied: answered, not kept (index.ts step 2). */
  uncachedMisses: number;
  notifications: number;
  heartbeats: number;
  /** Gaps found in the change log (the standings were dropped or reloaded whole, and the tables reloaded). */
  resets: number;
  /** 'all': whole loads done (start, resets) and the newest one's duration (seconds; 0 before). */
  loads: number;
  loadSeconds: number;
  connected: boolean;
}

const MISS = `SELECT (SELECT COALESCE(MAX(sequence), 0) FROM change_log)::text AS m, c.status, c.certificate_mode, c.ca_certificate_id,
  ARRAY(SELECT thing_name FROM thing_principals WHERE account_id = ? AND principal = ? ORDER BY thing_name) AS things
  FROM (SELECT 1) AS one LEFT JOIN certificates c ON c.account_id = ? AND c.certificate_id = ?`;

/** What one read of the log found: a hole in the sequences, and whether a full batch came back. */
interface Read {
  gap: boolean;
  more: boolean;
}

type MissRow = { m: string; things: string[] } & { [K in keyof StandingRow]: StandingRow[K] | null };

export class FleetView implements DecisionReads {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  readonly lease: Lease;
  readonly heartbeatMs: number;
  readonly #options: FleetViewOptions;
  readonly #feed: FeedConnection;
  readonly mode: ViewStandingsMode;
  /** 'seen' */
  readonly #standings: Standings;
  /** 'all': every registered certificate (replaced whole by a load). */
  #all: AllStandings | undefined;
  #tables: ConfigTables | undefined;
  #loads = 0;
  #loadSeconds = 0;
  /** Every change through this sequence has had its standings dropped (misses compare with it). */
  #seen = 0;
  /** ... and the tables reloaded when it needed: what heartbeats report. */
  #applied = 0;
  #tablesDirty = false;
  #newest = 0;
  #generation = 0;
  #notifications = 0;
  #heartbeats = 0;
  #resets = 0;
  #uncached = 0;
  #lastHeartbeatSent = Number.NEGATIVE_INFINITY;
  #wanted = false;
  #running: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #started = false;

  constructor(options: FleetViewOptions) {
    this.#options = options;
    const maxStalenessMs = options.maxStalenessMs ?? DEFAULT_MAX_STALENESS_MS;
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    if (!(this.heartbeatMs > 0 && this.heartbeatMs * 2 <= maxStalenessMs))
      throw new RangeError(`the heartbeat (${this.heartbeatMs} ms) must be at most half the max staleness (${maxStalenessMs} ms)`);
    this.lease = new Lease(maxStalenessMs);
    this.mode = options.standings ?? 'all';
    this.#standings = new Standings(this.mode === 'seen' ? (options.cacheSize ?? DEFAULT_VIEW_CACHE_SIZE) : 1);
    this.#feed = new FeedConnection(options.connectionString, () => this.#notified(), maxStalenessMs);
  }

  /**
   * Register this sidecar, load the tables (and in 'all' every standing), confirm the
   * lease and start heartbeating. The row goes in before the snapshot is taken, with its
   * lease already run out (index.ts step 3): writers do not wait for a process that is
   * still loading, and every heartbeat that can confirm it updates a row their polls
   * lock. Resolves only once the first load is complete: `certgate serve` listens after.
   */
  async start(): Promise<void> {
    const client = await this.#feed.client();
    await client.query("DELETE FROM sidecars WHERE lease_until < now() - interval '1 hour'");
    await this.#heartbeat(client, false);
    await this.#load(client);
    // Rounds run one at a time: none is kicked before this first one has finished.
    await this.#round();
    this.#started = true;
    this.#timer = setInterval(() => this.#kick(), this.heartbeatMs);
    this.#timer.unref();
    this.#kick();
  }

  // ---- DecisionReads ----

  account(host: string): Account | null {
    return this.#held().accountForHost(host);
  }

  standing(accountId: string, certificateId: string, seenBefore = true): Step<CertificateStanding | null> {
    // 'all': absent means not registered; never a read of PostgreSQL. A first sight's
    // standing is not kept among the materialised ones (ts/fastpath/index.ts).
    if (this.#all !== undefined) return this.#all.get(accountId, certificateId, seenBefore);
    if (this.mode === 'all') throw new Error('the fleet view is still loading');
    const held = this.#standings.get(accountId, certificateId);
    return held !== undefined ? held : this.#miss(accountId, certificateId);
  }

  caCertificate(accountId: string, caCertificateId: string): CaCertificateRecord | null {
    return this.#held().caCertificate(accountId, caCertificateId);
  }

  caCrlMeta(accountId: string, caCertificateId: string): CaCrlMeta | null {
    return this.#held().caCrlMeta(accountId, caCertificateId);
  }

  stale(startedAt: number): string | null {
    return this.lease.stale(startedAt);
  }

  configGeneration(): number {
    return this.#generation;
  }

  /** The generation again: the tables change only with it, so an entry loaded under it is current (ts/authz/reads.ts). */
  configStamp(): number {
    return this.#generation;
  }

  // ---- state ----

  stats(): ViewStats {
    return {
      id: this.id,
      applied: this.#applied,
      newest: this.#newest,
      lagSequences: Math.max(0, this.#newest - this.#applied),
      sinceConfirmedMs: this.lease.sinceConfirmedMs(),
      leaseRemainingMs: this.lease.remainingMs(),
      standings: this.mode,
      cacheEntries: this.#all?.size ?? this.#standings.size,
      cacheHits: this.#all?.hits ?? this.#standings.hits,
      cacheMisses: this.#standings.misses,
      uncachedMisses: this.#uncached,
      notifications: this.#notifications,
      heartbeats: this.#heartbeats,
      resets: this.#resets,
      loads: this.#loads,
      loadSeconds: this.#loadSeconds,
      connected: this.#feed.connected,
    };
  }

  /** Stop heartbeating, end the lease, and remove this sidecar's row (writers stop waiting for it). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.lease.lapse();
    clearInterval(this.#timer);
    await this.#running;
    try {
      const client = await Promise.race([this.#feed.client(), sleep(1000).then(() => undefined)]);
      await client?.query('DELETE FROM sidecars WHERE id = $1', [this.id]);
    } catch {
      // The row's lease runs out on its own.
    }
    this.#feed.close();
  }

  #held(): ConfigTables {
    if (this.#tables === undefined) throw new Error('the fleet view is still loading');
    return this.#tables;
  }

  /**
   * A certificate not held: one statement reads it with the change log's newest sequence
   * M of the same snapshot; it is kept only if M >= `#seen` now, i.e. every change it may
   * miss will still be applied after it is kept (index.ts step 2).
   */
  async #miss(accountId: string, certificateId: string): Promise<CertificateStanding | null> {
    const principal = certificateArn(this.#options.settings.region, accountId, certificateId);
    // Prepared once per pooled connection: planning it on every call cost PostgreSQL
    // ~140 µs of CPU per miss, executing the prepared plan ~18 µs (docs/fleet.md).
    const row = await this.#options.pool.get<MissRow>(MISS, [accountId, principal, accountId, certificateId], 'certgate_view_miss');
    if (row === undefined) throw new Error('the certificate read returned no row');
    const ca = row.ca_certificate_id === null ? null : (this.#tables?.caId(accountId, row.ca_certificate_id) ?? row.ca_certificate_id);
    const standing =
      row.status === null
        ? null
        : standingFromRow(accountId, certificateId, { ...(row as StandingRow), ca_certificate_id: ca }, row.things);
    const m = Number(row.m);
    if (m >= this.#seen) this.#standings.remember(accountId, certificateId, standing, m);
    else this.#uncached++;
    return standing;
  }

  // ---- the feed: notifications, catch-up, heartbeats ----

  #notified(): void {
    this.#notifications++;
    this.#kick();
  }

  /** Run a round now, or right after the one in progress. */
  #kick(): void {
    this.#wanted = true;
    if (this.#running === undefined && this.#started && !this.#closed)
      this.#running = this.#loop().finally(() => (this.#running = undefined));
  }

  async #loop(): Promise<void> {
    while (this.#wanted && !this.#closed) {
      this.#wanted = false;
      try {
        await this.#round();
      } catch (error) {
        this.#feed.drop();
        this.#options.onError?.(error);
      }
    }
  }

  /** Apply what is new, heartbeat, and confirm the lease if the heartbeat saw nothing unapplied. */
  async #round(): Promise<void> {
    const client = await this.#feed.client();
    await this.#catchUp(client);
    const spacing = this.#lastHeartbeatSent + ACK_SPACING_MS - performance.now();
    if (spacing > 0) await sleep(spacing);
    const reported = this.#applied;
    const sentAt = performance.now();
    this.#lastHeartbeatSent = sentAt;
    const newest = await this.#heartbeat(client);
    this.#options.onHeartbeat?.((performance.now() - sentAt) / 1000);
    this.#heartbeats++;
    if (newest < this.#applied) await this.#rebuild(client);
    this.#newest = newest;
    if (newest > this.#applied) await this.#catchUp(client);
    if (this.#applied >= newest) this.lease.confirm(sentAt);
    // Writers wait for this sidecar's row to show what it applied: say so soon.
    if (this.#applied > reported) this.#wanted = true;
  }

  /**
   * One statement pair, one round trip, one implicit transaction: upsert this sidecar's
   * row (applied sequence, lease until the database's now() + L + margin), then — in a
   * new snapshot taken while the row stays locked — the change log's newest sequence.
   * Values are inlined (a simple query may hold several statements; ids are escaped).
   */
  async #heartbeat(client: pg.Client, serving = true): Promise<number> {
    const lease = this.lease.maxStalenessMs;
    // Registration (not serving yet): a lease that has already run out.
    const until = serving ? `now() + interval '${lease + LEASE_MARGIN_MS} milliseconds'` : 'now()';
    const results = (await client.query(
      `INSERT INTO sidecars (id, applied_sequence, lease_until, lease_ms, started_at, last_seen)
       VALUES (${client.escapeLiteral(this.id)}, ${this.#applied}, ${until}, ${lease}, now(), now())
       ON CONFLICT (id) DO UPDATE SET applied_sequence = excluded.applied_sequence,
         lease_until = excluded.lease_until, lease_ms = excluded.lease_ms, last_seen = excluded.last_seen;
       SELECT COALESCE(MAX(sequence), 0)::text AS newest FROM change_log`,
    )) as unknown as pg.QueryResult<{ newest: string }>[];
    return Number(results[1]?.rows[0]?.newest ?? 0);
  }

  /**
   * The log is shorter than what was applied (a failover to a standby that had not
   * received the newest changes; their numbers will be drawn again): drop everything
   * held, reload, and continue from the new newest. The next heartbeat reports it.
   */
  async #rebuild(client: pg.Client): Promise<void> {
    this.lease.lapse();
    this.#resets++;
    await this.#load(client);
  }

  /**
   * Load the tables — and in 'all' every standing — from one snapshot, replace what is
   * held, and continue from that snapshot's newest sequence. In 'seen' the standings held
   * are dropped (they are read again on demand).
   */
  async #load(client: pg.Client): Promise<void> {
    if (this.mode === 'all') {
      const startedAt = performance.now();
      const loaded = await loadAll(client, this.#options.settings, {
        materialised: this.#options.cacheSize ?? DEFAULT_VIEW_CACHE_SIZE,
        pageTimeoutMs: Math.max(LOAD_PAGE_TIMEOUT_MS, this.lease.maxStalenessMs),
        ...this.#options.load,
      });
      this.#all = loaded.standings;
      this.#tables = loaded.tables;
      this.#seen = this.#applied = loaded.sequence;
      this.#loads++;
      this.#loadSeconds = (performance.now() - startedAt) / 1000;
    } else {
      this.#standings.clear();
      const { tables, sequence } = await loadTables(client, this.#options.settings);
      this.#tables = tables;
      this.#seen = this.#applied = sequence;
    }
    this.#tablesDirty = false;
    this.#generation++;
  }

  /**
   * Read the change log after `#seen`, in order, and apply it; reload the tables after
   * any change of another kind than certificate or attachment, then advance `#applied`.
   * Sequences are dense (MAX + 1), so a missing number means rows were removed: the
   * view then reloads everything.
   */
  async #catchUp(client: pg.Client): Promise<void> {
    for (;;) {
      const read = this.mode === 'all' ? await this.#applyState(client) : await this.#applyDrops(client);
      if (read.gap) {
        this.#resets++;
        if (this.mode === 'all') {
          // Held state may include writes the log no longer has: deny until reloaded and confirmed.
          this.lease.lapse();
          await this.#load(client);
          continue;
        }
        this.#standings.clear();
        this.#tablesDirty = true;
      }
      if (this.#tablesDirty) {
        const { tables } = await loadTables(client, this.#options.settings);
        this.#tables = tables;
        this.#tablesDirty = false;
        this.#generation++;
      }
      this.#applied = this.#seen;
      if (!read.more) return;
    }
  }

  /**
   * 'all': one statement reads the next changes and, in the same snapshot, the current
   * state of each certificate they name (fullLoad.ts `readChanges`); all of it is applied
   * in one synchronous step with advancing `#seen`. The state is at least as new as every
   * change read (index.ts step 2).
   */
  async #applyState(client: pg.Client): Promise<Read> {
    const rows = await readChanges(client, this.#options.settings, this.#seen, CATCH_UP_BATCH);
    const all = this.#all;
    if (all === undefined) throw new Error('the fleet view is still loading');
    let expected = this.#seen + 1;
    for (const row of rows) if (Number(row.sequence) !== expected++) return { gap: true, more: true };
    for (const row of rows) {
      if (!all.applyChange(row, row.things ?? [], (ca) => this.#tables?.caId(row.account_id, ca) ?? ca)) this.#tablesDirty = true;
    }
    this.#seen = expected - 1;
    return { gap: false, more: rows.length === CATCH_UP_BATCH };
  }

  /**
   * 'seen': drop the standings each certificate or attachment change names
   * (synchronously with advancing `#seen`); misses read them again (index.ts step 2).
   */
  async #applyDrops(client: pg.Client): Promise<Read> {
    const { rows } = await client.query<{ sequence: string; kind: string; account_id: string; resource_id: string }>(
      'SELECT sequence::text AS sequence, kind, account_id, resource_id FROM change_log WHERE sequence > $1 ORDER BY sequence LIMIT $2',
      [this.#seen, CATCH_UP_BATCH],
    );
    let expected = this.#seen + 1;
    let gap = false;
    for (const row of rows) {
      const sequence = Number(row.sequence);
      if (sequence !== expected) gap = true;
      expected = sequence + 1;
      if (row.kind === 'certificate' || row.kind === 'attachment') this.#standings.invalidate(row.account_id, row.resource_id, sequence);
      else this.#tablesDirty = true;
    }
    this.#seen = expected - 1;
    return { gap, more: rows.length === CATCH_UP_BATCH };
  }
}
