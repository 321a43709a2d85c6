/**
 * Certificate fixtures for control-plane tests, generated at run time by committed code
 * (`x509.ts`) with fixed validity dates. Keys are generated once per test file.
 */
import { certificate, ecKey, rsaKey, type KeyPair, type Name } from './x509.js';

export interface CaFixture {
  name: Name;
  key: KeyPair;
  pem: string;
}

/** A self-signed RSA CA with `cn` (basicConstraints CA:TRUE). */
export function makeCa(cn: string, key: KeyPair = rsaKey(), serial = 1): CaFixture {
  const name: Name = [
    ['CN', cn],
    ['O', 'certgate tests'],
  ];
  return { name, key, pem: certificate({ subject: name, key, ca: true, serial }) };
}

/** A device certificate signed by `ca` for a (shared) EC key; distinct `serial`s give distinct certificates. */
export function makeDevice(
  ca: CaFixture,
  serial: number,
  key: KeyPair = sharedDeviceKey(),
  eku?: readonly ('clientAuth' | 'serverAuth')[],
): string {
  return certificate({
    subject: [['CN', `device-${serial}`]],
    issuer: { name: ca.name, key: ca.key.privateKey },
    key,
    serial,
    ...(eku ? { eku } : {}),
  });
}

/** The proof-of-possession certificate: CN = registration code, signed by the CA key. */
export function makeVerification(ca: CaFixture, registrationCode: string): string {
  return certificate({
    subject: [['CN', registrationCode]],
    issuer: { name: ca.name, key: ca.key.privateKey },
    key: sharedDeviceKey(),
    serial: 99,
  });
}

/** A self-signed device certificate (for RegisterCertificateWithoutCA). */
export function makeSelfSigned(serial: number, key: KeyPair = sharedDeviceKey(), eku?: readonly ('clientAuth' | 'serverAuth')[]): string {
  return certificate({ subject: [['CN', `no-ca-device-${serial}`]], key, serial, ...(eku ? { eku } : {}) });
}

let deviceKey: KeyPair | undefined;
function sharedDeviceKey(): KeyPair {
  deviceKey ??= ecKey();
  return deviceKey;
}
