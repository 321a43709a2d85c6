/**
 * The registry contract. Every backend (SQLite now, PostgreSQL later) implements
 * `Registry` and passes the same contract suite (`test/registry/contract.ts`).
 *
 * Methods are async so a networked backend fits; the SQLite backend answers
 * synchronously inside the promise. Every write is durable when its promise resolves
 * (SQLite WAL + synchronous=FULL), and is visible to every process that opens the same
 * database before the promise resolves: this is what makes revocation immediate for
 * the authorizer (no status cache anywhere).
 *
 * The registry stores and enforces the rules that need atomicity (uniqueness, limits,
 * compare-and-set status transitions); the control plane (`ts/control/`) owns the
 * AWS wire protocol and certificate checks.
 */

import type { ResealReport, SecretRewrite } from './secrets.js';

export type CertificateStatus = 'ACTIVE' | 'INACTIVE' | 'REVOKED' | 'PENDING_TRANSFER' | 'REGISTER_INACTIVE' | 'PENDING_ACTIVATION';

export type CaStatus = 'ACTIVE' | 'INACTIVE';
export type CertificateMode = 'DEFAULT' | 'SNI_ONLY';
export type AutoRegistrationStatus = 'ENABLE' | 'DISABLE';

export interface Account {
  /** 12 digits. */
  accountId: string;
  /** 14 lowercase alphanumerics; `<prefix>-ats.iot.<region>.<endpointDomain>` is the data endpoint. */
  endpointPrefix: string;
  createdAt: number;
  /**
   * A device may connect only with a client id equal to a thing attached to its
   * certificate (AWS IoT's `iot:Connection.Thing.IsAttached` connect condition,
   * https://docs.aws.amazon.com/iot/latest/developerguide/thing-policy-variables.html).
   * Default false, as AWS behaves without such a policy.
   */
  bindClientIdToThing: boolean;
}

/**
 * One entry of the ordered change log (`GET /v1/changes`): every change of a
 * certificate's status in an account, in commit order. `sequence` is strictly increasing
 * across the installation (the cursor); `status` is the new status, `DELETED`, or
 * `TRANSFERRED` (the certificate left the account).
 */
export interface ChangeRecord {
  sequence: number;
  accountId: string;
  kind: 'certificate';
  resourceId: string;
  status: string;
  /** Epoch seconds. */
  time: number;
}

/** Per-account authorizer settings (`PUT /certgate/account-settings`, `certgate account settings`). */
export interface AccountSettings {
  bindClientIdToThing: boolean;
}

/** What a key may call: everything, or only List*, Describe* and Get* operations (`ts/control/access.ts`). */
export type AccessKeyScope = 'FULL' | 'READ_ONLY';
/** An INACTIVE key is refused at SigV4 as an unknown one would be; it can be reactivated. */
export type AccessKeyStatus = 'ACTIVE' | 'INACTIVE';

export interface Credential {
  accessKeyId: string;
  secretAccessKey: string;
  accountId: string;
  scope: AccessKeyScope;
  status: AccessKeyStatus;
  /** Epoch seconds; 0 for keys created before certgate recorded key dates. */
  createdAt: number;
}

/** A key to add: FULL and ACTIVE unless said otherwise. */
export interface NewCredential {
  accessKeyId: string;
  secretAccessKey: string;
  accountId: string;
  scope?: AccessKeyScope;
}

/** One audit row: an admin write (or refused write) as the registry keeps it. Never holds a secret. */
export interface AuditEntry {
  /** Increasing in commit order across the registry; the listing cursor. */
  sequence: number;
  accountId: string;
  /** Epoch seconds. */
  time: number;
  /** The calling access key; null for the operator CLI (local, no key). */
  accessKeyId: string | null;
  /** The AWS (or certgate) operation name. */
  operation: string;
  /** What was acted on (`certificateId=...`), null when nothing names it. */
  resource: string | null;
  /** `OK`, or the error name the caller received. */
  result: string;
  requestId: string | null;
}

export type NewAuditEntry = Omit<AuditEntry, 'sequence' | 'time'>;

/** Installation-wide settings, fixed when the database is created. */
export interface RegistrySettings {
  /** The one region this installation serves (ARNs, endpoints, SigV4 scope). Default `us-east-1`. */
  region: string;
  /** DNS suffix of data endpoints: `<prefix>-ats.iot.<region>.<endpointDomain>`. Default `localhost`. */
  endpointDomain: string;
}

