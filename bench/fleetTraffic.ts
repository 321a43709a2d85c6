/**
 * A fleet's traffic (issue 15): warm sets of 1, 1,000 and 100,000 distinct devices, cold
 * (a device never seen before on every request), a reconnect storm (every device of the
 * fleet once, as fast as possible) and certgate's own decision p99 at half its maximum
 * rate; through the JSON door (wrk) and the gRPC door (`certgate load` processes), and
 * warm through the NGINX auth_request door's headers (wrk, `BENCH_DOORS=nginx`).
 *
 * Contenders, each served like `certgate serve` (its own processes, node:cluster with 2
 * workers, loopback, keep-alive; bench/authzBaselines.ts):
 *   bare-const   node:http answering a constant, the body never read
 *   json-floor   (warm) node:http reading and JSON.parse'ing the body as certgate's JSON door
 *                does, answering a constant allow of certgate's shape: the price of a JSON
 *                door on node:http; certgate minus it is certgate's own cost
 *   naive-mem    node:crypto: CA parsed once, registry ids and statuses in a Map
 *   certgate     `certgate serve` from dist/, native engine (and wasm for cold and storm)
 *   bare-grpc    grpc-js Check answering OK (gRPC door)
 *
 * Generators: wrk (C, one thread, a Lua script cycling prepared request strings:
 * bench/wrk/bodies.lua) for the JSON door; `certgate load --grpc` with worker processes for
 * the gRPC door. Both sides' CPU per request comes from /proc: the server's process tree
 * (bench/procCpu.ts) and the generator's (its children's times, read by the shell that
 * waited for it). Every answer is checked: any non-allow fails the line (`bad`).
 *
 * Devices are real: `certgate fleet create` (P-256 leaves under a P-256 CA, registered in
 * a SQLite registry), cached in BENCH_CACHE (default bench/.cache) and reused.
 *
 * Run: `npm run bench:fleet` (installs wrk if missing, builds dist/, runs this). Knobs:
 * BENCH_FLEET (100000), BENCH_DURATION_S (5), BENCH_PARTS (warm,cold,storm,p99),
 * BENCH_DOORS (json,grpc; nginx adds the NGINX auth_request door's headers to the warm part), BENCH_WARM_SETS (1,1000,<fleet>), BENCH_GRPC_WARM_SETS (the same), BENCH_CONNECTIONS (32), BENCH_GRPC_WORKERS (2),
 * BENCH_CERTGATE_ARGS (extra `certgate serve` arguments), BENCH_PROFILE=dir (certgate
 * under --cpu-prof; bench/profileSteps.ts reads it), BENCH_PERF=dir (each cold JSON run's
 * server tree under `perf record`, its CPU split by binary: bench/perfRecord.ts), BENCH_ENGINES (native,wasm; an entry
 * `engine@DIR` runs that engine's `certgate serve` from the built tree DIR, e.g.
 * `native,wasm,wasm@/tmp/base` puts a tree's wasm engine before a change beside this one's
 * in the cold and storm parts), BENCH_TREE (run every `certgate serve` from another built
 * tree), BENCH_BASE (a second built tree run beside this one as certgate-base, warm and
 * cold, in the same run), BENCH_WARM_CONTENDERS,
 * BENCH_NAIVE=0 (no naive-mem in the cold and storm parts), BENCH_FLOOR_WASM=1 (also the
 * floor with the wasm engine, cold part), BENCH_JIT_WARMUP (1500: cold
 * requests a fresh server decides before the measured run; the wasm engine's code is still
 * being tiered up by V8 for its first few thousand calls per process, bench/README.md),
 * BENCH_BASELINE_NODE_FLAGS (node flags of the baseline servers; by default the V8 flags
 * certgate's server processes get, childServer.ts baselineNodeFlags).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import path from 'node:path';
import { projectRoot } from '../ts/paths.js';
import { readFleet, type Fleet } from '../ts/load/fleet.js';
import { baselineNodeFlags, children, envServeArgs, killChildren, serveArgs, startChild, stopChild } from './childServer.js';
import { DSO_HEADER, dsoRow, perfRecorded } from './perfRecord.js';
import { loadAverage, statFields, treeCpuSeconds, USER_HZ } from './procCpu.js';

const env = process.env;
const FLEET = Number(env.BENCH_FLEET ?? 100_000);
const CACHE = env.BENCH_CACHE ?? path.join(projectRoot, 'bench', '.cache');
const DURATION_S = Number(env.BENCH_DURATION_S ?? 5);
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 32);
const GRPC_WORKERS = Number(env.BENCH_GRPC_WORKERS ?? 2);
const PARTS = new Set((env.BENCH_PARTS ?? 'warm,cold,storm,p99').split(','));
const DOORS = new Set((env.BENCH_DOORS ?? 'json,grpc').split(','));
const ENGINES = (env.BENCH_ENGINES ?? 'native,wasm').split(',');
const PROFILE = env.BENCH_PROFILE;
/** BENCH_PERF=dir: `perf record` each cold JSON run's server tree there and print its CPU per binary (bench/perfRecord.ts). */
const PERF = env.BENCH_PERF;
/** Which contenders the warm JSON part runs (all by default). */
const WARM_CONTENDERS = new Set(
  (env.BENCH_WARM_CONTENDERS ?? 'bare-const,json-floor,certgate native,certgate-base native,naive-mem').split(','),
);
const WARM_SETS = (env.BENCH_WARM_SETS ?? `1,1000,${FLEET}`)
  .split(',')
  .map(Number)
  .filter((n, i, a) => n > 0 && n <= FLEET && a.indexOf(n) === i);
