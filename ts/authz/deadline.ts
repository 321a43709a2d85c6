/**
 * The per-request deadline (`deadlineMs`) for every decision, on one shared timer.
 *
 * Arming and clearing a `setTimeout` per decision, plus the extra promise and
 * `Promise.race` around it, showed up at ~3 % of a warm decision's CPU in profiles
 * (bench/authzDecision.ts). Every decision of an authorizer has the same `deadlineMs`,
 * so deadlines expire in the order decisions start: a Set (insertion-ordered) of pending
 * decisions and one timer armed for the oldest one's deadline is enough. When the timer
 * fires it settles every pending decision past its deadline with the timeout answer and
 * re-arms for the next oldest. Precision is the same as a timer per decision: a timer
 * never fires early by libuv's clock, and the check uses `performance.now()`.
 */

interface Pending<T> {
  readonly at: number;
  readonly expired: () => T;
  settle: ((value: T) => void) | null;
}

export class Deadlines<T> {
  readonly #ms: number;
  readonly #pending = new Set<Pending<T>>();
  #timer: NodeJS.Timeout | undefined;

  /** Every call to {@link race} gets `ms` from its start. */
  constructor(ms: number) {
    this.#ms = ms;
  }

  /**
   * `work`'s value, or `expired()` if `work` takes longer than the deadline from
   * `startedAt` (performance.now()); `expired` is asked only then, so it can say what was
   * known when time ran out.
   */
  race(work: Promise<T>, startedAt: number, expired: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const pending: Pending<T> = { at: startedAt + this.#ms, expired, settle: resolve };
      this.#pending.add(pending);
      if (this.#timer === undefined) this.#timer = setTimeout(() => this.#fire(), this.#ms);
      work.then(
        (value) => {
          if (pending.settle === null) return;
          pending.settle = null;
          this.#pending.delete(pending);
          resolve(value);
        },
        (err: unknown) => {
          if (pending.settle === null) return;
          pending.settle = null;
          this.#pending.delete(pending);
          reject(err);
        },
      );
    });
  }

  #fire(): void {
    this.#timer = undefined;
    const now = performance.now();
    for (const pending of this.#pending) {
      if (pending.at > now) {
        // Whole milliseconds, at least 1: a 0 ms timer would spin until the deadline.
        this.#timer = setTimeout(() => this.#fire(), Math.max(1, Math.ceil(pending.at - now)));
        return;
      }
      this.#pending.delete(pending);
      const settle = pending.settle;
      pending.settle = null;
      settle?.(pending.expired());
    }
  }
}
