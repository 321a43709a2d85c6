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
 * the bound for any authorizer that verifies every cold chain.
 * Run: `npx vite-node bench/authz.ts` (needs `npm run build:ts`: certgate runs from dist/
 * like `certgate serve`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { authorizationService } from '../ts/ingress/envoyProtos.js';
import { projectRoot } from '../ts/paths.js';
import { certificate, escapePem, identity, type Cert } from '../test/authz/pki.js';
import { closedLoopGrpc, closedLoopHttp, openLoopHttp, type LoadResult } from './authzLoad.js';
import { BenchRegistry } from './fixtures.js';

const PREFIX = 'benchbenchbenc';
const SNI = `${PREFIX}-ats.iot.us-east-1.localhost`;
const COLD = Number(process.env.BENCH_COLD_CERTS ?? 8000);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 4000);
const CONNECTIONS = 32;
/** Cold requests that warm up each freshly started server before its timed cold run. */
const WARMUP = 1500;
/** Which parts to run: `warm` (HTTP, gRPC, open loop) and/or `cold`; both by default. */
const PARTS = new Set((process.env.BENCH_PARTS ?? 'warm,cold').split(','));
/** Alternating rounds of the warm HTTP and gRPC comparisons. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

interface Server {
  child: ChildProcess;
  line: Record<string, unknown>;
}

/** Every server still running, killed if the run fails half way. */
const children = new Set<ChildProcess>();

function start(command: string, args: string[], env: Record<string, string>, ready: (line: Record<string, unknown>) => boolean): Promise<Server> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      for (const text of out.split('\n')) {
        if (!text.startsWith('{')) continue;
        const line = JSON.parse(text) as Record<string, unknown>;
        if (ready(line)) return resolve({ child, line });
      }
    });
    child.once('exit', (code) => reject(new Error(`${command} ${args.join(' ')} exited with ${code}`)));
  });
}

async function stop(server: Server): Promise<void> {
  const exited = new Promise((r) => server.child.once('exit', r));
  server.child.kill('SIGTERM');
  await exited;
}

const viteNode = createRequire(import.meta.url).resolve('vite-node/vite-node.mjs');
const baseline = (mode: string, db: string) =>
  start(process.execPath, [viteNode, path.join(projectRoot, 'bench', 'authzBaselines.ts')], { BENCH_MODE: mode, BENCH_DB: db, BENCH_SNI: SNI }, (l) => 'port' in l);

/** Fields of /proc/<pid>/stat after the command name (ppid first). */
function procStat(pid: string): string[] {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** CPU seconds (user + system) of a process and all its descendants, from /proc. */
function treeCpuSeconds(root: number): number {
  const byParent = new Map<string, string[]>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const parent = procStat(pid)[1] ?? '';
      byParent.set(parent, [...(byParent.get(parent) ?? []), pid]);
    } catch {
      // exited meanwhile
    }
  }
  let ticks = 0;
  const visit = (pid: string) => {
    try {
      const f = procStat(pid);
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      return;
    }
    for (const child of byParent.get(pid) ?? []) visit(child);
  };
  visit(String(root));
  return ticks / 100; // USER_HZ
}

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
const certgate = (db: string, extra: string[]) =>
  start(
    process.execPath,
    [
      path.join(projectRoot, 'bin', 'certgate.js'),
      'serve',
      '--db', db,
      '--processes', '2',
      '--admin-port', '0',
      '--authz-port', '0',
      '--grpc-port', '0',
      '--decision-log-sample', '0',
      // Extra `certgate serve` arguments, space-separated (e.g. `--no-fast-path`).
      ...(process.env.BENCH_CERTGATE_ARGS ?? '').split(' ').filter((a) => a !== ''),
      ...extra,
    ],
    {},
    (l) => l.msg === 'listening',
  );

const expectAllow = (status: number, body: string) => {
  if (status !== 200 || !body.includes('"allow":true')) throw new Error(`expected an allow, got ${status} ${body.slice(0, 200)}`);
};
const late = (r: { lateP99Ms: number }) => `generator late p99 ${r.lateP99Ms.toFixed(2)} ms`;
const body = (cert: Cert) => JSON.stringify({ sni: SNI, certChain: [cert.pem] });
const fmt = (r: LoadResult | Measured) =>
  `${Math.round(r.rps)} req/s (p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, n=${r.requests}` +
  ('serverUs' in r ? `; CPU/request: server ${r.serverUs.toFixed(1)} µs, load generator ${r.loadUs.toFixed(1)} µs)` : ')');

