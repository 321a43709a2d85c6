/**
 * Durability: kill -9 the admin server in the middle of a burst of registrations; every
 * registration the server acknowledged (HTTP 200) must be in the registry afterwards,
 * both in the file and through a restarted server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { IoTClient, ListCertificatesCommand, RegisterCertificateWithoutCACommand } from '@aws-sdk/client-iot';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteRegistry } from '../../ts/registry/sqlite/registry.js';
import { startChild } from './child.js';
import { ACCOUNT_A, REGION } from './harness.js';
import { makeSelfSigned } from './pki-fixtures.js';

function client(url: string): IoTClient {
  return new IoTClient({
    region: REGION,
    endpoint: url,
    credentials: { accessKeyId: ACCOUNT_A.accessKeyId, secretAccessKey: ACCOUNT_A.secretAccessKey },
    maxAttempts: 1,
  });
}

describe('durability under kill -9', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'certgate-crash-'));
  const dbPath = path.join(dir, 'registry.db');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every acknowledged registration after the server is killed mid-burst', async () => {
    const setup = openSqliteRegistry({ path: dbPath, region: REGION });
    await setup.createAccount({ accountId: ACCOUNT_A.accountId, endpointPrefix: ACCOUNT_A.endpointPrefix });
    await setup.addCredential({
      accountId: ACCOUNT_A.accountId,
      accessKeyId: ACCOUNT_A.accessKeyId,
      secretAccessKey: ACCOUNT_A.secretAccessKey,
    });
    await setup.close();

    const pems = Array.from({ length: 400 }, (_, i) => makeSelfSigned(1000 + i));
    const { child, url } = await startChild(dbPath);
    const sdk = client(url);
    const acknowledged: string[] = [];
    let next = 0;
    let killed = false;
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const worker = async (): Promise<void> => {
      while (!killed && next < pems.length) {
        const pem = pems[next++] ?? '';
        try {
          const out = await sdk.send(new RegisterCertificateWithoutCACommand({ certificatePem: pem, status: 'ACTIVE' }));
          acknowledged.push(out.certificateId ?? '');
          if (acknowledged.length >= 60 && !killed) {
            killed = true;
            child.kill('SIGKILL');
          }
        } catch {
          // Requests in flight when the process dies fail; they were never acknowledged.
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    await exited;
    sdk.destroy();
    expect(killed).toBe(true);
    expect(acknowledged.length).toBeGreaterThanOrEqual(60);

    const reopened = openSqliteRegistry({ path: dbPath });
    for (const id of acknowledged) {
      expect((await reopened.getCertificate(ACCOUNT_A.accountId, id))?.status).toBe('ACTIVE');
    }
    await reopened.close();

    const restarted = await startChild(dbPath);
    const again = client(restarted.url);
    const listed = new Set<string>();
    let marker: string | undefined;
    do {
      const page = await again.send(new ListCertificatesCommand({ pageSize: 250, ...(marker ? { marker } : {}) }));
      for (const c of page.certificates ?? []) listed.add(c.certificateId ?? '');
      marker = page.nextMarker;
    } while (marker);
    again.destroy();
    await restarted.stop();
    for (const id of acknowledged) expect(listed.has(id)).toBe(true);
  });
});
