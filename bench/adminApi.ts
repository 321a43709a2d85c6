/**
 * The admin API's SigV4 path before and after a change, side by side in one run: the same
 * requests against two admin servers, one from this tree and one from the git revision
 * BENCH_BEFORE (exported with `git archive` into a temp dir), each its own process over
 * its own copy of one SQLite registry (bench/adminServer.ts). Requests are signed once
 * (@smithy/signature-v4, as the AWS SDK signs) and replayed: the server verifies every
 * one in full, so the load generator stays cheap. Rounds alternate the two servers.
 * Reported per server: req/s and the server process's CPU per request (/proc), medians
 * of the rounds.
 *
 *   describe  GET /certificates/{id}: DescribeCertificate, SigV4 over an empty body, one
 *             registry read, a JSON answer
 *   badsig    POST /certificate/register-no-ca with a 2 KiB JSON body other than the one
 *             signed: the headers pass, the body is read and hashed, the signature fails
 *             (403 InvalidSignatureException from the error handler; nothing is written)
 *
 * Run: `BENCH_BEFORE=<revision> npx vite-node bench/adminApi.ts`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import { Pool } from 'undici';
import { projectRoot } from '../ts/paths.js';
import { Sha256 } from '../test/control/harness.js';
import { ACCOUNT, BenchRegistry } from './fixtures.js';
import { exportRevision } from './revision.js';
import { median } from './median.js';

const BEFORE = process.env.BENCH_BEFORE ?? 'main';
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 4000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = 8;
const KEY = { accessKeyId: 'AKIDBENCH0000000001', secretAccessKey: 'benchbenchbenchbenchbenchbenchbenchbench' };

interface Server {
  name: string;
  child: ChildProcess;
  origin: string;
}

const viteNode = createRequire(import.meta.url).resolve('vite-node/vite-node.mjs');
const children = new Set<ChildProcess>();

function startServer(name: string, root: string, db: string): Promise<Server> {
  const child = spawn(process.execPath, [viteNode, path.join(projectRoot, 'bench', 'adminServer.ts')], {
    env: { ...process.env, BENCH_ROOT: root, BENCH_DB: db },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{"port"'));
      if (line !== undefined) resolve({ name, child, origin: `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}` });
    });
    child.once('exit', (code) => reject(new Error(`${name} server exited with ${code}`)));
  });
}

/** User + system CPU seconds of one process so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ
}

interface Request {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  expect: number;
}

async function signed(origin: string, method: string, requestPath: string, expect: number, body?: string, sent = body): Promise<Request> {
  const url = new URL(origin);
  const signer = new SignatureV4({ service: 'iot', region: 'us-east-1', credentials: KEY, sha256: Sha256 });
  const headers: Record<string, string> = { host: url.host, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) };
  const s = await signer.sign({
    method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: requestPath,
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  return { method, path: requestPath, headers: s.headers, ...(sent !== undefined ? { body: sent } : {}), expect };
}

/** `CONNECTIONS` keep-alive connections replaying `request` for DURATION_MS; req/s and server CPU µs per request. */
async function measure(server: Server, request: Request): Promise<{ rps: number; cpuUs: number }> {
  const pool = new Pool(server.origin, { connections: CONNECTIONS, pipelining: 1 });
  const pid = server.child.pid ?? 0;
  const cpuBefore = cpuSeconds(pid);
  const start = performance.now();
  let requests = 0;
  const worker = async () => {
    while (performance.now() - start < DURATION_MS) {
      const res = await pool.request({
        method: request.method as 'GET',
        path: request.path,
        headers: request.headers,
        ...(request.body !== undefined ? { body: request.body } : {}),
      });
      const text = await res.body.text();
      if (res.statusCode !== request.expect)
        throw new Error(`${server.name}: expected ${request.expect}, got ${res.statusCode} ${text.slice(0, 200)}`);
      requests++;
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const seconds = (performance.now() - start) / 1000;
  const cpuUs = ((cpuSeconds(pid) - cpuBefore) * 1e6) / requests;
  await pool.close();
  return { rps: requests / seconds, cpuUs };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'certgate-bench-admin-'));
  const before = exportRevision(BEFORE);
  try {
    const fixtures = await BenchRegistry.create(path.join(dir, 'registry.db'), 'benchbenchbenc');
    const ca = await fixtures.ca('bench admin CA', 'p256');
    const [leaf] = await fixtures.leaves(1, ca.identity, ca.identity, ca.cert);
    await fixtures.registry.addCredential({ accountId: ACCOUNT, ...KEY });
    await fixtures.close();
    for (const name of ['before', 'after']) copyFileSync(path.join(dir, 'registry.db'), path.join(dir, `${name}.db`));

    const servers = [
      await startServer(`before (${before.commit})`, before.root, path.join(dir, 'before.db')),
      await startServer('after (this tree)', projectRoot, path.join(dir, 'after.db')),
    ];
    console.log(
      `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}; ${CONNECTIONS} keep-alive connections, ${DURATION_MS} ms runs, ${ROUNDS} rounds`,
    );
    const kinds = {
      describe: (origin: string) => signed(origin, 'GET', `/certificates/${leaf?.id ?? ''}`, 200),
      badsig: (origin: string) =>
        signed(
          origin,
          'POST',
          '/certificate/register-no-ca',
          403,
          JSON.stringify({ certificatePem: 'A'.repeat(2048) }),
          JSON.stringify({ certificatePem: 'B'.repeat(2048) }),
        ),
    };
    for (const [kind, make] of Object.entries(kinds)) {
      const totals = new Map<string, { rps: number; cpuUs: number }[]>();
      for (const server of servers) await measure(server, await make(server.origin)); // warm-up
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? [0, 1] : [1, 0];
        for (const server of order.map((i) => servers[i]).filter((s) => s !== undefined)) {
          const r = await measure(server, await make(server.origin));
          totals.set(server.name, [...(totals.get(server.name) ?? []), r]);
        }
      }
      const summary = servers.map((s) => {
        const runs = totals.get(s.name) ?? [];
        return { name: s.name, rps: median(runs.map((r) => r.rps)), cpuUs: median(runs.map((r) => r.cpuUs)) };
      });
      for (const s of summary)
        console.log(
          `${kind.padEnd(8)} ${s.name.padEnd(22)} ${s.rps.toFixed(0).padStart(6)} req/s  server CPU ${s.cpuUs.toFixed(0).padStart(4)} µs/request`,
        );
      const [b, a] = summary;
      if (a !== undefined && b !== undefined)
        console.log(
          `${kind.padEnd(8)} after/before: req/s ${(a.rps / b.rps).toFixed(2)}×, CPU per request ${(a.cpuUs / b.cpuUs).toFixed(2)}×`,
        );
    }
  } finally {
    for (const child of children) child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    before.remove();
  }
}

await main();
