/**
 * `/metrics` across cluster workers, assembled by the primary.
 *
 * The primary asks every listening worker for its metrics (as prom-client JSON) and waits
 * at most {@link METRICS_WAIT_MS}: a worker that is stopped, dying or too busy to answer
 * does not hold the scrape, which is answered with what arrived and says how many
 * processes did not answer. The aggregate is reused for {@link METRICS_CACHE_MS}, and
 * scrapes arriving while one aggregation runs share it, so any number of scrapers costs
 * the workers one collection per interval. prom-client's own `clusterMetrics()` has
 * neither: it waits 5 s and then fails the whole scrape, and every scrape collects anew.
 */
import type { Worker } from 'node:cluster';
import { Counter, Gauge, type Registry } from 'prom-client';
import { PROCESS_START_SECONDS, render, type Exposition, type MetricsFormat, type ProcessMetrics } from '../metrics/exposition.js';

export type { Exposition, MetricsFormat };

/**
 * How long the primary waits for a worker's metrics. A healthy worker answers in well
 * under 10 ms (its registry is in memory); a second is far beyond that and far below a
 * Prometheus scrape timeout (10 s default).
 */
export const METRICS_WAIT_MS = 1000;
/**
 * How long one aggregate is reused. Prometheus scrapes every 15–60 s; a second keeps the
 * numbers fresh for people while 16 scrapers in the same second cost one aggregation.
 */
export const METRICS_CACHE_MS = 1000;

/** One worker's metrics as `Registry.getMetricsAsJSON()` returns them. */
export type WorkerMetrics = ProcessMetrics;

/** The primary → worker request and the worker's reply. */
export interface CollectRequest {
  type: 'certgate:collect';
  id: number;
}
export interface CollectReply {
  type: 'certgate:collected';
  id: number;
  metrics: WorkerMetrics;
}

/** One collection round's answers. */
interface Collected {
  replies: WorkerMetrics[];
  asked: number;
  missing: number;
  aggregations: number;
}

interface Round {
  waiting: Set<number>;
  replies: WorkerMetrics[];
  finish: () => void;
}

export interface ClusterMetricsOptions {
  /** The workers to ask (the ones that announced they listen). */
  workers: () => Worker[];
  /** The primary's own metrics (webhook delivery), added to the workers'. */
  local?: Registry;
  waitMs?: number;
  cacheMs?: number;
}

export class ClusterMetrics {
  readonly #o: Required<Omit<ClusterMetricsOptions, 'local'>> & Pick<ClusterMetricsOptions, 'local'>;
  readonly #rounds = new Map<number, Round>();
  #next = 0;
  #aggregations = 0;
  #cached: { at: number; round: Promise<Collected>; formats: Map<MetricsFormat, Promise<Exposition>> } | undefined;

  constructor(options: ClusterMetricsOptions) {
    this.#o = { waitMs: METRICS_WAIT_MS, cacheMs: METRICS_CACHE_MS, ...options };
  }

  /**
   * The aggregate in `format`: cached, shared with a running aggregation, or collected
   * now (one collection serves both formats). Never rejects.
   */
  exposition(format: MetricsFormat = 'prometheus'): Promise<Exposition> {
    const now = performance.now();
    if (this.#cached === undefined || now - this.#cached.at >= this.#o.cacheMs) {
      this.#cached = { at: now, round: this.#collect(), formats: new Map() };
    }
    const cached = this.#cached;
    let exposition = cached.formats.get(format);
    if (exposition === undefined) {
      exposition = cached.round.then((c) => this.#render(c, format));
      cached.formats.set(format, exposition);
    }
    return exposition;
  }

  /** A worker's reply to a collect request. */
  reply(workerId: number, message: CollectReply): void {
    const round = this.#rounds.get(message.id);
    if (round === undefined || !round.waiting.delete(workerId)) return;
    round.replies.push(message.metrics);
    if (round.waiting.size === 0) round.finish();
  }

  /** A worker exited: no round waits for it any longer. */
  forget(workerId: number): void {
    for (const round of this.#rounds.values()) {
      if (round.waiting.delete(workerId) && round.waiting.size === 0) round.finish();
    }
  }

  async #collect(): Promise<Collected> {
    this.#aggregations++;
    const id = this.#next++;
    const workers = this.#o.workers().filter((w) => w.isConnected());
    const round: Round = { waiting: new Set(workers.map((w) => w.id)), replies: [], finish: () => undefined };
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.#o.waitMs);
      round.finish = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#rounds.set(id, round);
    for (const w of workers) w.send({ type: 'certgate:collect', id } satisfies CollectRequest);
    if (workers.length === 0) round.finish();
    await done;
    this.#rounds.delete(id);
    const local = this.#o.local === undefined ? [] : [await this.#o.local.getMetricsAsJSON()];
    return { replies: [...round.replies, ...local], asked: workers.length, missing: round.waiting.size, aggregations: this.#aggregations };
  }

  #render(c: Collected, format: MetricsFormat): Promise<Exposition> {
    return render(c.replies, format, PROCESS_START_SECONDS, (registers) => {
      new Gauge({ name: 'certgate_metrics_processes', help: 'Server processes asked for metrics in this scrape.', registers }).set(c.asked);
      new Gauge({
        name: 'certgate_metrics_processes_missing',
        help: `Server processes that did not send their metrics within ${this.#o.waitMs} ms; their numbers are absent from this scrape.`,
        registers,
      }).set(c.missing);
      new Counter({
        name: 'certgate_metrics_aggregations_total',
        help: `Aggregations run by the primary since start (scrapes within ${this.#o.cacheMs} ms share one).`,
        registers,
      }).inc(c.aggregations);
    });
  }
}
