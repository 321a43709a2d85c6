/**
 * Inline versus pool versus micro-batched pool for cold verifications (issue 15), in one
 * process, on real fleet devices (bench/fleetTraffic.ts's cache: P-256 leaves under a
 * P-256 CA): the native engine's `verifyChain` of N never-seen leaves
 *
 *   inline        on the main thread, one after another (what `certgate serve` does)
 *   pool          one piscina task per verification, 32 in flight (the product's pool path)
 *   batch k       k verifications per task (a micro-batch: one hand-off per k), 32 in flight
 *
 * with 1 and 2 pool threads. Reported per verification: wall time, CPU of the whole
 * process (all threads, process.cpuUsage) and of the main thread (its event-loop
 * utilization × wall): the hand-off's price is CPU the cores could have spent verifying.
 * Run (after bench/fleetTraffic.ts made its fleet and `npm run build:ts`):
 * `npx vite-node bench/poolBatch.ts` (BENCH_FLEET, BENCH_CACHE, BENCH_POOL_N: verifications per line, default 8000).
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { Piscina } from 'piscina';
import { projectRoot } from '../ts/paths.js';
import { pemToDers } from '../ts/authz/chain.js';
import { loadEngine } from '../ts/engine/load.js';
import { readFleet } from '../ts/load/fleet.js';
import { loadAverage } from './procCpu.js';

const FLEET = Number(process.env.BENCH_FLEET ?? 100_000);
const CACHE = process.env.BENCH_CACHE ?? path.join(projectRoot, 'bench', '.cache');
const N = Number(process.env.BENCH_POOL_N ?? 8000);
const IN_FLIGHT = 32;

const dir = path.join(CACHE, `fleet-${FLEET}`);
const db = new Database(path.join(dir, 'registry.db'), { readonly: true });
const caPem = (db.prepare('SELECT certificate_pem FROM ca_certificates LIMIT 1').get() as { certificate_pem: string }).certificate_pem;
db.close();
const der = (pem: string): Uint8Array => {
  const d = pemToDers(pem);
  if (typeof d === 'string' || d[0] === undefined) throw new Error(d as string);
  return d[0];
};
const ca = der(caPem);
const devices = readFleet(path.join(dir, 'fleet')).devices;
const at = Math.floor(Date.now() / 1000);
let next = 0;
/** N leaves never verified before in this process. */
const fresh = (): Uint8Array[] => devices.slice(next, (next += N)).map((d) => der(d.certificatePem));

interface Line {
  wallUs: number;
  cpuUs: number;
  mainUs: number;
}

async function measure(run: (leaves: Uint8Array[]) => Promise<number> | number): Promise<Line> {
  const leaves = fresh();
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const ok = await run(leaves);
  const wall = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  const busy = performance.eventLoopUtilization(elu).utilization;
  if (ok !== leaves.length) throw new Error(`${leaves.length - ok} of ${leaves.length} did not verify`);
  return {
    wallUs: (wall * 1000) / leaves.length,
    cpuUs: (used.user + used.system) / leaves.length,
    mainUs: (busy * wall * 1000) / leaves.length,
  };
}

const engine = loadEngine('native');
const inline = (leaves: Uint8Array[]) => leaves.filter((leaf) => engine.verifyChain(leaf, [], [ca], at, 'client').ok).length;

async function onPool(pool: Piscina, leaves: Uint8Array[], k: number): Promise<number> {
  const batches: Uint8Array[][] = [];
  for (let i = 0; i < leaves.length; i += k) batches.push(leaves.slice(i, i + k));
  let ok = 0;
  let i = 0;
  const lane = async () => {
    while (i < batches.length) {
      const verified = (await pool.run({ leaves: batches[i++], ca, at })) as number;
      ok += verified;
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, batches.length) }, lane));
  return ok;
}

const rows: string[] = [];
const row = (name: string, l: Line) =>
  rows.push(`| ${name} | ${l.wallUs.toFixed(1)} µs | ${l.cpuUs.toFixed(1)} µs | ${l.mainUs.toFixed(1)} µs |`);
await measure(inline); // JIT and page cache
row('inline', await measure(inline));
for (const threads of [1, 2]) {
  const pool = new Piscina({
    filename: path.join(projectRoot, 'bench', 'poolBatchWorker.mjs'),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
  });
  await onPool(pool, fresh(), 8); // thread start-up and JIT
  for (const k of [1, 8, 32]) {
    const name =
      k === 1
        ? `pool (${threads} thread${threads > 1 ? 's' : ''}), one task per verification`
        : `batch of ${k} (${threads} thread${threads > 1 ? 's' : ''})`;
    row(name, await measure((leaves) => onPool(pool, leaves, k)));
  }
  await pool.destroy();
}
process.stdout.write(
  `${N} cold P-256 verifications per line, ${IN_FLIGHT} tasks in flight; load average ${loadAverage()}\n\n` +
    '| placement | wall per verification | CPU per verification (all threads) | main-thread CPU per verification |\n| --- | --- | --- | --- |\n' +
    `${rows.join('\n')}\n`,
);
