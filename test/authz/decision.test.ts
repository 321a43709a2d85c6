/**
 * The decision's routing, status and certificate rules (https://docs.aws.amazon.com/iot/latest/developerguide/x509-client-certs.html,
 * https://docs.aws.amazon.com/iot/latest/developerguide/transport-security.html), through a real
 * SQLite registry and each real engine.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENGINE_NAMES } from '../../ts/engine/types.js';
import { testAuthorizer } from './authorizer.js';
import { certificate, DATES, identity } from './pki.js';
import { ACCOUNT_A, ACCOUNT_B, CUSTOM_DOMAIN_A, SNI_A, SNI_B, createWorld, type World } from './world.js';

const device = (cn = 'device') => certificate({ subject: identity(cn, 'p256') });

describe.each(ENGINE_NAMES)('the decision with the %s engine', (engineName) => {
  let world: World;
  beforeEach(async () => {
    world = await createWorld();
  });
  afterEach(() => world.dispose());

  it('allows an ACTIVE certificate through its account endpoint and names its things', async () => {
    const leaf = device();
    await world.register(leaf, {});
    await world.registry.attachThingPrincipal(ACCOUNT_A, 'thermostat-1', `arn:aws:iot:us-east-1:${ACCOUNT_A}:cert/${leaf.id}`);
    const { authorizer } = testAuthorizer(world, { engine: engineName });
    const d = await authorizer.authorize(SNI_A, [leaf.pem]);
    expect(d).toEqual({
      allow: true,
      reason: 'CERTIFICATE_ACTIVE',
      certificateId: leaf.id,
      accountId: ACCOUNT_A,
      certificateMode: 'SNI_ONLY',
      things: ['thermostat-1'],
    });
  });

  it('accepts DER as well as PEM, a custom domain, any SNI case and a trailing dot', async () => {
    const leaf = device();
    await world.register(leaf, {});
    const { authorizer } = testAuthorizer(world, { engine: engineName });
    expect((await authorizer.authorize(CUSTOM_DOMAIN_A, [leaf.der])).allow).toBe(true);
    expect((await authorizer.authorize(`${SNI_A.toUpperCase()}.`, [leaf.pem])).allow).toBe(true);
  });

  it('folds ASCII case only: the Kelvin sign does not route as "k" (issue 14, defect 6)', async () => {
    const leaf = device();
    await world.register(leaf, {});
    await world.registry.addDomain(ACCOUNT_A, 'kiosk.example.test');
    const { authorizer } = testAuthorizer(world, { engine: engineName });
    expect((await authorizer.authorize('KIOSK.example.test', [leaf.pem])).allow).toBe(true);
    // "\u212A".toLowerCase() === "k": Unicode folding would allow this on A's domain.
    expect(await authorizer.authorize('\u212Aiosk.example.test', [leaf.pem])).toMatchObject({ allow: false, reason: 'UNKNOWN_SNI' });
  });

  it('denies a certificate registered without a CA whose EKU excludes clientAuth (issue 14, defect 7)', async () => {
    const leaf = certificate({ subject: identity('server-only', 'p256'), eku: 'server' });
    await world.register(leaf, {});
    const { authorizer } = testAuthorizer(world, { engine: engineName });
    // Twice: the second call finds the chain cached and must not allow on the fast path.
    for (let i = 0; i < 2; i++) {
      expect(await authorizer.authorize(SNI_A, [leaf.pem])).toMatchObject({
        allow: false,
        reason: 'CLIENT_AUTH_NOT_PERMITTED',
        accountId: ACCOUNT_A,
      });
    }
  });

  it('denies an SNI that names no account with UNKNOWN_SNI', async () => {
    const leaf = device();
    await world.register(leaf, {});
    const { authorizer } = testAuthorizer(world, { engine: engineName });
    expect(await authorizer.authorize('nobody-ats.iot.us-east-1.localhost', [leaf.pem])).toMatchObject({
      allow: false,
      reason: 'UNKNOWN_SNI',
      certificateId: leaf.id,
    });
  });

  it.each(['.', '   ', ` ${'x'}`, '\t'])('routes the non-name SNI %j nowhere (UNKNOWN_SNI), not to "no SNI"', async (sni) => {
    const leaf = device();
    await world.register(leaf, {});
    const { authorizer } = testAuthorizer(world, { engine: engineName });
    expect((await authorizer.authorize(sni, [leaf.pem])).reason).toBe('UNKNOWN_SNI');
    expect((await authorizer.authorize(` ${SNI_A}`, [leaf.pem])).reason).toBe('UNKNOWN_SNI');
  });

  it("denies a certificate presented at another account's endpoint", async () => {
    const leaf = device();
    await world.register(leaf, { accountId: ACCOUNT_A });
    const { authorizer } = testAuthorizer(world, { engine: engineName });
    expect((await authorizer.authorize(SNI_B, [leaf.pem])).reason).toBe('CERTIFICATE_NOT_REGISTERED');
  });

  it("gives a certificate registered in two accounts each account's own status", async () => {
    const leaf = device();
    await world.register(leaf, { accountId: ACCOUNT_A, status: 'ACTIVE' });
    await world.register(leaf, { accountId: ACCOUNT_B, status: 'REVOKED' });
    const { authorizer } = testAuthorizer(world, { engine: engineName });
    expect(await authorizer.authorize(SNI_A, [leaf.pem])).toMatchObject({ allow: true, accountId: ACCOUNT_A });
    expect(await authorizer.authorize(SNI_B, [leaf.pem])).toMatchObject({
      allow: false,
      reason: 'CERTIFICATE_REVOKED',
      accountId: ACCOUNT_B,
    });
  });

  describe('without SNI', () => {
    it('allows a DEFAULT-mode certificate registered in exactly one account', async () => {
      const leaf = device();
      await world.register(leaf, { mode: 'DEFAULT' });
      const { authorizer } = testAuthorizer(world, { engine: engineName });
      expect(await authorizer.authorize(null, [leaf.pem])).toMatchObject({ allow: true, accountId: ACCOUNT_A });
      expect((await authorizer.authorize('', [leaf.pem])).allow).toBe(true);
    });

    it('denies an SNI_ONLY certificate with SNI_REQUIRED', async () => {
      const leaf = device();
      await world.register(leaf, { mode: 'SNI_ONLY' });
      const { authorizer } = testAuthorizer(world, { engine: engineName });
      expect((await authorizer.authorize(null, [leaf.pem])).reason).toBe('SNI_REQUIRED');
    });

    it('denies a certificate registered only in SNI_ONLY mode, in two accounts, with SNI_REQUIRED', async () => {
      const leaf = device();
      await world.register(leaf, { accountId: ACCOUNT_A, mode: 'SNI_ONLY' });
      await world.register(leaf, { accountId: ACCOUNT_B, mode: 'SNI_ONLY' });
      const { authorizer } = testAuthorizer(world, { engine: engineName });
      expect(await authorizer.authorize(undefined, [leaf.pem])).toMatchObject({
        reason: 'SNI_REQUIRED',
        message: 'SNI_ONLY certificate without SNI (registered in 2 account(s))',
      });
    });

    it('routes no SNI to the one DEFAULT registration, whatever SNI_ONLY registrations another account added (issue 14, defect 2)', async () => {
      const leaf = device();
      // B registered A's device from public material (SNI_ONLY), before and after A did.
      await world.register(leaf, { accountId: ACCOUNT_B, mode: 'SNI_ONLY' });
      await world.register(leaf, { accountId: ACCOUNT_A, mode: 'DEFAULT' });
      const { authorizer } = testAuthorizer(world, { engine: engineName });
      expect(await authorizer.authorize(null, [leaf.pem])).toMatchObject({ allow: true, accountId: ACCOUNT_A, certificateMode: 'DEFAULT' });
      expect(await authorizer.authorize(SNI_A, [leaf.pem])).toMatchObject({ allow: true, accountId: ACCOUNT_A });
      // B's registration answers only on B's endpoint.
      expect(await authorizer.authorize(SNI_B, [leaf.pem])).toMatchObject({
        allow: true,
        accountId: ACCOUNT_B,
        certificateMode: 'SNI_ONLY',
      });
    });

    it('denies an unregistered certificate with CERTIFICATE_NOT_REGISTERED', async () => {
      const { authorizer } = testAuthorizer(world, { engine: engineName });
      expect((await authorizer.authorize(null, [device().pem])).reason).toBe('CERTIFICATE_NOT_REGISTERED');
    });
  });

  it.each([
    ['INACTIVE', 'CERTIFICATE_INACTIVE'],
    ['REVOKED', 'CERTIFICATE_REVOKED'],
    ['PENDING_TRANSFER', 'CERTIFICATE_PENDING_TRANSFER'],
    ['PENDING_ACTIVATION', 'CERTIFICATE_PENDING_ACTIVATION'],
  ] as const)('denies a %s certificate with %s', async (status, reason) => {
    const leaf = device();
    await world.register(leaf, { status });
    const { authorizer } = testAuthorizer(world, { engine: engineName });
    expect(await authorizer.authorize(SNI_A, [leaf.pem])).toMatchObject({ allow: false, reason, accountId: ACCOUNT_A });
  });

  it('denies an expired certificate and one not yet valid, whatever its status', async () => {
    const expired = certificate({ subject: identity('old', 'p256'), notAfter: DATES.expired });
    const early = certificate({ subject: identity('early', 'p256'), notBefore: DATES.future });
    await world.register(expired, {});
    await world.register(early, {});
    const { authorizer } = testAuthorizer(world, { engine: engineName });
    expect((await authorizer.authorize(SNI_A, [expired.pem])).reason).toBe('CERTIFICATE_EXPIRED');
    expect((await authorizer.authorize(SNI_A, [early.pem])).reason).toBe('CERTIFICATE_NOT_YET_VALID');
  });

  it('denies a SHA-1-signed certificate with UNSUPPORTED_SIGNATURE_ALGORITHM', async () => {
    const rsa = identity('legacy', 'rsa2048');
    const legacy = certificate({ subject: rsa, issuer: rsa, sha1: true });
    await world.register(legacy, {});
    const { authorizer } = testAuthorizer(world, { engine: engineName });
    expect((await authorizer.authorize(SNI_A, [legacy.pem])).reason).toBe('UNSUPPORTED_SIGNATURE_ALGORITHM');
  });

  it('denies no certificate, garbage, and each chain limit with its own reason', async () => {
    const leaf = device();
    await world.register(leaf, {});
    const { authorizer } = testAuthorizer(world, { engine: engineName, limits: { maxChainLength: 2, maxCertificateBytes: 200 } });
    expect((await authorizer.authorize(SNI_A, [])).reason).toBe('NO_CERTIFICATE');
    expect((await authorizer.authorize(SNI_A, ['not a certificate'])).reason).toBe('MALFORMED_CERTIFICATE');
    expect((await authorizer.authorize(SNI_A, ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'])).reason).toBe(
      'MALFORMED_CERTIFICATE',
    );
    expect((await authorizer.authorize(SNI_A, [leaf.pem + leaf.pem + leaf.pem])).reason).toBe('CHAIN_TOO_LONG');
    expect((await authorizer.authorize(SNI_A, [leaf.pem])).reason).toBe('CERTIFICATE_TOO_LARGE');
  });

  it('reuses SNI routing for configCacheMs but never the status or the thing names', async () => {
    const leaf = device();
    await world.register(leaf, {});
    let now = DATES.now * 1000;
    const { authorizer } = testAuthorizer(world, { engine: engineName, configCacheMs: 1000, clock: () => now });
    expect((await authorizer.authorize(CUSTOM_DOMAIN_A, [leaf.pem])).things).toEqual([]);
    await world.registry.attachThingPrincipal(ACCOUNT_A, 'late-thing', `arn:aws:iot:us-east-1:${ACCOUNT_A}:cert/${leaf.id}`);
    await world.registry.removeDomain(ACCOUNT_A, CUSTOM_DOMAIN_A);
    await world.setStatus(ACCOUNT_A, leaf.id, 'INACTIVE');
    expect((await authorizer.authorize(CUSTOM_DOMAIN_A, [leaf.pem])).reason).toBe('CERTIFICATE_INACTIVE');
    await world.setStatus(ACCOUNT_A, leaf.id, 'ACTIVE');
    expect(await authorizer.authorize(CUSTOM_DOMAIN_A, [leaf.pem])).toMatchObject({ allow: true, things: ['late-thing'] });
    now += 1001;
    expect((await authorizer.authorize(CUSTOM_DOMAIN_A, [leaf.pem])).reason).toBe('UNKNOWN_SNI');
    expect((await authorizer.authorize(SNI_A, [leaf.pem])).things).toEqual(['late-thing']);
  });

  it('reads status fresh on every decision even when the chain is cached', async () => {
    const leaf = device();
    await world.register(leaf, {});
    const { authorizer, events } = testAuthorizer(world, { engine: engineName });
    expect((await authorizer.authorize(SNI_A, [leaf.pem])).allow).toBe(true);
    expect((await authorizer.authorize(SNI_A, [leaf.pem])).allow).toBe(true);
    await world.setStatus(ACCOUNT_A, leaf.id, 'INACTIVE');
    expect((await authorizer.authorize(SNI_A, [leaf.pem])).reason).toBe('CERTIFICATE_INACTIVE');
    expect(events.map((e) => e.cacheHit)).toEqual([false, false, true]);
  });
});
