/** The operator CLI (`certgate account|ca|cert`), run in-process against a real SQLite file. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli as certgate } from '../cli/inProcess.js';
import { openSqliteRegistry } from '../../ts/registry/sqlite/registry.js';
import { makeCa, makeDevice, makeVerification } from './pki-fixtures.js';

describe('certgate operator commands', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'certgate-operator-'));
  const db = path.join(dir, 'registry.db');
  const account = '111111111111';
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function file(name: string, text: string): string {
    const target = path.join(dir, name);
    writeFileSync(target, text);
    return target;
  }

  it('creates accounts with given or generated credentials and prints them as JSON', async () => {
    const given = await certgate([
      'account',
      'create',
      '--db',
      db,
      '--account-id',
      account,
      '--access-key-id',
      'AKIDOPERATOR0000001',
      '--secret-access-key',
      'operator-secret-0000001',
      '--region',
      'eu-west-1',
      '--endpoint-domain',
      'iot.example.net',
    ]);
    expect(given.code).toBe(0);
    const first = JSON.parse(given.stdout) as Record<string, string>;
    expect(first).toMatchObject({
      accountId: account,
      accessKeyId: 'AKIDOPERATOR0000001',
      secretAccessKey: 'operator-secret-0000001',
      region: 'eu-west-1',
    });
    expect(first['endpoint']).toBe(`${first['endpointPrefix']}-ats.iot.eu-west-1.iot.example.net`);
    const generated = await certgate(['account', 'create'], { CERTGATE_DB: db });
    const created = JSON.parse(generated.stdout) as Record<string, string>;
    expect(created['accountId']).toMatch(/^\d{12}$/);
    expect(created['accessKeyId']).toMatch(/^AKIA[A-Z2-7]{16}$/);
    // The region and domain were fixed when the database was created.
    expect(created['endpoint']).toBe(`${created['endpointPrefix']}-ats.iot.eu-west-1.iot.example.net`);
    // Asking an existing registry for another region is refused, and creates nothing.
    const otherRegion = await certgate(['account', 'create', '--db', db, '--region', 'us-west-2']);
    expect([otherRegion.code, otherRegion.stderr]).toEqual([3, expect.stringContaining('was created with --region eu-west-1')]);
    const after = await certgate(['account', 'list', '--db', db, '--json']);
    expect((JSON.parse(after.stdout) as { accounts: unknown[] }).accounts).toHaveLength(2);
    const duplicate = await certgate(['account', 'create', '--db', db, '--account-id', account]);
    expect([duplicate.code, duplicate.stderr]).toEqual([3, expect.stringContaining('already exists')]);
    const list = await certgate(['account', 'list', '--db', db, '--json']);
    expect((JSON.parse(list.stdout) as { accounts: unknown[] }).accounts).toHaveLength(2);
    const table = await certgate(['account', 'list', '--db', db]);
    expect(table.stdout.split('\n')[0]).toMatch(/^ACCOUNT\s+ENDPOINT/);
  });

  it('refuses to answer from a registry file that does not exist (a mistyped --db)', async () => {
    const typo = path.join(dir, 'typo', 'registry.db');
    const run = await certgate(['cert', 'list', '--db', typo]);
    expect([run.code, run.stderr]).toEqual([3, expect.stringContaining(`No registry at ${typo}`)]);
    expect(existsSync(path.dirname(typo))).toBe(false);
  });

  it('names a duplicate account with the AWS error name, like the API', async () => {
    const run = await certgate(['account', 'create', '--db', db, '--account-id', account]);
    expect([run.code, run.stderr]).toEqual([3, expect.stringMatching(/^certgate: ResourceAlreadyExistsException: /)]);
  });

  it('asks for --account when the registry holds several accounts', async () => {
    const run = await certgate(['cert', 'list', '--db', db]);
    expect([run.code, run.stderr]).toEqual([3, expect.stringContaining('--account')]);
  });

  it('registers a CA and device certificates and moves their status', async () => {
    const ca = makeCa('Operator CA');
    const code = (await certgate(['ca', 'registration-code', '--db', db, '--account', account])).stdout.trim();
    expect(code).toMatch(/^[0-9a-f]{64}$/);
    const caRun = await certgate([
      'ca',
      'register',
      file('ca.pem', ca.pem),
      '--verification-cert',
      file('ver.pem', makeVerification(ca, code)),
      '--set-as-active',
      '--db',
      db,
      '--account',
      account,
    ]);
    expect(caRun.code).toBe(0);
    const caId = caRun.stdout.trim();
    const dev = await certgate([
      'cert',
      'register',
      file('dev.pem', makeDevice(ca, 1)),
      '--status',
      'ACTIVE',
      '--db',
      db,
      '--account',
      account,
    ]);
    const devId = dev.stdout.trim();
    expect(devId).toMatch(/^[0-9a-f]{64}$/);
    const listed = await certgate(['cert', 'list', '--ca', caId, '--db', db, '--account', account]);
    expect(listed.stdout).toContain(devId);
    expect(listed.stdout).toContain('ACTIVE');
    expect((await certgate(['cert', 'revoke', devId, '--db', db, '--account', account])).code).toBe(0);
    const reactivate = await certgate(['cert', 'activate', devId, '--db', db, '--account', account]);
    expect([reactivate.code, reactivate.stderr]).toEqual([3, expect.stringContaining('CertificateStateException')]);
    const described = await certgate(['cert', 'describe', devId, '--json', '--db', db, '--account', account]);
    expect(JSON.parse(described.stdout)).toMatchObject({ certificateDescription: { status: 'REVOKED', caCertificateId: caId } });
    const registry = openSqliteRegistry({ path: db });
    expect((await registry.getCertificate(account, devId))?.status).toBe('REVOKED');
    await registry.close();
    const caList = await certgate(['ca', 'list', '--json', '--db', db, '--account', account]);
    expect(JSON.parse(caList.stdout)).toMatchObject({ certificates: [{ certificateId: caId, status: 'ACTIVE' }] });
    const caDelete = await certgate(['ca', 'delete', caId, '--db', db, '--account', account]);
    expect([caDelete.code, caDelete.stderr]).toEqual([3, expect.stringContaining('CertificateStateException')]);
  });

  it('attaches a custom domain used for SNI routing', async () => {
    expect((await certgate(['account', 'add-domain', 'Devices.Example.COM', '--db', db, '--account', account])).code).toBe(0);
    const registry = openSqliteRegistry({ path: db });
    expect((await registry.accountForHost('devices.example.com'))?.accountId).toBe(account);
    await registry.close();
    const bad = await certgate(['account', 'add-domain', 'not a domain', '--db', db, '--account', account]);
    expect([bad.code, bad.stderr]).toEqual([3, expect.stringContaining('not a valid DNS name')]);
  });

  it("refuses another account's endpoint (any form, case or trailing dot) as a custom domain (issue 14, defect 1)", async () => {
    const listed = JSON.parse((await certgate(['account', 'list', '--db', db, '--json'])).stdout) as {
      accounts: { accountId: string; endpoint: string; endpointPrefix: string }[];
    };
    const victim = listed.accounts.find((a) => a.accountId === account);
    const other = listed.accounts.find((a) => a.accountId !== account);
    if (!victim || !other) throw new Error('expected two accounts');
    const apex = 'iot.eu-west-1.iot.example.net';
    for (const name of [
      victim.endpoint,
      `${victim.endpointPrefix}.${apex}`,
      `${victim.endpointPrefix}.jobs.${apex}`,
      `${victim.endpoint.toUpperCase()}.`,
    ]) {
      const run = await certgate(['account', 'add-domain', name, '--db', db, '--account', other.accountId]);
      expect([run.code, run.stderr]).toEqual([
        3,
        expect.stringContaining(
          `InvalidRequestException: The domain ${name.toLowerCase().replace(/\.$/, '')} is inside this installation's endpoint namespace`,
        ),
      ]);
    }
    const registry = openSqliteRegistry({ path: db });
    expect(await registry.listDomains(other.accountId)).toEqual([]);
    expect((await registry.accountForHost(victim.endpoint))?.accountId).toBe(account);
    await registry.close();
  });

  it('creates keys and a certificate into a directory', async () => {
    const out = path.join(dir, 'keys');
    const run = await certgate(['cert', 'create', '--out-dir', out, '--set-as-active', '--db', db, '--account', account]);
    expect(run.code).toBe(0);
    const id = run.stdout.trim();
    expect(new Set(readdirSync(out))).toEqual(new Set([`${id}.cert.pem`, `${id}.private.key`, `${id}.public.key`]));
  });

  it('issues a certificate for a CSR: JSON by default, the id with --out, never over an existing file', async () => {
    const csr = path.join(dir, 'device.csr');
    execFileSync(
      'openssl',
      [
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        path.join(dir, 'device.key'),
        '-out',
        csr,
        '-subj',
        '/CN=csr-device',
      ],
      { stdio: 'ignore' },
    );
    const json = await certgate(['cert', 'create-from-csr', csr, '--db', db, '--account', account]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      certificateId: expect.stringMatching(/^[0-9a-f]{64}$/),
      certificatePem: expect.stringContaining('BEGIN CERTIFICATE'),
    });
    const pem = path.join(dir, 'issued.pem');
    const quiet = await certgate(['cert', 'create-from-csr', csr, '--out', pem, '--db', db, '--account', account]);
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    expect(readFileSync(pem, 'utf8')).toContain('BEGIN CERTIFICATE');
    const before = (await certgate(['cert', 'list', '--json', '--db', db, '--account', account])).stdout;
    const again = await certgate(['cert', 'create-from-csr', csr, '--out', pem, '--db', db, '--account', account]);
    expect([again.code, again.stderr]).toEqual([2, expect.stringContaining('already exists')]);
    expect((await certgate(['cert', 'list', '--json', '--db', db, '--account', account])).stdout).toBe(before);
  });

  it('creates nothing when --out-dir cannot hold the private key', async () => {
    const blocker = file('not-a-directory', 'x');
    const before = (await certgate(['cert', 'list', '--json', '--db', db, '--account', account])).stdout;
    const run = await certgate(['cert', 'create', '--out-dir', blocker, '--db', db, '--account', account]);
    expect([run.code, run.stderr]).toEqual([3, expect.stringContaining('nothing was created')]);
    const after = (await certgate(['cert', 'list', '--json', '--db', db, '--account', account])).stdout;
    expect(after).toBe(before);
  });

  it('reports an unreadable input file without touching the registry', async () => {
    const run = await certgate(['cert', 'register-no-ca', path.join(dir, 'missing.pem'), '--db', db, '--account', account]);
    expect([run.code, run.stderr]).toEqual([3, expect.stringContaining('Cannot read certificate file')]);
    expect(existsSync(db)).toBe(true);
  });
});
