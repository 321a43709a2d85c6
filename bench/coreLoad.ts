/**
 * bench/authz.ts's load, run by the product's load core (ts/load/run.ts, the one
 * `certgate load` uses): closed loop HTTP and gRPC, open loop HTTP at a fixed rate with
 * latency from each request's intended send time. This file only adapts: the bench's
 * prepared request bodies become an in-memory fleet (one device per body) and the run's
 * HdrHistogram becomes the figures the bench prints. Any answer other than an allow fails
 * the run, so a fast wrong answer cannot win.
 */
import type { Device, Fleet } from '../ts/load/fleet.js';
import { runLoad } from '../ts/load/run.js';
import type { RunStats } from '../ts/load/stats.js';
import { grpcTarget, httpTarget, type Target } from '../ts/load/targets.js';
import type { LoadResult } from './authzLoad.js';

export type { LoadResult } from './authzLoad.js';

/** A request that takes longer than this is an error (the bench's runs are seconds long). */
const TIMEOUT_MS = 10_000;

export interface HttpLoad {
  origin: string;
  path: string;
  /** The request bodies, prepared before the run so building them is not measured. */
  bodies: readonly string[];
  /** `cycle`: round the bodies for the whole run (warm); `once`: each body once, in order (cold). */
  use: 'cycle' | 'once';
  connections: number;
  /** Stop after this many requests or this long (cycle only), whichever comes first. */
  maxRequests?: number;
  durationMs: number;
}

/** One device per item; the adapter's target looks each device's request up. */
function fleetOf<T>(items: readonly T[]): { fleet: Fleet; itemOf: Map<Device, T> } {
  const itemOf = new Map<Device, T>();
  const devices = items.map((item, i) => {
    const device: Device = { certificateId: `bench-${i}`, certificatePem: '', expect: 'allow' };
    itemOf.set(device, item);
    return device;
  });
  return { fleet: { sni: '', accountId: '', devices }, itemOf };
}

function result(stats: RunStats, seconds: number): LoadResult {
  if (stats.outcomes.allow !== stats.requests) {
    const reasons = [...stats.reasons].map(([r, n]) => `${r} ×${n}`).join(', ');
    throw new Error(`expected only allows, got ${JSON.stringify(stats.outcomes)} (${reasons})`);
  }
  const ms = (p: number) => stats.latency.getValueAtPercentile(p) / 1000;
  return { requests: stats.requests, seconds, rps: stats.requests / seconds, p50Ms: ms(50), p99Ms: ms(99) };
}

async function run(
  target: Target,
  fleet: Fleet,
  o: { use: 'cycle' | 'once'; connections: number; durationMs: number; maxRequests?: number; rate?: number },
): Promise<{ stats: RunStats; seconds: number }> {
  try {
    return await runLoad({
      target,
      fleet,
      profile: o.use === 'once' ? 'storm' : 'steady',
      mix: { warm: 1, cold: 0, revoked: 0 },
      warmDevices: fleet.devices.length,
      connections: o.connections,
      durationMs: o.durationMs,
      ...(o.maxRequests === undefined || o.maxRequests === Infinity ? {} : { maxRequests: o.maxRequests }),
      ...(o.rate === undefined ? {} : { rate: o.rate }),
    });
  } finally {
    await target.close();
  }
}

function bodyTarget(o: HttpLoad): { target: Target; fleet: Fleet } {
  const { fleet, itemOf } = fleetOf(o.bodies);
  const target = httpTarget(o.origin, 'bench', o.connections, (device) => ({
    path: o.path,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: itemOf.get(device) ?? '',
  }));
  return { target, fleet };
}

/** `connections` keep-alive connections, each sending its next request on the previous answer. */
export async function closedLoopHttp(o: HttpLoad): Promise<LoadResult> {
  const { target, fleet } = bodyTarget(o);
  const { stats, seconds } = await run(target, fleet, o);
  return result(stats, seconds);
}

/**
 * `rate` requests/s for `durationMs` on a fixed schedule, at most `connections` in flight.
 * Latency counts from each request's intended send time (a stalled server is charged for
 * what queued behind it); how late the generator itself sent is `lateP99Ms`.
 */
export async function openLoopHttp(
  o: Omit<HttpLoad, 'use' | 'maxRequests'> & { rate: number },
): Promise<LoadResult & { lateP99Ms: number }> {
  const { target, fleet } = bodyTarget({ ...o, use: 'cycle' });
  const { stats, seconds } = await run(target, fleet, { ...o, use: 'cycle' });
  return { ...result(stats, seconds), lateP99Ms: stats.late.getValueAtPercentile(99) / 1000 };
}

export interface GrpcLoad {
  address: string;
  /** The CheckRequest every call sends. */
  request: unknown;
  /** Channels (separate HTTP/2 connections) and concurrent calls per channel. */
  channels: number;
  streamsPerChannel: number;
  durationMs: number;
}

export async function closedLoopGrpc(o: GrpcLoad): Promise<LoadResult> {
  const { fleet } = fleetOf([o.request]);
  const target = grpcTarget(o.address, 'http', o.channels, TIMEOUT_MS, () => o.request);
  const { stats, seconds } = await run(target, fleet, {
    use: 'cycle',
    connections: o.channels * o.streamsPerChannel,
    durationMs: o.durationMs,
  });
  return result(stats, seconds);
}
