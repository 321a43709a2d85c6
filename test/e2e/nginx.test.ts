/**
 * End to end through the real NGINX: mutual TLS at NGINX (`ssl_verify_client
 * optional_no_ca`), `auth_request` to certgate's NGINX door, the real curl as the device.
 */
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../ts/server/node.js';
import { certificate, identity, keyPem, type Cert } from '../authz/pki.js';
import { ACCOUNT_A, SNI_A, SNI_B, createWorld, type World } from '../authz/world.js';
import { testNode } from '../ingress/node.js';
import {
  NGINX_EXAMPLES,
  curl,
  nginxTest,
  renderExamples,
  startApp,
  startNginx,
  writeServerTls,
  type App,
  type Nginx,
} from './nginxHarness.js';
import { awsRevoke } from './aws.js';

/** NGINX writes the access log line just after the response: wait for it. */
async function accessLogged(nginx: Nginx, text: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const log = nginx.accessLog();
    if (log.includes(text)) return log;
    await new Promise((r) => setTimeout(r, 20));
  }
  return nginx.accessLog();
}

const certgateHeaders = (h: Record<string, string>) => Object.keys(h).filter((k) => k.startsWith('x-certgate-'));

describe('NGINX auth_request in front of certgate', () => {
  let world: World;
  let node: RunningNode;
  let nginx: Nginx;
  let app: App;
  let device: { cert: Cert; key: string };
  let stranger: { cert: Cert; key: string };

  beforeAll(async () => {
    world = await createWorld();
    // As docs/authorizer.md recommends behind the shipped config, which stamps every check
    // with X-Request-Start: a stamp read as older than --shed-after-ms would shed (503) the
    // allows below.
    node = await testNode(world, { requestStartHeader: 'x-request-start' });
    app = await startApp();
    nginx = await startNginx(world.dir, { authzPort: node.ports.authz, hosts: [SNI_A, SNI_B], appPort: app.port });
    const deviceId = identity('device-1', 'p256', false);
    device = { cert: certificate({ subject: deviceId }), key: keyPem(deviceId) };
    const strangerId = identity('stranger', 'p256', false);
    stranger = { cert: certificate({ subject: strangerId }), key: keyPem(strangerId) };
    await world.register(device.cert, {});
    await world.registry.attachThingPrincipal(ACCOUNT_A, 'device-1', `arn:aws:iot:us-east-1:${ACCOUNT_A}:cert/${device.cert.id}`);
  });
  afterAll(async () => {
    await nginx?.stop();
    await app?.close();
    await node?.close();
    await world?.dispose();
  });

  it('lets a registered ACTIVE device through and hands the decision to the application, not to the client', async () => {
    const r = await curl(nginx, world.dir, SNI_A, device);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({
      'x-certgate-certificate-id': device.cert.id,
      'x-certgate-account-id': ACCOUNT_A,
      'x-certgate-thing-name': 'device-1',
    });
    expect(certgateHeaders(r.headers)).toEqual([]);
  });

  it('sets the decision headers itself: a client cannot pose as a thing or certificate', async () => {
    const r = await curl(nginx, world.dir, SNI_A, device, ['X-Certgate-Thing-Name: admin', 'X-Certgate-Reason: CERTIFICATE_ACTIVE']);
    expect(JSON.parse(r.body)).toMatchObject({ 'x-certgate-thing-name': 'device-1' });
    expect(JSON.parse(r.body)).not.toHaveProperty('x-certgate-reason');
    // Nor a certificate of its own: the auth request carries only what NGINX sets.
    const forged = await curl(nginx, world.dir, SNI_A, null, [`X-SSL-Client-Cert: ${encodeURIComponent(device.cert.pem)}`]);
    expect(forged.status).toBe(403);
  });

  it('refuses an unknown certificate with a bare 403 and logs why', async () => {
    const r = await curl(nginx, world.dir, SNI_A, stranger);
    expect(r.status).toBe(403);
    expect(certgateHeaders(r.headers)).toEqual([]);
    expect(r.body).not.toContain('CERTIFICATE_NOT_REGISTERED');
    expect(await accessLogged(nginx, `sni=${SNI_A} reason=CERTIFICATE_NOT_REGISTERED`)).toContain(
      `sni=${SNI_A} reason=CERTIFICATE_NOT_REGISTERED`,
    );
  });

  it("refuses a registered device at another account's endpoint with 403", async () => {
    expect((await curl(nginx, world.dir, SNI_B, device)).status).toBe(403);
    expect(await accessLogged(nginx, `sni=${SNI_B} reason=CERTIFICATE_NOT_REGISTERED`)).toContain(
      `sni=${SNI_B} reason=CERTIFICATE_NOT_REGISTERED`,
    );
  });

  it('refuses a client without a certificate with 403', async () => {
    expect((await curl(nginx, world.dir, SNI_A, null)).status).toBe(403);
    expect(await accessLogged(nginx, 'reason=NO_CERTIFICATE')).toContain('reason=NO_CERTIFICATE');
  });

  it('refuses the device on the very next request after `aws iot update-certificate --new-status REVOKED` returns', async () => {
    expect((await curl(nginx, world.dir, SNI_A, device)).status).toBe(200);
    await awsRevoke(node.ports.admin, device.cert.id);
    const r = await curl(nginx, world.dir, SNI_A, device);
    expect(r.status).toBe(403);
    expect(await accessLogged(nginx, 'reason=CERTIFICATE_REVOKED')).toContain('reason=CERTIFICATE_REVOKED');
  });
});

describe('the shipped NGINX example files', () => {
  it('pass `nginx -t` as shipped (copied unchanged, plus the server certificate the user supplies)', async () => {
    const world = await createWorld();
    try {
      const prefix = path.join(world.dir, 'as-shipped');
      await renderExamples(prefix, {});
      for (const file of readdirSync(NGINX_EXAMPLES).filter((f) => /\.(conf|js)$/.test(f))) {
        expect(readFileSync(path.join(prefix, file), 'utf8'), file).toBe(readFileSync(path.join(NGINX_EXAMPLES, file), 'utf8'));
      }
      writeServerTls(prefix, [SNI_A]);
      expect(await nginxTest(prefix)).toContain('test is successful');
    } finally {
      await world.dispose();
    }
  });

  it('render refuses a value that would end an NGINX directive (exit 2, nothing written)', async () => {
    const world = await createWorld();
    try {
      const out = path.join(world.dir, 'bad');
      const err = await renderExamples(out, { BROKER: '127.0.0.1:1883; include /etc/passwd' }).catch(
        (e: { code: number; stderr: string }) => e,
      );
      expect(err).toMatchObject({ code: 2 });
      expect((err as { stderr: string }).stderr).toContain('BROKER');
      expect(() => readdirSync(out)).toThrow();
    } finally {
      await world.dispose();
    }
  });

  it('give up on a hung authorizer within the auth location timeouts (500, not a 60 s wait)', async () => {
    const world = await createWorld();
    // Accepts connections and never answers.
    const sockets: net.Socket[] = [];
    const hung = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const nginx = await startNginx(world.dir, { authzPort: (hung.address() as net.AddressInfo).port, hosts: [SNI_A] });
    try {
      const id = identity('hung-device', 'p256', false);
      const started = Date.now();
      const r = await curl(nginx, world.dir, SNI_A, { cert: certificate({ subject: id }), key: keyPem(id) });
      expect(r.status).toBe(500);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(nginx.errorLog()).toContain('upstream timed out');
    } finally {
      await nginx.stop();
      for (const s of sockets) s.destroy();
      hung.close();
      await world.dispose();
    }
  });
});
