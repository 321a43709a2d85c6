/**
 * Certificate checks the control plane makes before registering anything
 * (https://docs.aws.amazon.com/iot/latest/apireference/API_RegisterCACertificate.html,
 * https://docs.aws.amazon.com/iot/latest/apireference/API_RegisterCertificate.html,
 * https://docs.aws.amazon.com/iot/latest/apireference/API_RegisterCertificateWithoutCA.html,
 * https://docs.aws.amazon.com/iot/latest/developerguide/x509-client-certs.html). Facts (certificateId, subject, issuer, validity, algorithms) come from
 * the engine's `inspect`, so they match what the authorizer computes byte for byte;
 * signature checks use node:crypto's `X509Certificate` (OpenSSL).
 */
import { X509Certificate } from 'node:crypto';
import { AWS_SIGNATURE_ALGORITHMS } from '../engine/algorithms.js';
import { allowsClientAuth } from '../engine/clientAuth.js';
import type { CertificateInfo, Engine } from '../engine/types.js';
import { AwsError } from './errors.js';

/** Certificate PEM inputs are at most 65536 characters (https://docs.aws.amazon.com/iot/latest/apireference/API_RegisterCertificate.html). */
export const MAX_CERTIFICATE_PEM_CHARS = 65536;

/**
 * Smallest RSA (and DSA) modulus accepted: "The key in the certificate is not valid" below it
 * (https://docs.aws.amazon.com/iot/latest/developerguide/audit-chk-device-cert-key-quality.html).
 */
export const MIN_RSA_BITS = 2048;
const ACCEPTED_CURVES = ['prime256v1', 'secp384r1', 'secp521r1'];

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** A certificate that parsed; only `parseCertificate` builds one. */
export interface ParsedCertificate {
  readonly pem: string;
  readonly info: CertificateInfo;
  readonly x509: X509Certificate;
}

function invalidCert(message: string): AwsError {
  return new AwsError('CertificateValidationException', message);
}

/** Parse exactly one PEM certificate from the member `member`, or throw CertificateValidationException. */
export function parseCertificate(engine: Engine, pem: string, member: string): ParsedCertificate {
  if (pem.length > MAX_CERTIFICATE_PEM_CHARS) {
    throw new AwsError('InvalidRequestException', `${member} must be at most ${MAX_CERTIFICATE_PEM_CHARS} characters.`);
  }
  const blocks = pem.match(CERT_BLOCK) ?? [];
  if (blocks.length !== 1) {
    throw invalidCert(
      blocks.length === 0
        ? `${member} does not contain a PEM certificate (-----BEGIN CERTIFICATE-----).`
        : `${member} must contain exactly one certificate; it contains ${blocks.length}.`,
    );
  }
  const block = blocks[0] ?? '';
  const outcome = engine.inspect(Buffer.from(block, 'utf8'));
  if (!outcome.ok) throw invalidCert(`${member} is not a valid certificate: ${outcome.message}`);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(block);
  } catch (err) {
    throw invalidCert(`${member} is not a valid certificate: ${err instanceof Error ? err.message : String(err)}`);
  }
  const { ok: _ok, ...info } = outcome;
  return { pem: `${block}\n`, info, x509 };
}

/** Registration-time checks common to every certificate (https://docs.aws.amazon.com/iot/latest/developerguide/audit-chk-device-cert-key-quality.html). */
export function checkRegistrable(cert: ParsedCertificate, nowSeconds: number): void {
  const { info } = cert;
  if (nowSeconds < info.notBefore || nowSeconds > info.notAfter) {
    throw invalidCert(
      `The certificate is outside its validity period (${new Date(info.notBefore * 1000).toISOString()} to ${new Date(info.notAfter * 1000).toISOString()}).`,
    );
  }
  if (!AWS_SIGNATURE_ALGORITHMS.has(info.signatureAlgorithm)) {
    throw invalidCert(
      `The certificate signature algorithm is not supported: OID ${info.signatureAlgorithmOid} (accepted: ${[...AWS_SIGNATURE_ALGORITHMS].join(', ')}).`,
    );
  }
  const key = cert.x509.publicKey;
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  const keyOk =
    ((type === 'rsa' || type === 'dsa') && (details.modulusLength ?? 0) >= MIN_RSA_BITS) ||
    (type === 'ec' && ACCEPTED_CURVES.includes(details.namedCurve ?? ''));
  if (!keyOk) throw invalidCert('The key in the certificate is not valid');
}

/**
 * A device certificate must be usable for TLS client authentication: an extendedKeyUsage
 * that lists neither clientAuth nor anyExtendedKeyUsage (e.g. only serverAuth) would be
 * denied on every connection by the authorizer (issue 14, defect 7; docs/api.md).
 */
export function checkClientAuth(cert: ParsedCertificate): void {
  if (allowsClientAuth(cert.info)) return;
  throw invalidCert(
    `The certificate's extendedKeyUsage (${(cert.info.extendedKeyUsage ?? []).join(', ') || 'empty'}) does not include clientAuth, so it cannot authenticate a device (RFC 5280 section 4.2.1.12); issue it with clientAuth, or without the extension.`,
  );
}

/** A CA must carry basicConstraints CA:TRUE (https://docs.aws.amazon.com/iot/latest/developerguide/register-CA-cert.html). */
export function checkIsCa(cert: ParsedCertificate): void {
  if (!cert.x509.ca) throw invalidCert('The CA certificate does not have the basicConstraints extension as true');
}

/** Whether `child` carries a signature made by `issuer`'s key and names it as issuer. */
export function isSignedBy(child: ParsedCertificate, issuer: ParsedCertificate): boolean {
  if (child.info.issuer !== issuer.info.subject) return false;
  try {
    return child.x509.verify(issuer.x509.publicKey);
  } catch {
    return false;
  }
}
