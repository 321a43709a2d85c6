/**
 * The AWS-facing wording of every registry refusal, each reason once: which AWS error it
 * becomes (its HTTP status is `ERROR_STATUS`) and the message the client reads. The
 * registry (ts/registry/rules/) returns only a code, a reason and structured details;
 * `test/control/refusals.test.ts` checks this table against docs/errors.md and the
 * error names against docs/api.md. Messages asserted by the AWS CLI/SDK tests are kept
 * word for word ("The certificate is already provisioned or registered" is AWS's own).
 *
 * The three secrets-at-rest refusals are certgate's own wording about its storage, also
 * shown at start-up and by the CLI without the API; their entries pass the registry's
 * message through ('registry').
 */
import type { RegistryDetails, RegistryRefusal } from '../registry/types.js';
import type { AwsErrorName } from './errors.js';

export interface RefusalEntry {
  error: AwsErrorName;
  message: ((details: RegistryDetails) => string) | 'registry';
}

const d = (details: RegistryDetails, key: string): string => String(details[key] ?? '');

export const REGISTRY_REFUSALS: { readonly [R in RegistryRefusal]: RefusalEntry } = {
  // ---- Device certificates ----
  CERTIFICATE_NOT_FOUND: {
    error: 'ResourceNotFoundException',
    message: (x) => `The certificate ${d(x, 'certificateId')} does not exist in this account.`,
  },
  CERTIFICATE_EXISTS: { error: 'ResourceAlreadyExistsException', message: () => 'The certificate is already provisioned or registered' },
  CERTIFICATE_OWNED_ELSEWHERE: {
    error: 'ResourceAlreadyExistsException',
    message: () =>
      'The certificate is already registered in DEFAULT mode by another account; only one account can hold it in DEFAULT mode (others may register it in SNI_ONLY mode: RegisterCertificateWithoutCA, or under a CA registered in SNI_ONLY mode)',
  },
  CERTIFICATE_STATUS: {
    error: 'CertificateStateException',
    message: (x) => `The certificate is ${d(x, 'status')} and cannot be set to ${d(x, 'to')}.`,
  },
  CERTIFICATE_NOT_DELETABLE: {
    error: 'CertificateStateException',
    message: (x) =>
      x['status'] === 'ACTIVE'
        ? `Certificate must be deactivated (not ACTIVE) before deletion. Id: ${d(x, 'certificateId')}`
        : `A certificate in status ${d(x, 'status')} cannot be deleted. Id: ${d(x, 'certificateId')}`,
  },
  THINGS_ATTACHED: { error: 'DeleteConflictException', message: (x) => `Things must be detached before deletion (arn: ${d(x, 'arn')})` },
  POLICIES_ATTACHED: {
    error: 'DeleteConflictException',
    message: (x) => `Certificate policies must be detached before deletion (arn: ${d(x, 'arn')})`,
  },
  // ---- Transfers ----
  TRANSFER_NOT_INACTIVE: {
    error: 'CertificateStateException',
    message: (x) => `The certificate is ${d(x, 'status')}; only an INACTIVE certificate can be transferred.`,
  },
  TRANSFER_POLICIES_ATTACHED: {
    error: 'TransferConflictException',
    message: () => 'Policies must be detached from the certificate before transfer.',
  },
  TRANSFER_THINGS_ATTACHED: {
    error: 'TransferConflictException',
    message: () => 'Things must be detached from the certificate before transfer.',
  },
  TRANSFER_TARGET_NOT_FOUND: {
    error: 'ResourceNotFoundException',
    message: (x) => `The target account ${d(x, 'accountId')} does not exist in this installation.`,
  },
  TRANSFER_TARGET_HOLDS: { error: 'TransferConflictException', message: () => 'The target account already holds this certificate.' },
  TRANSFER_COMPLETED: {
    error: 'TransferAlreadyCompletedException',
    message: (x) => `The transfer of certificate ${d(x, 'certificateId')} has already completed.`,
  },
  TRANSFER_NOT_PENDING: {
    error: 'ResourceNotFoundException',
    message: (x) => `No transfer of certificate ${d(x, 'certificateId')} to this account is pending.`,
  },
  // Only CancelCertificateTransfer refuses this; its model lists no state error.
  TRANSFER_NOT_STARTED: { error: 'InvalidRequestException', message: (x) => `The certificate is ${d(x, 'status')}, not PENDING_TRANSFER.` },
  // ---- CA certificates and CRLs ----
  CA_NOT_FOUND: {
    error: 'ResourceNotFoundException',
    message: (x) => `The CA certificate ${d(x, 'caCertificateId')} does not exist in this account.`,
  },
  CA_EXISTS: { error: 'ResourceAlreadyExistsException', message: () => 'The CA certificate is already registered in this account.' },
  CA_OWNED_ELSEWHERE: {
    error: 'ResourceAlreadyExistsException',
    message: () =>
      'The CA certificate is already registered in DEFAULT mode by another account; register it with certificateMode SNI_ONLY.',
  },
  SUBJECT_LIMIT: {
    error: 'LimitExceededException',
    message: (x) => `The account already has ${d(x, 'limit')} CA certificates with the subject "${d(x, 'subject')}".`,
  },
  CA_ACTIVE: {
    error: 'CertificateStateException',
    message: (x) => `The CA certificate must be deactivated (not ACTIVE) before deletion. Id: ${d(x, 'caCertificateId')}`,
  },
  CRL_REPLACED: {
    error: 'CertificateStateException',
    message: () => "The CA's CRL was replaced while this one was being verified; retry.",
  },
  CRL_NOT_FOUND: {
    error: 'ResourceNotFoundException',
    message: (x) => `The CA certificate ${d(x, 'caCertificateId')} has no CRL in this account.`,
  },
  // ---- Things and policies ----
  THING_NOT_ATTACHED: {
    error: 'ResourceNotFoundException',
    message: (x) => `The principal is not attached to thing ${d(x, 'thingName')}.`,
  },
  POLICY_NOT_FOUND: { error: 'ResourceNotFoundException', message: (x) => `The policy ${d(x, 'policyName')} does not exist.` },
  POLICY_EXISTS: { error: 'ResourceAlreadyExistsException', message: (x) => `The policy ${d(x, 'policyName')} already exists.` },
  POLICY_IN_USE: {
    error: 'DeleteConflictException',
    message: (x) => `The policy ${d(x, 'policyName')} is attached to ${d(x, 'target')}; detach it first.`,
  },
  POLICY_NOT_ATTACHED: {
    error: 'ResourceNotFoundException',
    message: (x) => `The policy ${d(x, 'policyName')} is not attached to ${d(x, 'target')}.`,
  },
  // ---- Accounts, domains, access keys, registration codes, markers ----
  ACCOUNT_NOT_FOUND: { error: 'ResourceNotFoundException', message: (x) => `Account ${d(x, 'accountId')} does not exist.` },
  ACCOUNT_EXISTS: { error: 'ResourceAlreadyExistsException', message: (x) => `Account ${d(x, 'accountId')} already exists.` },
  ENDPOINT_PREFIX_TAKEN: { error: 'ResourceAlreadyExistsException', message: (x) => `Endpoint prefix ${d(x, 'endpointPrefix')} is taken.` },
  RESERVED_DOMAIN: {
    error: 'InvalidRequestException',
    message: (x) =>
      `The domain ${d(x, 'domainName')} is inside this installation's endpoint namespace (${d(x, 'apex')} and every name below it); account endpoints cannot be claimed as custom domains.`,
  },
  DOMAIN_TAKEN: {
    error: 'ResourceAlreadyExistsException',
    message: (x) => `The domain ${d(x, 'domainName')} is already attached to an account.`,
  },
  DOMAIN_NOT_ATTACHED: {
    error: 'ResourceNotFoundException',
    message: (x) => `The domain ${d(x, 'domainName')} is not attached to account ${d(x, 'accountId')}.`,
  },
  ACCESS_KEY_EXISTS: { error: 'ResourceAlreadyExistsException', message: (x) => `Access key ${d(x, 'accessKeyId')} already exists.` },
  ACCESS_KEY_NOT_FOUND: {
    error: 'ResourceNotFoundException',
    message: (x) => `Access key ${d(x, 'accessKeyId')} does not exist in account ${d(x, 'accountId')}.`,
  },
  LAST_FULL_ACCESS_KEY: {
    error: 'DeleteConflictException',
    message: (x) =>
      `Access key ${d(x, 'accessKeyId')} is the last active full-access key of account ${d(x, 'accountId')}; create or activate another full-access key first.`,
  },
  REGISTRATION_CODE_NOT_FOUND: { error: 'ResourceNotFoundException', message: () => 'The account has no registration code.' },
  INVALID_MARKER: { error: 'InvalidRequestException', message: () => 'The marker is not a value returned as nextMarker by this service.' },
  // ---- Secrets at rest (docs/api.md "Secrets at rest") ----
  SECRETS_LOCKED: { error: 'ServiceUnavailableException', message: 'registry' },
  MASTER_KEY_MISMATCH: { error: 'InternalFailureException', message: 'registry' },
  SECRET_TAMPERED: { error: 'InternalFailureException', message: 'registry' },
  // ---- The registry's database (a PostgreSQL registry: ts/registry/postgres/database.ts) ----
  // AWS's error for a temporary failure of the service, which clients retry
  // (https://docs.aws.amazon.com/iot/latest/apireference/CommonErrors.html).
  REGISTRY_UNAVAILABLE: {
    error: 'ServiceUnavailableException',
    message: (x) =>
      `The registry database is unavailable (${d(x, 'cause')}). Retry later; a write whose connection failed while it was committing may have been applied.`,
  },
};

/** The AWS error name and message of a registry refusal. */
export function refusalWording(
  reason: RegistryRefusal,
  details: RegistryDetails,
  registryMessage: string,
): { error: AwsErrorName; message: string } {
  const entry = REGISTRY_REFUSALS[reason];
  return { error: entry.error, message: entry.message === 'registry' ? registryMessage : entry.message(details) };
}
