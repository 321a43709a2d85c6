/**
 * Registration code and CA certificate operations
 * (https://docs.aws.amazon.com/iot/latest/apireference/API_GetRegistrationCode.html,
 * https://docs.aws.amazon.com/iot/latest/apireference/API_RegisterCACertificate.html and the
 * Update/Describe/List/DeleteCACertificate pages beside them).
 */
import { randomBytes } from 'node:crypto';
import { RegistryError, type RegistrationConfig, type Tag } from '../../registry/types.js';
import { caCertificateArn, type ControlContext } from '../context.js';
import { AwsError, fromRegistryError, invalid } from '../errors.js';
import { caCertificateDescription, caCertificateSummary } from '../format.js';
import { checkIsCa, checkRegistrable, MAX_CERTIFICATE_PEM_CHARS, parseCertificate } from '../pki.js';
import type { Route } from '../router.js';
import {
  bodyArray,
  bodyBool,
  bodyEnum,
  bodyObject,
  bodyString,
  certificateIdParam,
  pageRequest,
  queryBool,
  queryEnum,
  queryString,
  type ApiRequest,
} from '../validate.js';

const TEMPLATE_NAME = /^[0-9A-Za-z_-]+$/;
/** AWS tagging limit: 50 tags per resource. */
export const MAX_TAGS = 50;

/** `registrationConfig` with the model's constraints (https://docs.aws.amazon.com/iot/latest/apireference/API_RegistrationConfig.html). */
function registrationConfig(body: Record<string, unknown>): RegistrationConfig | undefined {
  const raw = bodyObject(body, 'registrationConfig');
  if (raw === undefined) return undefined;
  const config: RegistrationConfig = {};
  const templateBody = bodyString(raw, 'templateBody', { max: 10240 });
  const roleArn = bodyString(raw, 'roleArn', { min: 20, max: 2048 });
  const templateName = bodyString(raw, 'templateName', { min: 1, max: 36, pattern: TEMPLATE_NAME });
  if (templateBody !== undefined) config.templateBody = templateBody;
  if (roleArn !== undefined) config.roleArn = roleArn;
  if (templateName !== undefined) config.templateName = templateName;
  return config;
}

function tags(body: Record<string, unknown>): Tag[] {
  const raw = bodyArray(body, 'tags') ?? [];
  if (raw.length > MAX_TAGS) throw invalid(`tags may hold at most ${MAX_TAGS} entries.`);
  return raw.map((entry) => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
      throw invalid('Each tag must be an object with Key and Value.');
    const tag = entry as Record<string, unknown>;
    const Key = bodyString(tag, 'Key', { required: true, min: 1, max: 128 }) ?? '';
    const Value = bodyString(tag, 'Value', { max: 256 });
    return Value === undefined ? { Key } : { Key, Value };
  });
}

async function registerCaCertificate(ctx: ControlContext, req: ApiRequest): Promise<Record<string, unknown>> {
  const setAsActive = queryBool(req, 'setAsActive') ?? false;
  const allowAutoRegistration = queryBool(req, 'allowAutoRegistration') ?? false;
  const caPem = bodyString(req.body, 'caCertificate', { required: true, min: 1, max: MAX_CERTIFICATE_PEM_CHARS }) ?? '';
  const verificationPem = bodyString(req.body, 'verificationCertificate', { min: 1, max: MAX_CERTIFICATE_PEM_CHARS });
  const mode = bodyEnum(req.body, 'certificateMode', ['DEFAULT', 'SNI_ONLY'] as const) ?? 'DEFAULT';
  const config = registrationConfig(req.body);
  const tagList = tags(req.body);
  if (mode === 'DEFAULT' && verificationPem === undefined) {
    throw invalid('verificationCertificate is required when certificateMode is DEFAULT.');
  }
  if (mode === 'SNI_ONLY' && verificationPem !== undefined) {
    throw invalid('verificationCertificate must not be given when certificateMode is SNI_ONLY.');
  }
  const now = ctx.now();
  const ca = parseCertificate(ctx.engine, caPem, 'caCertificate');
  checkIsCa(ca);
  checkRegistrable(ca, now);
  if (verificationPem !== undefined) {
    const verification = parseCertificate(ctx.engine, verificationPem, 'verificationCertificate');
    const code = await ctx.registry.getRegistrationCode(req.accountId);
    if (code === null) {
      throw new AwsError('RegistrationCodeValidationException', 'The account has no registration code; call GetRegistrationCode first.');
    }
    // The engine checks format, CA flag, validity and the signature before the code, so
    // REGISTRATION_CODE_MISMATCH means "valid proof, wrong code" (crates/certgate-core/src/proof.rs).
    const proof = ctx.engine.verifyRegistrationProof(Buffer.from(ca.pem), Buffer.from(verification.pem), code, now);
    if (!proof.ok) {
      if (proof.code === 'REGISTRATION_CODE_MISMATCH') {
        throw new AwsError(
          'RegistrationCodeValidationException',
          `The verification certificate does not carry the account's registration code: ${proof.message}`,
        );
      }
      throw new AwsError(
        'CertificateValidationException',
        `The verification certificate does not prove possession of the CA key: ${proof.message}`,
      );
    }
  }
  try {
    const record = await ctx.registry.insertCaCertificate({
      accountId: req.accountId,
      certificateId: ca.info.certificateId,
      certificatePem: ca.pem,
      notBefore: ca.info.notBefore,
      notAfter: ca.info.notAfter,
      status: setAsActive ? 'ACTIVE' : 'INACTIVE',
      certificateMode: mode,
      autoRegistrationStatus: allowAutoRegistration ? 'ENABLE' : 'DISABLE',
      subject: ca.info.subject,
      registrationConfig: config ?? null,
      tags: tagList,
    });
    return { certificateArn: caCertificateArn(ctx, req.accountId, record.certificateId), certificateId: record.certificateId };
  } catch (err) {
    if (err instanceof RegistryError) throw fromRegistryError(err, (id) => caCertificateArn(ctx, req.accountId, id));
    throw err;
  }
}

