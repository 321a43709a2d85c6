/**
 * Authorizer benchmarks: the three targets of the authorizer issue, each measured side
 * by side in one run and reported as a ratio (machine noise is ±10–15 %).
 *
 *   warm  certgate JSON door, 16 registered certificates repeated (verification cache
 *         hits) vs a bare node:http server answering a constant; then p99 at half the
 *         bare server's rate (open loop)                      target ≥ 0.9×, p99 ≤ 2 ms
 *   cold  a new RSA-2048 leaf signed by a registered RSA CA on every request vs the naive
 *         node:crypto authorizer                     target ≥ 5× native, ≥ 3× wasm
 *   grpc  certgate Envoy Check (warm) vs a bare grpc-js Check answering OK  target ≥ 0.9×
 *
 * Every server runs as in production: separate processes, node:cluster with 2 workers,
 * loopback, keep-alive. Outcomes are checked on every response (an allow where an allow is
 * expected), so a fast wrong answer cannot win. Each closed-loop line also shows the CPU
 * each side spent per request (server process tree from /proc, load generator from
 * process.cpuUsage), which is what the ratios are made of on 2 shared cores. The cold
 * runs add a floor: node:http doing only the chain's signature work (authzBaselines.ts),
 * the bound for any authorizer that verifies every cold chain. The baseline servers run
 * with the V8 flags certgate's own server processes get (childServer.ts baselineNodeFlags).
 * Run: `npx vite-node bench/authz.ts` (needs `npm run build:ts`: certgate runs from dist/
 * like `certgate serve`).
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { projectRoot } from '../ts/paths.js';
import { certificate, escapePem, identity, type Cert } from '../test/authz/pki.js';
import { closedLoopGrpc, closedLoopHttp, openLoopHttp, type LoadResult } from './coreLoad.js';
import { median } from './median.js';
import {
  baselineNodeFlags,
  envServeArgs,
  killChildren,
  listening,
  serveArgs,
  startChild,
  stopChild,
  type ChildServer,
} from './childServer.js';
import { treeCpuSeconds } from './procCpu.js';
import type { BenchRegistry } from './fixtures.js';

const PREFIX = 'benchbenchbenc';
const SNI = `${PREFIX}-ats.iot.us-east-1.localhost`;
const COLD = Number(process.env.BENCH_COLD_CERTS ?? 8000);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 4000);
const CONNECTIONS = 32;
/** Cold requests that warm up each freshly started server before its timed cold run (`BENCH_COLD_WARMUP`). */
const WARMUP = Number(process.env.BENCH_COLD_WARMUP ?? 1500);
/** Which parts to run: `warm` (HTTP, gRPC, open loop) and/or `cold`; both by default. */
const PARTS = new Set((process.env.BENCH_PARTS ?? 'warm,cold').split(','));
/** Alternating rounds of the warm HTTP and gRPC comparisons. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Rounds of the cold comparisons (each starts every server afresh). */
const COLD_ROUNDS = Number(process.env.BENCH_COLD_ROUNDS ?? 1);
/** Engines the cold part runs certgate with. */
const ENGINES = (process.env.BENCH_ENGINES ?? 'native,wasm').split(',');
/** Cold chain shapes: `direct` (leaf → CA) and/or `intermediate` (leaf → intermediate → CA). */
const CHAINS = new Set((process.env.BENCH_CHAINS ?? 'direct,intermediate').split(','));
/** `BENCH_NAIVE=0` leaves the naive node:crypto authorizer out of the cold part. */
const NAIVE = process.env.BENCH_NAIVE !== '0';
/**
 * Another certgate tree (a worktree of another commit, built: dist/ and build/) whose
 * `certgate serve` runs beside this tree's in every comparison, alternated, so a change
 * is measured before/after in one run. Its registry file is created by its own code and
 * migrated forward by this tree's on a copy.
 */
