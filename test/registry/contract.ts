/**
 * The registry contract suite: every backend must pass it. Call `registryContract(name,
 * factory)` from a `*.test.ts` file; `factory` returns a fresh, empty registry.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RegistryError, type NewCaCertificate, type NewCertificate, type Registry, type RegistryErrorCode } from '../../ts/registry/types.js';

/** Creates a fresh empty registry and (optionally) disposes of it. */
export type RegistryFactory = () => Promise<{ registry: Registry; dispose?: () => Promise<void> }>;

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

    beforeEach(async () => {
      const made = await factory();
      registry = made.registry;
      dispose = made.dispose;
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
      expect(await registry.getCredential('AKIAONE')).toEqual({ accountId: A, accessKeyId: 'AKIAONE', secretAccessKey: 's1' });
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
      expect(await registry.getCertificateStanding(B, hex(1))).toMatchObject({ status: 'INACTIVE', caCertificateId: null, things: ['other-account-thing'] });
      expect(await registry.getCertificateStanding(A, hex(2))).toBeNull();
      await registry.setCertificateStatus(A, hex(1), 'REVOKED', ['ACTIVE']);
      await registry.detachThingPrincipal(A, 'thing-b', arn(A));
      expect(await registry.getCertificateStanding(A, hex(1))).toEqual({ ...standing, status: 'REVOKED', things: ['Thing-c', 'thing-a'] });
      // A registry that offers the synchronous form answers the same.
      if (registry.getCertificateStandingSync) {
        expect(registry.getCertificateStandingSync(A, hex(1))).toEqual(await registry.getCertificateStanding(A, hex(1)));
      }
    });

    it('does not show a certificate offered by transfer as the receiving account\'s standing', async () => {
      await registry.insertCertificate(cert(A, 1));
      await registry.startTransfer(A, hex(1), B, null);
      expect(await registry.getCertificateStanding(B, hex(1))).toBeNull();
      expect(await registry.getCertificateStanding(A, hex(1))).toMatchObject({ status: 'PENDING_TRANSFER' });
    });

    it('allows an SNI_ONLY certificate in two accounts but a DEFAULT one in only one', async () => {
      await registry.insertCertificate(cert(A, 1));
      await registry.insertCertificate(cert(B, 1));
      expect((await registry.findCertificateRegistrations(hex(1))).map((r) => r.accountId)).toEqual([A, B]);
      await registry.insertCertificate(cert(A, 2, { certificateMode: 'DEFAULT' }));
      await refused(registry.insertCertificate(cert(B, 2)), 'ALREADY_EXISTS');
      await registry.insertCertificate(cert(A, 3));
      await refused(registry.insertCertificate(cert(B, 3, { certificateMode: 'DEFAULT' })), 'ALREADY_EXISTS');
    });

    it('moves status only along allowed transitions and bumps the version', async () => {
      await registry.insertCertificate(cert(A, 1));
      const active = await registry.setCertificateStatus(A, hex(1), 'ACTIVE', ['INACTIVE']);
      expect(active).toMatchObject({ status: 'ACTIVE', customerVersion: 2 });
      const again = await registry.setCertificateStatus(A, hex(1), 'ACTIVE', []);
      expect(again.customerVersion).toBe(2);
      await registry.setCertificateStatus(A, hex(1), 'REVOKED', ['ACTIVE']);
      const error = await refused(registry.setCertificateStatus(A, hex(1), 'ACTIVE', ['INACTIVE']), 'STATE');
      expect(error.detail).toBe('REVOKED');
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
      expect(done.detail).toBe('TRANSFER_COMPLETED');
      expect((await refused(registry.cancelTransfer(A, hex(1)), 'STATE')).detail).toBe('TRANSFER_COMPLETED');
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
      expect(first).toMatchObject({ crlId: hex(1), crlNumber: '1', nextUpdate: 1_700_604_800, entries: 3, source: 'UPLOAD', verifiedAt: 1_700_000_100 });
      expect(first).not.toHaveProperty('crl');
      expect(Buffer.from((await registry.getCaCrl(A, hex(100)))?.crl ?? [])).toEqual(Buffer.from([0x30, 0x82, 0xff, 0]));
      // Another account does not see it.
      expect(await registry.getCaCrlMeta(B, hex(100))).toBeNull();
      // A writer that verified against "no CRL" lost the race.
      await refused(registry.putCaCrl(crl(2, [2]), null), 'STATE');
      await registry.putCaCrl({ ...crl(2, [2]), nextUpdate: null, source: 'DISTRIBUTION_POINT', sourceUrl: 'http://127.0.0.1/ca.crl' }, hex(1));
      expect(await registry.getCaCrlMeta(A, hex(100))).toMatchObject({ crlId: hex(2), nextUpdate: null, source: 'DISTRIBUTION_POINT', sourceUrl: 'http://127.0.0.1/ca.crl' });
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
