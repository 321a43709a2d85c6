/**
 * In-process cost of one decision (no HTTP, no load generator): `Authorizer.authorize`
 * wired as `certgate serve` wires it (bench/serveAuthorizer.ts: SQLite registry, native
 * and wasm engines, metrics and a sampled-off decision log, no shedder), warm (16
 * certificates repeated, cache hits) and cold (a new RSA-2048 leaf per call), plus the
 * registry reads and chain decoding on their own.
 * Sequential calls, measured in process CPU time per decision. Feeds the "Where the time goes"
 * table in bench/README.md. Run: `npx vite-node bench/authzDecision.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { profiled } from './cpuProfile.js';
import { serveAuthorizer, sourceTree } from './serveAuthorizer.js';
import { readChain } from '../ts/authz/chain.js';
import { DEFAULT_LIMITS } from '../ts/authz/limits.js';
import { loadEngine } from '../ts/engine/load.js';
import type { EngineName } from '../ts/engine/types.js';
import { identity, type Cert } from '../test/authz/pki.js';
import { ACCOUNT, BenchRegistry } from './fixtures.js';

const PREFIX = 'benchbenchbenc';
const SNI = `${PREFIX}-ats.iot.us-east-1.localhost`;
const COLD = Number(process.env.BENCH_COLD_CERTS ?? 4000);
const WARM_CALLS = Number(process.env.BENCH_WARM_CALLS ?? 200_000);

/**
 * With `BENCH_PROFILE=dir`, each timed loop also writes a V8 CPU profile there (only the
 * loop, not the fixtures), for `node --cpu-prof`-style analysis.
 */
const PROFILE_DIR = process.env.BENCH_PROFILE;

/**
 * µs of this process's CPU (user + system, all its threads) per call of `fn`, run `n`
 * times sequentially (awaited when it returns a promise). CPU rather than wall time: on
 * the shared 2-core machine the wall clock also counts the time other builds hold the core.
 */
async function perCall(n: number, fn: (i: number) => unknown): Promise<number> {
  const t = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const r = fn(i);
    if (r instanceof Promise) await r;
  }
  const used = process.cpuUsage(t);
  return (used.user + used.system) / n;
}

const pems = (set: Cert[]) => set.map((c) => [c.pem]);
const row = (label: string, us: number) => process.stdout.write(`${label.padEnd(48)} ${us.toFixed(2)} µs\n`);
const check = (d: { allow: boolean; reason: string }) => {
  if (!d.allow) throw new Error(`expected an allow, got ${d.reason}`);
};

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'certgate-decision-'));
  try {
    const bench = await BenchRegistry.create(path.join(dir, 'bench.db'), PREFIX);
    const { registry } = bench;
    const ca = await bench.ca('Bench CA', 'rsa2048');
    const leafKey = identity('bench-device', 'rsa2048', false);
    const warm = await bench.leaves(16, leafKey, ca.identity, ca.cert);
    const cold = await bench.leaves(COLD * 3, leafKey, ca.identity, ca.cert);
    const warmChains = pems(warm);
    const coldChains = pems(cold);

    row('readChain (PEM decode, SHA-256)', await perCall(WARM_CALLS, (i) => readChain(warmChains[i % 16] ?? [], DEFAULT_LIMITS)));
    const ids = warm.map((c) => c.id);
    row('registry.getCertificate', await perCall(WARM_CALLS, (i) => registry.getCertificate(ACCOUNT, ids[i % 16] ?? '')));

    // The cold steps one by one, each on certificates it has not seen (the last third of
    // the cold leaves; the decisions below use the first two thirds).
    const spare = cold.slice(COLD * 2);
    const spareDers = spare.map((c) => {
      const read = readChain([c.pem], DEFAULT_LIMITS);
      if (!read.ok) throw new Error(read.message);
      return read.chain.leaf;
    });
    const caDer = (() => {
      const read = readChain([ca.cert.pem], DEFAULT_LIMITS);
      if (!read.ok) throw new Error(read.message);
      return read.chain.leaf;
    })();
    const half = Math.floor(spare.length / 2);
    row('cold readChain (PEM decode, SHA-256)', await perCall(spare.length, (i) => readChain([spare[i]?.pem ?? ''], DEFAULT_LIMITS)));
    row(
      'cold registry.getCertificateStanding (miss)',
      await perCall(spare.length, (i) => registry.getCertificateStanding(ACCOUNT, spare[i]?.id ?? '')),
    );
    const now = Math.floor(Date.now() / 1000);
    for (const engineName of ['native', 'wasm'] as EngineName[]) {
      const engine = loadEngine(engineName);
      const verify = (i: number) => {
        if (!engine.verifyChain(spareDers[i] ?? Buffer.alloc(0), [], [caDer], now, 'client').ok) throw new Error('verifyChain refused');
      };
      await perCall(half, verify);
      row(`cold engine.verifyChain leaf → CA (${engineName})`, await perCall(half, (i) => verify(half + i)));
      row(
        `cold engine.inspect of the leaf (${engineName})`,
        await perCall(half, (i) => engine.inspect(spareDers[half + i] ?? Buffer.alloc(0))),
      );
    }

    for (const engineName of ['native', 'wasm'] as EngineName[]) {
      const { authorizer } = await serveAuthorizer(sourceTree, { registry, engine: engineName, processMetrics: false });
      const warmCall = async (i: number) => check(await authorizer.authorize(SNI, warmChains[i % 16] ?? [], 'json'));
      await perCall(20_000, warmCall);
      row(`authorize warm (${engineName})`, await profiled(PROFILE_DIR, `warm-${engineName}`, () => perCall(WARM_CALLS, warmCall)));
      // Each engine gets its own third of the cold leaves: the first COLD warm the JIT.
      const base = engineName === 'native' ? 0 : COLD;
      const coldCall = async (i: number) => check(await authorizer.authorize(SNI, coldChains[base + i] ?? [], 'json'));
      await perCall(COLD / 2, coldCall);
      row(
        `authorize cold (${engineName}, leaf → CA)`,
        await profiled(PROFILE_DIR, `cold-${engineName}`, () => perCall(COLD / 2, (i) => coldCall(COLD / 2 + i))),
      );
    }
    await registry.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
