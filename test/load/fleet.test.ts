/**
 * Bulk provisioning through the built CLI on a real SQLite registry: `fleet create`
 * (keys, engine-issued certificates, bulk registration, the fleet directory),
 * `--key-pool`, and `cert register-many` with a refused certificate among good ones.
 */
import { createPublicKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEngine } from '../../ts/engine/load.js';
import { readFleet } from '../../ts/load/fleet.js';
import { batchesOf, createFleetCa, issueDevices } from '../../ts/load/provision.js';
import { openRegistry } from '../../ts/registry/open.js';
import { runBuiltCli } from '../cli/built.js';

const ACCOUNT = '123456789012';

function certgate(args: string[], db: string) {
  return runBuiltCli(args, { CERTGATE_DB: db }, 120_000);
}

describe('bulk provisioning', () => {
  let dir: string;
  let db: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'certgate-fleet-'));
    db = path.join(dir, 'registry.db');
    expect((await certgate(['account', 'create', '--account-id', ACCOUNT], db)).code).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fleet create makes, registers and writes N devices (the last --revoked N REVOKED), keys owner-only', async () => {
    const out = path.join(dir, 'fleet');
    const r = await certgate(['fleet', 'create', '--count', '120', '--revoked', '20', '--out', out, '--json'], db);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { registered: number; revoked: number; sni: string; accountId: string };
    expect(summary).toMatchObject({ registered: 120, revoked: 20, accountId: ACCOUNT });
    expect(summary.sni).toMatch(/^[a-z0-9]{14}-ats\.iot\.us-east-1\.localhost$/);
    const fleet = readFleet(out);
    expect(fleet.devices).toHaveLength(120);
    expect(fleet.devices.filter((d) => d.expect === 'deny')).toHaveLength(20);
    expect(new Set(fleet.devices.map((d) => d.certificateId)).size).toBe(120);
    expect(statSync(path.join(out, 'devices.ndjson')).mode & 0o077).toBe(0);
    expect(statSync(path.join(out, 'ca.key')).mode & 0o077).toBe(0);
    // What the registry holds is what the fleet expects.
    const registry = openRegistry({ path: db });
    try {
      for (const d of fleet.devices.filter((_, i) => i % 17 === 0 || i >= 118)) {
        const record = await registry.getCertificate(ACCOUNT, d.certificateId);
        expect(record?.status).toBe(d.expect === 'allow' ? 'ACTIVE' : 'REVOKED');
      }
    } finally {
      await registry.close();
    }
  });

  it('--workers 0 (all on the main thread) and batches that cross neither 1,000 nor the REVOKED split', async () => {
    expect(batchesOf(2500, 2300, 1000)).toEqual([
      { start: 0, count: 1000 },
      { start: 1000, count: 1000 },
      { start: 2000, count: 300 },
      { start: 2300, count: 200 },
    ]);
    expect(batchesOf(5, 5, 1000)).toEqual([{ start: 0, count: 5 }]);
    expect(batchesOf(5, 0, 1000)).toEqual([{ start: 0, count: 5 }]);
    const out = path.join(dir, 'inline');
    const r = await certgate(['fleet', 'create', '--count', '1003', '--revoked', '2', '--workers', '0', '--out', out, '--json'], db);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ registered: 1003, revoked: 2, workers: 0 });
    const fleet = readFleet(out);
    expect(new Set(fleet.devices.map((d) => d.certificateId)).size).toBe(1003);
    expect(fleet.devices.map((d) => d.expect).lastIndexOf('allow')).toBe(1000);
    const registry = openRegistry({ path: db });
    try {
      for (const i of [0, 999, 1000, 1001, 1002]) {
        const d = fleet.devices[i];
        expect((await registry.getCertificate(ACCOUNT, d?.certificateId ?? ''))?.status).toBe(i < 1001 ? 'ACTIVE' : 'REVOKED');
      }
    } finally {
      await registry.close();
    }
  });

  it('--key-pool reuses key pairs across distinct certificates', async () => {
    const out = path.join(dir, 'pooled');
    const r = await certgate(['fleet', 'create', '--count', '12', '--key-type', 'rsa2048', '--key-pool', '3', '--out', out, '--json'], db);
    expect(r.code).toBe(0);
    const devices = readFleet(out).devices;
    expect(new Set(devices.map((d) => d.certificateId)).size).toBe(12);
    const keys = new Set(devices.map((d) => createPublicKey(d.certificatePem).export({ type: 'spki', format: 'der' }).toString('hex')));
    expect(keys.size).toBe(3);
  });

  it('cert register-many registers a directory of PEM files and names the one it refuses (exit 3)', async () => {
    // Five certificates from the fleet CA (registered), one from a CA nobody registered.
    const engine = loadEngine('native');
    const fleetDir = path.join(dir, 'fleet');
    const ca = {
      certificatePem: readFileSync(path.join(fleetDir, 'ca.pem'), 'utf8'),
      privateKeyPem: readFileSync(path.join(fleetDir, 'ca.key'), 'utf8'),
    };
    const now = Math.floor(Date.now() / 1000);
    const good = issueDevices(engine, ca, { count: 5, keyType: 'p256', keyPool: 1, nowSeconds: now });
    const rogue = issueDevices(engine, createFleetCa(engine, 'p256', 'CN=rogue CA', now), {
      count: 1,
      keyType: 'p256',
      keyPool: 1,
      nowSeconds: now,
    });
    const certs = path.join(dir, 'certs');
    mkdirSync(certs);
    good.forEach((d, i) => writeFileSync(path.join(certs, `device-${i}.pem`), d.certificatePem));
    writeFileSync(path.join(certs, 'z-rogue.pem'), rogue[0]?.certificatePem ?? '');
    const r = await certgate(['cert', 'register-many', certs, '--status', 'INACTIVE', '--json'], db);
    expect(r.code).toBe(3);
    const out = JSON.parse(r.stdout) as { registered: number; refused: { index: number; code: string }[] };
    expect(out.registered).toBe(5);
    expect(out.refused).toEqual([expect.objectContaining({ index: 5, code: 'CertificateValidationException' })]);
    // Again: every one is now ALREADY registered, and nothing changed.
    const again = await certgate(['cert', 'register-many', certs, '--json'], db);
    const second = JSON.parse(again.stdout) as { registered: number; refused: { code: string }[] };
    expect(second.registered).toBe(0);
    expect(second.refused.map((x) => x.code)).toEqual([
      ...Array(5).fill('ResourceAlreadyExistsException'),
      'CertificateValidationException',
    ]);
  });

  it('refuses bad usage with exit 2', async () => {
    const zero = await certgate(['fleet', 'create', '--count', '0', '--out', path.join(dir, 'x')], db);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/--count must be an integer in \[1, 10000000\], got "0"/);
    const noKey = await certgate(['fleet', 'create', '--count', '1', '--ca', 'ab'.repeat(32), '--out', path.join(dir, 'y')], db);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/--ca ID needs --ca-key FILE/);
    const workers = await certgate(['fleet', 'create', '--count', '1', '--workers', '-1', '--out', path.join(dir, 'z')], db);
    expect(workers.code).toBe(2);
    expect(workers.stderr).toMatch(/--workers must be an integer in \[0, 256\], got "-1"/);
  });
});
