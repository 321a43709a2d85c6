/**
 * CreateKeysAndCertificate and CreateCertificateFromCsr
 * (https://docs.aws.amazon.com/iot/latest/apireference/API_CreateKeysAndCertificate.html,
 * https://docs.aws.amazon.com/iot/latest/apireference/API_CreateCertificateFromCsr.html): keys and
 * randomness from node:crypto, the certificate built and signed by the engine with the
 * account's issuing CA: one the operator imported, else certgate's own (issuing-ca.ts).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { certificateArn, type ControlContext } from '../context.js';
import { AwsError } from '../errors.js';
import type { Route } from '../router.js';
import { bodyString, queryBool, type ApiRequest } from '../validate.js';
import { issuingCaFor } from './issuing-ca.js';

/** CSRs are at most 4096 characters (https://docs.aws.amazon.com/iot/latest/apireference/API_CreateCertificateFromCsr.html). */
export const MAX_CSR_CHARS = 4096;
/**
 * AWS issues with notBefore about two minutes before creation (the example output of
 * https://docs.aws.amazon.com/cli/latest/reference/iot/describe-certificate.html).
 */
const BACKDATE_SECONDS = 120;

/** Record an issued certificate, with the validity the engine actually wrote into it. */
async function store(
  ctx: ControlContext,
  req: ApiRequest,
  issued: { certificateId: string; certificatePem: string },
  active: boolean,
): Promise<void> {
  const info = ctx.engine.inspect(Buffer.from(issued.certificatePem, 'utf8'));
  if (!info.ok) throw new AwsError('InternalFailureException', `The issued certificate does not parse: ${info.message}`);
  await ctx.registry.insertCertificate({
    accountId: req.accountId,
    certificateId: issued.certificateId,
    certificatePem: issued.certificatePem,
    notBefore: info.notBefore,
    notAfter: info.notAfter,
    status: active ? 'ACTIVE' : 'INACTIVE',
    certificateMode: 'DEFAULT',
    caCertificateId: null,
  });
}

async function createKeysAndCertificate(ctx: ControlContext, req: ApiRequest): Promise<Record<string, unknown>> {
  const active = queryBool(req, 'setAsActive') ?? false;
  const ca = await issuingCaFor(ctx, req.accountId);
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 65537 });
  const publicKey = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const privateKey = keys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const notBefore = Math.floor(ctx.now()) - BACKDATE_SECONDS;
  const issued = ctx.engine.issueCertificate(
    Buffer.from(publicKey, 'utf8'),
    Buffer.from(ca.certificatePem, 'utf8'),
    Buffer.from(ca.privateKeyPem, 'utf8'),
    randomBytes(20),
    notBefore,
  );
  if (!issued.ok) throw new AwsError('InternalFailureException', `Issuing the certificate failed: ${issued.message}`);
  await store(ctx, req, issued, active);
  return {
    certificateArn: certificateArn(ctx, req.accountId, issued.certificateId),
    certificateId: issued.certificateId,
    certificatePem: issued.certificatePem,
    keyPair: { PublicKey: publicKey, PrivateKey: privateKey },
  };
}

async function createCertificateFromCsr(ctx: ControlContext, req: ApiRequest): Promise<Record<string, unknown>> {
  const active = queryBool(req, 'setAsActive') ?? false;
  const csr = bodyString(req.body, 'certificateSigningRequest', { required: true, min: 1, max: MAX_CSR_CHARS }) ?? '';
  const ca = await issuingCaFor(ctx, req.accountId);
  const notBefore = Math.floor(ctx.now()) - BACKDATE_SECONDS;
  const issued = ctx.engine.issueFromCsr(
    Buffer.from(csr, 'utf8'),
    Buffer.from(ca.certificatePem, 'utf8'),
    Buffer.from(ca.privateKeyPem, 'utf8'),
    randomBytes(20),
    notBefore,
  );
  if (!issued.ok) throw new AwsError('InvalidRequestException', `The certificate signing request was refused: ${issued.message}`);
  await store(ctx, req, issued, active);
  return {
    certificateArn: certificateArn(ctx, req.accountId, issued.certificateId),
    certificateId: issued.certificateId,
    certificatePem: issued.certificatePem,
  };
}

export function issueRoutes(ctx: ControlContext): Route[] {
  return [
    {
      method: 'POST',
      template: '/keys-and-certificate',
      operation: 'CreateKeysAndCertificate',
      handler: (r) => createKeysAndCertificate(ctx, r),
    },
    { method: 'POST', template: '/certificates', operation: 'CreateCertificateFromCsr', handler: (r) => createCertificateFromCsr(ctx, r) },
  ];
}
