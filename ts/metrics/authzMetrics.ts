/**
 * Prometheus metrics of the authorizer (prom-client): decisions by front door, result
 * and reason; latency of the whole decision and of each stage; verification-cache hits
 * and misses; pool utilization and queue depth; Node process metrics.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { DecisionEvent, DecisionObserver } from '../authz/decision.js';
import { reasonKind, type Reason } from '../authz/reasons.js';
import type { Stage } from '../authz/stages.js';
import { FastCounter, FastHistogram, type CounterSeries, type HistogramSeries } from './fastMetrics.js';
import type { VerifyCache } from '../authz/verifyCache.js';
import type { EnginePool } from '../engine/pool.js';

/**
 * Bucket bounds in seconds: a warm decision takes ~5–20 µs, a cold native one 50–150 µs,
 * a pool hop adds ~100 µs, wasm cold work ~1 ms; Envoy gives up at 200 ms.
 */
const BUCKETS = [10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3];

export interface AuthzMetricsOptions {
  cache: VerifyCache;
  pool?: EnginePool;
  /** Collect Node process metrics (CPU, memory, event-loop lag, GC). Default true. */
  processMetrics?: boolean;
}

export class AuthzMetrics implements DecisionObserver {
  readonly registry = new Registry();
  readonly #decisions: FastCounter<'door' | 'result' | 'reason'>;
  readonly #duration: FastHistogram<'door' | 'result'>;
  readonly #stage: FastHistogram<'stage'>;
  // Bound series per label combination (fastMetrics.ts: no label hashing per decision).
  readonly #decisionSeries = new Map<string, CounterSeries>();
  readonly #durationSeries = new Map<string, HistogramSeries>();
  readonly #stageSeries = new Map<Stage, HistogramSeries>();
  /** Metrics computed at scrape time from the cache and the pool. */
  readonly #derived: (Counter | Gauge)[] = [];

  constructor(options: AuthzMetricsOptions) {
    const registers = [this.registry];
    this.#decisions = new FastCounter(
      'certgate_decisions_total',
      'Authorization decisions by front door, result (allow, deny, unavailable) and reason code.',
      ['door', 'result', 'reason'],
      registers,
    );
    this.#duration = new FastHistogram(
      'certgate_decision_duration_seconds',
      'Whole-decision latency inside certgate, by front door and result.',
      ['door', 'result'],
      BUCKETS,
      registers,
    );
    this.#stage = new FastHistogram(
      'certgate_decision_stage_duration_seconds',
      'Time per decision stage: parse, registry, verify_inline, verify_pool (includes queue wait).',
      ['stage'],
      BUCKETS,
      registers,
    );
    const cache = options.cache;
    this.#derived.push(new Counter({
      name: 'certgate_verify_cache_hits_total',
      help: 'Verification-cache lookups that found the presented chain.',
      registers,
      collect() {
        this.reset();
        this.inc(cache.stats().hits);
      },
    }));
    this.#derived.push(new Counter({
      name: 'certgate_verify_cache_misses_total',
      help: 'Verification-cache lookups that did not find the presented chain (or found it expired).',
      registers,
      collect() {
        this.reset();
        this.inc(cache.stats().misses);
      },
    }));
    this.#derived.push(new Gauge({
      name: 'certgate_verify_cache_entries',
      help: 'Chains currently in the verification cache.',
      registers,
      collect() {
        this.set(cache.stats().size);
      },
    }));
    const pool = options.pool;
    if (pool !== undefined) {
      this.#derived.push(new Gauge({
        name: 'certgate_pool_utilization_ratio',
        help: 'Share of pool thread time spent running tasks (piscina utilization); averaged across processes.',
        registers,
        aggregator: 'average',
        collect() {
          this.set(pool.stats().utilization);
        },
      }));
      this.#derived.push(new Gauge({
        name: 'certgate_pool_queue_depth',
        help: 'Verification tasks waiting for a pool thread.',
        registers,
        collect() {
          this.set(pool.stats().queueSize);
        },
      }));
      this.#derived.push(new Gauge({
        name: 'certgate_pool_queue_limit',
        help: 'The pool maxQueue: tasks beyond it are shed with QUEUE_FULL.',
        registers,
        collect() {
          this.set(pool.stats().maxQueue);
        },
      }));
    }
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  decided(event: DecisionEvent): void {
    const { door } = event;
    const { reason } = event.decision;
    this.#count(door, reason);
    const key = `${door}\u0000${reason}`;
    let duration = this.#durationSeries.get(key);
    if (duration === undefined) {
      duration = this.#duration.series({ door, result: reasonKind(reason) });
      this.#durationSeries.set(key, duration);
    }
    duration.observe(event.seconds);
    for (const [stage, seconds] of event.stages) {
      let series = this.#stageSeries.get(stage);
      if (series === undefined) {
        series = this.#stage.series({ stage });
        this.#stageSeries.set(stage, series);
      }
      series.observe(seconds);
    }
  }

  /** A door refused the request before a decision (bad syntax, a limit). */
  requestError(door: string, reason: Reason): void {
    this.#count(door, reason);
  }

  #count(door: string, reason: Reason): void {
    const key = `${door}\u0000${reason}`;
    let series = this.#decisionSeries.get(key);
    if (series === undefined) {
      series = this.#decisions.series({ door, result: reasonKind(reason), reason });
      this.#decisionSeries.set(key, series);
    }
    series.inc();
  }

  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
