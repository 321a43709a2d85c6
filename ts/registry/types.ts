/**
 * The registry contract. Every backend (SQLite now, PostgreSQL later) implements
 * `Registry` and passes the same contract suite (`test/registry/contract.ts`).
 *
 * Methods are async so a networked backend fits; the SQLite backend answers
 * synchronously inside the promise. Every write is durable when its promise resolves
 * (SQLite WAL + synchronous=FULL), and is visible to every process that opens the same
 * database before the promise resolves: this is what makes revocation immediate for
 * the authorizer (no status cache anywhere).
 */

export type CertificateStatus =
  | 'ACTIVE'
  | 'INACTIVE'
  | 'REVOKED'
  | 'PENDING_TRANSFER'
  | 'REGISTER_INACTIVE'
  | 'PENDING_ACTIVATION';

export type CaStatus = 'ACTIVE' | 'INACTIVE';
export type CertificateMode = 'DEFAULT' | 'SNI_ONLY';
export type AutoRegistrationStatus = 'ENABLE' | 'DISABLE';

export interface Account {
  /** 12 digits. */
  accountId: string;
  /** 14 lowercase alphanumerics; `<prefix>-ats.iot.<region>.<domain>` is the data endpoint. */
  endpointPrefix: string;
  createdAt: number;
}

export interface Credential {
  accessKeyId: string;
  secretAccessKey: string;
  accountId: string;
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
}

export interface CaCertificateRecord {
  accountId: string;
  certificateId: string;
  certificatePem: string;
  status: CaStatus;
  certificateMode: CertificateMode;
  autoRegistrationStatus: AutoRegistrationStatus;
  subject: string;
  creationDate: number;
  lastModifiedDate: number;
  customerVersion: number;
  generationId: string;
  notBefore: number;
  notAfter: number;
}

/** What the authorizer needs from the registry on every decision. */
export interface RegistryReader {
  /** The account whose data endpoint or custom domain is `host` (already lower-cased). */
  accountForHost(host: string): Promise<Account | null>;
  getCertificate(accountId: string, certificateId: string): Promise<CertificateRecord | null>;
  /** Every account's registration of this certificate (for connections without SNI). */
  findCertificateRegistrations(certificateId: string): Promise<CertificateRecord[]>;
  getCaCertificate(accountId: string, caCertificateId: string): Promise<CaCertificateRecord | null>;
  /** CAs registered in the account whose subject equals `subject` (RFC 4514 string). */
  findCaCertificatesBySubject(accountId: string, subject: string): Promise<CaCertificateRecord[]>;
}

/** A just-in-time-registration or other registry event, stored durably. */
export interface RegistryEvent {
  sequence: number;
  accountId: string;
  topic: string;
  payload: Record<string, unknown>;
  createdAt: number;
}
