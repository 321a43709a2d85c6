/**
 * A fixed-size piscina pool that runs engine calls off the event loop.
 *
 * Piscina's own guidance applies (README "Backpressure", "Performance Notes"): a fixed
 * thread count, a bounded queue, an explicit idle timeout, and only synchronous CPU work
 * in the workers. A hand-off costs ~80-100 µs of latency and ~30-38 µs of main-thread
 * CPU on this machine kind (a piscina `run()` round trip measured on the 2-core Debian 12
 * machine), more than a native
 * RSA verify, so callers send only heavy work here; the inline path (`loadEngine`) serves
 * the rest. Which one serves a request is decided by the authorizer, not here.
 *
 * Overload and faults are data, not exceptions: a full queue, a deadline, or a crashed
 * worker comes back as `{ ok: false, code }` with a pool-specific code, so every caller
 * fails closed with a distinct reason. Piscina replaces a crashed worker by itself.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { poolWorkerPath } from '../paths.js';
import type { EngineBinding, EngineName, Outcome } from './types.js';

/** Engine methods that can run in the pool. */
export type PoolMethod = Exclude<keyof EngineBinding, 'errorCodes'>;

/** What crosses to a worker: plain data only. */
export interface PoolTask {
  engine: EngineName;
  method: PoolMethod;
  args: unknown[];
}

/** Refusal codes produced by the pool itself, never by the engine. */
export type PoolErrorCode = 'POOL_QUEUE_FULL' | 'POOL_TIMEOUT' | 'POOL_WORKER_FAILED' | 'POOL_CLOSED';

export interface PoolOptions {
  engine: EngineName;
  /** Worker threads; default: one per core (the machine kind has 2). */
  threads?: number;
  /**
   * Tasks waiting beyond the running ones. Default 256: at ~1 ms of work per queued task
   * on 2 threads this bounds queueing delay near 128 ms, under Envoy's 200 ms default
   * ext_authz timeout (https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/ext_authz_filter), so a queued check is
   * still useful.
   */
  maxQueue?: number;
  /** Idle threads stay alive this long; default 30 s so bursts don't pay thread start-up. */
  idleTimeoutMs?: number;
}

export const POOL_DEFAULTS = { maxQueue: 256, idleTimeoutMs: 30_000 } as const;

export interface PoolStats {
  threads: number;
  queueSize: number;
  maxQueue: number;
  utilization: number;
  completed: number;
}

/** The engine behind a worker pool. Every method resolves; none rejects on overload. */
export class EnginePool {
  readonly engine: EngineName;
  readonly #piscina: Piscina<PoolTask, unknown>;
  #closed = false;

  constructor(options: PoolOptions) {
    this.engine = options.engine;
    const threads = options.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`pool threads must be a positive integer, got ${threads}`);
    const maxQueue = options.maxQueue ?? POOL_DEFAULTS.maxQueue;
    if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new RangeError(`pool maxQueue must be a non-negative integer, got ${maxQueue}`);
    this.#piscina = new Piscina<PoolTask, unknown>({
      filename: poolWorkerPath,
      minThreads: threads,
      maxThreads: threads,
      maxQueue,
      idleTimeout: options.idleTimeoutMs ?? POOL_DEFAULTS.idleTimeoutMs,
    });
  }

  /**
   * Run `method(...args)` in a worker. `deadlineMs` bounds queueing plus running; a task
   * past it is aborted (a running one takes its worker down, and piscina starts another).
   */
  async call<T>(method: PoolMethod, args: unknown[], deadlineMs?: number): Promise<Outcome<T>> {
    if (this.#closed) return refusal('POOL_CLOSED', 'the engine pool is closed');
    const p = this.#piscina;
    if (p.queueSize >= p.options.maxQueue && p.idleThreads === 0) {
      return refusal('POOL_QUEUE_FULL', `engine pool queue is full (${p.options.maxQueue} waiting)`);
    }
    const signal = deadlineMs === undefined ? null : AbortSignal.timeout(deadlineMs);
    try {
      return (await p.run({ engine: this.engine, method, args }, { signal })) as Outcome<T>;
    } catch (err) {
      return classify(err, deadlineMs);
    }
  }

  stats(): PoolStats {
    const p = this.#piscina;
    return {
      threads: p.threads.length,
      queueSize: p.queueSize,
      maxQueue: p.options.maxQueue,
      utilization: p.utilization,
      completed: p.completed,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#piscina.close({ force: true });
  }
}

function refusal(code: PoolErrorCode, message: string): { ok: false; code: PoolErrorCode; message: string } {
  return { ok: false, code, message };
}

function classify(err: unknown, deadlineMs: number | undefined): { ok: false; code: PoolErrorCode; message: string } {
  const message = err instanceof Error ? err.message : String(err);
  // piscina's errors carry no codes: an abort is an `AbortError`; a full queue is a plain
  // Error with this fixed text (piscina dist/errors.js). The queue is also checked before
  // submitting, so the text match is only a race fallback.
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) {
    return refusal('POOL_TIMEOUT', `engine call exceeded its ${deadlineMs ?? '?'} ms deadline`);
  }
  if (message === 'Task queue is at limit') return refusal('POOL_QUEUE_FULL', 'engine pool queue is full');
  return refusal('POOL_WORKER_FAILED', `engine worker failed: ${message}`);
}
