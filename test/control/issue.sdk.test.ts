import { X509Certificate } from 'node:crypto';
import {
  CreateCertificateFromCsrCommand,
  CreateKeysAndCertificateCommand,
  DescribeCertificateCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_NAMES } from '../../ts/engine/types.js';
import { ACCOUNT_A, ACCOUNT_B, sdkError, startAdmin, type AdminHarness } from './harness.js';
import { csr, ecKey, privateKeyFromPem, rsaKey } from './x509.js';

describe.each(ENGINE_NAMES)('certificates issued by certgate through @aws-sdk/client-iot (%s engine)', (engine) => {
  let harness: AdminHarness;
  let a: IoTClient;

  beforeAll(async () => {
    harness = await startAdmin({ engine });
    a = harness.client(ACCOUNT_A);
  });
  afterAll(async () => {
    await harness.close();
  });

  it('creates an RSA 2048 key pair and an AWS-profile certificate for it', async () => {
    const out = await a.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    expect(out.keyPair?.PublicKey).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(out.keyPair?.PrivateKey).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    const cert = new X509Certificate(out.certificatePem ?? '');
    expect(cert.subject).toBe('CN=AWS IoT Certificate');
    expect(cert.validTo).toBe('Dec 31 23:59:59 2049 GMT');
    expect(cert.ca).toBe(false);
    expect(cert.checkPrivateKey(privateKeyFromPem(out.keyPair?.PrivateKey ?? ''))).toBe(true);
    expect(out.certificateId).toBe(cert.fingerprint256.replaceAll(':', '').toLowerCase());
    const d = (await a.send(new DescribeCertificateCommand({ certificateId: out.certificateId }))).certificateDescription;
    expect(d).toMatchObject({ status: 'ACTIVE', certificateMode: 'DEFAULT', ownedBy: ACCOUNT_A.accountId });
    expect(d?.caCertificateId).toBeUndefined();
  });

  it('signs every generated certificate with the same stored issuing CA, across accounts', async () => {
    const one = new X509Certificate((await a.send(new CreateKeysAndCertificateCommand({}))).certificatePem ?? '');
    const two = new X509Certificate((await harness.client(ACCOUNT_B).send(new CreateKeysAndCertificateCommand({}))).certificatePem ?? '');
    const issuing = await harness.registry.getIssuingCa();
    const ca = new X509Certificate(issuing?.certificatePem ?? '');
    expect(one.verify(ca.publicKey)).toBe(true);
    expect(two.verify(ca.publicKey)).toBe(true);
    expect(one.serialNumber).not.toBe(two.serialNumber);
  });

  it('issues distinct certificates for the same EC CSR, keeping the CSR key', async () => {
    const key = ecKey();
    const request = csr([['CN', 'csr-device']], key);
    const first = await a.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: request }));
    const second = await a.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: request, setAsActive: true }));
    expect(first.certificateId).not.toBe(second.certificateId);
    const cert = new X509Certificate(first.certificatePem ?? '');
    expect(cert.publicKey.export({ type: 'spki', format: 'der' })).toEqual(key.publicKey.export({ type: 'spki', format: 'der' }));
    expect((await a.send(new DescribeCertificateCommand({ certificateId: second.certificateId }))).certificateDescription?.status).toBe(
      'ACTIVE',
    );
  });

  it('refuses a CSR for a 1024-bit RSA key, an unparsable CSR and an oversized one', async () => {
    const weak = await sdkError(
      a.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: csr([['CN', 'weak']], rsaKey(1024)) })),
    );
    expect([weak.name, weak.status]).toEqual(['InvalidRequestException', 400]);
    const garbage = await sdkError(a.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: 'not a csr' })));
    expect(garbage.name).toBe('InvalidRequestException');
    const huge = await sdkError(a.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: 'A'.repeat(4097) })));
    expect([huge.name, huge.message]).toEqual(['InvalidRequestException', 'certificateSigningRequest must be at most 4096 characters.']);
  });
});
