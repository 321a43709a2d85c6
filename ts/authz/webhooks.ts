/**
 * Webhook delivery of registry events (JITR registrations,
 * https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html), at least once.
 *
 * The durable event log in the registry is the outbox: the deliverer reads it per
 * account after a cursor, POSTs each event to every configured URL, and advances that
 * URL's cursor only after a 2xx. Failures are retried with exponential backoff, so an
 * event is delivered again after a crash or an outage (receivers deduplicate on
 * `x-certgate-event-sequence`, as AWS event consumers must: event messages may be
 * published more than once, https://docs.aws.amazon.com/iot/latest/developerguide/iot-events.html).
 * The sequence is the event's id: unique in the installation (the events table's key)
 * and the same on every redelivery, from whichever host.
 *
 * Where the cursors live and who delivers are the two things a deployment decides
 * (`CursorStore`, `DeliveryLease`):
 * - SQLite: one deliverer per installation (the cluster primary, since worker processes
 *   share the log), cursors in a JSON file next to the database (`fileCursors`);
 * - PostgreSQL, many hosts: one deliverer in the whole fleet, the holder of a PostgreSQL
 *   advisory lock, with the cursors in the database, written over the lock's own session
 *   (ts/registry/postgres/deliveryLease.ts); another host's primary takes over within
 *   about a second of the holder's session ending.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Registry, RegistryEvent } from '../registry/types.js';

/** Where the deliverer keeps how far each URL has been delivered, per account. */
export interface CursorStore {
  /** Every cursor: the last delivered sequence by `cursorKey(url, accountId)`. */
  load(): Promise<Record<string, number>>;
  /** `url` has received every event of `accountId` up to `sequence`. */
  save(url: string, accountId: string, sequence: number): Promise<void>;
}

/** Whether this process is the one that delivers now (others keep polling, delivering nothing). */
export interface DeliveryLease {
  held(): boolean;
}

/** The key of one cursor (the JSON file's format). */
export const cursorKey = (url: string, accountId: string): string => `${url} ${accountId}`;

export interface WebhookOptions {
  registry: Pick<Registry, 'listAccounts' | 'listEvents'>;
  urls: string[];
  /** Where the cursors are kept; default `fileCursors(stateFile)`. */
  cursors?: CursorStore;
  /** File holding the cursors when `cursors` is not given; created on first delivery. */
  stateFile?: string;
  /** Deliver only while this is held; default: always (the only deliverer of the installation). */
  lease?: DeliveryLease;
  /** How often the log is polled for events written by other processes. Default 1000 ms. */
  pollMs?: number;
  /** Per-POST timeout. Default 5000 ms. */
  timeoutMs?: number;
  /** First retry delay, doubled per failure up to 30 s. Default 500 ms. */
  retryBaseMs?: number;
  /** Events read per account per round. Default 100. */
  batch?: number;
  onError?: (url: string, event: RegistryEvent, error: string) => void;
  /** A round failed before or between POSTs (the registry or the cursor store unreachable); retried at the next poll. */
  onRoundError?: (error: unknown) => void;
}

/** The JSON body POSTed for one event. */
export interface WebhookBody {
  sequence: number;
  accountId: string;
  topic: string;
  payload: Record<string, unknown>;
  createdAt: number;
}

/** What the deliverer has done and has left (the webhook metrics read it at scrape time). */
export interface WebhookStats {
  /** POSTs answered 2xx since start. */
  delivered: number;
  /** POSTs that failed (network error, timeout, non-2xx) since start. */
  failed: number;
  /**
   * Events read from the log and not yet delivered, summed over URLs, as of each URL's
   * last attempt (a URL waiting out its backoff keeps its count). A lower bound when an
   * account has more than one batch pending.
   */
  backlog: number;
  /** `createdAt` (epoch seconds) of the oldest of those events; null when none is pending. */
  oldestPending: number | null;
  /** Whether this process is the deliverer now (always, without a lease). */
  leading: boolean;
}

type Settings = Required<Pick<WebhookOptions, 'registry' | 'urls' | 'pollMs' | 'timeoutMs' | 'retryBaseMs' | 'batch'>> &
  Pick<WebhookOptions, 'onError' | 'onRoundError' | 'lease'> & { cursors: CursorStore };

export class WebhookDeliverer {
  readonly #o: Settings;
  #cursors: Record<string, number> = {};
  readonly #backoff = new Map<string, { until: number; delay: number }>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #delivered = 0;
  #failed = 0;
  /** Per `url account`: events read and not delivered, and the oldest one's createdAt. */
  readonly #pending = new Map<string, { count: number; oldest: number }>();

