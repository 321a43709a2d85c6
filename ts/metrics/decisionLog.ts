/**
 * The decision log: one pino line per decision, never certificate bodies.
 *
 * Every refusal is logged: each `deny` (a revoked device, an unknown CA, an unreadable
 * request) and each `unavailable` (at `warn`: the service could not decide) — except
 * `OVERLOADED`, which comes by the thousand exactly when the process has no time to
 * spare: sheds are summarised in at most one line per {@link SHED_LOG_INTERVAL_MS} with
 * their count (and counted one by one in the metrics). Allows are sampled
 * (`--decision-log-sample`, default 0.05) to keep logging off the hot path's budget
 * under load: an allow that is not sampled costs one random number.
 *
 * Durations in every certgate log line are milliseconds (`durationMs`, fractional, µs
 * precision). `requestId` is the caller's `x-request-id` (Envoy sets one per request;
 * NGINX sends `$request_id` with the shipped example), so a line matches the proxy's
 * access log.
 */
import type { Logger } from 'pino';
import type { DecisionEvent, DecisionObserver } from '../authz/decision.js';
import { reasonKind, type Reason } from '../authz/reasons.js';

/**
 * Characters of a request id kept in a log line. Ids in use are ≤ 36 (a UUID, NGINX's
 * 32 hex digits); the header itself is only bounded by the header limits (KBs), and a
 * client must not make every line it causes that long.
 */
export const REQUEST_ID_MAX_CHARS = 128;

export interface DecisionLogOptions {
  /** Share of allows logged, in [0, 1]. Denies and unavailable decisions are always logged. */
  allowSample: number;
  random?: () => number;
}

/** At most one summary line of shed requests per this many milliseconds. */
export const SHED_LOG_INTERVAL_MS = 1000;

export class DecisionLog implements DecisionObserver {
  readonly #logger: Logger;
  readonly #rate: number;
  readonly #random: () => number;
  #shed = 0;
  #lastShedLog = -Infinity;

  constructor(logger: Logger, options: DecisionLogOptions) {
    const rate = options.allowSample;
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`decision log sample rate must be in [0, 1], got ${rate}`);
    this.#logger = logger;
    this.#rate = rate;
    this.#random = options.random ?? Math.random;
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
    if (d.allow && (this.#rate === 0 || this.#random() >= this.#rate)) return;
    const line = {
      door: event.door,
      requestId: requestIdField(event.requestId),
      allow: d.allow,
      reason: d.reason,
      sni: event.sni,
      certificateId: d.certificateId,
      accountId: d.accountId,
      things: d.things,
      cacheHit: event.cacheHit,
      durationMs: Math.round(event.seconds * 1e6) / 1000,
      ...(d.message === undefined ? {} : { detail: d.message }),
    };
    if (reasonKind(d.reason) === 'unavailable') this.#logger.warn(line, 'decision');
    else this.#logger.info(line, 'decision');
  }

  /** A door refused a request it could not read (a deny before any decision): always logged. */
  requestError(door: string, reason: Reason, message: string, requestId: string | undefined): void {
    this.#logger.info(
      { door, requestId: requestIdField(requestId), allow: false, reason, requestError: true, detail: message },
      'decision',
    );
  }
}

function requestIdField(id: string | undefined): string | null {
  if (id === undefined || id === '') return null;
  return id.length > REQUEST_ID_MAX_CHARS ? id.slice(0, REQUEST_ID_MAX_CHARS) : id;
}

/** Tell several observers about each decision. */
export function fanOut(...observers: DecisionObserver[]): DecisionObserver {
  return {
    decided(event) {
      for (const o of observers) o.decided(event);
    },
  };
}
