/**
 * The standings (status, mode, CA, thing names) of the certificates this process has
 * decided for, negative answers included, bounded by lru-cache. An entry is only ever
 * added by {@link Standings.remember} under the miss-read rule (ts/view/index.ts,
 * argument step 2), and dropped when the change log names its certificate.
 */
import { LRUCache } from 'lru-cache';
import type { CertificateStanding } from '../registry/types.js';

/** lru-cache holds no null: the "not registered" answer is this object. */
const NOT_REGISTERED = Object.freeze({ notRegistered: true });
type Held = CertificateStanding | typeof NOT_REGISTERED;

/** Default bound (`--view-cache-size`); about 0.4 KB each (docs/fleet.md). */
export const DEFAULT_VIEW_CACHE_SIZE = 100_000;

export class Standings {
  readonly #lru: LRUCache<string, Held>;
  hits = 0;
  misses = 0;

  constructor(max: number) {
    this.#lru = new LRUCache({ max: Math.max(1, max) });
  }

  get size(): number {
    return this.#lru.size;
  }

  /** The held answer (null: not registered), or undefined when not held. */
  get(accountId: string, certificateId: string): CertificateStanding | null | undefined {
    const held = this.#lru.get(key(accountId, certificateId));
    if (held === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    return held === NOT_REGISTERED ? null : (held as CertificateStanding);
  }

  remember(accountId: string, certificateId: string, standing: CertificateStanding | null): void {
    this.#lru.set(key(accountId, certificateId), standing ?? NOT_REGISTERED);
  }

  invalidate(accountId: string, certificateId: string): void {
    this.#lru.delete(key(accountId, certificateId));
  }

  clear(): void {
    this.#lru.clear();
  }
}

const key = (accountId: string, certificateId: string): string => `${accountId}/${certificateId}`;
