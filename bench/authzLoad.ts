/**
 * Load generators for bench/overload.ts and bench/authzPlacement.ts: closed-loop HTTP
 * (undici, keep-alive) and open-loop HTTP at a fixed rate, each answer's body handed to a
 * check (those benches count shed answers by reason). bench/authz.ts runs on the
 * product's load core instead (bench/coreLoad.ts); these two are still to move there.
 */
import { Pool } from 'undici';

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

function summarise(latencies: number[], seconds: number): LoadResult {
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { requests: latencies.length, seconds, rps: latencies.length / seconds, p50Ms: at(0.5), p99Ms: at(0.99) };
}

export interface HttpLoad {
  origin: string;
  path: string;
  /** Body of request `i` (the cold runs send a different certificate each time). */
  body: (i: number) => string;
  connections: number;
  /** Stop after this many requests or this long, whichever comes first. */
  maxRequests: number;
  durationMs: number;
  /** Throws if a response is not the expected outcome. */
  check: (status: number, body: string) => void;
}

/** `connections` keep-alive connections, each sending its next request on the previous answer. */
export async function closedLoopHttp(o: HttpLoad): Promise<LoadResult> {
  const pool = new Pool(o.origin, { connections: o.connections, pipelining: 1 });
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  const end = start + o.durationMs;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= o.maxRequests || performance.now() > end) return;
      const t = performance.now();
      const res = await pool.request({ path: o.path, method: 'POST', body: o.body(i), headers: { 'content-type': 'application/json' } });
      const text = await res.body.text();
      latencies.push(performance.now() - t);
      o.check(res.statusCode, text);
    }
  };
  await Promise.all(Array.from({ length: o.connections }, worker));
  const seconds = (performance.now() - start) / 1000;
  await pool.close();
  return summarise(latencies, seconds);
}

/**
 * Send at `rate` requests/s for `durationMs`, whatever the answers do (open loop).
 *
 * The generator shares the machine's cores with the server, so it must not spin: it
 * wakes on a 1 ms timer and sends every request that has come due since. Latency counts
 * from the moment a request is handed to undici (so a slow server shows, queueing in
 * undici included); how late the generator itself sent against the schedule is reported
 * separately as `lateP99Ms`.
 */
export async function openLoopHttp(o: Omit<HttpLoad, 'maxRequests'> & { rate: number }): Promise<LoadResult & { lateP99Ms: number }> {
  const pool = new Pool(o.origin, { connections: o.connections, pipelining: 1 });
  const total = Math.floor((o.rate * o.durationMs) / 1000);
  // Preallocated and no per-request promise kept: the generator's own garbage collection
  // would otherwise show up as server latency.
  const latencies = new Float64Array(total);
  const lateness = new Float64Array(total);
  let done = 0;
  let failure: unknown;
  let finished!: () => void;
  const allDone = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const start = performance.now();
  const send = (i: number) => {
    const sentAt = performance.now();
    lateness[i] = sentAt - (start + (i / o.rate) * 1000);
    pool
      .request({ path: o.path, method: 'POST', body: o.body(i), headers: { 'content-type': 'application/json' } })
      .then(async (res) => {
        const text = await res.body.text();
        latencies[i] = performance.now() - sentAt;
        o.check(res.statusCode, text);
      })
      .catch((err: unknown) => (failure ??= err))
      .finally(() => {
        if (++done === total) finished();
      });
  };
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * o.rate) + 1);
    for (; sent < due; sent++) send(sent);
    await new Promise((r) => setTimeout(r, 1));
  }
  await allDone;
  if (failure !== undefined) throw failure;
  const seconds = (performance.now() - start) / 1000;
  await pool.close();
  const late = summarise(Array.from(lateness), seconds);
  return { ...summarise(Array.from(latencies), seconds), lateP99Ms: late.p99Ms };
}
