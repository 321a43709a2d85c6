/**
 * How the cost of a decision grows with the fleet (issue 11, "Bench: how cost grows with
 * the fleet"): the same sidecar on a small and a large registry, side by side in one run.
 *
 * For each backend (SQLite, PostgreSQL) and each registry size (default 10,000 and
 * 1,000,000 devices; bench/fleetRegistry.ts builds them once into the cache directory):
 * - the build's write throughput (registrations/s through the rule layer's bulk
 *   registration, one transaction per 1,000), recorded when the registry was built;
 * - a real `certgate serve` (--processes 2) on it: start-up time (spawn to the
 *   "listening" line, every process ready) and resident memory of each process after
 *   start-up and after the runs;
 * - cold decisions: devices never presented before (each once, closed loop), after a
 *   separate set of cold devices warmed the processes' JIT up;
 * - warm decisions: a set of devices presented once, then over and over for a while;
 * each with the server's CPU per request (its process tree, /proc) beside req/s, and
 * every answer checked (all devices are ACTIVE: anything but an allow fails the run).
 * The ratio large / small of server CPU per request is the figure of the issue (≤ 1.2×).
 *
 * Devices are drawn evenly from every account of the registry (a few per account in
 * the large one), or with BENCH_FLEET_SPREAD=first from the smallest registry's accounts
 * in both, each request carrying its own account's endpoint as SNI.
 *
 * Run: `npm run build:ts && npm run bench:fleet-size` (environment below). The first run
 * builds the certificate cache (1,000,000 P-256 certificates: ~5 minutes of 2 busy cores)
 * and the registries; later runs reuse them.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { Device, Fleet } from '../ts/load/fleet.js';
import { runLoad } from '../ts/load/run.js';
import { httpTarget } from '../ts/load/targets.js';
import { projectRoot } from '../ts/paths.js';
import { startPgServer, type PgServer } from '../test/registry/pgServer.js';
import {
  buildRegistry,
  DEVICES_PER_ACCOUNT,
  ensureCertificates,
  pickDevices,
  shapeOf,
  sniOf,
  type BuildReport,
  type CachedDevice,
} from './fleetRegistry.js';
import { envServeArgs, listening, serveArgs, startChild, stopChild } from './childServer.js';
import { median } from './median.js';
import { rssMiB, treeCpuSeconds, treePids } from './procCpu.js';

/** Registry sizes (devices), smallest first: the ratios are against the first. */
const SIZES = (process.env.BENCH_FLEET_SIZES ?? '10000,1000000').split(',').map(Number);
const BACKENDS = (process.env.BENCH_FLEET_BACKENDS ?? 'sqlite,postgres').split(',');
/** Where the certificates, SQLite files and PostgreSQL cluster are kept between runs. */
const CACHE = process.env.BENCH_FLEET_CACHE ?? path.join(projectRoot, '.cache', 'fleet-size');
const WORKERS = Number(process.env.BENCH_FLEET_WORKERS ?? cpus().length);
/** Build the registries and stop (no serve runs). */
const BUILD_ONLY = process.env.BENCH_FLEET_BUILD_ONLY === '1';
const COLD = Number(process.env.BENCH_FLEET_COLD ?? 3000);
const WARMUP = Number(process.env.BENCH_FLEET_WARMUP ?? 1500);
const WARM = Number(process.env.BENCH_FLEET_WARM ?? 500);
const DURATION_MS = Number(process.env.BENCH_FLEET_DURATION_MS ?? 5000);
/**
 * After the runs on the largest registry, present this many more cold devices (each
 * once) and read RSS again: the memory of processes that have seen that many devices
 * (the fleet view holds each one's standing, up to --view-cache-size). Default 0.
 */
const FILL = Number(process.env.BENCH_FLEET_FILL ?? 0);
const CONNECTIONS = 16;
/**
 * Which accounts the bench devices come from: `all` (default) every account of the
 * registry at hand, so the large registry's requests spread over 1,000 accounts and 100
 * CAs; `first` the smallest registry's accounts in every registry, so the two present
 * the very same devices and differ only in what else the registry holds.
 */
