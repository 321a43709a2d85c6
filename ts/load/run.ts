/**
 * The load core: which device goes next (the workload) and when it is sent (the load
 * model), measuring each answer's latency.
 *
 * Load models:
 * - closed loop (`connections` senders, each sending its next request when the previous
 *   answer arrived): finds the throughput a deployment sustains;
 * - open loop (`rate` requests per second on a fixed schedule): latency is measured from
 *   each request's *intended* send time, so a server that stalls is charged for the
 *   requests that queued behind the stall (coordinated omission; wrk2 and k6's
 *   arrival-rate executors measure the same way: https://github.com/giltene/wrk2).
 *
 * Workloads: `steady` mixes warm devices (a set that reconnects over and over), cold ones
 * (each used once: never seen before by the authorizer) and devices that must be denied
 * (revoked); `storm` presents every device of the fleet once, as fast as the model allows
 * (a reconnect storm after a broker restart).
 */
import type { Device, Fleet } from './fleet.js';
import { RunStats } from './stats.js';
import type { Target } from './targets.js';

export type Profile = 'steady' | 'storm';

export interface Mix {
  warm: number;
  cold: number;
  revoked: number;
}

export interface LoadOptions {
  target: Target;
  fleet: Fleet;
  profile: Profile;
  mix: Mix;
  /** Size of the warm set (the first allowed devices). */
  warmDevices: number;
  /** Closed loop: concurrent senders. Open loop: the cap on requests in flight. */
  connections: number;
  /** Requests per second (open loop); undefined = closed loop. */
  rate?: number;
  /** Stop after this long (steady) — a storm stops when every device was sent. */
  durationMs: number;
  /** Stop after this many requests (optional). */
  maxRequests?: number;
  /** This generator's slice of the fleet: devices i with i % of === index (for --workers). */
  slice?: { index: number; of: number };
  /** Called about once a second with the statistics so far. */
  onTick?: (stats: RunStats, elapsedMs: number) => void;
}

/** Picks the next device for a workload; undefined when a storm has sent everything. */
export class DevicePicker {
  readonly #warm: Device[];
  readonly #cold: Device[];
  readonly #revoked: Device[];
  readonly #all: Device[];
  readonly #profile: Profile;
  readonly #mix: Mix;
  #warmNext = 0;
  #coldNext = 0;
  #revokedNext = 0;
  #allNext = 0;

  constructor(devices: readonly Device[], profile: Profile, mix: Mix, warmDevices: number) {
    const allowed = devices.filter((d) => d.expect === 'allow');
    this.#revoked = devices.filter((d) => d.expect === 'deny');
    this.#warm = allowed.slice(0, Math.max(1, warmDevices));
    this.#cold = allowed.slice(this.#warm.length);
    this.#all = [...devices];
    this.#profile = profile;
    const total = mix.warm + mix.cold + mix.revoked;
    if (!(total > 0)) throw new Error('the workload mix must have a positive share');
    this.#mix = { warm: mix.warm / total, cold: mix.cold / total, revoked: mix.revoked / total };
    if (profile === 'steady') {
      if (this.#mix.warm > 0 && allowed.length === 0) throw new Error('warm share > 0 but the fleet has no device expected to be allowed');
      if (this.#mix.cold > 0 && this.#cold.length === 0)
        throw new Error(
          `cold share > 0 but every allowed device is in the warm set (--warm-devices ${warmDevices}); use a larger fleet or a smaller warm set`,
        );
      if (this.#mix.revoked > 0 && this.#revoked.length === 0)
        throw new Error('revoked share > 0 but the fleet has no device expected to be denied');
    }
  }

  next(): Device | undefined {
    if (this.#profile === 'storm') return this.#all[this.#allNext++];
    const r = Math.random();
    if (r < this.#mix.warm) return this.#warm[this.#warmNext++ % this.#warm.length];
    if (r < this.#mix.warm + this.#mix.cold) return this.#cold[this.#coldNext++ % this.#cold.length];
    return this.#revoked[this.#revokedNext++ % this.#revoked.length];
  }
}

/** Run one generator; resolves when the run is over and every request has answered. */
export async function runLoad(o: LoadOptions): Promise<{ stats: RunStats; seconds: number }> {
  const devices = o.slice === undefined ? o.fleet.devices : o.fleet.devices.filter((_, i) => i % o.slice!.of === o.slice!.index);
  const picker = new DevicePicker(devices, o.profile, o.mix, o.warmDevices);
  const stats = new RunStats();
  const start = performance.now();
  const deadline = start + o.durationMs;
  let sent = 0;
  const more = () => (o.profile === 'storm' || performance.now() < deadline) && (o.maxRequests === undefined || sent < o.maxRequests);
  const ticker = setInterval(() => o.onTick?.(stats, performance.now() - start), 1000);
  ticker.unref();

  const one = async (device: Device, intendedAt: number) => {
    if (o.rate !== undefined) stats.recordLate((performance.now() - intendedAt) * 1000);
    const answer = await o.target.send(device, o.fleet.sni);
    const now = performance.now();
    stats.record((now - intendedAt) * 1000, answer, device.expect, Math.floor((intendedAt - start) / 1000), device.certificateId);
  };

  try {
    if (o.rate === undefined) {
      // Closed loop: each sender waits for its answer before the next request.
      const sender = async () => {
        while (more()) {
          const device = picker.next();
          if (device === undefined) return;
          sent++;
          await one(device, performance.now());
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, o.connections) }, sender));
    } else {
      // Open loop on a fixed schedule: request i is due at start + i / rate.
      const interval = 1000 / o.rate;
      const inFlight = new Set<Promise<void>>();
      let index = 0;
      for (;;) {
        const now = performance.now();
        while (start + index * interval <= now && more()) {
          if (inFlight.size >= o.connections) break;
          const device = picker.next();
          if (device === undefined) break;
          const due = start + index * interval;
          index++;
          sent++;
          const p = one(device, due).finally(() => inFlight.delete(p));
          inFlight.add(p);
        }
        if (!more() || (o.profile === 'storm' && sent >= devices.length)) break;
        const nextDue = start + index * interval;
        const wait = inFlight.size >= o.connections ? Promise.race(inFlight) : sleep(Math.max(0, nextDue - performance.now()));
        await wait;
      }
      await Promise.all(inFlight);
    }
  } finally {
    clearInterval(ticker);
  }
  return { stats, seconds: (performance.now() - start) / 1000 };
}

/**
 * Timers fire on a ~1 ms grid, so the open loop releases what is due once a millisecond:
 * a request released late is charged its lateness (latency counts from the intended
 * time). Not spinning on setImmediate leaves the shared cores to the server under test.
 */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(1, ms)));
}
