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
 *   with time to spare (a major GC, a slow registry read) sheds nothing. This is a lower
 *   bound of the wait: what a request waited before its turn (the previous turn, the
 *   host's run queue, the proxy's queue) it cannot see. An upper bound from the previous
 *   turn's start was tried (branch overload) and shed ordinary requests after any busy
 *   spell, while not improving the answered p99 (bench/README.md).
 * - **The proxy's arrival stamp** (`requestStartHeader`, off by default): the wait
 *   measured — CoDel's idea of shedding on the time a request waited, not on how many
 *   wait (https://queue.acm.org/detail.cfm?id=2209336) — with every queue counted. A
 *   request whose stamp is older than `shedAfterMs` is shed, saturated or not.
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
  /** Milliseconds into one busy event-loop turn after which requests are refused, and the most a stamped request may have waited (0 = off); see above. */
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
  #turnStart: number | undefined;
  #saturated = false;
  #utilization = performance.eventLoopUtilization();
  #utilizationAt = performance.now();
  readonly #endTurn = () => {
    this.#turnStart = undefined;
  };

  constructor(limits: SheddingLimits) {
    this.#limits = limits;
    this.#waitedTooLong = `the process is saturated: this request waited over shedAfterMs=${limits.shedAfterMs} ms to be read`;
    this.#tooManyInFlight = `maxInFlight=${limits.maxInFlight} decisions are in progress in this process`;
    this.#stampTooOld = `the request's ${limits.requestStartHeader ?? 'request-start'} stamp is older than shedAfterMs=${limits.shedAfterMs} ms`;
  }

  /** Decisions started and not yet answered. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Why a new decision must be refused now, or undefined to admit it. `startedAtMs`: the
   * proxy's arrival stamp (epoch ms), when configured and sent. The same string object
   * for the same cause, so callers can answer with one pre-encoded refusal.
   */
  refusal(startedAtMs?: number): string | undefined {
    const { shedAfterMs, maxInFlight } = this.#limits;
    if (shedAfterMs > 0) {
      if (startedAtMs !== undefined && Date.now() - startedAtMs > shedAfterMs) return this.#stampTooOld;
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
        return this.#waitedTooLong;
      }
    }
    if (this.#inFlight >= maxInFlight) return this.#tooManyInFlight;
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
