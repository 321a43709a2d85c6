/**
 * The revocation race: two `certgate serve` processes answer a stream of concurrent
 * authorize calls for one certificate while another process revokes it. Every request
 * sent after the revoke call returned must be denied; status is never cached.
 * Cache off and every verification on the pool widen the window between reading the
 * status and answering (the decision re-reads status after the pool hop).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../ts/paths.js';
import { certificate, identity, type Cert } from './pki.js';
import { ACCOUNT_A, SNI_A, createWorld, type World } from './world.js';

async function startServe(world: World, extra: readonly string[]): Promise<{ child: ChildProcess; authz: string }> {
  const child = spawn(
    process.execPath,
    [
      path.join(projectRoot, 'bin', 'certgate.js'),
      'serve',
      '--db',
      world.dbPath,
      '--processes',
      '2',
      '--admin-port',
      '0',
      '--authz-port',
      '0',
      '--grpc-port',
      '0',
      '--verify-cache-size',
      '0',
      '--inline-budget-us',
      '0',
      '--pool-threads',
      '1',
      '--decision-log-sample',
      '0',
      // Revocation is under test, not load shedding: its concurrent pool-bound stream
      // may exceed the default in-flight bound on a loaded machine (OVERLOADED).
      '--max-in-flight',
      '100000',
      '--shed-after-ms',
      '0',
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const authz = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (line) resolve((JSON.parse(line) as { authz: string }).authz);
    });
    child.once('exit', (code) => reject(new Error(`certgate serve exited with ${code}: ${out}`)));
  });
  return { child, authz };
}

// With and without the fast path (ts/fastpath/): neither every standing held in memory (the
// default), nor the committed-reads memo, checked through the wal-index (native engine) or
// SQLite's counters (wasm engine), may delay a revoke.
describe.each([
  ['fast path on, every standing held', []],
  ['fast path on, every standing held, wasm engine', ['--engine', 'wasm']],
  ['fast path on, standings seen', ['--view-standings', 'seen']],
  ['fast path off', ['--no-fast-path']],
] as const)('revocation under concurrent load (%s)', (_way, extra) => {
  let world: World;
  let server: { child: ChildProcess; authz: string };
  let leaf: Cert;

  beforeAll(async () => {
    world = await createWorld();
    leaf = certificate({ subject: identity('racer', 'p256'), issuer: world.caIdentity });
    await world.register(leaf, { caId: world.ca.id });
    server = await startServe(world, extra);
  });
  afterAll(async () => {
    if (server?.child.exitCode === null) {
      const exited = new Promise((r) => server.child.once('exit', r));
      server.child.kill('SIGTERM');
      await exited;
    }
    await world?.dispose();
  });

  it('allows nothing sent after the revoke call returns', async () => {
    const pool = new Pool(server.authz, { connections: 16 });
    const body = JSON.stringify({ sni: SNI_A, certChain: [leaf.pem] });
    const results: { sentAt: number; allow: boolean; reason: string }[] = [];
    let revokedAt = Infinity;
    let stop = false;
    const client = async () => {
      while (!stop) {
        const sentAt = performance.now();
        const res = await pool.request({ path: '/v1/authorize', method: 'POST', body });
        const d = (await res.body.json()) as { allow: boolean; reason: string };
        results.push({ sentAt, allow: d.allow, reason: d.reason });
        if (sentAt > revokedAt && results.filter((r) => r.sentAt > revokedAt).length >= 300) stop = true;
      }
    };
    const clients = Array.from({ length: 16 }, client);
    // Let allows flow first, then revoke from this (third) process while load continues.
    while (results.length < 200) await new Promise((r) => setTimeout(r, 5));
    await world.setStatus(ACCOUNT_A, leaf.id, 'REVOKED');
    revokedAt = performance.now();
    await Promise.all(clients);
    await pool.close();

    const before = results.filter((r) => r.sentAt < revokedAt);
    const after = results.filter((r) => r.sentAt > revokedAt);
    expect(before.some((r) => r.allow)).toBe(true);
    expect(after.length).toBeGreaterThanOrEqual(300);
    expect(after.filter((r) => r.allow)).toEqual([]);
    expect(new Set(after.map((r) => r.reason))).toEqual(new Set(['CERTIFICATE_REVOKED']));
  });
});
