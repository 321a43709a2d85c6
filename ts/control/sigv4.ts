/**
 * Server-side AWS Signature Version 4 verification for the admin API
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html).
 *
 * Peculiarities checked against the Debian AWS CLI 2.9.19, botocore 1.43 and
 * @aws-sdk/client-iot 3.x:
 * - the canonical URI is the path *as it arrived on the wire*, each segment
 *   percent-encoded once more ("double encoding": `%3A` is signed as `%253A`);
 * - the signing service is `execute-api` (older models) or `iot` (newer ones); both count;
 * - the payload hash is `x-amz-content-sha256` when present, else SHA-256 of the body.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The signing names the IoT control plane has used: `iot` in current service models
 * (https://github.com/boto/botocore/blob/develop/botocore/data/iot/2015-05-28/service-2.json),
 * `execute-api` in older ones (Debian's AWS CLI 2.9 still signs with it).
 */
export const ACCEPTED_SERVICES: readonly string[] = ['iot', 'execute-api'];
/** SigV4 norm: a request dated more than 5 minutes from the server clock is refused. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** What the verifier needs from a request. `rawPath`/`rawQuery` are exactly as received. */
export interface SignedRequest {
  method: string;
  rawPath: string;
  rawQuery: string;
  /** Lower-cased header names; repeated headers joined with `,`. */
  headers: Record<string, string | undefined>;
  body: Buffer;
}

/** A refusal, named as AWS names it; all are HTTP 403. */
export interface SigV4Refusal {
  ok: false;
  errorType:
    'MissingAuthenticationTokenException' | 'IncompleteSignatureException' | 'InvalidSignatureException' | 'UnrecognizedClientException';
  message: string;
}

export type SigV4Result = { ok: true; accessKeyId: string; region: string; service: string } | SigV4Refusal;

/** Look up the secret of an access key (null when unknown). */
export type SecretLookup = (accessKeyId: string) => Promise<string | null>;

const AUTH_PATTERN =
  /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request\s*,\s*SignedHeaders=([a-z0-9;\-_.]+)\s*,\s*Signature=([0-9a-f]{64})\s*$/;
const AMZ_DATE_PATTERN = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

function refuse(errorType: SigV4Refusal['errorType'], message: string): SigV4Refusal {
  return { ok: false, errorType, message };
}

/** RFC 3986 encoding with the SigV4 unreserved set (`A-Za-z0-9-_.~`). */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Canonical URI: every wire segment encoded once more (so `%` becomes `%25`). */
export function canonicalUri(rawPath: string): string {
  const path = rawPath === '' ? '/' : rawPath;
  return path
    .split('/')
    .map((segment) => uriEncode(segment))
    .join('/');
}

function decodeQueryComponent(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, '%20'));
  } catch {
    return value;
  }
}

/** Canonical query: decode each pair, re-encode, sort by key then value. */
export function canonicalQuery(rawQuery: string): string {
  if (rawQuery === '') return '';
  const pairs = rawQuery
    .split('&')
    .filter((p) => p !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const key = eq === -1 ? pair : pair.slice(0, eq);
      const value = eq === -1 ? '' : pair.slice(eq + 1);
      return [uriEncode(decodeQueryComponent(key)), uriEncode(decodeQueryComponent(value))] as const;
    });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** The signature a client holding `secret` computes for `request` (exported for tests). */
export function computeSignature(
  request: SignedRequest,
  secret: string,
  scope: { date: string; region: string; service: string },
  signedHeaders: readonly string[],
  amzDate: string,
): string {
  const canonicalHeaders = signedHeaders.map((name) => `${name}:${(request.headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const payloadHash = request.headers['x-amz-content-sha256'] ?? sha256Hex(request.body);
  const canonicalRequest = [
    request.method,
    canonicalUri(request.rawPath),
    canonicalQuery(request.rawQuery),
    canonicalHeaders,
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  const credentialScope = `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, credentialScope, sha256Hex(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, scope.date), scope.region), scope.service), 'aws4_request');
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

