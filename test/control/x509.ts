/**
 * A minimal DER/X.509 writer for test fixtures: CA, device and verification
 * certificates and CSRs with fixed dates, signed with node:crypto keys. Only what the
 * control-plane tests need (names of CN/O/OU/C, basicConstraints, keyUsage, extendedKeyUsage).
 */
import { createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { bits, bool, explicit, integer, NULL, octets, oid, pem, printable, seq, set, time, tlv, utf8 } from '../der.js';

const ATTRIBUTE_OIDS: Record<string, string> = { CN: '2.5.4.3', O: '2.5.4.10', OU: '2.5.4.11', C: '2.5.4.6' };

/** A distinguished name from `[['CN', 'x'], ['O', 'y']]`, in that order. */
function name(attributes: readonly (readonly [string, string])[]): Buffer {
  return seq(
    ...attributes.map(([type, value]) => {
      const id = ATTRIBUTE_OIDS[type];
      if (!id) throw new Error(`unsupported attribute ${type}`);
      return set(seq(oid(id), type === 'C' ? printable(value) : utf8(value)));
    }),
  );
}

export type SignatureHash = 'sha256' | 'sha1';

function signatureAlgorithm(key: KeyObject, hash: SignatureHash): Buffer {
  if (key.asymmetricKeyType === 'ec') return seq(oid('1.2.840.10045.4.3.2'));
  return seq(oid(hash === 'sha1' ? '1.2.840.113549.1.1.5' : '1.2.840.113549.1.1.11'), NULL);
}

export type Name = readonly (readonly [string, string])[];

export interface CertificateSpec {
  subject: Name;
  /** The issuer's name and key; omit for self-signed. */
  issuer?: { name: Name; key: KeyObject };
  /** The subject's key pair (public half certified; private half signs when self-signed). */
  key: { publicKey: KeyObject; privateKey: KeyObject };
  ca?: boolean;
  serial?: number;
  notBefore?: Date;
  notAfter?: Date;
  hash?: SignatureHash;
  /** extendedKeyUsage purposes (omitted: no EKU extension, every purpose allowed). */
  eku?: readonly ('clientAuth' | 'serverAuth')[];
}

const EKU_OIDS = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2' } as const;

/** Fixed default validity that spans every plausible test run: 2024-01-01 .. 2049-12-31T23:59:59Z. */
export const FIXED_NOT_BEFORE = new Date('2024-01-01T00:00:00Z');
export const FIXED_NOT_AFTER = new Date('2049-12-31T23:59:59Z');

/** Build and sign a certificate; returns its PEM. */
export function certificate(spec: CertificateSpec): string {
  const signer = spec.issuer?.key ?? spec.key.privateKey;
  const hash = spec.hash ?? 'sha256';
  const alg = signatureAlgorithm(signer, hash);
  const basic = spec.ca ? seq(bool(true)) : seq();
  const extensions = seq(
    seq(oid('2.5.29.19'), bool(true), octets(basic)),
    seq(oid('2.5.29.15'), bool(true), octets(tlv(0x03, spec.ca ? Buffer.from([0x01, 0x06]) : Buffer.from([0x07, 0x80])))),
    ...(spec.eku === undefined ? [] : [seq(oid('2.5.29.37'), octets(seq(...spec.eku.map((p) => oid(EKU_OIDS[p])))))]),
  );
  const tbs = seq(
    explicit(0, integer(2n)),
    integer(BigInt(spec.serial ?? 1)),
    alg,
    name(spec.issuer?.name ?? spec.subject),
    seq(time(spec.notBefore ?? FIXED_NOT_BEFORE), time(spec.notAfter ?? FIXED_NOT_AFTER)),
    name(spec.subject),
    spec.key.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, extensions),
  );
  const signature = sign(signer.asymmetricKeyType === 'ec' ? 'sha256' : hash, tbs, signer);
  return pem('CERTIFICATE', seq(tbs, alg, bits(signature)));
}

/** A PKCS#10 certificate signing request for `key` with `subject`. */
export function csr(subject: Name, key: { publicKey: KeyObject; privateKey: KeyObject }): string {
  const info = seq(integer(0n), name(subject), key.publicKey.export({ type: 'spki', format: 'der' }), explicit(0));
  const alg = signatureAlgorithm(key.privateKey, 'sha256');
  return pem('CERTIFICATE REQUEST', seq(info, alg, bits(sign('sha256', info, key.privateKey))));
}

export type KeyPair = { publicKey: KeyObject; privateKey: KeyObject };

export function rsaKey(modulusLength = 2048): KeyPair {
  return generateKeyPairSync('rsa', { modulusLength });
}

export function ecKey(): KeyPair {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

/** Re-import a key from PEM (for keys returned by CreateKeysAndCertificate). */
export function privateKeyFromPem(text: string): KeyObject {
  return createPrivateKey(text);
}
