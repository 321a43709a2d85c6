/**
 * With --admin-tls-cert the page and its event stream are served over HTTPS like the
 * rest of the admin port (and not in plain HTTP on it).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../ts/dashboard/frames.js';
import type { RunningNode } from '../../ts/server/node.js';
import { createWorld, type World } from '../authz/world.js';
import { testNode } from '../ingress/node.js';

describe('/dashboard behind admin TLS', () => {
  let dir: string;
  let world: World;
  let node: RunningNode;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'certgate-dashboard-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        'key.pem',
        '-out',
        'cert.pem',
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { cwd: dir, stdio: 'ignore' },
    );
    world = await createWorld();
    node = await testNode(world, { adminTlsCert: path.join(dir, 'cert.pem'), adminTlsKey: path.join(dir, 'key.pem') });
  });
  afterAll(async () => {
    await node.close();
    await world.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams frames over HTTPS and answers no plain HTTP', async () => {
    const ca = readFileSync(path.join(dir, 'cert.pem'));
    const frame = await new Promise<Frame>((resolve, reject) => {
      const req = https.get(`https://127.0.0.1:${node.ports.admin}/dashboard/events`, { ca, agent: false }, (res) => {
        expect(res.statusCode).toBe(200);
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          const m = /^data: (.*)$/m.exec(buffered);
          if (m?.[1] !== undefined) {
            req.destroy();
            resolve(JSON.parse(m[1]) as Frame);
          }
        });
      });
      req.on('error', reject);
    });
    expect(frame, JSON.stringify(frame)).toHaveProperty('decisions');
    expect(frame.decisions).toEqual({ allow: 0, deny: 0, unavailable: 0 });
    expect(frame.seconds).toBeGreaterThan(0);
    const plain = await new Promise<string>((resolve) => {
      const req = http.get(`http://127.0.0.1:${node.ports.admin}/dashboard`, { agent: false }, (res) =>
        resolve(`status ${res.statusCode}`),
      );
      req.on('error', (e) => resolve(`error ${e.message}`));
    });
    expect(plain).not.toBe('status 200');
  }, 20_000);
});