const BASE = process.env.BENCH_BASE;
/** `BENCH_PROFILE=dir`: certgate servers run with `node --cpu-prof` into dir/<label> (bench/profileSteps.ts reads them). */
const PROFILE = process.env.BENCH_PROFILE;

type Server = ChildServer;

const viteNode = createRequire(import.meta.url).resolve('vite-node/vite-node.mjs');
const BASELINE_NODE_FLAGS = baselineNodeFlags();
const baseline = (mode: string, db: string) =>
  startChild(
    process.execPath,
    [...BASELINE_NODE_FLAGS, viteNode, path.join(projectRoot, 'bench', 'authzBaselines.ts')],
    (l) => 'port' in l,
    {
      env: { BENCH_MODE: mode, BENCH_DB: db, BENCH_SNI: SNI },
    },
  );

/** A load run with the CPU both sides spent on it, µs per request. */
interface Measured extends LoadResult {
  serverUs: number;
  loadUs: number;
}

async function measured(server: Server, run: () => Promise<LoadResult>): Promise<Measured> {
  const pid = server.child.pid ?? 0;
  const before = treeCpuSeconds(pid);
  const own = process.cpuUsage();
  const r = await run();
  const load = process.cpuUsage(own);
  return { ...r, serverUs: ((treeCpuSeconds(pid) - before) * 1e6) / r.requests, loadUs: (load.user + load.system) / r.requests };
}
/** Which tree a certgate server runs from, and the registry file it uses. */
interface Tree {
  label: string;
  root: string;
  db: string;
}

let profiles = 0;
const certgate = (tree: Tree, extra: string[]) =>
  startChild(
    process.execPath,
    [
      // Inherited by the cluster's workers (node:cluster forks with process.execArgv).
      ...(PROFILE === undefined
        ? []
        : ['--cpu-prof', `--cpu-prof-dir=${path.join(PROFILE, `${tree.label}-${extra.join('')}-${++profiles}`)}`]),
      path.join(tree.root, 'bin', 'certgate.js'),
      // Shedding off: a closed loop of 32 connections is not an overload, but on 2 shared
      // cores (and under the profiler) a request can wait past --shed-after-ms and be
      // refused, which would fail the run rather than measure it.
      ...serveArgs({ db: tree.db, shedAfterMs: 0, extra: [...envServeArgs(), ...extra] }),
    ],
    listening,
  );

const late = (r: { lateP99Ms: number }) => `generator late p99 ${r.lateP99Ms.toFixed(2)} ms`;
const body = (cert: Cert) => JSON.stringify({ sni: SNI, certChain: [cert.pem] });
const fmt = (r: LoadResult | Measured) =>
  `${Math.round(r.rps)} req/s (p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, n=${r.requests}` +
  ('serverUs' in r ? `; CPU/request: server ${r.serverUs.toFixed(1)} µs, load generator ${r.loadUs.toFixed(1)} µs)` : ')');

interface Fixtures {
  db: string;
  /** The registry file of the BENCH_BASE tree (created by its code), when there is one. */
  baseDb: string | undefined;
  warm: Cert[];
  cold: Cert[];
  /** Leaves signed by an intermediate CA that the registered root signed. */
  coldViaIntermediate: Cert[];
  intermediate: Cert;
  /** Cold leaves of each kind used only to warm a fresh server up (JIT) before timing. */
  warmup: Cert[];
  warmupViaIntermediate: Cert[];
}

/**
 * The registry is written by the oldest tree in the run (BENCH_BASE's own
 * bench/fixtures.ts when set, so its schema is one that tree can open); this tree's
 * servers get a copy, which they migrate forward when they open it.
 */
