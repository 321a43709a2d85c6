/**
 * Issue 14, defects 1, 2 and 7, through the real AWS SDK and CLI against a real admin
 * server, with the real authorizer deciding over the same SQLite registry:
 * - one account cannot claim another's endpoint as a custom domain;
 * - an account registering another's CA (SNI_ONLY) and device certificate from public
 *   material alone does not keep the owner from registering or connecting;
 * - a device certificate whose EKU excludes clientAuth is refused at registration.
 */
import {
  DescribeEndpointCommand,
  GetRegistrationCodeCommand,
  RegisterCACertificateCommand,
  RegisterCertificateCommand,
  RegisterCertificateWithoutCACommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Authorizer } from '../../ts/authz/decision.js';
import { testAuthorizer } from '../authz/authorizer.js';
import type { World } from '../authz/world.js';
import { ACCOUNT_A, ACCOUNT_B, awsIot, sdkError, signedFetch, startAdmin, type AdminHarness } from './harness.js';
import { makeCa, makeDevice, makeSelfSigned, makeVerification, type CaFixture } from './pki-fixtures.js';

const endpoint = async (client: IoTClient, endpointType: string): Promise<string> =>
  (await client.send(new DescribeEndpointCommand({ endpointType }))).endpointAddress ?? '';

describe('tenancy: endpoints, squatting and EKU through the real SDK and CLI', () => {
  let harness: AdminHarness;
  let a: IoTClient;
  let b: IoTClient;
  let authorizer: Authorizer;

  beforeAll(async () => {
    harness = await startAdmin();
    a = harness.client(ACCOUNT_A);
    b = harness.client(ACCOUNT_B);
    // The real decision over the registry the admin server writes (no config cache).
    authorizer = testAuthorizer({ registry: harness.registry } as unknown as World, { registry: harness.registry, jitr: false }).authorizer;
  });
  afterAll(async () => {
    await harness.close();
  });

  describe('custom domains (defect 1)', () => {
    it("refuses every form of another account's endpoint, in any case and with a trailing dot; A's devices keep working there", async () => {
      const device = makeSelfSigned(701);
      const { certificateId = '' } = await a.send(new RegisterCertificateWithoutCACommand({ certificatePem: device, status: 'ACTIVE' }));
      const intruder = makeSelfSigned(702);
      await b.send(new RegisterCertificateWithoutCACommand({ certificatePem: intruder, status: 'ACTIVE' }));
      const ats = await endpoint(a, 'iot:Data-ATS');
      const names = [
        ats,
        await endpoint(a, 'iot:Data'),
        await endpoint(a, 'iot:CredentialProvider'),
        await endpoint(a, 'iot:Jobs'),
        `${ats.toUpperCase()}.`,
        ats.slice(ats.indexOf('.') + 1), // the namespace apex itself
      ];
      for (const name of names) {
        const res = await signedFetch(harness, ACCOUNT_B, { method: 'PUT', path: `/certgate/domains/${name}` });
        expect([res.status, res.errorType]).toEqual([400, 'InvalidRequestException']);
        expect(String(res.json?.['message'])).toMatch(/endpoint namespace/);
      }
      expect((await signedFetch(harness, ACCOUNT_B, { method: 'GET', path: '/certgate/domains' })).json).toEqual({ domainNames: [] });
      // A cannot claim its own endpoint either (it needs no claim: it is routed first).
      expect((await signedFetch(harness, ACCOUNT_A, { method: 'PUT', path: `/certgate/domains/${ats}` })).status).toBe(400);

      expect(await authorizer.authorize(ats, [device])).toMatchObject({ allow: true, accountId: ACCOUNT_A.accountId, certificateId });
      expect(await authorizer.authorize(`${ats.toUpperCase()}.`, [intruder])).toMatchObject({
        allow: false,
        reason: 'CERTIFICATE_NOT_REGISTERED',
      });
      // Names outside the namespace are still custom domains.
      const own = await signedFetch(harness, ACCOUNT_B, { method: 'PUT', path: '/certgate/domains/devices.b.example.' });
      expect([own.status, own.json]).toEqual([200, { domainName: 'devices.b.example' }]);
      expect(await authorizer.authorize('Devices.B.Example', [intruder])).toMatchObject({ allow: true, accountId: ACCOUNT_B.accountId });
    });
  });

  describe('registration squatting (defect 2)', () => {
    let ca: CaFixture;

    beforeAll(async () => {
      ca = makeCa('Squatted Fleet CA');
      const { registrationCode = '' } = await a.send(new GetRegistrationCodeCommand({}));
      await a.send(
        new RegisterCACertificateCommand({
          caCertificate: ca.pem,
          verificationCertificate: makeVerification(ca, registrationCode),
          setAsActive: true,
        }),
      );
    });

    it("lets A register and connect its device after B registered A's CA (SNI_ONLY) and that device, from public material", async () => {
      const device = makeDevice(ca, 801);
      // B needs no key: the CA and the device certificate are sent in clear in every handshake.
      await b.send(new RegisterCACertificateCommand({ caCertificate: ca.pem, certificateMode: 'SNI_ONLY', setAsActive: true }));
      const squat = await b.send(new RegisterCertificateCommand({ certificatePem: device, status: 'ACTIVE' }));
      const mine = await a.send(new RegisterCertificateCommand({ certificatePem: device, status: 'ACTIVE' }));
      expect(mine.certificateId).toBe(squat.certificateId);
      const regs = await harness.registry.findCertificateRegistrations(mine.certificateId ?? '');
      expect(regs.map((r) => [r.accountId, r.certificateMode])).toEqual([
        [ACCOUNT_A.accountId, 'DEFAULT'],
        [ACCOUNT_B.accountId, 'SNI_ONLY'],
      ]);
      const ats = await endpoint(a, 'iot:Data-ATS');
      expect(await authorizer.authorize(ats, [device])).toMatchObject({
        allow: true,
        accountId: ACCOUNT_A.accountId,
        certificateMode: 'DEFAULT',
      });
      // Without SNI the one DEFAULT registration answers; B's SNI_ONLY one needs B's SNI.
      expect(await authorizer.authorize(null, [device])).toMatchObject({ allow: true, accountId: ACCOUNT_A.accountId });
    });

    it('lets B hold a certificate A registered in DEFAULT mode only in SNI_ONLY mode (AWS CLI)', async () => {
      const device = makeDevice(ca, 802);
      await a.send(new RegisterCertificateCommand({ certificatePem: device, status: 'ACTIVE' }));
      const run = await awsIot(harness, ACCOUNT_B, ['register-certificate-without-ca', '--certificate-pem', device]);
      expect(run.code).toBe(0);
      const regs = await harness.registry.findCertificateRegistrations(String(run.json?.['certificateId']));
      expect(regs.map((r) => [r.accountId, r.certificateMode])).toEqual([
        [ACCOUNT_A.accountId, 'DEFAULT'],
        [ACCOUNT_B.accountId, 'SNI_ONLY'],
      ]);
    });
  });

  describe('extendedKeyUsage at registration (defect 7)', () => {
    let ca: CaFixture;
    beforeAll(async () => {
      // A fresh client: the previous test ran the AWS CLI for seconds, long enough for the
      // server to close the old client's idle keep-alive socket as it is reused.
      a = harness.client(ACCOUNT_A);
      ca = makeCa('EKU Fleet CA');
      const { registrationCode = '' } = await a.send(new GetRegistrationCodeCommand({}));
      await a.send(
        new RegisterCACertificateCommand({
          caCertificate: ca.pem,
          verificationCertificate: makeVerification(ca, registrationCode),
          setAsActive: true,
        }),
      );
    });

    it('refuses a serverAuth-only certificate with and without CA, and registers clientAuth ones', async () => {
      const serverOnly = makeDevice(ca, 901, undefined, ['serverAuth']);
      const withCa = await sdkError(a.send(new RegisterCertificateCommand({ certificatePem: serverOnly })));
      expect([withCa.name, withCa.status]).toEqual(['CertificateValidationException', 400]);
      expect(withCa.message).toMatch(/extendedKeyUsage \(serverAuth\) does not include clientAuth/);
      const noCa = await sdkError(
        a.send(new RegisterCertificateWithoutCACommand({ certificatePem: makeSelfSigned(902, undefined, ['serverAuth']) })),
      );
      expect(noCa.name).toBe('CertificateValidationException');
      await a.send(new RegisterCertificateCommand({ certificatePem: makeDevice(ca, 903, undefined, ['serverAuth', 'clientAuth']) }));
      await a.send(new RegisterCertificateWithoutCACommand({ certificatePem: makeSelfSigned(904, undefined, ['clientAuth']) }));
      const listed = await harness.registry.listCertificates(ACCOUNT_A.accountId, { pageSize: 250, ascending: true });
      expect(listed.items.some((c) => c.certificatePem === `${serverOnly.trim()}\n`)).toBe(false);
    });

    it('refuses it through the AWS CLI with the same error', async () => {
      const file = path.join(path.dirname(harness.dbPath), 'server-only.pem');
      writeFileSync(file, makeSelfSigned(905, undefined, ['serverAuth']));
      const run = await awsIot(harness, ACCOUNT_A, ['register-certificate-without-ca', '--certificate-pem', `file://${file}`]);
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(/CertificateValidationException/);
      expect(run.stderr).toMatch(/clientAuth/);
    });
  });
});
