/**
 * The shipped Prometheus and Grafana assets (ops/) with the real Prometheus from Debian:
 * `promtool check config|rules`, `promtool test rules`, then Prometheus itself scraping a
 * live certgate node under traffic with the shipped rules, and every query of the shipped
 * Grafana dashboard answering with data.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../ts/paths.js';
import type { RunningNode } from '../../ts/server/node.js';
import { certificate, identity } from '../authz/pki.js';
import { SNI_A, SNI_B, createWorld, type World } from '../authz/world.js';
import { freePort } from '../e2e/nginxHarness.js';
import { testNode } from '../ingress/node.js';

const run = promisify(execFile);
const OPS = path.join(projectRoot, 'ops');
const RULES = path.join(OPS, 'prometheus', 'certgate-rules.yml');
const EXAMPLE = path.join(OPS, 'prometheus', 'prometheus.example.yml');
const DASHBOARD = path.join(OPS, 'grafana', 'certgate-dashboard.json');

interface DashboardPanel {
  title: string;
  targets: { expr: string }[];
}

/** Every query of the dashboard with its variables set as Grafana would for job "certgate". */
function dashboardQueries(): { panel: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: DashboardPanel[] };
  return dashboard.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr.replaceAll('$job', 'certgate') })));
}

/** How many series a Prometheus instant query returns (0 while the server is starting). */
async function resultCount(promBase: string, expr: string): Promise<number> {
  try {
    const res = await request(`${promBase}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.body.json()) as { status: string; error?: string; data?: { result: unknown[] } };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error ?? body.status}`);
    return body.data?.result.length ?? 0;
  } catch (err) {
    if ((err as { code?: string }).code === 'ECONNREFUSED') return 0;
    throw err;
  }
}

describe('ops/prometheus with promtool', () => {
  it('the example configuration and the rules pass promtool check', async () => {
    const config = await run('promtool', ['check', 'config', EXAMPLE]);
    expect(config.stdout).toContain('SUCCESS');
    const rules = await run('promtool', ['check', 'rules', RULES]);
    expect(rules.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('the alert and recording rules pass their unit tests (promtool test rules)', async () => {
    const { stdout } = await run('promtool', ['test', 'rules', 'certgate-rules.test.yml'], { cwd: path.join(OPS, 'prometheus') });
    expect(stdout).toContain('SUCCESS');
  });

  it('the dashboard uses only recording rules the rules file defines', () => {
    const defined = new Set([...readFileSync(RULES, 'utf8').matchAll(/record: (\S+)/g)].map((m) => m[1]));
    const used = dashboardQueries().flatMap((q) => [...q.expr.matchAll(/certgate:[a-z_0-9:]+/g)].map((m) => m[0]));
    expect(used.length).toBeGreaterThan(0);
    for (const name of used) expect(defined, name).toContain(name);
  });
});

describe('Prometheus scraping a live certgate with the shipped rules', () => {
  let world: World;
  let node: RunningNode;
  let prometheus: ChildProcess;
  let dir: string;
  let promBase: string;
  let traffic: Promise<void>;
  const stop = new AbortController();

  beforeAll(async () => {
    world = await createWorld();
    node = await testNode(world, { poolThreads: '1' });
    dir = mkdtempSync(path.join(tmpdir(), 'certgate-prom-'));
    // The shipped example, pointed at this node and scraped every second.
    const config = readFileSync(EXAMPLE, 'utf8')
      .replaceAll('15s', '1s')
      .replace('certgate-rules.yml', RULES)
      .replace("'127.0.0.1:9441'", `'127.0.0.1:${node.ports.authz}'`);
    writeFileSync(path.join(dir, 'prometheus.yml'), config);
    const port = await freePort();
    promBase = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
    // Traffic: allows and denies at the JSON door until the test is done (bounded: 60 s).
    const leaf = certificate({ subject: identity('device', 'p256') });
    await world.register(leaf, {});
    const base = `http://127.0.0.1:${node.ports.authz}`;
    const until = Date.now() + 60_000;
    traffic = (async () => {
      while (!stop.signal.aborted && Date.now() < until) {
        for (const sni of [SNI_A, SNI_A, SNI_B]) {
          const res = await request(`${base}/v1/authorize`, { method: 'POST', body: JSON.stringify({ sni, certChain: [leaf.pem] }) });
          await res.body.dump();
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
  });

  afterAll(async () => {
    stop.abort();
    await traffic;
    prometheus?.kill('SIGTERM');
    await node?.close();
    await world?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every dashboard query returns data', async () => {
    for (const { panel, expr } of dashboardQueries()) {
      await expect
        .poll(() => resultCount(promBase, expr), { timeout: 45_000, interval: 1000, message: `${panel}: ${expr}` })
        .toBeGreaterThan(0);
    }
  }, 120_000);
});
