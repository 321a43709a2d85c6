/** `certgate account key ...` (branch keys), run in-process against a real SQLite file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli as certgate } from '../cli/inProcess.js';

describe('certgate account key', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'certgate-keys-'));
  const db = path.join(dir, 'registry.db');
  const account = '333333333333';
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates, lists, deactivates and deletes keys, keeping the last active full key', async () => {
    const created = await certgate([
      'account',
      'create',
      '--db',
      db,
      '--account-id',
      account,
      '--access-key-id',
      'AKIDFIRSTKEY0000001',
      '--secret-access-key',
      'first-secret-00000001',
    ]);
    expect(created.code).toBe(0);

    const ro = await certgate(['account', 'key', 'create', '--db', db, '--account', account, '--read-only']);
    expect(ro.code).toBe(0);
    const reader = JSON.parse(ro.stdout) as Record<string, unknown>;
    expect(reader).toMatchObject({ accountId: account, scope: 'READ_ONLY', status: 'ACTIVE' });
    expect(String(reader['secretAccessKey']).length).toBeGreaterThanOrEqual(16);

    const full = await certgate([
      'account',
      'key',
      'create',
      '--db',
      db,
      '--account',
      account,
      '--access-key-id',
      'AKIDSECONDKEY000001',
      '--secret-access-key',
      'second-secret-0000001',
    ]);
    expect(JSON.parse(full.stdout)).toMatchObject({ accessKeyId: 'AKIDSECONDKEY000001', scope: 'FULL' });

    const table = await certgate(['account', 'key', 'list', '--db', db, '--account', account]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ACCESS KEY\s+SCOPE\s+STATUS\s+CREATED$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 3))).toEqual(
      expect.arrayContaining([
        ['AKIDFIRSTKEY0000001', 'FULL', 'ACTIVE'],
        ['AKIDSECONDKEY000001', 'FULL', 'ACTIVE'],
        [String(reader['accessKeyId']), 'READ_ONLY', 'ACTIVE'],
      ]),
    );
    const json = await certgate(['account', 'key', 'list', '--db', db, '--account', account, '--json']);
    expect(json.stdout).not.toContain('secret');
    expect((JSON.parse(json.stdout) as { accessKeys: unknown[] }).accessKeys).toHaveLength(3);

    const off = await certgate(['account', 'key', 'deactivate', 'AKIDFIRSTKEY0000001', '--db', db, '--account', account, '--json']);
    expect(off.code).toBe(0);
    expect(JSON.parse(off.stdout)).toMatchObject({ accessKey: { accessKeyId: 'AKIDFIRSTKEY0000001', status: 'INACTIVE' } });
    expect((await certgate(['account', 'key', 'delete', 'AKIDFIRSTKEY0000001', '--db', db, '--account', account])).stdout).toBe(
      'deleted AKIDFIRSTKEY0000001\n',
    );

    const last = await certgate(['account', 'key', 'delete', 'AKIDSECONDKEY000001', '--db', db, '--account', account]);
    expect(last.code).toBe(3);
    expect(last.stderr).toContain('DeleteConflictException: Access key AKIDSECONDKEY000001 is the last active full-access key');
    const unknown = await certgate(['account', 'key', 'delete', 'AKIDNOSUCHKEY000001', '--db', db, '--account', account]);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('ResourceNotFoundException');
  });

  it('documents every key command with examples, and refuses a missing argument as a usage error', async () => {
    for (const sub of ['create', 'list', 'activate', 'deactivate', 'delete']) {
      const help = await certgate(['account', 'key', sub, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('Examples:');
      expect(help.stdout).toContain(`certgate account key ${sub}`);
    }
    expect((await certgate(['account', 'key', 'delete', '--db', db])).code).toBe(2);
  });
});
