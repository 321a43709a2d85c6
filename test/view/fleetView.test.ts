/**
 * Fleet mode on a real PostgreSQL server (test/registry/pgServer.ts): a writer registry
 * (A) and sidecar views (B, ...) in one test process, each view with its own pool and
 * LISTEN connection as in `certgate serve`. The multi-process tests (three real
 * `certgate serve`) live with the fleet harness.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Authorizer } from '../../ts/authz/decision.js';
import type { DecisionReads } from '../../ts/authz/reads.js';
import { loadEngine } from '../../ts/engine/load.js';
import { openPostgresRegistry, type PostgresRegistry } from '../../ts/registry/postgres/registry.js';
import type { Queries } from '../../ts/registry/store.js';
import { FleetView } from '../../ts/view/fleetView.js';
import type { FleetWaitResult } from '../../ts/view/fleetWait.js';
import { testAuthorizer } from '../authz/authorizer.js';
import { DATES, certificate, identity, type Cert } from '../authz/pki.js';
import { ACCOUNT_A, PREFIX_A, SNI_A, registerCertificate, type World } from '../authz/world.js';
import { startPgServer, type PgServer } from '../registry/pgServer.js';
import { startProxy, type CuttableProxy } from './proxy.js';

const LEASE_MS = 1500;
const HEARTBEAT_MS = 300;

let server: PgServer;
let database: string;
let writer: PostgresRegistry;
const waits: FleetWaitResult[] = [];
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  server = await startPgServer();
  database = await server.createDatabase();
  writer = openPostgresRegistry({ connectionString: server.url(database), fleetLeaseMs: LEASE_MS });
  writer.observeFleetWaits((w) => waits.push(w));
  await writer.createAccount({ accountId: ACCOUNT_A, endpointPrefix: PREFIX_A });
}, 60_000);
afterEach(async () => {
  for (let c = cleanup.pop(); c !== undefined; c = cleanup.pop()) await c();
});
afterAll(async () => {
  await writer?.close();
  await server?.dropDatabase(database);
  await server?.stop();
});

/** A sidecar: its own registry (pool) and view, reached directly or through `url`. */
async function sidecar(url = server.url(database)): Promise<{ registry: PostgresRegistry; view: FleetView; authorizer: Authorizer }> {
  const registry = openPostgresRegistry({ connectionString: url, fleetLeaseMs: LEASE_MS });
  const view = await registry.openFleetView({ maxStalenessMs: LEASE_MS, heartbeatMs: HEARTBEAT_MS });
  cleanup.push(async () => {
    await view.close();
    await registry.close();
  });
  const { authorizer } = testAuthorizer({ registry } as unknown as World, { registry, reads: view, jitr: false, configCacheMs: 1000 });
  return { registry, view, authorizer };
}