/** Warm sets of the gRPC door (BENCH_GRPC_WARM_SETS; default the JSON door's): its generator and server cost ~5× the JSON door's per call, so warming 100,000 devices there takes minutes. */
const GRPC_WARM_SETS = env.BENCH_GRPC_WARM_SETS === undefined ? WARM_SETS : env.BENCH_GRPC_WARM_SETS.split(',').map(Number);
/** Cold requests that warm a fresh server's JIT before a timed cold run (devices not used after; BENCH_JIT_WARMUP). */
const JIT_WARMUP = Number(env.BENCH_JIT_WARMUP ?? 1500);
/** The certgate tree whose `certgate serve` runs (BENCH_TREE: another built checkout, e.g. the commit before a change). */
const CERTGATE = path.join(env.BENCH_TREE ?? projectRoot, 'bin', 'certgate.js');
/**
 * BENCH_BASE: a second built tree (e.g. main before a change) whose `certgate serve` runs
 * beside this one as "certgate-base" in the same run: warm (JSON door) and cold lines.
 */
const BASE = env.BENCH_BASE === undefined ? undefined : path.join(path.resolve(env.BENCH_BASE), 'bin', 'certgate.js');
/**
 * BENCH_BASE_DB: the registry file certgate-base serves, when BENCH_BASE's schema is older
 * than the fixture's (this tree migrates the fixture forward when it opens it; an older
 * tree refuses a newer schema). A copy of the fixture's file with the newer migrations
 * taken back, same certificates.
 */
const BASE_DB = env.BENCH_BASE_DB;
const viteNode = createRequire(import.meta.url).resolve('vite-node/vite-node.mjs');

// ---- servers ----

interface Server {
  name: string;
  child: ChildProcess;
  http: string | undefined;
  grpc: string | undefined;
}

/** A server's ready line: a baseline logs `port`, `certgate serve` its "listening" line. */
async function startServer(name: string, command: string, args: string[], envExtra: Record<string, string>): Promise<Server> {
  const { child, line } = await startChild(command, args, (l) => typeof l.port === 'number' || l.msg === 'listening', { env: envExtra });
  if (typeof line.port === 'number') {
    const address = `127.0.0.1:${line.port}`;
    return { name, child, http: `http://${address}`, grpc: address };
  }
  return { name, child, http: String(line.authz), grpc: String(line.grpc) };
}

const baseline = (mode: string, db: string, extra: Record<string, string> = {}) =>
  startServer(mode, process.execPath, [...baselineNodeFlags(), viteNode, path.join(projectRoot, 'bench', 'authzBaselines.ts')], {
    BENCH_MODE: mode,
    BENCH_DB: db,
    ...extra,
  });

let profiles = 0;
/**
 * `certgate serve` with `engine`, or with `name`'s engine from its tree when `name` is
 * `engine@DIR`; from `bin` (BENCH_BASE's tree: "certgate-base") when given.
 */