interface Fixtures {
  db: string;
  warm: Cert[];
  cold: Cert[];
  /** Leaves signed by an intermediate CA that the registered root signed. */
  coldViaIntermediate: Cert[];
  intermediate: Cert;
  /** Cold leaves of each kind used only to warm a fresh server up (JIT) before timing. */
  warmup: Cert[];
  warmupViaIntermediate: Cert[];
}

async function fixtures(dir: string): Promise<Fixtures> {
  const db = path.join(dir, 'bench.db');
  const bench = await BenchRegistry.create(db, PREFIX);
  const ca = await bench.ca('Bench CA', 'rsa2048');
  const leafKey = identity('bench-device', 'rsa2048', false);
  const intermediateId = identity('Bench Intermediate', 'rsa2048', false);
  const intermediate = certificate({ subject: intermediateId, issuer: ca.identity, ca: true });
  const direct = (n: number) => bench.leaves(n, leafKey, ca.identity, ca.cert);
  const viaIntermediate = (n: number) => bench.leaves(n, leafKey, intermediateId, ca.cert);
  const result = {
    db,
    warm: await direct(16),
    cold: await direct(COLD),
    coldViaIntermediate: await viaIntermediate(COLD),
    intermediate,
    warmup: await direct(WARMUP),
    warmupViaIntermediate: await viaIntermediate(WARMUP),
  };
  await bench.close();
  return result;
}

function median(xs: number[]): number {
  // A typed array sorts numerically and is a copy, leaving `xs` alone.
  const sorted = Float64Array.from(xs);
  sorted.sort();
  return sorted[Math.floor(xs.length / 2)] ?? NaN;
}

async function httpRun(origin: string, bodies: (i: number) => string, maxRequests = Infinity): Promise<LoadResult> {
  return closedLoopHttp({ origin, path: '/v1/authorize', body: bodies, connections: CONNECTIONS, maxRequests, durationMs: DURATION_MS, check: expectAllow });
}

