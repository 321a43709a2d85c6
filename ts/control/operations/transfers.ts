/** Certificate transfer between accounts (https://docs.aws.amazon.com/iot/latest/apireference/API_TransferCertificate.html and the Accept/Reject/Cancel pages beside it). */
import { RegistryError } from '../../registry/types.js';
import { certificateArn, type ControlContext } from '../context.js';
import { fromRegistryError, invalid } from '../errors.js';
import type { Route } from '../router.js';
import { accountIdValue, bodyString, certificateIdParam, pageRequest, queryBool, queryString, type ApiRequest } from '../validate.js';

/** AWS IoT model: transferMessage and rejectReason are at most 128 characters (API_TransferCertificate.html, API_RejectCertificateTransfer.html). */
export const MAX_TRANSFER_TEXT = 128;

async function mapped<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof RegistryError) throw fromRegistryError(err);
    throw err;
  }
}

async function transferCertificate(ctx: ControlContext, req: ApiRequest): Promise<Record<string, unknown>> {
  const id = certificateIdParam(req, 'certificateId');
  const target = accountIdValue(queryString(req, 'targetAwsAccount', { required: true }) ?? '', 'targetAwsAccount');
  const message = bodyString(req.body, 'transferMessage', { max: MAX_TRANSFER_TEXT }) ?? null;
  if (target === req.accountId) throw invalid('targetAwsAccount must be a different account than the caller.');
  // Attached policies or things, or a target that holds the certificate: TransferConflictException (refusals.ts).
  await mapped(ctx.registry.startTransfer(req.accountId, id, target, message));
  return { transferredCertificateArn: certificateArn(ctx, target, id) };
}

async function acceptTransfer(ctx: ControlContext, req: ApiRequest): Promise<undefined> {
  const id = certificateIdParam(req, 'certificateId');
  const setAsActive = queryBool(req, 'setAsActive') ?? false;
  await mapped(ctx.registry.acceptTransfer(req.accountId, id, setAsActive));
  return undefined;
}

async function rejectTransfer(ctx: ControlContext, req: ApiRequest): Promise<undefined> {
  const id = certificateIdParam(req, 'certificateId');
  const reason = bodyString(req.body, 'rejectReason', { max: MAX_TRANSFER_TEXT }) ?? null;
  await mapped(ctx.registry.rejectTransfer(req.accountId, id, reason));
  return undefined;
}

async function cancelTransfer(ctx: ControlContext, req: ApiRequest): Promise<undefined> {
  const id = certificateIdParam(req, 'certificateId');
  // A certificate that is not being transferred: InvalidRequestException (TRANSFER_NOT_STARTED in
  // refusals.ts; https://docs.aws.amazon.com/iot/latest/apireference/API_CancelCertificateTransfer.html lists no state error).
  await mapped(ctx.registry.cancelTransfer(req.accountId, id));
  return undefined;
}

async function listOutgoing(ctx: ControlContext, req: ApiRequest): Promise<Record<string, unknown>> {
  const result = await ctx.registry.listOutgoingTransfers(req.accountId, pageRequest(req));
  return {
    outgoingCertificates: result.items.map((t) => ({
      certificateArn: certificateArn(ctx, t.transferredTo, t.certificateId),
      certificateId: t.certificateId,
      transferredTo: t.transferredTo,
      transferDate: t.transferDate,
      ...(t.transferMessage !== null ? { transferMessage: t.transferMessage } : {}),
      creationDate: t.creationDate,
    })),
    nextMarker: result.nextMarker,
  };
}

export function transferRoutes(ctx: ControlContext): Route[] {
  return [
    {
      method: 'PATCH',
      template: '/transfer-certificate/{certificateId}',
      operation: 'TransferCertificate',
      handler: (r) => transferCertificate(ctx, r),
    },
    {
      method: 'PATCH',
      template: '/accept-certificate-transfer/{certificateId}',
      operation: 'AcceptCertificateTransfer',
      handler: (r) => acceptTransfer(ctx, r),
    },
    {
      method: 'PATCH',
      template: '/reject-certificate-transfer/{certificateId}',
      operation: 'RejectCertificateTransfer',
      handler: (r) => rejectTransfer(ctx, r),
    },
    {
      method: 'PATCH',
      template: '/cancel-certificate-transfer/{certificateId}',
      operation: 'CancelCertificateTransfer',
      handler: (r) => cancelTransfer(ctx, r),
    },
    { method: 'GET', template: '/certificates-out-going', operation: 'ListOutgoingCertificates', handler: (r) => listOutgoing(ctx, r) },
  ];
}
