/**
 * MQTT devices end to end, every part real: devices are MQTT clients (the `mqtt`
 * package) with their own certificate and key and the account endpoint as SNI; NGINX
 * stream terminates TLS (`ssl_verify_client optional_no_ca`) and runs the shipped njs
 * handler (examples/nginx/certgate_mqtt.js), which reads the CONNECT packet and asks
 * certgate; Mosquitto is the broker. Revocation goes through the real AWS CLI.
 */
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../ts/server/node.js';
import { certificate, identity, keyPem } from '../authz/pki.js';
import { ACCOUNT_A, SNI_A, SNI_B, createWorld, type World } from '../authz/world.js';
import { testNode } from '../ingress/node.js';
import { awsRevoke } from './aws.js';
import { startNginx, type Nginx } from './nginxHarness.js';
import { connectDevice, echo, startMosquitto, type Broker, type Device } from './mqttHarness.js';

function newDevice(name: string): Device {
  const id = identity(name, 'p256', false);
  return { cert: certificate({ subject: id }), key: keyPem(id) };
}

const certArn = (d: Device) => `arn:aws:iot:us-east-1:${ACCOUNT_A}:cert/${d.cert.id}`;

/** Wait until NGINX has logged a finished session matching `pattern` (written at close). */
async function logged(nginx: Nginx, pattern: RegExp): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const line = nginx
      .mqttLog()
      .split('\n')
      .find((l) => pattern.test(l));
    if (line !== undefined) return line;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no log line matches ${pattern}:\n${nginx.mqttLog()}`);
}

describe('MQTT devices through NGINX stream + njs + Mosquitto', () => {
  let world: World;
  let node: RunningNode;
  let broker: Broker;
  let nginx: Nginx;
  let device: Device;

  beforeAll(async () => {
    world = await createWorld();
    node = await testNode(world);
    broker = await startMosquitto(world.dir);
    // The devices and certgate share this test process (and 2 busy cores): allow certgate
    // longer than the shipped 500 ms to answer 200 simultaneous TLS clients.
    nginx = await startNginx(world.dir, {
      authzPort: node.ports.authz,
      hosts: [SNI_A, SNI_B],
      brokerPort: broker.port,
      render: { AUTHZ_TIMEOUT: '10s' },
    });
    device = newDevice('thermostat-1');
    await world.register(device.cert, {});
    await world.registry.attachThingPrincipal(ACCOUNT_A, 'thermostat-1', certArn(device));
  });
  afterAll(async () => {
    await nginx?.stop();
    await broker?.stop();
    await node?.close();
    await world?.dispose();
  });

  it.each([4, 5] as const)('an ACTIVE device (MQTT protocol level %i) connects, publishes and receives its own message', async (level) => {
    const r = await connectDevice(nginx, device, { sni: SNI_A, clientId: `thermostat-1-v${level}`, protocolVersion: level });
    if (!r.connected) throw new Error(`refused: ${r.error}\n${nginx.errorLog()}`);
    expect(await echo(r.client, `devices/thermostat-1/v${level}`, `hello ${level}`)).toBe(`hello ${level}`);
    await r.client.endAsync();
    const line = await logged(nginx, new RegExp(`client_id=thermostat-1-v${level} `));
    expect(line).toContain(`200 sni=${SNI_A} client_id=thermostat-1-v${level} reason=CERTIFICATE_ACTIVE account=${ACCOUNT_A}`);
    // The broker saw the device only after certgate allowed it.
    expect(broker.log()).toContain(`thermostat-1-v${level}`);
  });

  it('refuses an unknown device, an INACTIVE one, one at another endpoint and one without a certificate at connect', async () => {
    const inactive = newDevice('inactive-1');
    await world.register(inactive.cert, { status: 'INACTIVE' });
    const cases: [Device | null, string, string, string][] = [
      [newDevice('stranger-1'), SNI_A, 'stranger-1', 'CERTIFICATE_NOT_REGISTERED'],
      [inactive, SNI_A, 'inactive-1', 'CERTIFICATE_INACTIVE'],
      [device, SNI_B, 'wrong-sni-1', 'CERTIFICATE_NOT_REGISTERED'],
      [null, SNI_A, 'no-cert-1', 'NO_CERTIFICATE'],
    ];
    for (const [who, sni, clientId, reason] of cases) {
      const r = await connectDevice(nginx, who, { sni, clientId });
      expect(r.connected, clientId).toBe(false);
      expect(await logged(nginx, new RegExp(`client_id=${clientId} `))).toContain(`403 sni=${sni} client_id=${clientId} reason=${reason}`);
      expect(broker.log()).not.toContain(clientId);
    }
  });

  it('refuses a device at connect once it is revoked with `aws iot update-certificate` while the test runs', async () => {
    const d = newDevice('revoked-1');
    await world.register(d.cert, {});
    const before = await connectDevice(nginx, d, { sni: SNI_A, clientId: 'revoked-1-before' });
    expect(before.connected).toBe(true);
    if (before.connected) await before.client.endAsync();
    await awsRevoke(node.ports.admin, d.cert.id);
    const after = await connectDevice(nginx, d, { sni: SNI_A, clientId: 'revoked-1-after' });
    expect(after.connected).toBe(false);
    expect(await logged(nginx, /client_id=revoked-1-after /)).toContain('reason=CERTIFICATE_REVOKED');
  });

  it('with the client id bound to the thing, refuses a wrong client id at connect and admits the attached thing', async () => {
    await world.registry.setAccountSettings(ACCOUNT_A, { bindClientIdToThing: true });
    // SNI routing (which carries the setting) is cached for --config-cache-ms (1 s).
    await new Promise((r) => setTimeout(r, 1100));
    try {
      const wrong = await connectDevice(nginx, device, { sni: SNI_A, clientId: 'impostor-1', protocolVersion: 5 });
      expect(wrong.connected).toBe(false);
      expect(await logged(nginx, /client_id=impostor-1 /)).toContain('reason=CLIENT_ID_NOT_ATTACHED_THING');
      const right = await connectDevice(nginx, device, { sni: SNI_A, clientId: 'thermostat-1' });
      if (!right.connected) throw new Error(right.error);
      await right.client.endAsync();
    } finally {
      await world.registry.setAccountSettings(ACCOUNT_A, { bindClientIdToThing: false });
      await new Promise((r) => setTimeout(r, 1100));
    }
  });

  it('closes a connection whose first bytes are not an MQTT CONNECT, before the broker sees it', async () => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: nginx.mqttPort,
      servername: SNI_A,
      ca: nginx.serverCa.pem,
      cert: device.cert.pem,
      key: device.key,
    });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await closed;
    expect(await logged(nginx, /reason=BAD_MQTT_CONNECT/)).toContain('403');
  });

  it('gives each of 200 devices connecting at once the right answer', async () => {
    const good = Array.from({ length: 100 }, (_, i) => newDevice(`fleet-ok-${i}`));
    const bad = Array.from({ length: 100 }, (_, i) => newDevice(`fleet-unknown-${i}`));
    for (const d of good) await world.register(d.cert, {});
    const outcomes = await Promise.all([
      ...good.map((d, i) => connectDevice(nginx, d, { sni: SNI_A, clientId: `fleet-ok-${i}`, timeoutMs: 20_000 })),
      ...bad.map((d, i) => connectDevice(nginx, d, { sni: SNI_A, clientId: `fleet-unknown-${i}`, timeoutMs: 20_000 })),
    ]);
    const connected = outcomes.map((o) => o.connected);
    expect(connected.slice(0, 100)).toEqual(Array(100).fill(true));
    expect(connected.slice(100)).toEqual(Array(100).fill(false));
    await Promise.all(outcomes.map((o) => (o.connected ? o.client.endAsync() : undefined)));
  }, 60_000);

  it('fails closed while the authorizer is down, and lets the device in again once it is back', async () => {
    const port = node.ports.authz;
    await node.close();
    const down = await connectDevice(nginx, device, { sni: SNI_A, clientId: 'during-outage' });
    expect(down.connected).toBe(false);
    expect(await logged(nginx, /client_id=during-outage /)).toContain('reason=AUTHORIZER_UNREACHABLE');
    node = await testNode(world, { authzPort: String(port) });
    const back = await connectDevice(nginx, device, { sni: SNI_A, clientId: 'after-outage' });
    expect(back.connected).toBe(true);
    if (back.connected) await back.client.endAsync();
  });
});

describe('NGINX stream as shipped: fail fast on a hung authorizer, bounded session lifetime', () => {
  let world: World;
  let node: RunningNode;
  let broker: Broker;
  let nginx: Nginx;
  let hungNginx: Nginx;
  let hung: net.Server;
  const sockets: net.Socket[] = [];

  beforeAll(async () => {
    world = await createWorld();
    node = await testNode(world);
    broker = await startMosquitto(world.dir);
    nginx = await startNginx(world.dir, {
      authzPort: node.ports.authz,
      hosts: [SNI_A],
      brokerPort: broker.port,
      render: { MAX_SESSION_SECONDS: '1' },
    });
    // Accepts connections and never answers.
    hung = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    hungNginx = await startNginx(
      world.dir,
      { authzPort: (hung.address() as net.AddressInfo).port, hosts: [SNI_A], brokerPort: broker.port },
      'nginx-hung',
    );
  });
  afterAll(async () => {
    await hungNginx?.stop();
    for (const s of sockets) s.destroy();
    hung?.close();
    await nginx?.stop();
    await broker?.stop();
    await node?.close();
    await world?.dispose();
  });

  it('refuses a device within the shipped 500 ms when certgate accepts but never answers', async () => {
    const d = newDevice('hung-1');
    await world.register(d.cert, {});
    const started = Date.now();
    const r = await connectDevice(hungNginx, d, { sni: SNI_A, clientId: 'hung-1' });
    expect(r.connected).toBe(false);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await logged(hungNginx, /client_id=hung-1 /)).toContain('reason=AUTHORIZER_UNREACHABLE');
  });

  it('closes a session at its first packet after MAX_SESSION_SECONDS; the reconnect is authorized again', async () => {
    const d = newDevice('lifetime-1');
    await world.register(d.cert, {});
    const r = await connectDevice(nginx, d, { sni: SNI_A, clientId: 'lifetime-1' });
    if (!r.connected) throw new Error(r.error);
    const closed = new Promise<number>((resolve) => r.client.once('close', () => resolve(Date.now())));
    expect(await echo(r.client, 'lifetime/a', 'young')).toBe('young');
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const sentAt = Date.now();
    r.client.publish('lifetime/a', 'old');
    expect((await closed) - sentAt).toBeLessThan(1000);
    expect(await logged(nginx, /client_id=lifetime-1 /)).toContain('reason=SESSION_LIFETIME');
    // Revoked meanwhile: the reconnect is refused.
    await world.setStatus(ACCOUNT_A, d.cert.id, 'REVOKED');
    const again = await connectDevice(nginx, d, { sni: SNI_A, clientId: 'lifetime-2' });
    expect(again.connected).toBe(false);
  });
});