const origin = (server: Server) => (typeof server.line.authz === 'string' ? server.line.authz : `http://127.0.0.1:${String(server.line.port)}`);
const timedHttp = (server: Server, bodies: (i: number) => string, maxRequests = Infinity) =>
  measured(server, () => httpRun(origin(server), bodies, maxRequests));

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'certgate-bench-'));
  const lines: string[] = [];
  const log = (s: string) => {
    lines.push(s);
    process.stdout.write(`${s}\n`);
  };
  try {
    log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}; ${CONNECTIONS} keep-alive connections, ${DURATION_MS} ms runs`);
    const t0 = performance.now();
    const { db, warm, cold, coldViaIntermediate, intermediate, warmup, warmupViaIntermediate } = await fixtures(dir);
    log(
      `fixtures: ${warm.length} warm + ${cold.length} cold RSA-2048 leaves under a registered RSA-2048 CA, ` +
        `${coldViaIntermediate.length} more under an intermediate (${Math.round(performance.now() - t0)} ms)`,
    );

    // ---- warm HTTP and gRPC: all four servers up at once, measured in alternation ----
    if (PARTS.has('warm')) {
    // The machine is shared, so each pair is measured ROUNDS times back to back and the
    // median of the per-round ratios is reported.
    const [bare, bareGrpcServer, cg] = await Promise.all([baseline('bare-http', db), baseline('bare-grpc', db), certgate(db, [])]);
    const bareOrigin = origin(bare);
    const cgOrigin = origin(cg);
    // Bodies built once: the load generator's own work stays out of the comparison.
    const warmBodies = warm.map(body);
    const warmBody = (i: number) => warmBodies[i % warmBodies.length] ?? '';
    await httpRun(bareOrigin, warmBody, 2000);
    await httpRun(cgOrigin, warmBody, 2000);
    const Service = authorizationService();
    const warmLeaf = warm[0] as Cert;
    const check = { attributes: { source: { certificate: escapePem(warmLeaf.pem) }, tls_session: { sni: SNI } } };
    const grpcLoad = (address: string) =>
      closedLoopGrpc({
        address,
        service: Service,
        request: check,
        channels: 4,
        streamsPerChannel: 8,
        durationMs: DURATION_MS,
        check: (r) => {
          if (r.status.code !== 0) throw new Error(`expected OK, got ${r.status.code}`);
        },
      });
    const bareGrpcAddress = `127.0.0.1:${String(bareGrpcServer.line.port)}`;
    const cgGrpcAddress = String(cg.line.grpc);
    const pairs: { http: [Measured, Measured]; grpc: [Measured, Measured] }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const bareHttp = await timedHttp(bare, warmBody);
      const cgHttp = await timedHttp(cg, warmBody);
      const bareGrpc = await measured(bareGrpcServer, () => grpcLoad(bareGrpcAddress));
      const cgGrpc = await measured(cg, () => grpcLoad(cgGrpcAddress));
      pairs.push({ http: [bareHttp, cgHttp], grpc: [bareGrpc, cgGrpc] });
      log(`round ${round + 1}: http bare ${fmt(bareHttp)} | certgate ${fmt(cgHttp)}`);
      log(`round ${round + 1}: grpc bare ${fmt(bareGrpc)} | certgate ${fmt(cgGrpc)}`);
    }
    const httpRatio = median(pairs.map((p) => p.http[1].rps / p.http[0].rps));
    const grpcRatio = median(pairs.map((p) => p.grpc[1].rps / p.grpc[0].rps));
    const bareRps = median(pairs.map((p) => p.http[0].rps));
    const cgRps = median(pairs.map((p) => p.http[1].rps));
    log(`warm  ratio certgate/bare node:http, median of ${ROUNDS}   ${httpRatio.toFixed(2)}×   (target ≥ 0.9×)`);
    log(`grpc  ratio certgate/bare grpc-js, median of ${ROUNDS}     ${grpcRatio.toFixed(2)}×   (target ≥ 0.9×)`);
    await stop(bareGrpcServer);
    // Latency at a fixed rate, certgate and the bare server alike: the bare server's p99
    // at the same rate is what this harness (one Node load generator on the same 2
    // cores) can resolve at all.
    const openLoop = (o: string, rate: number) =>
      openLoopHttp({ origin: o, path: '/v1/authorize', body: warmBody, connections: CONNECTIONS, durationMs: DURATION_MS, rate, check: expectAllow });
    for (let round = 0; round < ROUNDS; round++) {
      const rate = bareRps / 2;
      const b = await openLoop(bareOrigin, rate);
      const c = await openLoop(cgOrigin, rate);
      log(
        `warm  open loop at ${Math.round(rate)} req/s (half of bare), round ${round + 1}: certgate p50 ${c.p50Ms.toFixed(2)} ms, p99 ${c.p99Ms.toFixed(2)} ms (${late(c)}) | ` +
          `bare p50 ${b.p50Ms.toFixed(2)} ms, p99 ${b.p99Ms.toFixed(2)} ms (${late(b)})   (target certgate p99 ≤ 2 ms)`,
      );
    }
    const own = await openLoop(cgOrigin, cgRps / 2);
    log(`warm  certgate open loop at ${Math.round(cgRps / 2)} req/s (half of its own maximum): p50 ${own.p50Ms.toFixed(2)} ms, p99 ${own.p99Ms.toFixed(2)} ms (${late(own)})`);
    await Promise.all([stop(bare), stop(cg)]);
    }

    // ---- cold: a new leaf per request; each server starts with an empty cache ----
    if (!PARTS.has('cold')) return;
    const direct = (set: Cert[]) => {
      const bodies = set.map(body);
      return (i: number) => bodies[i] ?? '';
    };
    const chained = (set: Cert[]) => {
      const bodies = set.map((c) => JSON.stringify({ sni: SNI, certChain: [c.pem, intermediate.pem] }));
      return (i: number) => bodies[i] ?? '';
    };
    for (const [label, bodies, warmupBodies] of [
      ['leaf → CA', direct(cold), direct(warmup)],
      ['leaf → intermediate → CA', chained(coldViaIntermediate), chained(warmupViaIntermediate)],
    ] as const) {
      const coldRun = async (server: Server) => {
        await httpRun(origin(server), warmupBodies, WARMUP);
        const r = await timedHttp(server, bodies, cold.length);
        await stop(server);
        return r;
      };
      const naive = await coldRun(await baseline('naive-http', db));
      log(`cold  [${label}] naive node:crypto       ${fmt(naive)}`);
      const floor = await coldRun(await baseline('floor-http', db));
      log(`cold  [${label}] floor (verify only)     ${fmt(floor)}`);
      log(`cold  [${label}] floor/naive            ${(floor.rps / naive.rps).toFixed(2)}×   (the most any per-request verifier reaches here)`);
      for (const engine of ['native', 'wasm']) {
        const r = await coldRun(await certgate(db, ['--engine', engine]));
        const target = engine === 'native' ? 5 : 3;
        log(`cold  [${label}] certgate ${engine.padEnd(6)}       ${fmt(r)}`);
        log(`cold  [${label}] ratio ${engine}/naive      ${(r.rps / naive.rps).toFixed(2)}×   (target ≥ ${target}×)`);
      }
    }
  } finally {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
