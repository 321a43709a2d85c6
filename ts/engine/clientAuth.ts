/**
 * Whether a parsed leaf may authenticate a TLS client, by its extendedKeyUsage
 * (RFC 5280 section 4.2.1.12, https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.12):
 * without the extension every purpose is allowed; with it, clientAuth or
 * anyExtendedKeyUsage must be listed. The same rule as the engine's `verifyChain` with
 * the `client` EKU policy (crates/certgate-core/src/rules.rs `check_eku`), for the places
 * that hold an `inspect` result instead: registration (ts/control/pki.ts) and the
 * authorizer's no-CA certificates, whose chains are never verified (ts/authz/decision.ts).
 */
import type { CertificateInfo } from './types.js';

export function allowsClientAuth(info: Pick<CertificateInfo, 'extendedKeyUsage'>): boolean {
  const eku = info.extendedKeyUsage;
  return eku === null || eku.includes('clientAuth') || eku.includes('anyExtendedKeyUsage');
}
