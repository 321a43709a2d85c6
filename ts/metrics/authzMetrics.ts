/**
 * Prometheus metrics of the authorizer (prom-client): decisions by front door, result
 * and reason; requests a door could not read (apart from decisions); latency of the whole
 * decision and of each stage; verification-cache hits and misses; pool utilization and
 * queue depth; build information; per-process series (`worker` label); Node process
 * metrics.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { VERSION } from '../version.js';
import { PROCESS_START_SECONDS, render, type Exposition, type MetricsFormat } from './exposition.js';
import type { DecisionEvent, DecisionObserver } from '../authz/decision.js';
import { reasonKind, type Reason } from '../authz/reasons.js';
import type { Stage } from '../authz/stages.js';
import { FastCounter, FastHistogram, type CounterSeries, type HistogramSeries } from '../fastpath/index.js';
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
  /** The verification engine (`native` or `wasm`), for `certgate_build_info`. */
  engine?: string;
}

/**
 * This process in the `worker` label of the per-process series: its pid, as in every log
 * line (`"pid"`), so a hot process in a graph leads to its log lines.
 */
export const WORKER_LABEL = String(process.pid);

export class AuthzMetrics implements DecisionObserver {
  readonly registry = new Registry();
  readonly #decisions: FastCounter<'door' | 'result' | 'reason'>;
  readonly #duration: FastHistogram<'door' | 'result'>;
  readonly #stage: FastHistogram<'stage'>;
  readonly #requestErrors: Counter<'door' | 'reason'>;
  // Bound series per label combination (ts/fastpath/fastMetrics.ts: no label hashing per decision).
  // door → reason → both series: two lookups by the strings at hand, no key built per decision.
  readonly #series = new Map<string, Map<Reason, { count: CounterSeries; duration: HistogramSeries }>>();
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
    this.#requestErrors = new Counter({
      name: 'certgate_request_errors_total',
      help: 'Requests a front door could not read (bad syntax, a size limit), by door and reason; answered as a denial, not counted in certgate_decisions_total.',
      labelNames: ['door', 'reason'],
      registers,
    });
    new Gauge({
      name: 'certgate_build_info',
      help: 'Always 1: the certgate version, Node.js version and verification engine of the service.',
      labelNames: ['version', 'node', 'engine'],
      registers,
      aggregator: 'max',
    }).set({ version: VERSION, node: process.version, engine: options.engine ?? 'native' }, 1);
    const decisions = this.#decisions;
    this.#derived.push(
      new Counter({
        name: 'certgate_worker_decisions_total',
        help: 'Decisions made by each server process (worker = its pid): a process taking more than its share is hot.',
        labelNames: ['worker'],
        registers,
        collect() {
          this.reset();
          this.inc({ worker: WORKER_LABEL }, decisions.total());
        },
      }),
    );
    this.#derived.push(
      new Counter({
        name: 'certgate_worker_cpu_seconds_total',
        help: 'User and system CPU time of each server process (worker = its pid), seconds.',
        labelNames: ['worker'],
        registers,
        collect() {
          const { user, system } = process.cpuUsage();
          this.reset();
          this.inc({ worker: WORKER_LABEL }, (user + system) / 1e6);
        },
      }),
    );
    new Gauge({
      name: 'certgate_worker_start_time_seconds',
      help: 'Start time of each server process (worker = its pid) since unix epoch, seconds: a recent one was replaced.',
      labelNames: ['worker'],
      registers,
    }).set({ worker: WORKER_LABEL }, PROCESS_START_SECONDS);
    const cache = options.cache;
    this.#derived.push(
      new Counter({
        name: 'certgate_verify_cache_hits_total',
        help: 'Verification-cache lookups that found the presented chain.',
        registers,
        collect() {
          this.reset();
          this.inc(cache.stats().hits);
        },
      }),
    );
    this.#derived.push(
      new Counter({
        name: 'certgate_verify_cache_misses_total',
        help: 'Verification-cache lookups that did not find the presented chain (or found it expired).',
        registers,
        collect() {
          this.reset();
          this.inc(cache.stats().misses);
        },
      }),
    );
    this.#derived.push(
      new Gauge({
        name: 'certgate_verify_cache_entries',
        help: 'Chains currently in the verification cache.',
        registers,
        collect() {
          this.set(cache.stats().size);
        },
      }),
    );
    const pool = options.pool;
    if (pool !== undefined) {
      this.#derived.push(
        new Gauge({
          name: 'certgate_pool_utilization_ratio',
          help: 'Share of pool thread time spent running tasks (piscina utilization); averaged across processes.',
          registers,
          aggregator: 'average',
          collect() {
            this.set(pool.stats().utilization);
          },
        }),
      );
      this.#derived.push(
        new Gauge({
          name: 'certgate_pool_queue_depth',
          help: 'Verification tasks waiting for a pool thread.',
          registers,
          collect() {
            this.set(pool.stats().queueSize);
          },
        }),
      );
      this.#derived.push(
        new Gauge({
          name: 'certgate_pool_queue_limit',
          help: 'The pool maxQueue: tasks beyond it are shed with QUEUE_FULL.',
          registers,
          collect() {
            this.set(pool.stats().maxQueue);
          },
        }),
      );
    }
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  decided(event: DecisionEvent): void {
    const series = this.#bound(event.door, event.decision.reason);
    series.count.inc();
    series.duration.observe(event.seconds);
    for (const [stage, seconds] of event.stages) {
      let stageSeries = this.#stageSeries.get(stage);
      if (stageSeries === undefined) {
        stageSeries = this.#stage.series({ stage });
        this.#stageSeries.set(stage, stageSeries);
      }
      stageSeries.observe(seconds);
    }
  }

  /**
   * A door refused the request before a decision (bad syntax, a limit): counted in
   * `certgate_request_errors_total`, not as a decision. Not on the hot path.
   */
  requestError(door: string, reason: Reason): void {
    this.#requestErrors.inc({ door, reason });
  }

  #bound(door: string, reason: Reason): { count: CounterSeries; duration: HistogramSeries } {
    let byReason = this.#series.get(door);
    if (byReason === undefined) {
      byReason = new Map();
      this.#series.set(door, byReason);
    }
    let series = byReason.get(reason);
    if (series === undefined) {
      const result = reasonKind(reason);
      series = { count: this.#decisions.series({ door, result, reason }), duration: this.#duration.series({ door, result }) };
      byReason.set(reason, series);
    }
    return series;
  }

  /** This process's metrics alone (`--processes 1`), in the format asked for. */
  async exposition(format: MetricsFormat = 'prometheus'): Promise<Exposition> {
    return render([await this.registry.getMetricsAsJSON()], format, PROCESS_START_SECONDS);
  }
}