const certgate = (db: string, name: string, bin = CERTGATE) => {
  const [engine = name, tree] = name.split('@');
  return startServer(
    `${bin === CERTGATE ? 'certgate' : 'certgate-base'} ${name}`,
    process.execPath,
    [
      ...(PROFILE === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.join(PROFILE, `certgate-${engine}-${++profiles}`)}`]),
      tree === undefined ? bin : path.join(path.resolve(tree), 'bin', 'certgate.js'),
      // Shedding off: a closed loop of 32 connections on 2 shared cores is not an overload,
      // but a request can wait past --shed-after-ms behind the generator and be refused.
      ...serveArgs({ db: bin === BASE && BASE_DB !== undefined ? BASE_DB : db, engine, shedAfterMs: 0, extra: envServeArgs() }),
    ],
    {},
  );
};

// ---- the fleet ----

interface Fixture {
  db: string;
  fleetDir: string;
  fleet: Fleet;
  /** One JSON door body a line, device i on line i. */
  bodies: string;
  /** The NGINX door's two headers a line (`SNI<TAB>escaped PEM`, as `$ssl_client_escaped_cert`), device i on line i. */
  nginxHeaders: string;
}

function certgateCli(args: string[]): string {
  const r = spawnSync(process.execPath, [CERTGATE, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`certgate ${args.join(' ')} exited with ${r.status}`);
  return r.stdout;
}

/** The fleet of FLEET devices, made once by `certgate fleet create` and kept in CACHE. */
function fixture(log: (s: string) => void): Fixture {
  const dir = path.join(CACHE, `fleet-${FLEET}`);
  const db = path.join(dir, 'registry.db');
  const fleetDir = path.join(dir, 'fleet');
  const bodies = path.join(dir, 'json-bodies.txt');
  if (!existsSync(path.join(dir, 'complete'))) {
    mkdirSync(dir, { recursive: true });
    const t0 = performance.now();
    certgateCli(['account', 'create', '--db', db, '--account-id', '123456789012', '--json']);
    certgateCli(['fleet', 'create', '--db', db, '--count', String(FLEET), '--out', fleetDir, '--json']);
    log(`fleet: ${FLEET} P-256 devices made and registered by certgate fleet create in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const made = readFleet(fleetDir);
    writeFileSync(bodies, made.devices.map((d) => JSON.stringify({ sni: made.sni, certChain: [d.certificatePem] })).join('\n') + '\n');
    writeFileSync(path.join(dir, 'complete'), '');
  }
  const fleet = readFleet(fleetDir);
  // Made apart from the fleet, so a fleet cached before the NGINX door was benched gets it too.
  const nginxHeaders = path.join(dir, 'nginx-headers.txt');
  if (!existsSync(nginxHeaders))
    writeFileSync(nginxHeaders, fleet.devices.map((d) => `${fleet.sni}\t${encodeURIComponent(d.certificatePem)}`).join('\n') + '\n');
  return { db, fleetDir, fleet, bodies, nginxHeaders };
}

// ---- generators ----

/** A finished load run: both sides' CPU and the answers. */
interface Run {
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Server CPU per request, µs (its whole process tree). */
  serverUs: number;
  /** Generator CPU per request, µs. */
  loadUs: number;
  /** Answers other than an allow, socket errors, requests beyond a `once` run's devices. */
  bad: number;
  extra: number;
}

interface Job {
  first: number;
  count: number;
  /** cycle: the devices round and round for `seconds`; once: each device once. */
  mode: 'cycle' | 'once';
  seconds: number;
  /** wrk only: the JSON door (default) or the NGINX auth_request door's headers. */
  door?: 'json' | 'nginx';
}

/**
 * Run `command args` under a shell that prints, after it exits, its own /proc stat line:
 * cutime + cstime there are the generator's CPU (it was the shell's waited-for child).
 * The generator's pid comes first (`PID n`), so a `once` run can be ended by its id.
 */
function generator(
  command: string,
  args: string[],
  onLine: (line: string, child: { pid: number }) => void,
): Promise<{ out: string; cpuSeconds: number; code: number }> {
  const script = '"$@" & g=$!; echo "PID $g"; wait $g; s=$?; read -r l < /proc/$$/stat; echo; echo "CPUSTAT $l"; exit $s';
  const child = spawn('bash', ['-c', script, 'bash', command, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  let pid = 0;
  let out = '';
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      out += `${line}\n`;
      if (line.startsWith('PID ')) pid = Number(line.slice(4));
      else onLine(line, { pid });
    }
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      children.delete(child);
      const stat = /^CPUSTAT (.*)$/m.exec(out)?.[1];
      if (stat === undefined) return reject(new Error(`${command} left no CPU figure (exit ${code}):\n${out}`));
      const f = statFields(stat);
      resolve({ out, cpuSeconds: (Number(f[13]) + Number(f[14])) / USER_HZ, code: code ?? -1 });
    });
  });
}

async function measured(server: Server, run: () => Promise<Omit<Run, 'serverUs'>>): Promise<Run> {
  const pid = server.child.pid ?? 0;
  const before = treeCpuSeconds(pid);
  const r = await run();
  return { ...r, serverUs: ((treeCpuSeconds(pid) - before) * 1e6) / r.requests };
}

