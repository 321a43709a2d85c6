/**
 * One dashboard frame from two consecutive expositions: counters and histogram buckets
 * turned into per-second deltas, quantiles from the bucket deltas, gauges as read.
 * Pure (no clock, no I/O): the sampler passes both expositions and the seconds between.
 *
 * Quantiles follow Prometheus's histogram_quantile
 * (https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile):
 * linear interpolation inside the bucket holding the rank, the lowest bucket starting at
 * 0, a rank in the +Inf bucket answered with the highest finite bound. So a number on
 * the page is the number Prometheus would compute over the same second.
 *
 * A counter that went down (a worker replaced, its counts gone from the sum) is read as
 * a reset, as Prometheus's rate() does: the delta is the new value.
 */
import type { Sample } from './promText.js';

export const RESULTS = ['allow', 'deny', 'unavailable'] as const;

export interface Frame {
  /** Epoch seconds of the newer exposition. */
  t: number;
  /** Seconds between the two expositions. */
  seconds: number;
  /** Decisions per second by result. */
  decisions: Record<(typeof RESULTS)[number], number>;
  /** Decision latency quantiles in seconds over the interval; null without decisions. */
  latency: { p50: number | null; p90: number | null; p99: number | null };
  /** p99 per stage in seconds; a stage without observations in the interval is null. */
  stageP99: Record<string, number | null>;
  /**
   * Decisions per second of each server process, from `certgate_worker_decisions_total`
   * (`worker` = the process's pid); empty when the exposition has no such series.
   */
  perProcess: Record<string, number>;
  /** Refusals per second (deny and unavailable) by reason code. */
  refusals: Record<string, number>;
  /** Verification-cache hits / lookups in the interval; null without lookups. */
  cacheHitRatio: number | null;
  /** Pool queue depth and its limit (summed over processes); null without a pool. */
  pool: { queue: number; limit: number } | null;
  /** Server processes asked and missing (cluster aggregate only), and CPU cores in use. */
  processes: { asked: number | null; missing: number | null; cpuCores: number | null };
}

type Index = Map<string, Sample[]>;

export function index(samples: Sample[]): Index {
  const byName: Index = new Map();
  for (const s of samples) {
    const list = byName.get(s.name);
    if (list === undefined) byName.set(s.name, [s]);
    else list.push(s);
  }
  return byName;
}

function sum(ix: Index, name: string, match: (labels: Record<string, string>) => boolean = () => true): number | null {
  const list = ix.get(name);
  if (list === undefined) return null;
  let total = 0;
  for (const s of list) if (match(s.labels)) total += s.value;
  return total;
}

function delta(now: number | null, before: number | null): number {
  if (now === null) return 0;
  if (before === null || now < before) return now;
  return now - before;
}

/** Cumulative bucket counts by upper bound, summed over every other label. */
function buckets(ix: Index, name: string, match: (labels: Record<string, string>) => boolean = () => true): Map<number, number> {
  const out = new Map<number, number>();
  for (const s of ix.get(`${name}_bucket`) ?? []) {
    if (!match(s.labels) || s.labels.le === undefined) continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    out.set(le, (out.get(le) ?? 0) + s.value);
  }
  return out;
}

/** Bucket deltas; a total that went down is a reset (the newer counts stand alone). */
function bucketDelta(now: Map<number, number>, before: Map<number, number>): [number, number][] {
  const reset = (now.get(Infinity) ?? 0) < (before.get(Infinity) ?? 0);
  const out = [...now.entries()].map(([le, count]): [number, number] => [le, reset ? count : count - (before.get(le) ?? 0)]);
  out.sort((a, b) => a[0] - b[0]);
  return out;
}

/** histogram_quantile over cumulative (le, count) pairs sorted by le. */
export function quantile(q: number, cumulative: [number, number][]): number | null {
  const total = cumulative.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, count] of cumulative) {
    if (count >= rank) {
      if (le === Infinity) return lowerBound;
      const inBucket = count - lowerCount;
      return inBucket <= 0 ? le : lowerBound + (le - lowerBound) * ((rank - lowerCount) / inBucket);
    }
    lowerBound = le;
    lowerCount = count;
  }
  return lowerBound;
}

export function frame(now: Index, before: Index, seconds: number, t: number): Frame {
  const rate = (name: string, match?: (l: Record<string, string>) => boolean) =>
    delta(sum(now, name, match), sum(before, name, match)) / seconds;

  const decisions = Object.fromEntries(
    RESULTS.map((r) => [r, rate('certgate_decisions_total', (l) => l.result === r)]),
  ) as Frame['decisions'];

  const duration = bucketDelta(buckets(now, 'certgate_decision_duration_seconds'), buckets(before, 'certgate_decision_duration_seconds'));
  const latency = { p50: quantile(0.5, duration), p90: quantile(0.9, duration), p99: quantile(0.99, duration) };

  const stageP99: Record<string, number | null> = {};
  const stages = new Set((now.get('certgate_decision_stage_duration_seconds_bucket') ?? []).map((s) => s.labels.stage ?? ''));
  for (const stage of stages) {
    const match = (l: Record<string, string>) => l.stage === stage;
    stageP99[stage] = quantile(
      0.99,
      bucketDelta(
        buckets(now, 'certgate_decision_stage_duration_seconds', match),
        buckets(before, 'certgate_decision_stage_duration_seconds', match),
      ),
    );
  }

  const refusals: Record<string, number> = {};
  for (const s of now.get('certgate_decisions_total') ?? []) {
    const reason = s.labels.reason;
    if (s.labels.result === 'allow' || reason === undefined || reason in refusals) continue;
    refusals[reason] = rate('certgate_decisions_total', (l) => l.reason === reason && l.result !== 'allow');
  }

  // certgate_worker_decisions_total{worker}: one series per server process (its pid), not summed.
  const perProcess: Record<string, number> = {};
  for (const s of now.get('certgate_worker_decisions_total') ?? []) {
    const worker = s.labels.worker;
    if (worker === undefined || worker in perProcess) continue;
    perProcess[worker] = rate('certgate_worker_decisions_total', (l) => l.worker === worker);
  }

  const hits = delta(sum(now, 'certgate_verify_cache_hits_total'), sum(before, 'certgate_verify_cache_hits_total'));
  const misses = delta(sum(now, 'certgate_verify_cache_misses_total'), sum(before, 'certgate_verify_cache_misses_total'));
  const queue = sum(now, 'certgate_pool_queue_depth');
  const limit = sum(now, 'certgate_pool_queue_limit');
  const cpu = sum(now, 'process_cpu_seconds_total');

  return {
    t,
    seconds,
    decisions,
    latency,
    stageP99,
    perProcess,
    refusals,
    cacheHitRatio: hits + misses === 0 ? null : hits / (hits + misses),
    pool: queue === null || limit === null ? null : { queue, limit },
    processes: {
      asked: sum(now, 'certgate_metrics_processes'),
      missing: sum(now, 'certgate_metrics_processes_missing'),
      cpuCores: cpu === null ? null : delta(cpu, sum(before, 'process_cpu_seconds_total')) / seconds,
    },
  };
}
