/**
 * Admission on second sight for the verification cache: a chain is remembered only when it
 * is presented again, so a chain met once (a device that connects once in a storm, a
 * scanner's certificate) costs no cache entry — no insertion into a bounded map of up to
 * 100,000 entries, nothing kept alive past the decision for the garbage collector to copy
 * and later mark. TinyLFU's "doorkeeper" (Einziger, Friedman, Manes, "TinyLFU: A Highly
 * Efficient Cache Admission Policy", section 4.2, https://arxiv.org/abs/1512.00727) is the
 * same idea; here it is a direct-mapped table of 32-bit tags rather than a Bloom filter:
 * one slot read and written per cold decision.
 *
 * It only ever changes cost, never an answer: a chain it admits was verified by the same
 * decision, and one it turns away is verified again next time. A slot shared by two chains
 * (or overwritten by a third) makes one of them wait a sight longer, or be admitted a
 * sight early, as before this filter. Keys are the verification cache's: lowercase hex
 * SHA-256 (ts/authz/chain.ts), so their first 16 characters are uniformly spread; another
 * key still works, only less evenly.
 *
 * Measured (bench/README.md, "Admitted on second sight"): −3 to −6 µs of server CPU per
 * cold RSA decision, and 0.13 → 0.01 minor page faults per decision.
 */
export class Doorkeeper {
  readonly #tags: Uint32Array;
  readonly #mask: number;

  /** `slots` is rounded up to a power of two; 0 admits every chain at once. */
  constructor(slots: number) {
    if (!Number.isInteger(slots) || slots < 0) throw new RangeError(`doorkeeper slots must be an integer >= 0, got ${slots}`);
    const size = slots === 0 ? 0 : 2 ** Math.ceil(Math.log2(slots));
    this.#tags = new Uint32Array(size);
    this.#mask = size - 1;
  }

  /** Table size in slots (4 bytes each). */
  get slots(): number {
    return this.#tags.length;
  }

  /** Whether `key` was seen (at its slot) since that slot last changed; notes it if not. */
  admit(key: string): boolean {
    if (this.#tags.length === 0) return true;
    const slot = hex32(key, 0) & this.#mask;
    // 0 marks an empty slot.
    const tag = hex32(key, 8) || 1;
    if (this.#tags[slot] === tag) return true;
    this.#tags[slot] = tag;
    return false;
  }
}

/**
 * Eight characters from `from` read as a 32-bit hex number, without allocating (a substring
 * and parseInt cost more than the rest of the check). Characters outside [0-9a-f] give some
 * other number; the result is only a hash.
 */
function hex32(key: string, from: number): number {
  let v = 0;
  for (let i = from; i < from + 8; i++) {
    const c = key.charCodeAt(i);
    v = (v << 4) | ((c <= 57 ? c - 48 : c - 87) & 15);
  }
  return v >>> 0;
}
