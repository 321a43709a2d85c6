/**
 * The real AWS CLI (Debian's aws 2.9.19, which signs with `execute-api`) against a real
 * server. CLI calls cost about half a second each, so independent ones run in parallel.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RegisterCertificateWithoutCACommand } from '@aws-sdk/client-iot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_A, ACCOUNT_B, awsIot, startAdmin, type AdminHarness, type CliResult } from './harness.js';
import { makeCa, makeDevice, makeSelfSigned, makeVerification, type CaFixture } from './pki-fixtures.js';

/** A JSON list member, or [] when absent. */
function rows<T>(value: unknown): T {
  return (Array.isArray(value) ? value : []) as T;
}

function failedWith(result: CliResult, errorName: string): void {
  expect(result.code).toBe(254);
  expect(result.stderr).toContain(`(${errorName})`);
}

describe('the AWS CLI against certgate', () => {
  let harness: AdminHarness;
  let dir: string;
  let ca: CaFixture;

  beforeAll(async () => {
    harness = await startAdmin();
    dir = mkdtempSync(path.join(tmpdir(), 'certgate-cli-'));
    ca = makeCa('CLI Root CA');
  });
  afterAll(async () => {
    await harness.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function file(name: string, text: string): string {
    const target = path.join(dir, name);
    writeFileSync(target, text);
    return `file://${target}`;
  }

  it('runs the whole CA and certificate lifecycle with the CLI', async () => {
    const code = await awsIot(harness, ACCOUNT_A, ['get-registration-code']);
    expect(code.code).toBe(0);
    const registrationCode = String(code.json?.['registrationCode']);
    const caOut = await awsIot(harness, ACCOUNT_A, [
      'register-ca-certificate',
      '--ca-certificate',
      file('ca.pem', ca.pem),
      '--verification-certificate',
      file('verification.pem', makeVerification(ca, registrationCode)),
      '--set-as-active',
      '--allow-auto-registration',
    ]);
    expect(caOut.code).toBe(0);
    const caId = String(caOut.json?.['certificateId']);

    // ECDSA signatures are randomised: build the shared no-CA certificate once.
    const shared = makeSelfSigned(1);
    const [describedCa, dev1, dev2, dev3, noCaA, noCaB, endpoint] = await Promise.all([
      awsIot(harness, ACCOUNT_A, ['describe-ca-certificate', '--certificate-id', caId]),
      awsIot(harness, ACCOUNT_A, ['register-certificate', '--certificate-pem', file('d1.pem', makeDevice(ca, 1)), '--status', 'ACTIVE']),
      awsIot(harness, ACCOUNT_A, ['register-certificate', '--certificate-pem', file('d2.pem', makeDevice(ca, 2)), '--set-as-active']),
      awsIot(harness, ACCOUNT_A, [
        'register-certificate',
        '--certificate-pem',
        file('d3.pem', makeDevice(ca, 3)),
        '--ca-certificate-pem',
        file('ca2.pem', ca.pem),
      ]),
      awsIot(harness, ACCOUNT_A, ['register-certificate-without-ca', '--certificate-pem', file('n1.pem', shared), '--status', 'INACTIVE']),
      awsIot(harness, ACCOUNT_B, ['register-certificate-without-ca', '--certificate-pem', file('n1b.pem', shared), '--status', 'ACTIVE']),
      awsIot(harness, ACCOUNT_A, ['describe-endpoint', '--endpoint-type', 'iot:Data-ATS']),
    ]);
    expect(describedCa.json?.['certificateDescription']).toMatchObject({
      status: 'ACTIVE',
      autoRegistrationStatus: 'ENABLE',
      certificateMode: 'DEFAULT',
    });
    for (const r of [dev1, dev2, dev3, noCaA, noCaB]) expect(r.code).toBe(0);
    expect(noCaA.json?.['certificateId']).toBe(noCaB.json?.['certificateId']);
    expect(endpoint.json).toEqual({ endpointAddress: `${ACCOUNT_A.endpointPrefix}-ats.iot.us-east-1.localhost` });
    const dev1Id = String(dev1.json?.['certificateId']);
    const noCaId = String(noCaA.json?.['certificateId']);

    // 23 more through the SDK: 27 certificates span two default-size (25) pages.
    const sdk = harness.client(ACCOUNT_A);
    for (let serial = 100; serial < 123; serial++) {
      await sdk.send(new RegisterCertificateWithoutCACommand({ certificatePem: makeSelfSigned(serial) }));
    }
    const [all, firstPage, byCa, describedDev, duplicate, activeDelete] = await Promise.all([
      awsIot(harness, ACCOUNT_A, ['list-certificates']),
      awsIot(harness, ACCOUNT_A, ['list-certificates', '--page-size', '2', '--ascending-order']),
      awsIot(harness, ACCOUNT_A, ['list-certificates-by-ca', '--ca-certificate-id', caId]),
      awsIot(harness, ACCOUNT_A, ['describe-certificate', '--certificate-id', dev1Id]),
      awsIot(harness, ACCOUNT_A, ['register-certificate', '--certificate-pem', file('d1again.pem', makeDevice(ca, 1))]),
      awsIot(harness, ACCOUNT_A, ['delete-certificate', '--certificate-id', dev1Id]),
    ]);
    // The CLI follows nextMarker itself (default pages of 25); --page-size makes it page by hand.
    const allIds = rows<{ certificateId: string }[]>(all.json?.['certificates']).map((c) => c.certificateId);
    expect(new Set(allIds).size).toBe(27);
    expect(all.json?.['nextMarker']).toBeUndefined();
    expect(rows<unknown[]>(firstPage.json?.['certificates']).length).toBe(2);
    const marker = String(firstPage.json?.['nextMarker']);
    expect(marker).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    const second = await awsIot(harness, ACCOUNT_A, ['list-certificates', '--page-size', '2', '--ascending-order', '--marker', marker]);
    const pageIds = [
      ...rows<{ certificateId: string }[]>(firstPage.json?.['certificates']),
      ...rows<{ certificateId: string }[]>(second.json?.['certificates']),
    ].map((c) => c.certificateId);
    expect(new Set(pageIds).size).toBe(4);
    expect(rows<unknown[]>(byCa.json?.['certificates']).length).toBe(3);
    expect(describedDev.json?.['certificateDescription']).toMatchObject({
      status: 'ACTIVE',
      caCertificateId: caId,
      certificateMode: 'DEFAULT',
    });
    // The CLI parses the epoch-second numbers and prints them as ISO dates.
    expect(describedDev.json?.['certificateDescription']).toMatchObject({
      validity: { notBefore: '2024-01-01T00:00:00+00:00', notAfter: '2049-12-31T23:59:59+00:00' },
    });
    failedWith(duplicate, 'ResourceAlreadyExistsException');
    failedWith(activeDelete, 'CertificateStateException');

    const revoked = await awsIot(harness, ACCOUNT_A, ['update-certificate', '--certificate-id', dev1Id, '--new-status', 'REVOKED']);
    expect(revoked.code).toBe(0);
    expect((await harness.registry.getCertificate(ACCOUNT_A.accountId, dev1Id))?.status).toBe('REVOKED');
    failedWith(
      await awsIot(harness, ACCOUNT_A, ['update-certificate', '--certificate-id', dev1Id, '--new-status', 'ACTIVE']),
      'CertificateStateException',
    );

    const transfer = await awsIot(harness, ACCOUNT_A, [
      'transfer-certificate',
      '--certificate-id',
      noCaId,
      '--target-aws-account',
      ACCOUNT_B.accountId,
    ]);
    // Account B already holds this no-CA certificate, so the transfer conflicts.
    failedWith(transfer, 'TransferConflictException');
  });

  it('transfers a certificate between accounts with the CLI', async () => {
    const reg = await awsIot(harness, ACCOUNT_A, [
      'register-certificate-without-ca',
      '--certificate-pem',
      file('t.pem', makeSelfSigned(50)),
    ]);
    const id = String(reg.json?.['certificateId']);
    const offer = await awsIot(harness, ACCOUNT_A, [
      'transfer-certificate',
      '--certificate-id',
      id,
      '--target-aws-account',
      ACCOUNT_B.accountId,
      '--transfer-message',
      'hello',
    ]);
    expect(offer.json).toEqual({ transferredCertificateArn: `arn:aws:iot:us-east-1:${ACCOUNT_B.accountId}:cert/${id}` });
    const [outgoing, incoming] = await Promise.all([
      awsIot(harness, ACCOUNT_A, ['list-outgoing-certificates']),
      awsIot(harness, ACCOUNT_B, ['list-certificates']),
    ]);
    expect(outgoing.json?.['outgoingCertificates']).toMatchObject([
      { certificateId: id, transferredTo: ACCOUNT_B.accountId, transferMessage: 'hello' },
    ]);
    expect(incoming.json?.['certificates']).toContainEqual(expect.objectContaining({ certificateId: id, status: 'PENDING_TRANSFER' }));
    expect((await awsIot(harness, ACCOUNT_B, ['accept-certificate-transfer', '--certificate-id', id, '--set-as-active'])).code).toBe(0);
    const [described, again] = await Promise.all([
      awsIot(harness, ACCOUNT_B, ['describe-certificate', '--certificate-id', id]),
      awsIot(harness, ACCOUNT_B, ['accept-certificate-transfer', '--certificate-id', id]),
    ]);
    expect(described.json?.['certificateDescription']).toMatchObject({
      status: 'ACTIVE',
      ownedBy: ACCOUNT_B.accountId,
      previousOwnedBy: ACCOUNT_A.accountId,
    });
    failedWith(again, 'TransferAlreadyCompletedException');
  });

  it('signs ARN paths and principal headers the way the server verifies them', async () => {
    const reg = await awsIot(harness, ACCOUNT_A, [
      'register-certificate-without-ca',
      '--certificate-pem',
      file('p.pem', makeSelfSigned(60)),
    ]);
    const arn = String(reg.json?.['certificateArn']);
    expect(
      (await awsIot(harness, ACCOUNT_A, ['create-policy', '--policy-name', 'cli-policy', '--policy-document', '{"Version":"2012-10-17"}']))
        .code,
    ).toBe(0);
    const [attach, thing] = await Promise.all([
      awsIot(harness, ACCOUNT_A, ['attach-policy', '--policy-name', 'cli-policy', '--target', arn]),
      awsIot(harness, ACCOUNT_A, ['attach-thing-principal', '--thing-name', 'cli-thing', '--principal', arn]),
    ]);
    expect([attach.code, thing.code]).toEqual([0, 0]);
    const [policies, things, conflict] = await Promise.all([
      awsIot(harness, ACCOUNT_A, ['list-attached-policies', '--target', arn]),
      awsIot(harness, ACCOUNT_A, ['list-principal-things', '--principal', arn]),
      awsIot(harness, ACCOUNT_A, ['delete-certificate', '--certificate-id', String(reg.json?.['certificateId']), '--force-delete']),
    ]);
    expect(policies.json?.['policies']).toEqual([
      { policyName: 'cli-policy', policyArn: `arn:aws:iot:us-east-1:${ACCOUNT_A.accountId}:policy/cli-policy` },
    ]);
    expect(things.json?.['things']).toEqual(['cli-thing']);
    failedWith(conflict, 'DeleteConflictException');
  });

  it('creates keys and a certificate, and reports SigV4 failures by name', async () => {
    const wrongSecret = { ...ACCOUNT_A, secretAccessKey: 'not-the-right-secret-at-all' };
    const unknownKey = { ...ACCOUNT_A, accessKeyId: 'AKIDNOBODYKNOWS00000' };
    const [created, badSig, unknown, deleted, missing] = await Promise.all([
      awsIot(harness, ACCOUNT_A, ['create-keys-and-certificate', '--set-as-active']),
      awsIot(harness, wrongSecret, ['get-registration-code']),
      awsIot(harness, unknownKey, ['get-registration-code']),
      awsIot(harness, ACCOUNT_B, ['delete-registration-code']),
      awsIot(harness, ACCOUNT_B, ['describe-ca-certificate', '--certificate-id', 'b'.repeat(64)]),
    ]);
    expect(String(created.json?.['certificatePem'])).toContain('BEGIN CERTIFICATE');
    expect(created.json?.['keyPair']).toMatchObject({ PrivateKey: expect.stringContaining('BEGIN RSA PRIVATE KEY') });
    failedWith(badSig, 'InvalidSignatureException');
    failedWith(unknown, 'UnrecognizedClientException');
    failedWith(deleted, 'ResourceNotFoundException');
    failedWith(missing, 'ResourceNotFoundException');
  });
});