const SPREAD = process.env.BENCH_FLEET_SPREAD ?? 'all';
/** Rounds, each measuring every size once (a fresh `certgate serve` each time). */
const ROUNDS = Number(process.env.BENCH_FLEET_ROUNDS ?? 3);
interface Tree {
  label: string;
  root: string;
}
/**
 * certgate trees whose `certgate serve` is measured side by side, alternated:
 * `label=dir,label=dir` (a dir holds bin/, dist/ and build/ of a built checkout); default
 * this tree alone, on the registry as built. PostgreSQL: each labelled tree gets its own
 * copy of the registry (pgTreeDatabase); SQLite: all share the file (their schemas must
 * agree).
 */
const TREES: Tree[] =
  process.env.BENCH_FLEET_TREES === undefined
    ? [{ label: '', root: projectRoot }]
    : process.env.BENCH_FLEET_TREES.split(',').map((spec) => {
        const [label = '', root = ''] = spec.split('=');
        return { label, root: path.resolve(root) };
      });

const log = (message: string) => process.stderr.write(`[fleet-size] ${message}\n`);

const deviceOf = (d: CachedDevice): Device => ({ certificateId: d.certificateId, certificatePem: d.certificatePem, expect: 'allow' });

/** The bench's devices of a registry: WARM + WARMUP + COLD of them, spread evenly over its accounts, shuffled. */
interface BenchDevices {
  warm: Device[];
  warmup: Device[];
  cold: Device[];
  /** More cold devices, presented after the runs to grow what each process holds (BENCH_FLEET_FILL). */
  fill: Device[];
  sni: Map<string, string>;
}

async function devicesOf(certsDir: string, accounts: number, fill: number): Promise<BenchDevices> {
  const total = WARM + WARMUP + COLD + fill;
  const perAccount = Math.ceil(total / accounts);
  if (perAccount > DEVICES_PER_ACCOUNT) throw new Error(`${total} bench devices do not fit in ${accounts} accounts`);
  const picked = await pickDevices(path.join(certsDir, 'devices.ndjson'), accounts, perAccount);
  const sni = new Map(picked.map((d) => [d.certificateId, sniOf(d.account)]));
  const all = picked.slice(0, total).map(deviceOf);
  const coldEnd = WARM + WARMUP + COLD;
  return {
    warm: all.slice(0, WARM),
    warmup: all.slice(WARM, WARM + WARMUP),
    cold: all.slice(WARM + WARMUP, coldEnd),
    fill: all.slice(coldEnd),
    sni,
  };
}

interface Serve {
  child: ChildProcess;
  origin: string;
  startSeconds: number;
}

async function serve(db: string, root: string): Promise<Serve> {
  const started = performance.now();
  const args = [
    path.join(root, 'bin', 'certgate.js'),
    // Shedding off: a closed loop of 16 connections on 2 shared cores is not an overload.
    // The same for the per-decision deadline (default 100s of ms): on 2 cores shared with
    // other work, a PostgreSQL round trip can wait that long for a core. This bench
    // measures cost, not tail latency; bench/overload.ts covers deadlines. Then
    // BENCH_CERTGATE_ARGS: extra `certgate serve` arguments, space-separated.
    ...serveArgs({ db, shedAfterMs: 0, deadlineMs: 10_000, extra: envServeArgs() }),
  ];
  const { child, line } = await startChild(process.execPath, args, listening, { cwd: CACHE });
  const origin = typeof line.authz === 'string' ? line.authz : `http://127.0.0.1:${String(line.port)}`;
  return { child, origin, startSeconds: (performance.now() - started) / 1000 };
}

interface Measured {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  serverUs: number;
  /** PostgreSQL's own CPU per request (its server process tree), 0 on SQLite. */
  dbUs: number;
}

