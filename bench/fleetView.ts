/**
 * Fleet mode's costs (ts/view/, docs/fleet.md), on a throwaway PostgreSQL server on
 * loopback (test/registry/pgServer.ts):
 *   1. a heartbeat round trip (upsert of the lease row + MAX(sequence)), p50/p99;
 *   2. a revoke through the registry with N live views (each its own pool and LISTEN
 *      connection, in this one process), p50/p99 of the whole call and of its fleet wait,
 *      N = 0 (no sidecar: the wait's floor), 3 and 6;
 *   3. the heap a held certificate standing costs (needs --expose-gc): `--view-standings
 *      seen` (lru of objects) at 200,000, and `all` (packed, allStandings.ts) at 200,000
 *      and 1,000,000, without things and with one thing each;
 *   4. a warm decision in-process (same leaf, verification cached): over a fleet view
 *      (held standing), over SQLite (fast path on), and over PostgreSQL without a view.
 * Run: node --expose-gc node_modules/.bin/vite-node bench/fleetView.ts
 * (BENCH_FLEET_VIEW=heap: part 3 only, no PostgreSQL; BENCH_FLEET_VIEW=warm: part 4 only).
 */
import { randomBytes } from 'node:crypto';
import { openPostgresRegistry, type PostgresRegistry } from '../ts/registry/postgres/registry.js';
import type { FleetView } from '../ts/view/fleetView.js';
import type { FleetWaitResult } from '../ts/view/fleetWait.js';
import { AllStandings } from '../ts/view/allStandings.js';
import { Standings } from '../ts/view/standings.js';
import { startPgServer } from '../test/registry/pgServer.js';
import { testAuthorizer } from '../test/authz/authorizer.js';
import { certificate, identity } from '../test/authz/pki.js';
import { createWorld, ACCOUNT_A, PREFIX_A, SNI_A, registerCertificate, type World } from '../test/authz/world.js';

const ACCOUNT = '123456789012';
const REVOKES = Number(process.env['REVOKES'] ?? 100);

function percentile(xs: readonly number[], p: number): number {
  // A typed array sorts numerically and is a copy, leaving `xs` alone (as median.ts).
  const sorted = Float64Array.from(xs);
  sorted.sort();
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
const ms = (x: number) => `${x.toFixed(2)} ms`;

async function main(): Promise<void> {
  const server = await startPgServer();
  const database = await server.createDatabase();
  const url = server.url(database);
  const writer = openPostgresRegistry({ connectionString: url });
  await writer.createAccount({ accountId: ACCOUNT, endpointPrefix: 'abcdefghijklmn' });
  const waits: FleetWaitResult[] = [];
  writer.observeFleetWaits((w) => waits.push(w));
  const sidecars: { registry: PostgresRegistry; view: FleetView }[] = [];
  const heartbeats: number[] = [];
  try {
    // 1. Heartbeats: one view beating every 20 ms for 4 s.
    {
      const registry = openPostgresRegistry({ connectionString: url });
      const view = await registry.openFleetView({ heartbeatMs: 20, maxStalenessMs: 5000, onHeartbeat: (s) => heartbeats.push(s * 1000) });
      await new Promise((resolve) => setTimeout(resolve, 4000));
      await view.close();
      await registry.close();
      console.log(
        `heartbeat round trip: n=${heartbeats.length} p50 ${ms(percentile(heartbeats, 50))} p99 ${ms(percentile(heartbeats, 99))}`,
      );
    }
    // 2. Revokes with N views.
    let serial = 0;
    for (const n of [0, 3, 6]) {
      while (sidecars.length < n) {
        const registry = openPostgresRegistry({ connectionString: url });
        sidecars.push({ registry, view: await registry.openFleetView() });
      }
      const calls: number[] = [];
      waits.length = 0;
      for (let i = 0; i < REVOKES; i++) {
        const id = (++serial).toString(16).padStart(64, '0');
        await writer.insertCertificate({
          accountId: ACCOUNT,
          certificateId: id,
          certificatePem: 'x',
          notBefore: 0,
          notAfter: 4_102_444_799,
          status: 'ACTIVE',
          certificateMode: 'SNI_ONLY',
          caCertificateId: null,
        });
        const started = performance.now();
        await writer.setCertificateStatus(ACCOUNT, id, 'REVOKED', ['ACTIVE']);
        calls.push(performance.now() - started);
      }
      const w = waits.map((x) => x.seconds * 1000);
      const outcomes = [...new Set(waits.map((x) => x.outcome))].join(',');
      console.log(
        `revoke with ${n} views: call p50 ${ms(percentile(calls, 50))} p99 ${ms(percentile(calls, 99))}; fleet wait p50 ${ms(percentile(w, 50))} p99 ${ms(percentile(w, 99))} (${outcomes})`,
      );
    }
  } finally {
    for (const s of sidecars) {
      await s.view.close();
      await s.registry.close();
    }
    await writer.close();
    await server.dropDatabase(database);
    await server.stop();
  }
  await heapPerStanding();
}

/** 3. Heap per held standing (fresh strings, as read from PostgreSQL). */
async function heapPerStanding(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) {
    console.log('heap per held standing: run with node --expose-gc');
    return;
  }
  // As the view holds them: account and CA ids are the tables' strings (1,000 accounts,
  // 100 CAs), the certificate id a fresh 64-hex string.
  const accounts = Array.from({ length: 1000 }, (_, i) => `${100000000000 + i}`);
  const cas = Array.from({ length: 100 }, () => randomBytes(32).toString('hex'));
  const measure = (label: string, count: number, hold: (i: number, accountId: string, certificateId: string, ca: string) => number) => {
    gc();
    const before = process.memoryUsage().heapUsed;
    let held = 0;
    for (let i = 0; i < count; i++)
      held = hold(i, accounts[i % accounts.length] ?? '', randomBytes(32).toString('hex'), cas[i % cas.length] ?? '');
    gc();
    const after = process.memoryUsage().heapUsed;
    console.log(
      `heap per held standing, ${label}: ${((after - before) / count).toFixed(0)} bytes (${held} held, ${((after - before) / 2 ** 20).toFixed(1)} MiB)`,
    );
  };
  {
    const things: readonly string[] = [];
    const standings = new Standings(200_000);
    measure('--view-standings seen (lru of objects)', 200_000, (i, accountId, certificateId, caCertificateId) => {
      const standing = {
        accountId,
        certificateId,
        status: 'ACTIVE' as const,
        certificateMode: 'SNI_ONLY' as const,
        caCertificateId,
        things,
      };
      standings.remember(accountId, certificateId, standing, i);
      return standings.size;
    });
  }
  for (const count of [200_000, 1_000_000]) {
    for (const withThing of [false, true]) {
      let standings: AllStandings | undefined = new AllStandings();
      const all = standings;
      measure(`--view-standings all (packed), ${withThing ? 'one thing each' : 'no things'}`, count, (i, accountId, certificateId, ca) => {
        all.set(
          accountId,
          certificateId,
          { status: 'ACTIVE', mode: 'SNI_ONLY', caCertificateId: ca },
          withThing ? [`device-${i}`] : undefined,
        );
        return all.size;
      });
      standings = undefined;
    }
  }
}

