import { request } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { GetRegistrationCodeCommand, IoTClient } from '@aws-sdk/client-iot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalQuery, canonicalUri, computeSignature, verifySigV4 } from '../../ts/control/sigv4.js';
import { ACCOUNT_A, REGION, sdkError, Sha256, startAdmin, type AdminHarness } from './harness.js';

describe('SigV4 canonical form', () => {
  it('reproduces the botocore test vector of the spec', () => {
    const signature = computeSignature(
      {
        method: 'GET',
        rawPath: `/certificates/${'d'.repeat(64)}`,
        rawQuery: '',
        headers: { host: '127.0.0.1:18080', 'x-amz-date': '20261127T092703Z' },
        body: Buffer.alloc(0),
      },
      'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      { date: '20261127', region: 'us-east-1', service: 'iot' },
      ['host', 'x-amz-date'],
      '20261127T092703Z',
    );
    expect(signature).toBe('88fa9be45754c6e0a59e2bf6bc5c69a0ec1a104d023c1fc67e1f0a51ae35d4dc');
  });

  it('encodes each wire path segment once more, so an encoded ARN is double-encoded', () => {
    expect(canonicalUri('/attached-policies/arn%3Aaws%3Aiot%3Aus-east-1%3A1%3Acert%2Fab')).toBe(
      '/attached-policies/arn%253Aaws%253Aiot%253Aus-east-1%253A1%253Acert%252Fab',
    );
  });

  it('sorts and re-encodes query pairs', () => {
    expect(canonicalQuery('pageSize=5&marker=ab%2Bc%2F%3D')).toBe('marker=ab%2Bc%2F%3D&pageSize=5');
    expect(canonicalQuery('endpointType=iot%3AData-ATS')).toBe('endpointType=iot%3AData-ATS');
  });

  it('refuses a body whose hash differs from the signed x-amz-content-sha256', async () => {
    const headers = {
      host: 'h',
      'x-amz-date': '20261127T092703Z',
      'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    };
    const signed = { method: 'POST', rawPath: '/certificate/register-no-ca', rawQuery: '', headers, body: Buffer.alloc(0) };
    const signature = computeSignature(
      signed,
      'secret',
      { date: '20261127', region: 'us-east-1', service: 'iot' },
      ['host', 'x-amz-content-sha256', 'x-amz-date'],
      '20261127T092703Z',
    );
    const authorization = `AWS4-HMAC-SHA256 Credential=AK/20261127/us-east-1/iot/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${signature}`;
    const at = Date.UTC(2026, 10, 27, 9, 27, 3);
    const honest = await verifySigV4({ ...signed, headers: { ...headers, authorization } }, async () => 'secret', at);
    expect(honest.ok).toBe(true);
    const swapped = await verifySigV4(
      { ...signed, headers: { ...headers, authorization }, body: Buffer.from('{"certificatePem":"x"}') },
      async () => 'secret',
      at,
    );
    expect(swapped).toMatchObject({ ok: false, errorType: 'InvalidSignatureException' });
  });

  it('refuses a request without Authorization as MissingAuthenticationTokenException', async () => {
    const result = await verifySigV4({ method: 'GET', rawPath: '/', rawQuery: '', headers: {}, body: Buffer.alloc(0) }, async () => 'x');
    expect(result).toMatchObject({ ok: false, errorType: 'MissingAuthenticationTokenException' });
  });
});

describe('SigV4 at the admin API', () => {
  let harness: AdminHarness;
  beforeAll(async () => {
    harness = await startAdmin();
  });
  afterAll(async () => {
    await harness.close();
  });

  /** Send GET /registrationcode signed by an independent signer (@smithy/signature-v4). */
  async function signedGet(opts: { service?: string; region?: string; secret?: string; accessKeyId?: string; date?: Date; path?: string }) {
    const url = new URL(harness.url);
    const signer = new SignatureV4({
      service: opts.service ?? 'iot',
      region: opts.region ?? REGION,
      credentials: { accessKeyId: opts.accessKeyId ?? ACCOUNT_A.accessKeyId, secretAccessKey: opts.secret ?? ACCOUNT_A.secretAccessKey },
      sha256: Sha256,
    });
    const signed = await signer.sign(
      {
        method: 'GET',
        protocol: 'http:',
        hostname: url.hostname,
        port: Number(url.port),
        path: opts.path ?? '/registrationcode',
        headers: { host: url.host },
        query: {},
      },
      opts.date ? { signingDate: opts.date } : {},
    );
    return new Promise<{ status: number; errorType: string | undefined; requestId: string | undefined; body: string }>(
      (resolve, reject) => {
        const req = request(
          { host: url.hostname, port: url.port, method: 'GET', path: opts.path ?? '/registrationcode', headers: signed.headers },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                errorType: res.headers['x-amzn-errortype'] as string | undefined,
                requestId: res.headers['x-amzn-requestid'] as string | undefined,
                body,
              }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
  }

  it('accepts both the iot and the execute-api signing names', async () => {
    expect((await signedGet({ service: 'iot' })).status).toBe(200);
    expect((await signedGet({ service: 'execute-api' })).status).toBe(200);
  });

  it('refuses another signing name with InvalidSignatureException', async () => {
    const res = await signedGet({ service: 's3' });
    expect([res.status, res.errorType]).toEqual([403, 'InvalidSignatureException']);
    expect(JSON.parse(res.body).message).toContain("scoped to correct service: 'iot'");
  });

  it('refuses a wrong secret with InvalidSignatureException and an unknown key with UnrecognizedClientException', async () => {
    const bad = await signedGet({ secret: 'not-the-secret' });
    expect([bad.status, bad.errorType]).toEqual([403, 'InvalidSignatureException']);
    const unknown = await signedGet({ accessKeyId: 'AKIDUNKNOWN' });
    expect([unknown.status, unknown.errorType]).toEqual([403, 'UnrecognizedClientException']);
    expect(unknown.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses a signature dated more than five minutes away', async () => {
    const late = await signedGet({ date: new Date(Date.now() - 6 * 60 * 1000) });
    expect([late.status, late.errorType]).toEqual([403, 'InvalidSignatureException']);
    const early = await signedGet({ date: new Date(Date.now() + 6 * 60 * 1000) });
    expect(early.status).toBe(403);
    expect((await signedGet({ date: new Date(Date.now() - 4 * 60 * 1000) })).status).toBe(200);
  });

  it('refuses a credential scoped to another region', async () => {
    const res = await signedGet({ region: 'eu-west-1' });
    expect([res.status, res.errorType]).toEqual([403, 'InvalidSignatureException']);
  });

  it('answers an unsigned request with 403 MissingAuthenticationTokenException and a request id', async () => {
    const url = new URL(harness.url);
    const res = await fetch(new URL('/registrationcode', url));
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(res.headers.get('x-amzn-requestid')).toBeTruthy();
  });

  it('takes the account from the credential', async () => {
    const client = new IoTClient({
      region: REGION,
      endpoint: harness.url,
      credentials: { accessKeyId: 'AKIDWRONG', secretAccessKey: ACCOUNT_A.secretAccessKey },
      maxAttempts: 1,
    });
    const failure = await sdkError(client.send(new GetRegistrationCodeCommand({})));
    expect([failure.name, failure.status]).toEqual(['UnrecognizedClientException', 403]);
    client.destroy();
    const codeA = await harness.client(ACCOUNT_A).send(new GetRegistrationCodeCommand({}));
    expect(codeA.registrationCode).toBe(await harness.registry.getRegistrationCode(ACCOUNT_A.accountId));
  });
});
