/**
 * The metrics an operator asked for (issue 12, part 3): build info, start time, a
 * `worker` label, request errors apart from decisions, the admin API by operation and
 * result, webhook delivery (counts, backlog, lag) and OpenMetrics content negotiation —
 * against a real node over a real SQLite registry, and a real webhook receiver.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { request } from 'undici';
import { IoTClient, ListCACertificatesCommand } from '@aws-sdk/client-iot';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebhookDeliverer } from '../../ts/authz/webhooks.js';
import { negotiate, render } from '../../ts/metrics/exposition.js';
import { registerWebhookMetrics } from '../../ts/metrics/webhookMetrics.js';
import type { RunningNode } from '../../ts/server/node.js';
import { VERSION } from '../../ts/version.js';
import { testAuthorizer } from '../authz/authorizer.js';
import { certificate, escapePem, identity } from '../authz/pki.js';
import { CREDENTIALS_A, SNI_A, createWorld, type World } from '../authz/world.js';
import { testNode } from '../ingress/node.js';

/** What Prometheus 2.x sends by default (scrape_protocols). */
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

function sample(body: string, line: RegExp): number {
  const m = new RegExp(`^${line.source} (\\S+)$`, 'm').exec(body);
  if (!m) throw new Error(`${line.source} not in the exposition`);
  return Number(m[1]);
}

describe('content negotiation', () => {
  it('chooses OpenMetrics only when the Accept header ranks it above the text format', () => {
    expect(negotiate(undefined)).toBe('prometheus');
    expect(negotiate('*/*')).toBe('prometheus');
    expect(negotiate('text/plain;version=0.0.4')).toBe('prometheus');
    expect(negotiate(PROMETHEUS_ACCEPT)).toBe('openmetrics');
    expect(negotiate('application/openmetrics-text; version=0.0.1,text/plain;version=0.0.4;q=0.5,*/*;q=0.1')).toBe('openmetrics');
    expect(negotiate('application/openmetrics-text;q=0.2,text/plain;q=0.9')).toBe('prometheus');
    expect(negotiate('application/openmetrics-text;q=0')).toBe('prometheus');
    expect(negotiate('text/plain, application/openmetrics-text')).toBe('prometheus');
  });
});

