/**
 * `/metrics` with several processes (issue 14, defect 5): a worker that does not answer
 * (stopped, or killed) no longer hangs the scrape; many scrapers share one aggregation;
 * `--metrics-port` serves the aggregate from the primary, off the decision path.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { openSqliteRegistry } from '../../ts/registry/sqlite/registry.js';
import { METRICS_WAIT_MS } from '../../ts/server/clusterMetrics.js';
import { ANY_PORTS, createDatabase, startServe, type LogLine, type ServeProcess } from './serveProcess.js';

/** A scrape on a connection of its own (the cluster hands each new connection to the next worker). */
function scrape(url: string, timeoutMs: number): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - started }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

function gauge(body: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(body);
  if (!m) throw new Error(`${name} not in the exposition`);
  return Number(m[1]);
}

/** The bound a scrape must answer within: the primary's wait plus IPC and aggregation. */
const BOUND_MS = METRICS_WAIT_MS + 1500;

describe.each([
  ['on the authorizer port (default)', [] as string[]],
  ['on --metrics-port', ['--metrics-port', '0']],
])('/metrics %s with two processes', (_, extra) => {
  let dir: string;
  let serve: ServeProcess;
  let line: LogLine;
  let metricsUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'certgate-metrics-'));
    const db = path.join(dir, 'r.db');
    await createDatabase(db);
    serve = startServe(['--db', db, '--processes', '2', ...ANY_PORTS, ...extra]);
    line = await serve.waitFor((l) => l.msg === 'listening');
    metricsUrl = String(line.metrics);
    if (extra.length > 0) {
      expect(metricsUrl).not.toBe(`${line.authz}/metrics`);
      // Kept off the authorizer port.
      expect((await scrape(`${line.authz}/metrics`, 5000)).status).toBe(404);
    } else {
      expect(metricsUrl).toBe(`${line.authz}/metrics`);
    }
  });
  afterAll(() => {
    serve.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('16 concurrent scrapers cost one aggregation', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // past any earlier aggregate's reuse
    const answers = await Promise.all(Array.from({ length: 16 }, () => scrape(metricsUrl, 10_000)));
    expect(answers.map((a) => a.status)).toEqual(Array(16).fill(200));
    const counts = new Set(answers.map((a) => gauge(a.body, 'certgate_metrics_aggregations_total')));
    expect(counts.size).toBe(1);
    expect(answers.every((a) => gauge(a.body, 'certgate_metrics_processes') === 2)).toBe(true);
    expect(answers.every((a) => gauge(a.body, 'certgate_metrics_processes_missing') === 0)).toBe(true);
    // Both processes' metrics are in it (one process_cpu series summed over both).
    expect(answers[0]?.body).toMatch(/^certgate_decisions_total|^# HELP certgate_decisions_total/m);
  });

  it('keeps per-process series apart (worker label), build info at 1 and the service start time', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // past any earlier aggregate's reuse
    const { body } = await scrape(metricsUrl, 10_000);
    const workers = [...body.matchAll(/^certgate_worker_start_time_seconds\{worker="(\d+)"\} \d+$/gm)].map((m) => Number(m[1]));
    expect(new Set(workers)).toEqual(new Set(line.workers ?? []));
    expect(workers).toHaveLength(2);
    expect(body).toMatch(/^certgate_build_info\{version="[^"]+",node="v[^"]+",engine="native"\} 1$/m);
    expect(body).toMatch(/^process_start_time_seconds \d+$/m);
    // OpenMetrics for a scraper that asks for it, from the same aggregation.
    const open = await new Promise<string>((resolve, reject) => {
      http
        .get(metricsUrl, { agent: false, headers: { accept: 'application/openmetrics-text;version=1.0.0,text/plain;q=0.5' } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve(`${String(res.headers['content-type'])}\n${text}`));
        })
        .on('error', reject);
    });
    expect(open.startsWith('application/openmetrics-text; version=1.0.0')).toBe(true);
    expect(open).toContain('# TYPE certgate_worker_decisions counter');
    expect(open.endsWith('# EOF\n')).toBe(true);
  });

  it('answers within the bound, saying so, while a worker does not answer', async () => {
    const stopped = line.workers?.[0] ?? 0;
    process.kill(stopped, 'SIGSTOP');
    try {
      await new Promise((r) => setTimeout(r, 1100));
      // On the authorizer port one of two new connections lands on the live worker.
      const tries = Array.from({ length: 2 }, () => scrape(metricsUrl, BOUND_MS + 1000));
      const answer = await Promise.any(tries);
      tries.forEach((t) => t.catch(() => undefined));
      expect(answer.status).toBe(200);
      expect(answer.ms).toBeLessThan(BOUND_MS);
      expect(gauge(answer.body, 'certgate_metrics_processes')).toBe(2);
      expect(gauge(answer.body, 'certgate_metrics_processes_missing')).toBe(1);
    } finally {
      process.kill(stopped, 'SIGCONT');
    }
  });

  it('answers within the bound right after a worker is killed', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const victim = line.workers?.[1] ?? 0;
    process.kill(victim, 'SIGKILL');
    const tries = Array.from({ length: 2 }, () => scrape(metricsUrl, BOUND_MS + 1000));
    const answer = await Promise.any(tries);
    tries.forEach((t) => t.catch(() => undefined));
    expect(answer.status).toBe(200);
    expect(answer.ms).toBeLessThan(BOUND_MS);
    await serve.waitFor((l) => l.msg === 'replacement server process listening');
  });
});

describe('/metrics with two processes and a failing webhook receiver', () => {
  let dir: string;
  let serve: ServeProcess;
  let receiver: http.Server;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'certgate-metrics-hooks-'));
    const db = path.join(dir, 'r.db');
    const registry = openSqliteRegistry({ path: db });
    await registry.createAccount({ accountId: '111111111111', endpointPrefix: 'aaaaaaaaaaaaaa' });
    await registry.appendEvent('111111111111', '$aws/events/certificates/registered/x', { certificateId: 'x' });
    await registry.close();
    receiver = http.createServer((req, res) => {
      req.resume();
      res.writeHead(503);
      res.end();
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    serve = startServe(['--db', db, '--processes', '2', ...ANY_PORTS, '--webhook', hook]);
  });
  afterAll(() => {
    serve.kill();
    receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("has the primary's webhook delivery metrics in the aggregate, once", async () => {
    const line = await serve.waitFor((l) => l.msg === 'listening');
    await serve.waitFor((l) => l.msg === 'webhook delivery failed; will retry');
    await new Promise((r) => setTimeout(r, 1100)); // past any earlier aggregate's reuse
    const { body } = await scrape(`${line.authz}/metrics`, 10_000);
    expect(body).toMatch(/^certgate_webhook_deliveries_total\{result="failed"\} [1-9]\d*$/m);
    expect(body).toMatch(/^certgate_webhook_deliveries_total\{result="delivered"\} 0$/m);
    expect(body).toMatch(/^certgate_webhook_backlog_events 1$/m);
    expect(gauge(body, 'certgate_webhook_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(body.match(/^# TYPE certgate_webhook_backlog_events gauge$/gm)).toHaveLength(1);
  });
});
