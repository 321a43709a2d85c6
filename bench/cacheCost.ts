/**
 * What the decision's bounded caches cost on a warm request, before and after a change,
 * in one process: one `VerifyCache.get` and two `ConfigCache.peek` (SNI routing, the
 * anchor) per iteration, 16 keys, every lookup a hit — the cache work of one warm
 * decision. The BENCH_BEFORE revision's modules are exported with `git archive`
 * (revision.ts); rounds alternate; CPU time from process.cpuUsage, median of the rounds.
 * Run: `BENCH_BEFORE=<revision> npx vite-node bench/cacheCost.ts`.
 */
import { ConfigCache } from '../ts/authz/configCache.js';
import { VerifyCache } from '../ts/authz/verifyCache.js';
import { exportRevision } from './revision.js';
import { median } from './median.js';

const ITERATIONS = 2_000_000;
const ROUNDS = 7;

interface Caches {
  VerifyCache: typeof VerifyCache;
  ConfigCache: typeof ConfigCache;
}

/** CPU nanoseconds per iteration. */
function run({ VerifyCache: V, ConfigCache: C }: Caches): number {
  const keys = Array.from({ length: 16 }, (_, i) => `${String(i).padStart(2, '0')}${'0'.repeat(62)}`);
  const verified = new V(10_000);
  const config = new C<string>(1000);
  for (const k of keys) {
    verified.remember(k, k, true);
    config.get(k, 0, () => k);
    config.get(`anchor/${k}`, 0, () => k);
  }
  const anchors = keys.map((k) => `anchor/${k}`);
  let hits = 0;
  const start = process.cpuUsage();
  for (let i = 0; i < ITERATIONS; i++) {
    if (verified.get(keys[i & 15] ?? '', 1) !== undefined) hits++;
    if (config.peek(keys[i & 15] ?? '', 1) !== undefined) hits++;
    if (config.peek(anchors[i & 15] ?? '', 1) !== undefined) hits++;
  }
  const used = process.cpuUsage(start);
  if (hits !== 3 * ITERATIONS) throw new Error(`expected every lookup to hit, got ${hits} of ${3 * ITERATIONS}`);
  return ((used.user + used.system) * 1000) / ITERATIONS;
}

const before = exportRevision(process.env.BENCH_BEFORE ?? 'main');
try {
  const old: Caches = {
    VerifyCache: ((await import(`${before.root}/ts/authz/verifyCache.ts`)) as Caches).VerifyCache,
    ConfigCache: ((await import(`${before.root}/ts/authz/configCache.ts`)) as Caches).ConfigCache,
  };
  const results = { before: [] as number[], after: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    results.before.push(run(old));
    results.after.push(run({ VerifyCache, ConfigCache }));
  }
  console.log(`cache work of one warm decision (1 VerifyCache.get + 2 ConfigCache.peek), CPU ns, median of ${ROUNDS}:`);
  console.log(
    `  before (${before.commit}) ${median(results.before).toFixed(0)} ns   after (this tree) ${median(results.after).toFixed(0)} ns`,
  );
} finally {
  before.remove();
}
