/**
 * A fleet directory: the devices a load run presents, and what the registry should answer
 * for each. `certgate load --fleet DIR` reads it; tests (and, later, `certgate fleet
 * create`) write it. Format, version 1:
 *
 *   DIR/fleet.json       { "version": 1, "sni": "<endpoint>", "accountId": "<12 digits>" }
 *   DIR/devices.ndjson   one device a line: { "certificateId", "certificatePem",
 *                        "privateKeyPem"?, "expect": "allow" | "deny" }
 *
 * `privateKeyPem` is needed only to connect through a TLS terminator (`--tls-url`);
 * `expect` is what a correct authorizer answers (a revoked device: "deny"), so every
 * answer of a run is checked, not only counted.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const FLEET_VERSION = 1;

export type Expectation = 'allow' | 'deny';

export interface Device {
  certificateId: string;
  certificatePem: string;
  privateKeyPem?: string;
  expect: Expectation;
}

export interface Fleet {
  sni: string;
  accountId: string;
  devices: Device[];
}

/** A fleet directory that cannot be read: the message names the file and the problem. */
export class FleetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FleetError';
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new FleetError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function device(value: unknown, where: string): Device {
  const d = value as Partial<Device> | null;
  if (d === null || typeof d !== 'object') throw new FleetError(`${where}: not a JSON object`);
  if (typeof d.certificateId !== 'string' || !/^[0-9a-f]{64}$/.test(d.certificateId)) {
    throw new FleetError(`${where}: certificateId must be 64 lowercase hex characters`);
  }
  if (typeof d.certificatePem !== 'string' || !d.certificatePem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new FleetError(`${where}: certificatePem must be a PEM certificate`);
  }
  if (d.privateKeyPem !== undefined && typeof d.privateKeyPem !== 'string')
    throw new FleetError(`${where}: privateKeyPem must be a string`);
  if (d.expect !== 'allow' && d.expect !== 'deny') throw new FleetError(`${where}: expect must be "allow" or "deny"`);
  return {
    certificateId: d.certificateId,
    certificatePem: d.certificatePem,
    expect: d.expect,
    ...(d.privateKeyPem === undefined ? {} : { privateKeyPem: d.privateKeyPem }),
  };
}

/** Read and check a fleet directory. */
export function readFleet(dir: string): Fleet {
  const manifestFile = path.join(dir, 'fleet.json');
  let manifest: { version?: unknown; sni?: unknown; accountId?: unknown };
  try {
    manifest = JSON.parse(readText(manifestFile)) as typeof manifest;
  } catch (err) {
    if (err instanceof FleetError) throw err;
    throw new FleetError(`${manifestFile}: not JSON (${(err as Error).message})`);
  }
  if (manifest.version !== FLEET_VERSION)
    throw new FleetError(`${manifestFile}: version must be ${FLEET_VERSION}, got ${JSON.stringify(manifest.version)}`);
  if (typeof manifest.sni !== 'string' || manifest.sni === '')
    throw new FleetError(`${manifestFile}: sni must be the account's endpoint name`);
  if (typeof manifest.accountId !== 'string' || !/^\d{12}$/.test(manifest.accountId))
    throw new FleetError(`${manifestFile}: accountId must be 12 digits`);
  const devicesFile = path.join(dir, 'devices.ndjson');
  const devices: Device[] = [];
  readText(devicesFile)
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new FleetError(`${devicesFile}:${i + 1}: not JSON`);
      }
      devices.push(device(value, `${devicesFile}:${i + 1}`));
    });
  if (devices.length === 0) throw new FleetError(`${devicesFile}: no devices`);
  return { sni: manifest.sni, accountId: manifest.accountId, devices };
}

/** Write a fleet directory (created if missing; existing files are replaced). */
export function writeFleet(dir: string, fleet: Fleet): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(
    path.join(dir, 'fleet.json'),
    `${JSON.stringify({ version: FLEET_VERSION, sni: fleet.sni, accountId: fleet.accountId }, null, 2)}\n`,
  );
  // Private keys inside: owner-only.
  writeFileSync(path.join(dir, 'devices.ndjson'), fleet.devices.map((d) => JSON.stringify(d)).join('\n') + '\n', { mode: 0o600 });
}
