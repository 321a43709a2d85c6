/**
 * Overload benchmark (issue 14, defect 4): what a `certgate serve` process does at 3× its
 * capacity, with load shedding (the defaults) and without it, side by side in one run;
 * then thousands of slow connections against the authorizer and the admin API.
 *
 *   capacity  closed loop, 16 keep-alive connections on a server without shedding: its
 *             CPU per decision (from /proc), whence what one core decides per second
 *   overload  open loop at 3× that rate for BENCH_DURATION_MS over BENCH_CONNECTIONS
 *             connections, per server (no shedding, BENCH_BEFORE's build, the defaults,
 *             --request-start-header): answered requests' p50/p99, requests shed (503
 *             OVERLOADED), the generator's lateness, each process's run-queue wait,
 *             server CPU per request (from /proc), peak memory over idle
 *                                   targets: answered p99 ≤ 10 ms, memory ≤ idle + 100 MiB
 *   scrape    decision latency alone and with 16 back-to-back /metrics scrapers, with
 *             /metrics on the authorizer port and on --metrics-port (2 processes)
 *   slow      BENCH_SLOW_CONNECTIONS connections that each send headers and most of a
 *             body, then stall: peak memory over idle and connections still open after
 *             the request timeout, with the defaults and with Node's (no cap, 300 s)
 *
 * The workload is a reconnect storm: every decision verifies its chain (registered CA of
 * BENCH_KEY, 16 leaves in turn, `--verify-cache-size 0`), so capacity is set by real work and
 * shedding has something to save. One server process (`--processes 1`) leaves the other
 * core to this load generator. Everything runs on loopback and every phase is bounded in
 * time. Run: `npm run build:ts && npx vite-node bench/overload.ts`.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { Pool } from 'undici';
import { projectRoot } from '../ts/paths.js';
import { identity, type Cert, type KeyKind } from '../test/authz/pki.js';
import { closedLoopHttp } from './authzLoad.js';
import { loadAverage } from './procCpu.js';
import { BenchRegistry } from './fixtures.js';
import { killChildren, listening, serveArgs, startChild, stopChild } from './childServer.js';
import { DEFAULT_SHEDDING } from '../ts/authz/shedding.js';

const PREFIX = 'benchbenchbenc';
const SNI = `${PREFIX}-ats.iot.us-east-1.localhost`;
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 256);
const SLOW = Number(process.env.BENCH_SLOW_CONNECTIONS ?? 3000);
/** How long the slow clients keep trying (beyond the 10 s default request timeout). */
const SLOW_MS = 14_000;
const ACCESS_KEY = 'AKIABENCHOVERLOAD001';
/**
 * Key type of the CA and devices, which sets the cost of a decision (p256 default; p384
 * about 4× the verification, so the server's capacity is low enough for this one-process
 * generator to offer 3× it on the same two cores).
 */
const KEY = (process.env.BENCH_KEY ?? 'p256') as KeyKind;
/** Verification engine of the servers (native default; wasm costs more per decision, so 3× capacity is a rate this generator can offer). */
const ENGINE = process.env.BENCH_ENGINE ?? 'native';
/** A built older checkout (dist/, bin/, build/, node_modules) run beside this one as "before". */
const BEFORE = process.env.BENCH_BEFORE;
/** The --shed-after-ms values to run with shedding on (comma list). */
const SHED_AFTER = (process.env.BENCH_SHED_AFTER ?? String(DEFAULT_SHEDDING.shedAfterMs)).split(',');

const log = (text: string) => process.stdout.write(`${text}\n`);

interface Server {
  child: ChildProcess;
  authz: string;
  admin: string;
  metrics: string;
}

/**
 * `certgate serve` on `db` with `extra`, every verification inline and none remembered
 * (each decision costs its chain's verification); `root`: the checkout whose
 * bin/certgate.js runs (BENCH_BEFORE runs an older build beside this one).
 */
async function serve(db: string, extra: string[], processes = 1, root = projectRoot): Promise<Server> {
  const args = serveArgs({ db, processes, extra: ['--pool-threads', '0', '--verify-cache-size', '0', ...extra] });
  const { child, line } = await startChild(process.execPath, [path.join(root, 'bin', 'certgate.js'), ...args], listening);
  return { child, authz: String(line.authz), admin: String(line.admin), metrics: String(line.metrics) };
}

