/**
 * A fleet for tests (issue 11 "Tests with real parts"): one real PostgreSQL server
 * (test/registry/pgServer.ts) holding the registry of test/authz/world.ts (accounts A and
 * B, A's access key, an auto-registering CA), and three real `certgate serve` processes
 * (`--processes 2` each, ports 0, each in its own working directory) on it, optionally
 * with a webhook receiver every sidecar is configured to deliver to. Decisions are asked
 * through each sidecar's JSON door; the admin API through each sidecar's admin port.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { IoTClient } from '@aws-sdk/client-iot';
import { Agent, request } from 'undici';
import { openPostgresRegistry } from '../../ts/registry/postgres/registry.js';
import { CREDENTIALS_A, SNI_A, createWorld, type World } from '../authz/world.js';
import { REGION } from '../control/harness.js';
import { ANY_PORTS, startServe, type ServeProcess } from '../ingress/serveProcess.js';
import { startPgServer, type PgServer } from '../registry/pgServer.js';

export interface Sidecar {
  name: string;
  dir: string;
  serve: ServeProcess;
  /** `http://127.0.0.1:port` of the authorizer (JSON door at /v1/authorize). */
  authz: string;
  /** `http://127.0.0.1:port` of the admin API. */
  admin: string;
  /** Pids of the primary and its workers as logged when it started listening. */
  pids: number[];
}

export interface Answer {
  status: number;
  allow: boolean;
  reason: string;
}

/** One POST the receiver got: the event sequence header and the body. */
export interface Delivery {
  sequence: number;
  at: number;
  body: { sequence: number; accountId: string; topic: string; payload: Record<string, unknown> };
}

export interface WebhookSink {
  url: string;
  deliveries: Delivery[];
}

export interface Fleet {
  pg: PgServer;
  /** The registry's connection URL. */
  url: string;
  world: World;
  sidecars: Sidecar[];
  hooks: WebhookSink | undefined;
  /** Ask `sidecar`'s JSON door about `pem` (leaf only) presented with `sni`. */
  authorize(sidecar: Sidecar, pem: string, sni?: string): Promise<Answer>;
  /** An SDK client of account A on `sidecar`'s admin API (one attempt per call: no SDK retries). */
  client(sidecar: Sidecar): IoTClient;
  /** `kill -9` a sidecar's primary and workers (the host dies). */
  kill(sidecar: Sidecar): void;
  close(): Promise<void>;
}

export interface FleetOptions {
  /** Start a webhook receiver and pass it to every sidecar with `--webhook`. */
  webhook?: boolean;
  /** More `certgate serve` options for every sidecar. */
  serveArgs?: string[];
}

const NAMES = ['A', 'B', 'C'];

