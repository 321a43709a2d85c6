/**
 * A real serving node (ts/server/node.ts, as `certgate serve --processes 1` runs it) on
 * a PostgreSQL registry: it decides from its fleet view, `/readyz` says whether the view
 * is current and why not, `/metrics` shows the view's lag and the fleet waits, and the
 * JSON door answers REGISTRY_STALE (503) once its lease has lapsed.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresRegistry, type PostgresRegistry } from '../../ts/registry/postgres/registry.js';
import { parseServeConfig } from '../../ts/server/config.js';
import { startNode, type RunningNode } from '../../ts/server/node.js';
import { certificate, identity } from '../authz/pki.js';
import { ACCOUNT_A, PREFIX_A, SNI_A, registerCertificate } from '../authz/world.js';
import { startPgServer, type PgServer } from '../registry/pgServer.js';
import { startProxy, type CuttableProxy } from './proxy.js';

let server: PgServer;
let database: string;
let writer: PostgresRegistry;
let proxy: CuttableProxy;
let node: RunningNode;
/** Registered before the node starts: held by its first whole load, before it listens. */
const before = certificate({ subject: identity('serve fleet device registered before start', 'p256') });

beforeAll(async () => {
  server = await startPgServer();
  database = await server.createDatabase();
  writer = openPostgresRegistry({ connectionString: server.url(database), fleetLeaseMs: 1000 });
  await writer.createAccount({ accountId: ACCOUNT_A, endpointPrefix: PREFIX_A });
  await registerCertificate(writer, before);
  proxy = await startProxy(server.port);
  const config = parseServeConfig({
    db: `postgres://certgate@127.0.0.1:${proxy.port}/${database}`,
    host: '127.0.0.1',
    adminPort: '0',
    authzPort: '0',
    grpcPort: '0',
    processes: '1',
    poolThreads: '0',
    decisionLogSample: '0',
    logLevel: 'silent',
    maxStaleness: '1000',
    heartbeatMs: '200',
  });
  node = await startNode(config, pino({ level: 'silent' }));
}, 60_000);
afterAll(async () => {
  await node?.close();
  await proxy?.close();
  await writer?.close();
  await server?.dropDatabase(database);
  await server?.stop();
});

describe('certgate serve on PostgreSQL (fleet mode)', () => {
  it('decides from its view, reports it in /readyz and /metrics, and fails closed with REGISTRY_STALE when cut off', async () => {
    const base = `http://127.0.0.1:${node.ports.authz}`;
    const authorizeCert = (pem: string) =>
      fetch(`${base}/v1/authorize`, { method: 'POST', body: JSON.stringify({ sni: SNI_A, certChain: [pem] }) });
    // --view-standings all (the default): the node listened only once every standing was loaded.
    expect(await (await authorizeCert(before.pem)).json()).toMatchObject({ allow: true, reason: 'CERTIFICATE_ACTIVE' });
    const leaf = certificate({ subject: identity('serve fleet device', 'p256') });
    await registerCertificate(writer, leaf);
    const authorize = () => authorizeCert(leaf.pem);
    // A registration does not wait for the fleet: the view applies it from the change log.
    await expect.poll(async () => ((await (await authorize()).json()) as { reason: string }).reason).toBe('CERTIFICATE_ACTIVE');
    await expect
      .poll(
        async () =>
          ((await (await fetch(`${base}/readyz`)).json()) as { registryView: { lagSequences: number } }).registryView.lagSequences,
      )
      .toBe(0);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ready',
      registryView: { current: true, stale: null, lagSequences: 0, standings: 'all', standingsHeld: 2, loads: 1 },
    });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/certgate_view_cache_entries\{worker="[^"]+"\} 2\n/);
    for (const name of [
      'certgate_view_lag_sequences',
      'certgate_view_lease_remaining_seconds',
      'certgate_view_heartbeat_seconds_count',
      'certgate_view_load_seconds',
    ])
      expect(metrics).toContain(name);

    proxy.cut();
    await expect.poll(async () => (await fetch(`${base}/readyz`)).status, { timeout: 5000, interval: 100 }).toBe(503);
    const body = (await (await fetch(`${base}/readyz`)).json()) as { registryView: { stale: string } };
    expect(body.registryView.stale).toMatch(/last confirmed current \d+ ms ago/);
    const refused = await authorize();
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ allow: false, reason: 'REGISTRY_STALE' });

    proxy.restore();
    await expect.poll(async () => (await fetch(`${base}/readyz`)).status, { timeout: 10_000, interval: 100 }).toBe(200);
    expect(await (await authorize()).json()).toMatchObject({ allow: true });
  });
});