/** One closed-loop run through the JSON door; every answer must be an allow. */
async function timedRun(
  server: Serve,
  devices: Device[],
  sni: Map<string, string>,
  profile: 'storm' | 'steady',
  durationMs: number,
): Promise<Measured> {
  const fleet: Fleet = { sni: '', accountId: '', devices };
  const target = httpTarget(server.origin, 'json', CONNECTIONS, (device) => ({
    path: '/v1/authorize',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sni: sni.get(device.certificateId), certChain: [device.certificatePem] }),
  }));
  const pid = server.child.pid ?? 0;
  const before = treeCpuSeconds(pid);
  const dbBefore = dbCpuSeconds();
  try {
    const { stats, seconds } = await runLoad({
      target,
      fleet,
      profile,
      mix: { warm: 1, cold: 0, revoked: 0 },
      warmDevices: devices.length,
      connections: CONNECTIONS,
      durationMs,
    });
    if (stats.outcomes.allow !== stats.requests) {
      const reasons = [...stats.reasons].map(([r, n]) => `${r} ×${n}`).join(', ');
      throw new Error(`expected only allows, got ${JSON.stringify(stats.outcomes)} (${reasons})`);
    }
    const ms = (p: number) => stats.latency.getValueAtPercentile(p) / 1000;
    return {
      requests: stats.requests,
      rps: stats.requests / seconds,
      p50Ms: ms(50),
      p99Ms: ms(99),
      serverUs: ((treeCpuSeconds(pid) - before) * 1e6) / stats.requests,
      dbUs: ((dbCpuSeconds() - dbBefore) * 1e6) / stats.requests,
    };
  } finally {
    await target.close();
  }
}

interface Row {
  backend: string;
  devices: number;
  build: BuildReport;
  startSeconds: number;
  rssStartMiB: number[];
  rssEndMiB: number[];
  /** RSS after BENCH_FLEET_FILL more cold devices (`filled`). */
  rssFillMiB?: number[];
  filled?: number;
  cold: Measured;
  warm: Measured;
  load: number[];
}

const rssOf = (server: Serve) => treePids(server.child.pid ?? 0).map((pid) => Number(rssMiB(pid).toFixed(1)));

async function measure(backend: string, db: string, build: BuildReport, devices: BenchDevices, root: string): Promise<Row> {
  const { warm, warmup, cold, fill, sni } = devices;
  log(`${backend} ${build.shape.devices}: starting certgate serve`);
  const server = await serve(db, root);
  try {
    const rssStartMiB = rssOf(server);
    await timedRun(server, warmup, sni, 'storm', Infinity); // JIT warm-up on devices not used again
    const coldRun = await timedRun(server, cold, sni, 'storm', Infinity);
    await timedRun(server, warm, sni, 'storm', Infinity); // the warm set seen once
    const warmRun = await timedRun(server, warm, sni, 'steady', DURATION_MS);
    const rssEndMiB = rssOf(server);
    let rssFillMiB: number[] | undefined;
    if (fill.length > 0) {
      await timedRun(server, fill, sni, 'storm', Infinity);
      rssFillMiB = rssOf(server);
    }
    const row: Row = {
      backend,
      devices: build.shape.devices,
      build,
      startSeconds: server.startSeconds,
      rssStartMiB,
      rssEndMiB,
      ...(rssFillMiB === undefined ? {} : { rssFillMiB, filled: fill.length }),
      cold: coldRun,
      warm: warmRun,
      load: loadavg(),
    };
    log(JSON.stringify(row));
    return row;
  } finally {
    await stopChild(server);
  }
}

