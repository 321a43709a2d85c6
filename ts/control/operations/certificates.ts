/**
 * Device certificate operations (https://docs.aws.amazon.com/iot/latest/apireference/API_RegisterCertificate.html,
 * API_RegisterCertificateWithoutCA.html, API_UpdateCertificate.html, API_DescribeCertificate.html,
 * API_ListCertificates.html, API_ListCertificatesByCA.html, API_DeleteCertificate.html).
 */
import { RegistryError, type CaCertificateRecord, type CertificateStatus, type NewCertificate } from '../../registry/types.js';
import { certificateArn, type ControlContext } from '../context.js';
import { AwsError, fromRegistryError, invalid } from '../errors.js';
import { certificateDescription, certificateSummary } from '../format.js';
import {
  checkClientAuth,
  checkRegistrable,
  isSignedBy,
  MAX_CERTIFICATE_PEM_CHARS,
  parseCertificate,
  type ParsedCertificate,
} from '../pki.js';
import type { Route } from '../router.js';
import { bodyArray, bodyEnum, bodyString, certificateIdParam, pageRequest, queryBool, queryEnum, type ApiRequest } from '../validate.js';

const ALL_STATUSES = ['ACTIVE', 'INACTIVE', 'REVOKED', 'PENDING_TRANSFER', 'REGISTER_INACTIVE', 'PENDING_ACTIVATION'] as const;
/**
 * Statuses an operator may set: the PENDING_* values are internal, REGISTER_INACTIVE deprecated
 * (https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateCertificate.html).
 */
const SETTABLE: readonly CertificateStatus[] = ['ACTIVE', 'INACTIVE', 'REVOKED'];
/** Statuses UpdateCertificate may leave: REVOKED is final, PENDING_TRANSFER moves only by the transfer operations. */
export const UPDATABLE_FROM: readonly CertificateStatus[] = ['ACTIVE', 'INACTIVE', 'PENDING_ACTIVATION', 'REGISTER_INACTIVE'];
/**
 * Statuses DeleteCertificate accepts: not ACTIVE (https://docs.aws.amazon.com/iot/latest/apireference/API_DeleteCertificate.html) and not
 * PENDING_TRANSFER (our choice; AWS does not say).
 */
export const DELETABLE_FROM: readonly CertificateStatus[] = ['INACTIVE', 'REVOKED', 'PENDING_ACTIVATION', 'REGISTER_INACTIVE'];

function settable(status: CertificateStatus, member: string): CertificateStatus {
  if (!SETTABLE.includes(status)) {
    throw invalid(`${member} ${status} cannot be set by this operation; use ACTIVE, INACTIVE or REVOKED.`);
  }
  return status;
}

/** The initial status of a registration: body `status`, else deprecated `?setAsActive`, else INACTIVE. */
function initialStatus(req: ApiRequest, allowSetAsActive: boolean): CertificateStatus {
  const status = bodyEnum(req.body, 'status', ALL_STATUSES, SETTABLE);
  const setAsActive = allowSetAsActive ? queryBool(req, 'setAsActive') : undefined;
  if (status !== undefined) return settable(status, 'status');
  return setAsActive ? 'ACTIVE' : 'INACTIVE';
}

async function insert(ctx: ControlContext, cert: NewCertificate): Promise<Record<string, unknown>> {
  try {
    const record = await ctx.registry.insertCertificate(cert);
    return { certificateArn: certificateArn(ctx, cert.accountId, record.certificateId), certificateId: record.certificateId };
  } catch (err) {
    if (err instanceof RegistryError) throw fromRegistryError(err, (id) => certificateArn(ctx, cert.accountId, id));
    throw err;
  }
}

/** Registered CAs with one issuer subject, parsed; a bulk registration reuses them across its batch. */
type CaCandidates = Map<string, { record: CaCertificateRecord; parsed: ParsedCertificate }[]>;

/**
 * The registered CA that directly issued `leaf`: the one given as `caPem`, else the only
 * registered CA whose subject is the leaf's issuer and whose key signed it
 * (https://docs.aws.amazon.com/iot/latest/apireference/API_RegisterCertificate.html).
 */
