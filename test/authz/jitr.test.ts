/**
 * Just-in-time registration (https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html): registration,
 * the durable event, refusal of
 * the first connection, re-emission while pending, and webhook delivery with retries.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebhookDeliverer, type WebhookBody } from '../../ts/authz/webhooks.js';
import { testAuthorizer } from './authorizer.js';
import { certificate, DATES, identity } from './pki.js';
import { ACCOUNT_A, ACCOUNT_B, SNI_A, createWorld, type World } from './world.js';

const newDevice = (w: World) => certificate({ subject: identity('new-device', 'p256'), issuer: w.caIdentity });

describe('just-in-time registration', () => {
  let world: World;
  beforeEach(async () => {
    world = await createWorld();
  });
  afterEach(() => world.dispose());

  it('registers an unknown certificate of an auto-registering CA as PENDING_ACTIVATION, logs the event and refuses', async () => {
    const leaf = newDevice(world);
    const { authorizer } = testAuthorizer(world);
    // The answer names the registration it just made.
    expect(await authorizer.authorize(SNI_A, [leaf.pem])).toMatchObject({
      allow: false,
      reason: 'JITR_REGISTERED',
      certificateId: leaf.id,
      accountId: ACCOUNT_A,
      certificateMode: 'DEFAULT',
    });
    const record = await world.registry.getCertificate(ACCOUNT_A, leaf.id);
    expect(record).toMatchObject({ status: 'PENDING_ACTIVATION', caCertificateId: world.ca.id, certificateMode: 'DEFAULT' });
    const events = await world.registry.listEvents(ACCOUNT_A, 0, 10);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      topic: `$aws/events/certificates/registered/${world.ca.id}`,
      payload: {
        certificateId: leaf.id,
        caCertificateId: world.ca.id,
        timestamp: DATES.now * 1000,
        certificateStatus: 'PENDING_ACTIVATION',
        awsAccountId: ACCOUNT_A,
        certificateRegistrationTimestamp: null,
      },
    });
  });

  it('does not register a certificate another account holds in DEFAULT mode: one rule on every path (issue 14, defect 2)', async () => {
    const leaf = newDevice(world);
    await world.register(leaf, { accountId: ACCOUNT_B, mode: 'DEFAULT', status: 'INACTIVE' });
    const { authorizer } = testAuthorizer(world);
    const d = await authorizer.authorize(SNI_A, [leaf.pem]);
    expect(d).toMatchObject({ allow: false, reason: 'CERTIFICATE_NOT_REGISTERED' });
    expect(d.message).toMatch(/CERTIFICATE_OWNED_ELSEWHERE/);
    expect(await world.registry.getCertificate(ACCOUNT_A, leaf.id)).toBeNull();
    expect(await world.registry.listEvents(ACCOUNT_A, 0, 10)).toEqual([]);
    expect((await world.registry.findCertificateRegistrations(leaf.id)).map((r) => [r.accountId, r.certificateMode])).toEqual([
      [ACCOUNT_B, 'DEFAULT'],
    ]);
  });

  it('registers a certificate that another account holds only in SNI_ONLY mode (a squatter cannot block JITR)', async () => {
    const leaf = newDevice(world);
    await world.register(leaf, { accountId: ACCOUNT_B, mode: 'SNI_ONLY' });
    const { authorizer } = testAuthorizer(world);
    expect((await authorizer.authorize(SNI_A, [leaf.pem])).reason).toBe('JITR_REGISTERED');
    expect(await world.registry.getCertificate(ACCOUNT_A, leaf.id)).toMatchObject({
      status: 'PENDING_ACTIVATION',
      certificateMode: 'DEFAULT',
    });
  });

  it('does not register a leaf whose EKU excludes clientAuth (the rule registration applies, issue 14 defect 7)', async () => {
    const leaf = certificate({ subject: identity('server-only', 'p256'), issuer: world.caIdentity, eku: 'server' });
    const { authorizer } = testAuthorizer(world);
    expect((await authorizer.authorize(SNI_A, [leaf.pem])).reason).toBe('CERTIFICATE_NOT_REGISTERED');
    expect(await world.registry.getCertificate(ACCOUNT_A, leaf.id)).toBeNull();
  });

  it('re-emits the event on each attempt while still PENDING_ACTIVATION, and allows once activated', async () => {
    const leaf = newDevice(world);
    const { authorizer } = testAuthorizer(world);
    await authorizer.authorize(SNI_A, [leaf.pem]);
    expect((await authorizer.authorize(SNI_A, [leaf.pem])).reason).toBe('CERTIFICATE_PENDING_ACTIVATION');
    expect(await world.registry.listEvents(ACCOUNT_A, 0, 10)).toHaveLength(2);
    await world.setStatus(ACCOUNT_A, leaf.id, 'ACTIVE');
    expect((await authorizer.authorize(SNI_A, [leaf.pem])).allow).toBe(true);
  });

  it('spaces re-emissions for one pending certificate by jitrReemitIntervalMs, per certificate', async () => {
    const leaf = newDevice(world);
    const other = newDevice(world);
    let now = DATES.now * 1000;
    const { authorizer } = testAuthorizer(world, { clock: () => now, jitrReemitIntervalMs: 10_000 });
    for (const pem of [leaf.pem, other.pem]) expect((await authorizer.authorize(SNI_A, [pem])).reason).toBe('JITR_REGISTERED');
    for (let i = 0; i < 3; i++) {
      for (const pem of [leaf.pem, other.pem])
        expect((await authorizer.authorize(SNI_A, [pem])).reason).toBe('CERTIFICATE_PENDING_ACTIVATION');
    }
    // Only the two registrations: every later attempt came within 10 s of its certificate's event.
    expect(await world.registry.listEvents(ACCOUNT_A, 0, 20)).toHaveLength(2);
    now += 10_000;
    expect((await authorizer.authorize(SNI_A, [leaf.pem])).reason).toBe('CERTIFICATE_PENDING_ACTIVATION');
    expect((await authorizer.authorize(SNI_A, [leaf.pem])).reason).toBe('CERTIFICATE_PENDING_ACTIVATION');
    const events = await world.registry.listEvents(ACCOUNT_A, 0, 20);
    expect(events.map((e) => e.payload['certificateId'])).toEqual([leaf.id, other.id, leaf.id]);
  });

  it('does not register when the CA has auto-registration disabled, or without SNI, or with a forged signature', async () => {
    const { authorizer } = testAuthorizer(world);
    const underRsaCa = certificate({ subject: identity('d1', 'p256'), issuer: world.rsaCaIdentity });
    expect((await authorizer.authorize(SNI_A, [underRsaCa.pem])).reason).toBe('CERTIFICATE_NOT_REGISTERED');
    const leaf = newDevice(world);
    expect((await authorizer.authorize(null, [leaf.pem])).reason).toBe('CERTIFICATE_NOT_REGISTERED');
    const forged = certificate({ subject: identity('d2', 'p256'), issuer: world.rogueCaIdentity });
    expect((await authorizer.authorize(SNI_A, [forged.pem])).reason).toBe('CERTIFICATE_NOT_REGISTERED');
    expect(await world.registry.listEvents(ACCOUNT_A, 0, 10)).toHaveLength(0);
    expect(await world.registry.getCertificate(ACCOUNT_A, leaf.id)).toBeNull();
  });

  it('delivers events to a webhook at least once, retrying after failures, resuming from its cursor', async () => {
    const received: WebhookBody[] = [];
    let failuresLeft = 2;
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (failuresLeft-- > 0) {
          res.writeHead(500).end();
          return;
        }
        received.push(JSON.parse(body) as WebhookBody);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const stateFile = path.join(world.dir, 'hooks.json');
    try {
      const { authorizer } = testAuthorizer(world);
      await authorizer.authorize(SNI_A, [newDevice(world).pem]);
      const deliverer = new WebhookDeliverer({ registry: world.registry, urls: [url], stateFile, retryBaseMs: 1 });
      for (let i = 0; i < 20 && received.length === 0; i++) {
        await deliverer.deliverOnce();
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(received).toHaveLength(1);
      expect(received[0]?.topic).toBe(`$aws/events/certificates/registered/${world.ca.id}`);
      // A second event, and a fresh deliverer reading the persisted cursor: only the new one is sent.
      await authorizer.authorize(SNI_A, [newDevice(world).pem]);
      await new WebhookDeliverer({ registry: world.registry, urls: [url], stateFile }).deliverOnce();
      expect(received).toHaveLength(2);
      expect(received[1]?.sequence).toBeGreaterThan(received[0]?.sequence ?? Infinity);
    } finally {
      receiver.close();
    }
  });
});
