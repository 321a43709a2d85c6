/**
 * The issuing CA of CreateKeysAndCertificate / CreateCertificateFromCsr. An account signs
 * with the CA imported for it (`certgate ca import-issuing --account`), else with the
 * installation's: one imported by the operator (`certgate ca import-issuing`), else
 * certgate's own, created on first use (RSA 2048 key from node:crypto, certificate built
 * by the engine). All are stored in the registry (keys sealed like every secret), so
 * every process signs with the same CA.
 */
import { createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { IssuingCaRecord } from '../../registry/types.js';
import type { ControlContext } from '../context.js';
import { AwsError, invalid } from '../errors.js';
import { checkIsCa, checkRegistrable, parseCertificate } from '../pki.js';

/**
 * Validity of the issuing CA: 2020-01-01 to 2049-12-31T23:59:59Z, covering every certificate it signs
 * (AWS-generated certificates expire then: https://docs.aws.amazon.com/iot/latest/developerguide/x509-client-certs.html).
 */
const CA_NOT_BEFORE = 1577836800;
const CA_NOT_AFTER = 2524607999;

/** The stored issuing CA, creating it when the registry has none. */
export async function issuingCa(ctx: ControlContext): Promise<IssuingCaRecord> {
  const existing = await ctx.registry.getIssuingCa();
  if (existing) return existing;
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const made = ctx.engine.createIssuingCa(
    Buffer.from(privateKeyPem, 'utf8'),
    `CN=certgate issuing CA ${ctx.settings.region},O=certgate`,
    randomBytes(20),
    CA_NOT_BEFORE,
    CA_NOT_AFTER,
  );
  if (!made.ok) throw new AwsError('InternalFailureException', `Creating the issuing CA failed: ${made.message}`);
  // Another process may have raced us; the registry keeps the first one stored.
  return ctx.registry.ensureIssuingCa({ certificatePem: made.certificatePem, privateKeyPem, createdAt: ctx.now() });
}

/** The CA that signs certificates issued to `accountId`. */
export async function issuingCaFor(ctx: ControlContext, accountId: string): Promise<IssuingCaRecord> {
  return (await ctx.registry.getAccountIssuingCa(accountId)) ?? issuingCa(ctx);
}

/** Largest private key PEM accepted (an RSA 16384-bit PKCS#8 key is about 12.5 KiB; the engine's own limit is 16384). */
export const MAX_ISSUING_KEY_PEM_CHARS = 16384;

function invalidCa(message: string): AwsError {
  return new AwsError('CertificateValidationException', message);
}

function readPrivateKey(keyPem: string): KeyObject {
  if (keyPem.length > MAX_ISSUING_KEY_PEM_CHARS) throw invalid(`The private key must be at most ${MAX_ISSUING_KEY_PEM_CHARS} characters.`);
  try {
    return createPrivateKey({ key: keyPem, format: 'pem' });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw invalid(`The private key cannot be read (${reason}); give an unencrypted PEM key (PKCS#8, PKCS#1 or SEC1).`);
  }
}

/**
 * Check an operator's CA certificate and key for issuing, and return the record to store
 * (key as PKCS#8, the form the engine signs with). Refused, with nothing stored: not
 * exactly one certificate; not a CA (basicConstraints cA, RFC 5280
 * https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.9); no keyUsage keyCertSign
 * (https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.3: required to verify
 * certificate signatures); outside its validity or with an algorithm or key AWS IoT
 * refuses at registration; a key that is unreadable, encrypted or not the certificate's;
 * a key type the engine cannot sign with. Last, a throwaway certificate is signed and
 * verified, so a CA that is stored can issue.
 */
export function checkIssuingCa(ctx: ControlContext, certificatePem: string, keyPem: string): IssuingCaRecord {
  const cert = parseCertificate(ctx.engine, certificatePem, 'The issuing CA certificate');
  // keyUsage first: OpenSSL's CA check (checkIsCa) also fails without keyCertSign, and
  // would name the wrong extension.
  if (!(cert.info.keyUsage ?? []).includes('keyCertSign')) {
    throw invalidCa('The issuing CA certificate must carry the keyUsage extension with keyCertSign (RFC 5280 section 4.2.1.3).');
  }
  checkIsCa(cert);
  checkRegistrable(cert, ctx.now());
  const key = readPrivateKey(keyPem);
  if (key.type !== 'private' || !cert.x509.checkPrivateKey(key)) {
    throw invalidCa('The private key does not belong to the issuing CA certificate.');
  }
  const privateKeyPem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
  const probe = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const issued = ctx.engine.issueCertificate(
    Buffer.from(probe, 'utf8'),
    Buffer.from(cert.pem, 'utf8'),
    Buffer.from(privateKeyPem, 'utf8'),
    randomBytes(20),
    Math.floor(ctx.now()),
  );
  if (!issued.ok) throw invalidCa(`certgate cannot sign with this CA: ${issued.message}`);
  const made = parseCertificate(ctx.engine, issued.certificatePem, 'The probe certificate');
  if (!made.x509.verify(cert.x509.publicKey))
    throw invalidCa('A certificate signed with this key does not verify with the CA certificate.');
  return { certificatePem: cert.pem, privateKeyPem, createdAt: ctx.now() };
}
