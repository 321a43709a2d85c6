/**
 * Why a step costs several times more inside a server than in a loop (bench/README.md,
 * "Where the cold gap goes"): a loop that runs one step back to back keeps that step's
 * code and data in the CPU caches, a server does not — between two registry reads it
 * parses HTTP and JSON, verifies a signature, writes an answer, and the other process and
 * the load generator run on the same two cores. This times the SQLite standing read a cold
 * decision makes (`getCertificateStandingSync`, the fast path off so every call reads), and
 * for scale a `Map` lookup of the same certificates, three ways:
 *   back to back     the loop alone
 *   polluted 20k     20,000 random byte touches of a 64 MiB buffer between two reads
 *   polluted 100k    100,000 of them
 * Only the read itself is timed (process.hrtime around the call), so the touches add no
 * time of their own: what grows is the read's cache misses.
 *
 * Run: `npx vite-node bench/readPollution.ts` (uses the fleet of bench/fleetTraffic.ts,
 * BENCH_CACHE/fleet-BENCH_FLEET, made by it if missing; BENCH_READS, default 10,000).
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { projectRoot } from '../ts/paths.js';
import { openSqliteRegistry } from '../ts/registry/sqlite/registry.js';

const env = process.env;
const FLEET = Number(env.BENCH_FLEET ?? 100_000);
const READS = Number(env.BENCH_READS ?? 10_000);
const source = path.join(env.BENCH_CACHE ?? path.join(projectRoot, 'bench', '.cache'), `fleet-${FLEET}`, 'registry.db');
if (!existsSync(source)) throw new Error(`no fleet registry at ${source}: run bench/fleetTraffic.ts once (it makes it)`);

const dir = mkdtempSync(path.join(tmpdir(), 'certgate-pollution-'));
const file = path.join(dir, 'registry.db');
copyFileSync(source, file);
const ids = new Database(file, { readonly: true }).prepare('SELECT account_id, certificate_id FROM certificates').raw().all() as [
  string,
  string,
][];
const registry = openSqliteRegistry({ path: file, fastPath: false });
await registry.settings();
const inMemory = new Map(ids.map(([, id]) => [id, 1]));

const junk = new Uint8Array(64 << 20);
let sink = 0;
function pollute(touches: number): void {
  for (let i = 0; i < touches; i++) {
    const k = (Math.random() * junk.length) | 0;
    sink += junk[k] as number;
    junk[k] = sink & 255;
  }
}

/** µs per call of `read`, over READS certificates from `offset`, `touches` between calls. */
function timed(offset: number, touches: number, read: (accountId: string, id: string) => unknown): number {
  let ns = 0n;
  for (let i = 0; i < READS; i++) {
    const [accountId, id] = ids[(offset + i * 7919) % ids.length] as [string, string];
    pollute(touches);
    const t = process.hrtime.bigint();
    if (read(accountId, id) === null) throw new Error(`${id} not found`);
    ns += process.hrtime.bigint() - t;
  }
  return Number(ns) / READS / 1000;
}

const sqlite = (accountId: string, id: string) => registry.getCertificateStandingSync(accountId, id);
const map = (_: string, id: string) => inMemory.get(id) ?? null;
console.log(`| read | back to back | polluted 20k | polluted 100k |\n| --- | --- | --- | --- |`);
for (let round = 0; round < 2; round++) {
  for (const [name, read] of [
    ['SQLite standing', sqlite],
    ['Map lookup', map],
  ] as const) {
    const base = round * 3 * READS;
    const cells = [0, 20_000, 100_000].map((touches, i) => timed(base + i * READS, touches, read).toFixed(2));
    console.log(`| ${name} (round ${round + 1}) | ${cells.join(' µs | ')} µs |`);
  }
}
await registry.close();
rmSync(dir, { recursive: true, force: true });
if (sink === -1) console.log(sink);