/** Transfer bookkeeping of a device certificate (AWS `transferData`). Dates are epoch seconds. */
export interface TransferData {
  /** The account the certificate is (or was last) offered to. */
  transferTo: string | null;
  transferMessage: string | null;
  rejectReason: string | null;
  transferDate: number | null;
  acceptDate: number | null;
  rejectDate: number | null;
}

/** A device certificate as registered in one account. */
export interface CertificateRecord {
  accountId: string;
  certificateId: string;
  certificatePem: string;
  status: CertificateStatus;
  certificateMode: CertificateMode;
  /** The registering CA (absent for no-CA and certgate-issued certificates). */
  caCertificateId: string | null;
  previousOwnedBy: string | null;
  /** Epoch seconds, fractional allowed. */
  creationDate: number;
  lastModifiedDate: number;
  customerVersion: number;
  generationId: string;
  notBefore: number;
  notAfter: number;
  transfer: TransferData;
}

/** A registration as the authorizer sees it on every decision. */
export interface CertificateStanding {
  accountId: string;
  certificateId: string;
  status: CertificateStatus;
  certificateMode: CertificateMode;
  caCertificateId: string | null;
  /**
   * Things the certificate is attached to in the account (its ARN as AWS principal),
   * sorted by name.
   */
  things: readonly string[];
}

/** JITP provisioning configuration attached to a CA (AWS `registrationConfig`). */
export interface RegistrationConfig {
  templateBody?: string;
  roleArn?: string;
  templateName?: string;
}

export interface Tag {
  Key: string;
  Value?: string;
}

export interface CaCertificateRecord {
  accountId: string;
  certificateId: string;
  certificatePem: string;
  status: CaStatus;
  certificateMode: CertificateMode;
  autoRegistrationStatus: AutoRegistrationStatus;
  /** RFC 4514 subject as printed by the engine's `inspect` (the authorizer matches issuers with it). */
  subject: string;
  registrationConfig: RegistrationConfig | null;
  tags: Tag[];
  creationDate: number;
  lastModifiedDate: number;
  customerVersion: number;
  generationId: string;
  notBefore: number;
  notAfter: number;
}

/** What the authorizer needs from the registry on every decision. */
export interface RegistryReader {
  /**
   * The account whose data endpoint (`<prefix>.iot.<region>.<domain>` or
   * `<prefix>-ats.iot.<region>.<domain>`) or custom domain is `host` (already lower-cased).
   */
  accountForHost(host: string): Promise<Account | null>;
  /** The account by id (the no-SNI path reads its client id binding). */
  getAccount(accountId: string): Promise<Account | null>;
  /**
   * Synchronous forms of the reads a decision makes, offered by registries that answer
   * without waiting on I/O (the embedded SQLite registry): with all three present the
   * authorizer decides a request whose chain verification is cached without a single
   * `await`. Same answers and the same exactness as the async forms.
   */
  accountForHostSync?(host: string): Account | null;
  getCaCertificateSync?(accountId: string, caCertificateId: string): CaCertificateRecord | null;
  /** The certificate as owned by the account (a certificate offered to it by transfer is not returned). */
  getCertificate(accountId: string, certificateId: string): Promise<CertificateRecord | null>;
  /**
   * What a decision needs of a registration (status, mode, CA, thing names), read fresh:
   * a status change committed before this call starts is always seen. Owned
   * registrations only, like {@link getCertificate}.
   */
  getCertificateStanding(accountId: string, certificateId: string): Promise<CertificateStanding | null>;
  /**
   * See {@link accountForHostSync}. `seenBefore` false: the caller has not met this
   * certificate before, so the read is not worth remembering (the SQLite registry's
   * committed-reads memo neither looks it up nor keeps it); the answer is the same.
   */
  getCertificateStandingSync?(accountId: string, certificateId: string, seenBefore?: boolean): CertificateStanding | null;
  /** Every account's registration of this certificate (for connections without SNI). */
  findCertificateRegistrations(certificateId: string): Promise<CertificateRecord[]>;
  getCaCertificate(accountId: string, caCertificateId: string): Promise<CaCertificateRecord | null>;
  /** CAs registered in the account whose subject equals `subject` (RFC 4514 string). */
  findCaCertificatesBySubject(accountId: string, subject: string): Promise<CaCertificateRecord[]>;
  /** The CA's current CRL without its bytes (branch crl); absent on registries without CRLs. */
  getCaCrlMeta?(accountId: string, caCertificateId: string): Promise<CaCrlMeta | null>;
  /** The CA's current CRL with its bytes, as stored (branch crl). */
  getCaCrl?(accountId: string, caCertificateId: string): Promise<CaCrlRecord | null>;
  /** {@link getCaCrlMeta}, synchronously (SQLite), for the decision's synchronous path. */
  getCaCrlMetaSync?(accountId: string, caCertificateId: string): CaCrlMeta | null;
  /**
   * A number equal to one returned earlier only if nothing at all was committed to the
   * registry in between, by any process (SQLite: ts/fastpath/committedReads.ts `stamp`);
   * cheap. What was read after the earlier call is then still what a read would answer.
   */
  commitStampSync?(): number;
}