/** Wall and CPU µs per decision of `decide`, after a warm-up. */
async function perDecision(name: string, decide: () => unknown, n: number): Promise<void> {
  for (let i = 0; i < Math.min(n, 5000); i++) await decide();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const d = decide();
    if (d instanceof Promise) await d;
  }
  const wall = ((performance.now() - t0) * 1000) / n;
  const cpu = process.cpuUsage(cpu0);
  console.log(`warm decision, ${name}: ${wall.toFixed(2)} µs wall, ${((cpu.user + cpu.system) / n).toFixed(2)} µs CPU`);
}

async function warmDecisions(): Promise<void> {
  const leaf = certificate({ subject: identity('fleet bench device', 'p256') });
  const world = await createWorld();
  await world.register(leaf, {});
  const server = await startPgServer();
  const database = await server.createDatabase();
  const registry = openPostgresRegistry({ connectionString: server.url(database) });
  try {
    await registry.createAccount({ accountId: ACCOUNT_A, endpointPrefix: PREFIX_A });
    await registerCertificate(registry, leaf);
    const view = await registry.openFleetView();
    const seenView = await registry.openFleetView({ standings: 'seen' });
    const pgWorld = { registry } as unknown as World;
    const options = { jitr: false, configCacheMs: 1000 };
    const sqlite = testAuthorizer(world, options).authorizer;
    const fleet = testAuthorizer(pgWorld, { ...options, registry, reads: view }).authorizer;
    const fleetSeen = testAuthorizer(pgWorld, { ...options, registry, reads: seenView }).authorizer;
    const direct = testAuthorizer(pgWorld, { ...options, registry }).authorizer;
    for (let round = 0; round < 2; round++) {
      await perDecision('SQLite (fast path)', () => sqlite.decide(SNI_A, [leaf.pem]), 50_000);
      await perDecision('PostgreSQL fleet view, --view-standings all', () => fleet.decide(SNI_A, [leaf.pem]), 50_000);
      await perDecision('PostgreSQL fleet view, --view-standings seen (held)', () => fleetSeen.decide(SNI_A, [leaf.pem]), 50_000);
    }
    await perDecision('PostgreSQL without a view (a round trip each)', () => direct.decide(SNI_A, [leaf.pem]), 2000);
    await view.close();
    await seenView.close();
  } finally {
    await registry.close();
    await world.dispose();
    await server.dropDatabase(database);
    await server.stop();
  }
}

if (process.env['BENCH_FLEET_VIEW'] === 'heap') await heapPerStanding();
else if (process.env['BENCH_FLEET_VIEW'] === 'warm') await warmDecisions();
else {
  await main();
  await warmDecisions();
}
