/**
 * `certgate load` against a real serving node: the built CLI (as a user runs it) through
 * each door, answers checked against the registry, open-loop latency charged from the
 * intended send time, thresholds as exit codes, several generator processes, usage errors.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFleet, type Device } from '../../ts/load/fleet.js';
import { runLoad } from '../../ts/load/run.js';
import { httpDoorTarget } from '../../ts/load/targets.js';
import type { RunningNode } from '../../ts/server/node.js';
import { certificate, identity } from '../authz/pki.js';
import { ACCOUNT_A, SNI_A, createWorld, type World } from '../authz/world.js';
import { testNode } from '../ingress/node.js';
import { runBuiltCli } from '../cli/built.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** The report's screenshot, kept as a test artifact (as the dashboard test keeps its own). */
const ARTIFACTS = path.resolve('build/test-artifacts');

function certgate(args: string[]) {
  return runBuiltCli(args);
}

interface SummaryJson {
  requests: number;
  outcomes: Record<string, number>;
  reasons: Record<string, number>;
  wrong: number;
  errorRate: number;
  latencyUs: { p50: number; p99: number; max: number };
  timeline: { second: number; requests: number; p50Us: number; p99Us: number }[];
  percentiles: [number, number][];
  thresholds: { passed: boolean; failures: string[] };
}

