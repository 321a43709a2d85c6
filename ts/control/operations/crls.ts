/**
 * Certificate revocation lists per registered CA (branch crl): certgate's own operations
 * under `/certgate/...` (AWS IoT has no CRL API), SigV4-signed like the rest. The body
 * of a PUT is the CRL itself (DER, or PEM with an `X509 CRL` block and optionally the
 * delegated signer's certificate), not JSON.
 */
import { replaceCrl } from '../../crl/replace.js';
import type { CaCrlMeta } from '../../registry/types.js';
import type { ControlContext } from '../context.js';
import { AwsError } from '../errors.js';
import type { Route } from '../router.js';
import { certificateIdParam, type ApiRequest } from '../validate.js';

/**
 * Largest CRL body: the engine's `max_crl_bytes` (64 MiB, docs/errors.md CRL_TOO_LARGE)
 * plus room for a delegated signer's certificate in the same PEM.
 */
export const MAX_CRL_BODY_BYTES = 64 * 1024 * 1024 + 64 * 1024;

/** The JSON an operator sees for a stored CRL. */
export function crlDescription(meta: CaCrlMeta): Record<string, unknown> {
  return {
    caCertificateId: meta.caCertificateId,
    crlId: meta.crlId,
    crlNumber: meta.crlNumber,
    thisUpdate: meta.thisUpdate,
    nextUpdate: meta.nextUpdate,
    entries: meta.entries,
    source: meta.source,
    sourceUrl: meta.sourceUrl,
    verifiedAt: meta.verifiedAt,
    updatedAt: meta.updatedAt,
  };
}

async function putCaCrl(ctx: ControlContext, req: ApiRequest): Promise<Record<string, unknown>> {
  const caCertificateId = certificateIdParam(req, 'caCertificateId');
  const bytes = req.raw ?? new Uint8Array();
  if (bytes.length === 0)
    throw new AwsError('InvalidRequestException', 'The request body must be the CRL (DER, or PEM with an X509 CRL block).');
  const result = await replaceCrl(
    ctx.registry,
    ctx.engine,
    { accountId: req.accountId, caCertificateId, bytes, source: 'UPLOAD', sourceUrl: null },
    ctx.now(),
  );
  if (!result.ok) {
    if (result.code === 'CA_NOT_FOUND') throw new AwsError('ResourceNotFoundException', result.message);
    throw new AwsError('InvalidRequestException', `The CRL was refused (${result.code}): ${result.message}`, { crlErrorCode: result.code });
  }
  return { crl: crlDescription(result.meta) };
}

async function describeCaCrl(ctx: ControlContext, req: ApiRequest): Promise<Record<string, unknown>> {
  const caCertificateId = certificateIdParam(req, 'caCertificateId');
  const meta = await ctx.registry.getCaCrlMeta(req.accountId, caCertificateId);
  if (meta === null) {
    const ca = await ctx.registry.getCaCertificate(req.accountId, caCertificateId);
    throw new AwsError(
      'ResourceNotFoundException',
      ca === null
        ? `The CA certificate ${caCertificateId} does not exist in this account.`
        : `The CA certificate ${caCertificateId} has no CRL.`,
    );
  }
  return { crl: crlDescription(meta) };
}

async function deleteCaCrl(ctx: ControlContext, req: ApiRequest): Promise<undefined> {
  await ctx.registry.deleteCaCrl(req.accountId, certificateIdParam(req, 'caCertificateId'));
  return undefined;
}

export function crlRoutes(ctx: ControlContext): Route[] {
  const path = '/certgate/cas/{caCertificateId}/crl';
  return [
    {
      method: 'PUT',
      template: path,
      operation: 'PutCaCrl',
      handler: (r) => putCaCrl(ctx, r),
      rawBody: true,
      maxBodyBytes: MAX_CRL_BODY_BYTES,
    },
    { method: 'GET', template: path, operation: 'DescribeCaCrl', handler: (r) => describeCaCrl(ctx, r) },
    { method: 'DELETE', template: path, operation: 'DeleteCaCrl', handler: (r) => deleteCaCrl(ctx, r) },
  ];
}
