/**
 * Cold `verifyChain` in-process, the call a cold decision makes: a P-256 device
 * certificate never seen before (issued by the engine, like `certgate fleet create`)
 * against its registered P-256 CA (DER, the same bytes every call, as the authorizer
 * passes `anchor.der`), `eku: 'client'`. Each contender verifies every leaf once; CPU
 * per call from `process.cpuUsage()` (this thread), rounds alternated.
 *
 *   native          build/native (ring)
 *   wasm            build/wasm through ts/engine/load.ts (node:crypto host verifier)
 *   wasm-base       BENCH_BASE_TREE=DIR: the wasm engine of another built checkout (e.g.
 *                   the commit before a change: its build/wasm, loaded by its own
 *                   ts/engine/load.ts with its own host verifier)
 *   native-base     the same tree's native engine, when BENCH_BASE_TREE is set
 *   wasm-build      BENCH_WASM_BUILD=DIR: another build of this tree's wasm engine (its
 *                   certgate_wasm.js in DIR, e.g. built with other compiler flags)
 *
 * Knobs: BENCH_COLD_LEAVES (20000 per round and contender), BENCH_ROUNDS (3),
 * BENCH_KEY (p256 | rsa2048: the CA's key; leaves are P-256 either way). Outcomes are
 * checked equal (deep) between contenders before timing. BENCH_ONLY=a,b times only
 * those contenders: profile one with `BENCH_ONLY=wasm node --cpu-prof
 * node_modules/vite-node/vite-node.mjs bench/engineCold.ts`; BENCH_PAUSE_FILE=F makes the
 * process print its pid and wait for F to exist before the timed loop (for `perf record -p`).
 *
 * Run: `npx vite-node bench/engineCold.ts` (needs `npm run build:native build:wasm`).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { loadEngine, wasmEngineBinding, type WasmBinding } from '../ts/engine/load.js';
import { median } from './median.js';
import type { EngineBinding } from '../ts/engine/types.js';
import { generateKeys } from '../ts/load/provision.js';

const env = process.env;
const LEAVES = Number(env.BENCH_COLD_LEAVES ?? 20_000);
const ROUNDS = Number(env.BENCH_ROUNDS ?? 3);
const CA_KEY = env.BENCH_KEY ?? 'p256';
const ONLY = env.BENCH_ONLY;

const native = loadEngine('native');
const wasm = loadEngine('wasm');

type Verify = EngineBinding['verifyChain'];
const contenders: [string, Verify][] = [
  ['native', native.verifyChain],
  ['wasm', wasm.verifyChain],
];
if (env.BENCH_BASE_TREE !== undefined) {
  const base = (await import(path.resolve(env.BENCH_BASE_TREE, 'ts', 'engine', 'load.ts'))) as { loadEngine: typeof loadEngine };
  contenders.push(['wasm-base', base.loadEngine('wasm').verifyChain], ['native-base', base.loadEngine('native').verifyChain]);
}
if (env.BENCH_WASM_BUILD !== undefined) {
  const build = createRequire(import.meta.url)(path.resolve(env.BENCH_WASM_BUILD, 'certgate_wasm.js')) as WasmBinding;
  contenders.push(['wasm-build', wasmEngineBinding(build, false).verifyChain]);
}
const timed = ONLY === undefined ? contenders : contenders.filter(([name]) => ONLY.split(',').includes(name));

const now = Math.floor(Date.now() / 1000);

function pkcs8(kind: string): string {
  const pair =
    kind === 'rsa2048' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function der(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

// The registered CA (made by the engine, like `certgate fleet create`'s).
const caKey = pkcs8(CA_KEY);
const ca = native.createIssuingCa(
  Buffer.from(caKey),
  'CN=bench cold CA,O=certgate',
  randomBytes(20),
  now - 86_400,
  now + 10 * 365 * 86_400,
);
if (!ca.ok) throw new Error(`CA: ${ca.code} ${ca.message}`);
const caPem = ca.certificatePem;
const intermediates: Uint8Array[] = [];

function leaves(count: number): Buffer[] {
  const out: Buffer[] = [];
  for (let start = 0; start < count; start += 1000) {
    const n = Math.min(1000, count - start);
    const keys = generateKeys(native, 'p256', n);
    const issued = native.issueCertificates(
      keys.map((k) => Buffer.from(k.publicKeyPem)),
      Buffer.from(caPem),
      Buffer.from(caKey),
      keys.map(() => randomBytes(20)),
      now - 3600,
    );
    if (!issued.ok) throw new Error(`issue: ${issued.code} ${issued.message}`);
    for (const c of issued.certificates) out.push(der(c.certificatePem));
  }
  return out;
}

const anchors = [der(caPem)];
const WARMUP = 2000;
const t0 = Date.now();
const warm = leaves(WARMUP);
const rounds = Array.from({ length: ROUNDS }, () => timed.map(() => leaves(LEAVES)));
console.error(`made ${WARMUP + ROUNDS * timed.length * LEAVES} leaves in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
if (env.BENCH_PAUSE_FILE !== undefined) {
  // For an outside profiler (perf record) of the timed part only: say so and wait for the file.
  console.error(`pid ${process.pid}: waiting for ${env.BENCH_PAUSE_FILE}`);
  while (!existsSync(env.BENCH_PAUSE_FILE)) await new Promise((r) => setTimeout(r, 100));
}

// Same verdicts, same shapes.
for (const leaf of warm.slice(0, 50)) {
  const expected = native.verifyChain(leaf, intermediates, anchors, now, 'client');
  if (!expected.ok) throw new Error(`native refused: ${expected.code} ${expected.message}`);
  for (const [name, verify] of contenders) {
    const got = verify(leaf, intermediates, anchors, now, 'client');
    if (!isDeepStrictEqual(got, expected)) throw new Error(`${name} differs: ${JSON.stringify(got)} vs ${JSON.stringify(expected)}`);
  }
}
for (const [, verify] of timed) for (const leaf of warm) verify(leaf, intermediates, anchors, now, 'client');

const results = new Map<string, number[]>(timed.map(([name]) => [name, []]));
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? timed : timed.map((_, i) => timed[timed.length - 1 - i] as (typeof timed)[number]);
  for (const [name, verify] of order) {
    const set = rounds[r]?.[timed.findIndex(([n]) => n === name)] ?? [];
    let accepted = 0;
    const before = process.cpuUsage();
    for (const leaf of set) if (verify(leaf, intermediates, anchors, now, 'client').ok) accepted++;
    const used = process.cpuUsage(before);
    if (accepted !== set.length) throw new Error(`${name}: ${set.length - accepted} refused`);
    results.get(name)?.push(((used.user + used.system) / set.length) as number);
  }
}

console.log(
  `cold verifyChain, P-256 leaf -> ${CA_KEY} CA, ${LEAVES} new leaves per round, load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
const nativeUs = median(results.get('native') ?? []);
for (const [name, us] of results) {
  const m = median(us);
  console.log(
    `${name.padEnd(14)} ${m.toFixed(1).padStart(7)} us CPU/call  rounds ${us.map((x) => x.toFixed(1)).join(' / ')}${name !== 'native' && !Number.isNaN(nativeUs) ? `  ${(m / nativeUs).toFixed(2)}x native` : ''}`,
  );
}