let serial = 0;
async function device(status: 'ACTIVE' | 'INACTIVE' = 'ACTIVE'): Promise<Cert> {
  const leaf = certificate({ subject: identity(`fleet device ${++serial}`, 'p256') });
  await registerCertificate(writer, leaf, { status });
  return leaf;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a fleet view of the PostgreSQL registry', () => {
  it('answers from memory once seen, and sees writes made through another registry', async () => {
    const b = await sidecar();
    const leaf = await device();
    const first = b.authorizer.decide(SNI_A, [leaf.pem]);
    expect(first).toBeInstanceOf(Promise); // a miss reads PostgreSQL once
    expect(await first).toMatchObject({ allow: true, reason: 'CERTIFICATE_ACTIVE' });
    // Held now: decided without a promise.
    expect(b.authorizer.decide(SNI_A, [leaf.pem])).toMatchObject({ allow: true, reason: 'CERTIFICATE_ACTIVE' });
    // An attachment made through A reaches B's held standing.
    await writer.attachThingPrincipal(ACCOUNT_A, 'thing-1', `arn:aws:iot:us-east-1:${ACCOUNT_A}:cert/${leaf.id}`);
    await expect.poll(async () => (await b.authorizer.authorize(SNI_A, [leaf.pem])).things).toEqual(['thing-1']);
    // A custom domain added through A routes at B.
    await writer.addDomain(ACCOUNT_A, 'fleet.example.test');
    await expect.poll(async () => (await b.authorizer.authorize('fleet.example.test', [leaf.pem])).reason).toBe('CERTIFICATE_ACTIVE');
    // Another process's writes are in the change log; GET /v1/changes still lists certificate rows only.
    const changes = await writer.listChanges(null, 0, 1000);
    expect(changes.length).toBeGreaterThan(0);
    expect(changes.every((c) => c.kind === 'certificate')).toBe(true);
    expect(b.view.stats()).toMatchObject({ lagSequences: 0, connected: true });
  });

  it('returns a revoke only after every live view applied it; a decision right after denies', async () => {
    const b = await sidecar();
    const c = await sidecar();
    const leaf = await device();
    for (const s of [b, c]) expect(await s.authorizer.authorize(SNI_A, [leaf.pem])).toMatchObject({ allow: true });
    for (let round = 0; round < 5; round++) {
      const again = await device();
      for (const s of [b, c]) expect(await s.authorizer.authorize(SNI_A, [again.pem])).toMatchObject({ allow: true });
      waits.length = 0;
      await writer.setCertificateStatus(ACCOUNT_A, again.id, 'REVOKED', ['ACTIVE']);
      // Applied already: the held standing was dropped, the next decision reads it again.
      for (const s of [b, c]) {
        expect(s.view.stats().applied).toBeGreaterThanOrEqual(waits[0]?.sequence ?? Infinity);
        expect(await s.authorizer.authorize(SNI_A, [again.pem])).toMatchObject({ allow: false, reason: 'CERTIFICATE_REVOKED' });
      }
      expect(waits).toHaveLength(1);
      expect(['none', 'applied']).toContain(waits[0]?.outcome);
      expect(waits[0]?.seconds).toBeLessThan(LEASE_MS / 1000);
    }
  });

  it('under concurrent decisions on two views: no allow of a certificate by a decision that started after its revoke returned', async () => {
    const views = [await sidecar(), await sidecar()];
    const leaves = await Promise.all(Array.from({ length: 8 }, () => device()));
    const returned = new Map<string, number>();
    const violations: string[] = [];
    let decisions = 0;
    const state = { running: true };
    const load = views.map(async (s) => {
      while (state.running) {
        for (const leaf of leaves) {
          const started = performance.now();
          const d = await s.authorizer.authorize(SNI_A, [leaf.pem]);
          decisions++;
          const at = returned.get(leaf.id);
          if (d.allow && at !== undefined && started > at)
            violations.push(`${leaf.id} allowed ${(started - at).toFixed(1)} ms after its revoke returned`);
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    });
    for (const leaf of leaves) {
      await sleep(20);
      await writer.setCertificateStatus(ACCOUNT_A, leaf.id, 'REVOKED', ['ACTIVE']);
      returned.set(leaf.id, performance.now());
    }
    await sleep(50);
    state.running = false;
    await Promise.all(load);
    expect(violations).toEqual([]);
    expect(decisions).toBeGreaterThan(100);
  });

  it('keeps a miss read that raced a change out of the cache (the M >= applied rule)', async () => {
    const leaf = await device();
    const registry = openPostgresRegistry({ connectionString: server.url(database) });
    let gate: (() => void) | undefined;
    let held = false;
    const pool = registry as unknown as { pg: Queries };
    // The view's misses go through this pool; the first one is held after PostgreSQL answered.
    const slow: Queries = {
      all: (sql, p) => pool.pg.all(sql, p),
      run: (sql, p) => pool.pg.run(sql, p),
      get: async <T>(sql: string, p?: readonly unknown[]) => {
        const row = await pool.pg.get<T>(sql, p);
        if (!held) {
          held = true;
          await new Promise<void>((resolve) => (gate = resolve));
        }
        return row;
      },
    };
    const view = new FleetView({
      connectionString: server.url(database),
      pool: slow,
      settings: await registry.settings(),
      maxStalenessMs: LEASE_MS,
      heartbeatMs: HEARTBEAT_MS,
    });
    await view.start();
    cleanup.push(async () => {
      await view.close();
      await registry.close();
    });
    const { authorizer } = testAuthorizer({ registry } as unknown as World, { registry, reads: view, jitr: false, configCacheMs: 1000 });
    const racing = authorizer.authorize(SNI_A, [leaf.pem]);
    await expect.poll(() => gate !== undefined).toBe(true);
    // The read saw ACTIVE; now the revoke commits and the view applies it (the writer waits for that).
    await writer.setCertificateStatus(ACCOUNT_A, leaf.id, 'REVOKED', ['ACTIVE']);
    gate?.();
    // The racing decision started before the revoke returned: its answer is not what is checked.
    await racing;
    // Every decision that starts now denies: the stale read was not kept.
    expect(await authorizer.authorize(SNI_A, [leaf.pem])).toMatchObject({ allow: false, reason: 'CERTIFICATE_REVOKED' });
    expect(await authorizer.authorize(SNI_A, [leaf.pem])).toMatchObject({ allow: false, reason: 'CERTIFICATE_REVOKED' });
    expect(view.stats().uncachedMisses).toBe(1);
  });

  it('keeps routing, CAs and CRL ids past the config TTL while its tables are unchanged; a CA deletion or domain removal applies when the write returns', async () => {
    const registry = openPostgresRegistry({ connectionString: server.url(database), fleetLeaseMs: LEASE_MS });
    const view = await registry.openFleetView({ maxStalenessMs: LEASE_MS, heartbeatMs: HEARTBEAT_MS });
    cleanup.push(async () => {
      await view.close();
      await registry.close();
    });
    // The view's configuration reads, counted (what the caches would read again).
    const read = { account: 0, ca: 0, crl: 0 };
    const counted: DecisionReads = {
      account: (host) => (read.account++, view.account(host)),
      standing: (accountId, id) => view.standing(accountId, id),
      caCertificate: (accountId, id) => (read.ca++, view.caCertificate(accountId, id)),
      caCrlMeta: (accountId, id) => (read.crl++, view.caCrlMeta(accountId, id)),
      stale: (startedAt) => view.stale(startedAt),
      configGeneration: () => view.configGeneration(),
      configStamp: () => view.configStamp(),
    };
    let nowMs = DATES.now * 1000;
    const { authorizer } = testAuthorizer({ registry } as unknown as World, {
      registry,
      reads: counted,
      jitr: false,
      configCacheMs: 1000,
      clock: () => nowMs,
    });
    const caIdentity = identity(`fleet CA ${++serial}`, 'p256');
    const ca = certificate({ subject: caIdentity, ca: true });
    const inspected = loadEngine('native').inspect(ca.der);
    if (!inspected.ok) throw new Error(inspected.message);
    await writer.insertCaCertificate({
      accountId: ACCOUNT_A,
      certificateId: ca.id,
      certificatePem: ca.pem,
      notBefore: 1_577_836_800,
      notAfter: 4_102_444_799,
      status: 'ACTIVE',
      certificateMode: 'DEFAULT',
      autoRegistrationStatus: 'DISABLE',
      subject: inspected.subject,
      registrationConfig: null,
      tags: [],
    });
    const leaf = certificate({ subject: identity(`fleet device ${++serial}`, 'p256'), issuer: caIdentity });
    await registerCertificate(writer, leaf, { caId: ca.id, mode: 'DEFAULT' });
    await writer.addDomain(ACCOUNT_A, 'kept.example.test');
    await expect.poll(async () => (await authorizer.authorize('kept.example.test', [leaf.pem])).allow).toBe(true);
    const after = { ...read };
    for (let i = 0; i < 5; i++) {
      nowMs += 5000;
      expect(authorizer.decide('kept.example.test', [leaf.pem])).toMatchObject({ allow: true });
    }
    expect(read).toEqual(after);
    // Lowering writes return once every live view applied them: the next decision sees each.
    await writer.removeDomain(ACCOUNT_A, 'kept.example.test');
    expect(authorizer.decide('kept.example.test', [leaf.pem])).toMatchObject({ allow: false, reason: 'UNKNOWN_SNI' });
    expect(authorizer.decide(SNI_A, [leaf.pem])).toMatchObject({ allow: true });
    await writer.updateCaCertificate(ACCOUNT_A, ca.id, { status: 'INACTIVE' });
    await writer.deleteCaCertificate(ACCOUNT_A, ca.id);
    expect(authorizer.decide(SNI_A, [leaf.pem])).toMatchObject({ allow: false, reason: 'CA_NOT_FOUND' });
  });

  it('rebuilds itself when the log is shorter than what it applied (a standby that lost writes), seeing the reused numbers', async () => {
    const b = await sidecar();
    const leaf = await device();
    expect(await b.authorizer.authorize(SNI_A, [leaf.pem])).toMatchObject({ allow: true });
    await expect.poll(() => b.view.stats().lagSequences).toBe(0);
    const applied = b.view.stats().applied;
    // The newest two changes vanish, as on a promoted standby that had not received them.
    const pool = writer as unknown as { pg: Queries };
    await pool.pg.run('DELETE FROM change_log WHERE sequence > ?', [applied - 2]);
    // The revoke draws a number B has already applied.
    await writer.setCertificateStatus(ACCOUNT_A, leaf.id, 'REVOKED', ['ACTIVE']);
    await expect.poll(async () => (await b.authorizer.authorize(SNI_A, [leaf.pem])).reason, { timeout: 5000 }).toBe('CERTIFICATE_REVOKED');
    expect(b.view.stats().resets).toBeGreaterThanOrEqual(1);
  });

  describe('cut off from the database', () => {
    let proxy: CuttableProxy;
    beforeAll(async () => {
      proxy = await startProxy(server.port);
    });
    afterAll(async () => {
      await proxy?.close();
    });

    it('allows until its lease runs out, then denies REGISTRY_STALE, never a revoked certificate; catches up after', async () => {
      const b = await sidecar(`postgres://certgate@127.0.0.1:${proxy.port}/${database}`);
      const kept = await device();
      const revoked = await device();
      for (const leaf of [kept, revoked]) expect(await b.authorizer.authorize(SNI_A, [leaf.pem])).toMatchObject({ allow: true });
      proxy.cut();
      const cutAt = performance.now();
      // Within the lease: held answers still allow.
      expect(b.authorizer.decide(SNI_A, [kept.pem])).toMatchObject({ allow: true });
      // The revoke through A cannot reach B: it returns once B's lease has run out.
      waits.length = 0;
      await writer.setCertificateStatus(ACCOUNT_A, revoked.id, 'REVOKED', ['ACTIVE']);
      const returnedAt = performance.now();
      expect(waits[0]?.outcome).toBe('lease_expired');
      expect(returnedAt - cutAt).toBeLessThan(LEASE_MS + 1500);
      // From the moment the revoke returned: never an allow of it, nor of anything else.
      for (const leaf of [revoked, kept]) {
        expect(b.authorizer.decide(SNI_A, [leaf.pem])).toMatchObject({ allow: false, reason: 'REGISTRY_STALE' });
      }
      await sleep(HEARTBEAT_MS * 2);
      expect(b.authorizer.decide(SNI_A, [revoked.pem])).toMatchObject({ allow: false, reason: 'REGISTRY_STALE' });
      // Back: the view reconnects, catches up by sequence, and decides again with no action.
      proxy.restore();
      await expect.poll(() => b.view.stale(performance.now()), { timeout: 10_000 }).toBeNull();
      expect(await b.authorizer.authorize(SNI_A, [revoked.pem])).toMatchObject({ allow: false, reason: 'CERTIFICATE_REVOKED' });
      expect(await b.authorizer.authorize(SNI_A, [kept.pem])).toMatchObject({ allow: true });
      expect(b.view.stats().lagSequences).toBe(0);
    });
  });
});
