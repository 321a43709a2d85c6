/**
 * Certificate revocation lists at decision time (branch crl): a leaf or presented
 * intermediate listed on its issuing registered CA's current CRL is denied
 * CERTIFICATE_REVOKED_BY_CA, also when registered ACTIVE; a CRL past its nextUpdate
 * denies CRL_EXPIRED unless dangerAllowExpiredCrl. CRLs are stored through the same
 * replaceCrl the admin API uses, so they are verified by the engine first.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { replaceCrl } from '../../ts/crl/replace.js';
import { loadEngine } from '../../ts/engine/load.js';
import { ENGINE_NAMES, type EngineName } from '../../ts/engine/types.js';
import { ConfigError, parseServeConfig } from '../../ts/server/config.js';
import { testAuthorizer } from './authorizer.js';
import { DATES, certificate, crlPem, identity, revocationList, type Identity } from './pki.js';
import { ACCOUNT_A, SNI_A, createWorld, type World } from './world.js';

describe.each(ENGINE_NAMES)('CRLs in the decision with the %s engine', (engineName: EngineName) => {
  let world: World;
  beforeEach(async () => {
    world = await createWorld();
  });
  afterEach(() => world.dispose());

  /** Store a CRL of `issuer` for registered CA `caId` at DATES.now, as the admin API does. */
  async function putCrl(
    caId: string,
    issuer: Identity,
    serials: bigint[],
    number: bigint,
    nextUpdate: number = DATES.notAfter,
  ): Promise<void> {
    const der = revocationList({ issuer, serials, number, thisUpdate: DATES.now - 60, nextUpdate });
    const out = await replaceCrl(
      world.registry,
      loadEngine(engineName),
      { accountId: ACCOUNT_A, caCertificateId: caId, bytes: Buffer.from(crlPem(der)), source: 'UPLOAD', sourceUrl: null },
      DATES.now,
    );
    if (!out.ok) throw new Error(`${out.code}: ${out.message}`);
  }

  it('denies an ACTIVE leaf listed on its CA’s CRL, and allows it again once the CRL no longer lists it', async () => {
    const leaf = certificate({ subject: identity('device', 'p256'), issuer: world.caIdentity, serial: 0x1234n });
    const other = certificate({ subject: identity('device 2', 'p256'), issuer: world.caIdentity, serial: 0x99n });
    await world.register(leaf, { caId: world.ca.id, mode: 'DEFAULT' });
    await world.register(other, { caId: world.ca.id, mode: 'DEFAULT' });
    const { authorizer } = testAuthorizer(world, { engine: engineName });
    // Warm: verified and cached before the CRL exists.
    expect((await authorizer.authorize(SNI_A, [leaf.pem])).allow).toBe(true);
    await putCrl(world.ca.id, world.caIdentity, [0x1234n, 0x5n], 1n);
    expect(await authorizer.authorize(SNI_A, [leaf.pem])).toMatchObject({
      allow: false,
      reason: 'CERTIFICATE_REVOKED_BY_CA',
      accountId: ACCOUNT_A,
    });
    // Decided synchronously (SQLite, cached chain), it is refused the same way.
    expect(authorizer.decide(SNI_A, [leaf.pem])).toMatchObject({ allow: false, reason: 'CERTIFICATE_REVOKED_BY_CA' });
    expect((await authorizer.authorize(SNI_A, [other.pem])).allow).toBe(true);
    await putCrl(world.ca.id, world.caIdentity, [0x5n], 2n);
    expect((await authorizer.authorize(SNI_A, [leaf.pem])).allow).toBe(true);
  });

  it('denies a leaf whose presented intermediate is listed on the registered CA’s CRL', async () => {
    const intermediateId = identity('Fleet Intermediate', 'p256');
    const intermediate = certificate({ subject: intermediateId, issuer: world.caIdentity, ca: true, serial: 0x7777n });
    const leaf = certificate({ subject: identity('device', 'p256'), issuer: intermediateId, serial: 0x1n });
    await world.register(leaf, { caId: world.ca.id });
    const { authorizer } = testAuthorizer(world, { engine: engineName });
    // The leaf's own serial on the CA's CRL is not this leaf (the CA did not issue it).
    await putCrl(world.ca.id, world.caIdentity, [0x1n], 1n);
    expect((await authorizer.authorize(SNI_A, [leaf.pem, intermediate.pem])).allow).toBe(true);
    await putCrl(world.ca.id, world.caIdentity, [0x1n, 0x7777n], 2n);
    expect(await authorizer.authorize(SNI_A, [leaf.pem, intermediate.pem])).toMatchObject({
      allow: false,
      reason: 'CERTIFICATE_REVOKED_BY_CA',
    });
  });

  it('denies CRL_EXPIRED past nextUpdate, and keeps using the list only with dangerAllowExpiredCrl', async () => {
    const leaf = certificate({ subject: identity('device', 'p256'), issuer: world.caIdentity, serial: 0x42n });
    const revoked = certificate({ subject: identity('device 2', 'p256'), issuer: world.caIdentity, serial: 0x43n });
    await world.register(leaf, { caId: world.ca.id, mode: 'DEFAULT' });
    await world.register(revoked, { caId: world.ca.id, mode: 'DEFAULT' });
    await putCrl(world.ca.id, world.caIdentity, [0x43n], 1n, DATES.now + 3600);
    const later = DATES.now + 3601;
    const strict = testAuthorizer(world, { engine: engineName, now: later }).authorizer;
    expect(await strict.authorize(SNI_A, [leaf.pem])).toMatchObject({ allow: false, reason: 'CRL_EXPIRED' });
    const lenient = testAuthorizer(world, { engine: engineName, now: later, dangerAllowExpiredCrl: true }).authorizer;
    expect((await lenient.authorize(SNI_A, [leaf.pem])).allow).toBe(true);
    expect(await lenient.authorize(SNI_A, [revoked.pem])).toMatchObject({ allow: false, reason: 'CERTIFICATE_REVOKED_BY_CA' });
    // Before nextUpdate the strict authorizer allows.
    expect((await testAuthorizer(world, { engine: engineName }).authorizer.authorize(SNI_A, [leaf.pem])).allow).toBe(true);
  });

  it('sees a new CRL only after the config-cache TTL, and a deleted CRL stops applying', async () => {
    const leaf = certificate({ subject: identity('device', 'p256'), issuer: world.caIdentity, serial: 0x51n });
    await world.register(leaf, { caId: world.ca.id, mode: 'DEFAULT' });
    let nowMs = DATES.now * 1000;
    const { authorizer } = testAuthorizer(world, { engine: engineName, configCacheMs: 1000, clock: () => nowMs });
    expect((await authorizer.authorize(SNI_A, [leaf.pem])).allow).toBe(true);
    await putCrl(world.ca.id, world.caIdentity, [0x51n], 1n);
    expect((await authorizer.authorize(SNI_A, [leaf.pem])).allow).toBe(true);
    nowMs += 1000;
    expect((await authorizer.authorize(SNI_A, [leaf.pem])).reason).toBe('CERTIFICATE_REVOKED_BY_CA');
    await world.registry.deleteCaCrl(ACCOUNT_A, world.ca.id);
    nowMs += 1000;
    expect((await authorizer.authorize(SNI_A, [leaf.pem])).allow).toBe(true);
  });

  it('refuses to store a CRL the CA did not sign, or one older than the current, and changes nothing', async () => {
    const engine = loadEngine(engineName);
    const upload = (der: Buffer) => ({
      accountId: ACCOUNT_A,
      caCertificateId: world.ca.id,
      bytes: der,
      source: 'UPLOAD' as const,
      sourceUrl: null,
    });
    const forged = revocationList({ issuer: world.rogueCaIdentity, serials: [1n], number: 1n, thisUpdate: DATES.now - 60 });
    expect(await replaceCrl(world.registry, engine, upload(forged), DATES.now)).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
    expect(await world.registry.getCaCrlMeta(ACCOUNT_A, world.ca.id)).toBeNull();
    await putCrl(world.ca.id, world.caIdentity, [1n], 5n);
    const older = revocationList({ issuer: world.caIdentity, serials: [], number: 4n, thisUpdate: DATES.now - 60 });
    expect(await replaceCrl(world.registry, engine, upload(older), DATES.now)).toMatchObject({ ok: false, code: 'CRL_NUMBER_REGRESSED' });
    const stale = revocationList({
      issuer: world.caIdentity,
      serials: [],
      number: 6n,
      thisUpdate: DATES.now - 7200,
      nextUpdate: DATES.now - 3600,
    });
    expect(await replaceCrl(world.registry, engine, upload(stale), DATES.now)).toMatchObject({ ok: false, code: 'CRL_EXPIRED' });
    expect(await world.registry.getCaCrlMeta(ACCOUNT_A, world.ca.id)).toMatchObject({ crlNumber: '5', entries: 1 });
  });
});

describe('--danger-allow-expired-crl', () => {
  it('is off by default, on with the flag or true/1 from the environment, and refuses other values', () => {
    expect(parseServeConfig({}).dangerAllowExpiredCrl).toBe(false);
    expect(parseServeConfig({ dangerAllowExpiredCrl: true }).dangerAllowExpiredCrl).toBe(true);
    expect(parseServeConfig({ dangerAllowExpiredCrl: '1' }).dangerAllowExpiredCrl).toBe(true);
    expect(parseServeConfig({ dangerAllowExpiredCrl: 'false' }).dangerAllowExpiredCrl).toBe(false);
    expect(() => parseServeConfig({ dangerAllowExpiredCrl: 'yes please' })).toThrow(ConfigError);
  });
});
