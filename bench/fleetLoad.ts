/**
 * The whole load of a fleet view with `--view-standings all` (ts/view/fullLoad.ts) on
 * the fleet-size bench registry (bench/fleetSize.ts builds it): how long one load of every
 * standing takes, how many pages it reads, and what it leaves on the heap and in RSS —
 * the start-up cost of a `certgate serve` process on that registry, without the rest of
 * the server. Read-only: one REPEATABLE READ READ ONLY transaction.
 *
 * Run: node --expose-gc node_modules/.bin/vite-node bench/fleetLoad.ts
 *   BENCH_FLEET_CACHE  the fleet-size cache (default .cache/fleet-size), its cluster in pg/
 *   BENCH_FLEET_SIZES  the registry sizes to load (default 1000000)
 *   BENCH_FLEET_LOADS  loads per size (default 1; the heap retained is only right for the first)
 *   BENCH_FLEET_PAGE_ROWS  rows per page (default LOAD_PAGE_ROWS)
 */
import { loadavg } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { projectRoot } from '../ts/paths.js';
import { openPostgresRegistry } from '../ts/registry/postgres/registry.js';
import { LOAD_PAGE_ROWS, loadAll } from '../ts/view/fullLoad.js';
import { startPgServer } from '../test/registry/pgServer.js';
import { rssMiB } from './procCpu.js';

const CACHE = process.env['BENCH_FLEET_CACHE'] ?? path.join(projectRoot, '.cache', 'fleet-size');
const SIZES = (process.env['BENCH_FLEET_SIZES'] ?? '1000000').split(',').map(Number);
const LOADS = Number(process.env['BENCH_FLEET_LOADS'] ?? 1);
const PAGE_ROWS = Number(process.env['BENCH_FLEET_PAGE_ROWS'] ?? LOAD_PAGE_ROWS);
const gc = (globalThis as { gc?: () => void }).gc;
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

const server = await startPgServer({ dir: path.join(CACHE, 'pg') });
try {
  console.log(
    `load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  for (const size of SIZES) {
    const url = server.url(`fleet_${size}`);
    const registry = openPostgresRegistry({ connectionString: url });
    const settings = await registry.settings();
    await registry.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (let i = 0; i < LOADS; i++) {
        gc?.();
        const heapBefore = process.memoryUsage().heapUsed;
        const rssBefore = rssMiB(process.pid);
        const cpu = process.cpuUsage();
        const started = performance.now();
        let loaded: Awaited<ReturnType<typeof loadAll>> | undefined = await loadAll(client, settings, { pageRows: PAGE_ROWS });
        const seconds = (performance.now() - started) / 1000;
        const used = process.cpuUsage(cpu);
        const rssAfterLoad = rssMiB(process.pid);
        gc?.();
        const heap = process.memoryUsage().heapUsed - heapBefore;
        const held = loaded.standings.size;
        console.log(
          `fleet_${size} load ${i + 1}: ${held} standings in ${seconds.toFixed(2)} s (${loaded.pages} pages), ` +
            `CPU ${((used.user + used.system) / 1e6).toFixed(2)} s; heap retained ${mib(heap)} MiB (${(heap / held).toFixed(0)} B per standing)` +
            `${gc === undefined ? ' (no --expose-gc: not collected)' : ''}; RSS ${rssBefore.toFixed(0)} → ${rssAfterLoad.toFixed(0)} MiB after the load, ` +
            `${rssMiB(process.pid).toFixed(0)} MiB after a collection (V8 heap total ${mib(process.memoryUsage().heapTotal)} MiB)`,
        );
        loaded = undefined;
      }
    } finally {
      await client.end();
    }
  }
  console.log(
    `load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await server.stop();
}
