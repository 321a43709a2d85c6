/**
 * The SQLite registry reuses certificate reads only while nothing was committed
 * (ts/registry/sqlite/committedReads.ts). Every way a status can change must be seen by
 * the very next read: through the same registry instance, through another instance in
 * this process, from another process, and never a rolled-back write.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommittedReads } from '../../ts/registry/sqlite/committedReads.js';
import { Sqlite } from '../../ts/registry/sqlite/database.js';
import { openSqliteRegistry, type SqliteRegistry } from '../../ts/registry/sqlite/registry.js';
import { projectRoot } from '../../ts/paths.js';
import type { CertificateStatus } from '../../ts/registry/types.js';

const ACCOUNT = '111111111111';
const ID = 'c'.repeat(64);
const FROM: CertificateStatus[] = ['ACTIVE', 'INACTIVE', 'REVOKED', 'PENDING_ACTIVATION', 'PENDING_TRANSFER'];

describe('sqlite registry certificate reads', () => {
  let dir: string;
  let file: string;
  let registry: SqliteRegistry;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'certgate-reads-'));
    file = path.join(dir, 'registry.db');
    registry = openSqliteRegistry({ path: file });
    await registry.createAccount({ accountId: ACCOUNT, endpointPrefix: 'aaaaaaaaaaaaaa' });
    await registry.insertCertificate({
      accountId: ACCOUNT,
      certificateId: ID,
      certificatePem: 'PEM',
      notBefore: 1_577_836_800,
      notAfter: 4_102_444_799,
      status: 'ACTIVE',
      certificateMode: 'DEFAULT',
      caCertificateId: null,
    });
  });
  afterEach(async () => {
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sees a revoke made through the same registry instance on the next read', async () => {
    expect((await registry.getCertificate(ACCOUNT, ID))?.status).toBe('ACTIVE');
    expect((await registry.getCertificate(ACCOUNT, ID))?.status).toBe('ACTIVE');
    await registry.setCertificateStatus(ACCOUNT, ID, 'REVOKED', FROM);
    expect((await registry.getCertificate(ACCOUNT, ID))?.status).toBe('REVOKED');
    expect((await registry.findCertificateRegistrations(ID)).map((r) => r.status)).toEqual(['REVOKED']);
  });

  it('sees a revoke made through another registry instance in this process on the next read', async () => {
    expect((await registry.getCertificate(ACCOUNT, ID))?.status).toBe('ACTIVE');
    expect((await registry.findCertificateRegistrations(ID)).map((r) => r.status)).toEqual(['ACTIVE']);
    const other = openSqliteRegistry({ path: file });
    await other.setCertificateStatus(ACCOUNT, ID, 'REVOKED', FROM);
    await other.close();
    expect((await registry.getCertificate(ACCOUNT, ID))?.status).toBe('REVOKED');
    expect((await registry.findCertificateRegistrations(ID)).map((r) => r.status)).toEqual(['REVOKED']);
  });

  it('sees a revoke committed by another process on the next read', async () => {
    expect((await registry.getCertificate(ACCOUNT, ID))?.status).toBe('ACTIVE');
    const script = `const db = require('better-sqlite3')(process.argv[1]); db.pragma('busy_timeout = 5000');
      db.prepare("UPDATE certificates SET status = 'REVOKED' WHERE certificate_id = ?").run(process.argv[2]); db.close();`;
    execFileSync(process.execPath, ['-e', script, file, ID], { cwd: projectRoot });
    expect((await registry.getCertificate(ACCOUNT, ID))?.status).toBe('REVOKED');
  });

  it('sees a certificate deleted and registered again', async () => {
    expect(await registry.getCertificate(ACCOUNT, 'd'.repeat(64))).toBeNull();
    await registry.deleteCertificate(ACCOUNT, ID, FROM, true);
    expect(await registry.getCertificate(ACCOUNT, ID)).toBeNull();
    expect(await registry.findCertificateRegistrations(ID)).toEqual([]);
  });

  it('hands out records that cannot be changed by one caller under another', async () => {
    const record = await registry.getCertificate(ACCOUNT, ID);
    expect(Object.isFrozen(record)).toBe(true);
    expect(() => {
      (record as { status: string }).status = 'ACTIVE';
    }).toThrow(TypeError);
  });
});

describe('committed reads memo', () => {
  it('does not keep what a rolled-back transaction read of its own writes', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'certgate-reads-'));
    const sqlite = new Sqlite(path.join(dir, 'memo.db'));
    try {
      sqlite.db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)');
      sqlite.run("INSERT INTO t VALUES ('a', 'committed')");
      const reads = new CommittedReads(sqlite.db);
      const read = () => reads.get('a', () => ({ v: sqlite.get<{ v: string }>("SELECT v FROM t WHERE k = 'a'")?.v }));
      expect(read().v).toBe('committed');
      expect(() =>
        sqlite.write(() => {
          sqlite.run("UPDATE t SET v = 'rolled back' WHERE k = 'a'");
          expect(read().v).toBe('rolled back');
          throw new Error('abort');
        }),
      ).toThrow('abort');
      expect(read().v).toBe('committed');
    } finally {
      sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reuses a read while nothing is committed and drops the oldest entry beyond its bound', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'certgate-reads-'));
    const sqlite = new Sqlite(path.join(dir, 'memo.db'));
    try {
      const reads = new CommittedReads(sqlite.db, 2);
      let loads = 0;
      const read = (key: string) =>
        reads.get(key, () => {
          loads++;
          return { key };
        });
      read('a');
      read('a');
      expect(loads).toBe(1);
      read('b');
      read('c');
      read('a');
      expect(loads).toBe(4);
    } finally {
      sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
