/**
 * The live page in a real browser (Debian's chromium, headless, driven by puppeteer-core):
 * a real node over a real SQLite registry, allows and denies sent while the page is
 * open; the page loads, every chart draws series with data, the numbers it shows add up
 * to the decisions actually made, and a screenshot is saved
 * (build/test-artifacts/dashboard.png).
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../ts/dashboard/frames.js';
import type { RunningNode } from '../../ts/server/node.js';
import { certificate, identity, type Cert } from '../authz/pki.js';
import { SNI_A, SNI_B, createWorld, type World } from '../authz/world.js';
import { testNode } from '../ingress/node.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve('build/test-artifacts');
/** How long traffic runs while the page is open (longer for a docs screenshot: DASHBOARD_LOAD_MS=30000). */
const LOAD_MS = Number(process.env.DASHBOARD_LOAD_MS ?? 4000);

interface PageState {
  frames: Frame[];
  /** Per chart: series labels and, per series, how many points are non-null and how many above 0. */
  charts: Record<string, { labels: string[]; points: number; nonNull: number[]; positive: number[]; canvas: number }>;
}

function pageState(page: Page): Promise<PageState> {
  return page.evaluate(() => {
    type Plot = { series: { label?: string }[]; data: (number | null)[][]; ctx: CanvasRenderingContext2D };
    const d = (window as unknown as { certgateDashboard: { frames: Frame[]; charts: Record<string, { plot: Plot | null }> } })
      .certgateDashboard;
    const charts: PageState['charts'] = {};
    for (const [id, c] of Object.entries(d.charts)) {
      const plot = c.plot;
      if (plot === null) continue;
      const series = plot.data.slice(1);
      charts[id] = {
        labels: plot.series.slice(1).map((s) => String(s.label)),
        points: plot.data[0]?.length ?? 0,
        nonNull: series.map((s) => s.filter((v) => v !== null).length),
        positive: series.map((s) => s.filter((v) => v !== null && v > 0).length),
        canvas: plot.ctx.canvas.width * plot.ctx.canvas.height,
      };
    }
    return { frames: d.frames, charts };
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('GET /dashboard in headless Chromium', () => {
  let world: World;
  let node: RunningNode;
  let browser: Browser;
  let page: Page;
  let leaf: Cert;
  let authz: string;
  const errors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`no browser at ${CHROMIUM}: apt-get install chromium (bash scripts/setup.sh --for test), or set CHROMIUM_PATH`);
    world = await createWorld();
    // One pool thread: the pool panel has a queue and a limit to show.
    // No shedding by event-loop turn: the browser shares this machine, and this test counts
    // allows and denies exactly (shedding has its own tests).
    node = await testNode(world, { poolThreads: '1', shedAfterMs: '0' });
    authz = `http://127.0.0.1:${node.ports.authz}/v1/authorize`;
    leaf = certificate({ subject: identity('device', 'p256') });
    await world.register(leaf, {});
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 800 });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
  }, 60_000);

  afterAll(async () => {
    // The node closes while the page still holds its event stream: close must not hang on it.
    await node?.close();
    await browser?.close();
    await world?.dispose();
  });

  it(
    'draws every panel from the decisions made while it is open, and the numbers add up',
    async () => {
      const res = await page.goto(`http://127.0.0.1:${node.ports.admin}/dashboard`, { waitUntil: 'load' });
      expect(res?.status()).toBe(200);
      // The first frame needs two expositions: from then on every decision lands in a frame.
      await until('a first frame', async () => ((await pageState(page)).frames.length > 0 ? true : undefined));

      let allowed = 0;
      let denied = 0;
      const stopAt = Date.now() + LOAD_MS;
      const client = async () => {
        for (let i = 0; Date.now() < stopAt; i++) {
          // Mostly allows (cache hits after the first), one in four a deny (another account's endpoint).
          const deny = i % 4 === 3;
          const r = await request(authz, { method: 'POST', body: JSON.stringify({ sni: deny ? SNI_B : SNI_A, certChain: [leaf.pem] }) });
          const answer = (await r.body.json()) as { reason: string };
          if (r.statusCode === 200) allowed++;
          else if (r.statusCode === 403) denied++;
          else throw new Error(`unexpected status ${r.statusCode} (${answer.reason})`);
        }
      };
      await Promise.all([client(), client(), client(), client()]);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });

      // Wait for a frame taken after the load ended with nothing in it: every decision is counted.
      const loadEnded = Date.now() / 1000;
      const state = await until('a quiet frame after the load', async () => {
        const s = await pageState(page);
        const last = s.frames.at(-1);
        return last !== undefined && last.t > loadEnded + 1 && last.decisions.allow === 0 && last.decisions.deny === 0 ? s : undefined;
      });

      const sum = (pick: (f: Frame) => number) => state.frames.reduce((t, f) => t + pick(f) * f.seconds, 0);
      expect(allowed).toBeGreaterThan(50);
      expect(denied).toBeGreaterThan(10);
      expect(sum((f) => f.decisions.allow)).toBeCloseTo(allowed, 6);
      expect(sum((f) => f.decisions.deny)).toBeCloseTo(denied, 6);
      expect(sum((f) => f.refusals.CERTIFICATE_NOT_REGISTERED ?? 0)).toBeCloseTo(denied, 6);
      expect(sum((f) => f.decisions.unavailable)).toBe(0);

      const c = state.charts;
      const panels = Object.keys(c);
      panels.sort();
      expect(panels).toEqual(['cache', 'decisions', 'latency', 'perProcess', 'pool', 'processes', 'refusals', 'stages']);
      // One process: one series, its pid (certgate_worker_decisions_total{worker}).
      expect(c.perProcess?.labels).toEqual([String(process.pid)]);
      for (const [id, chart] of Object.entries(c)) {
        expect(chart.canvas, id).toBeGreaterThan(0);
        expect(chart.points, id).toBe(state.frames.length);
      }
      expect(c.decisions?.labels).toEqual(['allow', 'deny', 'unavailable']);
      expect(c.decisions?.positive.slice(0, 2).every((n) => n > 0)).toBe(true);
      expect(c.latency?.labels).toEqual(['p50', 'p90', 'p99']);
      expect(c.latency?.positive.every((n) => n > 0)).toBe(true);
      expect(c.stages?.labels).toContain('registry');
      expect(c.stages?.positive.some((n) => n > 0)).toBe(true);
      expect(c.refusals?.labels).toEqual(['CERTIFICATE_NOT_REGISTERED']);
      expect(c.refusals?.positive[0]).toBeGreaterThan(0);
      // The same chain over and over: after its first verification, hits.
      expect(c.cache?.positive[0]).toBeGreaterThan(0);
      expect(c.pool?.labels).toEqual(['queued', 'limit']);
      expect(c.pool?.positive[1]).toBe(state.frames.length);
      expect(c.processes?.positive[0]).toBeGreaterThan(0);
      expect(errors).toEqual([]);
    },
    60_000 + LOAD_MS,
  );

  it('is read-only and serves uPlot from the package', async () => {
    const admin = `http://127.0.0.1:${node.ports.admin}`;
    const post = await request(`${admin}/dashboard`, { method: 'POST', body: '' });
    expect(post.statusCode).toBe(405);
    await post.body.dump();
    const js = await request(`${admin}/dashboard/uPlot.iife.min.js`);
    expect(js.statusCode).toBe(200);
    expect(await js.body.text()).toContain('uPlot');
    const missing = await request(`${admin}/dashboard/nope`);
    expect(missing.statusCode).toBe(404);
    await missing.body.dump();
  });
});

describe('--no-dashboard', () => {
  it('leaves /dashboard to the admin API, which refuses it unsigned', async () => {
    const world = await createWorld();
    const node = await testNode(world, { dashboard: false });
    try {
      const res = await request(`http://127.0.0.1:${node.ports.admin}/dashboard`);
      expect(res.statusCode).toBe(403);
      expect(await res.body.text()).not.toContain('uPlot');
    } finally {
      await node.close();
      await world.dispose();
    }
  });
});
