/**
 * End to end through the real NGINX: mutual TLS at NGINX (`ssl_verify_client
 * optional_no_ca`), `auth_request` to certgate's NGINX door, the real curl as the device.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../ts/server/node.js';
import { certificate, identity, keyPem, type Cert } from '../authz/pki.js';
import { ACCOUNT_A, CREDENTIALS_A, SNI_A, SNI_B, createWorld, type World } from '../authz/world.js';
import { testNode } from '../ingress/node.js';
import { curl, startNginx, type Nginx } from './nginxHarness.js';
import { AWS_CLI } from '../control/harness.js';

const run = promisify(execFile);

/** `aws iot update-certificate` against certgate's admin port (the real AWS CLI). */
async function awsRevoke(adminPort: number, certificateId: string): Promise<void> {
  await run(
    AWS_CLI,
    ['iot', 'update-certificate', '--certificate-id', certificateId, '--new-status', 'REVOKED', '--endpoint-url', `http://127.0.0.1:${adminPort}`],
    {
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: CREDENTIALS_A.accessKeyId,
        AWS_SECRET_ACCESS_KEY: CREDENTIALS_A.secretAccessKey,
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      },
    },
  );
}

describe('NGINX auth_request in front of certgate', () => {
  let world: World;
  let node: RunningNode;
  let nginx: Nginx;
  let device: { cert: Cert; key: string };
  let stranger: { cert: Cert; key: string };

  beforeAll(async () => {
    world = await createWorld();
    node = await testNode(world);
    nginx = await startNginx(world.dir, node.ports.authz, [SNI_A, SNI_B]);
    const deviceId = identity('device-1', 'p256', false);
    device = { cert: certificate({ subject: deviceId }), key: keyPem(deviceId) };
    const strangerId = identity('stranger', 'p256', false);
    stranger = { cert: certificate({ subject: strangerId }), key: keyPem(strangerId) };
    await world.register(device.cert, {});
    await world.registry.attachThingPrincipal(ACCOUNT_A, 'device-1', `arn:aws:iot:us-east-1:${ACCOUNT_A}:cert/${device.cert.id}`);
  });
  afterAll(async () => {
    await nginx?.stop();
    await node?.close();
    await world?.dispose();
  });

  it('lets a registered ACTIVE device through and hands the decision headers on', async () => {
    const r = await curl(nginx, world.dir, SNI_A, device);
    expect(r.status).toBe(200);
    expect(r.headers['x-certgate-certificate-id']).toBe(device.cert.id);
    expect(r.headers['x-certgate-account-id']).toBe(ACCOUNT_A);
    expect(r.headers['x-certgate-thing-name']).toBe('device-1');
  });

  it('refuses an unknown certificate with 403', async () => {
    const r = await curl(nginx, world.dir, SNI_A, stranger);
    expect([r.status, r.headers['x-certgate-reason']]).toEqual([403, 'CERTIFICATE_NOT_REGISTERED']);
  });

  it("refuses a registered device at another account's endpoint with 403", async () => {
    const r = await curl(nginx, world.dir, SNI_B, device);
    expect([r.status, r.headers['x-certgate-reason']]).toEqual([403, 'CERTIFICATE_NOT_REGISTERED']);
  });

  it('refuses a client without a certificate with 403', async () => {
    const r = await curl(nginx, world.dir, SNI_A, null);
    expect([r.status, r.headers['x-certgate-reason']]).toEqual([403, 'NO_CERTIFICATE']);
  });

  it('refuses the device on the very next request after `aws iot update-certificate --new-status REVOKED` returns', async () => {
    expect((await curl(nginx, world.dir, SNI_A, device)).status).toBe(200);
    await awsRevoke(node.ports.admin, device.cert.id);
    const r = await curl(nginx, world.dir, SNI_A, device);
    expect([r.status, r.headers['x-certgate-reason']]).toEqual([403, 'CERTIFICATE_REVOKED']);
  });
});