/** wrk over the JSON door (or the NGINX door, `job.door`): devices [first, first+count) of the fixture's request file. */
async function wrk(f: Fixture, server: Server, job: Job): Promise<Run> {
  return measured(server, async () => {
    const threads = 1;
    let started = 0;
    let finished = 0;
    let startedAt = 0;
    let finishedAt = 0;
    const nginx = job.door === 'nginx';
    const door = nginx ? '/v1/nginx/auth' : '/v1/authorize';
    const args = [
      `-t${threads}`,
      `-c${CONNECTIONS}`,
      `-d${job.mode === 'once' ? 3600 : job.seconds}s`,
      '--timeout',
      '10s',
      '-s',
      path.join(projectRoot, 'bench', 'wrk', 'bodies.lua'),
      `${server.http}${door}`,
      '--',
      nginx ? f.nginxHeaders : f.bodies,
      door,
      String(job.first),
      String(job.count),
      job.mode,
      String(threads),
      nginx ? 'nginx' : 'json',
    ];
    let timer: NodeJS.Timeout | undefined;
    const g = await generator('wrk', args, (line, child) => {
      if (line.startsWith('START ') && started++ === 0) {
        startedAt = performance.now();
        // A `once` run with a time limit (cold) ends then; a storm ends when every answer is in.
        if (job.seconds > 0) timer = setTimeout(() => process.kill(child.pid, 'SIGINT'), job.seconds * 1000);
      }
      if (line.startsWith('DONE ') && ++finished === threads) {
        finishedAt = performance.now();
        clearTimeout(timer);
        process.kill(child.pid, 'SIGINT');
      }
    });
    clearTimeout(timer);
    const json = /^WRK (.*)$/m.exec(g.out)?.[1];
    if (json === undefined) throw new Error(`wrk printed no result:\n${g.out}`);
    const initCpu = Number(/^INITCPU (.*)$/m.exec(g.out)?.[1] ?? 0);
    const w = JSON.parse(json) as {
      requests: number;
      durationUs: number;
      bad: number;
      extra: number;
      errors: number;
      p50Us: number;
      p99Us: number;
    };
    const seconds = finishedAt > 0 ? (finishedAt - startedAt) / 1000 : w.durationUs / 1e6;
    return {
      requests: w.requests,
      seconds,
      rps: w.requests / seconds,
      p50Ms: w.p50Us / 1000,
      p99Ms: w.p99Us / 1000,
      // Start-up (reading the device list) is not per request.
      loadUs: ((g.cpuSeconds - initCpu) * 1e6) / w.requests,
      bad: w.bad + w.errors,
      extra: w.extra,
    };
  });
}

interface LoadSummary {
  requests: number;
  seconds: number;
  ratePerSecond: number;
  outcomes: Record<string, number>;
  wrong: number;
  latencyUs: { p50: number; p99: number };
}

/** `certgate load` with GRPC_WORKERS generator processes against the gRPC door (or the JSON door with `rate`). */
async function certgateLoad(f: Fixture, server: Server, job: Job & { grpc: boolean; rate?: number }): Promise<Run> {
  return measured(server, async () => {
    const perWorker = Math.max(1, Math.ceil(job.first / GRPC_WORKERS));
    const args = [
      CERTGATE,
      'load',
      '--fleet',
      f.fleetDir,
      ...(job.grpc ? ['--grpc', server.grpc ?? ''] : ['--url', server.http ?? '']),
      '--connections',
      String(CONNECTIONS),
      '--workers',
      String(GRPC_WORKERS),
      '--json',
      ...(job.rate === undefined ? [] : ['--rate', String(Math.round(job.rate))]),
      ...(job.mode === 'cycle'
        ? ['--warm-devices', String(Math.ceil(job.count / GRPC_WORKERS)), '--duration', `${job.seconds}s`]
        : job.count >= f.fleet.devices.length
          ? ['--profile', 'storm']
          : ['--warm-devices', String(perWorker), '--warm-share', '0', '--cold-share', '1', '--duration', `${job.seconds}s`]),
    ];
    const g = await generator(process.execPath, args, () => {});
    const start = g.out.indexOf('{');
    const s = JSON.parse(g.out.slice(start, g.out.lastIndexOf('}') + 1)) as LoadSummary;
    return {
      requests: s.requests,
      seconds: s.seconds,
      rps: s.ratePerSecond,
      p50Ms: s.latencyUs.p50 / 1000,
      p99Ms: s.latencyUs.p99 / 1000,
      loadUs: (g.cpuSeconds * 1e6) / s.requests,
      bad: s.requests - (s.outcomes.allow ?? 0) + s.wrong,
      extra: 0,
    };
  });
}

/**
 * ghz (https://ghz.sh, Go) against the gRPC door: CheckRequests shaped like Envoy's HTTP
 * filter's, devices [first, first+count) as a JSON array that ghz sends round-robin; a
 * `once` job sends exactly `count` (each device once). ghz's start-up (reading and
 * compiling the protos, decoding the array) is measured by a one-request run on the same
 * file and taken off its CPU per request. ghz checks only the RPC status; an allow is told
 * from a deny by certgate's own allow counter.
 */
const GHZ = env.BENCH_GHZ ?? path.join(env.GOPATH ?? path.join(env.HOME ?? '/root', 'go'), 'bin', 'ghz');
const ghzStartup = new Map<string, number>();

function checkRequests(f: Fixture, first: number, count: number): string {
  const file = path.join(path.dirname(f.bodies), `grpc-${first}-${count}.json`);
  if (!existsSync(file)) {
    const requests = f.fleet.devices.slice(first, first + count).map((d) => ({
      attributes: { source: { certificate: encodeURIComponent(d.certificatePem) }, tls_session: { sni: f.fleet.sni } },
    }));
    writeFileSync(file, JSON.stringify(requests));
  }
  return file;
}