  constructor(options: WebhookOptions) {
    const { cursors, stateFile, ...rest } = options;
    if (cursors === undefined && stateFile === undefined) throw new Error('WebhookDeliverer needs cursors or a stateFile');
    this.#o = { pollMs: 1000, timeoutMs: 5000, retryBaseMs: 500, batch: 100, ...rest, cursors: cursors ?? fileCursors(stateFile ?? '') };
  }

  /** Whether this process delivers now. */
  leading(): boolean {
    return this.#o.lease?.held() ?? true;
  }

  stats(): WebhookStats {
    let backlog = 0;
    let oldestPending: number | null = null;
    for (const { count, oldest } of this.#pending.values()) {
      backlog += count;
      if (oldestPending === null || oldest < oldestPending) oldestPending = oldest;
    }
    return { delivered: this.#delivered, failed: this.#failed, backlog, oldestPending, leading: this.leading() };
  }

  /** Start polling. */
  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Deliver soon (an event was just appended in this process). */
  notify(): void {
    if (this.#running !== undefined) this.#again = true;
    else this.#schedule(0);
  }

  /** One full round over every account and URL; resolves when it is done. */
  async deliverOnce(): Promise<void> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#round().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      // A failed round (registry unreachable, lease lost mid-round) must not end the
      // polling, nor reject unhandled (which would end the process): report it and retry.
      void this.deliverOnce()
        .catch((error: unknown) => this.#o.onRoundError?.(error))
        .then(() => this.#schedule(this.#again ? 0 : this.#o.pollMs));
    }, ms);
    this.#timer.unref();
  }

  async #round(): Promise<void> {
    this.#again = false;
    if (!this.leading()) {
      // Another process delivers; what this one read earlier is not its backlog.
      this.#pending.clear();
      return;
    }
    const accounts = await this.#o.registry.listAccounts();
    // Read every round: after a takeover, the previous deliverer's progress is here.
    this.#cursors = await this.#o.cursors.load();
    for (const url of this.#o.urls) {
      const wait = this.#backoff.get(url);
      if (wait !== undefined && Date.now() < wait.until) continue;
      for (const { accountId } of accounts) {
        if (!(await this.#deliverAccount(url, accountId))) break;
      }
    }
  }

  /** Deliver one account's pending events to one URL; false when the URL failed. */
  async #deliverAccount(url: string, accountId: string): Promise<boolean> {
    const key = cursorKey(url, accountId);
    const events = await this.#o.registry.listEvents(accountId, this.#cursors[key] ?? 0, this.#o.batch);
    for (const [index, event] of events.entries()) {
      const error = await this.#post(url, event);
      if (error !== null) {
        this.#failed++;
        this.#pending.set(key, { count: events.length - index, oldest: event.createdAt });
        const previous = this.#backoff.get(url)?.delay ?? this.#o.retryBaseMs / 2;
        const delay = Math.min(previous * 2, 30_000);
        this.#backoff.set(url, { until: Date.now() + delay, delay });
        this.#o.onError?.(url, event, error);
        return false;
      }
      this.#delivered++;
      this.#backoff.delete(url);
      this.#cursors[key] = event.sequence;
      await this.#o.cursors.save(url, accountId, event.sequence);
    }
    this.#pending.delete(key);
    if (events.length === this.#o.batch) this.#again = true;
    return true;
  }

  async #post(url: string, event: RegistryEvent): Promise<string | null> {
    const body: WebhookBody = { ...event };
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-certgate-event-sequence': String(event.sequence) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      });
      await res.arrayBuffer();
      return res.ok ? null : `HTTP ${res.status}`;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }
}

/** Cursors in a JSON file (one installation on one host: SQLite). */
export function fileCursors(file: string): CursorStore {
  // Read once, at once: an unreadable file stops the start, not each round.
  const cursors = readCursors(file);
  return {
    load: () => Promise.resolve({ ...cursors }),
    save: (url, accountId, sequence) => {
      cursors[cursorKey(url, accountId)] = sequence;
      writeCursors(file, cursors);
      return Promise.resolve();
    },
  };
}

/** The cursors of a JSON cursor file; `{}` when there is none. */
export function readCursors(file: string): Record<string, number> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`cannot read webhook cursors ${file}: ${(err as Error).message}`, { cause: err });
  }
}

function writeCursors(file: string, cursors: Record<string, number>): void {
  // Write-then-rename so a crash never leaves a torn file (at worst a re-delivery).
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(cursors));
  renameSync(tmp, file);
}
