/**
 * In-process CPU per decision with a real fleet (issue 15's "where the time goes" for warm
 * 1,000 / 100,000 devices and cold, without HTTP or a load generator): the JSON door's
 * input parse, `Authorizer.decide` wired as `certgate serve` wires it
 * (bench/serveAuthorizer.ts: SQLite registry with the wal-index watch, native engine,
 * verification cache of 100,000, metrics, decision log sampled off, shedding off) and the
 * door's answer encoding, called sequentially over the devices of the fleet that
 * `bench/fleetTraffic.ts` makes (`bench/.cache/fleet-100000`).
 *
 * Side by side: `BENCH_TREES=dirA,dirB` (built trees; default this one) — each
 * (tree, workload) runs in its own process, the trees alternating within every round, so
 * a before/after pair shares the machine's state. Per run it prints the process CPU per
 * decision, the share of it spent in garbage collection (`PerformanceObserver` gc
 * entries, wall time inside the CPU window) and the heap after the run.
 *
 * Run: `npx vite-node bench/fleetDecision.ts`. Knobs: BENCH_TREES, BENCH_WORKLOADS
 * (`warm1000,warm100000,cold,floor`; also `warm1`, and `json`: the JSON door's parse alone; `read`: the registration read of a never-seen device alone), BENCH_ROUNDS (3), BENCH_WARM_CALLS (200000),
 * BENCH_COLD_CALLS (6000), BENCH_CHAIN_MEMO (the decoded-chain memo's size; default the
 * tree's), BENCH_CACHE (bench/.cache), BENCH_FLEET (100000).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { projectRoot } from '../ts/paths.js';
import { profiled } from './cpuProfile.js';
import { builtTree, serveAuthorizer } from './serveAuthorizer.js';

const env = process.env;
const FLEET = Number(env.BENCH_FLEET ?? 100_000);
const CACHE = env.BENCH_CACHE ?? path.join(projectRoot, 'bench', '.cache');
const FLEET_DIR = path.join(CACHE, `fleet-${FLEET}`);
const WARM_CALLS = Number(env.BENCH_WARM_CALLS ?? 200_000);
const COLD_CALLS = Number(env.BENCH_COLD_CALLS ?? 6000);
/** Devices that warm the JIT before a cold run (never used by the timed part). */
const JIT_WARMUP = 1500;
/** `BENCH_PROFILE=dir`: a V8 CPU profile of each timed loop (not the warm-up), for bench/profileSteps.ts. */
const PROFILE = env.BENCH_PROFILE;

interface Result {
  tree: string;
  workload: string;
  calls: number;
  cpuUs: number;
  gcShare: number;
  heapMb: number;
  /** The heap after a full collection (the child runs with --expose-gc): what the caches hold. */
  liveMb: number;
}

function liveHeapMb(): number {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) return NaN;
  collect();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/** One (tree, workload) in this process: prints one `RESULT {json}` line. */
