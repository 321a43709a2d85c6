/**
 * MAX_DASHBOARD_STREAMS: one more page than the limit is refused with 503 and
 * Retry-After, and a freed slot is usable again.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_DASHBOARD_STREAMS } from '../../ts/dashboard/server.js';
import type { RunningNode } from '../../ts/server/node.js';
import { createWorld, type World } from '../authz/world.js';
import { testNode } from '../ingress/node.js';

function open(url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

describe('dashboard streams per process', () => {
  let world: World;
  let node: RunningNode;
  beforeAll(async () => {
    world = await createWorld();
    node = await testNode(world, { maxConnections: '64' });
  });
  afterAll(async () => {
    await node.close();
    await world.dispose();
  });

  it(`refuses stream ${MAX_DASHBOARD_STREAMS + 1} with 503 and takes a new one once a slot is free`, async () => {
    const url = `http://127.0.0.1:${node.ports.admin}/dashboard/events`;
    const streams = await Promise.all(Array.from({ length: MAX_DASHBOARD_STREAMS }, () => open(url)));
    expect(streams.map((s) => s.status)).toEqual(Array(MAX_DASHBOARD_STREAMS).fill(200));
    expect(streams[0]?.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const refused = await open(url);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('10');
    refused.close();
    streams[0]?.close();
    // The server sees the close asynchronously.
    let again = await open(url);
    for (let i = 0; again.status !== 200 && i < 20; i++) {
      await new Promise((r) => setTimeout(r, 50));
      again = await open(url);
    }
    expect(again.status).toBe(200);
    again.close();
    for (const s of streams) s.close();
  });
});