/** A just-in-time-registration or other registry event, stored durably. */
export interface RegistryEvent {
  /** Strictly increasing across the whole database; use it as the read cursor. */
  sequence: number;
  accountId: string;
  topic: string;
  payload: Record<string, unknown>;
  /** Epoch seconds. */
  createdAt: number;
}

/** The certificate facts a registration stores (from the engine's `inspect`). */
export interface CertificateFacts {
  certificateId: string;
  certificatePem: string;
  notBefore: number;
  notAfter: number;
}

/** Result of `registerPendingActivation`: the stored record and whether this call created it. */
export interface PendingActivationResult {
  record: CertificateRecord;
  created: boolean;
}

/** What the authorizer writes (JITR) and reads (events). */
export interface RegistryAuthorizerWriter {
  /**
   * JITR: record `facts` in `accountId` as PENDING_ACTIVATION under `caCertificateId`
   * with `mode` (the CA's). Idempotent: when the account already holds the certificate,
   * nothing changes and the existing record is returned with `created: false`. Throws
   * ALREADY_EXISTS when the registration breaks the multi-account rule (rules/registration.ts), like
   * `insertCertificate`.
   */
  registerPendingActivation(
    accountId: string,
    facts: CertificateFacts,
    caCertificateId: string,
    mode: CertificateMode,
  ): Promise<PendingActivationResult>;
  /** Append an event durably; returns it with its sequence number. */
  appendEvent(accountId: string, topic: string, payload: Record<string, unknown>): Promise<RegistryEvent>;
  /** Events of the account with `sequence > afterSequence`, oldest first, at most `limit`. */
  listEvents(accountId: string, afterSequence: number, limit: number): Promise<RegistryEvent[]>;
}

/** One page of a keyset-paginated list. `nextMarker` is opaque base64, absent on the last page. */
export interface Page<T> {
  items: T[];
  nextMarker?: string;
}

export interface PageRequest {
  /** 1..MAX_PAGE_SIZE; validated by the caller. */
  pageSize: number;
  /** A `nextMarker` from a previous page. Unknown or malformed markers throw `RegistryError('INVALID_MARKER')`. */
  marker?: string;
  ascending: boolean;
}

/** Reasons a registry write is refused; the control plane maps each to an AWS error. */
export type RegistryErrorCode =
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  /** A DEFAULT-mode CA is already registered by another account (one owner per region). */
  | 'DEFAULT_CA_OWNED_ELSEWHERE'
  /** The account already holds `MAX_CAS_PER_SUBJECT` CAs with this subject. */
  | 'SUBJECT_LIMIT'
  /** The record's current state does not allow the change (`details.status` says which). */
  | 'STATE'
  | 'INVALID_MARKER'
  /** The change would leave the account without an ACTIVE FULL access key (branch keys). */
  | 'LAST_FULL_ACCESS_KEY'
  /** Things are still attached (certificate delete / transfer). */
  | 'THINGS_ATTACHED'
  /** Policies are still attached. */
  | 'POLICIES_ATTACHED'
  /** The policy still has targets (policy delete). */
  | 'POLICY_IN_USE'
  // tenancy (issue 14): a custom domain inside the installation's endpoint namespace.
  | 'RESERVED_DOMAIN'
  // branch secrets: secrets at rest (ts/registry/secrets.ts).
  /** The registry's secrets are encrypted and this process was given no master key. */
  | 'SECRETS_LOCKED'
  /** The master key given is not the one the registry's secrets are encrypted with. */
  | 'MASTER_KEY_MISMATCH'
  /** A stored secret does not authenticate (altered, or copied from another row). */
  | 'SECRET_TAMPERED'
  // fleet (issue 11): the registry's database cannot be reached or is not accepting work.
  /** The database is down, restarting, unreachable or read-only (a standby); nothing was refused on its merits. */
  | 'UNAVAILABLE';

