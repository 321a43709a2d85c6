/**
 * Load generators for the authorizer benchmarks: closed-loop HTTP (undici, keep-alive),
 * open-loop HTTP at a fixed rate (latency measured from the scheduled send time, so a
 * stalled server cannot hide its queueing), and closed-loop gRPC (grpc-js).
 */
import * as grpc from '@grpc/grpc-js';
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

/** Send at `rate` requests/s for `durationMs`; latency counts from each scheduled time. */
export async function openLoopHttp(o: Omit<HttpLoad, 'maxRequests'> & { rate: number }): Promise<LoadResult> {
  const pool = new Pool(o.origin, { connections: o.connections, pipelining: 1 });
  const latencies: number[] = [];
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  const total = Math.floor((o.rate * o.durationMs) / 1000);
  let sent = 0;
  while (sent < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - start) / 1000) * o.rate) + 1);
    for (; sent < due; sent++) {
      const scheduled = start + (sent / o.rate) * 1000;
      const i = sent;
      inflight.push(
        (async () => {
          const res = await pool.request({ path: o.path, method: 'POST', body: o.body(i), headers: { 'content-type': 'application/json' } });
          const text = await res.body.text();
          latencies.push(performance.now() - scheduled);
          o.check(res.statusCode, text);
        })(),
      );
    }
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(inflight);
  const seconds = (performance.now() - start) / 1000;
  await pool.close();
  return summarise(latencies, seconds);
}

export interface GrpcLoad {
  address: string;
  service: grpc.ServiceClientConstructor;
  request: unknown;
  /** Channels (separate HTTP/2 connections) and concurrent calls per channel. */
  channels: number;
  streamsPerChannel: number;
  durationMs: number;
  check: (response: { status: { code: number } }) => void;
}

type Checker = grpc.Client & { Check(req: unknown, cb: (err: grpc.ServiceError | null, res: { status: { code: number } }) => void): void };

export async function closedLoopGrpc(o: GrpcLoad): Promise<LoadResult> {
  const clients = Array.from(
    { length: o.channels },
    // A local subchannel pool per client gives each its own connection.
    () => new o.service(o.address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }) as unknown as Checker,
  );
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + o.durationMs;
  const loop = async (client: Checker) => {
    while (performance.now() < end) {
      const t = performance.now();
      const res = await new Promise<{ status: { code: number } }>((resolve, reject) =>
        client.Check(o.request, (err, r) => (err ? reject(err) : resolve(r))),
      );
      latencies.push(performance.now() - t);
      o.check(res);
    }
  };
  await Promise.all(clients.flatMap((c) => Array.from({ length: o.streamsPerChannel }, () => loop(c))));
  const seconds = (performance.now() - start) / 1000;
  for (const c of clients) c.close();
  return summarise(latencies, seconds);
}
