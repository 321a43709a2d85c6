/**
 * Secrets at rest through the operator CLI (in-process `main`) and the admin API (the
 * real AWS SDK) on a real SQLite file: `registry encrypt`, `registry rotate-master-key`,
 * `registry secrets`, commands refused without the key, and an admin API that verifies
 * SigV4 with encrypted secrets when it has the key and answers 503 naming the option
 * when it does not.
 */
import { CreateKeysAndCertificateCommand, IoTClient, ListCACertificatesCommand } from '@aws-sdk/client-iot';
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli as certgate } from '../cli/inProcess.js';
import { createAdminServer } from '../../ts/control/server.js';
import { openSqliteRegistry } from '../../ts/registry/sqlite/registry.js';
import { readMasterKeyFile } from '../../ts/registry/secrets.js';
import type { RunningNode } from '../../ts/server/node.js';
import { certificate, identity, type Cert } from '../authz/pki.js';
import { CREDENTIALS_A, SNI_A, createWorld, type World } from '../authz/world.js';
import { testNode } from '../ingress/node.js';

const ACCOUNT = '123456789012';
const ACCESS_KEY = 'AKIDSECRETSTEST00001';
const SECRET = 'secrets-test-secret-key-0000000001';

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function client(endpoint: string): IoTClient {
  return new IoTClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET },
    maxAttempts: 1,
  });
}

