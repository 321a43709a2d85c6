/**
 * The verification cache: what is a pure function of the presented bytes (the parsed
 * leaf, and which registered CA the chain verified against) keyed by the chain hash.
 * Status is never here: it is read from the registry on every decision, so revocation
 * is immediate.
 *
 * Bounded (least recently used entry evicted first) and each entry expires at the
 * earliest notAfter of the certificates it vouches for, after which a stale "verified"
 * could otherwise outlive an expired CA. A capacity of 0 disables it. The bound and the
 * recency order are `lru-cache`'s; the expiry is checked here against the decision's clock.
 * A chain is admitted on its second sight (ts/authz/doorkeeper.ts): the first decision
 * about it verifies and forgets, the second verifies and remembers, later ones hit.
 */
import { LRUCache } from 'lru-cache';
import { Doorkeeper } from './doorkeeper.js';
import type { CertificateInfo } from '../engine/types.js';

/** A certificate on a verified path and the certificate that issued it (branch crl). */
export interface CrlLink {
  readonly issuerId: string;
  /** Lowercase hex, as the engine spells serials. */
  readonly serial: string;
}

/**
 * A small map from a registered CA's certificateId to a value, for the verification cache's
 * per-anchor facts. A chain verifies against one registered CA in practice (its issuer), so
 * the first pair is held in two fields and a `Map` is made only for a second CA: an entry of
 * a 100,000-device cache then costs ~0.4 KB instead of ~0.7 KB with two Maps (measured with
 * `node --expose-gc`, heap used per entry). Only `has`, `get` and `set` are offered.
 */
export class PerAnchor<V> {
  #id: string | undefined;
  #value: V | undefined;
  #more: Map<string, V> | undefined;

  has(id: string): boolean {
    return id === this.#id || (this.#more?.has(id) ?? false);
  }

  get(id: string): V | undefined {
    return id === this.#id ? this.#value : this.#more?.get(id);
  }

  set(id: string, value: V): void {
    if (this.#id === undefined || id === this.#id) {
      this.#id = id;
      this.#value = value;
      return;
    }
    (this.#more ??= new Map()).set(id, value);
  }
}

/** What one chain hash remembers. */
export interface CachedChain {
  /** The leaf's certificateId (SHA-256 of its DER). */
  readonly certificateId: string;
  /** The parsed leaf, once something needed it (no-CA registrations, JITR, denials). */
  leaf: CertificateInfo | undefined;
  /**
   * Registered CA certificateId → epoch seconds until which that verification holds (the
   * earliest notAfter on the verified path; the engine checked validity at verification).
   */
  readonly verifiedBy: PerAnchor<number>;
  /**
   * Registered CA certificateId → the issuer links of the verified path (branch crl): for
   * each certificate on it below the anchor, its issuer's certificateId and its serial,
   * what the CRL check looks up.
   */
  readonly crlLinks: PerAnchor<readonly CrlLink[]>;
  /** Epoch seconds after which the entry is dropped: the leaf's notAfter once known. */
  expiresAt: number;
}

export interface CacheStats {
  hits: number;
  misses: number;
  size: number;
}

export class VerifyCache {
  readonly #capacity: number;
  /** Undefined when disabled (lru-cache needs a bound of at least 1). */
  readonly #entries: LRUCache<string, CachedChain> | undefined;
  readonly #door: Doorkeeper;
  #hits = 0;
  #misses = 0;

  /**
   * `capacity` 0 disables caching: every lookup misses and nothing is stored.
   * `admitOnFirstSight` remembers every chain at once (no doorkeeper), as tests that look
   * at one decision's effect on the next want.
   */
  constructor(capacity: number, options: { admitOnFirstSight?: boolean } = {}) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`verify cache size must be an integer >= 0, got ${capacity}`);
    this.#capacity = capacity;
    this.#entries = capacity === 0 ? undefined : new LRUCache({ max: capacity });
    // As many slots as entries (rounded up to a power of two): 4 bytes each.
    this.#door = new Doorkeeper(capacity === 0 || options.admitOnFirstSight === true ? 0 : capacity);
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** The entry for `key` if present and not expired at `now` (epoch seconds). */
  get(key: string, now: number): CachedChain | undefined {
    const entry = this.#entries?.get(key);
    if (entry === undefined) {
      this.#misses++;
      return undefined;
    }
    if (now > entry.expiresAt) {
      this.#entries?.delete(key);
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    return entry;
  }

  /**
   * Whether a chain {@link get} just missed is to be kept: from its second sight on (the
   * doorkeeper notes the first), or at once with `admitOnFirstSight`; never when the cache
   * is disabled.
   */
  admits(key: string): boolean {
    return this.#entries !== undefined && this.#door.admit(key);
  }

  /**
   * A new entry for a chain {@link get} just missed, stored when `keep` ({@link admits}), in
   * the same synchronous step (no other decision can have added it in between); the
   * decision fills it either way. Not looked up again: on a cold decision a second probe of
   * a 100,000-entry map is a cache miss of its own.
   */
  remember(key: string, certificateId: string, keep: boolean): CachedChain {
    const entry: CachedChain = {
      certificateId,
      leaf: undefined,
      verifiedBy: new PerAnchor(),
      crlLinks: new PerAnchor(),
      expiresAt: Number.POSITIVE_INFINITY,
    };
    if (keep) this.#entries?.set(key, entry);
    return entry;
  }

  /** Attach the parsed leaf; the entry then expires at the leaf's notAfter. */
  setLeaf(entry: CachedChain, leaf: CertificateInfo): void {
    entry.leaf = leaf;
    entry.expiresAt = Math.min(entry.expiresAt, leaf.notAfter);
  }

  /** Record that the chain verified against `caCertificateId`, valid until `until`. */
  markVerified(entry: CachedChain, caCertificateId: string, until: number): void {
    entry.verifiedBy.set(caCertificateId, Math.min(until, entry.expiresAt));
  }

  /** Whether the chain is known to verify against the CA at `now`. */
  isVerified(entry: CachedChain, caCertificateId: string, now: number): boolean {
    const until = entry.verifiedBy.get(caCertificateId);
    return until !== undefined && now <= until;
  }

  stats(): CacheStats {
    return { hits: this.#hits, misses: this.#misses, size: this.#entries?.size ?? 0 };
  }
}