async function issuingCa(
  ctx: ControlContext,
  accountId: string,
  leaf: ParsedCertificate,
  caPem: string | undefined,
  known: CaCandidates = new Map(),
): Promise<CaCertificateRecord> {
  if (caPem !== undefined) {
    const given = parseCertificate(ctx.engine, caPem, 'caCertificatePem');
    const record = await ctx.registry.getCaCertificate(accountId, given.info.certificateId);
    if (!record)
      throw new AwsError('CertificateValidationException', 'caCertificatePem is not a CA certificate registered in this account.');
    if (!isSignedBy(leaf, given)) {
      throw new AwsError(
        'CertificateValidationException',
        'The certificate is not signed by the CA certificate given in caCertificatePem.',
      );
    }
    return record;
  }
  let candidates = known.get(leaf.info.issuer);
  if (candidates === undefined) {
    const records = await ctx.registry.findCaCertificatesBySubject(accountId, leaf.info.issuer);
    candidates = records.map((record) => ({ record, parsed: parseCertificate(ctx.engine, record.certificatePem, 'registered CA') }));
    known.set(leaf.info.issuer, candidates);
  }
  const signers = candidates.filter((ca) => isSignedBy(leaf, ca.parsed)).map((ca) => ca.record);
  const [only, ...others] = signers;
  if (only === undefined) {
    throw new AwsError(
      'CertificateValidationException',
      'The certificate is not signed by a CA certificate registered in this account (register its direct issuer).',
    );
  }
  if (others.length > 0) {
    throw new AwsError(
      'CertificateConflictException',
      `${signers.length} registered CA certificates share the issuer's subject and key; pass caCertificatePem to choose one.`,
    );
  }
  return only;
}

/** Everything RegisterCertificate checks before the registry's own rules; the registration to insert. */
async function registrationUnderCa(
  ctx: ControlContext,
  accountId: string,
  pem: string,
  status: CertificateStatus,
  caPem: string | undefined,
  known?: CaCandidates,
): Promise<NewCertificate> {
  const leaf = parseCertificate(ctx.engine, pem, 'certificatePem');
  checkRegistrable(leaf, ctx.now());
  checkClientAuth(leaf);
  const ca = await issuingCa(ctx, accountId, leaf, caPem, known);
  if (ca.status !== 'ACTIVE') {
    throw new AwsError(
      'CertificateStateException',
      `The CA certificate ${ca.certificateId} is ${ca.status}; activate it before registering certificates it signed.`,
    );
  }
  return {
    accountId,
    certificateId: leaf.info.certificateId,
    certificatePem: leaf.pem,
    notBefore: leaf.info.notBefore,
    notAfter: leaf.info.notAfter,
    status,
    certificateMode: ca.certificateMode,
    caCertificateId: ca.certificateId,
  };
}

async function registerCertificate(ctx: ControlContext, req: ApiRequest): Promise<Record<string, unknown>> {
  const pem = bodyString(req.body, 'certificatePem', { required: true, min: 1, max: MAX_CERTIFICATE_PEM_CHARS }) ?? '';
  const status = initialStatus(req, true);
  const caPem = bodyString(req.body, 'caCertificatePem', { min: 1, max: MAX_CERTIFICATE_PEM_CHARS });
  return insert(ctx, await registrationUnderCa(ctx, req.accountId, pem, status, caPem));
}

/**
 * Certificates one bulk call may register (certgate's RegisterCertificates): one
 * registry transaction per call, so the batch bounds how long it holds the write lock.
 */
export const MAX_BULK_REGISTRATIONS = 1000;

/**
 * certgate extension `POST /certgate/certificates/register-many`: RegisterCertificate for
 * up to MAX_BULK_REGISTRATIONS certificates under registered CAs, each checked exactly as
 * RegisterCertificate checks it, inserted in one transaction. A refused certificate is
 * reported in its result (AWS error name and message) and does not stop the others.
 */
async function registerCertificates(ctx: ControlContext, req: ApiRequest): Promise<Record<string, unknown>> {
  const items = bodyArray(req.body, 'certificates') ?? [];
  if (items.length === 0 || items.length > MAX_BULK_REGISTRATIONS) {
    throw invalid(`certificates must hold 1 to ${MAX_BULK_REGISTRATIONS} entries, got ${items.length}.`);
  }
  const status = initialStatus(req, false);
  const known: CaCandidates = new Map();
  const results: Record<string, unknown>[] = Array.from({ length: items.length }, () => ({}));
  const prepared: { index: number; cert: NewCertificate }[] = [];
  for (const [index, item] of items.entries()) {
    try {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) throw invalid(`certificates[${index}] must be an object.`);
      const entry = item as Record<string, unknown>;
      const pem = bodyString(entry, 'certificatePem', { required: true, min: 1, max: MAX_CERTIFICATE_PEM_CHARS }) ?? '';
      const caPem = bodyString(entry, 'caCertificatePem', { min: 1, max: MAX_CERTIFICATE_PEM_CHARS });
      prepared.push({ index, cert: await registrationUnderCa(ctx, req.accountId, pem, status, caPem, known) });
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      results[index] = { error: { code: err.errorType, message: err.message } };
    }
  }
  const inserted = await ctx.registry.insertCertificates(prepared.map((p) => p.cert));
  for (const [i, result] of inserted.entries()) {
    const { index, cert } = prepared[i] as { index: number; cert: NewCertificate };
    if (result.ok)
      results[index] = { certificateId: cert.certificateId, certificateArn: certificateArn(ctx, cert.accountId, cert.certificateId) };
    else {
      const err = fromRegistryError(result.error, (id) => certificateArn(ctx, cert.accountId, id));
      results[index] = { certificateId: cert.certificateId, error: { code: err.errorType, message: err.message } };
    }
  }
  return { results };
}

