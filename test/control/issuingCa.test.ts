/**
 * Bring your own issuing CA: `certgate ca import-issuing` (in-process CLI) with CAs made
 * by openssl, then CreateKeysAndCertificate / CreateCertificateFromCsr through the real
 * AWS SDK; `openssl verify` shows every issued certificate chains to the imported CA
 * (through an intermediate to its root for the installation's, to the account's own CA
 * for an account with one).
 */
import { CreateCertificateFromCsrCommand, CreateKeysAndCertificateCommand } from '@aws-sdk/client-iot';
import { execFileSync } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli as certgate } from '../cli/inProcess.js';
import { ACCOUNT_A, ACCOUNT_B, startAdmin, type AdminHarness } from './harness.js';
import { csr, ecKey } from './x509.js';

const dir = mkdtempSync(path.join(tmpdir(), 'certgate-issuing-'));
const file = (name: string) => path.join(dir, name);
const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();

const CONFIG = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ca_signed]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[nosign]
basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,keyCertSign,digitalSignature
`;

/** A self-signed certificate with the extensions of section `ext`, for an existing key. */
function selfSigned(name: string, key: string, ext: string): void {
  openssl([
    'req',
    '-x509',
    '-config',
    'openssl.cnf',
    '-extensions',
    ext,
    '-key',
    key,
    '-out',
    `${name}.pem`,
    '-days',
    '30',
    '-subj',
    `/CN=${name}/O=operator`,
  ]);
}

function makePki(): void {
  writeFileSync(file('openssl.cnf'), CONFIG);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', 'root.key']);
  selfSigned('root', 'root.key', 'ca');
  // The installation's issuing CA: an intermediate under the root, RSA key in PKCS#1.
  openssl(['genrsa', '-traditional', '-out', 'intermediate.key', '2048']);
  openssl([
    'req',
    '-new',
    '-config',
    'openssl.cnf',
    '-key',
    'intermediate.key',
    '-out',
    'intermediate.csr',
    '-subj',
    '/CN=operator issuing intermediate/O=operator',
  ]);
  openssl([
    'x509',
    '-req',
    '-in',
    'intermediate.csr',
    '-CA',
    'root.pem',
    '-CAkey',
    'root.key',
    '-CAcreateserial',
    '-extfile',
    'openssl.cnf',
    '-extensions',
    'ca_signed',
    '-days',
    '30',
    '-out',
    'intermediate.pem',
  ]);
  // Account A's own CA: EC P-256, SEC1 key.
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'tenant.key']);
  selfSigned('tenant', 'tenant.key', 'ca');
  // Refused ones.
  selfSigned('nosign', 'tenant.key', 'nosign');
  selfSigned('leaf', 'tenant.key', 'leaf');
  openssl(['pkcs8', '-topk8', '-in', 'tenant.key', '-v2', 'aes-256-cbc', '-passout', 'pass:secret', '-out', 'tenant.encrypted.key']);
  writeFileSync(file('huge.key'), `${readFileSync(file('tenant.key'), 'utf8')}${'#'.repeat(16_384)}\n`);
}

/** `openssl verify` of `pem` against `trusted`, with `untrusted` intermediates; returns its verdict. */
function verify(pem: string, trusted: string, untrusted?: string): boolean {
  writeFileSync(file('issued.pem'), pem);
  try {
    openssl(['verify', '-CAfile', trusted, ...(untrusted ? ['-untrusted', untrusted] : []), 'issued.pem']);
    return true;
  } catch {
    return false;
  }
}

describe('bring your own issuing CA', () => {
  let harness: AdminHarness;
  beforeAll(async () => {
    makePki();
    harness = await startAdmin();
  });
  afterAll(async () => {
    await harness.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const importing = (cert: string, key: string, ...extra: string[]) =>
    certgate(['ca', 'import-issuing', '--db', harness.dbPath, '--cert', file(cert), '--key', file(key), '--json', ...extra]);

  it('refuses a certificate that is no CA, a CA without keyCertSign, a key of another certificate, an encrypted key, an unknown account', async () => {
    const cases: [() => Promise<{ code: number; stderr: string }>, RegExp][] = [
      [() => importing('leaf.pem', 'tenant.key'), /basicConstraints extension as true/],
      [() => importing('nosign.pem', 'tenant.key'), /keyUsage extension with keyCertSign/],
      [() => importing('tenant.pem', 'intermediate.key'), /does not belong to the issuing CA certificate/],
      [() => importing('tenant.pem', 'tenant.encrypted.key'), /cannot be read .*unencrypted PEM key/],
      [() => importing('tenant.pem', 'tenant.key', '--account', '999999999999'), /Account 999999999999 does not exist/],
      [() => importing('intermediate.key', 'intermediate.key'), /does not contain a PEM certificate/],
      // MAX_ISSUING_KEY_PEM_CHARS
      [() => importing('tenant.pem', 'huge.key'), /The private key must be at most 16384 characters/],
    ];
    for (const [run, message] of cases) {
      const result = await run();
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(message);
    }
    // Nothing was stored: the installation still has no issuing CA.
    expect(await harness.registry.getIssuingCa()).toBeNull();
    expect(await harness.registry.getAccountIssuingCa(ACCOUNT_A.accountId)).toBeNull();
  });

  it('signs with the imported CAs: the installation intermediate for B, its own CA for A', async () => {
    const installation = await importing('intermediate.pem', 'intermediate.key');
    expect(installation.code).toBe(0);
    const intermediate = new X509Certificate(readFileSync(file('intermediate.pem')));
    expect(JSON.parse(installation.stdout)).toMatchObject({
      scope: 'installation',
      certificateId: intermediate.fingerprint256.replaceAll(':', '').toLowerCase(),
    });
    const tenant = await importing('tenant.pem', 'tenant.key', '--account', ACCOUNT_A.accountId);
    expect(tenant.code).toBe(0);
    expect(JSON.parse(tenant.stdout)).toMatchObject({ scope: `account ${ACCOUNT_A.accountId}` });

    const b = harness.client(ACCOUNT_B);
    const a = harness.client(ACCOUNT_A);
    const bKeys = await b.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    const bCsr = await b.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: csr([['CN', 'device-b']], ecKey()) }));
    for (const pem of [bKeys.certificatePem ?? '', bCsr.certificatePem ?? '']) {
      expect(new X509Certificate(pem).issuer).toBe(intermediate.subject);
      expect(verify(pem, file('root.pem'), file('intermediate.pem'))).toBe(true);
      expect(verify(pem, file('tenant.pem'))).toBe(false);
    }
    const aKeys = await a.send(new CreateKeysAndCertificateCommand({}));
    const aCsr = await a.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: csr([['CN', 'device-a']], ecKey()) }));
    for (const pem of [aKeys.certificatePem ?? '', aCsr.certificatePem ?? '']) {
      expect(verify(pem, file('tenant.pem'))).toBe(true);
      expect(verify(pem, file('root.pem'), file('intermediate.pem'))).toBe(false);
    }

    const shown = await certgate(['ca', 'issuing', '--db', harness.dbPath, '--account', ACCOUNT_B.accountId, '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      scope: 'installation',
      subject: expect.stringContaining('operator issuing intermediate'),
    });
  });

  it('stores an imported key encrypted when the registry has a master key', async () => {
    const db = file('sealed.db');
    const key = file('master.key');
    writeFileSync(key, randomBytes(32));
    expect((await certgate(['account', 'create', '--db', db, '--account-id', '123412341234', '--master-key-file', key])).code).toBe(0);
    expect(
      (
        await certgate([
          'ca',
          'import-issuing',
          '--db',
          db,
          '--cert',
          file('tenant.pem'),
          '--key',
          file('tenant.key'),
          '--account',
          '123412341234',
          '--master-key-file',
          key,
        ])
      ).code,
    ).toBe(0);
    expect(
      (
        await certgate([
          'ca',
          'import-issuing',
          '--db',
          db,
          '--cert',
          file('intermediate.pem'),
          '--key',
          file('intermediate.key'),
          '--master-key-file',
          key,
        ])
      ).code,
    ).toBe(0);
    const raw = readFileSync(db);
    // Every base64 line of both keys, in either encoding certgate might store.
    for (const keyFile of ['tenant.key', 'intermediate.key']) {
      const pkcs8 = openssl(['pkcs8', '-topk8', '-nocrypt', '-in', keyFile]);
      for (const line of [...readFileSync(file(keyFile), 'utf8').split('\n'), ...pkcs8.split('\n')].filter((l) => l.length >= 40)) {
        expect(raw.includes(line), `${keyFile} line in clear`).toBe(false);
      }
    }
    const locked = await certgate(['ca', 'import-issuing', '--db', db, '--cert', file('tenant.pem'), '--key', file('tenant.key')]);
    expect(locked.code).toBe(3);
    expect(locked.stderr).toContain('--master-key-file');
  });
});
