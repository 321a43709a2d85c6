/**
 * `certgate load --tls-url` through the real NGINX: the shipped examples/nginx/ config
 * (rendered by its render.mjs) terminates mutual TLS with each device's own certificate and
 * key, asks certgate's NGINX door (auth_request), and the load tool checks every answer
 * against the registry: ACTIVE devices reach the application (200), REVOKED and unknown
 * ones get NGINX's bare 403.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFleet, type Device } from '../../ts/load/fleet.js';
import type { RunningNode } from '../../ts/server/node.js';
import { DATES, certificate, identity, keyPem } from '../authz/pki.js';
import { ACCOUNT_A, SNI_A, createWorld, type World } from '../authz/world.js';
import { startApp, startNginx, type App, type Nginx } from '../e2e/nginxHarness.js';
import { testNode } from '../ingress/node.js';
import { runBuiltCli } from '../cli/built.js';

function certgate(args: string[]) {
  return runBuiltCli(args);
}

interface SummaryJson {
  requests: number;
  outcomes: Record<string, number>;
  reasons: Record<string, number>;
  wrong: number;
  wrongExamples: string[];
  thresholds: { passed: boolean; failures: string[] };
}

describe('certgate load --tls-url through the shipped NGINX example', () => {
  let world: World;
  let node: RunningNode;
  let app: App;
  let nginx: Nginx;
  let dir: string;
  let fleetDir: string;
  let lyingFleetDir: string;
  let caFile: string;
  const ACTIVE = 12;
  const REVOKED = 4;
  const UNKNOWN = 2;
  /** Expired: NGINX refuses it itself (optional_no_ca still checks dates) before asking certgate. */
  const EXPIRED = 1;
  const ALL = ACTIVE + REVOKED + UNKNOWN + EXPIRED;

  beforeAll(async () => {
    world = await createWorld();
    const devices: Device[] = [];
    for (let i = 0; i < ACTIVE + REVOKED + UNKNOWN; i++) {
      // Each device its own key: NGINX checks the client's proof of possession.
      const id = identity(`tls-device-${i}`, 'p256', false);
      const leaf = certificate({ subject: id });
      const revoked = i >= ACTIVE && i < ACTIVE + REVOKED;
      if (i < ACTIVE + REVOKED) await world.register(leaf, { status: revoked ? 'REVOKED' : 'ACTIVE' });
      devices.push({ certificateId: leaf.id, certificatePem: leaf.pem, privateKeyPem: keyPem(id), expect: i < ACTIVE ? 'allow' : 'deny' });
    }
    const oldId = identity('tls-device-expired', 'p256', false);
    const old = certificate({ subject: oldId, notAfter: DATES.expired });
    devices.push({ certificateId: old.id, certificatePem: old.pem, privateKeyPem: keyPem(oldId), expect: 'deny' });
    node = await testNode(world, { shedAfterMs: '0', maxInFlight: '100000' });
    app = await startApp();
    nginx = await startNginx(world.dir, { authzPort: node.ports.authz, hosts: [SNI_A], appPort: app.port });
    dir = mkdtempSync(path.join(tmpdir(), 'certgate-load-tls-'));
    caFile = path.join(dir, 'server-ca.pem');
    writeFileSync(caFile, nginx.serverCa.pem);
    fleetDir = path.join(dir, 'fleet');
    writeFleet(fleetDir, { sni: SNI_A, accountId: ACCOUNT_A, devices });
    // The same fleet claiming the first revoked device should get through.
    lyingFleetDir = path.join(dir, 'lying');
    writeFleet(lyingFleetDir, {
      sni: SNI_A,
      accountId: ACCOUNT_A,
      devices: devices.map((d, i) => (i === ACTIVE ? { ...d, expect: 'allow' as const } : d)),
    });
  }, 60_000);

  afterAll(async () => {
    await nginx?.stop();
    await app?.close();
    await node?.close();
    await world?.dispose();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const tlsUrl = () => `https://127.0.0.1:${nginx.port}/`;

  it('a storm of every device, one handshake each: ACTIVE ones reach the application, REVOKED and unknown ones get 403', async () => {
    const r = await certgate([
      'load',
      '--fleet',
      fleetDir,
      '--tls-url',
      tlsUrl(),
      '--tls-ca',
      caFile,
      '--profile',
      'storm',
      '--connections',
      '4',
      '--json',
      '--max-error-rate',
      '0',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as SummaryJson;
    expect(s.requests).toBe(ALL);
    expect(s.outcomes).toEqual({ allow: ACTIVE, deny: REVOKED + UNKNOWN + EXPIRED, unavailable: 0, error: 0 });
    expect(s.wrong).toBe(0);
    // The device never learns why (the example adds no reason header): NGINX's status is
    // the answer, and the expired certificate NGINX's own refusal (its 495, sent as a 400).
    expect(s.reasons).toEqual({ 'HTTP 200': ACTIVE, 'HTTP 403': REVOKED + UNKNOWN, 'HTTP 400 SSL certificate error': EXPIRED });
    // NGINX logged certgate's reasons for the operator.
    expect(nginx.accessLog()).toContain('reason=CERTIFICATE_REVOKED');
    expect(nginx.accessLog()).toContain('reason=CERTIFICATE_NOT_REGISTERED');
  }, 60_000);

  it('a steady mix with a revoked share: every answer right', async () => {
    const r = await certgate([
      'load',
      '--fleet',
      fleetDir,
      '--tls-url',
      tlsUrl(),
      '--tls-ca',
      caFile,
      '--warm-share',
      '0.7',
      '--revoked-share',
      '0.3',
      '--warm-devices',
      '8',
      '--requests',
      '120',
      '--connections',
      '4',
      '--json',
      '--max-error-rate',
      '0',
    ]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as SummaryJson;
    expect(s.requests).toBe(120);
    expect(s.wrong).toBe(0);
    expect(s.outcomes.allow).toBeGreaterThan(0);
    expect(s.outcomes.deny).toBeGreaterThan(0);
    expect(s.outcomes.allow! + s.outcomes.deny!).toBe(120);
  }, 60_000);

  it("counts NGINX's 403 for a device the fleet says should pass as a wrong answer (exit 1)", async () => {
    const r = await certgate(['load', '--fleet', lyingFleetDir, '--tls-url', tlsUrl(), '--tls-ca', caFile, '--profile', 'storm', '--json']);
    expect(r.code).toBe(1);
    const s = JSON.parse(r.stdout) as SummaryJson;
    expect(s.wrong).toBe(1);
    expect(s.wrongExamples).toEqual([expect.stringMatching(/: expected allow, got deny \(HTTP 403\)$/)]);
  }, 60_000);

  it("without the terminator's CA every request fails server verification: errors, never an allow", async () => {
    const r = await certgate(['load', '--fleet', fleetDir, '--tls-url', tlsUrl(), '--profile', 'storm', '--json']);
    // No wrong answer (an error is no answer), but every request is an error.
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as SummaryJson;
    expect(s.outcomes).toEqual({ allow: 0, deny: 0, unavailable: 0, error: ALL });
    expect(Object.keys(s.reasons)).toEqual(['UNABLE_TO_VERIFY_LEAF_SIGNATURE']);
  }, 60_000);

  // Last: it stops certgate.
  it("with certgate down NGINX answers 500 (auth_request's error): counted unavailable, never an allow", async () => {
    await node.close();
    const r = await certgate([
      'load',
      '--fleet',
      fleetDir,
      '--tls-url',
      tlsUrl(),
      '--tls-ca',
      caFile,
      '--profile',
      'storm',
      '--json',
      '--max-error-rate',
      '0',
    ]);
    expect(r.code).toBe(1);
    const s = JSON.parse(r.stdout) as SummaryJson;
    // The expired device never reaches certgate: NGINX refuses it itself.
    expect(s.outcomes).toEqual({ allow: 0, deny: EXPIRED, unavailable: ALL - EXPIRED, error: 0 });
    expect(s.reasons).toEqual({ 'HTTP 500': ALL - EXPIRED, 'HTTP 400 SSL certificate error': EXPIRED });
    expect(s.thresholds.failures).toEqual([`error rate ${((ALL - EXPIRED) / ALL).toFixed(4)} > --max-error-rate 0`]);
  }, 60_000);
});
