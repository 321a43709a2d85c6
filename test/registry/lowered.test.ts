/**
 * Which writes can turn an allow into a deny is a rule of the registry, kept once in the
 * rule layer (ts/registry/rules/registry.ts `lowered`): a PostgreSQL registry makes
 * exactly these wait for the fleet's views (postgres/registry.ts). Checked here over
 * SQLite by recording the hook's calls; each write is named by what it returns through it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteRegistry } from '../../ts/registry/sqlite/registry.js';

const A = '111111111111';
const B = '222222222222';
const hex = (n: number): string => n.toString(16).padStart(64, '0');
const arn = (account: string, n: number) => `arn:aws:iot:us-east-1:${account}:cert/${hex(n)}`;

class Recording extends SqliteRegistry {
  lowerings = 0;
  protected override lowered<R>(result: R): R {
    this.lowerings++;
    return result;
  }
}

describe('writes that can lower a decision', () => {
  let dir: string;
  let registry: Recording;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'certgate-lowered-'));
    registry = new Recording({ path: path.join(dir, 'registry.db') });
    await registry.createAccount({ accountId: A, endpointPrefix: 'aaaaaaaaaaaaaa' });
    await registry.createAccount({ accountId: B, endpointPrefix: 'bbbbbbbbbbbbbb' });
  });
  afterEach(async () => {
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Whether `write` went through the hook. */
  const lowers = async (write: () => Promise<unknown>): Promise<boolean> => {
    const before = registry.lowerings;
    await write();
    return registry.lowerings > before;
  };

  it('are exactly the ones that can turn an allow into a deny', async () => {
    const cert = (n: number, status: 'ACTIVE' | 'INACTIVE' = 'ACTIVE') => ({
      accountId: A,
      certificateId: hex(n),
      certificatePem: `PEM ${n}\n`,
      notBefore: 1_700_000_000,
      notAfter: 2_524_607_999,
      status,
      certificateMode: 'SNI_ONLY' as const,
      caCertificateId: null,
    });
    const crl = (n: number) => ({
      accountId: A,
      caCertificateId: hex(100),
      crl: new Uint8Array([0x30, 0x82, 0xff, n]),
      crlId: hex(n),
      crlNumber: String(n),
      thisUpdate: 1_700_000_000,
      nextUpdate: 1_700_604_800,
      entries: 1,
      source: 'UPLOAD' as const,
      sourceUrl: null,
      verifiedAt: 1_700_000_100,
    });
    const seen: Record<string, boolean> = {
      addDomain: await lowers(() => registry.addDomain(A, 'iot.example.com')),
      removeDomain: await lowers(() => registry.removeDomain(A, 'iot.example.com')),
      setAccountSettings: await lowers(() => registry.setAccountSettings(A, { bindClientIdToThing: true })),
      insertCaCertificate: await lowers(() =>
        registry.insertCaCertificate({
          accountId: A,
          certificateId: hex(100),
          certificatePem: 'CA PEM\n',
          notBefore: 1_700_000_000,
          notAfter: 2_524_607_999,
          status: 'ACTIVE',
          certificateMode: 'DEFAULT',
          autoRegistrationStatus: 'DISABLE',
          subject: 'CN=CA',
          registrationConfig: null,
          tags: [],
        }),
      ),
      updateCaCertificate: await lowers(() => registry.updateCaCertificate(A, hex(100), { status: 'INACTIVE' })),
      putCaCrl: await lowers(() => registry.putCaCrl(crl(1), null)),
      deleteCaCrl: await lowers(() => registry.deleteCaCrl(A, hex(100))),
      deleteCaCertificate: await lowers(() => registry.deleteCaCertificate(A, hex(100))),
      insertCertificate: await lowers(() => registry.insertCertificate(cert(1, 'INACTIVE'))),
      'setCertificateStatus ACTIVE': await lowers(() => registry.setCertificateStatus(A, hex(1), 'ACTIVE', ['INACTIVE'])),
      attachThingPrincipal: await lowers(() => registry.attachThingPrincipal(A, 'thing', arn(A, 1))),
      detachThingPrincipal: await lowers(() => registry.detachThingPrincipal(A, 'thing', arn(A, 1))),
      'setCertificateStatus REVOKED': await lowers(() => registry.setCertificateStatus(A, hex(1), 'REVOKED', ['ACTIVE'])),
      deleteCertificate: await lowers(() => registry.deleteCertificate(A, hex(1), ['REVOKED'], false)),
      startTransfer: await lowers(async () => {
        await registry.insertCertificate(cert(2, 'INACTIVE'));
        await registry.startTransfer(A, hex(2), B, null);
      }),
      cancelTransfer: await lowers(() => registry.cancelTransfer(A, hex(2))),
    };
    await registry.startTransfer(A, hex(2), B, null);
    seen.acceptTransfer = await lowers(() => registry.acceptTransfer(B, hex(2), true));
    expect(seen).toEqual({
      addDomain: false,
      removeDomain: true,
      setAccountSettings: true,
      insertCaCertificate: false,
      updateCaCertificate: true,
      putCaCrl: true,
      deleteCaCrl: true,
      deleteCaCertificate: true,
      insertCertificate: false,
      'setCertificateStatus ACTIVE': false,
      attachThingPrincipal: false,
      detachThingPrincipal: true,
      'setCertificateStatus REVOKED': true,
      deleteCertificate: true,
      startTransfer: true,
      cancelTransfer: false,
      acceptTransfer: true,
    });
  });
});
