/**
 * Access keys over the admin API (branch keys): several keys per account, read-only keys
 * refused on writes with the real @aws-sdk/client-iot, rotation, deactivation, deletion,
 * and the account boundary.
 */
import { CreatePolicyCommand, GetPolicyCommand, ListCertificatesCommand, DescribeEndpointCommand, IoTClient } from '@aws-sdk/client-iot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_A, ACCOUNT_B, REGION, sdkError, signedFetch, startAdmin, type AdminHarness, type TestAccount } from './harness.js';

describe('access keys over the admin API', () => {
  let harness: AdminHarness;

  beforeAll(async () => {
    harness = await startAdmin();
  });
  afterAll(async () => {
    await harness.close();
  });

  async function createKey(as: TestAccount, readOnly?: boolean): Promise<TestAccount> {
    const res = await signedFetch(harness, as, {
      method: 'POST',
      path: '/certgate/access-keys',
      body: JSON.stringify(readOnly === undefined ? {} : { readOnly }),
    });
    expect(res.status).toBe(200);
    const key = res.json?.['accessKey'] as Record<string, unknown>;
    expect(key).toMatchObject({ accountId: as.accountId, scope: readOnly ? 'READ_ONLY' : 'FULL', status: 'ACTIVE' });
    expect(typeof key['secretAccessKey']).toBe('string');
    return { ...as, accessKeyId: String(key['accessKeyId']), secretAccessKey: String(key['secretAccessKey']) };
  }

  const client = (key: TestAccount) => harness.client(key);

  it('lets a read-only key read and refuses its writes with AccessDeniedException, writing nothing', async () => {
    const reader = await createKey(ACCOUNT_A, true);
    const ro = client(reader);
    expect((await ro.send(new ListCertificatesCommand({}))).certificates).toEqual([]);
    expect((await ro.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }))).endpointAddress).toContain(
      ACCOUNT_A.endpointPrefix,
    );

    const denied = await sdkError(ro.send(new CreatePolicyCommand({ policyName: 'ro-policy', policyDocument: '{}' })));
    expect(denied).toMatchObject({ name: 'AccessDeniedException', status: 403 });
    expect(denied.message).toBe(
      `Access key ${reader.accessKeyId} is read-only: it may call List*, Describe* and Get* operations, not CreatePolicy.`,
    );
    expect((await sdkError(client(ACCOUNT_A).send(new GetPolicyCommand({ policyName: 'ro-policy' })))).name).toBe(
      'ResourceNotFoundException',
    );

    // It cannot mint itself a full key either.
    const escalate = await signedFetch(harness, reader, { method: 'POST', path: '/certgate/access-keys', body: '{}' });
    expect(escalate).toMatchObject({ status: 403, errorType: 'AccessDeniedException' });
    // But it may list the account's keys, which never show a secret.
    const listed = await signedFetch(harness, reader, { method: 'GET', path: '/certgate/access-keys' });
    expect(listed.status).toBe(200);
    expect(listed.body).not.toContain(reader.secretAccessKey);
    expect(listed.body).not.toContain(ACCOUNT_A.secretAccessKey);
    expect(listed.body).not.toContain('secretAccessKey');
    const ids = ((listed.json?.['accessKeys'] ?? []) as { accessKeyId: string; scope: string }[]).map((k) => [k.accessKeyId, k.scope]);
    expect(ids).toEqual(
      expect.arrayContaining([
        [ACCOUNT_A.accessKeyId, 'FULL'],
        [reader.accessKeyId, 'READ_ONLY'],
      ]),
    );
  });

  it('rotates a key: both work, the old one is deactivated, then deleted; the last active full key cannot go', async () => {
    const fresh = await createKey(ACCOUNT_B);
    for (const key of [ACCOUNT_B, fresh]) expect((await client(key).send(new ListCertificatesCommand({}))).certificates).toEqual([]);

    const deactivated = await signedFetch(harness, fresh, {
      method: 'PATCH',
      path: `/certgate/access-keys/${ACCOUNT_B.accessKeyId}`,
      body: '{"status":"INACTIVE"}',
    });
    expect(deactivated.status).toBe(200);
    expect(deactivated.json?.['accessKey']).toMatchObject({ accessKeyId: ACCOUNT_B.accessKeyId, status: 'INACTIVE' });
    const inactive = await sdkError(client(ACCOUNT_B).send(new ListCertificatesCommand({})));
    expect(inactive).toMatchObject({ name: 'UnrecognizedClientException', status: 403 });
    expect(inactive.message).toContain('is inactive');

    const deleted = await signedFetch(harness, fresh, { method: 'DELETE', path: `/certgate/access-keys/${ACCOUNT_B.accessKeyId}` });
    expect(deleted.status).toBe(200);
    expect((await sdkError(client(ACCOUNT_B).send(new ListCertificatesCommand({})))).name).toBe('UnrecognizedClientException');

    const last = await signedFetch(harness, fresh, { method: 'DELETE', path: `/certgate/access-keys/${fresh.accessKeyId}` });
    expect(last).toMatchObject({ status: 409, errorType: 'DeleteConflictException' });
    expect(last.json?.['message']).toContain('last active full-access key');
    const stillLast = await signedFetch(harness, fresh, {
      method: 'PATCH',
      path: `/certgate/access-keys/${fresh.accessKeyId}`,
      body: '{"status":"INACTIVE"}',
    });
    expect(stillLast).toMatchObject({ status: 409, errorType: 'DeleteConflictException' });
    expect((await client(fresh).send(new ListCertificatesCommand({}))).certificates).toEqual([]);
    // One audit row per call, written with the change (or after the refusal).
    expect(
      (await harness.registry.listAudit(ACCOUNT_B.accountId, 0, 100)).map((e) => [e.accessKeyId, e.operation, e.resource, e.result]),
    ).toEqual([
      [ACCOUNT_B.accessKeyId, 'CreateAccessKey', `accessKeyId=${fresh.accessKeyId}`, 'OK'],
      [fresh.accessKeyId, 'UpdateAccessKey', `accessKeyId=${ACCOUNT_B.accessKeyId}`, 'OK'],
      [fresh.accessKeyId, 'DeleteAccessKey', `accessKeyId=${ACCOUNT_B.accessKeyId}`, 'OK'],
      [fresh.accessKeyId, 'DeleteAccessKey', `accessKeyId=${fresh.accessKeyId}`, 'DeleteConflictException'],
      [fresh.accessKeyId, 'UpdateAccessKey', `accessKeyId=${fresh.accessKeyId}`, 'DeleteConflictException'],
    ]);
  });

  it("manages only the caller's own keys", async () => {
    const other = await createKey(ACCOUNT_A);
    for (const req of [
      { method: 'PATCH', path: `/certgate/access-keys/${other.accessKeyId}`, body: '{"status":"INACTIVE"}' },
      { method: 'DELETE', path: `/certgate/access-keys/${other.accessKeyId}` },
    ]) {
      const b = (await harness.registry.listCredentials(ACCOUNT_B.accountId)).find((k) => k.status === 'ACTIVE' && k.scope === 'FULL');
      const res = await signedFetch(
        harness,
        { ...ACCOUNT_B, accessKeyId: b?.accessKeyId ?? '', secretAccessKey: b?.secretAccessKey ?? '' },
        req,
      );
      expect(res).toMatchObject({ status: 404, errorType: 'ResourceNotFoundException' });
    }
    expect((await harness.registry.getCredential(other.accessKeyId))?.status).toBe('ACTIVE');
  });

  it('refuses malformed key requests with InvalidRequestException', async () => {
    const cases = [
      {
        method: 'PATCH',
        path: `/certgate/access-keys/${ACCOUNT_A.accessKeyId}`,
        body: '{"status":"BOGUS"}',
        message: 'status must be one of ACTIVE, INACTIVE',
      },
      { method: 'PATCH', path: `/certgate/access-keys/${ACCOUNT_A.accessKeyId}`, body: '{}', message: 'status is required' },
      { method: 'DELETE', path: '/certgate/access-keys/short', message: 'accessKeyId must be 16-128' },
      { method: 'POST', path: '/certgate/access-keys', body: '{"readOnly":"yes"}', message: 'readOnly must be a boolean' },
    ];
    for (const { message, ...req } of cases) {
      const res = await signedFetch(harness, ACCOUNT_A, req);
      expect(res).toMatchObject({ status: 400, errorType: 'InvalidRequestException' });
      expect(res.json?.['message']).toContain(message);
    }
    expect((await harness.registry.getCredential(ACCOUNT_A.accessKeyId))?.status).toBe('ACTIVE');
  });

  it('keeps refusing a key that never existed', async () => {
    const ghost = new IoTClient({
      region: REGION,
      endpoint: harness.url,
      credentials: { accessKeyId: 'AKIAGHOST0000000000', secretAccessKey: 'ghost-secret-000000' },
      maxAttempts: 1,
    });
    expect((await sdkError(ghost.send(new ListCertificatesCommand({})))).name).toBe('UnrecognizedClientException');
    ghost.destroy();
  });
});