async function updateCaCertificate(ctx: ControlContext, req: ApiRequest): Promise<undefined> {
  const id = certificateIdParam(req, 'caCertificateId');
  const status = queryEnum(req, 'newStatus', ['ACTIVE', 'INACTIVE'] as const);
  const auto = queryEnum(req, 'newAutoRegistrationStatus', ['ENABLE', 'DISABLE'] as const);
  const config = registrationConfig(req.body);
  const remove = bodyBool(req.body, 'removeAutoRegistration') ?? false;
  if (remove && config !== undefined) throw invalid('registrationConfig and removeAutoRegistration cannot be combined.');
  await ctx.registry.updateCaCertificate(req.accountId, id, {
    ...(status !== undefined ? { status } : {}),
    ...(auto !== undefined ? { autoRegistrationStatus: auto } : {}),
    ...(remove ? { registrationConfig: null } : config !== undefined ? { registrationConfig: config } : {}),
  });
  return undefined;
}

async function describeCaCertificate(ctx: ControlContext, req: ApiRequest): Promise<Record<string, unknown>> {
  const id = certificateIdParam(req, 'caCertificateId');
  const record = await ctx.registry.getCaCertificate(req.accountId, id);
  if (!record) throw new AwsError('ResourceNotFoundException', `The CA certificate ${id} does not exist in this account.`);
  const out: Record<string, unknown> = { certificateDescription: caCertificateDescription(ctx, record) };
  if (record.registrationConfig !== null) out['registrationConfig'] = record.registrationConfig;
  return out;
}

async function listCaCertificates(ctx: ControlContext, req: ApiRequest): Promise<Record<string, unknown>> {
  const page = pageRequest(req);
  const templateName = queryString(req, 'templateName', { max: 36, pattern: TEMPLATE_NAME });
  const result = await ctx.registry.listCaCertificates(req.accountId, page, templateName);
  return { certificates: result.items.map((c) => caCertificateSummary(ctx, c)), nextMarker: result.nextMarker };
}

async function deleteCaCertificate(ctx: ControlContext, req: ApiRequest): Promise<undefined> {
  await ctx.registry.deleteCaCertificate(req.accountId, certificateIdParam(req, 'caCertificateId'));
  return undefined;
}

async function getRegistrationCode(ctx: ControlContext, req: ApiRequest): Promise<Record<string, unknown>> {
  const code = await ctx.registry.getOrCreateRegistrationCode(req.accountId, randomBytes(32).toString('hex'));
  return { registrationCode: code };
}

async function deleteRegistrationCode(ctx: ControlContext, req: ApiRequest): Promise<undefined> {
  await ctx.registry.deleteRegistrationCode(req.accountId);
  return undefined;
}

export function caRoutes(ctx: ControlContext): Route[] {
  return [
    { method: 'GET', template: '/registrationcode', operation: 'GetRegistrationCode', handler: (r) => getRegistrationCode(ctx, r) },
    {
      method: 'DELETE',
      template: '/registrationcode',
      operation: 'DeleteRegistrationCode',
      handler: (r) => deleteRegistrationCode(ctx, r),
    },
    { method: 'POST', template: '/cacertificate', operation: 'RegisterCACertificate', handler: (r) => registerCaCertificate(ctx, r) },
    {
      method: 'PUT',
      template: '/cacertificate/{caCertificateId}',
      operation: 'UpdateCACertificate',
      handler: (r) => updateCaCertificate(ctx, r),
    },
    {
      method: 'GET',
      template: '/cacertificate/{caCertificateId}',
      operation: 'DescribeCACertificate',
      handler: (r) => describeCaCertificate(ctx, r),
    },
    {
      method: 'DELETE',
      template: '/cacertificate/{caCertificateId}',
      operation: 'DeleteCACertificate',
      handler: (r) => deleteCaCertificate(ctx, r),
    },
    { method: 'GET', template: '/cacertificates', operation: 'ListCACertificates', handler: (r) => listCaCertificates(ctx, r) },
  ];
}