async function registerCertificateWithoutCa(ctx: ControlContext, req: ApiRequest): Promise<Record<string, unknown>> {
  const pem = bodyString(req.body, 'certificatePem', { required: true, min: 1, max: MAX_CERTIFICATE_PEM_CHARS }) ?? '';
  const status = initialStatus(req, false);
  const leaf = parseCertificate(ctx.engine, pem, 'certificatePem');
  checkRegistrable(leaf, ctx.now());
  checkClientAuth(leaf);
  return insert(ctx, {
    accountId: req.accountId,
    certificateId: leaf.info.certificateId,
    certificatePem: leaf.pem,
    notBefore: leaf.info.notBefore,
    notAfter: leaf.info.notAfter,
    status,
    certificateMode: 'SNI_ONLY',
    caCertificateId: null,
  });
}

async function updateCertificate(ctx: ControlContext, req: ApiRequest): Promise<undefined> {
  const id = certificateIdParam(req, 'certificateId');
  const to = settable(queryEnum(req, 'newStatus', ALL_STATUSES, true, SETTABLE) ?? 'INACTIVE', 'newStatus');
  await ctx.registry.setCertificateStatus(req.accountId, id, to, UPDATABLE_FROM);
  return undefined;
}

async function describeCertificate(ctx: ControlContext, req: ApiRequest): Promise<Record<string, unknown>> {
  const id = certificateIdParam(req, 'certificateId');
  const record = await ctx.registry.getCertificateVisibleTo(req.accountId, id);
  if (!record) throw new AwsError('ResourceNotFoundException', `The certificate ${id} does not exist in this account.`);
  return { certificateDescription: certificateDescription(ctx, req.accountId, record) };
}

async function listCertificates(ctx: ControlContext, req: ApiRequest, byCa: boolean): Promise<Record<string, unknown>> {
  const caId = byCa ? certificateIdParam(req, 'caCertificateId') : undefined;
  const result = await ctx.registry.listCertificates(req.accountId, pageRequest(req), caId);
  return { certificates: result.items.map((c) => certificateSummary(ctx, req.accountId, c)), nextMarker: result.nextMarker };
}

async function deleteCertificate(ctx: ControlContext, req: ApiRequest): Promise<undefined> {
  const id = certificateIdParam(req, 'certificateId');
  const force = queryBool(req, 'forceDelete') ?? false;
  await ctx.registry.deleteCertificate(req.accountId, id, DELETABLE_FROM, force);
  return undefined;
}

export function certificateRoutes(ctx: ControlContext): Route[] {
  return [
    { method: 'POST', template: '/certificate/register', operation: 'RegisterCertificate', handler: (r) => registerCertificate(ctx, r) },
    {
      method: 'POST',
      template: '/certgate/certificates/register-many',
      operation: 'RegisterCertificates',
      handler: (r) => registerCertificates(ctx, r),
    },
    {
      method: 'POST',
      template: '/certificate/register-no-ca',
      operation: 'RegisterCertificateWithoutCA',
      handler: (r) => registerCertificateWithoutCa(ctx, r),
    },
    { method: 'PUT', template: '/certificates/{certificateId}', operation: 'UpdateCertificate', handler: (r) => updateCertificate(ctx, r) },
    {
      method: 'GET',
      template: '/certificates/{certificateId}',
      operation: 'DescribeCertificate',
      handler: (r) => describeCertificate(ctx, r),
    },
    {
      method: 'DELETE',
      template: '/certificates/{certificateId}',
      operation: 'DeleteCertificate',
      handler: (r) => deleteCertificate(ctx, r),
    },
    { method: 'GET', template: '/certificates', operation: 'ListCertificates', handler: (r) => listCertificates(ctx, r, false) },
    {
      method: 'GET',
      template: '/certificates-by-ca/{caCertificateId}',
      operation: 'ListCertificatesByCA',
      handler: (r) => listCertificates(ctx, r, true),
    },
  ];
}
