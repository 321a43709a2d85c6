/**
 * Test PKI: builds real X.509 v3 certificates (DER, signed with node:crypto) with fixed
 * dates, so tests never depend on today's date and can mint thousands of distinct leaves
 * quickly (the cold benchmark needs a new leaf per request). Keys are fresh per run;
 * nothing about the outcome depends on their values.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { bits, bool, explicit, integer, NULL, octets, oid, pem, seq, set, time, tlv, utf8 } from '../der.js';

// ---- certificates ----

export type KeyKind = 'rsa2048' | 'p256' | 'p384';

export interface Identity {
  cn: string;
  key: { privateKey: KeyObject; publicKey: KeyObject };
  kind: KeyKind;
}

/** Fixed validity windows (epoch seconds). */
export const DATES = {
  /** 2020-01-01T00:00:00Z */
  notBefore: 1_577_836_800,
  /** 2099-12-31T23:59:59Z: valid for any real "now" an e2e test runs at. */
  notAfter: 4_102_444_799,
  /** A fixed "now" for unit tests: 2030-06-01T00:00:00Z. */
  now: 1_906_934_400,
  /** 2021-01-01T00:00:00Z: an already-expired notAfter. */
  expired: 1_609_459_200,
  /** 2090-01-01T00:00:00Z: a notBefore still in the future. */
  future: 3_786_912_000,
} as const;

const keyCache = new Map<KeyKind, Identity['key']>();

/** A key pair of `kind`; `shared` reuses one per kind (fast; leaves still differ by serial). */
export function keyPair(kind: KeyKind, shared = false): Identity['key'] {
  const hit = shared ? keyCache.get(kind) : undefined;
  if (hit) return hit;
  const key =
    kind === 'rsa2048'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: kind === 'p256' ? 'P-256' : 'P-384' });
  if (shared) keyCache.set(kind, key);
  return key;
}

export function identity(cn: string, kind: KeyKind = 'p256', shared = true): Identity {
  return { cn, kind, key: keyPair(kind, shared) };
}

const name = (cn: string): Buffer => seq(set(seq(oid('2.5.4.10'), utf8('certgate tests'))), set(seq(oid('2.5.4.3'), utf8(cn))));

function algorithm(signer: Identity, weak: boolean): { der: Buffer; hash: string } {
  // sha1WithRSAEncryption: outside the seven algorithms AWS IoT accepts (https://docs.aws.amazon.com/iot/latest/developerguide/x509-client-certs.html).
  if (weak) return { der: seq(oid('1.2.840.113549.1.1.5'), NULL), hash: 'sha1' };
  if (signer.kind === 'rsa2048') return { der: seq(oid('1.2.840.113549.1.1.11'), NULL), hash: 'sha256' };
  if (signer.kind === 'p384') return { der: seq(oid('1.2.840.10045.4.3.3')), hash: 'sha384' };
  return { der: seq(oid('1.2.840.10045.4.3.2')), hash: 'sha256' };
}

export interface CertOptions {
  subject: Identity;
  /** Defaults to the subject (self-signed). */
  issuer?: Identity;
  ca?: boolean;
  serial?: bigint;
  notBefore?: number;
  notAfter?: number;
  /** DNS SANs (server certificates for NGINX). */
  dns?: string[];
  /** Extended key usage: client (default for leaves), server, or none (CAs). */
  eku?: 'client' | 'server';
  /** Sign with SHA-1 (RSA issuers only): an unsupported algorithm. */
  sha1?: boolean;
  /** cRLDistributionPoints: one distribution point per URI, as fullName (branch crlrefresh). */
  crlUrls?: string[];
}

export interface Cert {
  der: Buffer;
  pem: string;
  /** AWS certificateId: lowercase hex SHA-256 of the DER. */
  id: string;
  identity: Identity;
}

let serialCounter = 1000n;

