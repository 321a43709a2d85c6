/**
 * A short-lived cache of registry *configuration* the decision reads on every request:
 * which account an SNI routes to, and the registered CA a chain must verify against.
 * Neither is certificate status (status and thing names are never cached: revocation
 * stays immediate); a change to either takes effect within `ttlMs`. Profiling the warm
 * path showed each SQLite statement costs ~5–9 µs (a WAL read transaction of its own).
 * `ttlMs` 0 reads every time. Bounded by `lru-cache` (least recently used dropped first);
 * the expiry is kept per entry here because the decision passes its own clock.
 *
 * A load that answers later (PostgreSQL) is shared: a caller that misses while one for the
 * same key is in flight waits for it instead of reading again, if that load's answer
 * would be a fresh entry now (started within `ttlMs`, under the current generation) — so
 * what it answers is never older than a cache hit could be, and with `ttlMs` 0 nothing is
 * shared. Without that, a burst of decisions for one account on a cold or expired entry
 * each read the same row (and crls.ts each loaded the same CRL).
 *
 * Past its TTL an entry is kept (its TTL starts again) without a read when the reads'
 * stamp (reads.ts `configStamp`) is still the one taken before its load: nothing it
 * answers can have changed, so a read would answer the same. Without that, a sidecar
 * whose devices span many accounts and CAs read every routing, CA (parsed again) and
 * CRL id once per TTL: at 1,000 accounts that was most of a warm decision's extra cost
 * (bench/README.md "Fleet size", spread).
 */
import { LRUCache } from 'lru-cache';
import type { Step } from './step.js';

/** Default bound: routing entries per SNI and anchors per CA; far above a real deployment's. */
export const CONFIG_CACHE_MAX = 10_000;

interface Entry<T> {
  value: T;
  until: number;
  /** The generation when the load that produced `value` started. */
  generation: number;
  /** The stamp when that load started (NaN without one: never equal). */
  stamp: number;
}

/** A load in flight, shared by callers that miss while it would still give a fresh entry. */
interface Pending<T> {
  promise: Promise<T>;
  until: number;
  generation: number;
}

const CONSTANT = (): number => 0;

/** How the reads say that nothing changed (ts/authz/reads.ts). */
export interface ConfigChanges {
  /** `configGeneration`: an entry loaded under another generation is dropped. */
  generation(): number;
  /** `configStamp`: an entry past its TTL loaded under the current stamp is kept. */
  stamp?: (() => number) | undefined;
}

export class ConfigCache<T> {
  readonly #ttlMs: number;
  readonly #entries: LRUCache<string, Entry<T>>;
  readonly #generation: () => number;
  readonly #stamp: (() => number) | undefined;
  readonly #loading = new Map<string, Pending<T>>();

  /**
   * Entries live `ttlMs`; at most `max` are kept (the least recently used is dropped
   * first). `changes.generation` (ts/authz/reads.ts `configGeneration`): an entry is used
   * only while the number is the one read when its load started, so a change applied by a
   * fleet view (ts/view/) ends it at once — also one whose load was still in flight.
   * `changes.stamp` (`configStamp`): an entry past `ttlMs` is kept while the stamp is the
   * one read when its load started.
   */
  constructor(ttlMs: number, max = CONFIG_CACHE_MAX, changes: ConfigChanges = { generation: CONSTANT }) {
    if (!Number.isInteger(ttlMs) || ttlMs < 0) throw new RangeError(`config cache TTL must be an integer >= 0 ms, got ${ttlMs}`);
    this.#ttlMs = ttlMs;
    this.#entries = new LRUCache({ max });
    this.#generation = changes.generation;
    this.#stamp = changes.stamp;
  }

  /** Entries held (fresh or not: also with `ttlMs` 0 the last value of each key is kept, for `last`). */
  get size(): number {
    return this.#entries.size;
  }

  /** The cached value for `key` if present and fresh (a synchronous hit), else undefined. */
  peek(key: string, now: number): T | undefined {
    if (this.#ttlMs === 0) return undefined;
    const hit = this.#entries.get(key);
    if (hit === undefined || hit.generation !== this.#generation()) return undefined;
    return now < hit.until || renewed(hit, now, this.#ttlMs, this.#stamp) ? hit.value : undefined;
  }

  /**
   * The value `key` was last loaded with, fresh or not (undefined if none is held): for a
   * caller that can tell cheaply whether it still holds (crls.ts: the same CRL id), never
   * an answer by itself. Does not count as a use for the bound.
   */
  last(key: string): T | undefined {
    return this.#entries.peek(key)?.value;
  }

  /**
   * The cached value for `key`, or `load()`'s (then remembered): a value when the cache
   * hits or `load` answers synchronously, a promise only when `load` returns one — or
   * when a load of `key` is in flight whose answer would be fresh now (then shared). A
   * load that fails is not remembered; one that ends under another generation than it
   * started in is not remembered either (it cannot be used, and must not displace a newer
   * entry).
   */
  get(key: string, now: number, load: () => Step<T>): Step<T> {
    const hit = this.peek(key, now);
    if (hit !== undefined) return hit;
    const pending = this.#loading.get(key);
    if (pending !== undefined && now < pending.until && pending.generation === this.#generation()) return pending.promise;
    const generation = this.#generation();
    const stamp = this.#stamp?.() ?? Number.NaN;
    const step = load();
    const keep = (value: T): T => {
      if (this.#generation() === generation) this.#entries.set(key, { value, until: now + this.#ttlMs, generation, stamp });
      return value;
    };
    if (!(step instanceof Promise)) return keep(step);
    return this.#share(key, { promise: step.then(keep), until: now + this.#ttlMs, generation });
  }

  /** Lend `pending` to callers of `key` until it settles. */
  #share(key: string, pending: Pending<T>): Promise<T> {
    this.#loading.set(key, pending);
    const settled = (): void => {
      if (this.#loading.get(key) === pending) this.#loading.delete(key);
    };
    pending.promise.then(settled, settled);
    return pending.promise;
  }
}

/**
 * Whether an entry past its TTL may be kept for another TTL: its stamp (taken before its
 * load) is still the reads' current one, so nothing it holds can have changed. NaN (no
 * stamp) never equals; with `ttlMs` 0 ("read every time") nothing is kept.
 */
function renewed(entry: { until: number; stamp: number }, now: number, ttlMs: number, stamp: (() => number) | undefined): boolean {
  if (ttlMs === 0 || stamp === undefined || entry.stamp !== stamp()) return false;
  entry.until = now + ttlMs;
  return true;
}