describe('the metrics of a serving node', () => {
  let world: World;
  let node: RunningNode;
  let base: string;

  beforeEach(async () => {
    world = await createWorld();
    node = await testNode(world);
    base = `http://127.0.0.1:${node.ports.authz}`;
  });
  afterEach(async () => {
    await node.close();
    await world.dispose();
  });

  const scrape = async (accept?: string) => {
    const res = await request(`${base}/metrics`, accept === undefined ? {} : { headers: { accept } });
    return { type: String(res.headers['content-type']), body: await res.body.text() };
  };

  it('counts requests a door could not read apart from decisions, by door and reason', async () => {
    const leaf = certificate({ subject: identity('device', 'p256') });
    await world.register(leaf, {});
    await (
      await request(`${base}/v1/nginx/auth`, { headers: { 'x-ssl-client-cert': escapePem(leaf.pem), 'x-ssl-server-name': SNI_A } })
    ).body.dump();
    await (
      await request(`${base}/v1/nginx/auth`, { headers: { 'x-ssl-client-cert': '%E0%A4%A', 'x-ssl-server-name': SNI_A } })
    ).body.dump();
    await (await request(`${base}/v1/authorize`, { method: 'POST', body: '{' })).body.dump();
    const { body } = await scrape();
    expect(sample(body, /certgate_request_errors_total\{door="nginx",reason="BAD_REQUEST"\}/)).toBe(1);
    expect(sample(body, /certgate_request_errors_total\{door="json",reason="BAD_REQUEST"\}/)).toBe(1);
    expect(body).not.toMatch(/certgate_decisions_total\{[^}]*reason="BAD_REQUEST"/);
    expect(sample(body, /certgate_decisions_total\{door="nginx",result="allow",reason="CERTIFICATE_ACTIVE"\}/)).toBe(1);
    // The per-process series counts this process's decisions (request errors are not decisions).
    expect(sample(body, new RegExp(`certgate_worker_decisions_total\\{worker="${process.pid}"\\}`))).toBe(1);
    expect(sample(body, new RegExp(`certgate_worker_cpu_seconds_total\\{worker="${process.pid}"\\}`))).toBeGreaterThan(0);
  });

  it('has build info, the start time, and the per-process start time', async () => {
    const { body } = await scrape();
    expect(
      sample(
        body,
        new RegExp(
          `certgate_build_info\\{version="${VERSION.replaceAll('.', '\\.')}",node="${process.version.replaceAll('.', '\\.')}",engine="native"\\}`,
        ),
      ),
    ).toBe(1);
    const start = sample(body, /process_start_time_seconds/);
    expect(Math.abs(start - (Date.now() / 1000 - process.uptime()))).toBeLessThan(2);
    expect(sample(body, new RegExp(`certgate_worker_start_time_seconds\\{worker="${process.pid}"\\}`))).toBe(start);
  });

  it('serves OpenMetrics to a scraper that asks for it, and the text format again afterwards', async () => {
    await (
      await request(`${base}/v1/nginx/auth`, { headers: { 'x-ssl-client-cert': '%E0%A4%A', 'x-ssl-server-name': SNI_A } })
    ).body.dump();
    const open = await scrape(PROMETHEUS_ACCEPT);
    expect(open.type).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(open.body.endsWith('# EOF\n')).toBe(true);
    expect(open.body).toContain('# TYPE certgate_request_errors counter');
    expect(open.body).toContain('certgate_request_errors_total{door="nginx",reason="BAD_REQUEST"} 1');
    expect(open.body).toContain('# TYPE certgate_decisions counter');
    expect(open.body).not.toContain('_total_total');
    // Rendering OpenMetrics renames counters in the registry it renders: never the live one.
    const text = await scrape();
    expect(text.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(text.body).toContain('# TYPE certgate_request_errors_total counter');
    expect(text.body).toContain('# TYPE certgate_decisions_total counter');
    expect(text.body).not.toContain('# EOF');
  });

  it('counts admin API requests and their latency by operation and result', async () => {
    const admin = `http://127.0.0.1:${node.ports.admin}`;
    const sdk = new IoTClient({ region: 'us-east-1', endpoint: admin, credentials: CREDENTIALS_A, maxAttempts: 1 });
    const bad = new IoTClient({
      region: 'us-east-1',
      endpoint: admin,
      credentials: { ...CREDENTIALS_A, secretAccessKey: 'wrong' },
      maxAttempts: 1,
    });
    try {
      await sdk.send(new ListCACertificatesCommand({}));
      await sdk.send(new ListCACertificatesCommand({}));
      await expect(bad.send(new ListCACertificatesCommand({}))).rejects.toThrow();
    } finally {
      sdk.destroy();
      bad.destroy();
    }
    const { body } = await scrape();
    expect(sample(body, /certgate_admin_requests_total\{operation="ListCACertificates",result="ok"\}/)).toBe(2);
    expect(sample(body, /certgate_admin_requests_total\{operation="unknown",result="InvalidSignatureException"\}/)).toBe(1);
    expect(sample(body, /certgate_admin_request_duration_seconds_count\{operation="ListCACertificates"\}/)).toBe(2);
    expect(sample(body, /certgate_admin_request_duration_seconds_bucket\{le="5",operation="ListCACertificates"\}/)).toBe(2);
  });
});

describe('webhook delivery metrics', () => {
  let world: World;
  beforeEach(async () => {
    world = await createWorld();
  });
  afterEach(() => world.dispose());

  it('count deliveries and failures, and show the backlog and its lag until the receiver recovers', async () => {
    let failing = true;
    const receiver = http.createServer((req, res) => {
      req.resume();
      res.writeHead(failing ? 503 : 204);
      res.end();
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    try {
      const { authorizer } = testAuthorizer(world);
      for (const name of ['a', 'b', 'c'])
        await authorizer.authorize(SNI_A, [certificate({ subject: identity(name, 'p256'), issuer: world.caIdentity }).pem]);
      const deliverer = new WebhookDeliverer({
        registry: world.registry,
        urls: [url],
        stateFile: path.join(world.dir, 'hooks.json'),
        retryBaseMs: 1,
      });
      const registry = new Registry();
      const [oldest] = await world.registry.listEvents('111111111111', 0, 1);
      const now = () => ((oldest?.createdAt ?? 0) + 42) * 1000;
      registerWebhookMetrics(deliverer, [registry], now);
      const exposition = async () => (await render([await registry.getMetricsAsJSON()], 'prometheus', 0)).body;

      await deliverer.deliverOnce();
      let body = await exposition();
      expect(sample(body, /certgate_webhook_deliveries_total\{result="failed"\}/)).toBe(1);
      expect(sample(body, /certgate_webhook_deliveries_total\{result="delivered"\}/)).toBe(0);
      expect(sample(body, /certgate_webhook_backlog_events/)).toBe(3);
      expect(sample(body, /certgate_webhook_lag_seconds/)).toBe(42);

      failing = false;
      await new Promise((r) => setTimeout(r, 5)); // past the 1 ms backoff
      await deliverer.deliverOnce();
      body = await exposition();
      expect(sample(body, /certgate_webhook_deliveries_total\{result="delivered"\}/)).toBe(3);
      expect(sample(body, /certgate_webhook_backlog_events/)).toBe(0);
      expect(sample(body, /certgate_webhook_lag_seconds/)).toBe(0);
    } finally {
      receiver.close();
    }
  });
});
