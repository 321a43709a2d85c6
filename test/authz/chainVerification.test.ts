/**
 * CA-registered certificates: the leaf must verify against its registered CA (using
 * presented intermediates); certificates registered without a CA get no chain check.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENGINE_NAMES } from '../../ts/engine/types.js';
import { testAuthorizer } from './authorizer.js';
import { DATES, certificate, identity } from './pki.js';
import { ACCOUNT_A, SNI_A, createWorld, type World } from './world.js';

describe.each(ENGINE_NAMES)('chain verification with the %s engine', (engineName) => {
  let world: World;
  beforeEach(async () => {
    world = await createWorld();
  });
  afterEach(() => world.dispose());

  it('allows a leaf signed by its registered CA and caches the verification from its second sight on', async () => {
    const leaf = certificate({ subject: identity('device', 'p256'), issuer: world.caIdentity });
    await world.register(leaf, { caId: world.ca.id, mode: 'DEFAULT' });
    const { authorizer, events } = testAuthorizer(world, { engine: engineName });
    expect(await authorizer.authorize(SNI_A, [leaf.pem])).toMatchObject({ allow: true, certificateMode: 'DEFAULT' });
    expect(await authorizer.authorize(SNI_A, [leaf.pem])).toMatchObject({ allow: true });
    expect(await authorizer.authorize(SNI_A, [leaf.pem])).toMatchObject({ allow: true });
    // First sight: verified, not kept (the doorkeeper notes it); second: verified and kept; then cached.
    expect(events.map((e) => [e.stages.has('verify_inline'), e.cacheHit])).toEqual([
      [true, false],
      [true, false],
      [false, true],
    ]);
  });

  it('uses presented intermediates between the leaf and the registered CA', async () => {
    const intermediateId = identity('Fleet Intermediate', 'p256');
    const intermediate = certificate({ subject: intermediateId, issuer: world.caIdentity, ca: true });
    const leaf = certificate({ subject: identity('device', 'p256'), issuer: intermediateId });
    await world.register(leaf, { caId: world.ca.id });
    const { authorizer } = testAuthorizer(world, { engine: engineName });
    expect((await authorizer.authorize(SNI_A, [leaf.pem, intermediate.pem])).allow).toBe(true);
    expect((await authorizer.authorize(SNI_A, [leaf.pem])).reason).toBe('CHAIN_VERIFICATION_FAILED');
  });

  it('verifies a chain remembered by its text again from that text when the cache no longer vouches for it', async () => {
    // The decoded-chain memo keeps texts, not DER (ts/authz/chain.ts TextChain): with a
    // verification cache of one entry and a larger memo, the third decision finds the
    // chain in the memo but must verify it again, decoding leaf and intermediate anew.
    const intermediateId = identity('Fleet Intermediate', 'p256');
    const intermediate = certificate({ subject: intermediateId, issuer: world.caIdentity, ca: true });
    const leaf = certificate({ subject: identity('device', 'p256'), issuer: intermediateId });
    const other = certificate({ subject: identity('other device', 'p256'), issuer: world.caIdentity });
    await world.register(leaf, { caId: world.ca.id });
    await world.register(other, { caId: world.ca.id });
    const { authorizer, events } = testAuthorizer(world, { engine: engineName, cacheSize: 1, chainMemoSize: 8, admitOnFirstSight: true });
    const text = leaf.pem + intermediate.pem;
    expect(await authorizer.authorize(SNI_A, [text])).toMatchObject({ allow: true, certificateId: leaf.id });
    expect(await authorizer.authorize(SNI_A, [text])).toMatchObject({ allow: true, certificateId: leaf.id });
    expect(await authorizer.authorize(SNI_A, [other.pem])).toMatchObject({ allow: true, certificateId: other.id });
    expect(await authorizer.authorize(SNI_A, [text])).toMatchObject({ allow: true, certificateId: leaf.id });
    expect(events.map((e) => e.stages.has('verify_inline'))).toEqual([true, false, true, true]);
  });

  it('names a presented intermediate that is not a certificate', async () => {
    const leaf = certificate({ subject: identity('device', 'p256'), issuer: world.caIdentity });
    await world.register(leaf, { caId: world.ca.id, mode: 'DEFAULT' });
    const { authorizer } = testAuthorizer(world, { engine: engineName });
    const garbage = '-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n';
    const d = await authorizer.authorize(SNI_A, [leaf.pem + garbage]);
    expect(d).toMatchObject({ allow: false, reason: 'CHAIN_VERIFICATION_FAILED', certificateId: leaf.id });
    expect(d.message).toMatch(/^NO_CERTIFICATE: intermediate 1: input is neither DER/);
  });

  it('denies a leaf whose signature is not by the registered CA, even with the same issuer name', async () => {
    const forged = certificate({ subject: identity('device', 'p256'), issuer: world.rogueCaIdentity });
    await world.register(forged, { caId: world.ca.id });
    const { authorizer } = testAuthorizer(world, { engine: engineName });
    expect((await authorizer.authorize(SNI_A, [forged.pem])).reason).toBe('CHAIN_VERIFICATION_FAILED');
  });

  it('does not check any chain for a certificate registered without a CA', async () => {
    const selfSigned = certificate({ subject: identity('standalone', 'p256') });
    await world.register(selfSigned, { caId: null });
    const { authorizer, events } = testAuthorizer(world, { engine: engineName });
    expect((await authorizer.authorize(SNI_A, [selfSigned.pem])).allow).toBe(true);
    expect(events[0]?.stages.has('verify_inline')).toBe(false);
  });

  // https://docs.aws.amazon.com/iot/latest/developerguide/deactivate-ca-cert.html: deactivating a CA stops new registrations only.
  it('keeps allowing registered certificates after their CA is deactivated', async () => {
    const leaf = certificate({ subject: identity('device', 'p256'), issuer: world.caIdentity });
    await world.register(leaf, { caId: world.ca.id });
    await world.registry.updateCaCertificate(ACCOUNT_A, world.ca.id, { status: 'INACTIVE' });
    const { authorizer } = testAuthorizer(world, { engine: engineName });
    expect((await authorizer.authorize(SNI_A, [leaf.pem])).allow).toBe(true);
  });

  it('denies with CA_NOT_FOUND once the registering CA has been deleted', async () => {
    const leaf = certificate({ subject: identity('device', 'p256'), issuer: world.rsaCaIdentity });
    await world.register(leaf, { caId: world.rsaCa.id });
    await world.registry.updateCaCertificate(ACCOUNT_A, world.rsaCa.id, { status: 'INACTIVE' });
    await world.registry.deleteCaCertificate(ACCOUNT_A, world.rsaCa.id);
    const { authorizer } = testAuthorizer(world, { engine: engineName });
    expect((await authorizer.authorize(SNI_A, [leaf.pem])).reason).toBe('CA_NOT_FOUND');
  });

  it('denies a chain whose verification is cached once its CA is deleted, after the config-cache TTL', async () => {
    const leaf = certificate({ subject: identity('device', 'p256'), issuer: world.rsaCaIdentity });
    await world.register(leaf, { caId: world.rsaCa.id });
    let nowMs = DATES.now * 1000;
    const { authorizer, events } = testAuthorizer(world, { engine: engineName, configCacheMs: 1000, clock: () => nowMs });
    for (let i = 0; i < 3; i++) expect((await authorizer.authorize(SNI_A, [leaf.pem])).allow).toBe(true);
    expect(events[2]?.cacheHit).toBe(true);
    await world.registry.updateCaCertificate(ACCOUNT_A, world.rsaCa.id, { status: 'INACTIVE' });
    await world.registry.deleteCaCertificate(ACCOUNT_A, world.rsaCa.id);
    nowMs += 1001;
    expect((await authorizer.authorize(SNI_A, [leaf.pem])).reason).toBe('CA_NOT_FOUND');
  });

  it('verifies an RSA-2048 CA signature too', async () => {
    const leaf = certificate({ subject: identity('rsa-device', 'rsa2048'), issuer: world.rsaCaIdentity });
    await world.register(leaf, { caId: world.rsaCa.id });
    const { authorizer } = testAuthorizer(world, { engine: engineName });
    expect((await authorizer.authorize(SNI_A, [leaf.pem])).allow).toBe(true);
  });
});
