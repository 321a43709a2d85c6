/**
 * A sidecar's lease (ts/view/index.ts, argument step 3): it may allow only while its
 * view is confirmed current. A heartbeat sent at local monotonic time `sentAt` that
 * found nothing the view had not applied confirms it until `sentAt + maxStalenessMs` —
 * never later than the `lease_until` the database recorded for that heartbeat, which
 * is the database's `now()` (at or after `sentAt`) plus the same span plus a margin.
 *
 * A decision is current when the lease holds now AND held without a break since the
 * decision started: a lease renewed after a lapse (the database came back) does not
 * vouch for what a decision read before the renewal (a standing cached while the view
 * was behind). `performance.now()` is monotonic (https://w3c.github.io/hr-time/), so
 * a wall-clock step on this host neither extends nor shortens the lease.
 */
export class Lease {
  /** `performance.now()` until which allows are permitted; -Infinity: never confirmed. */
  #deadline = Number.NEGATIVE_INFINITY;
  /** When the current unbroken run of confirmations began. */
  #since = Number.POSITIVE_INFINITY;
  /** `sentAt` of the newest confirming heartbeat. */
  #confirmedAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly maxStalenessMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A heartbeat sent at `sentAt` found the view current. */
  confirm(sentAt: number): void {
    const now = this.now();
    if (now >= this.#deadline) this.#since = now;
    this.#deadline = Math.max(this.#deadline, sentAt + this.maxStalenessMs);
    this.#confirmedAt = Math.max(this.#confirmedAt, sentAt);
  }

  /** End the lease now (the view is being rebuilt, or closed). */
  lapse(): void {
    this.#deadline = Number.NEGATIVE_INFINITY;
  }

  /** Null when a decision started at `startedAt` may allow; else why not. */
  stale(startedAt: number): string | null {
    const now = this.now();
    if (now >= this.#deadline) {
      return this.#confirmedAt === Number.NEGATIVE_INFINITY
        ? 'the local view of the registry has not been confirmed current yet'
        : `the local view of the registry was last confirmed current ${Math.round(now - this.#confirmedAt)} ms ago (--max-staleness ${this.maxStalenessMs} ms)`;
    }
    if (startedAt < this.#since) return 'the local view was confirmed current again only after this decision started';
    return null;
  }

  /** Milliseconds the lease still holds (0 when lapsed). */
  remainingMs(): number {
    return Math.max(0, this.#deadline - this.now());
  }

  /** Milliseconds since the newest confirming heartbeat was sent (Infinity before the first). */
  sinceConfirmedMs(): number {
    return this.now() - this.#confirmedAt;
  }
}
