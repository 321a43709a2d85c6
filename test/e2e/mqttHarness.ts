/**
 * The MQTT side of the end-to-end tests: the real Debian Mosquitto broker on a free
 * loopback port, and devices as real MQTT clients (the `mqtt` package) connecting over
 * TLS to NGINX with their own certificate and key and the account's endpoint as SNI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';
import type { Cert } from '../authz/pki.js';
import { freePort, waitForPort, type Nginx } from './nginxHarness.js';

export interface Broker {
  port: number;
  log(): string;
  stop(): Promise<void>;
}

/** Mosquitto on 127.0.0.1 only, anonymous (NGINX in front is the gate), no persistence. */
export async function startMosquitto(dir: string): Promise<Broker> {
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'log_dest stderr',
      'log_type all',
      'max_keepalive 600',
      '',
    ].join('\n'),
  );
  let output = '';
  const child: ChildProcess = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await Promise.race([waitForPort(port, 10_000, 'mosquitto'), exited.then(() => Promise.reject(new Error(`mosquitto exited: ${output}`)))]);
  return {
    port,
    log: () => output,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface Device {
  cert: Cert;
  key: string;
}

export interface ConnectOptions {
  sni: string;
  clientId: string;
  /** 4 = MQTT 3.1.1, 5 = MQTT 5.0. */
  protocolVersion?: 4 | 5;
  timeoutMs?: number;
}

/** How a connection attempt ended: connected (CONNACK received) or closed before. */
export type ConnectOutcome = { connected: true; client: mqtt.MqttClient } | { connected: false; error: string };

/** One connection attempt through NGINX, without reconnecting. */
export function connectDevice(nginx: Nginx, device: Device | null, o: ConnectOptions): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const client = mqtt.connect({
      protocol: 'mqtts',
      host: '127.0.0.1',
      port: nginx.mqttPort,
      servername: o.sni,
      ca: nginx.serverCa.pem,
      ...(device === null ? {} : { cert: device.cert.pem, key: device.key }),
      clientId: o.clientId,
      protocolVersion: o.protocolVersion ?? 4,
      reconnectPeriod: 0,
      connectTimeout: o.timeoutMs ?? 5000,
      keepalive: 30,
    });
    let settled = false;
    const settle = (outcome: ConnectOutcome) => {
      if (settled) return;
      settled = true;
      if (!outcome.connected) client.end(true);
      resolve(outcome);
    };
    client.once('connect', () => settle({ connected: true, client }));
    client.once('error', (err) => settle({ connected: false, error: err.message }));
    client.once('close', () => settle({ connected: false, error: 'closed before CONNACK' }));
  });
}

/** Subscribe to `topic`, publish `payload` to it (QoS 1) and wait for it to come back. */
export async function echo(client: mqtt.MqttClient, topic: string, payload: string): Promise<string> {
  const received = new Promise<string>((resolve) => {
    client.on('message', (t, message) => {
      if (t === topic) resolve(message.toString('utf8'));
    });
  });
  await client.subscribeAsync(topic, { qos: 1 });
  await client.publishAsync(topic, payload, { qos: 1 });
  return received;
}