/** The PostgreSQL server's CPU seconds (postmaster and its backends), 0 when none is running. */
function dbCpuSeconds(): number {
  try {
    const pid = Number(readFileSync(path.join(CACHE, 'pg', 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    return treeCpuSeconds(pid);
  } catch {
    return 0;
  }
}

/** The PostgreSQL database of a size, created on first use. */
async function pgDatabase(server: PgServer, devices: number): Promise<string> {
  const name = `fleet_${devices}`;
  const client = new pg.Client({ connectionString: server.url('postgres') });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return server.url(name);
}

/**
 * PostgreSQL for a labelled tree: its own copy of the registry (CREATE DATABASE
 * ... TEMPLATE), opened once by that tree's certgate before any measurement, so a schema
 * migration of that tree is neither timed as start-up nor seen by the other tree (an
 * older certgate refuses a newer schema).
 */
async function pgTreeDatabase(server: PgServer, devices: number, tree: Tree): Promise<string> {
  const name = `fleet_${devices}_${tree.label.replace(/[^a-z0-9]/g, '_')}`;
  const client = new pg.Client({ connectionString: server.url('postgres') });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount !== 0) return server.url(name);
    log(`copying fleet_${devices} to ${name} for ${tree.root}`);
    await client.query(`CREATE DATABASE ${name} TEMPLATE fleet_${devices} STRATEGY FILE_COPY`);
  } finally {
    await client.end();
  }
  execFileSync(process.execPath, [path.join(tree.root, 'bin', 'certgate.js'), 'account', 'list', '--db', server.url(name), '--json'], {
    stdio: 'ignore',
  });
  return server.url(name);
}

const f1 = (n: number) => n.toFixed(1);

/** The median row of a backend and size (each figure's own median across the rounds). */
function medianRow(rows: readonly Row[]): Row {
  const m = (pick: (r: Row) => number) => median(rows.map(pick));
  const run = (pick: (r: Row) => Measured): Measured => ({
    requests: m((r) => pick(r).requests),
    rps: m((r) => pick(r).rps),
    p50Ms: m((r) => pick(r).p50Ms),
    p99Ms: m((r) => pick(r).p99Ms),
    serverUs: m((r) => pick(r).serverUs),
    dbUs: m((r) => pick(r).dbUs),
  });
  const last = rows[rows.length - 1] as Row;
  return { ...last, startSeconds: m((r) => r.startSeconds), cold: run((r) => r.cold), warm: run((r) => r.warm) };
}

/** The build's write throughput and CPU per registration (certgate's, and PostgreSQL's where measured). */
const buildCost = (b: BuildReport) =>
  `${Math.round(b.registrationsPerSecond).toLocaleString('en')}/s, ${Math.round((b.registerCpuSeconds * 1e6) / b.shape.devices)}` +
  (b.dbCpuSeconds === undefined ? '' : ` + ${Math.round((b.dbCpuSeconds * 1e6) / b.shape.devices)} db`) +
  ' µs';

/** certgate's CPU per request, plus PostgreSQL's where it worked. */
const withDb = (m: Measured) => (m.dbUs > 0 ? ` + ${Math.round(m.dbUs)} db` : '');
/** The ratio of certgate's CPU per request, and of certgate's + PostgreSQL's where it worked. */
const ratio = (m: Measured, base: Measured) =>
  `${(m.serverUs / base.serverUs).toFixed(2)}×` +
  (m.dbUs > 0 || base.dbUs > 0 ? ` (with db ${((m.serverUs + m.dbUs) / (base.serverUs + base.dbUs)).toFixed(2)}×)` : '');

function table(all: readonly Row[]): string {
  const out = [
    `Medians of ${ROUNDS} alternated rounds; devices from ${SPREAD === 'first' ? "the smallest registry's accounts" : 'every account'}; RSS of the last round (primary / worker / worker).`,
    '',
    '| backend | devices | build: registrations/s, CPU per registration | start-up | RSS per process after start → after runs (MiB) | cold: server CPU/req, req/s, p99 | warm: server CPU/req, req/s, p99 |',
    '|---|---|---|---|---|---|---|',
  ];
  const labels = [...new Set(all.map((r) => r.backend))];
  const rows = labels.flatMap((backend) =>
    SIZES.map((devices) => all.filter((r) => r.backend === backend && r.devices === devices))
      .filter((rs) => rs.length > 0)
      .map(medianRow),
  );
  for (const r of rows) {
    out.push(
      `| ${r.backend} | ${r.devices.toLocaleString('en')} | ${buildCost(r.build)} | ${r.startSeconds.toFixed(2)} s | ${r.rssStartMiB.map(f1).join(' / ')} → ${r.rssEndMiB.map(f1).join(' / ')} | ${Math.round(r.cold.serverUs)}${withDb(r.cold)} µs, ${Math.round(r.cold.rps)}/s, ${r.cold.p99Ms.toFixed(1)} ms | ${Math.round(r.warm.serverUs)}${withDb(r.warm)} µs, ${Math.round(r.warm.rps)}/s, ${r.warm.p99Ms.toFixed(1)} ms |`,
    );
  }
  for (const r of rows.filter((row) => row.rssFillMiB !== undefined))
    out.push(
      `\n${r.backend} ${r.devices.toLocaleString('en')}: RSS after ${r.filled} more cold devices: ${r.rssFillMiB!.map(f1).join(' / ')} MiB`,
    );
  out.push('', '| backend | ratio | cold server CPU/req | warm server CPU/req | start-up |', '|---|---|---|---|---|');
  for (const backend of labels) {
    const mine = rows.filter((r) => r.backend === backend);
    const base = mine[0];
    if (base === undefined) continue;
    for (const r of mine.slice(1)) {
      out.push(
        `| ${backend} | ${r.devices.toLocaleString('en')} / ${base.devices.toLocaleString('en')} | ${ratio(r.cold, base.cold)} | ${ratio(r.warm, base.warm)} | ${(r.startSeconds / base.startSeconds).toFixed(2)}× |`,
      );
    }
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const largest = shapeOf(Math.max(...SIZES));
  log(`cache ${CACHE}; load average ${loadavg().map(f1).join(' ')}`);
  const { dir: certsDir, cas } = await ensureCertificates(CACHE, largest.accounts, WORKERS);
  const rows: Row[] = [];
  let pgServer: PgServer | undefined;
  try {
    for (const backend of BACKENDS) {
      if (backend === 'postgres') pgServer = await startPgServer({ dir: path.join(CACHE, 'pg') });
      const registries: { db: string; build: BuildReport; devices: BenchDevices }[] = [];
      for (const devices of SIZES) {
        const shape = shapeOf(devices);
        const db = backend === 'postgres' ? await pgDatabase(pgServer!, devices) : path.join(CACHE, `registry-${devices}.db`);
        const build = await buildRegistry(
          db,
          shape,
          certsDir,
          cas,
          path.join(CACHE, `built-${backend}-${devices}.json`),
          backend === 'postgres' ? dbCpuSeconds : undefined,
        );
        log(`${backend} ${devices}: ${Math.round(build.registrationsPerSecond)} registrations/s (built ${build.builtAt})`);
        const from = SPREAD === 'first' ? shapeOf(Math.min(...SIZES)).accounts : shape.accounts;
        registries.push({ db, build, devices: await devicesOf(certsDir, from, devices === Math.max(...SIZES) ? FILL : 0) });
      }
      // Sizes (and trees) alternate within each round, so machine noise falls on all alike.
      for (let round = 0; round < (BUILD_ONLY ? 0 : ROUNDS); round++)
        for (const r of registries)
          for (const tree of TREES) {
            const db = backend === 'postgres' && tree.label !== '' ? await pgTreeDatabase(pgServer!, r.build.shape.devices, tree) : r.db;
            rows.push(await measure(tree.label === '' ? backend : `${backend} · ${tree.label}`, db, r.build, r.devices, tree.root));
          }
      await pgServer?.stop();
      pgServer = undefined;
    }
  } finally {
    await pgServer?.stop();
  }
  if (rows.length > 0) process.stdout.write(`${table(rows)}\n\nload average at the end: ${loadavg().map(f1).join(' ')}\n`);
}

await main();
