/**
 * Load shedding: past capacity, refuse at once with `OVERLOADED` (an `unavailable`
 * reason: 503 / gRPC UNAVAILABLE, never an allow) instead of letting every request wait.
 * Without it, at 3× capacity valid requests queued to a p50 of 668 ms and clients timed
 * out (issue 14). Two bounds, per process:
 *
 * - **Decisions in flight** (`maxInFlight`): decisions that went past the synchronous
 *   cached path and have not been answered (they await the registry, the pool or the
 *   engine). Each waits behind the ones before it; beyond the bound a new one is refused.
 * - **Time into a busy event-loop turn** (`shedAfterMs`): a process whose one thread is
 *   saturated never has many decisions in flight (each runs to completion within the
 *   read callback that parsed it), yet requests queue in socket buffers. libuv reads
 *   every socket that was readable when the turn's poll began, one after another; a
 *   request decided `t` ms after the first decision of the turn was already readable
 *   then, so it has waited at least `t` ms. Past `shedAfterMs` the rest of the turn is
 *   refused cheaply, which bounds the turn and so the wait of the requests that are
 *   answered. A `setImmediate` (the check phase, right after the poll phase) ends the turn.
 *   Only while the process is saturated: its event loop was busy at least
 *   {@link SATURATED_UTILIZATION} of the last {@link SATURATION_WINDOW_MS} (measured at
 *   turn starts with `performance.eventLoopUtilization`). A lone long turn in a process
 *   with time to spare (a major GC, a slow registry read) sheds nothing.
 */
import { performance } from 'node:perf_hooks';

/** The window over which saturation is judged: long enough to span GC pauses, short enough to react within a tenth of a second. */
export const SATURATION_WINDOW_MS = 100;
/** Event-loop utilization from which a process counts as saturated (no idle time left to absorb a backlog). */
export const SATURATED_UTILIZATION = 0.9;

export interface SheddingLimits {
  /**
   * Decisions in progress per process. 64 × the ~44 µs of a cold native decision (and
   * ~150 µs of a cold wasm one) queue at most ~3–10 ms, inside the 10 ms p99 target of
   * bench/overload.ts, and far above what a healthy process has in flight (0–2 in the
   * benches at full load). Exceeding it: `OVERLOADED`.
   */
  maxInFlight: number;
  /** Milliseconds into one busy event-loop turn after which requests are refused (0 = off); see above. */
  shedAfterMs: number;
}

export const DEFAULT_SHEDDING: Readonly<SheddingLimits> = Object.freeze({ maxInFlight: 64, shedAfterMs: 5 });

export class Shedder {
  readonly #limits: SheddingLimits;
  #inFlight = 0;
  #turnStart: number | undefined;
  #saturated = false;
  #utilization = performance.eventLoopUtilization();
  #utilizationAt = performance.now();
  readonly #endTurn = () => {
    this.#turnStart = undefined;
  };

  constructor(limits: SheddingLimits) {
    this.#limits = limits;
  }

  /** Decisions started and not yet answered. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Why a new decision must be refused now, or undefined to admit it. */
  refusal(): string | undefined {
    const { shedAfterMs, maxInFlight } = this.#limits;
    if (shedAfterMs > 0) {
      const now = performance.now();
      if (this.#turnStart === undefined) {
        this.#turnStart = now;
        setImmediate(this.#endTurn);
        if (now - this.#utilizationAt >= SATURATION_WINDOW_MS) {
          const current = performance.eventLoopUtilization();
          this.#saturated = performance.eventLoopUtilization(current, this.#utilization).utilization >= SATURATED_UTILIZATION;
          this.#utilization = current;
          this.#utilizationAt = now;
        }
      } else if (this.#saturated && now - this.#turnStart > shedAfterMs) {
        return `the process is saturated: this request waited over shedAfterMs=${shedAfterMs} ms to be read`;
      }
    }
    if (this.#inFlight >= maxInFlight) return `maxInFlight=${maxInFlight} decisions are in progress in this process`;
    return undefined;
  }

  /** Track a decision that went asynchronous until it settles (it never rejects). */
  track<T>(work: Promise<T>): Promise<T> {
    this.#inFlight++;
    return work.then((value) => {
      this.#inFlight--;
      return value;
    });
  }
}
