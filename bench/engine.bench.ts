/**
 * Engine benchmarks, per signature algorithm: parse one certificate, and cold-verify a
 * two-link chain (leaf + registered CA), through
 *
 *   native      the napi engine (ring; RustCrypto for P-521 and DSA)
 *   wasm        the wasm engine, signature arithmetic by node:crypto (the default)
 *   wasm-pure   the wasm engine with its built-in RustCrypto code (CERTGATE_WASM_PURE=1)
 *   node        the baseline a user would write: X509Certificate for each link,
 *               checkIssued + verify + validity; "node-ca-cached" keeps the CA parsed.
 *
 * Inputs are the algorithm cases of test/fixtures/engine/cases.json (same bytes for
 * every contender). Every contender's verdict is checked equal before timing.
 * Run: `npx vite-node bench/engine.bench.ts` (needs `npm run build:native build:wasm`).
 *
 * `BENCH_WASM_BASELINE=DIR` adds `wasm-baseline`: another build of this tree's wasm engine
 * (its `certgate_wasm.js` in DIR, e.g. one built without wasm-opt), timed in the same run.
 * A build of another tree (another engine API) is compared by bench/engineCold.ts
 * (`BENCH_BASE_TREE`).
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, cpus, release } from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Bench } from 'tinybench';
import { createHostVerifier } from '../ts/engine/host-crypto.js';
import { loadEngine, wasmEngineBinding, type WasmBinding } from '../ts/engine/load.js';
import { projectRoot, wasmModulePath } from '../ts/paths.js';
import type { EngineBinding } from '../ts/engine/types.js';

interface Case {
  name: string;
  call: { method: string; leaf?: string; anchors?: string[]; at?: number };
}

const ALGORITHMS: Record<string, string> = {
  SHA256WITHRSA: 'sha256_with_rsa_is_accepted',
  SHA384WITHRSA: 'sha384_with_rsa_is_accepted',
  SHA512WITHRSA: 'sha512_with_rsa_is_accepted',
  DSA_WITH_SHA256: 'dsa_with_sha256_is_accepted',
  'ECDSA-WITH-SHA256 (P-256)': 'ecdsa_p256_with_sha256_is_accepted',
  'ECDSA-WITH-SHA384 (P-384)': 'ecdsa_p384_with_sha384_is_accepted',
  'ECDSA-WITH-SHA512 (P-521)': 'ecdsa_p521_with_sha512_is_accepted',
};

const cases = JSON.parse(readFileSync(path.join(projectRoot, 'test', 'fixtures', 'engine', 'cases.json'), 'utf8')) as Case[];
const TIME_MS = Number(process.env.BENCH_TIME_MS ?? 400);

const native = loadEngine('native');
const wasm = loadEngine('wasm');
/** The module `wasm` wraps: its host verifier is switched off for the wasm-pure rows. */
const wasmModule = createRequire(import.meta.url)(wasmModulePath) as WasmBinding;
const BASELINE_DIR = process.env.BENCH_WASM_BASELINE;
const baselineModule =
  BASELINE_DIR === undefined ? undefined : (createRequire(import.meta.url)(path.resolve(BASELINE_DIR, 'certgate_wasm.js')) as WasmBinding);
const baseline = baselineModule === undefined ? undefined : wasmEngineBinding(baselineModule, false);
/** Install node:crypto (`pure` false) or no host verifier into a wasm module. */
const setPure = (m: WasmBinding | undefined, pure: boolean) =>
  m?.setHostVerifier(pure ? undefined : createHostVerifier(m.hostAlgorithms()));

function nodeVerify(leafDer: Buffer, ca: X509Certificate, at: number): boolean {
  const leaf = new X509Certificate(leafDer);
  const inside = (c: X509Certificate) => Date.parse(c.validFrom) <= at * 1000 && at * 1000 <= Date.parse(c.validTo);
  return leaf.checkIssued(ca) && leaf.verify(ca.publicKey) && inside(leaf) && inside(ca) && ca.ca;
}

function nodeParse(der: Buffer): string {
  const c = new X509Certificate(der);
  // Read what `inspect` reports, so both sides do comparable work.
  return [
    c.subject,
    c.issuer,
    c.serialNumber,
    c.validFrom,
    c.validTo,
    c.fingerprint256,
    c.publicKey.asymmetricKeyType,
    c.keyUsage,
    c.subjectAltName,
  ].join('|');
}

type Row = { algorithm: string; op: string; contender: string; medianUs: number };
const rows: Row[] = [];

