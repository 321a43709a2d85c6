/**
 * The standings (status, mode, CA, thing names) of the certificates this process has
 * decided for, negative answers included, bounded by lru-cache. An entry is only ever
 * added by {@link Standings.remember} under the miss-read rule (ts/view/index.ts,
 * argument step 2), and dropped when the change log names its certificate.
 */
import { LRUCache } from 'lru-cache';
import type { CertificateStanding } from '../registry/types.js';

/** A held answer (null: not registered) and the change-log sequence of the snapshot it was read in. */
interface Held {
  readonly standing: CertificateStanding | null;
  readonly sequence: number;
}

/** Default bound (`--view-cache-size`); memory per entry: docs/fleet.md. */
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
    return held.standing;
  }

  /** Hold `standing`, read in a snapshot whose newest change was `sequence`. */
  remember(accountId: string, certificateId: string, standing: CertificateStanding | null, sequence: number): void {
    this.#lru.set(key(accountId, certificateId), { standing, sequence });
  }

  /** Change `sequence` names the certificate: drop what is held unless it was read after that change. */
  invalidate(accountId: string, certificateId: string, sequence: number): void {
    const k = key(accountId, certificateId);
    const held = this.#lru.peek(k);
    if (held !== undefined && held.sequence < sequence) this.#lru.delete(k);
  }

  clear(): void {
    this.#lru.clear();
  }
}

const key = (accountId: string, certificateId: string): string => `${accountId}/${certificateId}`;
