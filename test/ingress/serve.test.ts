/**
 * `certgate serve` as operators run it: several processes, port 0 resolved and logged,
 * a dead server process replaced, SIGTERM drains and exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../ts/paths.js';
import { serverV8Flags } from '../../ts/server/v8Flags.js';
import { certificate, identity, type Cert } from '../authz/pki.js';
import { SNI_A, createWorld, type World } from '../authz/world.js';

interface Line {
  msg?: string;
  authz?: string;
  grpc?: string;
  admin?: string;
  workers?: number[];
  worker?: number;
}

describe('certgate serve with two processes', () => {
  let world: World;
  let child: ChildProcess;
  let leaf: Cert;
  const lines: Line[] = [];
  const waitFor = async (pred: (l: Line) => boolean): Promise<Line> => {
    for (let i = 0; i < 200; i++) {
      const hit = lines.find(pred);
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no such log line; got ${JSON.stringify(lines)}`);
  };
  const ask = async (authz: string) => {
    const res = await request(`${authz}/v1/authorize`, { method: 'POST', body: JSON.stringify({ sni: SNI_A, certChain: [leaf.pem] }) });
    return ((await res.body.json()) as { reason: string }).reason;
  };

  beforeAll(async () => {
    world = await createWorld();
    leaf = certificate({ subject: identity('device', 'p256') });
    await world.register(leaf, {});
    child = spawn(
      process.execPath,
      [
        path.join(projectRoot, 'bin', 'certgate.js'),
        'serve',
        '--processes',
        '2',
        '--admin-port',
        '0',
        '--authz-port',
        '0',
        '--grpc-port',
        '0',
      ],
      { env: { ...process.env, CERTGATE_DB: world.dbPath }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const p of parts) if (p.startsWith('{')) lines.push(JSON.parse(p) as Line);
    });
  });
  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await world.dispose();
  });

  it('logs the ports it picked for port 0 and the worker pids, and answers on them (db from CERTGATE_DB)', async () => {
    const line = await waitFor((l) => l.msg === 'listening');
    expect(line.authz).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(line.grpc).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(line.admin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(line.workers).toHaveLength(2);
    expect(await ask(line.authz ?? '')).toBe('CERTIFICATE_ACTIVE');
  });

  it('replaces a server process that dies and keeps answering', async () => {
    const line = await waitFor((l) => l.msg === 'listening');
    process.kill(line.workers?.[0] ?? 0, 'SIGKILL');
    const replacement = await waitFor((l) => l.msg === 'replacement server process listening');
    expect(line.workers).not.toContain(replacement.worker);
    for (let i = 0; i < 10; i++) expect(await ask(line.authz ?? '')).toBe('CERTIFICATE_ACTIVE');
  });

  it('drains and exits 0 on SIGTERM', async () => {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(lines.some((l) => l.msg === 'shutting down')).toBe(true);
  });
});

describe('certgate serve --engine wasm', () => {
  it('runs its server processes with --no-liftoff (wasm compiled optimised at once) and the lower interrupt budget, and decides', async () => {
    const world = await createWorld();
    const leaf = certificate({ subject: identity('wasm device', 'p256') });
    await world.register(leaf, {});
    const child = spawn(
      process.execPath,
      [path.join(projectRoot, 'bin', 'certgate.js'), 'serve', '--engine', 'wasm', '--processes', '2'].concat(
        ['--admin-port', '--authz-port', '--grpc-port'].flatMap((flag) => [flag, '0']),
      ),
      { env: { ...process.env, CERTGATE_DB: world.dbPath }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const line = await new Promise<Line>((resolve, reject) => {
        let buffered = '';
        child.stdout?.on('data', (chunk: Buffer) => {
          buffered += chunk.toString();
          for (const p of buffered.split('\n')) {
            if (!p.startsWith('{')) continue;
            try {
              const l = JSON.parse(p) as Line;
              if (l.msg === 'listening') resolve(l);
            } catch {
              // a partial line: the next chunk completes it
            }
          }
        });
        child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
      });
      expect(line.workers).toHaveLength(2);
      for (const pid of line.workers ?? []) {
        expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).toEqual(
          expect.arrayContaining(['--no-liftoff', '--interrupt-budget=16384']),
        );
      }
      const res = await request(`${line.authz}/v1/authorize`, {
        method: 'POST',
        body: JSON.stringify({ sni: SNI_A, certChain: [leaf.pem] }),
      });
      expect(((await res.body.json()) as { reason: string }).reason).toBe('CERTIFICATE_ACTIVE');
    } finally {
      child.kill('SIGKILL');
      await world.dispose();
    }
  });

  it('adds --no-liftoff for the wasm engine only, the interrupt budget for both, neither with CERTGATE_V8_DEFAULTS=1', () => {
    expect(serverV8Flags('wasm', {})).toEqual(['--interrupt-budget=16384', '--no-liftoff']);
    expect(serverV8Flags('wasm', { CERTGATE_WASM_LIFTOFF: '1' })).toEqual(['--interrupt-budget=16384']);
    expect(serverV8Flags('native', {})).toEqual(['--interrupt-budget=16384']);
    expect(serverV8Flags('wasm', { CERTGATE_V8_DEFAULTS: '1' })).toEqual([]);
  });
});
