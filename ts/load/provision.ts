/**
 * Fleet provisioning: device keys and certificates made by the engine, registered in
 * bulk through the control plane's RegisterCertificates (one registry transaction per
 * batch, each certificate checked as RegisterCertificate checks it), written as a fleet
 * directory (fleet.ts) that `certgate load` reads.
 *
 * Keys come from node:crypto; certificates from the Rust engine's `issueCertificate`
 * (the AWS-issued profile: https://docs.aws.amazon.com/iot/latest/developerguide/x509-client-certs.html).
 * RSA key generation costs tens of milliseconds per key, so `keyPool` can reuse N key
 * pairs across the fleet: every certificate still has its own serial and id, which is all
 * the authorizer keys on, but it is a shortcut for test fleets, never for real devices.
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { Engine } from '../engine/types.js';
import type { Device, Fleet } from './fleet.js';

export const KEY_TYPES = ['p256', 'p384', 'p521', 'rsa2048', 'rsa3072', 'rsa4096'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

/** Certificates per RegisterCertificates call (its MAX_BULK_REGISTRATIONS). */
export const PROVISION_BATCH = 1000;

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
  const made = engine.createIssuingCa(Buffer.from(privateKeyPem), subject, randomBytes(20), nowSeconds - CA_BACKDATE_SECONDS, nowSeconds + CA_LIFETIME_SECONDS);
  if (!made.ok) throw new Error(`creating the fleet CA failed: ${made.code}: ${made.message}`);
  return { certificatePem: made.certificatePem, privateKeyPem };
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

/** Make `count` device keys and certificates signed by `ca`. */
export function issueDevices(engine: Engine, ca: FleetCa, o: IssueOptions): IssuedDevice[] {
  const caPem = Buffer.from(ca.certificatePem);
  const caKey = Buffer.from(ca.privateKeyPem);
  const pool: { publicPem: Buffer; privateKeyPem: string }[] = [];
  const devices: IssuedDevice[] = [];
  for (let i = 0; i < o.count; i++) {
    let key = o.keyPool > 0 ? pool[i % o.keyPool] : undefined;
    if (key === undefined) {
      const made = generateKey(o.keyType);
      key = { publicPem: Buffer.from(made.publicKey.export({ type: 'spki', format: 'pem' }).toString()), privateKeyPem: pkcs8(made.privateKey) };
      if (o.keyPool > 0) pool.push(key);
    }
    const issued = engine.issueCertificate(key.publicPem, caPem, caKey, randomBytes(20), o.nowSeconds - DEVICE_BACKDATE_SECONDS);
    if (!issued.ok) throw new Error(`issuing device ${i} failed: ${issued.code}: ${issued.message}`);
    devices.push({ certificateId: issued.certificateId, certificatePem: issued.certificatePem, privateKeyPem: key.privateKeyPem });
    if ((i + 1) % 100 === 0 || i + 1 === o.count) o.onProgress?.(i + 1);
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
