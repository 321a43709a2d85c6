/**
 * The registry contract suite: every backend must pass it. Call `registryContract(name,
 * factory)` from a `*.test.ts` file; `factory` returns a fresh, empty registry.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  RegistryError,
  type NewCaCertificate,
  type NewCertificate,
  type Registry,
  type RegistryErrorCode,
} from '../../ts/registry/types.js';

/**
 * Creates a fresh empty registry and (optionally) disposes of it. `plantDomain` writes a
 * custom-domain row straight into the backend's table, bypassing `addDomain`'s checks,
 * as a registry written before a rule existed may hold one.
 */
export type RegistryFactory = () => Promise<{
  registry: Registry;
  dispose?: () => Promise<void>;
  plantDomain: (accountId: string, domainName: string) => Promise<void>;
}>;

const A = '111111111111';
const B = '222222222222';
const hex = (n: number): string => n.toString(16).padStart(64, '0');

function cert(accountId: string, n: number, extra: Partial<NewCertificate> = {}): NewCertificate {
  return {
    accountId,
    certificateId: hex(n),
    certificatePem: `PEM ${n}\n`,
    notBefore: 1_700_000_000,
    notAfter: 2_524_607_999,
    status: 'INACTIVE',
    certificateMode: 'SNI_ONLY',
    caCertificateId: null,
    ...extra,
  };
}

function ca(accountId: string, n: number, extra: Partial<NewCaCertificate> = {}): NewCaCertificate {
  return {
    accountId,
    certificateId: hex(n),
    certificatePem: `CA PEM ${n}\n`,
    notBefore: 1_700_000_000,
    notAfter: 2_524_607_999,
    status: 'ACTIVE',
    certificateMode: 'DEFAULT',
    autoRegistrationStatus: 'DISABLE',
    subject: `CN=CA ${n}`,
    registrationConfig: null,
    tags: [],
    ...extra,
  };
}

