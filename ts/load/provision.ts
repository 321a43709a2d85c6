/**
 * Fleet provisioning: device keys and certificates made by the engine, registered in
 * bulk through the control plane's RegisterCertificates (one registry transaction per
 * batch, each certificate checked as RegisterCertificate checks it), written as a fleet
 * directory (fleet.ts) that `certgate load` reads.
 *
 * Devices are made in batches of ISSUE_BATCH by the Rust engine: EC keys by
 * `generateKeys` from node:crypto random bytes (node:crypto's own key export through
 * OpenSSL 3's encoders costs ~0.2 ms per key, more than the key generation itself:
 * bench/README.md), RSA keys by node:crypto; certificates by `issueCertificates`, which
 * parses the CA key once per batch (the AWS-issued profile:
 * https://docs.aws.amazon.com/iot/latest/developerguide/x509-client-certs.html).
 * `certgate fleet create` runs the batches in worker threads (fleetWorker.ts) while the
 * main thread registers the finished ones.
 *
 * RSA key generation costs tens of milliseconds per key, so `keyPool` can reuse N key
 * pairs across the fleet: every certificate still has its own serial and id, which is all
 * the authorizer keys on, but it is a shortcut for test fleets, never for real devices.
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { EcKeyType, Engine } from '../engine/types.js';
import type { Device, Fleet } from './fleet.js';

export const KEY_TYPES = ['p256', 'p384', 'p521', 'rsa2048', 'rsa3072', 'rsa4096'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

/** Certificates per RegisterCertificates call (its MAX_BULK_REGISTRATIONS). */
export const PROVISION_BATCH = 1000;

/**
 * Devices per engine batch: one `generateKeys` and one `issueCertificates` call (the
 * engine takes up to 10,000). 1,000 P-256 devices are ~0.25 s of one core, short enough
 * for a smooth progress bar, long enough that the per-call and worker hand-off costs
 * (~1 ms) vanish.
 */
export const ISSUE_BATCH = 1000;

/** Validity of a new fleet CA: now - 1 day to 10 years on; device certificates run to 2049 (the AWS profile). */
const CA_BACKDATE_SECONDS = 86_400;
const CA_LIFETIME_SECONDS = 10 * 365 * 86_400;
/** Device certificates start an hour back, so a skewed clock still sees them valid. */
const DEVICE_BACKDATE_SECONDS = 3600;

export function generateKey(type: KeyType): { publicKey: KeyObject; privateKey: KeyObject } {
  switch (type) {
    case 'p256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'p384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'p521':
      return generateKeyPairSync('ec', { namedCurve: 'P-521' });
    case 'rsa2048':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'rsa3072':
      return generateKeyPairSync('rsa', { modulusLength: 3072 });
    case 'rsa4096':
      return generateKeyPairSync('rsa', { modulusLength: 4096 });
  }
}