/** Stop a server: SIGTERM, and SIGKILL when it has not exited 15 s later. */
async function stop(server: Server): Promise<void> {
  const force = setTimeout(() => server.child.kill('SIGKILL'), 15_000);
  await stopChild(server);
  clearTimeout(force);
}

/** Resident memory of a process in MiB, from /proc. */
function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN) / 1024;
}

/** CPU seconds (user + system) of a process, its threads included, from /proc. */
function cpuSeconds(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ
}

/**
 * Milliseconds a process's threads spent runnable but waiting for a CPU (the scheduler's
 * run_delay, second field of /proc/<pid>/task/<tid>/schedstat): on a shared machine, wait
 * no server policy can see or remove.
 */
function runQueueMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]);
    } catch {
      // the thread exited
    }
  }
  return ns / 1e6;
}

/** Sample memory every 100 ms while `run` lasts; the peak. */
async function peakRss<T>(pid: number, run: () => Promise<T>): Promise<{ result: T; peakMiB: number }> {
  let peak = rssMiB(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMiB(pid));
  }, 100);
  try {
    const result = await run();
    return { result, peakMiB: Math.max(peak, rssMiB(pid)) };
  } finally {
    clearInterval(timer);
  }
}

function quantile(xs: Float64Array, q: number): number {
  if (xs.length === 0) return NaN;
  // A typed array sorts numerically and is a copy, leaving `xs` alone.
  const sorted = Float64Array.from(xs);
  sorted.sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

interface OverloadResult {
  offered: number;
  /** How late the generator sent each request against its schedule (ms). */
  late: Float64Array;
  /** The generator's own CPU over the run (s). */
  generatorCpuS: number;
  answered: Float64Array;
  shed: Float64Array;
  other: number;
  allowsOnShed: number;
  seconds: number;
}

/**
 * Open loop at `rate`/s: sends never wait for answers (a 1 ms timer sends whatever came
 * due). Latency counts from handing the request to undici, its queueing included.
 */
async function openLoop(origin: string, rate: number, body: (i: number) => string): Promise<OverloadResult> {
  const pool = new Pool(origin, { connections: CONNECTIONS, pipelining: 1 });
  const total = Math.floor((rate * DURATION_MS) / 1000);
  const answered = new Float64Array(total);
  const late = new Float64Array(total);
  const cpu0 = process.cpuUsage();
  const shed = new Float64Array(total);
  let nAnswered = 0;
  let nShed = 0;
  let other = 0;
  let allowsOnShed = 0;
  let done = 0;
  let finished!: () => void;
  const allDone = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const start = performance.now();
  const send = (i: number) => {
    const sentAt = performance.now();
    late[i] = sentAt - (start + (i / rate) * 1000);
    pool
      .request({
        path: '/v1/authorize',
        method: 'POST',
        body: body(i),
        // The proxy's arrival stamp (epoch µs), read by servers run with --request-start-header.
        headers: { 'content-type': 'application/json', 'x-request-start': `t=${Math.round((performance.timeOrigin + sentAt) * 1000)}` },
        headersTimeout: 30_000,
      })
      .then(async (res) => {
        const text = await res.body.text();
        const ms = performance.now() - sentAt;
        if (res.statusCode === 200 && text.includes('"allow":true')) answered[nAnswered++] = ms;
        else if (res.statusCode === 503 && res.headers['x-certgate-reason'] === 'OVERLOADED') {
          shed[nShed++] = ms;
          if (text.includes('"allow":true')) allowsOnShed++;
        } else other++;
      })
      .catch(() => other++)
      .finally(() => {
        if (++done === total) finished();
      });
  };
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
    for (; sent < due; sent++) send(sent);
    await new Promise((r) => setTimeout(r, 1));
  }
  await allDone;
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await pool.close();
  return {
    offered: total,
    late,
    generatorCpuS: (cpu.user + cpu.system) / 1e6,
    answered: answered.subarray(0, nAnswered),
    shed: shed.subarray(0, nShed),
    other,
    allowsOnShed,
    seconds,
  };
}

/** An allow, or (a server at capacity may shed) an OVERLOADED refusal; anything else stops the run. */
const expectAllowOrShed = (status: number, text: string) => {
  if (status === 200 && text.includes('"allow":true')) return;
  if (status === 503 && text.includes('"reason":"OVERLOADED"') && !text.includes('"allow":true')) return;
  throw new Error(`expected an allow or OVERLOADED, got ${status} ${text.slice(0, 200)}`);
};

