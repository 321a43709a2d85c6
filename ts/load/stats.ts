/**
 * What a load run measured: latency in an HdrHistogram (hdr-histogram-js, microseconds,
 * 3 significant digits), answers by outcome and reason, wrong answers (the registry says
 * allow and the authorizer denied, or the other way round), and one histogram per second
 * for the timeline. Serialisable, so generator processes (`--workers`) can be merged.
 */
import * as hdr from 'hdr-histogram-js';
import type { Expectation } from './fleet.js';
import type { Answer, Outcome } from './targets.js';

/** 1 µs to 1 hour: any latency a run can see fits with 3 significant digits. */
function histogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
}

const OUTCOMES: readonly Outcome[] = ['allow', 'deny', 'unavailable', 'error'];

/** How many wrong answers are kept as examples for the report. */
const WRONG_EXAMPLES = 5;

export interface StatsJson {
  latency: string;
  outcomes: Record<Outcome, number>;
  reasons: Record<string, number>;
  wrong: number;
  wrongExamples: string[];
  seconds: { second: number; latency: string }[];
  /** The open loop's send lateness (absent from older generators). */
  late?: string;
}

export interface Summary {
  requests: number;
  seconds: number;
  ratePerSecond: number;
  outcomes: Record<Outcome, number>;
  reasons: Record<string, number>;
  /** Answers that contradict what the registry says. */
  wrong: number;
  wrongExamples: string[];
  /** (error + unavailable + wrong) / requests. */
  errorRate: number;
  latencyUs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
  timeline: { second: number; requests: number; p50Us: number; p99Us: number }[];
  /** The percentile curve: [percentile, latency µs] from p0 to p100, denser towards the tail. */
  percentiles: [number, number][];
}

/** Percentile curve steps per halving of the tail (HdrHistogram's percentile output uses 5). */
const CURVE_STEPS_PER_HALF = 4;

/**
 * Points of the percentile curve: p = 100 · (1 − 2^(−k/steps)) for k = 0, 1, … until the
 * tail holds less than one request, then p100 (the max). The tail gets as many points as
 * the body, so p99.9 is as visible as p50.
 */
export function percentileCurve(h: hdr.Histogram): [number, number][] {
  const count = h.totalCount;
  if (count === 0) return [];
  const points: [number, number][] = [];
  for (let k = 0; ; k++) {
    const tail = Math.pow(2, -k / CURVE_STEPS_PER_HALF);
    if (tail * count < 1) break;
    const p = 100 * (1 - tail);
    points.push([p, h.getValueAtPercentile(p)]);
  }
  points.push([100, h.maxValue]);
  return points;
}

export class RunStats {
  readonly latency = histogram();
  /**
   * Open loop only: how late each request left against its intended send time (µs). The
   * latency above already includes it; this shows how much of it is the generator's own.
   */
  readonly late = histogram();
  readonly outcomes: Record<Outcome, number> = { allow: 0, deny: 0, unavailable: 0, error: 0 };
  readonly reasons = new Map<string, number>();
  wrong = 0;
  readonly wrongExamples: string[] = [];
  readonly #seconds = new Map<number, hdr.Histogram>();

  /** One answer, `latencyUs` after its intended send time, `second` since the run began. */
  record(latencyUs: number, answer: Answer, expect: Expectation, second: number, certificateId: string): void {
    const us = Math.max(1, Math.round(latencyUs));
    this.latency.recordValue(us);
    let perSecond = this.#seconds.get(second);
    if (perSecond === undefined) {
      perSecond = histogram();
      this.#seconds.set(second, perSecond);
    }
    perSecond.recordValue(us);
    this.outcomes[answer.outcome]++;
    this.reasons.set(answer.reason, (this.reasons.get(answer.reason) ?? 0) + 1);
    if ((answer.outcome === 'allow' || answer.outcome === 'deny') && answer.outcome !== expect) {
      this.wrong++;
      if (this.wrongExamples.length < WRONG_EXAMPLES)
        this.wrongExamples.push(`${certificateId}: expected ${expect}, got ${answer.outcome} (${answer.reason})`);
    }
  }

  /** An open-loop request handed to the target `lateUs` after its intended send time. */
  recordLate(lateUs: number): void {
    this.late.recordValue(Math.max(1, Math.round(lateUs)));
  }

  get requests(): number {
    return OUTCOMES.reduce((n, o) => n + this.outcomes[o], 0);
  }

  toJSON(): StatsJson {
    return {
      latency: hdr.encodeIntoCompressedBase64(this.latency),
      late: hdr.encodeIntoCompressedBase64(this.late),
      outcomes: { ...this.outcomes },
      reasons: Object.fromEntries(this.reasons),
      wrong: this.wrong,
      wrongExamples: [...this.wrongExamples],
      seconds: [...this.#seconds].map(([second, h]) => ({ second, latency: hdr.encodeIntoCompressedBase64(h) })),
    };
  }

  /** Add another run's statistics (a generator process's) into this one. */
  add(other: StatsJson): void {
    this.latency.add(hdr.decodeFromCompressedBase64(other.latency));
    if (other.late !== undefined) this.late.add(hdr.decodeFromCompressedBase64(other.late));
    for (const o of OUTCOMES) this.outcomes[o] += other.outcomes[o];
    for (const [reason, n] of Object.entries(other.reasons)) this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + n);
    this.wrong += other.wrong;
    for (const e of other.wrongExamples) if (this.wrongExamples.length < WRONG_EXAMPLES) this.wrongExamples.push(e);
    for (const { second, latency } of other.seconds) {
      const h = hdr.decodeFromCompressedBase64(latency);
      const mine = this.#seconds.get(second);
      if (mine === undefined) this.#seconds.set(second, h);
      else mine.add(h);
    }
  }

  summary(seconds: number): Summary {
    const requests = this.requests;
    const at = (p: number) => this.latency.getValueAtPercentile(p);
    const reasons = [...this.reasons];
    reasons.sort((a, b) => b[1] - a[1]);
    const perSecond = [...this.#seconds];
    perSecond.sort((a, b) => a[0] - b[0]);
    return {
      requests,
      seconds,
      ratePerSecond: seconds > 0 ? requests / seconds : 0,
      outcomes: { ...this.outcomes },
      reasons: Object.fromEntries(reasons),
      wrong: this.wrong,
      wrongExamples: [...this.wrongExamples],
      errorRate: requests === 0 ? 0 : (this.outcomes.error + this.outcomes.unavailable + this.wrong) / requests,
      latencyUs: { p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: this.latency.maxValue, mean: Math.round(this.latency.mean) },
      timeline: perSecond.map(([second, h]) => ({
        second,
        requests: h.totalCount,
        p50Us: h.getValueAtPercentile(50),
        p99Us: h.getValueAtPercentile(99),
      })),
      percentiles: percentileCurve(this.latency),
    };
  }
}
