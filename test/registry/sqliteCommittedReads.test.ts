/**
 * The SQLite registry reuses certificate reads only while nothing was committed
 * (ts/registry/sqlite/committedReads.ts). Every way a status can change must be seen by
 * the very next read: through the same registry instance, through another instance in
 * this process, from another process, and never a rolled-back write.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommittedReads } from '../../ts/fastpath/committedReads.js';
import { Sqlite } from '../../ts/registry/sqlite/database.js';
import { openSqliteRegistry, type SqliteRegistry } from '../../ts/registry/sqlite/registry.js';
import { projectRoot } from '../../ts/paths.js';
import type { CertificateStatus } from '../../ts/registry/types.js';

const ACCOUNT = '111111111111';
const ID = 'c'.repeat(64);
const FROM: CertificateStatus[] = ['ACTIVE', 'INACTIVE', 'REVOKED', 'PENDING_ACTIVATION', 'PENDING_TRANSFER'];

/** Run `script` (CommonJS, better-sqlite3 available) in another Node process with the file as argv[1]. */
function inOtherProcess(script: string, ...args: string[]): void {
  execFileSync(process.execPath, ['-e', script, ...args], { cwd: projectRoot, stdio: 'pipe' });
}

describe.each([
  ['the mapped wal-index header', true, 'seen'],
  ['SQLite on every read', false, 'seen'],
  ['the mapped wal-index header, every standing held', true, 'all'],
  ['SQLite on every read, every standing held', false, 'all'],
] as const)('sqlite registry certificate reads, checked through %s', (_label, watchWalIndex, standings) => {
  let dir: string;
  let file: string;
  let registry: SqliteRegistry;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'certgate-reads-'));
    file = path.join(dir, 'registry.db');
    registry = openSqliteRegistry({ path: file, watchWalIndex, standings });
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

  it('uses the check it was asked for', () => {
    // The native addon is built before the tests run, so the header watch must be live.
    expect(registry.watchesWalIndex).toBe(watchWalIndex);
  });

  it('holds every standing in memory only when asked to', async () => {
    await registry.loadStandings();
    expect(registry.standingsHeld).toBe(standings === 'all' ? 1 : 0);
    expect(registry.getCertificateStandingSync(ACCOUNT, 'd'.repeat(64))).toBeNull();
    expect(registry.getCertificateStandingSync('222222222222', ID)).toBeNull();
  });

  it('sees a certificate moved to another account by another process (transfer) in both accounts', async () => {
    const OTHER = '222222222222';
    await registry.createAccount({ accountId: OTHER, endpointPrefix: 'bbbbbbbbbbbbbb' });
    expect(registry.getCertificateStandingSync(ACCOUNT, ID)?.status).toBe('ACTIVE');
    expect(registry.getCertificateStandingSync(OTHER, ID)).toBeNull();
    inOtherProcess(
      `const db = require('better-sqlite3')(process.argv[1]); db.pragma('busy_timeout = 5000');
      db.prepare("UPDATE certificates SET account_id = ?, status = 'INACTIVE' WHERE certificate_id = ?").run(process.argv[2], process.argv[3]); db.close();`,
      file,
      OTHER,
      ID,
    );
    expect(registry.getCertificateStandingSync(ACCOUNT, ID)).toBeNull();
    expect(registry.getCertificateStandingSync(OTHER, ID)).toMatchObject({ accountId: OTHER, status: 'INACTIVE' });
  });

  it('sees a thing detached, and the certificate registered anew after a delete', async () => {
    const principal = `arn:aws:iot:us-east-1:${ACCOUNT}:cert/${ID}`;
    await registry.attachThingPrincipal(ACCOUNT, 'thing-a', principal);
    expect(registry.getCertificateStandingSync(ACCOUNT, ID)?.things).toEqual(['thing-a']);
    await registry.detachThingPrincipal(ACCOUNT, 'thing-a', principal);
    expect(registry.getCertificateStandingSync(ACCOUNT, ID)?.things).toEqual([]);
    await registry.deleteCertificate(ACCOUNT, ID, FROM, true);
    expect(registry.getCertificateStandingSync(ACCOUNT, ID)).toBeNull();
    const other = openSqliteRegistry({ path: file });
    await other.insertCertificate({
      accountId: ACCOUNT,
      certificateId: ID,
      certificatePem: 'PEM',
      notBefore: 1_577_836_800,
      notAfter: 4_102_444_799,
      status: 'PENDING_ACTIVATION',
      certificateMode: 'SNI_ONLY',
      caCertificateId: null,
    });
    await other.close();
    expect(registry.getCertificateStandingSync(ACCOUNT, ID)).toMatchObject({ status: 'PENDING_ACTIVATION', certificateMode: 'SNI_ONLY' });
  });

  it('loads every standing again when the change log has a hole (rows removed), and so sees a change the log missed', async () => {
    expect(registry.getCertificateStandingSync(ACCOUNT, ID)?.status).toBe('ACTIVE');
    // A change the log does not record (its trigger dropped), then a later numbered one:
    // only a whole load finds the first.
    inOtherProcess(
      `const db = require('better-sqlite3')(process.argv[1]); db.pragma('busy_timeout = 5000');
      db.transaction(() => {
        db.exec('DROP TRIGGER change_log_certificate_update');
        db.prepare("UPDATE certificates SET status = 'REVOKED' WHERE certificate_id = ?").run(process.argv[2]);
        db.exec("UPDATE sqlite_sequence SET seq = seq + 10 WHERE name = 'change_log'");
        db.exec("INSERT INTO change_log (account_id, kind, resource_id, status, created_at) VALUES ('999999999999', 'certificate', 'x', 'ACTIVE', 0)");
      })(); db.close();`,
      file,
      ID,
    );
    expect(registry.getCertificateStandingSync(ACCOUNT, ID)?.status).toBe('REVOKED');
  });

  it('loads every standing again for a hole after the first change a catch-up reads, too', async () => {
    const ID2 = 'e'.repeat(64);
    await registry.insertCertificate({
      accountId: ACCOUNT,
      certificateId: ID2,
      certificatePem: 'PEM',
      notBefore: 1_577_836_800,
      notAfter: 4_102_444_799,
      status: 'ACTIVE',
      certificateMode: 'DEFAULT',
      caCertificateId: null,
    });
    expect(registry.getCertificateStandingSync(ACCOUNT, ID2)?.status).toBe('ACTIVE');
    // A logged change, then one the log does not record (another certificate), then a hole.
    inOtherProcess(
      `const db = require('better-sqlite3')(process.argv[1]); db.pragma('busy_timeout = 5000');
      db.transaction(() => {
        db.prepare("UPDATE certificates SET status = 'INACTIVE' WHERE certificate_id = ?").run(process.argv[2]);
        db.exec('DROP TRIGGER change_log_certificate_update');
        db.prepare("UPDATE certificates SET status = 'REVOKED' WHERE certificate_id = ?").run(process.argv[3]);
        db.exec("UPDATE sqlite_sequence SET seq = seq + 10 WHERE name = 'change_log'");
        db.exec("INSERT INTO change_log (account_id, kind, resource_id, status, created_at) VALUES ('999999999999', 'certificate', 'x', 'ACTIVE', 0)");
      })(); db.close();`,
      file,
      ID,
      ID2,
    );
    expect(registry.getCertificateStandingSync(ACCOUNT, ID)?.status).toBe('INACTIVE');
    expect(registry.getCertificateStandingSync(ACCOUNT, ID2)?.status).toBe('REVOKED');
  });

  it("gives a first sight's standing fresh and a later one the same frozen object while unchanged", () => {
    const first = registry.getCertificateStandingSync(ACCOUNT, ID, false);
    expect(registry.getCertificateStandingSync(ACCOUNT, ID, false)).not.toBe(first);
    const kept = registry.getCertificateStandingSync(ACCOUNT, ID, true);
    expect(registry.getCertificateStandingSync(ACCOUNT, ID, true)).toBe(kept);
    expect(Object.isFrozen(kept)).toBe(true);
    expect(Object.isFrozen(kept?.things)).toBe(true);
  });

  it('watches a database opened through a symlink (SQLite keeps -shm beside the real file)', async () => {
    const link = path.join(dir, 'link.db');
    symlinkSync(file, link);
    const linked = openSqliteRegistry({ path: link, watchWalIndex });
    try {
      expect(linked.watchesWalIndex).toBe(watchWalIndex);
      expect((await linked.getCertificateStanding(ACCOUNT, ID))?.status).toBe('ACTIVE');
      await registry.setCertificateStatus(ACCOUNT, ID, 'REVOKED', FROM);
      expect((await linked.getCertificateStanding(ACCOUNT, ID))?.status).toBe('REVOKED');
    } finally {
      await linked.close();
    }
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
    inOtherProcess(script, file, ID);
    expect((await registry.getCertificate(ACCOUNT, ID))?.status).toBe('REVOKED');
  });

  it('sees each of many commits by another process, standing and status alike', async () => {
    // Alternating writes: a check that missed any commit would return the previous value.
    const script = `const db = require('better-sqlite3')(process.argv[1]); db.pragma('busy_timeout = 5000');
      db.prepare("UPDATE certificates SET status = ? WHERE certificate_id = ?").run(process.argv[3], process.argv[2]); db.close();`;
    for (const status of ['INACTIVE', 'ACTIVE', 'REVOKED', 'ACTIVE']) {
      expect((await registry.getCertificateStanding(ACCOUNT, ID))?.status).not.toBe(status);
      inOtherProcess(script, file, ID, status);
      expect((await registry.getCertificateStanding(ACCOUNT, ID))?.status).toBe(status);
      expect(registry.getCertificateStandingSync(ACCOUNT, ID)?.status).toBe(status);
    }
  });

  it('keeps its commit stamp while nothing is committed, and moves it for a commit by this instance, another, or another process', async () => {
    const stamp = () => registry.commitStampSync();
    const first = stamp();
    expect(stamp()).toBe(first);
    expect(registry.accountForHostSync('nowhere.example')).toBeNull();
    expect(stamp()).toBe(first);
    // The configuration the caches keep (ts/authz/configCache.ts): a domain, a CA.
    await registry.addDomain(ACCOUNT, 'devices.example.test');
    const second = stamp();
    expect(second).not.toBe(first);
    expect(stamp()).toBe(second);
    const other = openSqliteRegistry({ path: file });
    await other.removeDomain(ACCOUNT, 'devices.example.test');
    await other.close();
    const third = stamp();
    expect(third).not.toBe(second);
    inOtherProcess(
      `const db = require('better-sqlite3')(process.argv[1]); db.pragma('busy_timeout = 5000');
      db.prepare("INSERT INTO domains (domain_name, account_id) VALUES ('late.example.test', ?)").run(process.argv[2]); db.close();`,
      file,
      ACCOUNT,
    );
    expect(stamp()).not.toBe(third);
  });

  it('sees a thing attached by another registry instance in the next standing', async () => {
    expect((await registry.getCertificateStanding(ACCOUNT, ID))?.things).toEqual([]);
    const other = openSqliteRegistry({ path: file });
    await other.attachThingPrincipal(ACCOUNT, 'thing-b', `arn:aws:iot:us-east-1:${ACCOUNT}:cert/${ID}`);
    await other.attachThingPrincipal(ACCOUNT, 'thing-a', `arn:aws:iot:us-east-1:${ACCOUNT}:cert/${ID}`);
    await other.close();
    expect((await registry.getCertificateStanding(ACCOUNT, ID))?.things).toEqual(['thing-a', 'thing-b']);
  });

  it('cannot be bypassed: while it is open, no other connection may write without the wal-index or leave WAL mode', async () => {
    expect((await registry.getCertificate(ACCOUNT, ID))?.status).toBe('ACTIVE');
    const exclusive = `const db = require('better-sqlite3')(process.argv[1], { timeout: 0 }); db.pragma('locking_mode = EXCLUSIVE');
      db.prepare("UPDATE certificates SET status = 'REVOKED'").run(); db.close();`;
    const leaveWal = `const db = require('better-sqlite3')(process.argv[1], { timeout: 0 }); db.pragma('journal_mode = DELETE'); db.close();`;
    expect(() => inOtherProcess(exclusive, file)).toThrow(/database is locked/);
    expect(() => inOtherProcess(leaveWal, file)).toThrow(/database is locked/);
    expect((await registry.getCertificate(ACCOUNT, ID))?.status).toBe('ACTIVE');
    // The refusals come from this open connection: once it is closed, the same write works.
    await registry.close();
    inOtherProcess(exclusive, file);
    registry = openSqliteRegistry({ path: file, watchWalIndex, standings });
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
  it('tells its follower of a commit before answering, and again on the next check when the follower failed', () => {
    const sqlite = new Sqlite(':memory:');
    let calls = 0;
    let fail = false;
    const memo = new CommittedReads(sqlite.db, undefined, {
      onCommit: () => {
        calls++;
        if (fail) throw new Error('follower failed');
      },
    });
    memo.stamp();
    expect(calls).toBe(1);
    memo.stamp();
    expect(calls).toBe(1);
    sqlite.db.exec('CREATE TABLE t (x)');
    sqlite.db.prepare('INSERT INTO t VALUES (1)').run();
    fail = true;
    expect(() => memo.stamp()).toThrow('follower failed');
    expect(() => memo.stamp()).toThrow('follower failed');
    fail = false;
    memo.stamp();
    expect(calls).toBe(4);
    memo.stamp();
    expect(calls).toBe(4);
    sqlite.close();
  });

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

  it('reuses a read while nothing is committed and drops the least recently used entry beyond its bound', () => {
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
      // A read that found no row is remembered too, and answers null again.
      const none = () =>
        reads.get('none', () => {
          loads++;
          return null;
        });
      expect([none(), none()]).toEqual([null, null]);
      expect(loads).toBe(5);
    } finally {
      sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('remembers an owned read by certificateId but answers it only for the account it was read for', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'certgate-reads-'));
    const sqlite = new Sqlite(path.join(dir, 'memo.db'));
    try {
      const reads = new CommittedReads(sqlite.db);
      let loads = 0;
      // One certificate registered in account A only: B's read finds no row.
      const read = (accountId: string) =>
        reads.owned(accountId, 'cert-1', () => {
          loads++;
          return accountId === 'A' ? { accountId, status: 'ACTIVE' } : null;
        });
      expect(read('A')).toEqual({ accountId: 'A', status: 'ACTIVE' });
      expect(read('A')).toEqual({ accountId: 'A', status: 'ACTIVE' });
      expect(loads).toBe(1);
      // Same certificateId, other account: read, never A's remembered standing.
      expect(read('B')).toBeNull();
      expect(loads).toBe(2);
      expect(read('B')).toBeNull();
      expect(loads).toBe(2);
      // The two accounts' reads share one slot: A is read again, and answered as A.
      expect(read('A')).toEqual({ accountId: 'A', status: 'ACTIVE' });
      expect(loads).toBe(3);
    } finally {
      sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
