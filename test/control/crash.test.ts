/**
 * Durability: kill -9 the admin server in the middle of a burst of registrations; every
 * registration the server acknowledged (HTTP 200) must be in the registry afterwards,
 * both in the file and through a restarted server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { IoTClient, ListCertificatesCommand, RegisterCertificateWithoutCACommand } from '@aws-sdk/client-iot';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../ts/paths.js';
import { openSqliteRegistry } from '../../ts/registry/sqlite/registry.js';
import { ACCOUNT_A, REGION } from './harness.js';
import { makeSelfSigned } from './pki-fixtures.js';

const VITE_NODE = path.join(projectRoot, 'node_modules', '.bin', 'vite-node');
const CHILD = path.join(projectRoot, 'test', 'control', 'admin-child.ts');

/** Start the child server; resolves with the process and its URL. */
function startChild(dbPath: string): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(VITE_NODE, [CHILD, '--', dbPath], { stdio: ['ignore', 'pipe', 'pipe'], cwd: projectRoot });
    let out = '';
    let err = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (\d+)/.exec(out);
      if (match) resolve({ child, url: `http://127.0.0.1:${match[1]}` });
    });
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`admin child exited (${code}) before listening: ${err}`)));
  });
}

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
    await setup.addCredential({ accountId: ACCOUNT_A.accountId, accessKeyId: ACCOUNT_A.accessKeyId, secretAccessKey: ACCOUNT_A.secretAccessKey });
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
    restarted.child.kill('SIGKILL');
    for (const id of acknowledged) expect(listed.has(id)).toBe(true);
  });
});
