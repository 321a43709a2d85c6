/**
 * Load shedding: past capacity, refuse at once with `OVERLOADED` (an `unavailable`
 * reason: 503 / gRPC UNAVAILABLE, never an allow) instead of letting every request wait.
 * Without it, at 3× capacity valid requests queued to a p50 of 668 ms and clients timed
 * out (issue 14). Two bounds, per process:
 *
 * - **Decisions in flight** (`maxInFlight`): decisions that went past the synchronous
 *   cached path and have not been answered (they await the registry, the pool or the
 *   engine). Each waits behind the ones before it; beyond the bound a new one is refused.
 * - **Queueing delay** (`shedAfterMs`), CoDel's idea (shed on the time a request waited,
 *   not on how many wait: https://queue.acm.org/detail.cfm?id=2209336) applied to the
 *   one place a saturated Node process queues: socket buffers. Such a process never has
 *   many decisions in flight (each runs to completion inside the read callback that
 *   parsed it), yet requests wait in the kernel while the event loop works through a
 *   turn. Node cannot see when bytes arrived, but it can bound it: libuv's poll
 *   (level-triggered epoll) reads every socket that is readable when it returns, so a
 *   request read in turn k arrived after the poll of turn k−1 returned — or, if the loop
 *   blocked in the poll with nothing to read since turn k−1 ended, after that block
 *   began, and then it was read as soon as it came. So a request read at time t waited
 *   at most t − (start of turn k−1) when turns ran back to back, and at most t − (start
 *   of turn k) when the loop idled in between. Past `shedAfterMs` it is refused without
 *   doing the decision's work, so every request that *is* decided waited at most
 *   `shedAfterMs` in this process. (The previous bound — time into the current turn only
 *   — missed the wait during the previous turn: answered p99 99 ms at 3× capacity in
 *   bench/README.md; this one: see there.) Turn starts are the first admission check of
 *   a turn; a `setImmediate` (the check phase, right after the poll phase) ends the turn,
 *   and `performance.eventLoopUtilization()`'s idle time tells whether the loop blocked
 *   before the next one.
 *   Only while the process is saturated: its event loop was busy at least
 *   {@link SATURATED_UTILIZATION} of the last {@link SATURATION_WINDOW_MS} (measured at
 *   turn starts). A lone long turn in a process with time to spare (a major GC, a slow
 *   registry read, start-up) sheds nothing.
 */
import { performance } from 'node:perf_hooks';

/** The window over which saturation is judged: long enough to span GC pauses, short enough to react within a tenth of a second. */
export const SATURATION_WINDOW_MS = 100;
/** Event-loop utilization from which a process counts as saturated (no idle time left to absorb a backlog). */
export const SATURATED_UTILIZATION = 0.9;

/**
 * Idle time between two turns under which they count as back to back: a poll that finds
 * sockets readable returns at once but libuv still counts its few µs as idle
 * (uv_metrics_idle_time). Larger means the loop blocked waiting for work.
 */
export const IDLE_GAP_MS = 0.1;

export interface SheddingLimits {
  /**
   * Decisions in progress per process. 64 × the ~44 µs of a cold native decision (and
   * ~150 µs of a cold wasm one) queue at most ~3–10 ms, inside the 10 ms p99 target of
   * bench/overload.ts, and far above what a healthy process has in flight (0–2 in the
   * benches at full load). Exceeding it: `OVERLOADED`.
   */
  maxInFlight: number;
  /** Milliseconds a request may have waited to be read, while the process is saturated (0 = off); see above. */
  shedAfterMs: number;
  /**
   * A request header in which the proxy stamps when it received the request
   * (`X-Request-Start: t=<epoch time>`, see {@link requestStartMs}); undefined = not used.
   * With it a request's wait is measured, not bounded: every wait counts — kernel
   * queues, the run queue of a busy host, the proxy's own queue — and a request older
   * than `shedAfterMs` is shed whether or not the loop looks saturated. Off by default:
   * it trusts the proxy's clock (same host, or NTP-synchronised).
   */
  requestStartHeader?: string | undefined;
}

