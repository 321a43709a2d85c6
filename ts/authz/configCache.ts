/**
 * A short-lived cache of registry *configuration* the decision reads on every request:
 * which account an SNI routes to, and the registered CA a chain must verify against.
 * Neither is certificate status (status and thing names are never cached: revocation
 * stays immediate); a change to either takes effect within `ttlMs`. Profiling the warm
 * path showed each SQLite statement costs ~5–9 µs (a WAL read transaction of its own).
 * `ttlMs` 0 disables the cache. Bounded by `lru-cache` (least recently used dropped first);
 * the expiry is kept per entry here because the decision passes its own clock.
 */
import { LRUCache } from 'lru-cache';
import { andThen, type Step } from './step.js';

/** Default bound: routing entries per SNI and anchors per CA; far above a real deployment's. */
export const CONFIG_CACHE_MAX = 10_000;

interface Entry<T> {
  value: T;
  until: number;
  /** The generation when the load that produced `value` started. */
  generation: number;
}

const CONSTANT = (): number => 0;

export class ConfigCache<T> {
  readonly #ttlMs: number;
  readonly #entries: LRUCache<string, Entry<T>>;
  readonly #generation: () => number;

  /**
   * Entries live `ttlMs`; at most `max` are kept (the least recently used is dropped
   * first). `generation` (ts/authz/reads.ts `configGeneration`): an entry is used only
   * while the number is the one read when its load started, so a change applied by a
   * fleet view (ts/view/) ends it at once — also one whose load was still in flight.
   */
  constructor(ttlMs: number, max = CONFIG_CACHE_MAX, generation: () => number = CONSTANT) {
    if (!Number.isInteger(ttlMs) || ttlMs < 0) throw new RangeError(`config cache TTL must be an integer >= 0 ms, got ${ttlMs}`);
    this.#ttlMs = ttlMs;
    this.#entries = new LRUCache({ max });
    this.#generation = generation;
  }

  /** Entries held (fresh or not yet noticed stale). */
  get size(): number {
    return this.#entries.size;
  }

  /** The cached value for `key` if present and fresh (a synchronous hit), else undefined. */
  peek(key: string, now: number): T | undefined {
    if (this.#ttlMs === 0) return undefined;
    const hit = this.#entries.get(key);
    return hit !== undefined && now < hit.until && hit.generation === this.#generation() ? hit.value : undefined;
  }

  /**
   * The cached value for `key`, or `load()`'s (then remembered): a value when the cache
   * hits or `load` answers synchronously, a promise only when `load` returns one. A load
   * that fails is not remembered.
   */
  get(key: string, now: number, load: () => Step<T>): Step<T> {
    const hit = this.peek(key, now);
    if (hit !== undefined) return hit;
    const generation = this.#generation();
    const loaded = load();
    if (this.#ttlMs === 0) return loaded;
    return andThen(loaded, (value) => {
      this.#entries.set(key, { value, until: now + this.#ttlMs, generation });
      return value;
    });
  }
}
