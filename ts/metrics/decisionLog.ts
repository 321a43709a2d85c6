/**
 * The decision log: one pino line per decision (sampled), never certificate bodies.
 * Sampling keeps logging off the hot path's budget under load; denials that mean the
 * service is unwell (`unavailable` reasons) are always logged — except `OVERLOADED`,
 * which comes by the thousand exactly when the process has no time to spare: sheds are
 * summarised in at most one line per {@link SHED_LOG_INTERVAL_MS} with their count (and
 * counted one by one in the metrics).
 */
import type { Logger } from 'pino';
import type { DecisionEvent, DecisionObserver } from '../authz/decision.js';
import { reasonKind } from '../authz/reasons.js';

/** At most one summary line of shed requests per this many milliseconds. */
export const SHED_LOG_INTERVAL_MS = 1000;

export class DecisionLog implements DecisionObserver {
  readonly #logger: Logger;
  readonly #rate: number;
  readonly #random: () => number;
  #shed = 0;
  #lastShedLog = -Infinity;

  /** `sampleRate` in [0, 1]: the share of allow/deny decisions logged. */
  constructor(logger: Logger, sampleRate: number, random: () => number = Math.random) {
    if (!(sampleRate >= 0 && sampleRate <= 1)) throw new RangeError(`decision log sample rate must be in [0, 1], got ${sampleRate}`);
    this.#logger = logger;
    this.#rate = sampleRate;
    this.#random = random;
  }

  decided(event: DecisionEvent): void {
    const d = event.decision;
    if (d.reason === 'OVERLOADED') {
      this.#shed++;
      const now = Date.now();
      if (now - this.#lastShedLog < SHED_LOG_INTERVAL_MS) return;
      this.#logger.warn({ door: event.door, reason: d.reason, shed: this.#shed, detail: d.message }, 'requests shed');
      this.#shed = 0;
      this.#lastShedLog = now;
      return;
    }
    const unavailable = reasonKind(d.reason) === 'unavailable';
    if (!unavailable && (this.#rate === 0 || this.#random() >= this.#rate)) return;
    const line = {
      door: event.door,
      allow: d.allow,
      reason: d.reason,
      sni: event.sni,
      certificateId: d.certificateId,
      accountId: d.accountId,
      things: d.things,
      cacheHit: event.cacheHit,
      durationUs: Math.round(event.seconds * 1e6),
      ...(d.message === undefined ? {} : { detail: d.message }),
    };
    if (unavailable) this.#logger.warn(line, 'decision');
    else this.#logger.info(line, 'decision');
  }
}

/** Tell several observers about each decision. */
export function fanOut(...observers: DecisionObserver[]): DecisionObserver {
  return {
    decided(event) {
      for (const o of observers) o.decided(event);
    },
  };
}
