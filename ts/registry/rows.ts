/** Mapping between rows and registry records, shared by every backend (the schemas use the same snake_case column names). */
import type {
  Account,
  AutoRegistrationStatus,
  CaCertificateRecord,
  CaStatus,
  CertificateMode,
  CertificateRecord,
  CertificateStanding,
  CertificateStatus,
  ChangeRecord,
  PolicyRecord,
  RegistrationConfig,
  Tag,
} from './types.js';
import type { AccessKeyScope, AccessKeyStatus, AuditEntry, Credential } from './types.js';

export interface AccountRow {
  account_id: string;
  endpoint_prefix: string;
  created_at: number;
  /** 0/1 (migration of branch mqtt). */
  bind_client_id_to_thing?: number;
}

export interface CertificateRow {
  account_id: string;
  certificate_id: string;
  certificate_pem: string;
  status: string;
  certificate_mode: string;
  ca_certificate_id: string | null;
  previous_owned_by: string | null;
  creation_date: number;
  last_modified_date: number;
  customer_version: number;
  generation_id: string;
  not_before: number;
  not_after: number;
  transfer_to: string | null;
  transfer_message: string | null;
  reject_reason: string | null;
  transfer_date: number | null;
  accept_date: number | null;
  reject_date: number | null;
}

export interface CaCertificateRow {
  account_id: string;
  certificate_id: string;
  certificate_pem: string;
  status: string;
  certificate_mode: string;
  auto_registration_status: string;
  subject: string;
  registration_config: string | null;
  template_name: string | null;
  tags: string;
  creation_date: number;
  last_modified_date: number;
  customer_version: number;
  generation_id: string;
  not_before: number;
  not_after: number;
}

export interface PolicyRow {
  account_id: string;
  policy_name: string;
  policy_document: string;
  policy_version_id: string;
  creation_date: number;
  last_modified_date: number;
}

export interface ChangeRow {
  sequence: number | string;
  account_id: string;
  kind: string;
  resource_id: string;
  status: string;
  created_at: number;
}

export function changeFromRow(row: ChangeRow): ChangeRecord {
  return {
    sequence: Number(row.sequence),
    accountId: row.account_id,
    kind: 'certificate',
    resourceId: row.resource_id,
    status: row.status,
    time: Number(row.created_at),
  };
}

export function accountFromRow(row: AccountRow): Account {
  return {
    accountId: row.account_id,
    endpointPrefix: row.endpoint_prefix,
    createdAt: row.created_at,
    bindClientIdToThing: Number(row.bind_client_id_to_thing ?? 0) === 1,
  };
}

export function certificateFromRow(row: CertificateRow): CertificateRecord {
  return {
    accountId: row.account_id,
    certificateId: row.certificate_id,
    certificatePem: row.certificate_pem,
    status: row.status as CertificateStatus,
    certificateMode: row.certificate_mode as CertificateMode,
    caCertificateId: row.ca_certificate_id,
    previousOwnedBy: row.previous_owned_by,
    creationDate: row.creation_date,
    lastModifiedDate: row.last_modified_date,
    customerVersion: row.customer_version,
    generationId: row.generation_id,
    notBefore: row.not_before,
    notAfter: row.not_after,
    transfer: {
      transferTo: row.transfer_to,
      transferMessage: row.transfer_message,
      rejectReason: row.reject_reason,
      transferDate: row.transfer_date,
      acceptDate: row.accept_date,
      rejectDate: row.reject_date,
    },
  };
}

export function caCertificateFromRow(row: CaCertificateRow): CaCertificateRecord {
  return {
    accountId: row.account_id,
    certificateId: row.certificate_id,
    certificatePem: row.certificate_pem,
    status: row.status as CaStatus,
    certificateMode: row.certificate_mode as CertificateMode,
    autoRegistrationStatus: row.auto_registration_status as AutoRegistrationStatus,
    subject: row.subject,
    registrationConfig: row.registration_config === null ? null : (JSON.parse(row.registration_config) as RegistrationConfig),
    tags: JSON.parse(row.tags) as Tag[],
    creationDate: row.creation_date,
    lastModifiedDate: row.last_modified_date,
    customerVersion: row.customer_version,
    generationId: row.generation_id,
    notBefore: row.not_before,
    notAfter: row.not_after,
  };
}

export function policyFromRow(row: PolicyRow): PolicyRecord {
  return {
    accountId: row.account_id,
    policyName: row.policy_name,
    policyDocument: row.policy_document,
    policyVersionId: row.policy_version_id,
    creationDate: row.creation_date,
    lastModifiedDate: row.last_modified_date,
  };
}

/** The columns of a registration's standing (both backends select these). */
export interface StandingRow {
  status: string;
  certificate_mode: string;
  ca_certificate_id: string | null;
}

/**
 * Thing names joined by `group_concat(thing_name, ',')`, split and sorted. AWS thing
 * names are [a-zA-Z0-9:_-]+ (ASCII): a comma cannot be part of one, and JavaScript's
 * default sort (UTF-16 code units) orders them as SQLite's BINARY collation would.
 */
export function joinedThingNames(joined: string | null): string[] {
  if (joined === null) return [];
  const names = joined.split(',');
  names.sort();
  return names;
}

export function standingFromRow(
  accountId: string,
  certificateId: string,
  row: StandingRow,
  things: readonly string[],
): CertificateStanding {
  return {
    accountId,
    certificateId,
    status: row.status as CertificateStatus,
    certificateMode: row.certificate_mode as CertificateMode,
    caCertificateId: row.ca_certificate_id,
    things,
  };
}

// branch keys: access keys and audit rows (both backends).
export interface CredentialRow {
  access_key_id: string;
  secret_access_key: string;
  account_id: string;
  scope: string;
  status: string;
  created_at: number;
}

export const credentialFromRow = (row: CredentialRow): Credential => ({
  accessKeyId: row.access_key_id,
  secretAccessKey: row.secret_access_key,
  accountId: row.account_id,
  scope: row.scope as AccessKeyScope,
  status: row.status as AccessKeyStatus,
  createdAt: row.created_at,
});

export interface AuditRow {
  /** PostgreSQL returns bigint as a string. */
  sequence: number | string;
  account_id: string;
  time: number;
  access_key_id: string | null;
  operation: string;
  resource: string | null;
  result: string;
  request_id: string | null;
}

export const auditFromRow = (row: AuditRow): AuditEntry => ({
  sequence: Number(row.sequence),
  accountId: row.account_id,
  time: row.time,
  accessKeyId: row.access_key_id,
  operation: row.operation,
  resource: row.resource,
  result: row.result,
  requestId: row.request_id,
});
