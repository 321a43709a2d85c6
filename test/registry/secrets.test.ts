/**
 * Secrets at rest (ts/registry/secrets.ts) on both backends: a real SQLite file and a
 * real PostgreSQL server (test/registry/pgServer.ts). The raw storage (the SQLite file
 * and its WAL; PostgreSQL's table files after a CHECKPOINT) is searched byte for byte
 * for the secrets: before sealing they are found (so the search can fail), after it they
 * are not.
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry } from '../../ts/registry/open.js';
import {
  binding,
  isSealed,
  MasterKey,
  MasterKeyError,
  open,
  readMasterKeyFile,
  rewrap,
  rotationRewrite,
  seal,
  sealingRewrite,
} from '../../ts/registry/secrets.js';
import { RegistryError, type Registry, type RegistryErrorCode } from '../../ts/registry/types.js';
import { startPgServer, type PgServer } from './pgServer.js';

const A = '111111111111';
const B = '222222222222';
const SECRET_A = 'secretA-wJalrXUtnFEMI-K7MDENG';
const SECRET_B = 'secretB-bPxRfiCYEXAMPLEKEYwJ';
const SECRET_C = 'secretC-added-after-sealing-000';
const CA_KEY = `-----BEGIN PRIVATE KEY-----\nISSUINGCAKEYMATERIAL${'Q'.repeat(40)}\n-----END PRIVATE KEY-----\n`;

const ACCOUNT_CA_KEY = `-----BEGIN PRIVATE KEY-----\nACCOUNTCAKEYMATERIAL${'R'.repeat(40)}\n-----END PRIVATE KEY-----\n`;

const newKey = () => new MasterKey(randomBytes(32));

async function refused(promise: Promise<unknown> | (() => unknown), code: RegistryErrorCode): Promise<RegistryError> {
  let error: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (e) {
    error = e;
  }
  expect(error, `expected RegistryError ${code}`).toBeInstanceOf(RegistryError);
  expect((error as RegistryError).code).toBe(code);
  return error as RegistryError;
}

describe('sealing (ts/registry/secrets.ts)', () => {
  it('opens what it sealed, with a fresh data key and IV every time', () => {
    const key = newKey();
    const one = seal(key, SECRET_A, binding.credential('AKIA1'));
    const two = seal(key, SECRET_A, binding.credential('AKIA1'));
    expect(isSealed(one)).toBe(true);
    expect(one).not.toBe(two);
    expect(one).not.toContain(SECRET_A);
    expect(open(key, one, binding.credential('AKIA1'))).toBe(SECRET_A);
  });

  it('refuses a ciphertext moved to another row, or altered in any part', () => {
    const key = newKey();
    const sealed = seal(key, SECRET_A, binding.credential('AKIA1'));
    expect(() => open(key, sealed, binding.credential('AKIA2'))).toThrow(/altered or copied from another row/);
    const parts = sealed.split('.');
    for (const index of [2, 3]) {
      const bytes = Buffer.from(parts[index] ?? '', 'base64url');
      bytes[bytes.length - 20] = (bytes[bytes.length - 20] ?? 0) ^ 1;
      const altered = parts.map((p, i) => (i === index ? bytes.toString('base64url') : p)).join('.');
      try {
        open(key, altered, binding.credential('AKIA1'));
        expect.unreachable('an altered value opened');
      } catch (e) {
        expect((e as RegistryError).code).toBe('SECRET_TAMPERED');
      }
    }
    // A wrapped data key from another secret does not open this one's ciphertext.
    const other = seal(key, SECRET_B, binding.credential('AKIA1')).split('.');
    const spliced = [parts[0], parts[1], other[2], parts[3]].join('.');
    expect(() => open(key, spliced, binding.credential('AKIA1'))).toThrow(/does not authenticate/);
  });

  it('names the missing or wrong master key', () => {
    const key = newKey();
    const sealed = seal(key, SECRET_A, binding.installationIssuingCa());
    expect(() => open(undefined, sealed, binding.installationIssuingCa())).toThrow(/--master-key-file/);
    const other = newKey();
    try {
      open(other, sealed, binding.installationIssuingCa());
      expect.unreachable('opened with another key');
    } catch (e) {
      expect((e as RegistryError).code).toBe('MASTER_KEY_MISMATCH');
      expect((e as Error).message).toContain(key.id);
    }
  });

  it('re-wraps only the data key on rotation', () => {
    const from = newKey();
    const to = newKey();
    const sealed = seal(from, SECRET_A, binding.credential('AKIA1'));
    const rotated = rewrap(from, to, sealed, binding.credential('AKIA1'));
    expect(rotated.split('.')[1]).toBe(to.id);
    expect(rotated.split('.')[3]).toBe(sealed.split('.')[3]);
    expect(rotated.split('.')[2]).not.toBe(sealed.split('.')[2]);
    expect(open(to, rotated, binding.credential('AKIA1'))).toBe(SECRET_A);
    expect(() => open(from, rotated, binding.credential('AKIA1'))).toThrow(/not the one/);
  });

  it('reads a master key file of 32 raw bytes or their base64, and refuses anything else', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'certgate-key-'));
    try {
      const bytes = randomBytes(32);
      const file = (name: string, content: string | Buffer) => {
        const p = path.join(dir, name);
        writeFileSync(p, content);
        return p;
      };
      const id = new MasterKey(bytes).id;
      expect(readMasterKeyFile(file('raw', bytes)).id).toBe(id);
      expect(readMasterKeyFile(file('b64', `${bytes.toString('base64')}\n`)).id).toBe(id);
      expect(readMasterKeyFile(file('b64url', bytes.toString('base64url'))).id).toBe(id);
      expect(() => readMasterKeyFile(file('short', randomBytes(16).toString('base64')))).toThrow(MasterKeyError);
      expect(() => readMasterKeyFile(file('long', randomBytes(33)))).toThrow(/must hold 32 random bytes/);
      expect(() => readMasterKeyFile(file('text', 'correct horse battery staple'))).toThrow(MasterKeyError);
      expect(() => readMasterKeyFile(path.join(dir, 'absent'))).toThrow(/cannot read the master key file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** One backend's storage: open registries on it, run raw SQL, read its raw bytes. */
