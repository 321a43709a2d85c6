/**
 * The one bounded map of the decision path and the fast path: a `Map` that drops its
 * oldest-inserted entry when a new key would exceed `max` (0 keeps nothing). Written here
 * rather than taken from `lru-cache` because these callers need only insertion-order
 * eviction on a Map they already iterate in order, and it keeps the hot lookups a plain
 * `Map.get`.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  readonly max: number;

  constructor(max: number) {
    super();
    if (!Number.isInteger(max) || max < 0) throw new RangeError(`bounded map size must be an integer >= 0, got ${max}`);
    this.max = max;
  }

  /** Set `key`; a new key past `max` first drops the oldest entry. */
  override set(key: K, value: V): this {
    if (this.max === 0) return this;
    if (!this.has(key) && this.size >= this.max) {
      const oldest = this.keys().next();
      if (oldest.done !== true) this.delete(oldest.value);
    }
    return super.set(key, value);
  }
}