/** Build and sign one certificate. */
export function certificate(o: CertOptions): Cert {
  const issuer = o.issuer ?? o.subject;
  const alg = algorithm(issuer, o.sha1 === true);
  const exts: Buffer[] = [seq(oid('2.5.29.19'), bool(true), octets(o.ca ? seq(bool(true)) : seq()))];
  // keyUsage: keyCertSign|cRLSign for CAs, digitalSignature for leaves.
  exts.push(seq(oid('2.5.29.15'), bool(true), octets(o.ca ? tlv(0x03, Buffer.from([1, 0x06])) : tlv(0x03, Buffer.from([7, 0x80])))));
  const eku = o.eku ?? (o.ca ? undefined : 'client');
  if (eku !== undefined) {
    exts.push(seq(oid('2.5.29.37'), octets(seq(oid(eku === 'client' ? '1.3.6.1.5.5.7.3.2' : '1.3.6.1.5.5.7.3.1')))));
  }
  if (o.dns !== undefined) exts.push(seq(oid('2.5.29.17'), octets(seq(...o.dns.map((d) => tlv(0x82, Buffer.from(d)))))));
  // DistributionPoint ::= SEQUENCE { distributionPoint [0] { fullName [0] GeneralNames } } (RFC 5280 4.2.1.13).
  if (o.crlUrls !== undefined)
    exts.push(seq(oid('2.5.29.31'), octets(seq(...o.crlUrls.map((u) => seq(explicit(0, explicit(0, tlv(0x86, Buffer.from(u))))))))));
  const spki = o.subject.key.publicKey.export({ type: 'spki', format: 'der' });
  const tbs = seq(
    explicit(0, integer(2n)),
    integer(o.serial ?? serialCounter++),
    alg.der,
    name(issuer.cn),
    seq(time(o.notBefore ?? DATES.notBefore), time(o.notAfter ?? DATES.notAfter)),
    name(o.subject.cn),
    spki,
    explicit(3, seq(...exts)),
  );
  const signature = sign(alg.hash, tbs, issuer.key.privateKey);
  const der = seq(tbs, alg.der, bits(signature));
  return { der, pem: toPem(der), id: createHash('sha256').update(der).digest('hex'), identity: o.subject };
}

export function toPem(der: Buffer): string {
  return pem('CERTIFICATE', der);
}

/** PKCS#8 PEM of a private key (for curl / NGINX). */
export function keyPem(id: Identity): string {
  return id.key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * The five-character escaping Envoy and NGINX use for PEM in headers (URL-encoded PEM:
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/service/auth/v3/attribute_context.proto `Peer.certificate`,
 * https://nginx.org/en/docs/http/ngx_http_ssl_module.html#var_ssl_client_escaped_cert).
 */
export function escapePem(text: string): string {
  return text.replace(/[\n +/=]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

// ---- certificate revocation lists (branch crl) ----

export interface CrlOptions {
  /** The CA whose name and key issue the CRL. */
  issuer: Identity;
  /** Serials of the revoked certificates. */
  serials: bigint[];
  /** cRLNumber. */
  number: bigint;
  /** Defaults to DATES.notBefore. */
  thisUpdate?: number;
  /** Defaults to DATES.notAfter. */
  nextUpdate?: number;
}

/** A v2 CRL (RFC 5280 5.1), DER, signed by the issuer's key. */
export function revocationList(o: CrlOptions): Buffer {
  const alg = algorithm(o.issuer, false);
  const thisUpdate = time(o.thisUpdate ?? DATES.notBefore);
  const entries = o.serials.map((s) => seq(integer(s), thisUpdate));
  const tbs = seq(
    integer(1n),
    alg.der,
    name(o.issuer.cn),
    thisUpdate,
    time(o.nextUpdate ?? DATES.notAfter),
    ...(entries.length > 0 ? [seq(...entries)] : []),
    explicit(0, seq(seq(oid('2.5.29.20'), octets(integer(o.number))))),
  );
  return seq(tbs, alg.der, bits(sign(alg.hash, tbs, o.issuer.key.privateKey)));
}

/** PEM of a CRL. */
export function crlPem(der: Buffer): string {
  return pem('X509 CRL', der);
}