/**
 * Measure capacity (closed loop); then, given `baseRate`, offer 3× it in an open loop.
 * Returns the server CPU per decision in µs (1e6 / it = what one core decides per second).
 */
async function overload(
  name: string,
  db: string,
  extra: readonly string[],
  body: (i: number) => string,
  baseRate?: number,
  root = projectRoot,
): Promise<number> {
  const server = await serve(db, [...extra], 1, root);
  const pid = server.child.pid ?? 0;
  try {
    const closed = (durationMs: number) =>
      closedLoopHttp({
        origin: server.authz,
        path: '/v1/authorize',
        body,
        connections: 16,
        maxRequests: Infinity,
        durationMs,
        check: expectAllowOrShed,
      });
    await closed(1500); // JIT warm-up
    await new Promise((r) => setTimeout(r, 500));
    const idle = rssMiB(pid);
    const cpu0 = cpuSeconds(pid);
    const capacity = await closed(3000);
    const capacityCpuUs = ((cpuSeconds(pid) - cpu0) * 1e6) / capacity.requests;
    if (baseRate === undefined) {
      log(
        `  ${name}: capacity (closed loop, 16 connections) ${Math.round(capacity.rps)} req/s, p99 ${capacity.p99Ms.toFixed(2)} ms, server CPU ${capacityCpuUs.toFixed(1)} µs/request`,
      );
      return capacityCpuUs;
    }
    const rate = Math.round(baseRate * 3);
    const cpu1 = cpuSeconds(pid);
    const waitServer0 = runQueueMs(pid);
    const waitGenerator0 = runQueueMs(process.pid);
    const { result: r, peakMiB } = await peakRss(pid, () => openLoop(server.authz, rate, body));
    const waitServerMsPerS = (runQueueMs(pid) - waitServer0) / r.seconds;
    const waitGeneratorMsPerS = (runQueueMs(process.pid) - waitGenerator0) / r.seconds;
    const handled = r.answered.length + r.shed.length;
    const cpuUs = ((cpuSeconds(pid) - cpu1) * 1e6) / Math.max(1, handled);
    log(`\n${name}`);
    log(
      `  capacity (closed loop, 16 connections): ${Math.round(capacity.rps)} req/s, p99 ${capacity.p99Ms.toFixed(2)} ms, server CPU ${capacityCpuUs.toFixed(1)} µs/request`,
    );
    log(
      `  3× one core's capacity, open loop at ${rate} req/s for ${DURATION_MS} ms over ${CONNECTIONS} connections (${r.offered} requests):`,
    );
    log(
      `    answered ${r.answered.length} (${Math.round(r.answered.length / r.seconds)} req/s): p50 ${quantile(r.answered, 0.5).toFixed(2)} ms, ` +
        `p99 ${quantile(r.answered, 0.99).toFixed(2)} ms, max ${quantile(r.answered, 1).toFixed(2)} ms`,
    );
    log(
      `    shed (503 OVERLOADED) ${r.shed.length}: p50 ${quantile(r.shed, 0.5).toFixed(2)} ms, p99 ${quantile(r.shed, 0.99).toFixed(2)} ms; allows among them: ${r.allowsOnShed}`,
    );
    log(`    other outcomes (errors, timeouts): ${r.other}`);
    log(
      `    generator: lateness against its schedule p50 ${quantile(r.late, 0.5).toFixed(2)} ms, p99 ${quantile(r.late, 0.99).toFixed(2)} ms, max ${quantile(r.late, 1).toFixed(2)} ms; ` +
        `its CPU ${((r.generatorCpuS / r.seconds) * 100).toFixed(0)} % of a core; load average ${loadAverage()}`,
    );
    log(
      `    waiting for a CPU (run queue, /proc schedstat): server ${waitServerMsPerS.toFixed(0)} ms per second, generator ${waitGeneratorMsPerS.toFixed(0)} ms per second`,
    );
    log(
      `    server CPU ${cpuUs.toFixed(1)} µs per handled request (answered + shed); memory idle ${idle.toFixed(0)} MiB, peak ${peakMiB.toFixed(0)} MiB (+${(peakMiB - idle).toFixed(0)})`,
    );
    return capacityCpuUs;
  } finally {
    await stop(server);
  }
}