async function child(tree: string, workload: string, db: string): Promise<void> {
  const load = async (file: string) => import(pathToFileURL(path.join(tree, 'dist', file)).href);
  const { openRegistry } = await load('registry/open.js');
  const { jsonInput } = await load('ingress/doors.js');
  const { answerEncoder } = await load('ingress/http.js');
  const { pemToDers } = await load('authz/chain.js');

  // The request bodies wrk sends (one a line), kept as slices of one buffer: off the JS
  // heap, so the harness's own data does not weigh on the collector it measures.
  const file = readFileSync(path.join(FLEET_DIR, 'json-bodies.txt'));
  const bodies: Buffer[] = [];
  for (let from = 0; from < file.length;) {
    const end = file.indexOf(10, from);
    bodies.push(file.subarray(from, end === -1 ? file.length : end));
    from = end === -1 ? file.length : end + 1;
  }
  const sni = (JSON.parse((bodies[0] as Buffer).toString()) as { sni: string }).sni;
  const registry = openRegistry({ path: db, fastPath: true, watchWalIndex: true });
  await registry.settings();
  const { authorizer, engine } = await serveAuthorizer(builtTree(tree), {
    registry,
    engine: 'native',
    shedAfterMs: 0,
    ...(env.BENCH_CHAIN_MEMO === undefined ? {} : { chainMemoSize: Number(env.BENCH_CHAIN_MEMO) }),
  });
  const encode = answerEncoder(true);
  // The floor's work (bench/authzBaselines.ts floor-http): the body parsed, the PEM decoded,
  // verifyChain against the CA read once; and the JSON door's parse alone (json-floor).
  const account = await registry.accountForHost(sni);
  const [ca] = (await registry.listCaCertificates(account.accountId, { pageSize: 1, ascending: true })).items;
  const caDers = pemToDers(ca.certificatePem) as Buffer[];
  const floor = (i: number): void => {
    const parsed = JSON.parse((bodies[i] as Buffer).toString('utf8')) as { certChain: string[] };
    const [leaf, ...intermediates] = (parsed.certChain as string[]).flatMap((p) => pemToDers(p) as Buffer[]);
    if (!engine.verifyChain(leaf as Buffer, intermediates, caDers, Math.floor(Date.now() / 1000), 'client').ok)
      throw new Error('floor: refused');
  };
  const certificateIdOf = (body: Buffer): string => {
    const parsed = JSON.parse(body.toString('utf8')) as { certChain: string[] };
    return createHash('sha256')
      .update((pemToDers(parsed.certChain[0]) as Buffer[])[0] as Buffer)
      .digest('hex');
  };
  const jsonOnly = (i: number): void => {
    JSON.parse((bodies[i] as Buffer).toString('utf8'));
  };
  const decide = (i: number): void => {
    const body = bodies[i] as Buffer;
    const input = jsonInput(body);
    const d = authorizer.decide(input.sni, input.chain, 'json', input.clientId, undefined, true);
    if (d instanceof Promise) throw new Error('expected a synchronous decision');
    if (!d.allow) throw new Error(`device ${i}: ${d.reason} ${d.message ?? ''}`);
    encode(d, false);
  };
  // The registration read of a never-seen device alone (its certificateId from the body's PEM, decoded beforehand).
  const ids = workload === 'read' ? bodies.map((b) => certificateIdOf(b)) : [];
  const readOnly = (i: number): void => {
    if (registry.getCertificateStandingSync(account.accountId, ids[i]) === null) throw new Error('read: no row');
  };
  const call = workload === 'floor' ? floor : workload === 'json' ? jsonOnly : workload === 'read' ? readOnly : decide;

  let gcMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  const timed = async (calls: number, index: (k: number) => number): Promise<{ cpuUs: number; gcShare: number }> => {
    await new Promise((r) => setTimeout(r, 10));
    gcMs = 0;
    observer.observe({ entryTypes: ['gc'] });
    const used = await profiled(PROFILE, `${path.basename(tree)}-${workload}-${process.pid}`, async () => {
      const t = process.cpuUsage();
      for (let k = 0; k < calls; k++) call(index(k));
      return process.cpuUsage(t);
    });
    // gc entries are delivered asynchronously.
    await new Promise((r) => setTimeout(r, 50));
    observer.disconnect();
    const cpu = used.user + used.system;
    return { cpuUs: cpu / calls, gcShare: (gcMs * 1000) / cpu };
  };

  let r: { cpuUs: number; gcShare: number };
  let calls: number;
  if (workload.startsWith('warm')) {
    const set = Number(workload.slice(4));
    for (let i = 0; i < set; i++) call(i);
    calls = WARM_CALLS;
    for (let i = 0; i < Math.min(set, 20_000); i++) call(i);
    r = await timed(calls, (k) => k % set);
  } else if (workload === 'json') {
    calls = WARM_CALLS;
    for (let i = 0; i < 20_000; i++) call(i % 1000);
    r = await timed(calls, (k) => k % 1000);
  } else {
    // cold, floor, read: devices never seen.
    const first = 2000;
    for (let i = 0; i < JIT_WARMUP; i++) call(first + i);
    calls = Math.min(COLD_CALLS, bodies.length - first - JIT_WARMUP);
    r = await timed(calls, (k) => first + JIT_WARMUP + k);
  }
  const result: Result = {
    tree,
    workload,
    calls,
    cpuUs: r.cpuUs,
    gcShare: r.gcShare,
    heapMb: process.memoryUsage().heapUsed / 2 ** 20,
    liveMb: liveHeapMb(),
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  await registry.close();
}

/** The driver: every (tree, workload) in its own process, trees alternating each round. */
function driver(): void {
  const trees = (env.BENCH_TREES ?? projectRoot).split(',').map((t) => path.resolve(t));
  const workloads = (env.BENCH_WORKLOADS ?? 'warm1000,warm100000,cold,floor').split(',');
  const rounds = Number(env.BENCH_ROUNDS ?? 3);
  const source = path.join(FLEET_DIR, 'registry.db');
  if (!existsSync(path.join(FLEET_DIR, 'complete'))) throw new Error(`no fleet in ${FLEET_DIR}: run bench/fleetTraffic.ts once first`);
  const scratch = mkdtempSync(path.join(tmpdir(), 'certgate-fleet-decision-'));
  const viteNode = createRequire(import.meta.url).resolve('vite-node/vite-node.mjs');
  const results: Result[] = [];
  try {
    process.stdout.write(
      `load average at start ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}\n`,
    );
    for (let round = 0; round < rounds; round++) {
      for (const workload of workloads) {
        const order = round % 2 === 0 ? trees : trees.slice(1).concat(trees.slice(0, 1));
        for (const tree of order) {
          // A private copy per run: no run's page cache or WAL state is another's.
          const db = path.join(scratch, `registry-${results.length}.db`);
          copyFileSync(source, db);
          const r = spawnSync(process.execPath, ['--expose-gc', viteNode, fileURLToPath(import.meta.url)], {
            env: { ...env, BENCH_CHILD_TREE: tree, BENCH_CHILD_WORKLOAD: workload, BENCH_CHILD_DB: db },
            encoding: 'utf8',
            maxBuffer: 1 << 24,
          });
          const line = /^RESULT (.*)$/m.exec(r.stdout)?.[1];
          if (r.status !== 0 || line === undefined) throw new Error(`run failed (${tree}, ${workload}):\n${r.stdout}\n${r.stderr}`);
          const result = JSON.parse(line) as Result;
          results.push(result);
          process.stdout.write(
            `round ${round + 1} ${workload.padEnd(11)} ${tree.padEnd(28)} ${result.cpuUs.toFixed(2).padStart(7)} µs/decision, ` +
              `gc ${(100 * result.gcShare).toFixed(1).padStart(4)} %, heap ${result.heapMb.toFixed(0)} MB, live ${result.liveMb.toFixed(0)} MB (load ${loadavg()[0]?.toFixed(2)})\n`,
          );
          for (const suffix of ['', '-wal', '-shm']) rmSync(`${db}${suffix}`, { force: true });
        }
      }
    }
    process.stdout.write('\nmedian µs/decision:\n');
    for (const workload of workloads) {
      const cells = trees.map((tree) => {
        const xs = results.filter((r) => r.tree === tree && r.workload === workload).map((r) => r.cpuUs);
        xs.sort((a, b) => a - b);
        return `${path.basename(tree)} ${(xs[Math.floor(xs.length / 2)] ?? NaN).toFixed(2)}`;
      });
      process.stdout.write(`  ${workload.padEnd(11)} ${cells.join('   ')}\n`);
    }
    process.stdout.write(
      `load average at end ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}\n`,
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (env.BENCH_CHILD_TREE !== undefined) {
  await child(env.BENCH_CHILD_TREE, env.BENCH_CHILD_WORKLOAD ?? 'warm1000', env.BENCH_CHILD_DB ?? '');
} else {
  driver();
}
