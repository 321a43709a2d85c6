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
 * expected), so a fast wrong answer cannot win. Run: `npx vite-node bench/authz.ts`
 * (needs `npm run build:ts`: certgate runs from dist/ like `certgate serve`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { authorizationService } from '../ts/ingress/envoyProtos.js';
import { projectRoot } from '../ts/paths.js';
import { openSqliteRegistry } from '../ts/registry/sqlite/registry.js';
import { certificate, escapePem, identity, type Cert } from '../test/authz/pki.js';
import { closedLoopGrpc, closedLoopHttp, openLoopHttp, type LoadResult } from './authzLoad.js';

const ACCOUNT = '111111111111';
const PREFIX = 'benchbenchbenc';
const SNI = `${PREFIX}-ats.iot.us-east-1.localhost`;
const COLD = Number(process.env.BENCH_COLD_CERTS ?? 8000);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 4000);
const CONNECTIONS = 32;
/** Cold requests that warm up each freshly started server before its timed cold run. */
const WARMUP = 1500;
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
  start(process.execPath, [viteNode, path.join(projectRoot, 'bench', 'authzBaselines.ts')], { BENCH_MODE: mode, BENCH_DB: db }, (l) => 'port' in l);
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
      ...extra,
    ],
    {},
    (l) => l.msg === 'listening',
  );

const expectAllow = (status: number, body: string) => {
  if (status !== 200 || !body.includes('"allow":true')) throw new Error(`expected an allow, got ${status} ${body.slice(0, 200)}`);
};
const body = (cert: Cert) => JSON.stringify({ sni: SNI, certChain: [cert.pem] });
const fmt = (r: LoadResult) => `${Math.round(r.rps)} req/s (p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, n=${r.requests})`;

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
  const registry = openSqliteRegistry({ path: db });
  await registry.createAccount({ accountId: ACCOUNT, endpointPrefix: PREFIX });
  const caId = identity('Bench CA', 'rsa2048', false);
  const ca = certificate({ subject: caId, ca: true });
  await registry.insertCaCertificate({
    accountId: ACCOUNT,
    certificateId: ca.id,
    certificatePem: ca.pem,
    notBefore: 1_577_836_800,
    notAfter: 4_102_444_799,
    status: 'ACTIVE',
    certificateMode: 'DEFAULT',
    autoRegistrationStatus: 'DISABLE',
    subject: 'CN=Bench CA,O=certgate tests',
    registrationConfig: null,
    tags: [],
  });
  // Distinct leaves (serials differ) sharing one RSA-2048 key: each still needs a full
  // parse and an RSA signature check, and minting them stays fast.
  const leafKey = identity('bench-device', 'rsa2048', false);
  const mint = (n: number) => Array.from({ length: n }, () => certificate({ subject: leafKey, issuer: caId }));
  const warm = mint(16);
  const cold = mint(COLD);
  const intermediateId = identity('Bench Intermediate', 'rsa2048', false);
  const intermediate = certificate({ subject: intermediateId, issuer: caId, ca: true });
  const viaIntermediate = (n: number) => Array.from({ length: n }, () => certificate({ subject: leafKey, issuer: intermediateId }));
  const coldViaIntermediate = viaIntermediate(COLD);
  const warmup = mint(WARMUP);
  const warmupViaIntermediate = viaIntermediate(WARMUP);
  for (const c of [...warm, ...cold, ...coldViaIntermediate, ...warmup, ...warmupViaIntermediate]) {
    await registry.insertCertificate({
      accountId: ACCOUNT,
      certificateId: c.id,
      certificatePem: c.pem,
      notBefore: 1_577_836_800,
      notAfter: 4_102_444_799,
      status: 'ACTIVE',
      certificateMode: 'DEFAULT',
      caCertificateId: ca.id,
    });
  }
  await registry.close();
  return { db, warm, cold, coldViaIntermediate, intermediate, warmup, warmupViaIntermediate };
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
    // The machine is shared, so each pair is measured ROUNDS times back to back and the
    // median of the per-round ratios is reported.
    const [bare, bareGrpcServer, cg] = await Promise.all([baseline('bare-http', db), baseline('bare-grpc', db), certgate(db, [])]);
    const bareOrigin = `http://127.0.0.1:${String(bare.line.port)}`;
    const cgOrigin = String(cg.line.authz);
    const warmBody = (i: number) => body(warm[i % warm.length] as Cert);
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
    const pairs: { http: [LoadResult, LoadResult]; grpc: [LoadResult, LoadResult] }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const bareHttp = await httpRun(bareOrigin, warmBody);
      const cgHttp = await httpRun(cgOrigin, warmBody);
      const bareGrpc = await grpcLoad(bareGrpcAddress);
      const cgGrpc = await grpcLoad(cgGrpcAddress);
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
    await Promise.all([stop(bare), stop(bareGrpcServer)]);
    for (const [label, rate] of [
      ['half of bare', bareRps / 2],
      ['half of its own maximum', cgRps / 2],
    ] as const) {
      const r = await openLoopHttp({ origin: cgOrigin, path: '/v1/authorize', body: warmBody, connections: CONNECTIONS, durationMs: DURATION_MS, rate, check: expectAllow });
      log(`warm  certgate open loop at ${Math.round(rate)} req/s (${label}): p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms (target p99 ≤ 2 ms at half of bare)`);
    }
    await stop(cg);

    // ---- cold: a new leaf per request; each server starts with an empty cache ----
    const direct = (set: Cert[]) => (i: number) => body(set[i] as Cert);
    const chained = (set: Cert[]) => (i: number) => JSON.stringify({ sni: SNI, certChain: [(set[i] as Cert).pem, intermediate.pem] });
    for (const [label, bodies, warmBodies] of [
      ['leaf → CA', direct(cold), direct(warmup)],
      ['leaf → intermediate → CA', chained(coldViaIntermediate), chained(warmupViaIntermediate)],
    ] as const) {
      const naive = await baseline('naive-http', db);
      const naiveOrigin = `http://127.0.0.1:${String(naive.line.port)}`;
      await httpRun(naiveOrigin, warmBodies, WARMUP);
      const naiveCold = await httpRun(naiveOrigin, bodies, cold.length);
      await stop(naive);
      log(`cold  [${label}] naive node:crypto       ${fmt(naiveCold)}`);
      for (const engine of ['native', 'wasm']) {
        const server = await certgate(db, ['--engine', engine]);
        await httpRun(String(server.line.authz), warmBodies, WARMUP);
        const r = await httpRun(String(server.line.authz), bodies, cold.length);
        await stop(server);
        const target = engine === 'native' ? 5 : 3;
        log(`cold  [${label}] certgate ${engine.padEnd(6)}       ${fmt(r)}`);
        log(`cold  [${label}] ratio ${engine}/naive      ${(r.rps / naiveCold.rps).toFixed(2)}×   (target ≥ ${target}×)`);
      }
    }
  } finally {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