async function fixtures(dir: string): Promise<Fixtures> {
  const seedDb = path.join(dir, BASE === undefined ? 'bench.db' : 'base.db');
  const seedTree = BASE ?? projectRoot;
  const { BenchRegistry: Seeder } = (await import(path.join(seedTree, 'bench', 'fixtures.ts'))) as { BenchRegistry: typeof BenchRegistry };
  const bench = await Seeder.create(seedDb, PREFIX);
  const ca = await bench.ca('Bench CA', 'rsa2048');
  const leafKey = identity('bench-device', 'rsa2048', false);
  const intermediateId = identity('Bench Intermediate', 'rsa2048', false);
  const intermediate = certificate({ subject: intermediateId, issuer: ca.identity, ca: true });
  const direct = (n: number) => bench.leaves(n, leafKey, ca.identity, ca.cert);
  const viaIntermediate = (n: number) => bench.leaves(n, leafKey, intermediateId, ca.cert);
  // Cold leaves only for a run with a cold part (minting them takes most of the set-up).
  const cold = PARTS.has('cold') ? COLD : 0;
  const via = PARTS.has('cold') && CHAINS.has('intermediate') ? COLD : 0;
  const result = {
    db: seedDb,
    baseDb: undefined as string | undefined,
    warm: await direct(16),
    cold: await direct(cold),
    coldViaIntermediate: await viaIntermediate(via),
    intermediate,
    warmup: await direct(cold === 0 ? 0 : WARMUP),
    warmupViaIntermediate: await viaIntermediate(via === 0 ? 0 : WARMUP),
  };
  await bench.close();
  if (BASE !== undefined) {
    result.baseDb = seedDb;
    result.db = path.join(dir, 'bench.db');
    copyFileSync(seedDb, result.db);
  }
  return result;
}

/** `cycle`: the bodies round and round for the run; `once`: each body once (cold). */
type Bodies = { bodies: readonly string[]; use: 'cycle' | 'once' };

async function httpRun(origin: string, b: Bodies, maxRequests = Infinity): Promise<LoadResult> {
  return closedLoopHttp({ origin, path: '/v1/authorize', ...b, connections: CONNECTIONS, maxRequests, durationMs: DURATION_MS });
}

const origin = (server: Server) =>
  typeof server.line.authz === 'string' ? server.line.authz : `http://127.0.0.1:${String(server.line.port)}`;
const timedHttp = (server: Server, bodies: Bodies, maxRequests = Infinity) =>
  measured(server, () => httpRun(origin(server), bodies, maxRequests));