/**
 * What the headers of a signed request claim, checked as far as possible without its
 * body (the secret is looked up): the rest is {@link verifySigV4Body}.
 */
export interface SigV4Claim {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  secret: string;
}

/** Verify the request's SigV4 `Authorization` header against the stored secret. */
export async function verifySigV4(request: SignedRequest, lookup: SecretLookup, nowMs: number = Date.now()): Promise<SigV4Result> {
  const claim = await verifySigV4Headers(request, lookup, nowMs);
  return claim.ok ? verifySigV4Body(request, claim.claim) : claim;
}

/**
 * Every check that needs only the headers: the Authorization syntax, the service, the
 * date and clock skew, the signed host, and that the access key exists. The admin API
 * runs it before reading a body, so an unsigned, unknown-key or expired request is
 * refused without the server holding its body (issue 14).
 */
export async function verifySigV4Headers(
  request: Omit<SignedRequest, 'body'>,
  lookup: SecretLookup,
  nowMs: number = Date.now(),
): Promise<{ ok: true; claim: SigV4Claim } | SigV4Refusal> {
  const authorization = request.headers['authorization'];
  if (authorization === undefined || authorization === '') {
    return refuse('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  const match = AUTH_PATTERN.exec(authorization);
  if (!match) {
    return refuse(
      'IncompleteSignatureException',
      'Authorization header requires AWS4-HMAC-SHA256 with Credential, SignedHeaders and Signature parameters.',
    );
  }
  const [, accessKeyId = '', date = '', region = '', service = '', signedHeaderList = '', signature = ''] = match;
  if (!ACCEPTED_SERVICES.includes(service)) {
    return refuse('InvalidSignatureException', "Credential should be scoped to correct service: 'iot'.");
  }
  const amzDate = request.headers['x-amz-date'];
  const parts = amzDate === undefined ? null : AMZ_DATE_PATTERN.exec(amzDate);
  if (amzDate === undefined || !parts) {
    return refuse('IncompleteSignatureException', 'The request must carry an X-Amz-Date header in the form yyyymmddTHHMMSSZ.');
  }
  if (!amzDate.startsWith(date)) {
    return refuse('InvalidSignatureException', 'Credential date does not match the X-Amz-Date header.');
  }
  const [, y, mo, d, h, mi, s] = parts.map(Number);
  const signedAt = Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 0, h ?? 0, mi ?? 0, s ?? 0);
  if (Math.abs(nowMs - signedAt) > MAX_CLOCK_SKEW_MS) {
    return refuse(
      'InvalidSignatureException',
      `Signature expired: ${amzDate} is more than 5 minutes away from the server time ${new Date(nowMs).toISOString()}.`,
    );
  }
  const signedHeaders = signedHeaderList.split(';');
  if (!signedHeaders.includes('host')) {
    return refuse('InvalidSignatureException', 'The host header must be signed.');
  }
  const secret = await lookup(accessKeyId);
  if (secret === null) {
    return refuse('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  return { ok: true, claim: { accessKeyId, date, region, service, signedHeaders, signature, amzDate, secret } };
}

/** The checks that need the body: the claimed payload hash, then the signature itself. */
export function verifySigV4Body(request: SignedRequest, claim: SigV4Claim): SigV4Result {
  const { accessKeyId, date, region, service, signedHeaders, signature, amzDate, secret } = claim;
  // The signature covers the claimed payload hash; the body must really have it, or a
  // captured request could be replayed with another body.
  const claimed = request.headers['x-amz-content-sha256'];
  if (claimed !== undefined && claimed !== sha256Hex(request.body)) {
    return refuse('InvalidSignatureException', 'The x-amz-content-sha256 header does not match the SHA-256 of the request body.');
  }
  const expected = computeSignature(request, secret, { date, region, service }, signedHeaders, amzDate);
  const given = Buffer.from(signature, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected, 'utf8'))) {
    return refuse(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
  }
  return { ok: true, accessKeyId, region, service };
}