describe('certgate load against a real authorizer', () => {
  let world: World;
  let node: RunningNode;
  let dir: string;
  let fleetDir: string;
  let wrongFleetDir: string;
  const ALLOWED = 40;
  const REVOKED = 10;

  beforeAll(async () => {
    world = await createWorld();
    const devices: Device[] = [];
    const key = identity('device', 'p256');
    for (let i = 0; i < ALLOWED + REVOKED; i++) {
      const leaf = certificate({ subject: { ...key, cn: `device-${i}` } });
      const revoked = i >= ALLOWED;
      await world.register(leaf, { status: revoked ? 'REVOKED' : 'ACTIVE' });
      devices.push({ certificateId: leaf.id, certificatePem: leaf.pem, expect: revoked ? 'deny' : 'allow' });
    }
    // The load tool is under test, not load shedding: a loaded test machine must not make
    // the node answer OVERLOADED (which --max-error-rate 0 counts).
    node = await testNode(world, { shedAfterMs: '0', maxInFlight: '100000' });
    dir = mkdtempSync(path.join(tmpdir(), 'certgate-load-'));
    fleetDir = path.join(dir, 'fleet');
    writeFleet(fleetDir, { sni: SNI_A, accountId: ACCOUNT_A, devices });
    // The same fleet, but it claims a revoked device should be allowed.
    wrongFleetDir = path.join(dir, 'wrong');
    writeFleet(wrongFleetDir, {
      sni: SNI_A,
      accountId: ACCOUNT_A,
      devices: devices.map((d, i) => (i === ALLOWED ? { ...d, expect: 'allow' as const } : d)),
    });
  });

  afterAll(async () => {
    await node?.close();
    await world?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const url = () => `http://127.0.0.1:${node.ports.authz}`;

  it.each(['json', 'nginx', 'envoy-http'])('sends a steady mix through the %s door and every answer is right', async (door) => {
    const r = await certgate([
      'load',
      '--fleet',
      fleetDir,
      '--url',
      url(),
      '--door',
      door,
      '--warm-share',
      '0.7',
      '--cold-share',
      '0.1',
      '--revoked-share',
      '0.2',
      '--warm-devices',
      '20',
      '--requests',
      '400',
      '--connections',
      '8',
      '--json',
      '--max-error-rate',
      '0',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as SummaryJson;
    expect(s.requests).toBe(400);
    expect(s.wrong).toBe(0);
    expect(s.outcomes.allow).toBeGreaterThan(0);
    expect(s.outcomes.deny).toBeGreaterThan(0);
    expect((s.outcomes.allow ?? 0) + (s.outcomes.deny ?? 0)).toBe(400);
    expect(s.reasons.CERTIFICATE_REVOKED).toBe(s.outcomes.deny);
    expect(s.thresholds.passed).toBe(true);
  });

  it.each(['http', 'network'])("sends Envoy CheckRequests shaped like the %s filter's to the gRPC door", async (shape) => {
    const r = await certgate([
      'load',
      '--fleet',
      fleetDir,
      '--grpc',
      `127.0.0.1:${node.ports.grpc}`,
      '--grpc-shape',
      shape,
      '--revoked-share',
      '0.5',
      '--warm-share',
      '0.5',
      '--requests',
      '200',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as SummaryJson;
    expect(s.requests).toBe(200);
    expect(s.wrong).toBe(0);
    expect(s.outcomes.allow).toBeGreaterThan(0);
    expect(s.outcomes.deny).toBeGreaterThan(0);
    expect((s.outcomes.error ?? 0) + (s.outcomes.unavailable ?? 0)).toBe(0);
  });

  it('counts an answer that contradicts the fleet as wrong, and --max-error-rate 0 then exits 1', async () => {
    const r = await certgate(['load', '--fleet', wrongFleetDir, '--url', url(), '--profile', 'storm']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/wrong answer: [0-9a-f]{64}: expected allow, got deny \(CERTIFICATE_REVOKED\)/);
    const gated = await certgate([
      'load',
      '--fleet',
      wrongFleetDir,
      '--url',
      url(),
      '--profile',
      'storm',
      '--max-error-rate',
      '0',
      '--json',
    ]);
    expect(gated.code).toBe(1);
    const s = JSON.parse(gated.stdout) as SummaryJson;
    expect(s.requests).toBe(ALLOWED + REVOKED);
    expect(s.wrong).toBe(1);
    expect(s.thresholds.failures).toEqual([
      '1 wrong answer(s): the authorizer contradicted the registry',
      'error rate 0.0200 > --max-error-rate 0',
    ]);
    expect(gated.stderr).toBe('');
  });

  it('runs a reconnect storm from two generator processes: every device exactly once', async () => {
    const r = await certgate(['load', '--fleet', fleetDir, '--url', url(), '--profile', 'storm', '--workers', '2', '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as SummaryJson;
    expect(s.requests).toBe(ALLOWED + REVOKED);
    expect(s.outcomes.allow).toBe(ALLOWED);
    expect(s.outcomes.deny).toBe(REVOKED);
  });

  it('holds an open-loop rate and exits 1 when --max-p99 is exceeded', async () => {
    const r = await certgate([
      'load',
      '--fleet',
      fleetDir,
      '--url',
      url(),
      '--rate',
      '200',
      '--duration',
      '2s',
      '--json',
      '--max-p99',
      '1us',
    ]);
    expect(r.code).toBe(1);
    const s = JSON.parse(r.stdout) as SummaryJson;
    // 200/s for 2 s, released on a 1 ms grid.
    expect(s.requests).toBeGreaterThanOrEqual(380);
    expect(s.requests).toBeLessThanOrEqual(402);
    expect(s.thresholds.failures[0]).toMatch(/^p99 .* > --max-p99 0\.00 ms/);
  });

  it('writes a self-contained --report page whose charts draw the run in headless Chromium', async () => {
    const file = path.join(dir, 'report.html');
    const r = await certgate([
      'load',
      '--fleet',
      fleetDir,
      '--url',
      url(),
      '--rate',
      '300',
      '--duration',
      '2.5s',
      '--revoked-share',
      '0.25',
      '--warm-share',
      '0.75',
      '--warm-devices',
      '20',
      '--json',
      '--report',
      file,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as SummaryJson;
    // The percentile curve runs from p0 to p100 (the max), denser towards the tail.
    expect(s.percentiles[0]).toEqual([0, expect.any(Number)]);
    expect(s.percentiles.at(-1)).toEqual([100, s.latencyUs.max]);
    expect(s.percentiles.some(([p]) => p > 99)).toBe(true);
    expect(s.timeline.length).toBeGreaterThanOrEqual(2);

    const html = readFileSync(file, 'utf8');
    // Self-contained: nothing fetched from anywhere (no external script, style, image, font).
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(\s*["']?https?:/i);
    expect(html).toContain('uPlot');
    // The run's own numbers are embedded.
    const embedded = /window\.CERTGATE_REPORT = (.*);<\/script>/.exec(html);
    expect(embedded).not.toBeNull();
    const data = JSON.parse(embedded![1]!) as { summary: SummaryJson };
    expect(data.summary.requests).toBe(s.requests);
    expect(data.summary.reasons).toEqual(s.reasons);
    expect(data.summary.timeline).toEqual(s.timeline);

    if (!existsSync(CHROMIUM))
      throw new Error(`no browser at ${CHROMIUM}: apt-get install chromium (bash scripts/setup.sh --for test), or set CHROMIUM_PATH`);
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1200, height: 900 });
      const errors: string[] = [];
      const fetched: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('request', (req) => fetched.push(req.url()));
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      const charts = await page.evaluate(() => {
        // `_values`: the axis labels uPlot drew (minor ticks of a log axis are null).
        const w = window as unknown as {
          CERTGATE_CHARTS?: {
            root: HTMLElement;
            data: (number | null)[][];
            series: { label: string }[];
            axes: { _values?: (string | null)[] }[];
          }[];
        };
        return (w.CERTGATE_CHARTS ?? []).map((u) => ({
          title: u.root.querySelector('.u-title')?.textContent ?? '',
          points: u.data[1]?.length ?? 0,
          series: u.series.map((x) => x.label),
          canvas: u.root.querySelector('canvas')?.width ?? 0,
          // uPlot draws tick labels on the canvas; the formatted labels live only in its axis state.
          // oxlint-disable-next-line no-underscore-dangle
          xLabels: (u.axes[0]?._values ?? []).filter((v) => v !== null && v !== ''),
        }));
      });
      expect(errors).toEqual([]);
      expect(fetched).toEqual([pathToFileURL(file).href]);
      expect(charts.map((c) => c.title)).toEqual([
        'Latency over time (by intended send second)',
        'Latency by percentile',
        'Answers by reason',
      ]);
      for (const c of charts) expect(c.canvas).toBeGreaterThan(0);
      expect(charts[0]!.points).toBe(s.timeline.length);
      expect(charts[1]!.points).toBe(s.percentiles.length);
      // The percentile axis reads p0, p90, p99… (each decade of 1 / (1 - p) once).
      expect(charts[1]!.xLabels.slice(0, 3)).toEqual(['p0', 'p90', 'p99']);
      expect(new Set(charts[1]!.xLabels).size).toBe(charts[1]!.xLabels.length);
      expect(charts[2]!.points).toBe(Object.keys(s.reasons).length);
      expect(charts[2]!.points).toBe(2); // CERTIFICATE_ACTIVE and CERTIFICATE_REVOKED
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'load-report.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('refuses an unwritable --report before the run, with exit 2', async () => {
    const r = await certgate(['load', '--fleet', fleetDir, '--url', url(), '--report', path.join(dir, 'no', 'such', 'dir', 'r.html')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot write --report .*r\.html: ENOENT/);
  });

  it('refuses bad usage with exit 2 and a specific message', async () => {
    const two = await certgate(['load', '--fleet', fleetDir, '--url', url(), '--grpc', '127.0.0.1:1']);
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/choose one target: --url, --grpc or --tls-url/);
    const duration = await certgate(['load', '--fleet', fleetDir, '--duration', 'soon']);
    expect(duration.code).toBe(2);
    expect(duration.stderr).toMatch(/--duration must be a duration such as 500us, 2ms, 1.5s or 2m, got "soon"/);
    const missing = await certgate(['load', '--fleet', path.join(dir, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nope\/fleet\.json: ENOENT/);
    const cold = await certgate(['load', '--fleet', fleetDir, '--cold-share', '1', '--warm-share', '0', '--warm-devices', '1000']);
    expect(cold.code).toBe(3);
    expect(cold.stderr).toMatch(/cold share > 0 but every allowed device is in the warm set/);
  });
});

describe('open-loop latency is charged from the intended send time', () => {
  let server: Server;
  let base: string;
  let stalled = false;

  beforeAll(async () => {
    // A door that answers at once, except for one 300 ms stall.
    server = createServer((req, res) => {
      req.resume();
      const answer = () => {
        res.writeHead(200, { 'x-certgate-reason': 'CERTIFICATE_ACTIVE' });
        res.end('{}');
      };
      if (!stalled && Date.now() - startedAt > 300) {
        stalled = true;
        setTimeout(answer, 300);
      } else answer();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  let startedAt = Date.now();
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('a stall shows in the open loop p99 (requests queued behind it), as coordinated-omission-free tools measure', async () => {
    const leaf = certificate({ subject: identity('device', 'p256') });
    const fleet = {
      sni: SNI_A,
      accountId: ACCOUNT_A,
      devices: [{ certificateId: leaf.id, certificatePem: leaf.pem, expect: 'allow' as const }],
    };
    // One connection: everything due during the stall waits behind it.
    const target = httpDoorTarget(base, 'json', 1);
    startedAt = Date.now();
    stalled = false;
    const { stats } = await runLoad({
      target,
      fleet,
      profile: 'steady',
      mix: { warm: 1, cold: 0, revoked: 0 },
      warmDevices: 1,
      connections: 1000,
      rate: 500,
      durationMs: 1200,
    });
    await target.close();
    const s = stats.summary(1.2);
    expect(stalled).toBe(true);
    // ~150 requests were due during the 300 ms stall: the slowest waited ~300 ms, and more
    // than 1 % of all requests waited over 100 ms. A closed loop would show one slow request.
    expect(s.latencyUs.max).toBeGreaterThan(250_000);
    expect(s.latencyUs.p99).toBeGreaterThan(100_000);
    expect(s.requests).toBeGreaterThan(500);
    // The generator's own lateness is kept apart: every request has one, and it is not the
    // stall (which the server caused), so its p99 stays below the latency's.
    expect(stats.late.totalCount).toBe(s.requests);
    expect(stats.late.getValueAtPercentile(99)).toBeLessThan(s.latencyUs.p99);
  });
});
