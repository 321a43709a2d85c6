/**
 * Fleet mode on a real PostgreSQL server (test/registry/pgServer.ts): a writer registry
 * (A) and sidecar views (B, ...) in one test process, each view with its own pool and
 * LISTEN connection as in `certgate serve`, in both `--view-standings` modes: `all` (every
 * registered certificate's standing held; the default) and `seen` (those decided for,
 * misses read PostgreSQL). The multi-process tests (three real `certgate serve`) live
 * with the fleet harness.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Authorizer } from '../../ts/authz/decision.js';
import type { DecisionReads } from '../../ts/authz/reads.js';
import { loadEngine } from '../../ts/engine/load.js';
import { openPostgresRegistry, type PostgresRegistry } from '../../ts/registry/postgres/registry.js';
import type { Queries } from '../../ts/registry/store.js';
import { FleetView, type FleetViewOptions, type ViewStandingsMode } from '../../ts/view/fleetView.js';
import type { FleetWaitResult } from '../../ts/view/fleetWait.js';
import { testAuthorizer } from '../authz/authorizer.js';
import { DATES, certificate, identity, type Cert } from '../authz/pki.js';
import { ACCOUNT_A, ACCOUNT_B, PREFIX_A, PREFIX_B, SNI_A, SNI_B, registerCertificate, type World } from '../authz/world.js';
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
  await writer.createAccount({ accountId: ACCOUNT_B, endpointPrefix: PREFIX_B });
}, 60_000);
afterEach(async () => {
  for (let c = cleanup.pop(); c !== undefined; c = cleanup.pop()) await c();
});
afterAll(async () => {
  await writer?.close();
  await server?.dropDatabase(database);
  await server?.stop();
});

type Sidecar = { registry: PostgresRegistry; view: FleetView; authorizer: Authorizer };

/** A sidecar: its own registry (pool) and view, reached directly or through `url`. */
async function newSidecar(mode: ViewStandingsMode, url = server.url(database)): Promise<Sidecar> {
  const registry = openPostgresRegistry({ connectionString: url, fleetLeaseMs: LEASE_MS });
  const view = await registry.openFleetView({ maxStalenessMs: LEASE_MS, heartbeatMs: HEARTBEAT_MS, standings: mode });
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

const newest = async (): Promise<number> =>
  Number(
    (await (writer as unknown as { pg: Queries }).pg.get<{ m: string }>('SELECT COALESCE(MAX(sequence), 0)::text AS m FROM change_log'))?.m,
  );

/**
 * Wait until every view has applied what the writer committed so far. A registration
 * (a write that can only raise a decision) does not wait for the fleet; a decision
 * right after it may not see it yet in `all` mode (docs/fleet.md).
 */
async function caughtUp(...views: FleetView[]): Promise<void> {
  const target = await newest();
  await expect.poll(() => Math.min(...views.map((v) => v.stats().applied))).toBeGreaterThanOrEqual(target);
}

describe.each(['all', 'seen'] as const)('a fleet view of the PostgreSQL registry (--view-standings %s)', (mode) => {
  const sidecar = (url?: string) => newSidecar(mode, url);
  it('answers from memory once seen, and sees writes made through another registry', async () => {
    const b = await sidecar();
    const leaf = await device();
    await caughtUp(b.view);
    const first = b.authorizer.decide(SNI_A, [leaf.pem]);
    // seen: a miss reads PostgreSQL once; all: held from the change log already.
    if (mode === 'seen') expect(first).toBeInstanceOf(Promise);
    else expect(first).not.toBeInstanceOf(Promise);
    expect(await first).toMatchObject({ allow: true, reason: 'CERTIFICATE_ACTIVE' });
    // Held now: decided without a promise.
    expect(b.authorizer.decide(SNI_A, [leaf.pem])).toMatchObject({ allow: true, reason: 'CERTIFICATE_ACTIVE' });
    // An attachment made through A reaches B's held standing.
    await writer.attachThingPrincipal(ACCOUNT_A, 'thing-1', `arn:aws:iot:us-east-1:${ACCOUNT_A}:cert/${leaf.id}`);
    await expect.poll(async () => (await b.authorizer.authorize(SNI_A, [leaf.pem])).things).toEqual(['thing-1']);
    // A custom domain added through A routes at B.
    await writer.addDomain(ACCOUNT_A, `fleet-${mode}.example.test`);
    await expect
      .poll(async () => (await b.authorizer.authorize(`fleet-${mode}.example.test`, [leaf.pem])).reason)
      .toBe('CERTIFICATE_ACTIVE');
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
    await caughtUp(b.view, c.view);
    for (const s of [b, c]) expect(await s.authorizer.authorize(SNI_A, [leaf.pem])).toMatchObject({ allow: true });
    for (let round = 0; round < 5; round++) {
      const again = await device();
      await caughtUp(b.view, c.view);
      for (const s of [b, c]) expect(await s.authorizer.authorize(SNI_A, [again.pem])).toMatchObject({ allow: true });
      waits.length = 0;
      await writer.setCertificateStatus(ACCOUNT_A, again.id, 'REVOKED', ['ACTIVE']);
      // Applied already (seen: the held standing was dropped, the next decision reads it again).
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
    await caughtUp(...views.map((v) => v.view));
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

  // Only `seen` reads a standing on a miss; `all` never does (its own tests below).
  if (mode === 'seen')
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
        standings: 'seen',
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
    await caughtUp(b.view);
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
      await caughtUp(b.view);
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

/** A view built by hand: its pool counts every statement, its whole load pages as `load` says. */
async function countedView(
  load: FleetViewOptions['load'] = {},
): Promise<{ view: FleetView; authorizer: Authorizer; statements: () => number; start: Promise<void> }> {
  const registry = openPostgresRegistry({ connectionString: server.url(database) });
  const pool = (registry as unknown as { pg: Queries }).pg;
  let statements = 0;
  const counting: Queries = {
    all: (sql, p) => (statements++, pool.all(sql, p)),
    run: (sql, p) => (statements++, pool.run(sql, p)),
    get: (sql, p, name) => (statements++, pool.get(sql, p, name)),
  };
  const view = new FleetView({
    connectionString: server.url(database),
    pool: counting,
    settings: await registry.settings(),
    maxStalenessMs: LEASE_MS,
    heartbeatMs: HEARTBEAT_MS,
    standings: 'all',
    load,
  });
  cleanup.push(async () => {
    await view.close();
    await registry.close();
  });
  const { authorizer } = testAuthorizer({ registry } as unknown as World, { registry, reads: view, jitr: false, configCacheMs: 1000 });
  return { view, authorizer, statements: () => statements, start: view.start() };
}

describe('--view-standings all: the standing of every registered certificate, held', () => {
  it('allows a certificate registered before it started, and refuses an unregistered one, with no PostgreSQL statement', async () => {
    const registered = await device();
    const stranger = certificate({ subject: identity('never registered', 'p256') });
    const b = await countedView();
    await b.start;
    expect(b.view.stats()).toMatchObject({ standings: 'all', loads: 1 });
    expect(b.view.stats().cacheEntries).toBeGreaterThanOrEqual(1);
    // Synchronous answers: no round trip could have happened.
    expect(b.authorizer.decide(SNI_A, [registered.pem])).toMatchObject({ allow: true, reason: 'CERTIFICATE_ACTIVE' });
    for (let i = 0; i < 50; i++)
      expect(b.authorizer.decide(SNI_A, [stranger.pem])).toMatchObject({ allow: false, reason: 'CERTIFICATE_NOT_REGISTERED' });
    expect(b.statements()).toBe(0);
    expect(b.view.stats().cacheMisses).toBe(0);
  });

  it('applies revoke, attach, detach, delete and transfer from the change log (state, not drops)', async () => {
    const b = await countedView();
    await b.start;
    const leaf = await device();
    await caughtUp(b.view);
    const decide = (sni = SNI_A) => b.authorizer.decide(sni, [leaf.pem]) as { allow: boolean; reason: string; things?: readonly string[] };
    expect(decide()).toMatchObject({ allow: true, reason: 'CERTIFICATE_ACTIVE' });
    const arn = `arn:aws:iot:us-east-1:${ACCOUNT_A}:cert/${leaf.id}`;
    await writer.attachThingPrincipal(ACCOUNT_A, 'thing-b', arn);
    await writer.attachThingPrincipal(ACCOUNT_A, 'thing-a', arn);
    await caughtUp(b.view);
    expect(decide().things).toEqual(['thing-a', 'thing-b']);
    await writer.detachThingPrincipal(ACCOUNT_A, 'thing-b', arn); // lowering: waits for the fleet
    expect(decide().things).toEqual(['thing-a']);
    await writer.setCertificateStatus(ACCOUNT_A, leaf.id, 'REVOKED', ['ACTIVE']);
    expect(decide()).toMatchObject({ allow: false, reason: 'CERTIFICATE_REVOKED' });
    await writer.detachThingPrincipal(ACCOUNT_A, 'thing-a', arn);
    expect(decide().things).toEqual([]);
    await writer.deleteCertificate(ACCOUNT_A, leaf.id, ['REVOKED', 'INACTIVE'], true);
    expect(decide()).toMatchObject({ allow: false, reason: 'CERTIFICATE_NOT_REGISTERED' });

    const moved = await device();
    await caughtUp(b.view);
    expect(b.authorizer.decide(SNI_A, [moved.pem])).toMatchObject({ allow: true });
    await writer.setCertificateStatus(ACCOUNT_A, moved.id, 'INACTIVE', ['ACTIVE']);
    await writer.startTransfer(ACCOUNT_A, moved.id, ACCOUNT_B, null);
    expect(b.authorizer.decide(SNI_A, [moved.pem])).toMatchObject({ allow: false, reason: 'CERTIFICATE_PENDING_TRANSFER' });
    await writer.acceptTransfer(ACCOUNT_B, moved.id, true);
    await caughtUp(b.view);
    expect(b.authorizer.decide(SNI_A, [moved.pem])).toMatchObject({ allow: false, reason: 'CERTIFICATE_NOT_REGISTERED' });
    expect(b.authorizer.decide(SNI_B, [moved.pem])).toMatchObject({ allow: true, reason: 'CERTIFICATE_ACTIVE' });
    expect(b.statements()).toBe(0);
  });

  it('reloads everything after a gap in the log, including what no change row says', async () => {
    const b = await countedView();
    await b.start;
    const leaf = await device();
    await caughtUp(b.view);
    expect(b.authorizer.decide(SNI_A, [leaf.pem])).toMatchObject({ allow: true });
    const pool = (writer as unknown as { pg: Queries }).pg;
    // A write the log does not carry (triggers off), then a hole in the sequences.
    await pool.run(
      `BEGIN; SET LOCAL session_replication_role = replica;
       UPDATE certificates SET status = 'REVOKED' WHERE certificate_id = '${leaf.id}';
       INSERT INTO change_log (sequence, account_id, kind, resource_id, status, created_at)
         SELECT MAX(sequence) + 2, '${ACCOUNT_A}', 'account', '${ACCOUNT_A}', 'UPDATED', 0 FROM change_log;
       COMMIT`,
    );
    await expect.poll(() => b.view.stats().resets, { timeout: 5000 }).toBeGreaterThanOrEqual(1);
    await expect.poll(() => b.view.stale(performance.now()), { timeout: 5000 }).toBeNull();
    expect(b.view.stats().loads).toBeGreaterThanOrEqual(2);
    expect(b.authorizer.decide(SNI_A, [leaf.pem])).toMatchObject({ allow: false, reason: 'CERTIFICATE_REVOKED' });
  });

  it('applies a change committed while its whole load is in flight (state and sequence from one snapshot)', async () => {
    // An account that sorts first: its certificates fill the first page of a two-row page load.
    const first = { accountId: '000000000001', endpointPrefix: 'cccccccccccccc' };
    const sni = `${first.endpointPrefix}-ats.iot.us-east-1.localhost`;
    await writer.createAccount(first);
    const early: Cert[] = [];
    for (let i = 0; i < 3; i++) {
      early.push(certificate({ subject: identity(`fleet early ${i}`, 'p256') }));
      await registerCertificate(writer, early[i]!, { accountId: first.accountId });
    }
    let release: (() => void) | undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let paused = false;
    const b = await countedView({
      pageRows: 2,
      onPage: async (page) => {
        if (page !== 1) return;
        paused = true;
        await held;
      },
    });
    await expect.poll(() => paused).toBe(true);
    // While the load holds its snapshot (two of these certificates read already): revoke
    // them all and register another. A loading sidecar's row has no live lease yet, so
    // the revokes do not wait for it (it allows nothing before it has caught up).
    const before = await newest();
    waits.length = 0;
    const revoking = performance.now();
    await Promise.all(early.map((leaf) => writer.setCertificateStatus(first.accountId, leaf.id, 'REVOKED', ['ACTIVE'])));
    expect(performance.now() - revoking).toBeLessThan(LEASE_MS);
    expect(waits.map((w) => w.outcome)).toEqual(['none', 'none', 'none']);
    const late = certificate({ subject: identity('fleet late', 'p256') });
    await registerCertificate(writer, late, { accountId: first.accountId });
    expect(await newest()).toBeGreaterThanOrEqual(before + 4);
    expect(b.view.stale(performance.now())).not.toBeNull();
    release?.();
    await b.start;
    // A load that took MAX(sequence) from a later snapshot than its standings would count
    // the revokes as applied while holding ACTIVE, and never learn of the late registration.
    await caughtUp(b.view);
    for (const leaf of early) expect(b.authorizer.decide(sni, [leaf.pem])).toMatchObject({ allow: false, reason: 'CERTIFICATE_REVOKED' });
    expect(b.authorizer.decide(sni, [late.pem])).toMatchObject({ allow: true, reason: 'CERTIFICATE_ACTIVE' });
    expect(b.statements()).toBe(0);
  });

  it('stays exact under a stream of status changes racing its catch-up reads', async () => {
    const b = await countedView();
    await b.start;
    const leaves = await Promise.all(Array.from({ length: 6 }, () => device()));
    await caughtUp(b.view);
    const statuses: ('ACTIVE' | 'INACTIVE')[] = leaves.map(() => 'ACTIVE');
    const mismatches: string[] = [];
    for (let round = 0; round < 12; round++) {
      // Concurrent writes (each lowering one waits for the fleet), interleaved with catch-ups.
      await Promise.all(
        leaves.map(async (leaf, i) => {
          const to = statuses[i] === 'ACTIVE' ? 'INACTIVE' : 'ACTIVE';
          await writer.setCertificateStatus(ACCOUNT_A, leaf.id, to, [statuses[i]!]);
          statuses[i] = to;
        }),
      );
      await caughtUp(b.view);
      leaves.forEach((leaf, i) => {
        const d = b.authorizer.decide(SNI_A, [leaf.pem]) as { reason: string };
        const want = statuses[i] === 'ACTIVE' ? 'CERTIFICATE_ACTIVE' : 'CERTIFICATE_INACTIVE';
        if (d.reason !== want) mismatches.push(`round ${round}: ${leaf.id.slice(0, 8)} ${d.reason}, registry ${statuses[i]}`);
      });
    }
    expect(mismatches).toEqual([]);
  });
});
