import {
  DescribeCertificateCommand,
  ListCertificatesCommand,
  RegisterCertificateWithoutCACommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REQUEST_BODY_BYTES } from '../../ts/control/http.js';
import { ACCOUNT_A, sdkError, signedFetch, startAdmin, type AdminHarness } from './harness.js';
import { makeSelfSigned } from './pki-fixtures.js';

describe('bad input to the admin API', () => {
  let harness: AdminHarness;
  let a: IoTClient;
  let knownId: string;

  beforeAll(async () => {
    harness = await startAdmin();
    a = harness.client(ACCOUNT_A);
    knownId = (await a.send(new RegisterCertificateWithoutCACommand({ certificatePem: makeSelfSigned(1) }))).certificateId ?? '';
  });
  afterAll(async () => {
    await harness.close();
  });

  /** Every bad request must leave the registry exactly as it was. */
  async function snapshot(): Promise<string> {
    const page = await harness.registry.listCertificates(ACCOUNT_A.accountId, { pageSize: 250, ascending: true });
    return JSON.stringify(page.items);
  }

  async function expect400(req: Parameters<typeof signedFetch>[2], errorType: string, messagePart: string): Promise<void> {
    const before = await snapshot();
    const res = await signedFetch(harness, ACCOUNT_A, req);
    expect([res.status, res.errorType]).toEqual([400, errorType]);
    expect(String(res.json?.['message'])).toContain(messagePart);
    expect(res.requestId).toBeTruthy();
    expect(await snapshot()).toBe(before);
  }

  it('answers a malformed PEM with CertificateValidationException', async () => {
    const body = JSON.stringify({ certificatePem: '-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n' });
    await expect400({ method: 'POST', path: '/certificate/register-no-ca', body }, 'CertificateValidationException', 'certificatePem');
    await expect400(
      { method: 'POST', path: '/certificate/register-no-ca', body: JSON.stringify({ certificatePem: 'hello' }) },
      'CertificateValidationException',
      'does not contain a PEM certificate',
    );
    const two = makeSelfSigned(2) + makeSelfSigned(3);
    await expect400(
      { method: 'POST', path: '/certificate/register-no-ca', body: JSON.stringify({ certificatePem: two }) },
      'CertificateValidationException',
      'exactly one certificate',
    );
  });

  it('answers an oversized body with InvalidRequestException before reading it all', async () => {
    const body = JSON.stringify({ certificatePem: 'A'.repeat(MAX_REQUEST_BODY_BYTES + 10) });
    await expect400({ method: 'POST', path: '/certificate/register-no-ca', body }, 'InvalidRequestException', 'exceeds the limit');
  });

  it('answers a PEM over 65536 characters with InvalidRequestException', async () => {
    const body = JSON.stringify({ certificatePem: 'A'.repeat(65537) });
    await expect400({ method: 'POST', path: '/certificate/register-no-ca', body }, 'InvalidRequestException', 'at most 65536');
  });

  it('answers wrong JSON types and non-object bodies with InvalidRequestException', async () => {
    await expect400(
      { method: 'POST', path: '/certificate/register-no-ca', body: JSON.stringify({ certificatePem: 42 }) },
      'InvalidRequestException',
      'must be a string',
    );
    await expect400(
      { method: 'POST', path: '/certificate/register-no-ca', body: JSON.stringify({ certificatePem: makeSelfSigned(4), status: 7 }) },
      'InvalidRequestException',
      'status',
    );
    await expect400({ method: 'POST', path: '/certificate/register-no-ca', body: '[1,2]' }, 'InvalidRequestException', 'JSON object');
    await expect400(
      { method: 'POST', path: '/certificate/register-no-ca', body: '{"certificatePem": ' },
      'InvalidRequestException',
      'not valid JSON',
    );
    await expect400(
      { method: 'POST', path: '/certificate/register-no-ca', body: '{}' },
      'InvalidRequestException',
      'certificatePem is required',
    );
    await expect400(
      {
        method: 'POST',
        path: '/cacertificate',
        body: JSON.stringify({ caCertificate: makeSelfSigned(5), certificateMode: 'SNI_ONLY', tags: 'x' }),
      },
      'InvalidRequestException',
      'tags must be a list',
    );
  });

  it('answers unknown query values with InvalidRequestException', async () => {
    await expect400(
      { method: 'PUT', path: `/certificates/${knownId}`, query: { newStatus: 'BROKEN' } },
      'InvalidRequestException',
      'newStatus must be one of ACTIVE, INACTIVE, REVOKED (got',
    );
    await expect400({ method: 'PUT', path: `/certificates/${knownId}` }, 'InvalidRequestException', 'newStatus is required');
    await expect400(
      { method: 'GET', path: '/certificates', query: { isAscendingOrder: 'maybe' } },
      'InvalidRequestException',
      'true or false',
    );
    await expect400({ method: 'GET', path: '/certificates', query: { pageSize: '251' } }, 'InvalidRequestException', 'from 1 to 250');
    await expect400({ method: 'GET', path: '/certificates', query: { pageSize: '0' } }, 'InvalidRequestException', 'from 1 to 250');
    await expect400({ method: 'GET', path: '/certificates', query: { marker: 'not a marker!' } }, 'InvalidRequestException', 'marker');
    await expect400(
      { method: 'GET', path: '/certificates', query: { marker: 'bm90LWEtbWFya2Vy' } },
      'InvalidRequestException',
      'nextMarker',
    );
    await expect400(
      { method: 'GET', path: '/endpoint', query: { endpointType: 'iot:Nope' } },
      'InvalidRequestException',
      'Endpoint type iot:Nope not recognized.',
    );
    await expect400(
      {
        method: 'POST',
        path: '/certificate/register',
        query: { setAsActive: 'yes' },
        body: JSON.stringify({ certificatePem: makeSelfSigned(6) }),
      },
      'InvalidRequestException',
      'setAsActive',
    );
  });

  it('answers a malformed certificate id in the path with InvalidRequestException', async () => {
    const failure = await sdkError(a.send(new DescribeCertificateCommand({ certificateId: 'xyz'.repeat(22) })));
    expect([failure.name, failure.status]).toEqual(['InvalidRequestException', 400]);
    await expect400({ method: 'DELETE', path: '/certificates/1234' }, 'InvalidRequestException', '64 hexadecimal');
  });

  it('answers an unknown path with 404 UnknownOperationException', async () => {
    const res = await signedFetch(harness, ACCOUNT_A, { method: 'GET', path: '/no-such-operation' });
    expect([res.status, res.errorType]).toEqual([404, 'UnknownOperationException']);
  });

  it('answers a path with broken percent-encoding with InvalidRequestException', async () => {
    await expect400({ method: 'GET', path: '/certificates/%zz' }, 'InvalidRequestException', 'not valid percent-encoding');
  });

  it('routes a long percent-encoded path parameter to its operation, which validates it', async () => {
    const res = await signedFetch(harness, ACCOUNT_A, { method: 'DELETE', path: `/things/${'%41'.repeat(200)}/principals` });
    expect([res.status, res.errorType]).toEqual([400, 'InvalidRequestException']);
    expect(String(res.json?.['message'])).toContain('thingName');
  });

  it('answers an empty path parameter (a trailing slash) with 404 UnknownOperationException, not a validation error', async () => {
    const res = await signedFetch(harness, ACCOUNT_A, { method: 'DELETE', path: '/certificates/' });
    expect([res.status, res.errorType]).toEqual([404, 'UnknownOperationException']);
  });

  it('reads a body whatever its content type: SigV4 signs the bytes', async () => {
    const body = JSON.stringify({ certificatePem: 'hello' });
    await expect400(
      { method: 'POST', path: '/certificate/register-no-ca', body, headers: { 'content-type': 'text/plain' } },
      'CertificateValidationException',
      'does not contain a PEM certificate',
    );
    await expect400(
      { method: 'POST', path: '/certificate/register-no-ca', body, headers: { 'content-type': 'application/x-amz-json-1.1' } },
      'CertificateValidationException',
      'does not contain a PEM certificate',
    );
  });

  it('still lists exactly the one good certificate afterwards', async () => {
    const page = await a.send(new ListCertificatesCommand({}));
    expect(page.certificates?.map((c) => c.certificateId)).toEqual([knownId]);
  });
});
