/**
 * Watching the wal-index header (crates/certgate-napi/src/wal_index.rs) must not disturb
 * SQLite's own locking of the `-shm` file. The defect this guards against: the addon
 * opened the `-shm` file, mapped it and closed its descriptor, and closing any descriptor
 * of a file drops every POSIX lock the process holds on it — SQLite's shared lock on the
 * dead-man-switch byte included (https://www.sqlite.org/howtocorrupt.html, section 2.2).
 * The next process to open the database then believed it was the only one, truncated
 * the `-shm` file and rebuilt it, and the first process died of SIGBUS reading its own
 * mapping of the wal-index past the new end of file (two `certgate` processes starting
 * on a new registry file hit exactly this).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { projectRoot } from '../../ts/paths.js';
import { openSqliteRegistry } from '../../ts/registry/sqlite/registry.js';

/** Byte of the -shm file every connection holds a shared lock on (sqlite3.c, UNIX_SHM_DMS). */
const DMS_BYTE = 128;

/** The POSIX locks `pid` holds on the file `file`, as /proc/locks lists them. */
function locksOn(file: string, pid: number): string[] {
  const ino = statSync(file).ino;
  return readFileSync('/proc/locks', 'utf8')
    .split('\n')
    .filter((line) => {
      const f = line.split(/\s+/);
      // "1: POSIX  ADVISORY  READ 1234 fe:00:5678 128 128"
      return f[1] === 'POSIX' && Number(f[4]) === pid && f[5]?.split(':')[2] === String(ino);
    });
}

describe('sqlite registry: the wal-index watch leaves SQLite its locks', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'certgate-walidx-'));
    file = path.join(dir, 'registry.db');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!existsSync('/proc/locks'))('keeps the shared lock on the -shm dead-man-switch byte while the registry is open', async () => {
    const registry = openSqliteRegistry({ path: file, watchWalIndex: true });
    try {
      expect(registry.watchesWalIndex).toBe(true);
      const dms = locksOn(`${file}-shm`, process.pid).filter((line) => line.trim().endsWith(` ${DMS_BYTE} ${DMS_BYTE}`));
      expect(dms).toHaveLength(1);
      expect(dms[0]).toContain(' READ ');
      // A second registry in this process maps the same file again: still locked.
      const second = openSqliteRegistry({ path: file, watchWalIndex: true });
      await second.close();
      expect(locksOn(`${file}-shm`, process.pid).some((line) => line.trim().endsWith(` ${DMS_BYTE} ${DMS_BYTE}`))).toBe(true);
    } finally {
      await registry.close();
    }
  });

  it('survives another process opening the database while it writes and reads (no SIGBUS, every read current)', async () => {
    // Process A: a registry watching the wal-index, revoking and re-activating a
    // certificate and reading it back through the memo, for a bounded time.
    const registryModule = pathToFileURL(path.join(projectRoot, 'dist', 'registry', 'sqlite', 'registry.js')).href;
    const processA = `
      const { openSqliteRegistry } = await import(${JSON.stringify(registryModule)});
      const registry = openSqliteRegistry({ path: process.argv[1], watchWalIndex: true });
      if (!registry.watchesWalIndex) throw new Error('no wal-index watch');
      const ID = 'c'.repeat(64);
      const ALL = ['ACTIVE', 'INACTIVE', 'REVOKED', 'PENDING_ACTIVATION', 'PENDING_TRANSFER'];
      await registry.createAccount({ accountId: '111111111111', endpointPrefix: 'aaaaaaaaaaaaaa' });
      await registry.insertCertificate({ accountId: '111111111111', certificateId: ID, certificatePem: 'PEM',
        notBefore: 1577836800, notAfter: 4102444799, status: 'ACTIVE', certificateMode: 'DEFAULT', caCertificateId: null });
      process.stdout.write('ready\\n');
      const end = Date.now() + 2500;
      let rounds = 0;
      while (Date.now() < end) {
        const to = rounds % 2 === 0 ? 'REVOKED' : 'ACTIVE';
        await registry.setCertificateStatus('111111111111', ID, to, ALL);
        const seen = (await registry.getCertificate('111111111111', ID))?.status;
        if (seen !== to) throw new Error('read ' + seen + ' after committing ' + to);
        rounds++;
      }
      await registry.close();
      process.stdout.write('done ' + rounds + '\\n');
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', processA, file], {
      cwd: projectRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    const running = (): boolean => child.exitCode === null && child.signalCode === null;
    const deadline = Date.now() + 20_000;
    while (running() && !out.includes('ready') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));

    // Process B (this one): open, read and close the database over and over, as a
    // second certgate starting up does. Each open checks whether it is the only user
    // of the -shm file, and if it is, truncates and rebuilds it.
    let opens = 0;
    while (running() && Date.now() < deadline) {
      const other = new Database(file);
      other.pragma('busy_timeout = 5000');
      other.prepare('SELECT count(*) FROM certificates').get();
      other.close();
      opens++;
      await new Promise((r) => setImmediate(r));
    }
    const { code, signal } = await exited;
    expect({ code, signal, err }).toEqual({ code: 0, signal: null, err: '' });
    expect(out).toMatch(/done \d+/);
    expect(opens).toBeGreaterThan(10);
  });
});

describe('sqlite registry without the wal-index watch', () => {
  it('never loads the native addon (what `certgate serve --engine wasm` relies on)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'certgate-noaddon-'));
    try {
      const registryModule = pathToFileURL(path.join(projectRoot, 'dist', 'registry', 'sqlite', 'registry.js')).href;
      const pathsModule = pathToFileURL(path.join(projectRoot, 'dist', 'paths.js')).href;
      const script = `
        import { createRequire } from 'node:module';
        const { openSqliteRegistry } = await import(${JSON.stringify(registryModule)});
        const { nativeAddonPath } = await import(${JSON.stringify(pathsModule)});
        const registry = openSqliteRegistry({ path: process.argv[1] });
        await registry.createAccount({ accountId: '111111111111', endpointPrefix: 'aaaaaaaaaaaaaa' });
        registry.getCertificateStandingSync('111111111111', 'c'.repeat(64));
        await registry.getCertificate('111111111111', 'c'.repeat(64));
        const loaded = Object.keys(createRequire(import.meta.url).cache).includes(nativeAddonPath);
        await registry.close();
        process.stdout.write(JSON.stringify({ loaded, addonExists: (await import('node:fs')).existsSync(nativeAddonPath) }));
      `;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, path.join(dir, 'registry.db')], {
        cwd: projectRoot,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(code).toBe(0);
      // The addon is built here (the check is not vacuous), and the registry left it alone.
      expect(JSON.parse(out)).toEqual({ loaded: false, addonExists: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
