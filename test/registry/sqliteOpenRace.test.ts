/**
 * Processes opening a new registry file at the same instant all open it. The defect: the
 * workers of `certgate serve --processes 2` started on a new file both tried to put it in
 * WAL mode; SQLite answers one of them SQLITE_BUSY at once, without the busy handler,
 * because waiting would deadlock (https://www.sqlite.org/c3ref/busy_handler.html), and
 * that worker's start-up failed with "database is locked" (seen in CI: 1 start in ~10).
 * The first test holds the state that collision creates, so it fails before the fix on
 * any schedule: another process holds the new file's write lock (RESERVED) while this one
 * puts it in WAL mode. The second makes the collision itself likely: the processes wait
 * for a common instant before opening (before the fix, 6 or 7 of its 12 rounds failed in
 * two runs on a quiet machine; on a busy one it may not collide at all).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../ts/paths.js';
import { Sqlite } from '../../ts/registry/sqlite/database.js';

const ROUNDS = 12;
// Two: with three on two cores, one is often still off the CPU at the instant (fewer collisions).
const PROCESSES = 2;

/** Open `file` with the registry's driver at `at` (epoch ms); print "ok" or the error code. */
function openAt(file: string, at: number): Promise<string> {
  const databaseModule = pathToFileURL(path.join(projectRoot, 'dist', 'registry', 'sqlite', 'database.js')).href;
  const script = `
    const { Sqlite } = await import(${JSON.stringify(databaseModule)});
    while (Date.now() < ${at});
    try {
      new Sqlite(process.argv[1]).close();
      process.stdout.write('ok');
    } catch (err) {
      process.stdout.write(String(err.code ?? err.message));
    }
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, file], {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.on('exit', () => resolve(out)));
}

describe('sqlite registry: several processes opening a new file at once', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'certgate-open-race-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('opens a new file while another process holds its write lock, once that process lets go', async () => {
    const file = path.join(dir, 'held.db');
    // A new, empty file (rollback mode), its write lock taken and released 300 ms later.
    const script = `
      const Database = require(${JSON.stringify(path.join(projectRoot, 'node_modules', 'better-sqlite3'))});
      const db = new Database(process.argv[1]);
      db.exec('BEGIN IMMEDIATE');
      process.stdout.write('held');
      setTimeout(() => { db.exec('ROLLBACK'); db.close(); }, 300);
    `;
    const holder = spawn(process.execPath, ['-e', script, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => holder.on('exit', resolve));
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    // Before the fix: SQLITE_BUSY at once (this connection reads page 1, then needs the
    // lock the holder has; waiting could deadlock, so SQLite does not wait).
    new Sqlite(file).close();
    expect(await exited).toBe(0);
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it(`every one of ${PROCESSES} processes opens it, in each of ${ROUNDS} rounds`, async () => {
    const outcomes: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const file = path.join(dir, `round-${round}.db`);
      // Far enough ahead for every child to have started and loaded better-sqlite3.
      const at = Date.now() + 700;
      outcomes.push(...(await Promise.all(Array.from({ length: PROCESSES }, () => openAt(file, at)))));
    }
    expect(outcomes.filter((o) => o !== 'ok')).toEqual([]);
  }, 60_000);
});
