/**
 * The engine contract: what both the wasm and the native build of `certgate-core`
 * expose, with identical names and shapes (`crates/certgate-api`). A refusal is data,
 * never an exception; only invalid argument types throw.
 */
import type { EngineErrorCode } from './errors.js';

export type { EngineErrorCode } from './errors.js';

export type EngineName = 'native' | 'wasm';
export const ENGINE_NAMES: readonly EngineName[] = ['native', 'wasm'];

export interface Refusal {
  ok: false;
  /** An {@link EngineErrorCode}, or a code of the layer that produced the refusal (e.g. the pool's). */
  code: EngineErrorCode | (string & {});
  message: string;
}

export type Outcome<T> = ({ ok: true } & T) | Refusal;

/** One attribute of a distinguished name, in certificate order. */
export interface NameAttribute {
  /** RFC 4514 short name (`CN`, `O`, …) or the dotted OID. */
  name: string;
  oid: string;
  value: string;
}

export interface PublicKeyInfo {
  type: 'RSA' | 'EC' | 'DSA' | 'UNKNOWN';
  /** Modulus bits (RSA), p bits (DSA), field bits (EC); 0 when unknown. */
  bits: number;
  /** `P-256`, `P-384`, `P-521`, or the curve OID for other curves. */
  curve?: string;
  /** Key algorithm OID when `type` is `UNKNOWN`. */
  oid?: string;
}

export interface BasicConstraints {
  ca: boolean;
  pathLen: number | null;
  critical: boolean;
}

export interface AltName {
  type: 'dns' | 'email' | 'uri' | 'ip' | 'directoryName' | 'other';
  value: string;
}

export interface CertificateInfo {
  /** Lowercase hex SHA-256 of the DER (AWS IoT certificateId). */
  certificateId: string;
  version: number;
  /** RFC 4514 string (last RDN first). */
  subject: string;
  subjectAttributes: NameAttribute[];
  issuer: string;
  issuerAttributes: NameAttribute[];
  /** Lowercase hex of the serial INTEGER's content octets. */
  serialNumber: string;
  /** Epoch seconds. */
  notBefore: number;
  /** Epoch seconds. */
  notAfter: number;
  /** AWS IoT name (`SHA256WITHRSA` …) or `UNSUPPORTED`. */
  signatureAlgorithm: string;
  signatureAlgorithmOid: string;
  publicKey: PublicKeyInfo;
  basicConstraints: BasicConstraints | null;
  /** RFC 5280 bit names (`digitalSignature`, `keyCertSign`, …). */
  keyUsage: string[] | null;
  /** `clientAuth`, `serverAuth`, … or dotted OIDs. */
  extendedKeyUsage: string[] | null;
  subjectAltNames: AltName[];
  /** Hex. */
  subjectKeyIdentifier: string | null;
  /** Hex of the keyIdentifier. */
  authorityKeyIdentifier: string | null;
  /** http(s) URIs from cRLDistributionPoints (fullName of each point), in order; `[]` when absent. */
  crlDistributionPoints: string[];
}

export interface ChainInfo {
  certificates: CertificateInfo[];
}

/** A validated path. */
export interface VerifiedChain {
  leafCertificateId: string;
  /** certificateId of the anchor (registered CA) the path ends at. */
  anchorCertificateId: string;
  /** certificateIds from the leaf to the anchor. */
  path: string[];
  /**
   * Serial numbers along `path`, same order (lowercase hex, the spelling of
   * {@link CertificateInfo.serialNumber}): what a CRL lookup per link needs, without
   * parsing the leaf again with `inspect`.
   */
  serials: string[];
  /** Earliest notAfter on the path, epoch seconds: the verdict is cacheable until then. */
  notAfter: number;
}

export interface RegistrationProof {
  caCertificateId: string;
  verificationCertificateId: string;
}

export interface IssuedCertificate {
  certificateId: string;
  /** PEM with a trailing newline. */
  certificatePem: string;
}

/** The certificates of one `issueCertificates` batch, in input order. */
export interface IssuedBatch {
  certificates: IssuedCertificate[];
}

/** EC key types `generateKeys` makes. */
export type EcKeyType = 'p256' | 'p384' | 'p521';

/** A key pair made by `generateKeys`, both PEM with a trailing newline. */
export interface GeneratedKey {
  /** PKCS#8 PrivateKeyInfo (with the public key). */
  privateKeyPem: string;
  /** SubjectPublicKeyInfo. */
  publicKeyPem: string;
}

/** The key pairs of one `generateKeys` batch, in input order. */
export interface KeyBatch {
  keys: GeneratedKey[];
}

