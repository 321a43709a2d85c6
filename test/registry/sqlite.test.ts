import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqliteRegistry } from '../../ts/registry/sqlite/registry.js';
import { MIGRATIONS } from '../../ts/registry/sqlite/schema.js';
import { registryContract } from './contract.js';

function tempDb(): { file: string; dispose: () => Promise<void> } {
  const dir = mkdtempSync(path.join(tmpdir(), 'certgate-registry-'));
  return { file: path.join(dir, 'registry.db'), dispose: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** Permission bits of a file. */
function mode(file: string): number {
  return statSync(file).mode & 0o777;
}

/** The contract on SQLite as the CLI opens it, and as `certgate serve` does: every standing held in memory. */
for (const [name, options] of [
  ['sqlite', {}],
  ['sqlite, every standing held', { standings: 'all', watchWalIndex: true }],
] as const) {
  registryContract(name, async () => {
    const { file, dispose } = tempDb();
    const plantDomain = async (accountId: string, domainName: string): Promise<void> => {
      const db = new Database(file);
      try {
        db.prepare('INSERT INTO domains (domain_name, account_id) VALUES (?, ?)').run(domainName, accountId);
      } finally {
        db.close();
      }
    };
    return { registry: openSqliteRegistry({ path: file, ...options }), dispose, plantDomain };
  });
}

describe('sqlite registry file', () => {
  it('creates its directory and files readable by the owner only (they hold secrets and the CA key)', async () => {
    const { file: base, dispose } = tempDb();
    const file = path.join(path.dirname(base), 'fresh', 'dir', 'registry.db');
    const registry = openSqliteRegistry({ path: file });
    await registry.createAccount({ accountId: '111111111111', endpointPrefix: 'aaaaaaaaaaaaaa' });
    expect(mode(path.dirname(file))).toBe(0o700);
    expect(mode(file)).toBe(0o600);
    expect(mode(`${file}-wal`)).toBe(0o600);
    expect(mode(`${file}-shm`)).toBe(0o600);
    await registry.close();
    await dispose();
  });

  it('uses WAL with full synchronous commits and records the schema version', async () => {
    const { file, dispose } = tempDb();
    const registry = openSqliteRegistry({ path: file });
    await registry.close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    db.close();
    await dispose();
  });

  it('makes a write visible to a second connection before the write resolves', async () => {
    const { file, dispose } = tempDb();
    const writer = openSqliteRegistry({ path: file });
    const reader = openSqliteRegistry({ path: file });
    await writer.createAccount({ accountId: '111111111111', endpointPrefix: 'aaaaaaaaaaaaaa' });
    await writer.insertCertificate({
      accountId: '111111111111',
      certificateId: 'f'.repeat(64),
      certificatePem: 'PEM',
      notBefore: 0,
      notAfter: 1,
      status: 'ACTIVE',
      certificateMode: 'SNI_ONLY',
      caCertificateId: null,
    });
    expect((await reader.getCertificate('111111111111', 'f'.repeat(64)))?.status).toBe('ACTIVE');
    await writer.setCertificateStatus('111111111111', 'f'.repeat(64), 'REVOKED', ['ACTIVE']);
    expect((await reader.getCertificate('111111111111', 'f'.repeat(64)))?.status).toBe('REVOKED');
    await writer.close();
    await reader.close();
    await dispose();
  });

  it('keeps the settings chosen when the file was created', async () => {
    const { file, dispose } = tempDb();
    const first = openSqliteRegistry({ path: file, region: 'eu-west-1', endpointDomain: 'example.net' });
    await first.close();
    const second = openSqliteRegistry({ path: file, region: 'us-east-2' });
    expect(await second.settings()).toEqual({ region: 'eu-west-1', endpointDomain: 'example.net' });
    await second.close();
    await dispose();
  });

  it("never lets this process's reads see an open transaction's rows, nor two transactions interleave", async () => {
    const { file, dispose } = tempDb();
    const registry = openSqliteRegistry({ path: file });
    const other = openSqliteRegistry({ path: file });
    const A = '111111111111';
    await registry.createAccount({ accountId: A, endpointPrefix: 'aaaaaaaaaaaaaa' });
    const batch = Array.from({ length: 40 }, (_, i) => ({
      accountId: A,
      certificateId: i.toString(16).padStart(64, '0'),
      certificatePem: 'PEM',
      notBefore: 0,
      notAfter: 1,
      status: 'ACTIVE' as const,
      certificateMode: 'SNI_ONLY' as const,
      caCertificateId: null,
    }));
    // The bulk insert is one transaction spanning many awaits; between them, the
    // authorizer's synchronous reads see none of its rows or, after the commit, all.
    const visible = () => batch.filter((c) => registry.getCertificateStandingSync(A, c.certificateId) !== null).length;
    const seen = new Set<number>();
    let done = false;
    const writing = registry.insertCertificates(batch).finally(() => (done = true));
    // A second registry of this process on the same file queues behind it instead of
    // waiting out the busy timeout on the first one's write lock.
    const started = Date.now();
    const second = other.createAccount({ accountId: '222222222222', endpointPrefix: 'bbbbbbbbbbbbbb' });
    // oxlint-disable-next-line no-unmodified-loop-condition -- `done` is set by the write's finally
    while (!done) {
      seen.add(visible());
      await Promise.resolve();
    }
    await Promise.all([writing, second]);
    expect(Date.now() - started).toBeLessThan(2000);
    seen.add(visible());
    expect([...seen].filter((n) => n !== 0 && n !== batch.length)).toEqual([]);
    expect(seen.has(batch.length)).toBe(true);
    expect((await registry.getAccount('222222222222'))?.endpointPrefix).toBe('bbbbbbbbbbbbbb');
    await other.close();
    await registry.close();
    await dispose();
  });
});
