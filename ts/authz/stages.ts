/**
 * Per-stage timing of one decision, for the latency histograms (`ts/metrics/`): parse,
 * registry, verification inline or on the pool (pool time includes its queue wait).
 */

/** The measured stages of a decision. */
export type Stage = 'parse' | 'registry' | 'verify_inline' | 'verify_pool';

export class StageClock {
  readonly #totals = new Map<Stage, number>();
  #open: Stage | null = null;
  #since = 0;

  /** Start timing `stage` (synchronous work until {@link stop}). */
  start(stage: Stage): void {
    this.#open = stage;
    this.#since = performance.now();
  }

  /** Close the open stage, if any. */
  stop(): void {
    if (this.#open === null) return;
    this.#add(this.#open, performance.now() - this.#since);
    this.#open = null;
  }

  /** Time an awaited step under `stage`. */
  async time<T>(stage: Stage, run: () => Promise<T>): Promise<T> {
    const since = performance.now();
    try {
      return await run();
    } finally {
      this.#add(stage, performance.now() - since);
    }
  }

  /**
   * Add the time since `sinceMs` (a `performance.now()` reading) to `stage`: for awaited
   * steps on the hot path, without the extra async function {@link time} costs.
   */
  since(stage: Stage, sinceMs: number): void {
    this.#add(stage, performance.now() - sinceMs);
  }

  /** Seconds spent per stage. */
  totals(): ReadonlyMap<Stage, number> {
    return this.#totals;
  }

  #add(stage: Stage, ms: number): void {
    this.#totals.set(stage, (this.#totals.get(stage) ?? 0) + ms / 1000);
  }
}
