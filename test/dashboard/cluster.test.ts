/**
 * The dashboard of a two-process `certgate serve`: its frames come from the cluster-wide
 * aggregate (both processes asked, none missing), and the denies it shows add up to the
 * requests sent, whichever process answered them.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../ts/dashboard/frames.js';
import { ANY_PORTS, createDatabase, startServe, type ServeProcess } from '../ingress/serveProcess.js';

/** Frames of `GET /dashboard/events` as they arrive. */
function events(url: string): { frames: Frame[]; close: () => void } {
  const frames: Frame[] = [];
  const req = http.get(url, { agent: false }, (res) => {
    let buffered = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n\n');
      buffered = parts.pop() ?? '';
      for (const p of parts) if (p.startsWith('data: ')) frames.push(JSON.parse(p.slice(6)) as Frame);
    });
  });
  req.on('error', () => undefined);
  return { frames, close: () => req.destroy() };
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('/dashboard with two processes', () => {
  let dir: string;
  let serve: ServeProcess;
  let admin: string;
  let authz: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'certgate-dashboard-'));
    const db = path.join(dir, 'r.db');
    await createDatabase(db);
    serve = startServe(['--db', db, '--processes', '2', ...ANY_PORTS]);
    const line = await serve.waitFor((l) => l.msg === 'listening');
    admin = String(line.admin);
    authz = String(line.authz);
  }, 30_000);
  afterAll(() => {
    serve.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the aggregate of both processes', async () => {
    const stream = events(`${admin}/dashboard/events`);
    try {
      await until('a first frame', () => (stream.frames.length > 0 ? true : undefined));
      let denied = 0;
      for (let i = 0; i < 40; i++) {
        // A new connection each: the cluster hands them to both processes.
        const r = await request(`${authz}/v1/authorize`, {
          method: 'POST',
          body: JSON.stringify({ sni: 'nobody.invalid', certChain: ['not a certificate'] }),
          reset: true,
        });
        await r.body.dump();
        expect(r.statusCode).toBeGreaterThanOrEqual(400);
        expect(r.statusCode).toBeLessThan(500);
        denied++;
      }
      const sent = Date.now() / 1000;
      const quiet = await until('a quiet frame after the requests', () => {
        const last = stream.frames.at(-1);
        return last !== undefined && last.t > sent + 1 && last.decisions.deny === 0 ? last : undefined;
      });
      expect(quiet.processes).toMatchObject({ asked: 2, missing: 0 });
      // One series per server process, and together they add up to what was denied.
      expect(Object.keys(quiet.perProcess)).toHaveLength(2);
      const perProcess = stream.frames.reduce((t, f) => t + Object.values(f.perProcess).reduce((a, b) => a + b, 0) * f.seconds, 0);
      expect(perProcess).toBeCloseTo(denied, 6);
      const shown = stream.frames.reduce((t, f) => t + f.decisions.deny * f.seconds, 0);
      expect(shown).toBeCloseTo(denied, 6);
      expect(stream.frames.every((f) => f.decisions.allow === 0 && f.decisions.unavailable === 0)).toBe(true);
    } finally {
      stream.close();
    }
  }, 40_000);
});