/**
 * Why exactly a registry call was refused: one name per refusal, finer than `code`. The
 * registry words nothing for the AWS API; `ts/control/refusals.ts` holds the wording
 * of each reason once (listed in docs/errors.md "Registry refusals").
 */
export type RegistryRefusal =
  | 'CERTIFICATE_NOT_FOUND'
  | 'CERTIFICATE_EXISTS'
  | 'CERTIFICATE_OWNED_ELSEWHERE'
  | 'CERTIFICATE_STATUS'
  | 'CERTIFICATE_NOT_DELETABLE'
  | 'THINGS_ATTACHED'
  | 'POLICIES_ATTACHED'
  | 'TRANSFER_NOT_INACTIVE'
  | 'TRANSFER_POLICIES_ATTACHED'
  | 'TRANSFER_THINGS_ATTACHED'
  | 'TRANSFER_TARGET_NOT_FOUND'
  | 'TRANSFER_TARGET_HOLDS'
  | 'TRANSFER_COMPLETED'
  | 'TRANSFER_NOT_PENDING'
  | 'TRANSFER_NOT_STARTED'
  | 'CA_NOT_FOUND'
  | 'CA_EXISTS'
  | 'CA_OWNED_ELSEWHERE'
  | 'SUBJECT_LIMIT'
  | 'CA_ACTIVE'
  | 'CRL_REPLACED'
  | 'CRL_NOT_FOUND'
  | 'THING_NOT_ATTACHED'
  | 'POLICY_NOT_FOUND'
  | 'POLICY_EXISTS'
  | 'POLICY_IN_USE'
  | 'POLICY_NOT_ATTACHED'
  | 'ACCOUNT_NOT_FOUND'
  | 'ACCOUNT_EXISTS'
  | 'ENDPOINT_PREFIX_TAKEN'
  | 'RESERVED_DOMAIN'
  | 'DOMAIN_TAKEN'
  | 'DOMAIN_NOT_ATTACHED'
  | 'ACCESS_KEY_EXISTS'
  | 'ACCESS_KEY_NOT_FOUND'
  | 'LAST_FULL_ACCESS_KEY'
  | 'REGISTRATION_CODE_NOT_FOUND'
  | 'INVALID_MARKER'
  | 'SECRETS_LOCKED'
  | 'MASTER_KEY_MISMATCH'
  | 'SECRET_TAMPERED'
  | 'REGISTRY_UNAVAILABLE';

/**
 * The facts of a refusal, by name: `status` (the record's current status), `resourceId`
 * (the conflicting id of an "already exists"), and the ids the reason is about.
 */
export type RegistryDetails = Readonly<Record<string, string | number>>;

/**
 * A refused registry call. Callers branch on `code` or `reason`, never on the message,
 * which is only for logs: the reason and its details (`REASON (key=value, ...)`), or, for
 * the secrets-at-rest refusals, certgate's own operator wording (ts/registry/secrets.ts).
 */
export class RegistryError extends Error {
  constructor(
    readonly code: RegistryErrorCode,
    readonly reason: RegistryRefusal,
    readonly details: RegistryDetails = {},
    message?: string,
  ) {
    const facts = Object.entries(details).map(([key, value]) => `${key}=${value}`);
    super(message ?? (facts.length === 0 ? reason : `${reason} (${facts.join(', ')})`));
    this.name = 'RegistryError';
  }
}

/** Registry-side limits; each has its own error code (see `RegistryErrorCode`). */
export const LIMITS = {
  /** AWS IoT: at most 10 CA certificates with the same subject per account (https://docs.aws.amazon.com/general/latest/gr/iot-core.html). */
  MAX_CAS_PER_SUBJECT: 10,
  /** AWS IoT model: `pageSize` 1..250 (https://docs.aws.amazon.com/iot/latest/apireference/API_ListCertificates.html). */
  MAX_PAGE_SIZE: 250,
  /** Default page size of certificate lists (the AWS IoT model's default). */
  DEFAULT_PAGE_SIZE: 25,
} as const;