/** Round `round`'s order of the trees: alternated, so neither always runs first. */
const alternate = <T>(xs: T[], round: number): T[] => (round % 2 === 0 ? xs : xs.map((_, i) => xs[xs.length - 1 - i] as T));

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'certgate-bench-'));
  const lines: string[] = [];
  const log = (s: string) => {
    lines.push(s);
    process.stdout.write(`${s}\n`);
  };
  try {
    log(
      `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}; ${CONNECTIONS} keep-alive connections, ${DURATION_MS} ms runs`,
    );
    const t0 = performance.now();
    const { db, baseDb, warm, cold, coldViaIntermediate, intermediate, warmup, warmupViaIntermediate } = await fixtures(dir);
    log(
      `fixtures: ${warm.length} warm + ${cold.length} cold RSA-2048 leaves under a registered RSA-2048 CA, ` +
        `${coldViaIntermediate.length} more under an intermediate (${Math.round(performance.now() - t0)} ms)`,
    );
    log(`baseline servers' node flags: ${BASELINE_NODE_FLAGS.join(' ') || '(none)'}`);
    const trees: Tree[] = [{ label: 'this', root: projectRoot, db }];
    if (BASE !== undefined && baseDb !== undefined) {
      trees.push({ label: 'base', root: BASE, db: baseDb });
      log(`trees: this = ${projectRoot}, base = ${BASE} (alternated in every comparison)`);
    }

    // ---- warm HTTP and gRPC: all servers up at once, measured in alternation ----
    if (PARTS.has('warm')) {
      // The machine is shared, so each pair is measured ROUNDS times back to back and the
      // median of the per-round ratios is reported.
      const [bare, bareGrpcServer, ...cgs] = await Promise.all([
        baseline('bare-http', db),
        baseline('bare-grpc', db),
        ...trees.map((t) => certgate(t, [])),
      ]);
      const bareOrigin = origin(bare);
      // Bodies built once: the load generator's own work stays out of the comparison.
      const warmBody: Bodies = { bodies: warm.map(body), use: 'cycle' };
      await httpRun(bareOrigin, warmBody, 2000);
      for (const cg of cgs) await httpRun(origin(cg), warmBody, 2000);
      const warmLeaf = warm[0] as Cert;
      const check = { attributes: { source: { certificate: escapePem(warmLeaf.pem) }, tls_session: { sni: SNI } } };
      const grpcLoad = (address: string) =>
        closedLoopGrpc({
          address,
          request: check,
          channels: 4,
          streamsPerChannel: 8,
          durationMs: DURATION_MS,
        });
      const bareGrpcAddress = `127.0.0.1:${String(bareGrpcServer.line.port)}`;
      const served = trees.map((tree, i) => ({ tree, server: cgs[i] as Server }));
      const pairs = new Map<string, { http: [Measured, Measured]; grpc: [Measured, Measured] }[]>(trees.map((t) => [t.label, []]));
      for (let round = 0; round < ROUNDS; round++) {
        for (const { tree, server } of alternate(served, round)) {
          const bareHttp = await timedHttp(bare, warmBody);
          const cgHttp = await timedHttp(server, warmBody);
          const bareGrpc = await measured(bareGrpcServer, () => grpcLoad(bareGrpcAddress));
          const cgGrpc = await measured(server, () => grpcLoad(String(server.line.grpc)));
          pairs.get(tree.label)?.push({ http: [bareHttp, cgHttp], grpc: [bareGrpc, cgGrpc] });
          log(`round ${round + 1} [${tree.label}]: http bare ${fmt(bareHttp)} | certgate ${fmt(cgHttp)}`);
          log(`round ${round + 1} [${tree.label}]: grpc bare ${fmt(bareGrpc)} | certgate ${fmt(cgGrpc)}`);
        }
      }
      for (const { tree } of served) {
        const p = pairs.get(tree.label) ?? [];
        const httpRatio = median(p.map((x) => x.http[1].rps / x.http[0].rps));
        const grpcRatio = median(p.map((x) => x.grpc[1].rps / x.grpc[0].rps));
        const cpu = (xs: Measured[]) => median(xs.map((m) => m.serverUs)).toFixed(1);
        log(
          `warm  [${tree.label}] ratio certgate/bare node:http, median of ${ROUNDS}   ${httpRatio.toFixed(2)}×   (target ≥ 0.9×; ` +
            `server CPU/request median certgate ${cpu(p.map((x) => x.http[1]))} µs, bare ${cpu(p.map((x) => x.http[0]))} µs)`,
        );
        log(
          `grpc  [${tree.label}] ratio certgate/bare grpc-js, median of ${ROUNDS}     ${grpcRatio.toFixed(2)}×   (target ≥ 0.9×; ` +
            `server CPU/call median certgate ${cpu(p.map((x) => x.grpc[1]))} µs, bare ${cpu(p.map((x) => x.grpc[0]))} µs)`,
        );
      }
      await stopChild(bareGrpcServer);
      if (process.env.BENCH_OPEN_LOOP !== '0') {
        // Latency at a fixed rate, certgate and the bare server alike: the bare server's p99
        // at the same rate is what this harness (one Node load generator on the same 2
        // cores) can resolve at all.
        const openLoop = (o: string, rate: number) =>
          openLoopHttp({
            origin: o,
            path: '/v1/authorize',
            bodies: warmBody.bodies,
            connections: CONNECTIONS,
            durationMs: DURATION_MS,
            rate,
          });
        const bareRps = median([...pairs.values()].flat().map((p) => p.http[0].rps));
        for (let round = 0; round < ROUNDS; round++) {
          const rate = bareRps / 2;
          const b = await openLoop(bareOrigin, rate);
          for (const { tree, server } of alternate(served, round)) {
            const c = await openLoop(origin(server), rate);
            log(
              `warm  [${tree.label}] open loop at ${Math.round(rate)} req/s (half of bare), round ${round + 1}: certgate p50 ${c.p50Ms.toFixed(2)} ms, p99 ${c.p99Ms.toFixed(2)} ms (${late(c)}) | ` +
                `bare p50 ${b.p50Ms.toFixed(2)} ms, p99 ${b.p99Ms.toFixed(2)} ms (${late(b)})   (target certgate p99 ≤ 2 ms)`,
            );
          }
        }
      }
      await Promise.all([stopChild(bare), ...cgs.map(stopChild)]);
    }

    // ---- cold: a new leaf per request; each server starts with an empty cache ----
    if (!PARTS.has('cold')) return;
    const direct = (set: Cert[]): Bodies => ({ bodies: set.map(body), use: 'once' });
    const chained = (set: Cert[]): Bodies => ({
      bodies: set.map((c) => JSON.stringify({ sni: SNI, certChain: [c.pem, intermediate.pem] })),
      use: 'once',
    });
    const shapes = [
      ['direct', 'leaf → CA', direct(cold), direct(warmup)],
      ['intermediate', 'leaf → intermediate → CA', chained(coldViaIntermediate), chained(warmupViaIntermediate)],
    ] as const;
    for (const [shape, label, bodies, warmupBodies] of shapes) {
      if (!CHAINS.has(shape)) continue;
      const coldRun = async (server: Server) => {
        await httpRun(origin(server), warmupBodies, WARMUP);
        const r = await timedHttp(server, bodies, cold.length);
        await stopChild(server);
        return r;
      };
      /** Server CPU per decision of each certgate (tree, engine) over the floor's of the same round. */
      const overFloor = new Map<string, number[]>();
      for (let round = 0; round < COLD_ROUNDS; round++) {
        const tag = COLD_ROUNDS > 1 ? ` round ${round + 1}` : '';
        let naive: Measured | undefined;
        if (NAIVE) {
          naive = await coldRun(await baseline('naive-http', db));
          log(`cold  [${label}]${tag} naive node:crypto       ${fmt(naive)}`);
        }
        const floor = await coldRun(await baseline('floor-http', db));
        log(`cold  [${label}]${tag} floor (verify only)     ${fmt(floor)}`);
        if (naive !== undefined)
          log(
            `cold  [${label}]${tag} floor/naive            ${(floor.rps / naive.rps).toFixed(2)}×   (the most any per-request verifier reaches here)`,
          );
        for (const engine of ENGINES) {
          for (const tree of alternate(trees, round)) {
            const r = await coldRun(await certgate(tree, ['--engine', engine]));
            const key = `${tree.label} ${engine}`;
            overFloor.set(key, [...(overFloor.get(key) ?? []), r.serverUs / floor.serverUs]);
            log(
              `cold  [${label}]${tag} certgate ${key.padEnd(11)}  ${fmt(r)}; server CPU ${(r.serverUs / floor.serverUs).toFixed(2)}× the floor's`,
            );
            if (naive !== undefined) {
              const target = engine === 'native' ? 5 : 3;
              log(`cold  [${label}]${tag} ratio ${key}/naive      ${(r.rps / naive.rps).toFixed(2)}×   (target ≥ ${target}×)`);
            }
          }
        }
      }
      for (const [key, xs] of overFloor) {
        log(
          `cold  [${label}] certgate ${key}: server CPU per decision / floor's, median of ${xs.length}: ${median(xs).toFixed(2)}× (rounds ${xs.map((x) => x.toFixed(2)).join(' / ')}; target ≤ 1.3× native)`,
        );
      }
    }
  } finally {
    killChildren();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