function pkcs8(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export interface FleetCa {
  certificatePem: string;
  privateKeyPem: string;
}

/** A new self-signed CA (CA:TRUE, pathLen 0) made by the engine. */
export function createFleetCa(engine: Engine, keyType: KeyType, subject: string, nowSeconds: number): FleetCa {
  const key = generateKey(keyType);
  const privateKeyPem = pkcs8(key.privateKey);
  const made = engine.createIssuingCa(
    Buffer.from(privateKeyPem),
    subject,
    randomBytes(20),
    nowSeconds - CA_BACKDATE_SECONDS,
    nowSeconds + CA_LIFETIME_SECONDS,
  );
  if (!made.ok) throw new Error(`creating the fleet CA failed: ${made.code}: ${made.message}`);
  return { certificatePem: made.certificatePem, privateKeyPem };
}

/** A device key pair: the SPKI PEM the engine certifies and the PKCS#8 PEM the device keeps. */
export interface DeviceKey {
  publicKeyPem: string;
  privateKeyPem: string;
}

const EC_SECRET_BYTES: Record<EcKeyType, number> = { p256: 32, p384: 48, p521: 66 };

function isEc(type: KeyType): type is EcKeyType {
  return type === 'p256' || type === 'p384' || type === 'p521';
}

/** A private scalar candidate: random bytes, for P-521 cut to its 521 bits. */
function ecSecret(type: EcKeyType): Buffer {
  const secret = randomBytes(EC_SECRET_BYTES[type]);
  if (type === 'p521') secret[0] = (secret[0] ?? 0) & 0x01;
  return secret;
}

/**
 * Redraws of a `generateKeys` batch before giving up. A candidate scalar is refused
 * with probability below 2^-32 (P-256; far less on the other curves), so a second
 * draw already means a broken random source.
 */
const KEY_DRAWS = 3;

/** `count` fresh key pairs of `type` (EC by the engine, RSA by node:crypto). */
export function generateKeys(engine: Engine, type: KeyType, count: number): DeviceKey[] {
  if (!isEc(type)) {
    return Array.from({ length: count }, () => {
      const made = generateKey(type);
      return { publicKeyPem: made.publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKeyPem: pkcs8(made.privateKey) };
    });
  }
  let last = '';
  for (let draw = 0; draw < KEY_DRAWS; draw++) {
    const made = engine.generateKeys(
      type,
      Array.from({ length: count }, () => ecSecret(type)),
    );
    if (made.ok) return made.keys;
    last = `${made.code}: ${made.message}`;
  }
  throw new Error(`generating ${type} keys failed ${KEY_DRAWS} times: ${last}`);
}

export interface IssueOptions {
  count: number;
  keyType: KeyType;
  /** Reuse this many key pairs across the fleet (0 = one per device). */
  keyPool: number;
  nowSeconds: number;
  onProgress?: (done: number) => void;
}

export interface IssuedDevice {
  certificateId: string;
  certificatePem: string;
  privateKeyPem: string;
}

/** One engine batch: devices `start` .. `start + count - 1`; with a key pool, device i uses `pool[i % pool.length]`. */
export interface IssueBatch {
  start: number;
  count: number;
  keyType: KeyType;
  pool: readonly DeviceKey[];
  nowSeconds: number;
}

/** Make one batch of device keys (unless pooled) and certificates signed by `ca`. */
export function issueBatch(engine: Engine, ca: FleetCa, b: IssueBatch): IssuedDevice[] {
  const keys =
    b.pool.length > 0
      ? Array.from({ length: b.count }, (_, i) => b.pool[(b.start + i) % b.pool.length] as DeviceKey)
      : generateKeys(engine, b.keyType, b.count);
  const issued = engine.issueCertificates(
    keys.map((k) => Buffer.from(k.publicKeyPem)),
    Buffer.from(ca.certificatePem),
    Buffer.from(ca.privateKeyPem),
    keys.map(() => randomBytes(20)),
    b.nowSeconds - DEVICE_BACKDATE_SECONDS,
  );
  if (!issued.ok) throw new Error(`issuing devices ${b.start}..${b.start + b.count - 1} failed: ${issued.code}: ${issued.message}`);
  return issued.certificates.map((c, i) => ({
    certificateId: c.certificateId,
    certificatePem: c.certificatePem,
    privateKeyPem: (keys[i] as DeviceKey).privateKeyPem,
  }));
}

/** The batches of a fleet of `count`, none crossing `split` (where the REVOKED devices start). */
export function batchesOf(count: number, split: number, size: number): { start: number; count: number }[] {
  const out: { start: number; count: number }[] = [];
  for (const [from, to] of [
    [0, split],
    [split, count],
  ] as const) {
    for (let start = from; start < to; start += size) out.push({ start, count: Math.min(size, to - start) });
  }
  return out;
}

/** Make `count` device keys and certificates signed by `ca`, on this thread. */
export function issueDevices(engine: Engine, ca: FleetCa, o: IssueOptions): IssuedDevice[] {
  const pool = o.keyPool > 0 ? generateKeys(engine, o.keyType, Math.min(o.keyPool, o.count)) : [];
  const devices: IssuedDevice[] = [];
  for (const b of batchesOf(o.count, o.count, ISSUE_BATCH)) {
    devices.push(...issueBatch(engine, ca, { ...b, keyType: o.keyType, pool, nowSeconds: o.nowSeconds }));
    o.onProgress?.(b.start + b.count);
  }
  return devices;
}

/** The result of one RegisterCertificates entry. */
export interface RegistrationResult {
  certificateId?: string;
  error?: { code: string; message: string };
}

/** A fleet for `certgate load`: devices registered REVOKED are expected to be denied. */
export function fleetOf(sni: string, accountId: string, devices: readonly IssuedDevice[], revoked: ReadonlySet<string>): Fleet {
  return {
    sni,
    accountId,
    devices: devices.map((d): Device => ({ ...d, expect: revoked.has(d.certificateId) ? 'deny' : 'allow' })),
  };
}