export const DEFAULT_SHEDDING: Readonly<SheddingLimits> = Object.freeze({ maxInFlight: 64, shedAfterMs: 5 });

export class Shedder {
  readonly #limits: SheddingLimits;
  readonly #waitedTooLong: string;
  readonly #tooManyInFlight: string;
  readonly #stampTooOld: string;
  #inFlight = 0;
  /** Start of the current turn (undefined between turns). */
  #turnStart: number | undefined;
  /** The earliest a request read in the current turn can have arrived. */
  #since = 0;
  /** Start of the last turn, and the loop's idle time when it ended (undefined before any). */
  #lastTurnStart = 0;
  #idleAtLastTurnEnd: number | undefined;
  #saturated = false;
  #utilization = performance.eventLoopUtilization();
  #utilizationAt = performance.now();
  readonly #endTurn = () => {
    this.#turnStart = undefined;
    this.#idleAtLastTurnEnd = performance.eventLoopUtilization().idle;
  };

  constructor(limits: SheddingLimits) {
    this.#limits = limits;
    this.#waitedTooLong = `the process is saturated: this request may have waited over shedAfterMs=${limits.shedAfterMs} ms to be read`;
    this.#tooManyInFlight = `maxInFlight=${limits.maxInFlight} decisions are in progress in this process`;
    this.#stampTooOld = `the request's ${limits.requestStartHeader ?? 'request-start'} stamp is older than shedAfterMs=${limits.shedAfterMs} ms`;
  }

  /** Decisions started and not yet answered. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Why a new decision must be refused now, or undefined to admit it. The same string
   * object for the same cause, so callers can answer with one pre-encoded refusal.
   */
  refusal(startedAtMs?: number): string | undefined {
    const { shedAfterMs, maxInFlight } = this.#limits;
    if (shedAfterMs > 0) {
      // The proxy's stamp (epoch ms), when configured and sent: the wait as measured.
      if (startedAtMs !== undefined && Date.now() - startedAtMs > shedAfterMs) return this.#stampTooOld;
      const now = performance.now();
      if (this.#turnStart === undefined) this.#beginTurn(now);
      if (this.#saturated && now - this.#since > shedAfterMs) return this.#waitedTooLong;
    }
    if (this.#inFlight >= maxInFlight) return this.#tooManyInFlight;
    return undefined;
  }

  #beginTurn(now: number): void {
    this.#turnStart = now;
    setImmediate(this.#endTurn);
    const current = performance.eventLoopUtilization();
    // Back to back with the last turn (the loop never blocked in between): a request read
    // now may have arrived just after that turn's poll returned.
    // (libuv counts a few µs of idle for a poll that returned at once; more than
    // IDLE_GAP_MS means it blocked, and then every request read now came during the block.)
    const backToBack = this.#idleAtLastTurnEnd !== undefined && current.idle - this.#idleAtLastTurnEnd <= IDLE_GAP_MS;
    this.#since = backToBack ? this.#lastTurnStart : now;
    this.#lastTurnStart = now;
    if (now - this.#utilizationAt >= SATURATION_WINDOW_MS) {
      this.#saturated = performance.eventLoopUtilization(current, this.#utilization).utilization >= SATURATED_UTILIZATION;
      this.#utilization = current;
      this.#utilizationAt = now;
    }
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

/**
 * The epoch time in milliseconds of a request-start stamp, or undefined when it is
 * missing or not a time. The header as NGINX, HAProxy and Heroku's router set it and APM
 * agents read it (https://docs.newrelic.com/docs/apm/applications-menu/features/request-queue-server-configuration-examples/):
 * an optional `t=` and a number of seconds (NGINX `${msec}`: `1733140000.123`),
 * milliseconds or microseconds since the epoch, told apart by magnitude. A stamp in the
 * future (clock skew) counts as now.
 */
export function requestStartMs(value: string | string[] | undefined, nowMs: number = Date.now()): number | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.startsWith('t=') ? value.slice(2) : value;
  if (!/^\d+(\.\d+)?$/.test(text)) return undefined;
  const n = Number(text);
  const ms = n < 1e11 ? n * 1000 : n < 1e14 ? n : n / 1000;
  return Math.min(ms, nowMs);
}
