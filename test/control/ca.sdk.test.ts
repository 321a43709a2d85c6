import {
  DeleteCACertificateCommand,
  DeleteRegistrationCodeCommand,
  DescribeCACertificateCommand,
  GetRegistrationCodeCommand,
  ListCACertificatesCommand,
  RegisterCACertificateCommand,
  RegisterCertificateCommand,
  UpdateCACertificateCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_NAMES } from '../../ts/engine/types.js';
import { ACCOUNT_A, ACCOUNT_B, sdkError, startAdmin, type AdminHarness } from './harness.js';
import { makeCa, makeDevice, makeVerification, type CaFixture } from './pki-fixtures.js';
import { certificate, rsaKey } from './x509.js';

describe.each(ENGINE_NAMES)('CA certificates through @aws-sdk/client-iot (%s engine)', (engine) => {
  let harness: AdminHarness;
  let a: IoTClient;
  let b: IoTClient;
  let ca: CaFixture;

  beforeAll(async () => {
    harness = await startAdmin({ engine });
    a = harness.client(ACCOUNT_A);
    b = harness.client(ACCOUNT_B);
    ca = makeCa('Root CA one');
  });
  afterAll(async () => {
    await harness.close();
  });

  it('keeps the registration code stable until it is deleted, then issues a new one', async () => {
    const first = await a.send(new GetRegistrationCodeCommand({}));
    expect(first.registrationCode).toMatch(/^[0-9a-f]{64}$/);
    expect((await a.send(new GetRegistrationCodeCommand({}))).registrationCode).toBe(first.registrationCode);
    expect((await b.send(new GetRegistrationCodeCommand({}))).registrationCode).not.toBe(first.registrationCode);
    await a.send(new DeleteRegistrationCodeCommand({}));
    const missing = await sdkError(a.send(new DeleteRegistrationCodeCommand({})));
    expect([missing.name, missing.status]).toEqual(['ResourceNotFoundException', 404]);
    expect((await a.send(new GetRegistrationCodeCommand({}))).registrationCode).not.toBe(first.registrationCode);
  });

  it('registers a DEFAULT-mode CA with a proof of possession and describes it', async () => {
    const { registrationCode = '' } = await a.send(new GetRegistrationCodeCommand({}));
    const out = await a.send(
      new RegisterCACertificateCommand({
        caCertificate: ca.pem,
        verificationCertificate: makeVerification(ca, registrationCode),
        setAsActive: true,
        allowAutoRegistration: true,
        registrationConfig: { templateBody: '{"Resources":{}}', roleArn: 'arn:aws:iam::123456789012:role/jitp' },
        tags: [{ Key: 'team', Value: 'devices' }],
      }),
    );
    expect(out.certificateArn).toBe(`arn:aws:iot:us-east-1:${ACCOUNT_A.accountId}:cacert/${out.certificateId}`);
    const described = await a.send(new DescribeCACertificateCommand({ certificateId: out.certificateId }));
    expect(described.certificateDescription).toMatchObject({
      certificateId: out.certificateId,
      status: 'ACTIVE',
      autoRegistrationStatus: 'ENABLE',
      certificateMode: 'DEFAULT',
      ownedBy: ACCOUNT_A.accountId,
      customerVersion: 1,
      certificatePem: ca.pem,
    });
    expect(described.certificateDescription?.creationDate).toBeInstanceOf(Date);
    expect(described.certificateDescription?.validity?.notAfter?.toISOString()).toBe('2049-12-31T23:59:59.000Z');
    expect(described.registrationConfig).toEqual({ templateBody: '{"Resources":{}}', roleArn: 'arn:aws:iam::123456789012:role/jitp' });
  });

  it('refuses the same CA twice with ResourceAlreadyExistsException naming it', async () => {
    const { registrationCode = '' } = await a.send(new GetRegistrationCodeCommand({}));
    const again = await sdkError(
      a.send(new RegisterCACertificateCommand({ caCertificate: ca.pem, verificationCertificate: makeVerification(ca, registrationCode) })),
    );
    expect([again.name, again.status]).toEqual(['ResourceAlreadyExistsException', 409]);
    expect(again.error['resourceId']).toMatch(/^[0-9a-f]{64}$/);
    expect(again.error['resourceArn']).toContain(':cacert/');
  });

  it('lets another account hold the DEFAULT CA only in SNI_ONLY mode', async () => {
    const { registrationCode = '' } = await b.send(new GetRegistrationCodeCommand({}));
    const taken = await sdkError(
      b.send(new RegisterCACertificateCommand({ caCertificate: ca.pem, verificationCertificate: makeVerification(ca, registrationCode) })),
    );
    expect(taken.name).toBe('ResourceAlreadyExistsException');
    const sni = await b.send(new RegisterCACertificateCommand({ caCertificate: ca.pem, certificateMode: 'SNI_ONLY' }));
    const described = await b.send(new DescribeCACertificateCommand({ certificateId: sni.certificateId }));
    expect(described.certificateDescription).toMatchObject({
      certificateMode: 'SNI_ONLY',
      status: 'INACTIVE',
      autoRegistrationStatus: 'DISABLE',
    });
  });

  it('refuses a proof whose Common Name is not the registration code', async () => {
    const other = makeCa('Root CA two');
    const failure = await sdkError(
      a.send(
        new RegisterCACertificateCommand({ caCertificate: other.pem, verificationCertificate: makeVerification(other, 'f'.repeat(64)) }),
      ),
    );
    expect([failure.name, failure.status]).toEqual(['RegistrationCodeValidationException', 400]);
  });

  it('refuses a DEFAULT-mode registration while the account has no registration code', async () => {
    await b.send(new DeleteRegistrationCodeCommand({}));
    const other = makeCa('Root CA without code');
    const failure = await sdkError(
      b.send(
        new RegisterCACertificateCommand({ caCertificate: other.pem, verificationCertificate: makeVerification(other, 'a'.repeat(64)) }),
      ),
    );
    expect([failure.name, failure.status]).toEqual(['RegistrationCodeValidationException', 400]);
    expect(failure.message).toContain('GetRegistrationCode');
  });

  it('refuses a proof signed by another key with CertificateValidationException', async () => {
    const { registrationCode = '' } = await a.send(new GetRegistrationCodeCommand({}));
    const other = makeCa('Root CA three');
    const impostor = makeCa('Root CA three');
    const failure = await sdkError(
      a.send(
        new RegisterCACertificateCommand({
          caCertificate: other.pem,
          verificationCertificate: makeVerification(impostor, registrationCode),
        }),
      ),
    );
    expect([failure.name, failure.status]).toEqual(['CertificateValidationException', 400]);
  });

  it('refuses a CA certificate without basicConstraints CA:TRUE', async () => {
    const leaf = makeDevice(ca, 500);
    const failure = await sdkError(a.send(new RegisterCACertificateCommand({ caCertificate: leaf, certificateMode: 'SNI_ONLY' })));
    expect(failure.name).toBe('CertificateValidationException');
    expect(failure.message).toContain('basicConstraints extension as true');
  });

  it('registers a CA with serial number 0 and devices it signed, but no device with serial number 0', async () => {
    // RFC 5280 4.1.2.2 binds CAs issuing certificates; a registered CA is a trust anchor
    // (docs/path-validation.md), and widely trusted roots carry serial 0.
    const zero = makeCa('Root CA serial zero', rsaKey(), 0);
    const registered = await b.send(
      new RegisterCACertificateCommand({ caCertificate: zero.pem, certificateMode: 'SNI_ONLY', setAsActive: true }),
    );
    expect(registered.certificateId).toMatch(/^[0-9a-f]{64}$/);
    const device = await b.send(new RegisterCertificateCommand({ certificatePem: makeDevice(zero, 7), setAsActive: true }));
    expect(device.certificateId).toMatch(/^[0-9a-f]{64}$/);
    const failure = await sdkError(b.send(new RegisterCertificateCommand({ certificatePem: makeDevice(zero, 0) })));
    expect(failure.name).toBe('CertificateValidationException');
    expect(failure.message).toContain('serial number zero');
  });

  it('requires the verification certificate in DEFAULT mode and forbids it in SNI_ONLY mode', async () => {
    const other = makeCa('Root CA four');
    expect((await sdkError(a.send(new RegisterCACertificateCommand({ caCertificate: other.pem })))).name).toBe('InvalidRequestException');
    const both = await sdkError(
      a.send(
        new RegisterCACertificateCommand({ caCertificate: other.pem, verificationCertificate: other.pem, certificateMode: 'SNI_ONLY' }),
      ),
    );
    expect(both.name).toBe('InvalidRequestException');
  });

  it('refuses the eleventh CA with the same subject with LimitExceededException', async () => {
    const key = rsaKey();
    const name = [['CN', 'Same Subject CA']] as const;
    for (let serial = 1; serial <= 10; serial++) {
      await a.send(
        new RegisterCACertificateCommand({
          caCertificate: certificate({ subject: name, key, ca: true, serial }),
          certificateMode: 'SNI_ONLY',
        }),
      );
    }
    const eleventh = await sdkError(
      a.send(
        new RegisterCACertificateCommand({
          caCertificate: certificate({ subject: name, key, ca: true, serial: 11 }),
          certificateMode: 'SNI_ONLY',
        }),
      ),
    );
    expect([eleventh.name, eleventh.status]).toEqual(['LimitExceededException', 410]);
  });

  it('updates status and auto-registration, and removes the registration config', async () => {
    const id =
      (await a.send(new ListCACertificatesCommand({ pageSize: 250, ascendingOrder: true }))).certificates?.[0]?.certificateId ?? '';
    await a.send(
      new UpdateCACertificateCommand({
        certificateId: id,
        newStatus: 'INACTIVE',
        newAutoRegistrationStatus: 'DISABLE',
        removeAutoRegistration: true,
      }),
    );
    const described = await a.send(new DescribeCACertificateCommand({ certificateId: id }));
    expect(described.certificateDescription).toMatchObject({ status: 'INACTIVE', autoRegistrationStatus: 'DISABLE', customerVersion: 2 });
    expect(described.registrationConfig).toBeUndefined();
    await a.send(new UpdateCACertificateCommand({ certificateId: id, newStatus: 'ACTIVE' }));
    const missing = await sdkError(a.send(new UpdateCACertificateCommand({ certificateId: 'e'.repeat(64), newStatus: 'ACTIVE' })));
    expect([missing.name, missing.status]).toEqual(['ResourceNotFoundException', 404]);
  });

  it('pages through CA certificates and filters by template name', async () => {
    const seen: string[] = [];
    let marker: string | undefined;
    do {
      const page = await a.send(new ListCACertificatesCommand({ pageSize: 4, ...(marker ? { marker } : {}) }));
      expect(page.certificates?.length ?? 0).toBeLessThanOrEqual(4);
      seen.push(...(page.certificates ?? []).map((c) => c.certificateId ?? ''));
      marker = page.nextMarker;
    } while (marker);
    expect(seen).toHaveLength(11);
    expect(new Set(seen).size).toBe(11);
    expect((await a.send(new ListCACertificatesCommand({ templateName: 'nope' }))).certificates).toEqual([]);
  });

  it('deletes a CA only once it is inactive', async () => {
    const id = (await a.send(new ListCACertificatesCommand({ pageSize: 1, ascendingOrder: true }))).certificates?.[0]?.certificateId ?? '';
    const active = await sdkError(a.send(new DeleteCACertificateCommand({ certificateId: id })));
    expect([active.name, active.status]).toEqual(['CertificateStateException', 406]);
    await a.send(new UpdateCACertificateCommand({ certificateId: id, newStatus: 'INACTIVE' }));
    await a.send(new DeleteCACertificateCommand({ certificateId: id }));
    const gone = await sdkError(a.send(new DescribeCACertificateCommand({ certificateId: id })));
    expect([gone.name, gone.status]).toEqual(['ResourceNotFoundException', 404]);
    expect((await sdkError(a.send(new DeleteCACertificateCommand({ certificateId: id })))).name).toBe('ResourceNotFoundException');
  });
});