interface Storage {
  open(key?: MasterKey): Registry;
  sql(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Every byte the backend keeps of the tables holding secrets (after a checkpoint). */
  raw(): Promise<Buffer>;
  dispose(): Promise<void>;
}

function sqliteStorage(): Storage {
  const dir = mkdtempSync(path.join(tmpdir(), 'certgate-secrets-'));
  const file = path.join(dir, 'registry.db');
  return {
    open: (key) => openRegistry({ path: file, ...(key ? { masterKey: key } : {}) }),
    async sql(text, params = []) {
      const db = new Database(file);
      try {
        const statement = db.prepare(text);
        if (statement.reader) return statement.all(...params) as Record<string, unknown>[];
        statement.run(...params);
        return [];
      } finally {
        db.close();
      }
    },
    async raw() {
      return Buffer.concat([file, `${file}-wal`].filter(existsSync).map((f) => readFileSync(f)));
    },
    async dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresStorage(server: PgServer, name: string): Storage {
  const query = async (text: string, params: unknown[] = []) => {
    const client = new pg.Client({ connectionString: server.url(name) });
    await client.connect();
    try {
      return (await client.query(text, params)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  };
  return {
    open: (key) => openRegistry({ path: server.url(name), ...(key ? { masterKey: key } : {}) }),
    sql: query,
    async raw() {
      await query('CHECKPOINT');
      const [dirRow] = await query('SHOW data_directory');
      const files: Buffer[] = [];
      for (const table of ['credentials', 'issuing_ca', 'account_issuing_cas']) {
        const [row] = await query('SELECT pg_relation_filepath($1::regclass) AS file', [table]);
        const base = path.join(String(dirRow?.['data_directory']), String(row?.['file']));
        const dir = path.dirname(base);
        for (const f of readdirSync(dir))
          if (f === path.basename(base) || f.startsWith(`${path.basename(base)}.`)) files.push(readFileSync(path.join(dir, f)));
      }
      return Buffer.concat(files);
    },
    async dispose() {
      await server.dropDatabase(name);
    },
  };
}

let server: PgServer;
beforeAll(async () => {
  server = await startPgServer();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

const backends: [string, () => Promise<Storage>][] = [
  ['sqlite', async () => sqliteStorage()],
  ['postgres', async () => postgresStorage(server, await server.createDatabase())],
];

describe.each(backends)('secrets at rest: %s', (_name, makeStorage) => {
  let storage: Storage;
  const opened: Registry[] = [];
  const openWith = async (key?: MasterKey): Promise<Registry> => {
    const registry = storage.open(key);
    opened.push(registry);
    await registry.settings();
    return registry;
  };

  /** A clear registry with two credentials and an issuing CA, as before this branch. */
  async function clearRegistry(): Promise<void> {
    storage = await makeStorage();
    const registry = await openWith();
    await registry.createAccount({ accountId: A, endpointPrefix: 'aaaaaaaaaaaaaa' });
    await registry.createAccount({ accountId: B, endpointPrefix: 'bbbbbbbbbbbbbb' });
    await registry.addCredential({ accountId: A, accessKeyId: 'AKIAACCOUNTA00000001', secretAccessKey: SECRET_A });
    await registry.addCredential({ accountId: B, accessKeyId: 'AKIAACCOUNTB00000001', secretAccessKey: SECRET_B });
    await registry.ensureIssuingCa({ certificatePem: 'CA CERT', privateKeyPem: CA_KEY, createdAt: 1 });
    await registry.importIssuingCa({ certificatePem: 'ACCOUNT CA CERT', privateKeyPem: ACCOUNT_CA_KEY, createdAt: 1 }, B);
    await registry.close();
  }

  afterEach(async () => {
    for (const r of opened.splice(0)) await r.close().catch(() => undefined);
    await storage?.dispose();
  });

  it('encrypts a clear registry in place when opened with the key; no secret stays in the raw storage', async () => {
    await clearRegistry();
    const before = await storage.raw();
    for (const secret of [SECRET_A, SECRET_B, 'ISSUINGCAKEYMATERIAL', 'ACCOUNTCAKEYMATERIAL'])
      expect(before.includes(secret), `${secret} in clear before`).toBe(true);

    const key = newKey();
    const registry = await openWith(key);
    expect(await registry.secretsKeyId()).toBe(key.id);
    await registry.addCredential({ accountId: A, accessKeyId: 'AKIAACCOUNTA00000002', secretAccessKey: SECRET_C });
    expect((await registry.getCredential('AKIAACCOUNTA00000001'))?.secretAccessKey).toBe(SECRET_A);
    expect((await registry.listCredentials(A)).map((c) => c.secretAccessKey)).toEqual([SECRET_A, SECRET_C]);
    expect((await registry.getIssuingCa())?.privateKeyPem).toBe(CA_KEY);
    expect((await registry.getAccountIssuingCa(B))?.privateKeyPem).toBe(ACCOUNT_CA_KEY);
    await registry.close();

    const after = await storage.raw();
    for (const secret of [SECRET_A, SECRET_B, SECRET_C, 'ISSUINGCAKEYMATERIAL', 'ACCOUNTCAKEYMATERIAL'])
      expect(after.includes(secret), `${secret} in clear after`).toBe(false);
    const rows = await storage.sql('SELECT secret_access_key FROM credentials');
    expect(rows.every((r) => isSealed(String(r['secret_access_key'])))).toBe(true);

    // Opening again with the key changes nothing and reads the same.
    const again = await openWith(key);
    expect((await again.getCredential('AKIAACCOUNTB00000001'))?.secretAccessKey).toBe(SECRET_B);
    expect(await storage.sql('SELECT secret_access_key FROM credentials ORDER BY access_key_id')).toEqual(
      await storage.sql('SELECT secret_access_key FROM credentials ORDER BY access_key_id'),
    );
  });

  it('without the key refuses every call that needs a secret, writes nothing, and still answers the rest', async () => {
    await clearRegistry();
    const key = newKey();
    await (await openWith(key)).close();
    const locked = await openWith();
    expect(await locked.secretsKeyId()).toBe(key.id);
    const error = await refused(locked.getCredential('AKIAACCOUNTA00000001'), 'SECRETS_LOCKED');
    expect(error.message).toMatch(/--master-key-file FILE \(or set CERTGATE_MASTER_KEY_FILE\)/);
    await refused(locked.listCredentials(A), 'SECRETS_LOCKED');
    await refused(locked.getIssuingCa(), 'SECRETS_LOCKED');
    await refused(locked.getAccountIssuingCa(B), 'SECRETS_LOCKED');
    await refused(locked.importIssuingCa({ certificatePem: 'X', privateKeyPem: 'Y', createdAt: 2 }, A), 'SECRETS_LOCKED');
    expect(await storage.sql(`SELECT 1 FROM account_issuing_cas WHERE account_id = '${A}'`)).toEqual([]);
    await refused(locked.addCredential({ accountId: A, accessKeyId: 'AKIAACCOUNTA00000009', secretAccessKey: SECRET_C }), 'SECRETS_LOCKED');
    expect(await storage.sql("SELECT 1 FROM credentials WHERE access_key_id = 'AKIAACCOUNTA00000009'")).toEqual([]);
    // What the authorizer reads needs no secret.
    expect((await locked.accountForHost('aaaaaaaaaaaaaa-ats.iot.us-east-1.localhost'))?.accountId).toBe(A);
    expect((await locked.listAccounts()).length).toBe(2);
    expect(await locked.getCredential('AKIANOSUCHKEY0000000')).toBeNull();
  });

  it('refuses another master key when opening', async () => {
    await clearRegistry();
    await (await openWith(newKey())).close();
    const other = newKey();
    await refused(async () => openWith(other), 'MASTER_KEY_MISMATCH');
  });

  it('refuses a sealed secret copied into another row, and a clear secret written around the sealing', async () => {
    await clearRegistry();
    const key = newKey();
    await (await openWith(key)).close();
    const [a] = await storage.sql("SELECT secret_access_key FROM credentials WHERE access_key_id = 'AKIAACCOUNTA00000001'");
    await storage.sql(
      _name === 'sqlite'
        ? "UPDATE credentials SET secret_access_key = ? WHERE access_key_id = 'AKIAACCOUNTB00000001'"
        : "UPDATE credentials SET secret_access_key = $1 WHERE access_key_id = 'AKIAACCOUNTB00000001'",
      [a?.['secret_access_key']],
    );
    const registry = await openWith(key);
    // Account B does not get to sign with A's secret: the copy does not authenticate.
    await refused(registry.getCredential('AKIAACCOUNTB00000001'), 'SECRET_TAMPERED');
    expect((await registry.getCredential('AKIAACCOUNTA00000001'))?.secretAccessKey).toBe(SECRET_A);
    await storage.sql(
      "INSERT INTO credentials (access_key_id, secret_access_key, account_id) VALUES ('AKIAINJECTED00000001', 'cleartextsecret0000', '111111111111')",
    );
    await refused(registry.getCredential('AKIAINJECTED00000001'), 'SECRET_TAMPERED');
  });

  it('rotates the master key in one transaction: new key reads, old key is refused, ciphertexts are kept', async () => {
    await clearRegistry();
    const from = newKey();
    const to = newKey();
    const registry = await openWith(from);
    const before = await storage.sql('SELECT access_key_id, secret_access_key FROM credentials ORDER BY access_key_id');
    await refused(registry.rewriteSecrets(rotationRewrite(newKey(), to)), 'MASTER_KEY_MISMATCH');
    expect(await storage.sql('SELECT access_key_id, secret_access_key FROM credentials ORDER BY access_key_id')).toEqual(before);
    expect(await registry.rewriteSecrets(rotationRewrite(from, to))).toEqual({ secrets: 4, keyId: to.id });
    await registry.close();
    const after = await storage.sql('SELECT access_key_id, secret_access_key FROM credentials ORDER BY access_key_id');
    expect(after.map((r) => String(r['secret_access_key']).split('.')[3])).toEqual(
      before.map((r) => String(r['secret_access_key']).split('.')[3]),
    );
    expect(after.map((r) => String(r['secret_access_key']).split('.')[1])).toEqual([to.id, to.id]);
    const rotated = await openWith(to);
    expect((await rotated.getCredential('AKIAACCOUNTA00000001'))?.secretAccessKey).toBe(SECRET_A);
    expect((await rotated.getIssuingCa())?.privateKeyPem).toBe(CA_KEY);
    expect((await rotated.getAccountIssuingCa(B))?.privateKeyPem).toBe(ACCOUNT_CA_KEY);
    await refused(async () => openWith(from), 'MASTER_KEY_MISMATCH');
  });

  it('seals explicitly and refuses to rotate a clear registry', async () => {
    await clearRegistry();
    const registry = await openWith();
    const key = newKey();
    await refused(registry.rewriteSecrets(rotationRewrite(key, newKey())), 'SECRETS_LOCKED');
    expect(await registry.secretsKeyId()).toBeNull();
    expect(await registry.rewriteSecrets(sealingRewrite(key))).toEqual({ secrets: 4, keyId: key.id });
    expect(await registry.rewriteSecrets(sealingRewrite(key))).toEqual({ secrets: 0, keyId: key.id });
    await refused(registry.getCredential('AKIAACCOUNTA00000001'), 'SECRETS_LOCKED');
  });
});