/** A new device certificate (status and mode decided by the control plane). */
/** One certificate of `insertCertificates`: registered, or refused with the error `insertCertificate` would throw. */
export type BulkInsertResult = { certificateId: string; ok: true } | { certificateId: string; ok: false; error: RegistryError };

export interface NewCertificate extends CertificateFacts {
  accountId: string;
  status: CertificateStatus;
  certificateMode: CertificateMode;
  caCertificateId: string | null;
}

/** A new CA certificate. */
export interface NewCaCertificate extends CertificateFacts {
  accountId: string;
  status: CaStatus;
  certificateMode: CertificateMode;
  autoRegistrationStatus: AutoRegistrationStatus;
  subject: string;
  registrationConfig: RegistrationConfig | null;
  tags: Tag[];
}

export interface CaCertificateUpdate {
  status?: CaStatus;
  autoRegistrationStatus?: AutoRegistrationStatus;
  /** `null` removes the configuration (`removeAutoRegistration`). */
  registrationConfig?: RegistrationConfig | null;
}

/** A policy (stored, not evaluated). */
export interface PolicyRecord {
  accountId: string;
  policyName: string;
  policyDocument: string;
  policyVersionId: string;
  creationDate: number;
  lastModifiedDate: number;
}

/** An outgoing transfer as listed by ListOutgoingCertificates. */
export interface OutgoingTransfer {
  certificateId: string;
  transferredTo: string;
  transferDate: number;
  transferMessage: string | null;
  creationDate: number;
}

/** certgate's own issuing CA (CreateKeysAndCertificate, CreateCertificateFromCsr). */
export interface IssuingCaRecord {
  certificatePem: string;
  /**
   * PKCS#8 PEM. Encrypted at rest when the registry has a master key
   * (`ts/registry/secrets.ts`); records always carry it opened.
   */
  privateKeyPem: string;
  createdAt: number;
}

/** Everything the control plane and the CLI use. */
export interface Registry extends RegistryReader, RegistryAuthorizerWriter {
  settings(): Promise<RegistrySettings>;
  close(): Promise<void>;

  // Accounts, credentials, domains.
  /** Throws ALREADY_EXISTS for a taken account id, access key or endpoint prefix. */
  createAccount(account: { accountId: string; endpointPrefix: string }): Promise<Account>;
  getAccount(accountId: string): Promise<Account | null>;
  listAccounts(): Promise<Account[]>;
  /**
   * Changes after `after` (a sequence; 0 = from the start) in commit order, at most
   * `limit`; of one account, or of all accounts when `accountId` is null (fleet mode).
   */
  listChanges(accountId: string | null, after: number, limit: number): Promise<ChangeRecord[]>;
  /** Change an account's authorizer settings; returns the account. Throws NOT_FOUND. */
  setAccountSettings(accountId: string, settings: AccountSettings): Promise<Account>;
  /**
   * Throws NOT_FOUND (account) or ALREADY_EXISTS (access key id). With `audit`, the audit
   * row (result OK) is written in the same transaction as the key (branch keys).
   */
  addCredential(credential: NewCredential, audit?: NewAuditEntry): Promise<void>;
  getCredential(accessKeyId: string): Promise<Credential | null>;
  listCredentials(accountId: string): Promise<Credential[]>;
  /**
   * Attach a custom domain (lower-case DNS name) for SNI routing. Throws NOT_FOUND /
   * ALREADY_EXISTS, or RESERVED_DOMAIN for a name in the endpoint namespace (endpoints.ts).
   */
  addDomain(accountId: string, domainName: string): Promise<void>;
  /** Throws NOT_FOUND when the account does not hold the domain. */
  removeDomain(accountId: string, domainName: string): Promise<void>;
  listDomains(accountId: string): Promise<string[]>;

  // Access keys (branch keys).
  /**
   * Activate or deactivate a key of the account. NOT_FOUND unless the account holds it;
   * LAST_FULL_ACCESS_KEY when it would leave the account without an ACTIVE FULL key.
   */
  updateCredentialStatus(accountId: string, accessKeyId: string, status: AccessKeyStatus, audit?: NewAuditEntry): Promise<Credential>;
  /** Delete a key of the account; same refusals as `updateCredentialStatus`. `audit` as for `addCredential`. */
  deleteCredential(accountId: string, accessKeyId: string, audit?: NewAuditEntry): Promise<void>;

