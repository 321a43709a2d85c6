/**
 * Who delivers webhooks, and what survives a failed round (issue 11 item 4): the
 * PostgreSQL delivery lease (one holder among several, taken over when the holder's
 * session ends, cursors written only by the holder) and a deliverer whose registry is
 * unreachable for a while (it keeps polling; the process does not die of it).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookDeliverer } from '../../ts/authz/webhooks.js';
import { PgDeliveryLease } from '../../ts/registry/postgres/deliveryLease.js';
import { openPostgresRegistry } from '../../ts/registry/postgres/registry.js';
import type { Registry } from '../../ts/registry/types.js';
import { startPgServer, type PgServer } from '../registry/pgServer.js';
import { ACCOUNT_A, createWorld } from './world.js';

let server: PgServer;
let url: string;
let registry: Registry;
beforeAll(async () => {
  server = await startPgServer();
  url = server.url(await server.createDatabase());
  registry = openPostgresRegistry({ connectionString: url });
  await registry.settings(); // migrated: webhook_cursors exists
}, 60_000);
afterAll(async () => {
  await registry?.close();
  await server?.stop();
});

const waitFor = async (check: () => boolean, ms: number): Promise<number> => {
  const since = performance.now();
  while (!check()) {
    if (performance.now() - since > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - since;
};

describe('the PostgreSQL delivery lease', () => {
  it('has one holder; when its session ends another takes over within a retry, and the old one can no longer move cursors', async () => {
    // The first holder tries once and then not for a minute, as a dead host would not.
    const holder = new PgDeliveryLease({ connectionString: url, retryMs: 60_000 });
    const others = [0, 1].map(() => new PgDeliveryLease({ connectionString: url, retryMs: 200 }));
    const leases = [holder, ...others];
    try {
      holder.start();
      await waitFor(() => holder.held(), 5000);
      for (const lease of others) lease.start();
      await new Promise((r) => setTimeout(r, 600));
      expect(leases.filter((l) => l.held())).toEqual([holder]);
      await holder.save('http://hook.test/', '111111111111', 7);
      await holder.save('http://hook.test/', '111111111111', 5); // never moves back
      expect(await holder.load()).toEqual({ 'http://hook.test/ 111111111111': 7 });

      // The holder's session ends as a dead host's would: the server terminates it.
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'certgate-webhook-deliverer' AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)",
      );
      await admin.end();
      const took = await waitFor(() => others.some((l) => l.held()), 5000);
      expect(took).toBeLessThan(1500);
      await waitFor(() => !holder.held(), 2000);
      await expect(holder.save('http://hook.test/', '111111111111', 9)).rejects.toThrow(/not the webhook deliverer/);
      const next = others.find((l) => l.held()) as PgDeliveryLease;
      expect(await next.load()).toEqual({ 'http://hook.test/ 111111111111': 7 });
    } finally {
      await Promise.all(leases.map((l) => l.stop()));
    }
  });
});

describe('upgrading a PostgreSQL installation', () => {
  it("merges a host's former cursor file into the table when it takes the lock, never moving a cursor back", async () => {
    const lease = new PgDeliveryLease({
      connectionString: url,
      retryMs: 100,
      seed: { 'http://hook.test/ 111111111111': 3, 'http://other.test/ 111111111111': 12 },
    });
    try {
      lease.start();
      await waitFor(() => lease.held(), 5000);
      // 7 was recorded by the previous test's deliverer; the file's 3 is older.
      expect(await lease.load()).toEqual({ 'http://hook.test/ 111111111111': 7, 'http://other.test/ 111111111111': 12 });
    } finally {
      await lease.stop();
    }
  });
});

describe('a deliverer whose registry fails', () => {
  it('reports the failed round and keeps polling, then delivers (no unhandled rejection ends the process)', async () => {
    const world = await createWorld();
    const received: number[] = [];
    const hook = http.createServer((req, res) => {
      received.push(Number(req.headers['x-certgate-event-sequence']));
      req.resume().on('end', () => res.writeHead(200).end());
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    let failing = true;
    const errors: unknown[] = [];
    const flaky: Pick<Registry, 'listAccounts' | 'listEvents'> = {
      listAccounts: () => (failing ? Promise.reject(new Error('registry unreachable')) : world.registry.listAccounts()),
      listEvents: (...args) => world.registry.listEvents(...args),
    };
    const deliverer = new WebhookDeliverer({
      registry: flaky,
      urls: [`http://127.0.0.1:${(hook.address() as AddressInfo).port}/`],
      stateFile: path.join(world.dir, 'hooks.json'),
      pollMs: 50,
      onRoundError: (error) => errors.push(error),
    });
    try {
      const event = await world.registry.appendEvent(ACCOUNT_A, 'topic/x', {});
      deliverer.start();
      await waitFor(() => errors.length >= 3, 5000);
      failing = false;
      await waitFor(() => received.includes(event.sequence), 5000);
      expect(String(errors[0])).toMatch(/registry unreachable/);
    } finally {
      await deliverer.stop();
      hook.close();
      await world.dispose();
    }
  });
});