function ghzArgs(address: string, data: string, concurrency: number, load: string[]): string[] {
  const protos = path.join(projectRoot, 'protos');
  return [
    '--insecure',
    '--proto',
    path.join(protos, 'envoy', 'service', 'auth', 'v3', 'external_auth.proto'),
    '--import-paths',
    protos,
    '--call',
    'envoy.service.auth.v3.Authorization.Check',
    '--data-file',
    data,
    '--concurrency',
    String(concurrency),
    '--connections',
    String(Math.min(4, concurrency)),
    '--format',
    'summary',
    ...load,
    address,
  ];
}

/** A Go duration as ghz prints it (`1.23ms`, `4.5s`, `850.1µs`, `2m3.4s`) in seconds. */
function duration(text: string): number {
  let total = 0;
  for (const m of text.matchAll(/([\d.]+)(ns|µs|us|ms|s|m|h)/g)) {
    const unit = { ns: 1e-9, µs: 1e-6, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 }[m[2] as 'ns'];
    total += Number(m[1]) * unit;
  }
  return total === 0 ? NaN : total;
}

/** Allow decisions counted by a certgate server (its /metrics), or undefined for another server. */
async function allowsCounted(server: Server): Promise<number | undefined> {
  if (!server.name.startsWith('certgate')) return undefined;
  const text = await (await fetch(`${server.http}/metrics`)).text();
  let n = 0;
  for (const line of text.split('\n'))
    if (line.startsWith('certgate_decisions_total{') && line.includes('result="allow"')) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  return n;
}

async function ghz(f: Fixture, server: Server, job: Job): Promise<Run> {
  const data = checkRequests(f, job.first, job.count);
  const address = server.grpc ?? '';
  let startup = ghzStartup.get(data);
  if (startup === undefined) {
    startup = (await generator(GHZ, ghzArgs(address, data, 1, ['-n', '1']), () => {})).cpuSeconds;
    ghzStartup.set(data, startup);
  }
  const allowsBefore = await allowsCounted(server);
  const load = job.mode === 'once' ? ['-n', String(job.count)] : ['-z', `${job.seconds}s`];
  const r = await measured(server, async () => {
    const g = await generator(GHZ, ghzArgs(address, data, CONNECTIONS, load), () => {});
    // ghz's summary: "Count:", "Total:", "50 % in 1.23 ms", "[OK]   N responses", and errors;
    // calls cut off when a timed run ends are not answers: "transport is closing", and the
    // client's own "Canceled ... the client connection is closing" (ghz closing its
    // connections with a call in flight; measured: 1 of ~57,000 per 5 s run).
    const out = g.out;
    const count = Number(/Count:\s+(\d+)/.exec(out)?.[1] ?? NaN);
    const ok = Number(/\[OK\]\s+(\d+) responses/.exec(out)?.[1] ?? 0);
    const cut =
      Number(/\[(\d+)\]\s+rpc error: code = Unavailable desc = transport is closing/.exec(out)?.[1] ?? 0) +
      Number(/\[(\d+)\]\s+rpc error: code = Canceled desc = grpc: the client connection is closing/.exec(out)?.[1] ?? 0);
    const seconds = duration(/Total:\s+(\S+ \S+)/.exec(out)?.[1]?.replace(' ', '') ?? '');
    const at = (p: number) => duration(new RegExp(`${p} % in (\\S+ \\S+)`).exec(out)?.[1]?.replace(' ', '') ?? '') * 1000;
    const answered = count - cut;
    // Say what the answers other than OK were (ghz's "Status code distribution" and "Error distribution").
    if (answered - ok > 0)
      process.stderr.write(`${server.name}: ghz answers other than OK:\n${out.slice(out.indexOf('Status code distribution'))}\n`);
    return {
      requests: answered,
      seconds,
      rps: answered / seconds,
      p50Ms: at(50),
      p99Ms: at(99),
      loadUs: ((g.cpuSeconds - (startup ?? 0)) * 1e6) / answered,
      bad: answered - ok,
      extra: 0,
    };
  });
  const allowsAfter = await allowsCounted(server);
  if (allowsBefore !== undefined && allowsAfter !== undefined) r.bad = Math.max(r.bad, r.requests - (allowsAfter - allowsBefore));
  return r;
}

/** The gRPC generator: ghz when it is installed, else `certgate load` processes. */
const grpcLoad = (f: Fixture, server: Server, job: Job): Promise<Run> =>
  existsSync(GHZ) ? ghz(f, server, job) : certgateLoad(f, server, { ...job, grpc: true });

// ---- warm-up ----

/**
 * Make a set warm in a certgate server: every device through both of its processes. Which
 * process a request reaches depends on the connection it goes out on, so the set is sent
 * several times over (a device missed by a process after k passes: 2^-k); the verification
 * cache's hit rate over the timed run is printed beside it. The baselines keep nothing per
 * device, so they get only a second of JIT warm-up.
 */
