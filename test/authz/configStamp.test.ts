/**
 * The configuration caches on SQLite keep routing, a registered CA and its CRL's id past
 * `configCacheMs` without reading them again while nothing has been committed
 * (ts/authz/configCache.ts `renewed`, the registry's commit stamp from
 * ts/fastpath/committedReads.ts), and read them again — and see the change — once the
 * TTL has run out after any commit: a removed domain, a deleted CA and a new CRL take
 * effect within the TTL exactly as when every entry was read again each TTL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { replaceCrl } from '../../ts/crl/replace.js';
import { loadEngine } from '../../ts/engine/load.js';
import { openSqliteRegistry, type SqliteRegistry } from '../../ts/registry/sqlite/registry.js';
import { testAuthorizer } from './authorizer.js';
import { DATES, certificate, crlPem, identity, revocationList } from './pki.js';
import { ACCOUNT_A, CUSTOM_DOMAIN_A, SNI_A, createWorld, type World } from './world.js';

describe('configuration kept past its TTL while nothing is committed (SQLite)', () => {
  let world: World;
  let registry: SqliteRegistry;
  let nowMs: number;
  beforeEach(async () => {
    world = await createWorld();
    registry = world.registry as SqliteRegistry;
    nowMs = DATES.now * 1000;
  });
  afterEach(() => world.dispose());

  /** Spies on the configuration reads; made before the authorizer (reads.ts binds them then). */
  function spies() {
    return {
      routes: vi.spyOn(registry, 'accountForHostSync'),
      cas: vi.spyOn(registry, 'getCaCertificateSync'),
      crls: vi.spyOn(registry, 'getCaCrlMetaSync'),
    };
  }
  const counts = (s: ReturnType<typeof spies>) => [s.routes.mock.calls.length, s.cas.mock.calls.length, s.crls.mock.calls.length];

  async function device() {
    const leaf = certificate({ subject: identity(`device ${Math.random()}`, 'p256'), issuer: world.caIdentity });
    await world.register(leaf, { caId: world.ca.id, mode: 'DEFAULT' });
    return leaf;
  }

  it('reads routing, the CA and the CRL id once while nothing is committed, and again after the TTL once something is', async () => {
    const leaf = await device();
    const s = spies();
    const { authorizer } = testAuthorizer(world, { configCacheMs: 1000, clock: () => nowMs });
    expect(authorizer.decide(SNI_A, [leaf.pem])).toMatchObject({ allow: true });
    expect(counts(s)).toEqual([1, 1, 1]);
    for (let i = 0; i < 5; i++) {
      nowMs += 5000;
      expect(authorizer.decide(SNI_A, [leaf.pem])).toMatchObject({ allow: true });
    }
    expect(counts(s)).toEqual([1, 1, 1]);
    // Any commit (here an unrelated registration) ends the stamp: read again after the TTL.
    await device();
    expect(authorizer.decide(SNI_A, [leaf.pem])).toMatchObject({ allow: true });
    expect(counts(s)).toEqual([1, 1, 1]);
    nowMs += 1000;
    expect(authorizer.decide(SNI_A, [leaf.pem])).toMatchObject({ allow: true });
    expect(counts(s)).toEqual([2, 2, 2]);
  });

  it('parses a CA once, however often its registration is read again', async () => {
    const leaf = await device();
    const native = loadEngine('native');
    const inspect = vi.fn(native.inspect);
    const engine = { ...native, inspect };
    const s = spies();
    const { authorizer } = testAuthorizer(world, { engine, configCacheMs: 1000, clock: () => nowMs });
    for (let i = 0; i < 3; i++) {
      // A commit each time: the CA's registration is read again after the TTL.
      await device();
      nowMs += 1000;
      expect(authorizer.decide(SNI_A, [leaf.pem])).toMatchObject({ allow: true });
    }
    expect(s.cas.mock.calls.length).toBe(3);
    expect(inspect.mock.calls.filter(([der]) => Buffer.from(der).equals(world.ca.der))).toHaveLength(1);
  });

  it('without the fast path reads them again each TTL (no stamp)', async () => {
    await world.dispose();
    const dir = mkdtempSync(path.join(tmpdir(), 'certgate-nofast-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    world = await createWorld({ open: () => openSqliteRegistry({ path: path.join(dir, 'registry.db'), fastPath: false }) });
    registry = world.registry as SqliteRegistry;
    const leaf = await device();
    const s = spies();
    const { authorizer } = testAuthorizer(world, { configCacheMs: 1000, clock: () => nowMs });
    expect(authorizer.decide(SNI_A, [leaf.pem])).toMatchObject({ allow: true });
    nowMs += 1000;
    expect(authorizer.decide(SNI_A, [leaf.pem])).toMatchObject({ allow: true });
    expect(counts(s)).toEqual([2, 2, 2]);
  });

  it('a domain removed after the routing was kept past its TTL stops routing once the TTL runs out', async () => {
    const leaf = await device();
    const { authorizer } = testAuthorizer(world, { configCacheMs: 1000, clock: () => nowMs });
    expect(authorizer.decide(CUSTOM_DOMAIN_A, [leaf.pem])).toMatchObject({ allow: true });
    nowMs += 5000;
    expect(authorizer.decide(CUSTOM_DOMAIN_A, [leaf.pem])).toMatchObject({ allow: true });
    await world.registry.removeDomain(ACCOUNT_A, CUSTOM_DOMAIN_A);
    nowMs += 1000;
    expect(authorizer.decide(CUSTOM_DOMAIN_A, [leaf.pem])).toMatchObject({ allow: false, reason: 'UNKNOWN_SNI' });
  });

  it('a CA deleted after it was kept past its TTL denies CA_NOT_FOUND once the TTL runs out, the chain verification cached', async () => {
    const leaf = await device();
    const { authorizer, events } = testAuthorizer(world, { configCacheMs: 1000, clock: () => nowMs });
    // Twice: the verification is cached from the chain's second sight (ts/authz/doorkeeper.ts).
    expect(authorizer.decide(SNI_A, [leaf.pem])).toMatchObject({ allow: true });
    expect(authorizer.decide(SNI_A, [leaf.pem])).toMatchObject({ allow: true });
    nowMs += 5000;
    expect(authorizer.decide(SNI_A, [leaf.pem])).toMatchObject({ allow: true });
    expect(events.at(-1)?.cacheHit).toBe(true);
    await world.registry.updateCaCertificate(ACCOUNT_A, world.ca.id, { status: 'INACTIVE' });
    await world.registry.deleteCaCertificate(ACCOUNT_A, world.ca.id);
    nowMs += 1000;
    expect(await authorizer.authorize(SNI_A, [leaf.pem])).toMatchObject({ allow: false, reason: 'CA_NOT_FOUND' });
  });

  it('a CRL stored after the CRL id was kept past its TTL applies once the TTL runs out', async () => {
    const leaf = certificate({ subject: identity('listed device', 'p256'), issuer: world.caIdentity, serial: 0x77n });
    await world.register(leaf, { caId: world.ca.id, mode: 'DEFAULT' });
    const { authorizer } = testAuthorizer(world, { configCacheMs: 1000, clock: () => nowMs });
    expect(authorizer.decide(SNI_A, [leaf.pem])).toMatchObject({ allow: true });
    nowMs += 5000;
    expect(authorizer.decide(SNI_A, [leaf.pem])).toMatchObject({ allow: true });
    const der = revocationList({
      issuer: world.caIdentity,
      serials: [0x77n],
      number: 1n,
      thisUpdate: DATES.now - 60,
      nextUpdate: DATES.notAfter,
    });
    const stored = await replaceCrl(
      world.registry,
      loadEngine('native'),
      { accountId: ACCOUNT_A, caCertificateId: world.ca.id, bytes: Buffer.from(crlPem(der)), source: 'UPLOAD', sourceUrl: null },
      DATES.now,
    );
    expect(stored.ok).toBe(true);
    nowMs += 1000;
    expect(await authorizer.authorize(SNI_A, [leaf.pem])).toMatchObject({ allow: false, reason: 'CERTIFICATE_REVOKED_BY_CA' });
  });
});