async function measure(algorithm: string, op: string, tasks: Record<string, () => unknown>): Promise<void> {
  const bench = new Bench({ time: TIME_MS, warmup: true });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
  await bench.run();
  for (const task of bench.tasks) {
    const result = task.result as { latency?: { p50: number } };
    rows.push({ algorithm, op, contender: task.name, medianUs: (result.latency?.p50 ?? NaN) * 1000 });
  }
}

for (const [algorithm, caseName] of Object.entries(ALGORITHMS)) {
  const c = cases.find((x) => x.name === caseName);
  if (!c?.call.leaf || !c.call.anchors?.[0] || c.call.at === undefined) throw new Error(`missing case ${caseName}`);
  const leaf = Buffer.from(c.call.leaf, 'base64');
  const caDer = Buffer.from(c.call.anchors[0], 'base64');
  const at = c.call.at;
  const caCached = new X509Certificate(caDer);

  // Equal outcomes first: every contender must accept this chain.
  const verdicts = {
    native: native.verifyChain(leaf, [], [caDer], at, 'client').ok,
    wasm: wasm.verifyChain(leaf, [], [caDer], at, 'client').ok,
    node: nodeVerify(leaf, new X509Certificate(caDer), at),
  };
  setPure(wasmModule, true);
  const pure = wasm.verifyChain(leaf, [], [caDer], at, 'client').ok;
  setPure(wasmModule, false);
  if (!verdicts.native || !verdicts.wasm || !verdicts.node || !pure) {
    throw new Error(`${algorithm}: contenders disagree ${JSON.stringify({ ...verdicts, pure })}`);
  }
  const parsed = native.inspect(leaf);
  if (!parsed.ok || !isDeepStrictEqual(parsed, wasm.inspect(leaf))) {
    throw new Error(`${algorithm}: inspect differs`);
  }
  if (baseline && (!baseline.verifyChain(leaf, [], [caDer], at, 'client').ok || !isDeepStrictEqual(parsed, baseline.inspect(leaf)))) {
    throw new Error(`${algorithm}: wasm-baseline disagrees`);
  }
  const withBaseline = (tasks: Record<string, () => unknown>, call: (b: EngineBinding) => unknown, name = 'wasm-baseline') =>
    baseline ? { ...tasks, [name]: () => call(baseline) } : tasks;

  await measure(
    algorithm,
    'parse',
    withBaseline(
      {
        native: () => native.inspect(leaf),
        wasm: () => wasm.inspect(leaf),
        node: () => nodeParse(leaf),
      },
      (b) => b.inspect(leaf),
    ),
  );
  await measure(
    algorithm,
    'verify',
    withBaseline(
      {
        native: () => native.verifyChain(leaf, [], [caDer], at, 'client'),
        wasm: () => wasm.verifyChain(leaf, [], [caDer], at, 'client'),
        node: () => nodeVerify(leaf, new X509Certificate(caDer), at),
        'node-ca-cached': () => nodeVerify(leaf, caCached, at),
      },
      (b) => b.verifyChain(leaf, [], [caDer], at, 'client'),
    ),
  );
  setPure(wasmModule, true);
  setPure(baselineModule, true);
  await measure(
    algorithm,
    'verify',
    withBaseline(
      { 'wasm-pure': () => wasm.verifyChain(leaf, [], [caDer], at, 'client') },
      (b) => b.verifyChain(leaf, [], [caDer], at, 'client'),
      'wasm-baseline-pure',
    ),
  );
  setPure(wasmModule, false);
  setPure(baselineModule, false);
}

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
console.log(
  `node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, ${arch()} linux ${release()}, ${TIME_MS} ms per task`,
);
for (const op of ['parse', 'verify']) {
  const contenders = [...new Set(rows.filter((r) => r.op === op).map((r) => r.contender))];
  console.log(`\n### ${op} (median µs; ratio = node / contender, higher is faster than node)\n`);
  console.log(`| algorithm | ${contenders.join(' | ')} |`);
  console.log(`| --- | ${contenders.map(() => '---').join(' | ')} |`);
  for (const algorithm of Object.keys(ALGORITHMS)) {
    const node = rows.find((r) => r.algorithm === algorithm && r.op === op && r.contender === 'node')?.medianUs ?? NaN;
    const cells = contenders.map((name) => {
      const us = rows.find((r) => r.algorithm === algorithm && r.op === op && r.contender === name)?.medianUs ?? NaN;
      return name === 'node' ? fmt(us) : `${fmt(us)} (${(node / us).toFixed(1)}×)`;
    });
    console.log(`| ${algorithm} | ${cells.join(' | ')} |`);
  }
}
