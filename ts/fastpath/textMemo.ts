/**
 * A bounded memo keyed by long texts (certificate PEMs, escaped or not) that does not
 * hash the whole text on every lookup: entries are found by a short probe — a number made
 * of the text's length and a 32-bit FNV-1a hash of its last {@link PROBE_CHARS}
 * characters (for a PEM, the end of the signature and the END line) — and a hit is
 * confirmed by comparing the whole text. Hashing a ~1.7 KB string for a Map lookup costs
 * more than the rest of the lookup; a comparison of two equal strings is a memcmp. The
 * probe is a number rather than a string so that a lookup allocates nothing and an entry
 * keeps no key text (a memo sized for a fleet holds 100,000 of them). Two texts that
 * share a probe can only evict each other, never be mistaken for each other. Texts
 * longer than `maxChars` are not kept; on overflow the least recently used entry is
 * dropped (lru-cache).
 */
import { LRUCache } from 'lru-cache';

export class TextMemo<T> {
  readonly #max: number;
  readonly #maxChars: number;
  readonly #entries: LRUCache<number, { text: string; value: T }>;

  constructor(max: number, maxChars: number) {
    if (!Number.isInteger(max) || max < 0) throw new RangeError(`memo size must be an integer >= 0, got ${max}`);
    // The probe holds the length above 32 bits of hash: exact as a double below 2^21.
    if (!Number.isInteger(maxChars) || maxChars < 0 || maxChars >= 2 ** 21)
      throw new RangeError(`maxChars must be below 2^21, got ${maxChars}`);
    this.#max = max;
    this.#maxChars = maxChars;
    // lru-cache needs max >= 1; a memo of size 0 is never consulted (get/set below).
    this.#entries = new LRUCache({ max: Math.max(1, max) });
  }

  /** The value remembered for exactly `text`, if any. */
  get(text: string): T | undefined {
    if (this.#max === 0 || text.length > this.#maxChars) return undefined;
    const hit = this.#entries.get(probe(text));
    return hit !== undefined && hit.text === text ? hit.value : undefined;
  }

  /** Remember `value` for `text` (ignored when the text is too long or the memo is off). */
  set(text: string, value: T): void {
    if (this.#max === 0 || text.length > this.#maxChars) return;
    this.#entries.set(probe(text), { text, value });
  }
}

/** Characters at the end of a text that, with its length, find its entry. */
export const PROBE_CHARS = 96;

/** Length × 2^32 + FNV-1a (http://www.isthe.com/chongo/tech/comp/fnv/) of the last PROBE_CHARS UTF-16 code units. */
function probe(text: string): number {
  const n = text.length;
  let h = 0x811c9dc5;
  for (let i = n > PROBE_CHARS ? n - PROBE_CHARS : 0; i < n; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return n * 2 ** 32 + (h >>> 0);
}
