/**
 * Several server processes over one SQLite file (as `certgate serve` runs them): a write
 * acknowledged by one process is visible to the next read of every other, and rules that
 * span accounts hold under concurrent writers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  DescribeCertificateCommand,
  GetRegistrationCodeCommand,
  IoTClient,
  RegisterCACertificateCommand,
  RegisterCertificateWithoutCACommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteRegistry } from '../../ts/registry/sqlite/registry.js';
import { startChild, type ChildServer } from './child.js';
import { ACCOUNT_A, ACCOUNT_B, REGION, type TestAccount } from './harness.js';
import { makeCa, makeSelfSigned, makeVerification } from './pki-fixtures.js';

function client(url: string, account: TestAccount): IoTClient {
  return new IoTClient({
    region: REGION,
    endpoint: url,
    credentials: { accessKeyId: account.accessKeyId, secretAccessKey: account.secretAccessKey },
    maxAttempts: 1,
  });
}

describe('two server processes sharing one registry file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'certgate-multi-'));
  const dbPath = path.join(dir, 'registry.db');
  let one: ChildServer;
  let two: ChildServer;
  const clients: IoTClient[] = [];

  beforeAll(async () => {
    const setup = openSqliteRegistry({ path: dbPath, region: REGION });
    for (const account of [ACCOUNT_A, ACCOUNT_B]) {
      await setup.createAccount({ accountId: account.accountId, endpointPrefix: account.endpointPrefix });
      await setup.addCredential({
        accountId: account.accountId,
        accessKeyId: account.accessKeyId,
        secretAccessKey: account.secretAccessKey,
      });
    }
    await setup.close();
    [one, two] = await Promise.all([startChild(dbPath), startChild(dbPath)]);
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await Promise.all([one?.stop(), two?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  function via(server: ChildServer, account: TestAccount): IoTClient {
    const c = client(server.url, account);
    clients.push(c);
    return c;
  }

  it('shows a status change made through one process to the very next read through the other', async () => {
    const writer = via(one, ACCOUNT_A);
    const reader = via(two, ACCOUNT_A);
    const { certificateId } = await writer.send(
      new RegisterCertificateWithoutCACommand({ certificatePem: makeSelfSigned(1), status: 'ACTIVE' }),
    );
    for (const status of ['INACTIVE', 'ACTIVE', 'REVOKED'] as const) {
      await writer.send(new UpdateCertificateCommand({ certificateId, newStatus: status }));
      expect((await reader.send(new DescribeCertificateCommand({ certificateId }))).certificateDescription?.status).toBe(status);
    }
  });

  it('lets exactly one of two accounts register the same CA in DEFAULT mode at the same time', async () => {
    const ca = makeCa('Contested CA');
    const a = via(one, ACCOUNT_A);
    const b = via(two, ACCOUNT_B);
    const [codeA, codeB] = await Promise.all([a.send(new GetRegistrationCodeCommand({})), b.send(new GetRegistrationCodeCommand({}))]);
    const results = await Promise.allSettled([
      a.send(
        new RegisterCACertificateCommand({
          caCertificate: ca.pem,
          verificationCertificate: makeVerification(ca, codeA.registrationCode ?? ''),
        }),
      ),
      b.send(
        new RegisterCACertificateCommand({
          caCertificate: ca.pem,
          verificationCertificate: makeVerification(ca, codeB.registrationCode ?? ''),
        }),
      ),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected');
    expect((rejected as PromiseRejectedResult).reason).toMatchObject({ name: 'ResourceAlreadyExistsException' });
  });

  it('never registers the same certificate twice in one account under concurrent requests', async () => {
    const pem = makeSelfSigned(2);
    const a1 = via(one, ACCOUNT_A);
    const a2 = via(two, ACCOUNT_A);
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? a1 : a2).send(new RegisterCertificateWithoutCACommand({ certificatePem: pem }))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });
});