async function startSink(): Promise<{ sink: WebhookSink; close: () => Promise<void> }> {
  const deliveries: Delivery[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Delivery['body'];
      deliveries.push({ sequence: Number(req.headers['x-certgate-event-sequence']), at: performance.now(), body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    sink: { url, deliveries },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Start PostgreSQL, the registry world on it, and three sidecars. */
export async function startFleet(options: FleetOptions = {}): Promise<Fleet> {
  const pg = await startPgServer();
  const url = pg.url(await pg.createDatabase());
  const world = await createWorld({ open: () => openPostgresRegistry({ connectionString: url }) });
  const sink = options.webhook === true ? await startSink() : undefined;
  const args = [
    '--db',
    url,
    '--processes',
    '2',
    ...ANY_PORTS,
    ...(sink === undefined ? [] : ['--webhook', sink.sink.url]),
    ...(options.serveArgs ?? []),
  ];
  const started = NAMES.map((name) => {
    const dir = mkdtempSync(path.join(tmpdir(), `certgate-fleet-${name}-`));
    return { name, dir, serve: startServe(args, {}, { cwd: dir }) };
  });
  const sidecars: Sidecar[] = [];
  const clients: IoTClient[] = [];
  const agent = new Agent({ connections: 16 });
  const close = async () => {
    for (const c of clients) c.destroy();
    for (const s of started) s.serve.kill();
    await Promise.all(started.map((s) => s.serve.exited(10_000).catch(() => undefined)));
    for (const s of started) rmSync(s.dir, { recursive: true, force: true });
    await agent.close();
    await sink?.close();
    await world.dispose();
    await pg.stop();
  };
  try {
    for (const s of started) {
      const line = await s.serve.waitFor((l) => l.msg === 'listening', 60_000);
      sidecars.push({
        ...s,
        authz: line.authz ?? '',
        admin: line.admin ?? '',
        pids: [s.serve.child.pid ?? 0, ...(line.workers ?? [])],
      });
    }
  } catch (error) {
    await close();
    throw error;
  }
  return {
    pg,
    url,
    world,
    sidecars,
    hooks: sink?.sink,
    async authorize(sidecar, pem, sni = SNI_A) {
      const res = await request(`${sidecar.authz}/v1/authorize`, {
        method: 'POST',
        body: JSON.stringify({ sni, certChain: [pem] }),
        dispatcher: agent,
      });
      const body = (await res.body.json()) as { allow: boolean; reason: string };
      return { status: res.statusCode, allow: body.allow, reason: body.reason };
    },
    client(sidecar) {
      const client = new IoTClient({ region: REGION, endpoint: sidecar.admin, credentials: CREDENTIALS_A, maxAttempts: 1 });
      clients.push(client);
      return client;
    },
    kill(sidecar) {
      sidecar.serve.kill();
    },
    close,
  };
}

/** One decision of a load run: which sidecar and certificate, when it started and ended (performance.now()), the answer. */
export interface Sample {
  sidecar: string;
  cert: string;
  start: number;
  end: number;
  answer: Answer | null;
  error?: string;
}

/**
 * Concurrent authorize load: `perSidecar` loops on each live sidecar, each asking about
 * the certificates of `pems` in turn, until `stop()`. Every request is recorded.
 */
export function authorizeLoad(
  fleet: Fleet,
  pems: Record<string, string>,
  options: { perSidecar?: number; sidecars?: Sidecar[] } = {},
): { samples: Sample[]; stop: () => Promise<Sample[]> } {
  const samples: Sample[] = [];
  const state = { running: true };
  const names = Object.keys(pems);
  const loop = async (sidecar: Sidecar, offset: number) => {
    for (let i = offset; state.running; i++) {
      const cert = names[i % names.length] ?? '';
      const start = performance.now();
      try {
        const answer = await fleet.authorize(sidecar, pems[cert] ?? '');
        samples.push({ sidecar: sidecar.name, cert, start, end: performance.now(), answer });
      } catch (error) {
        // A killed sidecar refuses connections: recorded, never an allow.
        samples.push({ sidecar: sidecar.name, cert, start, end: performance.now(), answer: null, error: String(error) });
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  const loops = (options.sidecars ?? fleet.sidecars).flatMap((s) => Array.from({ length: options.perSidecar ?? 2 }, (_, k) => loop(s, k)));
  return {
    samples,
    stop: async () => {
      state.running = false;
      await Promise.all(loops);
      return samples;
    },
  };
}

/** The q-quantile (0..1) of `values`, nearest rank. */
export function quantile(values: number[], q: number): number {
  const sorted = [...values];
  sorted.sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

/** Poll `check` every 100 ms until it returns true or `ms` pass; returns the time it took. */
export async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<number> {
  const since = performance.now();
  while (performance.now() - since < ms) {
    if (await check()) return performance.now() - since;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not within ${ms} ms: ${what}`);
}

/** `certgate_webhook_deliverer` of a sidecar's /metrics (1: it delivers the fleet's webhooks). */
export async function delivererGauge(sidecar: Sidecar): Promise<number> {
  const body = await (await request(`${sidecar.authz}/metrics`)).body.text();
  const match = /^certgate_webhook_deliverer (\d+)/m.exec(body);
  if (match === null) throw new Error(`no certgate_webhook_deliverer in ${sidecar.name}'s /metrics`);
  return Number(match[1]);
}
