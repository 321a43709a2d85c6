/**
 * The request id through the real NGINX: the shipped example sends `$request_id` to
 * certgate's NGINX door, and certgate's decision log line for a refused device carries the
 * id that NGINX's access log shows for the same request.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode, type RunningNode } from '../../ts/server/node.js';
import { createLogger } from '../../ts/server/serve.js';
import { certificate, identity, keyPem, type Cert } from '../authz/pki.js';
import { SNI_A, createWorld, type World } from '../authz/world.js';
import { testConfig } from '../ingress/node.js';
import { curl, startApp, startNginx, type App, type Nginx } from './nginxHarness.js';

describe('NGINX $request_id in the decision log', () => {
  let world: World;
  let node: RunningNode;
  let nginx: Nginx;
  let app: App;
  let revoked: { cert: Cert; key: string };
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    world = await createWorld();
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const config = testConfig(world, { logLevel: 'info' });
    node = await startNode(config, createLogger(config, stream));
    app = await startApp();
    nginx = await startNginx(world.dir, { authzPort: node.ports.authz, hosts: [SNI_A], appPort: app.port });
    const id = identity('revoked-device', 'p256', false);
    revoked = { cert: certificate({ subject: id }), key: keyPem(id) };
    await world.register(revoked.cert, { status: 'REVOKED' });
  });
  afterAll(async () => {
    await nginx?.stop();
    await app?.close();
    await node?.close();
    await world?.dispose();
  });

  it("logs a revoked device's deny (allow sample 0) with the id NGINX logged for the request", async () => {
    expect((await curl(nginx, world.dir, SNI_A, revoked)).status).toBe(403);
    const access = /reason=CERTIFICATE_REVOKED .*request_id=([0-9a-f]{32})/.exec(nginx.accessLog());
    expect(access).not.toBeNull();
    await new Promise((r) => setTimeout(r, 50));
    const decision = lines.find((l) => l.msg === 'decision' && l.reason === 'CERTIFICATE_REVOKED');
    expect(decision).toMatchObject({ door: 'nginx', allow: false, certificateId: revoked.cert.id, requestId: access?.[1] });
  });
});