  // Audit log of admin writes.
  appendAudit(entry: NewAuditEntry): Promise<AuditEntry>;
  /** The account's audit rows with `sequence > afterSequence`, oldest first, at most `limit`. */
  listAudit(accountId: string, afterSequence: number, limit: number): Promise<AuditEntry[]>;

  // Registration code (one per account).
  /** Returns the account's code, storing `candidate` first when it has none. */
  getOrCreateRegistrationCode(accountId: string, candidate: string): Promise<string>;
  /** Throws NOT_FOUND when there is no code. */
  deleteRegistrationCode(accountId: string): Promise<void>;
  getRegistrationCode(accountId: string): Promise<string | null>;

  // CA certificates.
  /** Enforces ALREADY_EXISTS, DEFAULT_CA_OWNED_ELSEWHERE and SUBJECT_LIMIT atomically. */
  insertCaCertificate(ca: NewCaCertificate): Promise<CaCertificateRecord>;
  /** Throws NOT_FOUND. Bumps customerVersion and generationId. */
  updateCaCertificate(accountId: string, caCertificateId: string, update: CaCertificateUpdate): Promise<CaCertificateRecord>;
  /** Throws NOT_FOUND, or STATE when the CA is ACTIVE. Device certificates it registered are kept. */
  deleteCaCertificate(accountId: string, caCertificateId: string): Promise<void>;
  listCaCertificates(accountId: string, page: PageRequest, templateName?: string): Promise<Page<CaCertificateRecord>>;

  // Device certificates.
  /**
   * Throws ALREADY_EXISTS when the account already holds (or is being offered) the
   * certificate, or when the registration breaks the multi-account rule (rules/registration.ts).
   */
  insertCertificate(cert: NewCertificate): Promise<CertificateRecord>;
  /**
   * Register many certificates in one write transaction (bulk provisioning). Each is
   * checked exactly as `insertCertificate` checks it; a refused one is reported in its
   * result and leaves the others to commit. Results are in input order.
   */
  insertCertificates(certs: readonly NewCertificate[]): Promise<BulkInsertResult[]>;
  /**
   * Compare-and-set the status: throws NOT_FOUND, or STATE when the current status is
   * not in `allowedFrom`. Setting the current status again succeeds without a version bump.
   */
  setCertificateStatus(
    accountId: string,
    certificateId: string,
    to: CertificateStatus,
    allowedFrom: readonly CertificateStatus[],
  ): Promise<CertificateRecord>;
  /**
   * Throws NOT_FOUND; STATE unless status is in `allowedFrom`; THINGS_ATTACHED; and
   * POLICIES_ATTACHED unless `forceDelete`. forceDelete also removes the policy attachments.
   */
  deleteCertificate(
    accountId: string,
    certificateId: string,
    allowedFrom: readonly CertificateStatus[],
    forceDelete: boolean,
  ): Promise<void>;
  /** Certificates owned by the account plus those offered to it (PENDING_TRANSFER). */
  listCertificates(accountId: string, page: PageRequest, caCertificateId?: string): Promise<Page<CertificateRecord>>;
  /** A certificate the account owns, or one offered to it by a pending transfer. */
  getCertificateVisibleTo(accountId: string, certificateId: string): Promise<CertificateRecord | null>;

  // Transfers (https://docs.aws.amazon.com/iot/latest/apireference/API_TransferCertificate.html).
  /** Source side. STATE unless INACTIVE; POLICIES_ATTACHED; THINGS_ATTACHED; NOT_FOUND. */
  startTransfer(accountId: string, certificateId: string, targetAccountId: string, message: string | null): Promise<CertificateRecord>;
  /** Target side: ownership moves. NOT_FOUND unless offered to `accountId`; STATE when already completed. */
  acceptTransfer(accountId: string, certificateId: string, setAsActive: boolean): Promise<CertificateRecord>;
  /** Target side: back to the source as INACTIVE. */
  rejectTransfer(accountId: string, certificateId: string, reason: string | null): Promise<CertificateRecord>;
  /** Source side: back to INACTIVE. */
  cancelTransfer(accountId: string, certificateId: string): Promise<CertificateRecord>;
  listOutgoingTransfers(accountId: string, page: PageRequest): Promise<Page<OutgoingTransfer>>;