async function refused(promise: Promise<unknown>, code: RegistryErrorCode): Promise<RegistryError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected RegistryError ${code}, but the call succeeded`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RegistryError);
  expect((error as RegistryError).code).toBe(code);
  return error as RegistryError;
}

const page = (pageSize: number, ascending = true, marker?: string) => ({ pageSize, ascending, ...(marker ? { marker } : {}) });

export function registryContract(name: string, factory: RegistryFactory): void {
  describe(`registry contract: ${name}`, () => {
    let registry: Registry;
    let dispose: (() => Promise<void>) | undefined;
    let plantDomain: (accountId: string, domainName: string) => Promise<void>;

    beforeEach(async () => {
      const made = await factory();
      registry = made.registry;
      dispose = made.dispose;
      plantDomain = made.plantDomain;
      await registry.createAccount({ accountId: A, endpointPrefix: 'aaaaaaaaaaaaaa' });
      await registry.createAccount({ accountId: B, endpointPrefix: 'bbbbbbbbbbbbbb' });
    });
    afterEach(async () => {
      await registry.close();
      await dispose?.();
    });

    it('refuses a second account with the same id or endpoint prefix', async () => {
      await refused(registry.createAccount({ accountId: A, endpointPrefix: 'cccccccccccccc' }), 'ALREADY_EXISTS');
      await refused(registry.createAccount({ accountId: '333333333333', endpointPrefix: 'aaaaaaaaaaaaaa' }), 'ALREADY_EXISTS');
      expect((await registry.listAccounts()).map((a) => a.accountId)).toEqual([A, B]);
    });

    it('finds the account of a credential and refuses duplicate access keys', async () => {
      await registry.addCredential({ accountId: A, accessKeyId: 'AKIAONE', secretAccessKey: 's1' });
      await refused(registry.addCredential({ accountId: B, accessKeyId: 'AKIAONE', secretAccessKey: 's2' }), 'ALREADY_EXISTS');
      await refused(registry.addCredential({ accountId: '999999999999', accessKeyId: 'AKIATWO', secretAccessKey: 's' }), 'NOT_FOUND');
      expect(await registry.getCredential('AKIAONE')).toMatchObject({
        accountId: A,
        accessKeyId: 'AKIAONE',
        secretAccessKey: 's1',
        scope: 'FULL',
        status: 'ACTIVE',
      });
      expect(await registry.getCredential('AKIANONE')).toBeNull();
    });

    it('routes data endpoints and custom domains to their account', async () => {
      const { region, endpointDomain } = await registry.settings();
      expect((await registry.accountForHost(`aaaaaaaaaaaaaa-ats.iot.${region}.${endpointDomain}`))?.accountId).toBe(A);
      expect((await registry.accountForHost(`bbbbbbbbbbbbbb.iot.${region}.${endpointDomain}`))?.accountId).toBe(B);
      expect(await registry.accountForHost(`zzzzzzzzzzzzzz-ats.iot.${region}.${endpointDomain}`)).toBeNull();
      expect(await registry.accountForHost(`x.aaaaaaaaaaaaaa-ats.iot.${region}.${endpointDomain}`)).toBeNull();
      await registry.addDomain(B, 'devices.example.com');
      await refused(registry.addDomain(A, 'devices.example.com'), 'ALREADY_EXISTS');
      expect((await registry.accountForHost('devices.example.com'))?.accountId).toBe(B);
      expect(await registry.listDomains(B)).toEqual(['devices.example.com']);
      await registry.removeDomain(B, 'devices.example.com');
      expect(await registry.accountForHost('devices.example.com')).toBeNull();
      await refused(registry.removeDomain(B, 'devices.example.com'), 'NOT_FOUND');
    });

    it("refuses every custom domain inside the installation's endpoint namespace (issue 14, defect 1)", async () => {
      const { region, endpointDomain } = await registry.settings();
      const apex = `iot.${region}.${endpointDomain}`;
      for (const host of [
        `aaaaaaaaaaaaaa-ats.${apex}`,
        `aaaaaaaaaaaaaa.${apex}`,
        `aaaaaaaaaaaaaa.credentials.${apex}`,
        `aaaaaaaaaaaaaa.jobs.${apex}`,
        `zzzzzzzzzzzzzz-ats.${apex}`,
        apex,
        `AAAAAAAAAAAAAA-ATS.${apex.toUpperCase()}.`,
      ]) {
        const error = await refused(registry.addDomain(B, host), 'RESERVED_DOMAIN');
        expect(error.details).toEqual({ domainName: host, apex });
      }
      expect(await registry.listDomains(B)).toEqual([]);
      expect((await registry.accountForHost(`aaaaaaaaaaaaaa-ats.${apex}`))?.accountId).toBe(A);
      // A row planted before the rule existed is never consulted for an endpoint host:
      // built-in endpoints are routed first. Its holder (or the operator) can remove it.
      await plantDomain(B, `aaaaaaaaaaaaaa-ats.${apex}`);
      expect((await registry.accountForHost(`aaaaaaaaaaaaaa-ats.${apex}`))?.accountId).toBe(A);
      if (registry.accountForHostSync) expect(registry.accountForHostSync(`aaaaaaaaaaaaaa-ats.${apex}`)?.accountId).toBe(A);
      await plantDomain(B, `aaaaaaaaaaaaaa.credentials.${apex}`);
      expect(await registry.accountForHost(`aaaaaaaaaaaaaa.credentials.${apex}`)).toBeNull();
      await registry.removeDomain(B, `aaaaaaaaaaaaaa-ats.${apex}`);
      // A name that merely ends like the apex without being under it is an ordinary domain.
      await registry.addDomain(B, `not${apex}`);
      expect((await registry.accountForHost(`not${apex}`))?.accountId).toBe(B);
    });

    it('keeps the client id binding per account, off by default, seen by SNI routing (branch mqtt)', async () => {
      const { region, endpointDomain } = await registry.settings();
      const host = `aaaaaaaaaaaaaa-ats.iot.${region}.${endpointDomain}`;
      expect((await registry.getAccount(A))?.bindClientIdToThing).toBe(false);
      expect((await registry.accountForHost(host))?.bindClientIdToThing).toBe(false);
      expect((await registry.setAccountSettings(A, { bindClientIdToThing: true })).bindClientIdToThing).toBe(true);
      expect((await registry.accountForHost(host))?.bindClientIdToThing).toBe(true);
      expect((await registry.getAccount(B))?.bindClientIdToThing).toBe(false);
      await refused(registry.setAccountSettings('999999999999', { bindClientIdToThing: true }), 'NOT_FOUND');
      await registry.setAccountSettings(A, { bindClientIdToThing: false });
      expect((await registry.listAccounts()).map((a) => a.bindClientIdToThing)).toEqual([false, false]);
    });

    it('logs every certificate status change in commit order, per account, with a resumable cursor (branch mqtt)', async () => {
      await registry.insertCertificate(cert(A, 1, { status: 'ACTIVE' }));
      await registry.insertCertificate(cert(B, 2));
      await registry.setCertificateStatus(A, hex(1), 'ACTIVE', ['INACTIVE']); // no change: no entry
      await registry.setCertificateStatus(A, hex(1), 'INACTIVE', ['ACTIVE']);
      await registry.startTransfer(A, hex(1), B, null);
      await registry.acceptTransfer(B, hex(1), true);
      await registry.setCertificateStatus(B, hex(1), 'REVOKED', ['ACTIVE']);
      await refused(registry.setCertificateStatus(B, hex(1), 'ACTIVE', ['INACTIVE']), 'STATE'); // refused: no entry
      await registry.deleteCertificate(B, hex(2), ['INACTIVE'], false);
      const all = await registry.listChanges(null, 0, 100);
      const seq = all.map((c) => c.sequence);
      expect(seq.every((v, i) => i === 0 || v > (seq[i - 1] ?? 0))).toBe(true);
      expect(new Set(seq).size).toBe(seq.length);
      const brief = (cs: typeof all) => cs.map((c) => `${c.accountId.slice(0, 1)} ${c.resourceId === hex(1) ? 1 : 2} ${c.status}`);
      expect(brief(all)).toEqual([
        '1 1 ACTIVE',
        '2 2 INACTIVE',
        '1 1 INACTIVE',
        '1 1 PENDING_TRANSFER',
        '1 1 TRANSFERRED',
        '2 1 ACTIVE',
        '2 1 REVOKED',
        '2 2 DELETED',
      ]);
      expect(all.every((c) => c.kind === 'certificate' && c.time > 1_700_000_000)).toBe(true);
      expect(brief(await registry.listChanges(B, 0, 100))).toEqual(['2 2 INACTIVE', '2 1 ACTIVE', '2 1 REVOKED', '2 2 DELETED']);
      // Resume after any cursor: exactly the rest, nothing missed or repeated.
      const cursor = all[3]?.sequence ?? 0;
      expect(await registry.listChanges(null, cursor, 100)).toEqual(all.slice(4));
      expect(await registry.listChanges(null, cursor, 2)).toEqual(all.slice(4, 6));
    });

    it('orders the change log by commit even with concurrent writers (branch mqtt)', async () => {
      for (let n = 1; n <= 20; n++) await registry.insertCertificate(cert(A, n, { status: 'ACTIVE' }));
      const before = (await registry.listChanges(A, 0, 1000)).at(-1)?.sequence ?? 0;
      await Promise.all(Array.from({ length: 20 }, (_, i) => registry.setCertificateStatus(A, hex(i + 1), 'REVOKED', ['ACTIVE'])));
      const after = await registry.listChanges(A, before, 1000);
      expect(after.map((c) => c.status)).toEqual(Array(20).fill('REVOKED'));
      expect(after.map((c) => c.sequence)).toEqual(Array.from({ length: 20 }, (_, i) => before + i + 1));
    });

    it('keeps one registration code per account until it is deleted', async () => {
      expect(await registry.getOrCreateRegistrationCode(A, 'a'.repeat(64))).toBe('a'.repeat(64));
      expect(await registry.getOrCreateRegistrationCode(A, 'b'.repeat(64))).toBe('a'.repeat(64));
      await registry.deleteRegistrationCode(A);
      await refused(registry.deleteRegistrationCode(A), 'NOT_FOUND');
      expect(await registry.getRegistrationCode(A)).toBeNull();
      expect(await registry.getOrCreateRegistrationCode(A, 'c'.repeat(64))).toBe('c'.repeat(64));
    });

    it('registers a certificate once per account and returns it to the reader', async () => {
      const record = await registry.insertCertificate(cert(A, 1));
      expect(record).toMatchObject({ accountId: A, certificateId: hex(1), status: 'INACTIVE', customerVersion: 1 });
      await refused(registry.insertCertificate(cert(A, 1)), 'ALREADY_EXISTS');
      expect(await registry.getCertificate(A, hex(1))).toEqual(record);
      expect(await registry.getCertificate(B, hex(1))).toBeNull();
    });

    it('registers a batch in one call, each checked as one registration; a refused one leaves the others', async () => {
      await registry.insertCertificate(cert(A, 2));
      await registry.insertCertificate(cert(B, 4, { certificateMode: 'DEFAULT' }));
      const results = await registry.insertCertificates([
        cert(A, 1),
        cert(A, 2),
        cert(A, 3, { status: 'ACTIVE' }),
        cert(A, 4, { certificateMode: 'DEFAULT' }),
      ]);
      expect(results.map((r) => [r.certificateId, r.ok, r.ok ? null : r.error.code])).toEqual([
        [hex(1), true, null],
        [hex(2), false, 'ALREADY_EXISTS'],
        [hex(3), true, null],
        [hex(4), false, 'ALREADY_EXISTS'],
      ]);
      expect(await registry.getCertificate(A, hex(1))).toMatchObject({ status: 'INACTIVE' });
      expect(await registry.getCertificate(A, hex(3))).toMatchObject({ status: 'ACTIVE' });
      expect(await registry.getCertificate(A, hex(4))).toBeNull();
      expect(await registry.insertCertificates([])).toEqual([]);
    });

    it('checks each entry of a batch against the earlier ones and pending transfers, as one-by-one registrations would', async () => {
      await registry.insertCertificate(cert(A, 7));
      await registry.startTransfer(A, hex(7), B, null);
      const results = await registry.insertCertificates([
        cert(A, 5, { certificateMode: 'DEFAULT' }),
        cert(A, 5), // the same certificate again in the same account
        cert(B, 5, { certificateMode: 'DEFAULT' }), // A took DEFAULT two entries ago
        cert(B, 5), // SNI_ONLY beside A's DEFAULT is allowed
        cert(B, 7), // offered to B by a pending transfer
      ]);
      expect(results.map((r) => [r.certificateId, r.ok, r.ok ? null : r.error.reason])).toEqual([
        [hex(5), true, null],
        [hex(5), false, 'CERTIFICATE_EXISTS'],
        [hex(5), false, 'CERTIFICATE_OWNED_ELSEWHERE'],
        [hex(5), true, null],
        [hex(7), false, 'CERTIFICATE_EXISTS'],
      ]);
      expect(await registry.getCertificate(B, hex(5))).toMatchObject({ certificateMode: 'SNI_ONLY' });
    });

    it('registers a batch larger than one multi-row statement, every row stored', async () => {
      const batch = Array.from({ length: 1234 }, (_, i) => cert(A, 10_000 + i, { status: 'ACTIVE' }));
      const results = await registry.insertCertificates(batch);
      expect(results.filter((r) => r.ok)).toHaveLength(1234);
      // The first and last rows of each statement (ROWS_PER_INSERT rows) and of the batch.
      for (const i of [0, 499, 500, 999, 1000, 1233])
        expect(await registry.getCertificate(A, hex(10_000 + i))).toMatchObject({
          certificatePem: `PEM ${10_000 + i}\n`,
          customerVersion: 1,
        });
      expect(await registry.getCertificate(A, hex(10_000 + 1234))).toBeNull();
    });

    it("gives the authorizer a registration's standing: status, mode, CA and sorted thing names, per account", async () => {
      const { region } = await registry.settings();
      const arn = (account: string) => `arn:aws:iot:${region}:${account}:cert/${hex(1)}`;
      await registry.insertCertificate(cert(A, 1, { status: 'ACTIVE', caCertificateId: hex(100) }));
      await registry.insertCertificate(cert(B, 1));
      await registry.attachThingPrincipal(A, 'thing-b', arn(A));
      await registry.attachThingPrincipal(A, 'Thing-c', arn(A));
      await registry.attachThingPrincipal(A, 'thing-a', arn(A));
      await registry.attachThingPrincipal(B, 'other-account-thing', arn(B));
      const standing = { accountId: A, certificateId: hex(1), status: 'ACTIVE', certificateMode: 'SNI_ONLY', caCertificateId: hex(100) };
      expect(await registry.getCertificateStanding(A, hex(1))).toEqual({ ...standing, things: ['Thing-c', 'thing-a', 'thing-b'] });
      expect(await registry.getCertificateStanding(B, hex(1))).toMatchObject({
        status: 'INACTIVE',
        caCertificateId: null,
        things: ['other-account-thing'],
      });
      expect(await registry.getCertificateStanding(A, hex(2))).toBeNull();
      await registry.setCertificateStatus(A, hex(1), 'REVOKED', ['ACTIVE']);
      await registry.detachThingPrincipal(A, 'thing-b', arn(A));
      expect(await registry.getCertificateStanding(A, hex(1))).toEqual({ ...standing, status: 'REVOKED', things: ['Thing-c', 'thing-a'] });
      // A registry that offers the synchronous form answers the same.
      if (registry.getCertificateStandingSync) {
        expect(registry.getCertificateStandingSync(A, hex(1))).toEqual(await registry.getCertificateStanding(A, hex(1)));
      }
    });

    it("does not show a certificate offered by transfer as the receiving account's standing", async () => {
      await registry.insertCertificate(cert(A, 1));
      await registry.startTransfer(A, hex(1), B, null);
      expect(await registry.getCertificateStanding(B, hex(1))).toBeNull();
      expect(await registry.getCertificateStanding(A, hex(1))).toMatchObject({ status: 'PENDING_TRANSFER' });
    });

    it('holds a certificate in DEFAULT mode in one account at most, next to any number of SNI_ONLY registrations', async () => {
      await registry.createAccount({ accountId: '333333333333', endpointPrefix: 'cccccccccccccc' });
      await registry.insertCertificate(cert(A, 1));
      await registry.insertCertificate(cert(B, 1));
      expect((await registry.findCertificateRegistrations(hex(1))).map((r) => r.accountId)).toEqual([A, B]);
      // An SNI_ONLY registration elsewhere (made from public material alone) does not keep
      // the owner from registering the certificate in DEFAULT mode (issue 14, defect 2).
      await registry.insertCertificate(cert(B, 2));
      await registry.insertCertificate(cert(A, 2, { certificateMode: 'DEFAULT' }));
      await registry.insertCertificate(cert('333333333333', 2));
      // The first DEFAULT registration may come after SNI_ONLY ones; a second is refused,
      // with the true reason.
      await registry.insertCertificate(cert('333333333333', 1, { certificateMode: 'DEFAULT' }));
      await registry.insertCertificate(cert(A, 3, { certificateMode: 'DEFAULT' }));
      const taken = await refused(registry.insertCertificate(cert(B, 3, { certificateMode: 'DEFAULT' })), 'ALREADY_EXISTS');
      expect(taken.reason).toBe('CERTIFICATE_OWNED_ELSEWHERE');
      expect(taken.details['resourceId']).toBe(hex(3));
    });

    it('moves the one DEFAULT registration by transfer, next to SNI_ONLY holders, and keeps the rule', async () => {
      const C = '333333333333';
      await registry.createAccount({ accountId: C, endpointPrefix: 'cccccccccccccc' });
      await registry.insertCertificate(cert(A, 9, { certificateMode: 'DEFAULT' }));
      await registry.insertCertificate(cert(B, 9));
      await registry.startTransfer(A, hex(9), C, null);
      // While offered, the DEFAULT registration is still A's: nobody else can take it.
      await registry.createAccount({ accountId: '444444444444', endpointPrefix: 'dddddddddddddd' });
      const taken = await refused(registry.insertCertificate(cert('444444444444', 9, { certificateMode: 'DEFAULT' })), 'ALREADY_EXISTS');
      expect(taken.reason).toBe('CERTIFICATE_OWNED_ELSEWHERE');
      await registry.acceptTransfer(C, hex(9), true);
      expect((await registry.findCertificateRegistrations(hex(9))).map((r) => [r.accountId, r.certificateMode])).toEqual([
        [B, 'SNI_ONLY'],
        [C, 'DEFAULT'],
      ]);
      await refused(registry.insertCertificate(cert(A, 9, { certificateMode: 'DEFAULT' })), 'ALREADY_EXISTS');
      await registry.insertCertificate(cert(A, 9));
    });

    it('applies the same DEFAULT-owner rule to JITR as to every other registration', async () => {
      const facts = (n: number) => ({ certificateId: hex(n), certificatePem: 'PEM\n', notBefore: 1, notAfter: 2 });
      await registry.insertCertificate(cert(B, 7, { certificateMode: 'DEFAULT' }));
      const error = await refused(registry.registerPendingActivation(A, facts(7), hex(100), 'DEFAULT'), 'ALREADY_EXISTS');
      expect(error.reason).toBe('CERTIFICATE_OWNED_ELSEWHERE');
      expect(await registry.getCertificate(A, hex(7))).toBeNull();
      // SNI_ONLY next to it is allowed, and a squatter's SNI_ONLY row does not block DEFAULT.
      expect((await registry.registerPendingActivation(A, facts(7), hex(100), 'SNI_ONLY')).created).toBe(true);
      await registry.insertCertificate(cert(B, 8));
      expect((await registry.registerPendingActivation(A, facts(8), hex(100), 'DEFAULT')).record.certificateMode).toBe('DEFAULT');
    });

    it('moves status only along allowed transitions and bumps the version', async () => {
      await registry.insertCertificate(cert(A, 1));
      const active = await registry.setCertificateStatus(A, hex(1), 'ACTIVE', ['INACTIVE']);
      expect(active).toMatchObject({ status: 'ACTIVE', customerVersion: 2 });
      const again = await registry.setCertificateStatus(A, hex(1), 'ACTIVE', []);
      expect(again.customerVersion).toBe(2);
      await registry.setCertificateStatus(A, hex(1), 'REVOKED', ['ACTIVE']);
      const error = await refused(registry.setCertificateStatus(A, hex(1), 'ACTIVE', ['INACTIVE']), 'STATE');
      expect(error.details['status']).toBe('REVOKED');
      await refused(registry.setCertificateStatus(A, hex(9), 'ACTIVE', ['INACTIVE']), 'NOT_FOUND');
    });

    it('deletes a certificate only when its state and attachments allow it', async () => {
      const { region } = await registry.settings();
      const arn = `arn:aws:iot:${region}:${A}:cert/${hex(1)}`;
      await registry.insertCertificate(cert(A, 1, { status: 'ACTIVE' }));
      await refused(registry.deleteCertificate(A, hex(1), ['INACTIVE'], false), 'STATE');
      await registry.setCertificateStatus(A, hex(1), 'INACTIVE', ['ACTIVE']);
      await registry.attachThingPrincipal(A, 'thing-1', arn);
      await refused(registry.deleteCertificate(A, hex(1), ['INACTIVE'], true), 'THINGS_ATTACHED');
      await registry.detachThingPrincipal(A, 'thing-1', arn);
      await registry.createPolicy(A, 'p1', '{}');
      await registry.attachPolicy(A, 'p1', arn);
      await refused(registry.deleteCertificate(A, hex(1), ['INACTIVE'], false), 'POLICIES_ATTACHED');
      await registry.deleteCertificate(A, hex(1), ['INACTIVE'], true);
      expect(await registry.getCertificate(A, hex(1))).toBeNull();
      expect(await registry.listPolicyTargets(A, 'p1')).toEqual([]);
    });

    it('pages through certificates in both orders without gaps or repeats', async () => {
      for (let n = 1; n <= 7; n++) await registry.insertCertificate(cert(A, n));
      const collect = async (ascending: boolean): Promise<string[]> => {
        const ids: string[] = [];
        let marker: string | undefined;
        do {
          const result = await registry.listCertificates(A, page(3, ascending, marker));
          expect(result.items.length).toBeLessThanOrEqual(3);
          ids.push(...result.items.map((c) => c.certificateId));
          marker = result.nextMarker;
          if (marker) expect(marker).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
        } while (marker);
        return ids;
      };
      const ascending = await collect(true);
      expect(ascending).toEqual([1, 2, 3, 4, 5, 6, 7].map(hex));
      expect(await collect(false)).toEqual([7, 6, 5, 4, 3, 2, 1].map(hex));
      await refused(registry.listCertificates(A, page(3, true, 'bm90LWEtbWFya2Vy')), 'INVALID_MARKER');
    });

    it('enforces CA uniqueness, the DEFAULT owner rule and the same-subject limit', async () => {
      await registry.insertCaCertificate(ca(A, 100));
      await refused(registry.insertCaCertificate(ca(A, 100)), 'ALREADY_EXISTS');
      await refused(registry.insertCaCertificate(ca(B, 100)), 'DEFAULT_CA_OWNED_ELSEWHERE');
      await registry.insertCaCertificate(ca(B, 100, { certificateMode: 'SNI_ONLY' }));
      for (let n = 1; n <= 10; n++) await registry.insertCaCertificate(ca(A, 200 + n, { subject: 'CN=Same' }));
      await refused(registry.insertCaCertificate(ca(A, 211, { subject: 'CN=Same' })), 'SUBJECT_LIMIT');
      expect(await registry.findCaCertificatesBySubject(A, 'CN=Same')).toHaveLength(10);
      expect(await registry.findCaCertificatesBySubject(B, 'CN=Same')).toHaveLength(0);
    });

    it('updates a CA and refuses to delete it while ACTIVE', async () => {
      await registry.insertCaCertificate(ca(A, 100, { registrationConfig: { templateName: 'tpl' } }));
      expect((await registry.listCaCertificates(A, page(10), 'tpl')).items).toHaveLength(1);
      const updated = await registry.updateCaCertificate(A, hex(100), { autoRegistrationStatus: 'ENABLE', registrationConfig: null });
      expect(updated).toMatchObject({ status: 'ACTIVE', autoRegistrationStatus: 'ENABLE', registrationConfig: null, customerVersion: 2 });
      expect((await registry.listCaCertificates(A, page(10), 'tpl')).items).toHaveLength(0);
      await refused(registry.deleteCaCertificate(A, hex(100)), 'STATE');
      await registry.updateCaCertificate(A, hex(100), { status: 'INACTIVE' });
      await registry.deleteCaCertificate(A, hex(100));
      expect(await registry.getCaCertificate(A, hex(100))).toBeNull();
      await refused(registry.updateCaCertificate(A, hex(100), { status: 'ACTIVE' }), 'NOT_FOUND');
    });

    it('transfers a certificate to another account and completes only once', async () => {
      await registry.insertCertificate(cert(A, 1, { status: 'ACTIVE' }));
      await refused(registry.startTransfer(A, hex(1), B, 'hi'), 'STATE');
      await registry.setCertificateStatus(A, hex(1), 'INACTIVE', ['ACTIVE']);
      await registry.startTransfer(A, hex(1), B, 'hi');
      expect((await registry.listCertificates(B, page(10))).items.map((c) => c.status)).toEqual(['PENDING_TRANSFER']);
      expect((await registry.listOutgoingTransfers(A, page(10))).items).toMatchObject([{ transferredTo: B, transferMessage: 'hi' }]);
      expect(await registry.getCertificate(B, hex(1))).toBeNull();
      const accepted = await registry.acceptTransfer(B, hex(1), true);
      expect(accepted).toMatchObject({ accountId: B, previousOwnedBy: A, status: 'ACTIVE' });
      expect(await registry.getCertificate(A, hex(1))).toBeNull();
      const done = await refused(registry.acceptTransfer(B, hex(1), false), 'STATE');
      expect(done.reason).toBe('TRANSFER_COMPLETED');
      expect((await refused(registry.cancelTransfer(A, hex(1)), 'STATE')).reason).toBe('TRANSFER_COMPLETED');
    });

    it('returns a rejected or cancelled transfer to the source as INACTIVE', async () => {
      await registry.insertCertificate(cert(A, 1));
      await registry.startTransfer(A, hex(1), B, null);
      const rejected = await registry.rejectTransfer(B, hex(1), 'no thanks');
      expect(rejected).toMatchObject({ accountId: A, status: 'INACTIVE', transfer: { rejectReason: 'no thanks' } });
      await refused(registry.acceptTransfer(B, hex(1), false), 'NOT_FOUND');
      await registry.startTransfer(A, hex(1), B, null);
      expect((await registry.cancelTransfer(A, hex(1))).status).toBe('INACTIVE');
      expect((await registry.listOutgoingTransfers(A, page(10))).items).toEqual([]);
    });

    it('registers a JITR certificate once and keeps its events in order', async () => {
      await registry.insertCaCertificate(ca(A, 100));
      const facts = { certificateId: hex(5), certificatePem: 'PEM\n', notBefore: 1, notAfter: 2 };
      const first = await registry.registerPendingActivation(A, facts, hex(100), 'DEFAULT');
      expect(first).toMatchObject({ created: true, record: { status: 'PENDING_ACTIVATION', caCertificateId: hex(100) } });
      const second = await registry.registerPendingActivation(A, facts, hex(100), 'DEFAULT');
      expect(second).toEqual({ created: false, record: first.record });
      const e1 = await registry.appendEvent(A, 'topic/one', { n: 1 });
      await registry.appendEvent(B, 'topic/other', { n: 0 });
      const e2 = await registry.appendEvent(A, 'topic/two', { n: 2 });
      expect(e2.sequence).toBeGreaterThan(e1.sequence);
      expect((await registry.listEvents(A, 0, 10)).map((e) => e.payload)).toEqual([{ n: 1 }, { n: 2 }]);
      expect((await registry.listEvents(A, e1.sequence, 10)).map((e) => e.topic)).toEqual(['topic/two']);
      expect(await registry.listEvents(A, 0, 1)).toHaveLength(1);
    });

    it('keeps the first issuing CA stored when two writers race', async () => {
      expect(await registry.getIssuingCa()).toBeNull();
      const first = await registry.ensureIssuingCa({ certificatePem: 'CA 1', privateKeyPem: 'KEY 1', createdAt: 1 });
      const second = await registry.ensureIssuingCa({ certificatePem: 'CA 2', privateKeyPem: 'KEY 2', createdAt: 2 });
      expect(first).toEqual({ certificatePem: 'CA 1', privateKeyPem: 'KEY 1', createdAt: 1 });
      expect(second).toEqual(first);
    });

    // branch secrets: imported issuing CAs.
    it('replaces the installation issuing CA on import and keeps one per account apart', async () => {
      await registry.ensureIssuingCa({ certificatePem: 'MADE', privateKeyPem: 'MADE KEY', createdAt: 1 });
      await registry.importIssuingCa({ certificatePem: 'IMPORTED', privateKeyPem: 'IMPORTED KEY', createdAt: 2 }, null);
      expect(await registry.getIssuingCa()).toEqual({ certificatePem: 'IMPORTED', privateKeyPem: 'IMPORTED KEY', createdAt: 2 });
      expect(await registry.getAccountIssuingCa(A)).toBeNull();
      await registry.importIssuingCa({ certificatePem: 'A CA', privateKeyPem: 'A KEY', createdAt: 3 }, A);
      await registry.importIssuingCa({ certificatePem: 'A CA 2', privateKeyPem: 'A KEY 2', createdAt: 4 }, A);
      expect(await registry.getAccountIssuingCa(A)).toEqual({ certificatePem: 'A CA 2', privateKeyPem: 'A KEY 2', createdAt: 4 });
      expect(await registry.getAccountIssuingCa(B)).toBeNull();
      await refused(registry.importIssuingCa({ certificatePem: 'X', privateKeyPem: 'X', createdAt: 5 }, '999999999999'), 'NOT_FOUND');
      expect((await registry.getIssuingCa())?.certificatePem).toBe('IMPORTED');
    });

    it('lists certificates by CA and shows offers only to the target account', async () => {
      await registry.insertCaCertificate(ca(A, 100));
      await registry.insertCertificate(cert(A, 1, { caCertificateId: hex(100), certificateMode: 'DEFAULT' }));
      await registry.insertCertificate(cert(A, 2));
      await registry.insertCertificate(cert(B, 3));
      expect((await registry.listCertificates(A, page(10), hex(100))).items.map((c) => c.certificateId)).toEqual([hex(1)]);
      await registry.startTransfer(A, hex(2), B, null);
      expect((await registry.listCertificates(B, page(10))).items.map((c) => c.certificateId)).toEqual([hex(2), hex(3)]);
      expect((await registry.listCertificates(A, page(10))).items.map((c) => c.certificateId)).toEqual([hex(1), hex(2)]);
      expect((await registry.getCertificateVisibleTo(B, hex(2)))?.accountId).toBe(A);
      expect(await registry.getCertificateVisibleTo(B, hex(1))).toBeNull();
      await refused(registry.insertCertificate(cert(B, 2)), 'ALREADY_EXISTS');
    });

    it('pages CA certificates with the same markers', async () => {
      for (let n = 1; n <= 5; n++) await registry.insertCaCertificate(ca(A, 300 + n));
      const first = await registry.listCaCertificates(A, page(2, false));
      const second = await registry.listCaCertificates(A, page(2, false, first.nextMarker));
      const third = await registry.listCaCertificates(A, page(2, false, second.nextMarker));
      expect([...first.items, ...second.items, ...third.items].map((c) => c.certificateId)).toEqual([305, 304, 303, 302, 301].map(hex));
      expect(third.nextMarker).toBeUndefined();
    });

    it('refuses to delete a policy that is still attached', async () => {
      await registry.createPolicy(A, 'p', '{"Version":"2012-10-17"}');
      await refused(registry.createPolicy(A, 'p', '{}'), 'ALREADY_EXISTS');
      await registry.attachPolicy(A, 'p', 'arn:x');
      await refused(registry.deletePolicy(A, 'p'), 'POLICY_IN_USE');
      expect((await registry.listAttachedPolicies(A, 'arn:x')).map((p) => p.policyName)).toEqual(['p']);
      await registry.detachPolicy(A, 'p', 'arn:x');
      await refused(registry.detachPolicy(A, 'p', 'arn:x'), 'NOT_FOUND');
      await registry.deletePolicy(A, 'p');
      expect(await registry.getPolicy(A, 'p')).toBeNull();
    });

    // branch keys: several keys per account, read-only keys, rotation, deletion.
    it('keeps several keys per account, with scope, status and creation date', async () => {
      const before = Date.now() / 1000 - 1;
      await registry.addCredential({ accountId: A, accessKeyId: 'AKIAFULL1', secretAccessKey: 's1' });
      await registry.addCredential({ accountId: A, accessKeyId: 'AKIAREAD1', secretAccessKey: 's2', scope: 'READ_ONLY' });
      await registry.addCredential({ accountId: B, accessKeyId: 'AKIAFULLB', secretAccessKey: 's3' });
      const keys = await registry.listCredentials(A);
      expect(keys.map((k) => [k.accessKeyId, k.scope, k.status])).toEqual([
        ['AKIAFULL1', 'FULL', 'ACTIVE'],
        ['AKIAREAD1', 'READ_ONLY', 'ACTIVE'],
      ]);
      for (const k of keys) expect(k.createdAt).toBeGreaterThan(before);
    });

    it('rotates a key: both work, the old one is deactivated, then deleted; the last active full key stays', async () => {
      await registry.addCredential({ accountId: A, accessKeyId: 'AKIAOLD', secretAccessKey: 's1' });
      await registry.addCredential({ accountId: A, accessKeyId: 'AKIAREAD', secretAccessKey: 's2', scope: 'READ_ONLY' });
      await registry.addCredential({ accountId: B, accessKeyId: 'AKIAOTHER', secretAccessKey: 's3' });
      // A read-only key does not count: the old full key is still the last one.
      const last = await refused(registry.updateCredentialStatus(A, 'AKIAOLD', 'INACTIVE'), 'LAST_FULL_ACCESS_KEY');
      expect(last.details).toEqual({ accessKeyId: 'AKIAOLD', accountId: A });
      await refused(registry.deleteCredential(A, 'AKIAOLD'), 'LAST_FULL_ACCESS_KEY');
      // Another account's key is not found from this one, and is not changed.
      await refused(registry.updateCredentialStatus(A, 'AKIAOTHER', 'INACTIVE'), 'NOT_FOUND');
      await refused(registry.deleteCredential(A, 'AKIAOTHER'), 'NOT_FOUND');
      await refused(registry.deleteCredential(A, 'AKIANONE'), 'NOT_FOUND');
      expect((await registry.getCredential('AKIAOTHER'))?.status).toBe('ACTIVE');

      await registry.addCredential({ accountId: A, accessKeyId: 'AKIANEW', secretAccessKey: 's4' });
      expect((await registry.updateCredentialStatus(A, 'AKIAOLD', 'INACTIVE')).status).toBe('INACTIVE');
      expect((await registry.getCredential('AKIAOLD'))?.status).toBe('INACTIVE');
      // The new key is now the last active full one.
      await refused(registry.updateCredentialStatus(A, 'AKIANEW', 'INACTIVE'), 'LAST_FULL_ACCESS_KEY');
      expect((await registry.getCredential('AKIANEW'))?.status).toBe('ACTIVE');
      // Inactive and read-only keys may always go.
      await registry.deleteCredential(A, 'AKIAOLD');
      await registry.deleteCredential(A, 'AKIAREAD');
      expect(await registry.getCredential('AKIAOLD')).toBeNull();
      expect((await registry.listCredentials(A)).map((k) => k.accessKeyId)).toEqual(['AKIANEW']);
      // Reactivating needs no second key.
      await registry.addCredential({ accountId: A, accessKeyId: 'AKIASPARE', secretAccessKey: 's5' });
      await registry.updateCredentialStatus(A, 'AKIASPARE', 'INACTIVE');
      expect((await registry.updateCredentialStatus(A, 'AKIASPARE', 'ACTIVE')).status).toBe('ACTIVE');
    });

    it('never removes both of the last two full keys when two removals race', async () => {
      await registry.addCredential({ accountId: A, accessKeyId: 'AKIARACE1', secretAccessKey: 's1' });
      await registry.addCredential({ accountId: A, accessKeyId: 'AKIARACE2', secretAccessKey: 's2' });
      const results = await Promise.allSettled([
        registry.deleteCredential(A, 'AKIARACE1'),
        registry.updateCredentialStatus(A, 'AKIARACE2', 'INACTIVE'),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(failed?.reason).toBeInstanceOf(RegistryError);
      expect((failed?.reason as RegistryError | undefined)?.code).toBe('LAST_FULL_ACCESS_KEY');
      expect((await registry.listCredentials(A)).filter((k) => k.status === 'ACTIVE')).toHaveLength(1);
    });

    // branch keys: the audit log.
    it('keeps audit rows per account, in sequence order, paged with afterSequence', async () => {
      const before = Date.now() / 1000 - 1;
      const written = [];
      for (let i = 0; i < 5; i++) {
        written.push(
          await registry.appendAudit({
            accountId: i === 2 ? B : A,
            accessKeyId: i === 3 ? null : `AKIAAUDIT${i}`,
            operation: `Op${i}`,
            resource: i === 4 ? null : `certificateId=${hex(i)}`,
            result: i === 1 ? 'ResourceNotFoundException' : 'OK',
            requestId: i === 4 ? null : `req-${i}`,
          }),
        );
      }
      for (let i = 1; i < written.length; i++) expect(written[i]!.sequence).toBeGreaterThan(written[i - 1]!.sequence);
      const all = await registry.listAudit(A, 0, 100);
      expect(all).toEqual(written.filter((w) => w.accountId === A));
      expect(all[0]).toMatchObject({
        accountId: A,
        accessKeyId: 'AKIAAUDIT0',
        operation: 'Op0',
        resource: `certificateId=${hex(0)}`,
        result: 'OK',
        requestId: 'req-0',
      });
      expect(all[0]!.time).toBeGreaterThan(before);
      expect(all.find((e) => e.operation === 'Op3')?.accessKeyId).toBeNull();
      expect(all.find((e) => e.operation === 'Op4')).toMatchObject({ resource: null, requestId: null });
      expect((await registry.listAudit(B, 0, 100)).map((e) => e.operation)).toEqual(['Op2']);
      const first = await registry.listAudit(A, 0, 2);
      const second = await registry.listAudit(A, first[first.length - 1]!.sequence, 2);
      const third = await registry.listAudit(A, second[second.length - 1]!.sequence, 2);
      expect([...first, ...second, ...third].map((e) => e.operation)).toEqual(['Op0', 'Op1', 'Op3', 'Op4']);
      expect(third).toHaveLength(0);
    });

    it('writes a key change and its audit row in one transaction: both or neither', async () => {
      const row = (operation: string, resource: string) => ({
        accountId: A,
        accessKeyId: 'AKIACALLER',
        operation,
        resource,
        result: 'OK',
        requestId: 'r',
      });
      await registry.addCredential(
        { accountId: A, accessKeyId: 'AKIATXONE', secretAccessKey: 's1' },
        row('CreateAccessKey', 'accessKeyId=AKIATXONE'),
      );
      // Refused: the key is the last active full one, so neither the change nor the row is kept.
      await refused(registry.deleteCredential(A, 'AKIATXONE', row('DeleteAccessKey', 'accessKeyId=AKIATXONE')), 'LAST_FULL_ACCESS_KEY');
      await refused(
        registry.updateCredentialStatus(A, 'AKIATXONE', 'INACTIVE', row('UpdateAccessKey', 'accessKeyId=AKIATXONE')),
        'LAST_FULL_ACCESS_KEY',
      );
      await refused(
        registry.addCredential({ accountId: A, accessKeyId: 'AKIATXONE', secretAccessKey: 's2' }, row('CreateAccessKey', 'dup')),
        'ALREADY_EXISTS',
      );
      await registry.addCredential({ accountId: A, accessKeyId: 'AKIATXTWO', secretAccessKey: 's3' });
      await registry.updateCredentialStatus(A, 'AKIATXONE', 'INACTIVE', row('UpdateAccessKey', 'accessKeyId=AKIATXONE'));
      await registry.deleteCredential(A, 'AKIATXONE', row('DeleteAccessKey', 'accessKeyId=AKIATXONE'));
      expect((await registry.listAudit(A, 0, 100)).map((e) => [e.operation, e.resource, e.result])).toEqual([
        ['CreateAccessKey', 'accessKeyId=AKIATXONE', 'OK'],
        ['UpdateAccessKey', 'accessKeyId=AKIATXONE', 'OK'],
        ['DeleteAccessKey', 'accessKeyId=AKIATXONE', 'OK'],
      ]);
    });

    // branch crl: one current CRL per CA, replaced only over the one it was checked against.
    it("stores a CA's CRL, replaces it only over the expected one, and drops it with the CA", async () => {
      const crl = (n: number, bytes: number[]) => ({
        accountId: A,
        caCertificateId: hex(100),
        crl: new Uint8Array(bytes),
        crlId: hex(n),
        crlNumber: String(n),
        thisUpdate: 1_700_000_000,
        nextUpdate: 1_700_604_800,
        entries: 3,
        source: 'UPLOAD' as const,
        sourceUrl: null,
        verifiedAt: 1_700_000_100,
      });
      await refused(registry.putCaCrl(crl(1, [1]), null), 'NOT_FOUND');
      await registry.insertCaCertificate(ca(A, 100));
      expect(await registry.getCaCrlMeta(A, hex(100))).toBeNull();
      const first = await registry.putCaCrl(crl(1, [0x30, 0x82, 0xff, 0]), null);
      expect(first).toMatchObject({
        crlId: hex(1),
        crlNumber: '1',
        nextUpdate: 1_700_604_800,
        entries: 3,
        source: 'UPLOAD',
        verifiedAt: 1_700_000_100,
      });
      expect(first).not.toHaveProperty('crl');
      expect(Buffer.from((await registry.getCaCrl(A, hex(100)))?.crl ?? [])).toEqual(Buffer.from([0x30, 0x82, 0xff, 0]));
      // Another account does not see it.
      expect(await registry.getCaCrlMeta(B, hex(100))).toBeNull();
      // A writer that verified against "no CRL" lost the race.
      await refused(registry.putCaCrl(crl(2, [2]), null), 'STATE');
      await registry.putCaCrl(
        { ...crl(2, [2]), nextUpdate: null, source: 'DISTRIBUTION_POINT', sourceUrl: 'http://127.0.0.1/ca.crl' },
        hex(1),
      );
      expect(await registry.getCaCrlMeta(A, hex(100))).toMatchObject({
        crlId: hex(2),
        nextUpdate: null,
        source: 'DISTRIBUTION_POINT',
        sourceUrl: 'http://127.0.0.1/ca.crl',
      });
      await registry.deleteCaCrl(A, hex(100));
      await refused(registry.deleteCaCrl(A, hex(100)), 'NOT_FOUND');
      await registry.putCaCrl(crl(3, [3]), null);
      await registry.updateCaCertificate(A, hex(100), { status: 'INACTIVE' });
      await registry.deleteCaCertificate(A, hex(100));
      await registry.insertCaCertificate(ca(A, 100));
      expect(await registry.getCaCrlMeta(A, hex(100))).toBeNull();
    });
  });
}