function nodeClient(node: RunningNode): IoTClient {
  return new IoTClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${node.ports.admin}`,
    credentials: CREDENTIALS_A,
    maxAttempts: 1,
  });
}

describe('secrets at rest through the CLI and the admin API', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'certgate-secrets-cli-'));
  const db = path.join(dir, 'registry.db');
  const keyFile = path.join(dir, 'master.key');
  const newKeyFile = path.join(dir, 'master.new.key');
  writeFileSync(keyFile, `${randomBytes(32).toString('base64')}\n`);
  writeFileSync(newKeyFile, randomBytes(32));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a clear registry, then encrypts it in place with `registry encrypt`', async () => {
    const created = await certgate([
      'account',
      'create',
      '--db',
      db,
      '--account-id',
      ACCOUNT,
      '--access-key-id',
      ACCESS_KEY,
      '--secret-access-key',
      SECRET,
    ]);
    expect(created.code).toBe(0);
    expect(readFileSync(db).includes(SECRET)).toBe(true);
    expect(JSON.parse((await certgate(['registry', 'secrets', '--db', db, '--json'])).stdout)).toEqual({ encrypted: false, keyId: null });

    const missing = await certgate(['registry', 'encrypt', '--db', db]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--master-key-file FILE (or CERTGATE_MASTER_KEY_FILE) is required');
    const encrypted = await certgate(['registry', 'encrypt', '--db', db, '--json'], { CERTGATE_MASTER_KEY_FILE: keyFile });
    expect(encrypted.code).toBe(0);
    const keyId = readMasterKeyFile(keyFile).id;
    expect(JSON.parse(encrypted.stdout)).toEqual({ secrets: 1, keyId, encrypted: true });
    expect(readFileSync(db).includes(SECRET)).toBe(false);
    const table = await certgate(['registry', 'secrets', '--db', db]);
    expect(table.stdout).toMatch(new RegExp(`encrypted\\s+${keyId}`));
  });

  it('refuses commands that need a secret without the key, naming the option; others still work', async () => {
    const refused = await certgate(['account', 'add-credential', '--db', db]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(
      "ServiceUnavailableException: The registry's secrets are encrypted and no master key was given: pass --master-key-file FILE",
    );
    const added = await certgate(['account', 'add-credential', '--db', db, '--master-key-file', keyFile]);
    expect(added.code).toBe(0);
    const { secretAccessKey } = JSON.parse(added.stdout) as { secretAccessKey: string };
    expect(readFileSync(db).includes(secretAccessKey)).toBe(false);
    // Reading certificates needs no secret.
    expect((await certgate(['cert', 'list', '--db', db])).code).toBe(0);
  });

  it('refuses a malformed key file as a usage error and a wrong key as a failure', async () => {
    const bad = path.join(dir, 'bad.key');
    writeFileSync(bad, 'too short');
    const malformed = await certgate(['account', 'add-credential', '--db', db, '--master-key-file', bad]);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('must hold 32 random bytes, raw or base64');
    const wrong = await certgate(['account', 'add-credential', '--db', db, '--master-key-file', newKeyFile]);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain('is not the one this registry');
  });

  it('verifies SigV4 through the SDK with encrypted secrets, and answers 503 naming the option without the key', async () => {
    const key = readMasterKeyFile(keyFile);
    const withKey = openSqliteRegistry({ path: db, masterKey: key });
    const server = await createAdminServer({ registry: withKey, engine: 'native' });
    const sdk = client(await listen(server));
    try {
      expect((await sdk.send(new ListCACertificatesCommand({}))).certificates).toEqual([]);
      // The issuing CA is made on first use and its key stored encrypted.
      const issued = await sdk.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
      expect(issued.certificateId).toMatch(/^[0-9a-f]{64}$/);
      const stored = (await withKey.getIssuingCa())?.privateKeyPem ?? '';
      const body = stored.split('\n')[1] ?? '';
      expect(body.length).toBeGreaterThan(40);
      expect(readFileSync(db).includes(body)).toBe(false);
    } finally {
      sdk.destroy();
      server.closeAllConnections();
      server.close();
      await withKey.close();
    }

    const locked = openSqliteRegistry({ path: db });
    const lockedServer = await createAdminServer({ registry: locked, engine: 'native' });
    const lockedSdk = client(await listen(lockedServer));
    try {
      const error = await lockedSdk.send(new ListCACertificatesCommand({})).then(
        () => null,
        (e: unknown) => e as { name: string; message: string; $metadata: { httpStatusCode: number } },
      );
      expect(error?.name).toBe('ServiceUnavailableException');
      expect(error?.$metadata.httpStatusCode).toBe(503);
      expect(error?.message).toContain('--master-key-file');
    } finally {
      lockedSdk.destroy();
      lockedServer.closeAllConnections();
      lockedServer.close();
      await locked.close();
    }
  });

  it('rotates the master key: the new key works, the old one is refused', async () => {
    const rotated = await certgate([
      'registry',
      'rotate-master-key',
      '--db',
      db,
      '--old-key-file',
      keyFile,
      '--new-key-file',
      newKeyFile,
      '--json',
    ]);
    expect(rotated.code).toBe(0);
    expect(JSON.parse(rotated.stdout)).toMatchObject({ secrets: 3, keyId: readMasterKeyFile(newKeyFile).id });
    expect((await certgate(['account', 'add-credential', '--db', db, '--master-key-file', newKeyFile])).code).toBe(0);
    const old = await certgate(['account', 'add-credential', '--db', db, '--master-key-file', keyFile]);
    expect(old.code).toBe(3);
    expect(old.stderr).toContain('is not the one this registry');
    const again = await certgate(['registry', 'rotate-master-key', '--db', db, '--old-key-file', keyFile, '--new-key-file', newKeyFile]);
    expect(again.code).toBe(3);
    const same = await certgate(['registry', 'rotate-master-key', '--db', db, '--old-key-file', newKeyFile, '--new-key-file', newKeyFile]);
    expect(same.code).toBe(2);
  });
});

describe('certgate serve on an encrypted registry', () => {
  let world: World;
  let leaf: Cert;
  const keyDir = mkdtempSync(path.join(tmpdir(), 'certgate-secrets-node-'));
  const keyFile = path.join(keyDir, 'master.key');
  writeFileSync(keyFile, randomBytes(32));

  beforeAll(async () => {
    world = await createWorld();
    leaf = certificate({ subject: identity('device', 'p256') });
    await world.register(leaf, {});
    // Encrypt the world's registry in place.
    await openSqliteRegistry({ path: world.dbPath, masterKey: readMasterKeyFile(keyFile) }).close();
    expect(readFileSync(world.dbPath).includes(CREDENTIALS_A.secretAccessKey)).toBe(false);
  });
  afterAll(async () => {
    await world.dispose();
    rmSync(keyDir, { recursive: true, force: true });
  });

  const authorize = async (node: RunningNode) => {
    const res = await request(`http://127.0.0.1:${node.ports.authz}/v1/authorize`, {
      method: 'POST',
      body: JSON.stringify({ sni: SNI_A, certChain: [leaf.pem] }),
    });
    return ((await res.body.json()) as { reason: string }).reason;
  };

  it('authorizes without the key while its admin API answers 503 naming the option', async () => {
    const node = await testNode(world);
    const admin = nodeClient(node);
    try {
      expect(await authorize(node)).toBe('CERTIFICATE_ACTIVE');
      await expect(admin.send(new ListCACertificatesCommand({}))).rejects.toThrow(/--master-key-file FILE/);
    } finally {
      admin.destroy();
      await node.close();
    }
  });

  it('serves both with --master-key-file, and refuses to start with another key', async () => {
    const node = await testNode(world, { masterKeyFile: keyFile });
    const admin = nodeClient(node);
    try {
      expect(await authorize(node)).toBe('CERTIFICATE_ACTIVE');
      // The world registered its CAs in account A; SigV4 verified with the sealed secret.
      expect((await admin.send(new ListCACertificatesCommand({}))).certificates?.length).toBeGreaterThan(0);
    } finally {
      admin.destroy();
      await node.close();
    }
    const other = path.join(keyDir, 'other.key');
    writeFileSync(other, randomBytes(32));
    await expect(testNode(world, { masterKeyFile: other })).rejects.toThrow(/is not the one this registry's secrets are encrypted with/);
  });
});
