import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreatePolicyCommand,
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  DetachThingPrincipalCommand,
  GetRegistrationCodeCommand,
  ListAttachedPoliciesCommand,
  ListCertificatesByCACommand,
  ListCertificatesCommand,
  ListPrincipalThingsCommand,
  RegisterCACertificateCommand,
  RegisterCertificateCommand,
  RegisterCertificateWithoutCACommand,
  UpdateCACertificateCommand,
  UpdateCertificateCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_A, ACCOUNT_B, sdkError, startAdmin, type AdminHarness } from './harness.js';
import { makeCa, makeDevice, makeSelfSigned, makeVerification, type CaFixture } from './pki-fixtures.js';
import { certificate, ecKey, rsaKey } from './x509.js';

describe('device certificates through @aws-sdk/client-iot', () => {
  let harness: AdminHarness;
  let a: IoTClient;
  let b: IoTClient;
  let ca: CaFixture;
  let caId: string;

  beforeAll(async () => {
    harness = await startAdmin();
    a = harness.client(ACCOUNT_A);
    b = harness.client(ACCOUNT_B);
    ca = makeCa('Device Issuing CA');
    const { registrationCode = '' } = await a.send(new GetRegistrationCodeCommand({}));
    const out = await a.send(
      new RegisterCACertificateCommand({
        caCertificate: ca.pem,
        verificationCertificate: makeVerification(ca, registrationCode),
        setAsActive: true,
      }),
    );
    caId = out.certificateId ?? '';
  });
  afterAll(async () => {
    await harness.close();
  });

  it('registers a certificate signed by a registered ACTIVE CA, inheriting its mode', async () => {
    const pem = makeDevice(ca, 1);
    const out = await a.send(new RegisterCertificateCommand({ certificatePem: pem, status: 'ACTIVE' }));
    expect(out.certificateArn).toBe(`arn:aws:iot:us-east-1:${ACCOUNT_A.accountId}:cert/${out.certificateId}`);
    const d = (await a.send(new DescribeCertificateCommand({ certificateId: out.certificateId }))).certificateDescription;
    expect(d).toMatchObject({
      status: 'ACTIVE',
      certificateMode: 'DEFAULT',
      caCertificateId: caId,
      ownedBy: ACCOUNT_A.accountId,
      customerVersion: 1,
    });
    expect(d?.certificatePem).toBe(pem);
    expect(d?.validity?.notBefore?.toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect((await harness.registry.getCertificate(ACCOUNT_A.accountId, out.certificateId ?? ''))?.status).toBe('ACTIVE');
  });

  it('defaults to INACTIVE and honours the deprecated setAsActive query', async () => {
    const inactive = await a.send(new RegisterCertificateCommand({ certificatePem: makeDevice(ca, 2) }));
    expect((await a.send(new DescribeCertificateCommand({ certificateId: inactive.certificateId }))).certificateDescription?.status).toBe(
      'INACTIVE',
    );
    const active = await a.send(new RegisterCertificateCommand({ certificatePem: makeDevice(ca, 3), setAsActive: true }));
    expect((await a.send(new DescribeCertificateCommand({ certificateId: active.certificateId }))).certificateDescription?.status).toBe(
      'ACTIVE',
    );
  });

  it('refuses a duplicate with the documented message, resourceId and resourceArn', async () => {
    const failure = await sdkError(a.send(new RegisterCertificateCommand({ certificatePem: makeDevice(ca, 1) })));
    expect([failure.name, failure.status, failure.message]).toEqual([
      'ResourceAlreadyExistsException',
      409,
      'The certificate is already provisioned or registered',
    ]);
    expect(failure.error['resourceArn']).toBe(`arn:aws:iot:us-east-1:${ACCOUNT_A.accountId}:cert/${String(failure.error['resourceId'])}`);
  });

  it('refuses a certificate whose direct issuer is not registered', async () => {
    const stranger = makeCa('Unregistered CA');
    const failure = await sdkError(a.send(new RegisterCertificateCommand({ certificatePem: makeDevice(stranger, 1) })));
    expect([failure.name, failure.status]).toEqual(['CertificateValidationException', 400]);
  });

  it('refuses a certificate whose CA is INACTIVE with CertificateStateException', async () => {
    await a.send(new UpdateCACertificateCommand({ certificateId: caId, newStatus: 'INACTIVE' }));
    try {
      const failure = await sdkError(a.send(new RegisterCertificateCommand({ certificatePem: makeDevice(ca, 40) })));
      expect([failure.name, failure.status]).toEqual(['CertificateStateException', 406]);
    } finally {
      await a.send(new UpdateCACertificateCommand({ certificateId: caId, newStatus: 'ACTIVE' }));
    }
  });

  it('needs caCertificatePem when two registered CAs share subject and key (CertificateConflictException)', async () => {
    const key = rsaKey();
    const name = [['CN', 'Twin CA']] as const;
    const twin1 = certificate({ subject: name, key, ca: true, serial: 1 });
    const twin2 = certificate({ subject: name, key, ca: true, serial: 2 });
    for (const pem of [twin1, twin2])
      await a.send(new RegisterCACertificateCommand({ caCertificate: pem, certificateMode: 'SNI_ONLY', setAsActive: true }));
    const leaf = certificate({ subject: [['CN', 'twin-leaf']], issuer: { name, key: key.privateKey }, key: ecKey(), serial: 5 });
    const conflict = await sdkError(a.send(new RegisterCertificateCommand({ certificatePem: leaf })));
    expect([conflict.name, conflict.status]).toEqual(['CertificateConflictException', 409]);
    const chosen = await a.send(new RegisterCertificateCommand({ certificatePem: leaf, caCertificatePem: twin2 }));
    const d = (await a.send(new DescribeCertificateCommand({ certificateId: chosen.certificateId }))).certificateDescription;
    expect(d?.certificateMode).toBe('SNI_ONLY');
  });

  it('refuses expired, 1024-bit RSA and SHA-1-signed certificates with CertificateValidationException', async () => {
    const expired = certificate({
      subject: [['CN', 'old']],
      key: ecKey(),
      notBefore: new Date('2019-01-01T00:00:00Z'),
      notAfter: new Date('2020-01-01T00:00:00Z'),
    });
    const weak = certificate({ subject: [['CN', 'weak']], key: rsaKey(1024) });
    const sha1 = certificate({ subject: [['CN', 'sha1']], key: rsaKey(), hash: 'sha1' });
    const [e, w, s] = await Promise.all(
      [expired, weak, sha1].map((pem) => sdkError(a.send(new RegisterCertificateWithoutCACommand({ certificatePem: pem })))),
    );
    expect([e?.name, e?.message]).toEqual(['CertificateValidationException', expect.stringContaining('validity period')]);
    expect([w?.name, w?.message]).toEqual(['CertificateValidationException', 'The key in the certificate is not valid']);
    expect([s?.name, s?.message]).toEqual([
      'CertificateValidationException',
      expect.stringContaining('signature algorithm is not supported: OID 1.2.840.113549.1.1.5'),
    ]);
  });

  it('registers the same certificate without CA in two accounts, each with its own status', async () => {
    const pem = makeSelfSigned(1);
    const inA = await a.send(new RegisterCertificateWithoutCACommand({ certificatePem: pem, status: 'ACTIVE' }));
    const inB = await b.send(new RegisterCertificateWithoutCACommand({ certificatePem: pem }));
    expect(inA.certificateId).toBe(inB.certificateId);
    expect(inB.certificateArn).toContain(`:${ACCOUNT_B.accountId}:cert/`);
    const regs = await harness.registry.findCertificateRegistrations(inA.certificateId ?? '');
    expect(regs.map((r) => [r.accountId, r.status, r.certificateMode])).toEqual([
      [ACCOUNT_A.accountId, 'ACTIVE', 'SNI_ONLY'],
      [ACCOUNT_B.accountId, 'INACTIVE', 'SNI_ONLY'],
    ]);
    expect((await sdkError(b.send(new RegisterCertificateWithoutCACommand({ certificatePem: pem })))).name).toBe(
      'ResourceAlreadyExistsException',
    );
  });

  it("registers account A's DEFAULT-mode certificate in account B only in SNI_ONLY mode, leaving A its owner", async () => {
    const { certificateId = '' } = await b.send(new RegisterCertificateWithoutCACommand({ certificatePem: makeDevice(ca, 1) }));
    const regs = await harness.registry.findCertificateRegistrations(certificateId);
    expect(regs.map((r) => [r.accountId, r.certificateMode])).toEqual([
      [ACCOUNT_A.accountId, 'DEFAULT'],
      [ACCOUNT_B.accountId, 'SNI_ONLY'],
    ]);
  });

  it('moves status along the legal transitions only; REVOKED is final', async () => {
    const { certificateId = '' } = await a.send(new RegisterCertificateWithoutCACommand({ certificatePem: makeSelfSigned(2) }));
    await a.send(new UpdateCertificateCommand({ certificateId, newStatus: 'ACTIVE' }));
    await a.send(new UpdateCertificateCommand({ certificateId, newStatus: 'ACTIVE' }));
    await a.send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' }));
    const internal = await sdkError(a.send(new UpdateCertificateCommand({ certificateId, newStatus: 'PENDING_TRANSFER' })));
    expect([internal.name, internal.status]).toEqual(['InvalidRequestException', 400]);
    await a.send(new UpdateCertificateCommand({ certificateId, newStatus: 'REVOKED' }));
    expect((await harness.registry.getCertificate(ACCOUNT_A.accountId, certificateId))?.status).toBe('REVOKED');
    const final = await sdkError(a.send(new UpdateCertificateCommand({ certificateId, newStatus: 'ACTIVE' })));
    expect([final.name, final.status]).toEqual(['CertificateStateException', 406]);
    const missing = await sdkError(a.send(new UpdateCertificateCommand({ certificateId: 'c'.repeat(64), newStatus: 'ACTIVE' })));
    expect([missing.name, missing.status]).toEqual(['ResourceNotFoundException', 404]);
    const d = (await a.send(new DescribeCertificateCommand({ certificateId }))).certificateDescription;
    expect(d?.customerVersion).toBe(4);
  });

  /** Creation dates of every certificate, fetched in pages of 3. */
  async function collect(ascendingOrder?: boolean): Promise<Date[]> {
    const dates: Date[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await a.send(
        new ListCertificatesCommand({
          pageSize: 3,
          ...(marker ? { marker } : {}),
          ...(ascendingOrder !== undefined ? { ascendingOrder } : {}),
        }),
      );
      expect(page.certificates?.length).toBeLessThanOrEqual(3);
      for (const c of page.certificates ?? []) {
        expect(c).toMatchObject({
          certificateArn: expect.stringContaining(':cert/'),
          status: expect.any(String),
          certificateMode: expect.any(String),
        });
        dates.push(c.creationDate ?? new Date(0));
      }
      marker = page.nextMarker;
      pages++;
    } while (marker);
    expect(pages).toBeGreaterThan(2);
    return dates;
  }

  it('pages through certificates newest first by default and oldest first on request', async () => {
    for (let serial = 10; serial < 17; serial++)
      await a.send(new RegisterCertificateWithoutCACommand({ certificatePem: makeSelfSigned(serial) }));
    const newestFirst = await collect();
    const oldestFirst = await collect(true);
    expect(newestFirst.length).toBe(oldestFirst.length);
    const oldest = oldestFirst.map((d) => d.getTime());
    expect(newestFirst.map((d) => d.getTime())).toEqual(oldest.map((_, i) => oldest[oldest.length - 1 - i]));
    expect(oldest.every((t, i) => i === 0 || t >= (oldest[i - 1] ?? 0))).toBe(true);
  });

  it('lists only the certificates registered under a CA', async () => {
    const page = await a.send(new ListCertificatesByCACommand({ caCertificateId: caId, pageSize: 250 }));
    expect(page.certificates?.length).toBe(3);
    expect((await a.send(new ListCertificatesByCACommand({ caCertificateId: 'a'.repeat(64) }))).certificates).toEqual([]);
  });

  it('deletes only when not ACTIVE, no thing is attached and policies are detached or forced', async () => {
    const { certificateId = '', certificateArn = '' } = await a.send(
      new RegisterCertificateWithoutCACommand({ certificatePem: makeSelfSigned(30), status: 'ACTIVE' }),
    );
    const active = await sdkError(a.send(new DeleteCertificateCommand({ certificateId })));
    expect([active.name, active.status]).toEqual(['CertificateStateException', 406]);
    await a.send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' }));
    await a.send(new AttachThingPrincipalCommand({ thingName: 'sensor-1', principal: certificateArn }));
    expect((await a.send(new ListPrincipalThingsCommand({ principal: certificateArn }))).things).toEqual(['sensor-1']);
    const withThing = await sdkError(a.send(new DeleteCertificateCommand({ certificateId, forceDelete: true })));
    expect([withThing.name, withThing.status]).toEqual(['DeleteConflictException', 409]);
    await a.send(new DetachThingPrincipalCommand({ thingName: 'sensor-1', principal: certificateArn }));
    await a.send(new CreatePolicyCommand({ policyName: 'devices', policyDocument: '{"Version":"2012-10-17","Statement":[]}' }));
    await a.send(new AttachPolicyCommand({ policyName: 'devices', target: certificateArn }));
    expect((await a.send(new ListAttachedPoliciesCommand({ target: certificateArn }))).policies?.map((p) => p.policyName)).toEqual([
      'devices',
    ]);
    const withPolicy = await sdkError(a.send(new DeleteCertificateCommand({ certificateId })));
    expect([withPolicy.name, withPolicy.message]).toEqual([
      'DeleteConflictException',
      `Certificate policies must be detached before deletion (arn: ${certificateArn})`,
    ]);
    await a.send(new DeleteCertificateCommand({ certificateId, forceDelete: true }));
    const gone = await sdkError(a.send(new DescribeCertificateCommand({ certificateId })));
    expect([gone.name, gone.status]).toEqual(['ResourceNotFoundException', 404]);
  });
});
