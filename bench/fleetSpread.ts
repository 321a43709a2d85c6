/**
 * In-process cost of a warm decision when the devices span few accounts or many
 * (issue 11, bench/README.md "Fleet size": the "spread" rows): `Authorizer.decide` wired
 * as `certgate serve` wires it (bench/serveAuthorizer.ts: native engine, metrics and a
 * sampled-off decision log, the registry of bench/fleetRegistry.ts), the same number of
 * warm devices drawn from the first `BENCH_SPREAD_NARROW` accounts (default 10, the 10,000
 * registry's) or evenly from every account of the registry (100 at 100,000, 1,000 at
 * 1,000,000).
 *
 * The configuration caches expire by wall time (`--config-cache-ms`), so their cost per
 * decision depends on how many decisions a process makes per second. The decisions here
 * run back to back on a simulated clock advancing at `BENCH_SPREAD_RATE` decisions per
 * second per process (default 5,000, what each of `certgate serve --processes 2`'s
 * workers made in the fleet-size runs), for `BENCH_SPREAD_SECONDS` simulated seconds;
 * CPU is this process's (user + system) per decision. `BENCH_PROFILE=dir` writes a V8 CPU
 * profile of each timed loop (bench/profileSteps.ts reads it).
 *
 * Run: `npx vite-node bench/fleetSpread.ts <registry.db> <certs/devices.ndjson>` (a
 * registry and certificate cache of bench/fleetSize.ts, e.g. `.cache/fleet-size/`).
 * `postgres://` URLs open the PostgreSQL registry and decide from its fleet view, as
 * `certgate serve` does.
 */
import { loadavg } from 'node:os';
import { openRegistry } from '../ts/registry/open.js';
import { PostgresRegistry } from '../ts/registry/postgres/registry.js';
import type { FleetView } from '../ts/view/index.js';
import { pickDevices, sniOf } from './fleetRegistry.js';
import { profiled } from './cpuProfile.js';
import { serveAuthorizer, sourceTree } from './serveAuthorizer.js';
import { median } from './median.js';

const [DB = '', DEVICES_FILE = ''] = process.argv.slice(2);
const WARM = Number(process.env.BENCH_SPREAD_WARM ?? 500);
const NARROW = Number(process.env.BENCH_SPREAD_NARROW ?? 10);
const RATE = Number(process.env.BENCH_SPREAD_RATE ?? 5000);
const SECONDS = Number(process.env.BENCH_SPREAD_SECONDS ?? 20);
const ROUNDS = Number(process.env.BENCH_SPREAD_ROUNDS ?? 3);
const CONFIG_CACHE_MS =
  process.env.BENCH_SPREAD_CONFIG_CACHE_MS === undefined ? undefined : Number(process.env.BENCH_SPREAD_CONFIG_CACHE_MS);
const PROFILE_DIR = process.env.BENCH_PROFILE;

interface Picked {
  sni: string;
  chain: string[];
}

/** `WARM` devices, evenly from the first `accounts` accounts of the cache, in a fixed shuffle. */
async function devices(accounts: number): Promise<Picked[]> {
  const perAccount = Math.ceil(WARM / accounts);
  const picked = await pickDevices(DEVICES_FILE, accounts, perAccount);
  return picked.slice(0, WARM).map((d) => ({ sni: sniOf(d.account), chain: [d.certificatePem] }));
}

async function main(): Promise<void> {
  const registry = openRegistry({ path: DB, fastPath: true, watchWalIndex: true });
  const accounts = (await registry.listAccounts()).length;
  let view: FleetView | undefined;
  if (registry instanceof PostgresRegistry)
    view = await registry.openFleetView({ maxStalenessMs: 5000, heartbeatMs: 1000, cacheSize: 100_000 });
  const sets = { narrow: await devices(NARROW), wide: await devices(accounts) };
  process.stdout.write(
    `${DB}: ${accounts} accounts; ${WARM} warm devices from ${NARROW} accounts (narrow) or all ${accounts} (wide); ` +
      `${RATE} decisions per simulated second, ${SECONDS} s; load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}\n`,
  );
  const results: Record<string, number[]> = { narrow: [], wide: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of ['narrow', 'wide'] as const) {
      const set = sets[name];
      let simulatedMs = Date.now();
      const { authorizer } = await serveAuthorizer(sourceTree, {
        registry,
        ...(view === undefined ? {} : { reads: view }),
        engine: 'native',
        // As bench/fleetSize.ts: this measures cost; a miss read on a loaded machine may wait long.
        deadlineMs: 10_000,
        clock: () => simulatedMs,
        ...(CONFIG_CACHE_MS === undefined ? {} : { configCacheMs: CONFIG_CACHE_MS }),
        processMetrics: false,
      });
      const step = 1000 / RATE;
      const decide = async (i: number) => {
        // Let timers run now and then (a fleet view's heartbeats keep its lease), as a server's event loop does.
        if (i % 256 === 0) await new Promise((resolve) => setImmediate(resolve));
        const d = set[i % set.length] as Picked;
        simulatedMs += step;
        const decided = authorizer.decide(d.sni, d.chain, 'json');
        const decision = decided instanceof Promise ? await decided : decided;
        if (!decision.allow) throw new Error(`expected an allow, got ${decision.reason}: ${decision.message ?? ''}`);
      };
      // Seen once (cold), then warm for a simulated second before timing.
      for (let i = 0; i < set.length + RATE; i++) await decide(i);
      const n = RATE * SECONDS;
      const us = await profiled(
        PROFILE_DIR,
        `${name}-${round}`,
        async () => {
          const t = process.cpuUsage();
          for (let i = 0; i < n; i++) await decide(i);
          const used = process.cpuUsage(t);
          return (used.user + used.system) / n;
          // 100 µs sampling: a warm decision is a few µs, a run a few seconds.
        },
        100,
      );
      results[name]?.push(us);
      process.stdout.write(`round ${round} ${name.padEnd(6)} ${us.toFixed(2)} µs per warm decision\n`);
    }
  }
  const narrow = median(results.narrow ?? []);
  const wide = median(results.wide ?? []);
  process.stdout.write(
    `median: narrow ${narrow.toFixed(2)} µs, wide ${wide.toFixed(2)} µs, wide / narrow ${(wide / narrow).toFixed(2)}×; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}\n`,
  );
  await view?.close();
  await registry.close();
}

await main();
