/**
 * The piscina worker: runs one engine call per task, synchronously, and returns plain
 * data (a refusal is `{ ok: false, code, message }`, which survives structured cloning
 * where an Error's class and fields would not). The engine is loaded once per thread.
 * No I/O happens here.
 */
import { loadEngine } from './load.js';
import type { PoolTask } from './pool.js';

export default function runTask(task: PoolTask): unknown {
  const engine = loadEngine(task.engine);
  const fn = engine[task.method] as (...args: unknown[]) => unknown;
  return fn(...task.args);
}