async function warmUp(server: Server, set: number, run: (job: Job) => Promise<Run>): Promise<void> {
  await run({ first: 0, count: set, mode: 'cycle', seconds: 1 });
  if (!server.name.startsWith('certgate') || set === 1) return;
  for (let pass = 0; pass < (set <= 2000 ? 6 : 4); pass++) await run({ first: 0, count: set, mode: 'once', seconds: 0 });
  // A large set can still leave (device, process) pairs unseen after those passes
  // (2 × 2^-4 ≈ 12 % of devices miss one process): a timed run would then measure partly
  // cold decisions. More passes while one still misses over 0.5 % of the set (at most 6).
  for (let pass = 0; pass < 6; pass++) {
    const before = await cacheCounts(server);
    await run({ first: 0, count: set, mode: 'once', seconds: 0 });
    const after = await cacheCounts(server);
    if (before === undefined || after === undefined || after.misses - before.misses <= set / 200) break;
  }
}

/** certgate's verification-cache hits and misses so far (its /metrics), or undefined for another server. */
async function cacheCounts(server: Server): Promise<{ hits: number; misses: number } | undefined> {
  if (!server.name.startsWith('certgate')) return undefined;
  const text = await (await fetch(`${server.http}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { hits: value('certgate_verify_cache_hits_total'), misses: value('certgate_verify_cache_misses_total') };
}

async function hitRate(server: Server, before: { hits: number; misses: number } | undefined): Promise<string> {
  const after = await cacheCounts(server);
  if (before === undefined || after === undefined) return '';
  const hits = after.hits - before.hits;
  const misses = after.misses - before.misses;
  return `(verification cache hits ${((100 * hits) / (hits + misses)).toFixed(1)} %)`;
}

// ---- certgate's own decision histogram ----

/** Bucket counts of certgate_decision_duration_seconds{door, result="allow"} from /metrics. */
async function decisionBuckets(server: Server, door: string): Promise<Map<number, number>> {
  const text = await (await fetch(`${server.http}/metrics`)).text();
  const buckets = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('certgate_decision_duration_seconds_bucket{')) continue;
    if (!line.includes(`door="${door}"`) || !line.includes('result="allow"')) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1] ?? '';
    buckets.set(le === '+Inf' ? Infinity : Number(le), Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return buckets;
}

/** The upper bound of the bucket holding the p99 of the decisions between two readings. */
function p99Bound(before: Map<number, number>, after: Map<number, number>): { bound: number; decisions: number } {
  const les = Float64Array.from(after.keys());
  les.sort();
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  for (const le of les) {
    if ((after.get(le) ?? 0) - (before.get(le) ?? 0) >= 0.99 * total) return { bound: le, decisions: total };
  }
  return { bound: Infinity, decisions: total };
}

// ---- the table ----

const us = (x: number) => `${x.toFixed(1)} µs`;
function row(cells: (string | number)[]): string {
  return `| ${cells.join(' | ')} |`;
}
const runCells = (r: Run) => [
  Math.round(r.rps),
  `${r.p50Ms.toFixed(2)} / ${r.p99Ms.toFixed(2)} ms`,
  us(r.serverUs),
  us(r.loadUs),
  r.bad === 0 ? '0' : `**${r.bad}**`,
];

async function main(): Promise<void> {
  const lines: string[] = [];
  const log = (s: string) => {
    lines.push(s);
    process.stdout.write(`${s}\n`);
  };
  try {
    // The cold part's devices start at 2,000 (after the warm sets) plus its JIT warm-up.
    if (PARTS.has('cold') && FLEET <= 2000 + JIT_WARMUP)
      throw new Error(`the cold part needs BENCH_FLEET above ${2000 + JIT_WARMUP} (2,000 + BENCH_JIT_WARMUP), got ${FLEET}`);
    const f = fixture(log);
    log(
      `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}; load average at start ${loadAverage()}; ` +
        `${CONNECTIONS} connections, ${DURATION_S} s runs; fleet ${f.fleet.devices.length} P-256 devices (${CACHE})`,
    );
    log('');
    log(row(['workload', 'door', 'contender', 'req/s', 'p50 / p99', 'server CPU/req', 'generator CPU/req', 'not allowed']));
    log(row(['---', '---', '---', '---', '---', '---', '---', '---']));
    const line = (workload: string, door: string, who: string, r: Run, note = '') =>
      log(row([workload, door, who, ...runCells(r)]) + (note === '' ? '' : ` ${note}`));

    // ---- warm: one server of each contender, every set in turn ----
    if (PARTS.has('warm')) {
      if (DOORS.has('json')) {
        const servers = [
          await baseline('bare-const', f.db),
          await baseline('json-floor', f.db),
          await certgate(f.db, 'native'),
          ...(BASE === undefined ? [] : [await certgate(f.db, 'native', BASE)]),
          await baseline('naive-mem', f.db),
        ].filter((s) => WARM_CONTENDERS.has(s.name));
        for (const set of WARM_SETS) {
          const results = new Map<string, Run>();
          for (const server of servers) {
            await warmUp(server, set, (job) => wrk(f, server, job));
            const hits = await cacheCounts(server);
            const r = await wrk(f, server, { first: 0, count: set, mode: 'cycle', seconds: DURATION_S });
            results.set(server.name, r);
            line(`warm ${set}`, 'json', server.name, r, await hitRate(server, hits));
          }
          const bare = results.get('bare-const');
          const floor = results.get('json-floor');
          const cg = results.get('certgate native');
          const versus = (label: string, a: Run, b: Run) =>
            log(
              row([
                `warm ${set}`,
                'json',
                `**${label}**`,
                `**${(a.rps / b.rps).toFixed(2)}×**`,
                '',
                `**${a.serverUs - b.serverUs >= 0 ? '+' : ''}${us(a.serverUs - b.serverUs)}**`,
                '',
                '',
              ]),
            );
          if (bare !== undefined && cg !== undefined) versus('certgate / bare', cg, bare);
          // The JSON door's own price on node:http, and certgate's cost beyond it.
          if (bare !== undefined && floor !== undefined) versus('json-floor / bare', floor, bare);
          if (floor !== undefined && cg !== undefined) versus('certgate / json-floor', cg, floor);
          const base = results.get('certgate-base native');
          if (floor !== undefined && base !== undefined) versus('certgate-base / json-floor', base, floor);
          if (base !== undefined && cg !== undefined) versus('certgate / certgate-base', cg, base);
        }
        await Promise.all(servers.map(stopChild));
      }
      // The NGINX auth_request door (the certificate and SNI in two headers, no body to read
      // or parse: issue 15's "cheaper body format") against the same bare server, and the
      // gRPC door against bare grpc-js.
      const doors = [
        {
          door: 'nginx',
          bare: 'bare-const',
          sets: WARM_SETS,
          servers: async () => [await baseline('bare-const', f.db), await certgate(f.db, 'native')],
          run: (server: Server, job: Job) => wrk(f, server, { ...job, door: 'nginx' }),
        },
        {
          door: 'grpc',
          bare: 'bare-grpc',
          sets: GRPC_WARM_SETS,
          servers: async () => [await baseline('bare-grpc', f.db), await certgate(f.db, 'native')],
          run: (server: Server, job: Job) => grpcLoad(f, server, job),
        },
      ];
      for (const d of doors) {
        if (!DOORS.has(d.door)) continue;
        const servers = await d.servers();
        for (const set of d.sets) {
          const results = new Map<string, Run>();
          for (const server of servers) {
            await warmUp(server, set, (job) => d.run(server, job));
            const hits = await cacheCounts(server);
            const r = await d.run(server, { first: 0, count: set, mode: 'cycle', seconds: DURATION_S });
            results.set(server.name, r);
            line(`warm ${set}`, d.door, server.name, r, await hitRate(server, hits));
          }
          const bare = results.get(d.bare);
          const cg = results.get('certgate native');
          if (bare !== undefined && cg !== undefined)
            log(
              row([
                `warm ${set}`,
                d.door,
                '**certgate / bare**',
                `**${(cg.rps / bare.rps).toFixed(2)}×**`,
                '',
                `**+${us(cg.serverUs - bare.serverUs)}**`,
                '',
                '',
              ]),
            );
        }
        await Promise.all(servers.map(stopChild));
      }
    }

    // ---- cold and storm: a fresh server for every run, so no device was seen before ----
    const contenders = [
      ...(env.BENCH_NAIVE === '0' ? [] : [{ name: 'naive-mem', start: () => baseline('naive-mem', f.db), json: true, grpc: false }]),
      ...ENGINES.map((engine) => ({ name: `certgate ${engine}`, start: () => certgate(f.db, engine), json: true, grpc: true })),
      ...(BASE === undefined
        ? []
        : ENGINES.map((engine) => ({
            name: `certgate-base ${engine}`,
            start: () => certgate(f.db, engine, BASE),
            json: true,
            grpc: true,
          }))),
      // Not a contender, a bound (cold only): node:http + the native engine's verifyChain alone.
      { name: 'floor', start: () => baseline('floor-http', f.db, { BENCH_SNI: f.fleet.sni }), json: true, grpc: false, coldOnly: true },
      // The same bound with the wasm engine (BENCH_FLOOR_WASM=1): what the engine alone costs in a server.
      ...(env.BENCH_FLOOR_WASM === '1'
        ? [
            {
              name: 'floor wasm',
              start: () => baseline('floor-http', f.db, { BENCH_SNI: f.fleet.sni, BENCH_FLOOR_ENGINE: 'wasm' }),
              json: true,
              grpc: false,
              coldOnly: true,
            },
          ]
        : []),
    ];
    const fresh = async <T>(start: () => Promise<Server>, run: (s: Server) => Promise<T>): Promise<T> => {
      const server = await start();
      try {
        return await run(server);
      } finally {
        await stopChild(server);
      }
    };
    if (PARTS.has('cold')) {
      // Devices from 2,000 on: never in a warm set below 2,000; each fresh server first
      // decides JIT_WARMUP others (its JIT warm), then one new device per request.
      const first = 2000;
      for (const door of ['json', 'grpc'] as const) {
        if (!DOORS.has(door)) continue;
        const rates = new Map<string, number>();
        const cpu = new Map<string, number>();
        const perfRows: string[] = [];
        for (const c of contenders) {
          if (!c[door]) continue;
          const r = await fresh(c.start, async (server) => {
            if (door === 'json') {
              await wrk(f, server, { first, count: JIT_WARMUP, mode: 'once', seconds: 0 });
              const timed = () =>
                wrk(f, server, {
                  first: first + JIT_WARMUP,
                  count: f.fleet.devices.length - first - JIT_WARMUP,
                  mode: 'once',
                  seconds: DURATION_S,
                });
              if (PERF === undefined) return timed();
              const recorded = await perfRecorded(PERF, `${c.name}-cold-${door}`, server.child.pid ?? 0, timed);
              perfRows.push(dsoRow(c.name, recorded.shares, recorded.result.serverUs));
              return recorded.result;
            }
            // As for the JSON door: JIT_WARMUP devices first, then devices never seen.
            await grpcLoad(f, server, { first, count: JIT_WARMUP, mode: 'once', seconds: 0 });
            const rest = f.fleet.devices.length - first - JIT_WARMUP;
            return grpcLoad(f, server, { first: first + JIT_WARMUP, count: rest, mode: 'cycle', seconds: DURATION_S });
          });
          rates.set(c.name, r.rps);
          cpu.set(c.name, r.serverUs);
          line('cold', door, c.name, r, r.extra > 0 ? `(${r.extra} repeats after the devices ran out)` : '');
        }
        if (perfRows.length > 0) {
          log(`\nwhere each server's CPU went, cold ${door}, by binary (perf, µs per request of the run it sampled):\n\n${DSO_HEADER}`);
          for (const r of perfRows.splice(0)) log(r);
          log('');
        }
        const naive = rates.get('naive-mem');
        const floor = cpu.get('floor');
        if (floor !== undefined)
          for (const name of ENGINES.flatMap((engine) => [`certgate ${engine}`, `certgate-base ${engine}`])) {
            const cg = cpu.get(name);
            if (cg !== undefined)
              log(row(['cold', door, `**${name} server CPU / floor's**`, '', '', `**${(cg / floor).toFixed(2)}×**`, '', '']));
          }
        if (naive !== undefined)
          for (const name of ENGINES.flatMap((engine) => [`certgate ${engine}`, `certgate-base ${engine}`])) {
            const cg = rates.get(name);
            if (cg !== undefined) log(row(['cold', door, `**${name} / naive**`, `**${(cg / naive).toFixed(2)}×**`, '', '', '', '']));
          }
      }
    }
    if (PARTS.has('storm')) {
      const all = f.fleet.devices.length;
      for (const door of ['json', 'grpc'] as const) {
        if (!DOORS.has(door)) continue;
        for (const c of contenders) {
          if (!c[door] || 'coldOnly' in c) continue;
          const r = await fresh(c.start, (server) =>
            door === 'json'
              ? wrk(f, server, { first: 0, count: all, mode: 'once', seconds: 0 })
              : grpcLoad(f, server, { first: 0, count: all, mode: 'once', seconds: 0 }),
          );
          line(`storm ${all}`, door, c.name, r, `time to admit all: **${r.seconds.toFixed(1)} s**`);
        }
      }
    }

    // ---- certgate's decision p99 (its own histogram) at half its closed-loop maximum ----
    if (PARTS.has('p99') && DOORS.has('json')) {
      await fresh(
        () => certgate(f.db, 'native'),
        async (server) => {
          const set = 1000;
          await wrk(f, server, { first: 0, count: set, mode: 'cycle', seconds: 1 });
          const max = await wrk(f, server, { first: 0, count: set, mode: 'cycle', seconds: DURATION_S });
          const before = await decisionBuckets(server, 'json');
          const half = await certgateLoad(f, server, {
            first: 0,
            count: set,
            mode: 'cycle',
            seconds: DURATION_S,
            grpc: false,
            rate: max.rps / 2,
          });
          const { bound, decisions } = p99Bound(before, await decisionBuckets(server, 'json'));
          line(`warm ${set}, open loop at ${Math.round(max.rps / 2)} req/s`, 'json', 'certgate native', half);
          log(
            `\ncertgate decision p99 (certgate_decision_duration_seconds, ${decisions} decisions at half of ${Math.round(max.rps)} req/s): ` +
              `≤ ${bound === Infinity ? '∞' : `${bound * 1000} ms`} (target ≤ 1 ms)`,
          );
        },
      );
    }
    log(`\nload average at end ${loadAverage()}`);
  } finally {
    killChildren();
  }
}

await main();