/** A verified certificate revocation list of a registered CA (RFC 5280 section 5). */
export interface VerifiedCrl {
  /** Lowercase hex SHA-256 of the CRL's DER. */
  crlId: string;
  caCertificateId: string;
  /** The CA's own certificateId, or the delegated CRL signer's. */
  signerCertificateId: string;
  /** cRLNumber in decimal (up to 20 octets, so a string), or null. */
  crlNumber: string | null;
  /** Epoch seconds. */
  thisUpdate: number;
  /** Epoch seconds; null when the CRL has none. */
  nextUpdate: number | null;
  signatureAlgorithm: string;
  /** Lowercase hex of each revoked serial (the spelling of CertificateInfo.serialNumber). */
  revokedSerials: string[];
}

/** `client`: a leaf EKU, when present, must include clientAuth; `any`: no EKU check. */
export type EkuPolicy = 'client' | 'any';

/**
 * The raw binding surface, identical for `build/native` and `build/wasm`. Byte inputs
 * accept PEM text (as UTF-8 bytes) or DER; times are epoch seconds.
 */
export interface EngineBinding {
  /** The first certificate of the input. */
  inspect(input: Uint8Array): Outcome<CertificateInfo>;
  /** Every certificate of a PEM bundle, in order. */
  inspectChain(input: Uint8Array): Outcome<ChainInfo>;
  /**
   * RFC 5280 path validation of `leaf` (extra PEM blocks after the first count as
   * intermediates) up to one of `anchors` at `at`.
   */
  verifyChain(leaf: Uint8Array, intermediates: Uint8Array[], anchors: Uint8Array[], at: number, eku: EkuPolicy): Outcome<VerifiedChain>;
  /** RegisterCACertificate proof of possession; `REGISTRATION_CODE_MISMATCH` only when the proof is otherwise valid. */
  verifyRegistrationProof(ca: Uint8Array, verification: Uint8Array, registrationCode: string, at: number): Outcome<RegistrationProof>;
  /** CreateKeysAndCertificate profile for an SPKI public key; `serial` is 20 random bytes; issuer key PKCS#8. */
  issueCertificate(
    publicKey: Uint8Array,
    issuerCertificate: Uint8Array,
    issuerKey: Uint8Array,
    serial: Uint8Array,
    notBefore: number,
  ): Outcome<IssuedCertificate>;
  /**
   * `issueCertificate` for many public keys under one CA, whose key is parsed once:
   * `serials[i]` for `publicKeys[i]`; at most 10,000 entries (`TOO_MANY_CERTIFICATES`);
   * the first refused entry refuses the batch, its message naming it (`entry N`).
   */
  issueCertificates(
    publicKeys: Uint8Array[],
    issuerCertificate: Uint8Array,
    issuerKey: Uint8Array,
    serials: Uint8Array[],
    notBefore: number,
  ): Outcome<IssuedBatch>;
  /**
   * EC key pairs from caller-drawn private scalars (32, 48 or 66 random bytes for P-256,
   * P-384, P-521); a scalar outside [1, n-1] refuses the batch (`INVALID_ARGUMENT`,
   * `entry N`): draw again. At most 10,000 entries.
   */
  generateKeys(keyType: EcKeyType, secrets: Uint8Array[]): Outcome<KeyBatch>;
  /** CreateCertificateFromCsr: checks the CSR's own signature and key policy, keeps its key and subject. */
  issueFromCsr(
    csr: Uint8Array,
    issuerCertificate: Uint8Array,
    issuerKey: Uint8Array,
    serial: Uint8Array,
    notBefore: number,
  ): Outcome<IssuedCertificate>;
  /** A self-signed issuing CA (CA:TRUE pathLen 0) for a PKCS#8 key and an RFC 4514 subject. */
  createIssuingCa(key: Uint8Array, subject: string, serial: Uint8Array, notBefore: number, notAfter: number): Outcome<IssuedCertificate>;
  /**
   * Parse and verify a CA's CRL (DER, or PEM with an `X509 CRL` block and optionally the
   * delegated signer's certificate). `at` judges a delegated signer's certificate;
   * thisUpdate/nextUpdate are returned for the caller to judge. `previousNumber` is the
   * current CRL's number: a lower one is refused.
   */
  verifyCrl(crl: Uint8Array, ca: Uint8Array, at: number, previousNumber: string | null): Outcome<VerifiedCrl>;
  errorCodes(): string[];
}

/** An engine as the orchestrator uses it. */
export interface Engine extends EngineBinding {
  readonly name: EngineName;
}