  // Things and policies (stored for delete/transfer preconditions, not evaluated).
  attachThingPrincipal(accountId: string, thingName: string, principal: string): Promise<void>;
  /** Throws NOT_FOUND when not attached. */
  detachThingPrincipal(accountId: string, thingName: string, principal: string): Promise<void>;
  listPrincipalThings(accountId: string, principal: string): Promise<string[]>;
  /** Throws ALREADY_EXISTS. */
  createPolicy(accountId: string, policyName: string, policyDocument: string): Promise<PolicyRecord>;
  getPolicy(accountId: string, policyName: string): Promise<PolicyRecord | null>;
  /** Throws NOT_FOUND or POLICY_IN_USE. */
  deletePolicy(accountId: string, policyName: string): Promise<void>;
  listPolicies(accountId: string): Promise<PolicyRecord[]>;
  /** Throws NOT_FOUND (policy). Attaching twice is a no-op. */
  attachPolicy(accountId: string, policyName: string, target: string): Promise<void>;
  /** Throws NOT_FOUND (policy or attachment). */
  detachPolicy(accountId: string, policyName: string, target: string): Promise<void>;
  listAttachedPolicies(accountId: string, target: string): Promise<PolicyRecord[]>;
  listPolicyTargets(accountId: string, policyName: string): Promise<string[]>;

  // Issuing CA (one per installation).
  getIssuingCa(): Promise<IssuingCaRecord | null>;
  /** Store `candidate` unless an issuing CA exists; returns the stored one (first writer wins). */
  ensureIssuingCa(candidate: IssuingCaRecord): Promise<IssuingCaRecord>;

  // Imported issuing CAs (branch secrets): an operator's own CA instead of certgate's.
  /**
   * Replace the issuing CA: the installation's (`accountId` null; it replaces the one
   * certgate made) or one account's (it then signs that account's certificates).
   * Throws NOT_FOUND for an unknown account.
   */
  importIssuingCa(record: IssuingCaRecord, accountId: string | null): Promise<void>;
  /** The CA imported for the account, or null (the installation's signs for it). */
  getAccountIssuingCa(accountId: string): Promise<IssuingCaRecord | null>;

  // Secrets at rest (branch secrets; ts/registry/secrets.ts).
  /** The id of the master key the registry's secrets are encrypted with; null when they are stored in clear. */
  secretsKeyId(): Promise<string | null>;
  /**
   * Rewrite every stored secret (credentials, issuing CA keys) in one transaction, as
   * `plan` says (seal a clear registry, or re-wrap under a new master key).
   */
  rewriteSecrets(plan: SecretRewrite): Promise<ResealReport>;

  // Certificate revocation lists (branch crl), one current CRL per registered CA.
  getCaCrlMeta(accountId: string, caCertificateId: string): Promise<CaCrlMeta | null>;
  getCaCrl(accountId: string, caCertificateId: string): Promise<CaCrlRecord | null>;
  /**
   * Replace the CA's CRL, only if the current one is still `expectedCrlId` (null: none):
   * the caller verified the new CRL's number against that one. NOT_FOUND if the CA is not
   * registered; STATE (current = the stored crlId) if another write came first.
   */
  putCaCrl(crl: NewCaCrl, expectedCrlId: string | null): Promise<CaCrlMeta>;
  /** Remove the CA's CRL; NOT_FOUND if it has none. */
  deleteCaCrl(accountId: string, caCertificateId: string): Promise<void>;
}

/** Where a stored CRL came from (branch crl). */
export type CrlSource = 'UPLOAD' | 'DISTRIBUTION_POINT';

/** A CA's current certificate revocation list, without its bytes (branch crl). */
export interface CaCrlMeta {
  accountId: string;
  caCertificateId: string;
  /** Lowercase hex SHA-256 of the CRL's DER (the engine's crlId). */
  crlId: string;
  /** cRLNumber in decimal, or null. */
  crlNumber: string | null;
  /** Epoch seconds. */
  thisUpdate: number;
  /** Epoch seconds, or null. */
  nextUpdate: number | null;
  /** How many serials it lists. */
  entries: number;
  source: CrlSource;
  /** The distribution point URL it was fetched from (source DISTRIBUTION_POINT). */
  sourceUrl: string | null;
  /** Epoch seconds at which the engine verified it (re-verification uses the same instant). */
  verifiedAt: number;
  /** Epoch seconds of the write. */
  updatedAt: number;
}

/** A stored CRL: the input as given (DER, or PEM with a delegated signer's certificate). */
export interface CaCrlRecord extends CaCrlMeta {
  crl: Uint8Array;
}

export type NewCaCrl = Omit<CaCrlRecord, 'updatedAt'>;