/**
 * `count` connections that each send a request's headers and most of its body at once,
 * then one more byte per second, never finishing. Returns how many the server still
 * holds open at the end.
 */
async function slowClients(
  url: string,
  count: number,
  head: string,
  bodyBytes: number,
): Promise<{ openAtEnd: number; refusedEarly: number }> {
  const { hostname, port } = new URL(url);
  const sockets: Socket[] = [];
  let closed = 0;
  let refusedEarly = 0;
  const started = performance.now();
  const chunk = 'a'.repeat(bodyBytes);
  for (let i = 0; i < count; i++) {
    const s = connect(Number(port), hostname);
    s.on('error', () => undefined);
    s.on('close', () => {
      closed++;
      if (performance.now() - started < 2000) refusedEarly++;
    });
    s.on('connect', () => {
      s.write(head);
      s.write(chunk);
    });
    s.on('data', () => undefined);
    sockets.push(s);
    if (i % 200 === 199) await new Promise((r) => setTimeout(r, 20));
  }
  const drip = setInterval(() => {
    for (const s of sockets) if (!s.destroyed) s.write('a');
  }, 1000);
  await new Promise((r) => setTimeout(r, SLOW_MS));
  clearInterval(drip);
  const openAtEnd = count - closed;
  for (const s of sockets) s.destroy();
  return { openAtEnd, refusedEarly };
}

async function slow(name: string, db: string, extra: string[]): Promise<void> {
  const server = await serve(db, extra);
  const pid = server.child.pid ?? 0;
  try {
    const authzHead = `POST /v1/authorize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${128 * 1024}\r\n\r\n`;
    const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
    // Signed with a real access key id (ids are not secret) and a wrong signature: the
    // header checks pass, so this is the most an attacker without the secret can make
    // the admin API read.
    const adminHead =
      `POST /cacertificate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${256 * 1024}\r\nX-Amz-Date: ${amzDate}\r\n` +
      `Authorization: AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/${amzDate.slice(0, 8)}/us-east-1/iot/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}\r\n\r\n`;
    const unsignedHead = adminHead.replace(/Authorization: [^\r]*\r\n/, '');
    log(`\n${name}: ${SLOW} slow connections per port, ${SLOW_MS / 1000} s each`);
    for (const [port, url, head, bytes] of [
      ['authorizer (128 KiB bodies, 120 KiB sent)', server.authz, authzHead, 120 * 1024],
      ['admin API, known key id, bad signature (256 KiB bodies, 240 KiB sent)', server.admin, adminHead, 240 * 1024],
      ['admin API, unsigned (256 KiB bodies, 240 KiB sent)', server.admin, unsignedHead, 240 * 1024],
    ] as const) {
      await new Promise((r) => setTimeout(r, 1000));
      const idle = rssMiB(pid);
      const { result, peakMiB } = await peakRss(pid, () => slowClients(url, SLOW, head, bytes));
      log(
        `  ${port}: memory idle ${idle.toFixed(0)} MiB, peak ${peakMiB.toFixed(0)} MiB (+${(peakMiB - idle).toFixed(0)}); closed within 2 s ${result.refusedEarly}, still open after ${SLOW_MS / 1000} s: ${result.openAtEnd}`,
      );
    }
  } finally {
    await stop(server);
  }
}

/**
 * Decision latency (closed loop, 8 connections) alone and while 16 scrapers fetch
 * `/metrics` back to back, on a 2-process server: with `/metrics` on the authorizer port
 * (the default) and on `--metrics-port` (served by the primary).
 */
