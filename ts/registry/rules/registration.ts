/**
 * Cross-account registry rules, written once and applied by both backends (SQLite and
 * PostgreSQL) inside the write transaction of every path that creates or moves a
 * registration: RegisterCertificate, RegisterCertificateWithoutCA,
 * CreateKeysAndCertificate, CreateCertificateFromCsr, the operator CLI (which runs the
 * same operations), JITR and AcceptCertificateTransfer (issue 14, defects 1 and 2).
 */
import { inEndpointNamespace, endpointApex } from '../endpoints.js';
import { RegistryError, type CertificateMode, type RegistrySettings } from '../types.js';

/**
 * A custom domain inside the installation's endpoint namespace would shadow (or squat)
 * an account's data endpoint; every such name is refused, whoever asks.
 */
export function reservedDomain(domainName: string, settings: RegistrySettings): RegistryError | undefined {
  if (!inEndpointNamespace(domainName, settings)) return undefined;
  return new RegistryError('RESERVED_DOMAIN', 'RESERVED_DOMAIN', { domainName, apex: endpointApex(settings) });
}

/** An existing registration of the same certificate in another account. */
export interface OtherRegistration {
  accountId: string;
  certificateMode: CertificateMode;
}

/**
 * The multi-account rule for device certificates, the same as AWS IoT's for CA
 * certificates (https://docs.aws.amazon.com/iot/latest/developerguide/register-CA-cert.html):
 * at most one account holds a certificate in DEFAULT mode; any number of accounts may
 * hold it in SNI_ONLY mode, next to that one DEFAULT registration or without it. So a
 * registration made from public material alone (SNI_ONLY: a CA registered without proof
 * of its key, or RegisterCertificateWithoutCA) can never keep the owner from registering
 * the certificate in DEFAULT mode. `others` are the certificate's registrations in
 * accounts other than `accountId`.
 */
export function registrationRefusal(
  accountId: string,
  mode: CertificateMode,
  certificateId: string,
  others: readonly OtherRegistration[],
): RegistryError | undefined {
  if (mode !== 'DEFAULT') return undefined;
  const owner = others.find((o) => o.certificateMode === 'DEFAULT' && o.accountId !== accountId);
  if (owner === undefined) return undefined;
  return new RegistryError('ALREADY_EXISTS', 'CERTIFICATE_OWNED_ELSEWHERE', { resourceId: certificateId });
}
