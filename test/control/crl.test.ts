/**
 * CRLs per CA through the admin API (`PUT|GET|DELETE /certgate/cas/{caId}/crl`, SigV4)
 * and the operator CLI (`certgate ca crl put|show|delete`), on both engines (branch crl).
 * A refused CRL answers InvalidRequestException with the engine's code and changes nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli as certgate } from '../cli/inProcess.js';
import { loadEngine } from '../../ts/engine/load.js';
import { ENGINE_NAMES } from '../../ts/engine/types.js';
import { openSqliteRegistry } from '../../ts/registry/sqlite/registry.js';
import type { Registry } from '../../ts/registry/types.js';
import { certificate, crlPem, identity, revocationList, type Cert, type Identity } from '../authz/pki.js';
import { ACCOUNT_A, ACCOUNT_B, REGION, Sha256, startAdmin, type AdminHarness, type TestAccount } from './harness.js';

const now = (): number => Math.floor(Date.now() / 1000);

async function registerCa(registry: Registry, accountId: string, ca: Cert): Promise<void> {
  const parsed = loadEngine('native').inspect(ca.der);
  if (!parsed.ok) throw new Error(parsed.message);
  await registry.insertCaCertificate({
    accountId,
    certificateId: ca.id,
    certificatePem: ca.pem,
    notBefore: parsed.notBefore,
    notAfter: parsed.notAfter,
    status: 'ACTIVE',
    certificateMode: 'SNI_ONLY',
    autoRegistrationStatus: 'DISABLE',
    subject: parsed.subject,
    registrationConfig: null,
    tags: [],
  });
}

function crlOf(issuer: Identity, serials: bigint[], number: bigint): Buffer {
  return revocationList({ issuer, serials, number, thisUpdate: now() - 60, nextUpdate: now() + 86_400 });
}

interface Answer {
  status: number;
  errorType: string | null;
  json: Record<string, unknown> | null;
}

async function call(harness: AdminHarness, account: TestAccount, method: string, caId: string, body?: Uint8Array): Promise<Answer> {
  const url = new URL(harness.url);
  const requestPath = `/certgate/cas/${caId}/crl`;
  const signer = new SignatureV4({
    service: 'iot',
    region: REGION,
    credentials: { accessKeyId: account.accessKeyId, secretAccessKey: account.secretAccessKey },
    sha256: Sha256,
  });
  const headers: Record<string, string> = { host: url.host };
  if (body !== undefined) headers['content-type'] = 'application/pkix-crl';
  const signed = await signer.sign({
    method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: requestPath,
    query: {},
    headers,
    ...(body ? { body } : {}),
  });
  const res = await fetch(`${harness.url}${requestPath}`, {
    method,
    headers: Object.fromEntries(Object.entries(signed.headers).filter(([k]) => k !== 'host')),
    ...(body ? { body: new Blob([new Uint8Array(body)]) } : {}),
  });
  const text = await res.text();
  return {
    status: res.status,
    errorType: res.headers.get('x-amzn-errortype'),
    json: text === '' ? null : (JSON.parse(text) as Record<string, unknown>),
  };
}

describe.each(ENGINE_NAMES)('the CRL admin API with the %s engine', (engine) => {
  let harness: AdminHarness;
  const caId = identity('CRL API CA', 'p256');
  const ca = certificate({ subject: caId, ca: true });
  beforeEach(async () => {
    harness = await startAdmin({ engine });
    await registerCa(harness.registry, ACCOUNT_A.accountId, ca);
  });
  afterEach(() => harness.close());

  it('stores a PEM CRL, describes it, replaces it with a newer DER one, and deletes it', async () => {
    const put = await call(harness, ACCOUNT_A, 'PUT', ca.id, Buffer.from(crlPem(crlOf(caId, [1n, 2n, 3n], 7n))));
    expect(put.status).toBe(200);
    expect(put.json?.['crl']).toMatchObject({ caCertificateId: ca.id, crlNumber: '7', entries: 3, source: 'UPLOAD' });
    const got = await call(harness, ACCOUNT_A, 'GET', ca.id);
    expect(got.json?.['crl']).toEqual(put.json?.['crl']);
    expect((await call(harness, ACCOUNT_A, 'PUT', ca.id, crlOf(caId, [1n], 8n))).json?.['crl']).toMatchObject({
      crlNumber: '8',
      entries: 1,
    });
    expect((await call(harness, ACCOUNT_A, 'DELETE', ca.id)).status).toBe(200);
    expect(await call(harness, ACCOUNT_A, 'GET', ca.id)).toMatchObject({ status: 404, errorType: 'ResourceNotFoundException' });
    expect(await call(harness, ACCOUNT_A, 'DELETE', ca.id)).toMatchObject({ status: 404, errorType: 'ResourceNotFoundException' });
  });

  it('refuses a bad CRL with InvalidRequestException naming the engine code, and changes nothing', async () => {
    await call(harness, ACCOUNT_A, 'PUT', ca.id, crlOf(caId, [1n], 7n));
    const before = (await call(harness, ACCOUNT_A, 'GET', ca.id)).json;
    const cases: [Uint8Array, string][] = [
      [crlOf(caId, [1n, 2n], 6n), 'CRL_NUMBER_REGRESSED'],
      [crlOf(identity('CRL API CA', 'p256', false), [], 9n), 'BAD_SIGNATURE'],
      [crlOf(identity('Another CA', 'p256'), [], 9n), 'CRL_ISSUER_MISMATCH'],
      [Buffer.from('not a CRL'), 'BAD_CRL'],
      [revocationList({ issuer: caId, serials: [], number: 9n, thisUpdate: now() - 7200, nextUpdate: now() - 3600 }), 'CRL_EXPIRED'],
    ];
    for (const [body, code] of cases) {
      const answer = await call(harness, ACCOUNT_A, 'PUT', ca.id, body);
      expect(answer, code).toMatchObject({ status: 400, errorType: 'InvalidRequestException', json: { crlErrorCode: code } });
      expect(String(answer.json?.['message'])).toContain(code);
    }
    expect((await call(harness, ACCOUNT_A, 'GET', ca.id)).json).toEqual(before);
  });

  it('scopes CRLs to the caller’s account and refuses unknown CAs and unsigned requests', async () => {
    expect(await call(harness, ACCOUNT_B, 'PUT', ca.id, crlOf(caId, [], 1n))).toMatchObject({
      status: 404,
      errorType: 'ResourceNotFoundException',
    });
    expect(await call(harness, ACCOUNT_A, 'PUT', 'ab'.repeat(32), crlOf(caId, [], 1n))).toMatchObject({ status: 404 });
    const unsigned = await fetch(`${harness.url}/certgate/cas/${ca.id}/crl`, {
      method: 'PUT',
      body: new Blob([new Uint8Array(crlOf(caId, [], 1n))]),
    });
    expect(unsigned.status).toBe(403);
    expect(await harness.registry.getCaCrlMeta(ACCOUNT_A.accountId, ca.id)).toBeNull();
  });
});

describe.each(ENGINE_NAMES)('certgate ca crl with the %s engine', (engine) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'certgate-crl-cli-'));
  const db = path.join(dir, 'registry.db');
  const caId = identity('CRL CLI CA', 'p256');
  const ca = certificate({ subject: caId, ca: true });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('puts, shows (table and JSON), refuses a bad CRL with exit 3, and deletes', async () => {
    const registry = openSqliteRegistry({ path: db });
    await registry.createAccount({ accountId: ACCOUNT_A.accountId, endpointPrefix: ACCOUNT_A.endpointPrefix });
    await registerCa(registry, ACCOUNT_A.accountId, ca);
    await registry.close();
    const opts = ['--db', db, '--account', ACCOUNT_A.accountId, '--engine', engine];
    const pemFile = path.join(dir, 'ca.crl.pem');
    writeFileSync(pemFile, crlPem(crlOf(caId, [10n, 11n], 3n)));
    const put = await certgate(['ca', 'crl', 'put', ca.id, pemFile, ...opts]);
    expect(put).toMatchObject({ code: 0 });
    expect(put.stdout).toMatch(/entries\s+2/);
    const shown = await certgate(['ca', 'crl', 'show', ca.id, '--json', ...opts]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ crl: { caCertificateId: ca.id, crlNumber: '3', entries: 2 } });
    const derFile = path.join(dir, 'old.crl');
    writeFileSync(derFile, crlOf(caId, [], 2n));
    const old = await certgate(['ca', 'crl', 'put', ca.id, derFile, ...opts]);
    expect(old.code).toBe(3);
    expect(old.stderr).toContain('CRL_NUMBER_REGRESSED');
    expect((await certgate(['ca', 'crl', 'delete', ca.id, ...opts])).code).toBe(0);
    expect((await certgate(['ca', 'crl', 'show', ca.id, ...opts])).code).toBe(3);
  });

  it('exits 2 on a missing argument and shows examples in --help', async () => {
    expect((await certgate(['ca', 'crl', 'put', ca.id])).code).toBe(2);
    const help = await certgate(['ca', 'crl', 'put', '--help']);
    expect(help.stdout).toContain('Examples:');
    expect(help.stdout).toContain('certgate ca crl put');
  });
});
