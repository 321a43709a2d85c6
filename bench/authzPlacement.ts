/**
 * What the inline-vs-pool policy buys: warm requests (RSA chains, cache hits) at a fixed
 * rate while a second stream sends cold P-384 chains (~0.5 ms of verification each,
 * Served by `certgate serve --processes 2` with `--inline-budget-us 250` (P-384 goes to
 * the pool) and with `--pool-threads 0` (everything inline), twice each in alternating
 * order. Both streams are open loop, so a stalled event loop shows up as latency.
 * Run: `npm run build:ts && npx vite-node bench/authzPlacement.ts`. The result set the
 * default inline budget (`ts/authz/placement.ts`).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { projectRoot } from '../ts/paths.js';
import { identity, type Cert } from '../test/authz/pki.js';
import { openLoopHttp, type LoadResult } from './authzLoad.js';
import { BenchRegistry } from './fixtures.js';
import { killChildren, listening, serveArgs, startChild, stopChild } from './childServer.js';

const PREFIX = 'placementbench';
const SNI = `${PREFIX}-ats.iot.us-east-1.localhost`;
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 4000);
const WARM_RATE = Number(process.env.BENCH_WARM_RATE ?? 4000);
const COLD_RATE = Number(process.env.BENCH_COLD_RATE ?? 300);

async function fixtures(dir: string): Promise<{ db: string; warm: Cert[]; cold: Cert[] }> {
  const db = path.join(dir, 'placement.db');
  const bench = await BenchRegistry.create(db, PREFIX);
  const rsaCa = await bench.ca('RSA CA', 'rsa2048');
  const p384Ca = await bench.ca('P-384 CA', 'p384');
  const leafKey = identity('device', 'p256', false);
  const warm = await bench.leaves(16, leafKey, rsaCa.identity, rsaCa.cert);
  const cold = await bench.leaves((Math.ceil((COLD_RATE * DURATION_MS) / 1000) + 1) * 8 + 16, leafKey, p384Ca.identity, p384Ca.cert);
  await bench.close();
  return { db, warm, cold };
}

/** `certgate serve --processes 2` on `db` with `extra`: the child and its authorizer origin. */
async function serve(db: string, extra: string[]): Promise<{ child: ChildProcess; authz: string }> {
  const certgate = path.join(projectRoot, 'bin', 'certgate.js');
  const { child, line } = await startChild(process.execPath, [certgate, ...serveArgs({ db, extra })], listening);
  return { child, authz: String(line.authz) };
}

/**
 * Non-allow answers by reason: the sheds of an overloaded server, DEADLINE_EXCEEDED /
 * QUEUE_FULL, and OVERLOADED (load shedding's default --shed-after-ms 5: on a busy
 * machine a request can wait that long to be read).
 */
const refused = new Map<string, number>();
const allow = (status: number, body: string) => {
  if (status === 200) return;
  const reason = (JSON.parse(body) as { reason?: string }).reason ?? String(status);
  if (!['DEADLINE_EXCEEDED', 'QUEUE_FULL', 'OVERLOADED'].includes(reason))
    throw new Error(`expected an allow or a shed, got ${status} ${body.slice(0, 200)}`);
  refused.set(reason, (refused.get(reason) ?? 0) + 1);
};
const fmt = (r: LoadResult) => `p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms (n=${r.requests})`;

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'certgate-placement-'));
  try {
    const { db, warm, cold } = await fixtures(dir);
    process.stdout.write(`warm RSA stream ${WARM_RATE} req/s + cold P-384 stream ${COLD_RATE} req/s, ${DURATION_MS} ms, open loop\n`);
    let offset = 0;
    const variants = [
      ['--inline-budget-us 250 (P-384 on the pool)', ['--inline-budget-us', '250']],
      ['--pool-threads 0 (all inline)', ['--pool-threads', '0']],
    ] as const;
    // Twice, in alternating order: the machine is shared.
    for (const [label, extra] of [variants[0], variants[1], variants[1], variants[0]]) {
      const server = await serve(db, [...extra]);
      const base = offset;
      const load = (rate: number, body: (i: number) => string) =>
        openLoopHttp({ origin: server.authz, path: '/v1/authorize', body, connections: 32, durationMs: DURATION_MS, rate, check: allow });
      const warmBody = (i: number) => JSON.stringify({ sni: SNI, certChain: [(warm[i % warm.length] as Cert).pem] });
      const coldBody = (i: number) => JSON.stringify({ sni: SNI, certChain: [(cold[base + i] as Cert).pem] });
      const perRun = Math.ceil((COLD_RATE * DURATION_MS) / 1000) + 1;
      // Warm up both paths (JIT, pool threads loading their engine) with other cold leaves.
      const warmupCold = (i: number) => JSON.stringify({ sni: SNI, certChain: [(cold[base + perRun + i] as Cert).pem] });
      await Promise.all([load(WARM_RATE, warmBody), load(COLD_RATE, warmupCold)]);
      refused.clear();
      const [w, c] = await Promise.all([load(WARM_RATE, warmBody), load(COLD_RATE, coldBody)]);
      const shed = [...refused].map(([reason, n]) => `${n} × ${reason}`).join(', ') || 'none';
      offset += 2 * perRun;
      process.stdout.write(`${label}\n  warm: ${fmt(w)}\n  cold P-384: ${fmt(c)}\n  shed: ${shed}\n`);
      await stopChild(server);
    }
  } finally {
    killChildren();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
