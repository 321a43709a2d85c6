/**
 * The admin API over TLS: `certgate serve --admin-tls-cert/--admin-tls-key` (the built
 * CLI, a real SQLite registry encrypted with --master-key-file) answered by the real AWS
 * SDK and AWS CLI trusting a private CA bundle; and the refusal of a plain admin API on
 * a non-loopback --host unless --danger-plain-admin (checked before anything binds, so
 * the test never listens beyond loopback).
 */
import { IoTClient, ListCACertificatesCommand } from '@aws-sdk/client-iot';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli as quietMain } from '../cli/inProcess.js';
import { projectRoot } from '../../ts/paths.js';
import { ConfigError, parseServeConfig } from '../../ts/server/config.js';
import { AWS_CLI } from './harness.js';

const ACCOUNT = '123456789012';
const ACCESS_KEY = 'AKIDADMINTLSTEST0001';
const SECRET = 'admin-tls-test-secret-000000000001';

const dir = mkdtempSync(path.join(tmpdir(), 'certgate-admin-tls-'));
const file = (name: string) => path.join(dir, name);

const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });

/** A private CA and a server certificate for 127.0.0.1 / localhost it signed (openssl). */
function makePki(): void {
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=certgate test admin CA',
  ]);
  openssl([
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=localhost',
  ]);
  writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  openssl([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  ]);
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'other.key',
    '-out',
    'other.pem',
    '-days',
    '2',
    '-subj',
    '/CN=other',
  ]);
}

beforeAll(() => {
  makePki();
  writeFileSync(file('master.key'), randomBytes(32).toString('base64'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a plain admin API beyond loopback', () => {
  it('is refused unless --danger-plain-admin, before anything listens (exit 2)', async () => {
    expect(() => parseServeConfig({ host: '0.0.0.0' })).toThrow(ConfigError);
    expect(() => parseServeConfig({ host: '10.1.2.3' })).toThrow(
      /--host 10\.1\.2\.3 is not loopback.*--admin-tls-cert and --admin-tls-key, or --danger-plain-admin/,
    );
    expect(parseServeConfig({ host: '0.0.0.0', dangerPlainAdmin: true }).dangerPlainAdmin).toBe(true);
    expect(parseServeConfig({ host: '0.0.0.0', adminTlsCert: file('server.pem'), adminTlsKey: file('server.key') }).adminTls).toBeDefined();
    expect(parseServeConfig({ host: '127.0.0.1' }).adminTls).toBeUndefined();
    const run = await quietMain(['serve', '--host', '0.0.0.0', '--db', file('never.db')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--host 0.0.0.0 is not loopback');
  });

  it('refuses half a TLS configuration, unreadable files and a key of another certificate', () => {
    expect(() => parseServeConfig({ adminTlsCert: file('server.pem') })).toThrow(/go together/);
    expect(() => parseServeConfig({ adminTlsCert: file('absent.pem'), adminTlsKey: file('server.key') })).toThrow(
      /--admin-tls-cert: cannot read/,
    );
    expect(() => parseServeConfig({ adminTlsCert: file('server.pem'), adminTlsKey: file('other.key') })).toThrow(
      /--admin-tls-cert\/--admin-tls-key: .*key values mismatch/,
    );
  });
});

describe('certgate serve --admin-tls-cert/--admin-tls-key', () => {
  let child: ChildProcess;
  let admin: string;
  const db = file('registry.db');

  beforeAll(async () => {
    const created = await quietMain([
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
    child = spawn(
      process.execPath,
      [
        path.join(projectRoot, 'bin', 'certgate.js'),
        'serve',
        '--db',
        db,
        '--processes',
        '1',
        '--admin-port',
        '0',
        '--authz-port',
        '0',
        '--grpc-port',
        '0',
        '--admin-tls-cert',
        file('server.pem'),
        '--admin-tls-key',
        file('server.key'),
        '--master-key-file',
        file('master.key'),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    admin = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`certgate serve exited with ${code}`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const entry = JSON.parse(line) as { msg?: string; admin?: string };
        if (entry.msg === 'listening' && entry.admin) resolve(entry.admin);
      });
    });
  });
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('logs an https:// admin address and encrypted the registry it opened', () => {
    expect(admin).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(readFileSync(db).includes(SECRET)).toBe(false);
  });

  it('answers the AWS SDK trusting the private CA, and only it', async () => {
    const sdk = (ca?: Buffer) =>
      new IoTClient({
        region: 'us-east-1',
        endpoint: admin,
        credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET },
        maxAttempts: 1,
        ...(ca ? { requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca }) }) } : {}),
      });
    const trusting = sdk(readFileSync(file('ca.pem')));
    const untrusting = sdk();
    try {
      expect((await trusting.send(new ListCACertificatesCommand({}))).certificates).toEqual([]);
      await expect(untrusting.send(new ListCACertificatesCommand({}))).rejects.toThrow(
        /self[- ]signed certificate in certificate chain|unable to (get|verify)/i,
      );
    } finally {
      trusting.destroy();
      untrusting.destroy();
    }
    // Plain HTTP to the admin port gets no API answer.
    const plain = await fetch(admin.replace('https:', 'http:') + '/cacertificates').then(
      (r) => r.status,
      () => 'refused',
    );
    expect(plain).not.toBe(200);
  });

  it('answers the AWS CLI with --ca-bundle', async () => {
    const env = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: tmpdir(),
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: SECRET,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_PAGER: '',
      AWS_MAX_ATTEMPTS: '1',
    };
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        AWS_CLI,
        ['iot', 'list-ca-certificates', '--endpoint-url', admin, '--ca-bundle', file('ca.pem'), '--output', 'json', '--no-cli-pager'],
        { env, timeout: 90_000 },
        (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
      );
    });
    expect(JSON.parse(stdout)).toEqual({ certificates: [] });
  }, 120_000);
});
