/**
 * The audit log of admin writes (branch keys), through the real @aws-sdk/client-iot:
 * who, what, when and result for successful and refused writes, reads left out, the
 * account boundary, pagination, the operator CLI, and no secret in any row.
 */
import {
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  DeleteCertificateCommand,
  ListCertificatesCommand,
  RegisterCertificateWithoutCACommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli as run } from '../cli/inProcess.js';
import { ACCOUNT_A, ACCOUNT_B, sdkError, signedFetch, startAdmin, type AdminHarness, type TestAccount } from './harness.js';
import { makeSelfSigned } from './pki-fixtures.js';

interface Row {
  sequence: number;
  time: number;
  accessKeyId?: string;
  operation: string;
  resource?: string;
  result: string;
  requestId?: string;
}

describe('the audit log of admin writes', () => {
  let harness: AdminHarness;
  const secrets: string[] = [ACCOUNT_A.secretAccessKey, ACCOUNT_B.secretAccessKey];
  let reader: TestAccount;
  let certificateId = '';

  async function auditOf(account: TestAccount, query: Record<string, string> = {}): Promise<{ auditEvents: Row[]; nextSequence: number }> {
    const res = await signedFetch(harness, account, { method: 'GET', path: '/certgate/audit', query });
    expect(res.status).toBe(200);
    return res.json as unknown as { auditEvents: Row[]; nextSequence: number };
  }

  beforeAll(async () => {
    harness = await startAdmin();
    const a = harness.client(ACCOUNT_A);
    const created = await signedFetch(harness, ACCOUNT_A, { method: 'POST', path: '/certgate/access-keys', body: '{"readOnly":true}' });
    const key = created.json?.['accessKey'] as Record<string, string>;
    reader = { ...ACCOUNT_A, accessKeyId: key['accessKeyId'] ?? '', secretAccessKey: key['secretAccessKey'] ?? '' };
    secrets.push(reader.secretAccessKey);

    await a.send(new CreatePolicyCommand({ policyName: 'audited', policyDocument: '{"Version":"2012-10-17"}' }));
    await sdkError(a.send(new CreatePolicyCommand({ policyName: 'audited', policyDocument: '{}' })));
    const registered = await a.send(new RegisterCertificateWithoutCACommand({ certificatePem: makeSelfSigned(7), status: 'INACTIVE' }));
    certificateId = registered.certificateId ?? '';
    await a.send(new UpdateCertificateCommand({ certificateId, newStatus: 'ACTIVE' }));
    await a.send(new ListCertificatesCommand({}));
    const issued = await a.send(new CreateKeysAndCertificateCommand({ setAsActive: false }));
    secrets.push(issued.keyPair?.PrivateKey ?? 'missing private key', issued.keyPair?.PrivateKey?.split('\n')[1] ?? 'missing key line');
    await sdkError(harness.client(reader).send(new DeleteCertificateCommand({ certificateId })));
    await signedFetch(harness, ACCOUNT_A, { method: 'POST', path: '/policies/bad', body: '{not json' });
  });
  afterAll(async () => {
    await harness.close();
  });

  it('records who, what, when and the result of every write, refused ones too, and no read', async () => {
    const started = Date.now() / 1000 - 60;
    const rows = (await auditOf(ACCOUNT_A)).auditEvents;
    expect(rows.map((r) => [r.accessKeyId, r.operation, r.result])).toEqual([
      [ACCOUNT_A.accessKeyId, 'CreateAccessKey', 'OK'],
      [ACCOUNT_A.accessKeyId, 'CreatePolicy', 'OK'],
      [ACCOUNT_A.accessKeyId, 'CreatePolicy', 'ResourceAlreadyExistsException'],
      [ACCOUNT_A.accessKeyId, 'RegisterCertificateWithoutCA', 'OK'],
      [ACCOUNT_A.accessKeyId, 'UpdateCertificate', 'OK'],
      [ACCOUNT_A.accessKeyId, 'CreateKeysAndCertificate', 'OK'],
      [reader.accessKeyId, 'DeleteCertificate', 'AccessDeniedException'],
      [ACCOUNT_A.accessKeyId, 'CreatePolicy', 'InvalidRequestException'],
    ]);
    expect(rows[0]?.resource).toBe(`accessKeyId=${reader.accessKeyId}`);
    expect(rows[1]?.resource).toBe('policyName=audited');
    expect(rows[3]?.resource).toBe(`certificateId=${certificateId}`);
    expect(rows[4]?.resource).toBe(`certificateId=${certificateId}`);
    expect(rows[6]?.resource).toBe(`certificateId=${certificateId}`);
    for (const r of rows) {
      expect(r.time).toBeGreaterThan(started);
      expect(r.time).toBeLessThanOrEqual(Date.now() / 1000);
      expect(r.requestId).toMatch(/^[0-9a-f-]{36}$/);
    }
    // The policy the read-only key tried to delete is untouched; B sees none of A's rows.
    expect((await auditOf(ACCOUNT_B)).auditEvents).toEqual([]);
  });

  it('pages with afterSequence and maxResults, and refuses bad paging input', async () => {
    const all = (await auditOf(ACCOUNT_A)).auditEvents;
    const seen: Row[] = [];
    let after = 0;
    for (;;) {
      const page = await auditOf(ACCOUNT_A, { afterSequence: String(after), maxResults: '3' });
      if (page.auditEvents.length === 0) break;
      expect(page.auditEvents.length).toBeLessThanOrEqual(3);
      seen.push(...page.auditEvents);
      after = page.nextSequence;
    }
    expect(seen).toEqual(all);
    const bad = await signedFetch(harness, ACCOUNT_A, { method: 'GET', path: '/certgate/audit', query: { maxResults: '0' } });
    expect(bad).toMatchObject({ status: 400, errorType: 'InvalidRequestException' });
    // A read-only key may read the log.
    expect((await auditOf(reader)).auditEvents).toEqual(all);
  });

  it('lists the log with certgate audit list, and records operator CLI writes without a key', async () => {
    const created = await run(['account', 'key', 'create', '--db', harness.dbPath, '--account', ACCOUNT_A.accountId]);
    expect(created.code).toBe(0);
    const cliKey = JSON.parse(created.stdout) as { accessKeyId: string; secretAccessKey: string };
    secrets.push(cliKey.secretAccessKey);
    const table = await run(['audit', 'list', '--db', harness.dbPath, '--account', ACCOUNT_A.accountId]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^SEQ\s+TIME\s+ACCESS KEY\s+OPERATION\s+RESOURCE\s+RESULT$/);
    expect(lines[lines.length - 1]).toMatch(
      new RegExp(`^\\d+\\s+\\S+Z\\s+-\\s+CreateAccessKey\\s+accessKeyId=${cliKey.accessKeyId}\\s+OK$`),
    );
    const json = JSON.parse(
      (await run(['audit', 'list', '--db', harness.dbPath, '--account', ACCOUNT_A.accountId, '--json', '--max', '2'])).stdout,
    ) as { auditEvents: Row[] };
    expect(json.auditEvents).toHaveLength(2);
    const help = await run(['audit', 'list', '--help']);
    expect(help.stdout).toContain('Examples:');
  });

  it("audits the operator CLI's account bootstrap writes, refusals included", async () => {
    const db = ['--db', harness.dbPath];
    const cred = await run(['account', 'add-credential', ...db, '--account', ACCOUNT_A.accountId]);
    expect(cred.code).toBe(0);
    const added = JSON.parse(cred.stdout) as { accessKeyId: string; secretAccessKey: string };
    secrets.push(added.secretAccessKey);
    expect((await run(['account', 'add-domain', 'devices.example.com', ...db, '--account', ACCOUNT_A.accountId])).code).toBe(0);
    expect((await run(['account', 'add-domain', 'devices.example.com', ...db, '--account', ACCOUNT_A.accountId])).code).toBe(3);
    expect((await run(['account', 'remove-domain', 'devices.example.com', ...db, '--account', ACCOUNT_A.accountId])).code).toBe(0);
    const rows = (await auditOf(ACCOUNT_A)).auditEvents.slice(-4);
    expect(rows.map((r) => [r.accessKeyId, r.operation, r.resource, r.result])).toEqual([
      [undefined, 'CreateAccessKey', `accessKeyId=${added.accessKeyId}`, 'OK'],
      [undefined, 'AddDomain', 'domainName=devices.example.com', 'OK'],
      [undefined, 'AddDomain', 'domainName=devices.example.com', 'ResourceAlreadyExistsException'],
      [undefined, 'RemoveDomain', 'domainName=devices.example.com', 'OK'],
    ]);
    const created = await run(['account', 'create', ...db, '--account-id', '444444444444']);
    expect(created.code).toBe(0);
    const account = JSON.parse(created.stdout) as { accessKeyId: string; secretAccessKey: string };
    secrets.push(account.secretAccessKey);
    expect(
      (await harness.registry.listAudit('444444444444', 0, 10)).map((r) => [r.accessKeyId, r.operation, r.resource, r.result]),
    ).toEqual([[null, 'CreateAccount', `accessKeyId=${account.accessKeyId}`, 'OK']]);
  });

  it('never stores a secret: no audit row contains a secret key or private key used here', () => {
    const db = new Database(harness.dbPath, { readonly: true });
    try {
      const rows = db.prepare('SELECT * FROM audit_log').all() as Record<string, unknown>[];
      expect(rows.length).toBeGreaterThanOrEqual(14);
      const text = rows.map((r) => Object.values(r).join('\u0000')).join('\n');
      expect(secrets.length).toBeGreaterThanOrEqual(8);
      for (const secret of secrets) {
        expect(secret.length).toBeGreaterThanOrEqual(16);
        expect(text).not.toContain(secret);
      }
    } finally {
      db.close();
    }
  });
});