async function scrapers(db: string, body: (i: number) => string): Promise<void> {
  log('\n/metrics scrapers against decisions (2 processes, closed loop, 8 connections, 3 s each)');
  for (const [name, extra] of [
    ['/metrics on the authorizer port', []],
    ['/metrics on --metrics-port', ['--metrics-port', '0']],
  ] as const) {
    const server = await serve(db, [...extra], 2);
    try {
      const decisions = () =>
        closedLoopHttp({
          origin: server.authz,
          path: '/v1/authorize',
          body,
          connections: 8,
          maxRequests: Infinity,
          durationMs: 3000,
          check: expectAllowOrShed,
        });
      await decisions(); // warm-up
      const alone = await decisions();
      let scrapes = 0;
      const scrapersDone = new AbortController();
      const scrape = async () => {
        const pool = new Pool(new URL(server.metrics).origin, { connections: 1 });
        while (!scrapersDone.signal.aborted) {
          const res = await pool.request({ path: '/metrics', method: 'GET' });
          await res.body.text();
          scrapes++;
        }
        await pool.close();
      };
      const running = Array.from({ length: 16 }, scrape);
      const scraped = await decisions();
      scrapersDone.abort();
      await Promise.all(running);
      log(
        `  ${name}: alone ${Math.round(alone.rps)} req/s, p50 ${alone.p50Ms.toFixed(2)} ms, p99 ${alone.p99Ms.toFixed(2)} ms; ` +
          `with 16 scrapers (${Math.round(scrapes / 3)} scrapes/s) ${Math.round(scraped.rps)} req/s, p50 ${scraped.p50Ms.toFixed(2)} ms, p99 ${scraped.p99Ms.toFixed(2)} ms`,
      );
    } finally {
      await stop(server);
    }
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'certgate-overload-'));
  try {
    const db = path.join(dir, 'bench.db');
    const bench = await BenchRegistry.create(db, PREFIX);
    await bench.registry.addCredential({ accessKeyId: ACCESS_KEY, secretAccessKey: 'bench-overload-secret', accountId: '111111111111' });
    const ca = await bench.ca('Bench CA', KEY);
    const leaves: Cert[] = await bench.leaves(16, identity('bench-device', KEY, false), ca.identity, ca.cert);
    await bench.close();
    const bodies = leaves.map((c) => JSON.stringify({ sni: SNI, certChain: [c.pem] }));
    const body = (i: number) => bodies[i % bodies.length] ?? '';
    log(
      `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}; load average ${loadAverage()}; ${KEY} chains, ${ENGINE} engine`,
    );
    const parts = new Set((process.env.BENCH_PARTS ?? 'overload,scrape,slow').split(','));
    if (parts.has('overload')) {
      const engine = ['--engine', ENGINE];
      const servers: { name: string; extra: readonly string[]; root: string }[] = [
        {
          name: 'shedding off (--max-in-flight 1000000 --shed-after-ms 0)',
          extra: [...engine, '--max-in-flight', '1000000', '--shed-after-ms', '0'],
          root: projectRoot,
        },
      ];
      if (BEFORE !== undefined) servers.push({ name: `before: ${BEFORE} with its defaults`, extra: engine, root: BEFORE });
      for (const ms of SHED_AFTER)
        servers.push({
          name:
            ms === String(DEFAULT_SHEDDING.shedAfterMs)
              ? `shedding on (defaults: --shed-after-ms ${ms})`
              : `shedding on, --shed-after-ms ${ms}`,
          extra: [...engine, '--shed-after-ms', ms],
          root: projectRoot,
        });
      servers.push({
        name: `shedding on, --request-start-header x-request-start (the generator stamps each request), --shed-after-ms ${DEFAULT_SHEDDING.shedAfterMs}`,
        extra: [...engine, '--request-start-header', 'x-request-start'],
        root: projectRoot,
      });
      log('\ncapacity');
      // Capacity is what one core decides: 1e6 / the server CPU per decision (the closed
      // loop's req/s is bounded by this generator on the same two cores and by the
      // machine's other load).
      // The server without shedding: its every request is a decision.
      const cpuUs = await overload(servers[0]!.name, db, servers[0]!.extra, body, undefined, servers[0]!.root);
      const capacity = 1e6 / cpuUs;
      log(`  one core's capacity: ${Math.round(capacity)} decisions/s (${cpuUs.toFixed(1)} µs each)`);
      for (const s of servers) await overload(s.name, db, s.extra, body, capacity, s.root);
    }
    if (parts.has('scrape')) await scrapers(db, body);
    if (parts.has('slow')) {
      await slow('admission defaults (--max-connections 512, 5 s headers, 10 s request)', db, []);
      await slow("Node's defaults (no cap, 300 s)", db, [
        '--max-connections',
        '1000000',
        '--headers-timeout-ms',
        '300000',
        '--request-timeout-ms',
        '300000',
      ]);
    }
  } finally {
    killChildren();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
