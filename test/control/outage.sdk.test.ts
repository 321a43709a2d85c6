/**
 * The admin API over a PostgreSQL registry whose server crashes (`pg_ctl stop -m
 * immediate`) and comes back (issue 11 item 3): calls answer 503
 * ServiceUnavailableException within seconds, never hang and never 500, and succeed again
 * after the restart with no operator action (the pool opens fresh connections).
 */
import { ListCertificatesCommand, UpdateCertificateCommand, CreateKeysAndCertificateCommand } from '@aws-sdk/client-iot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresRegistry } from '../../ts/registry/postgres/registry.js';
import { startPgServer, type PgServer } from '../registry/pgServer.js';
import { ACCOUNT_A, REGION, sdkError, startAdmin, type AdminHarness } from './harness.js';

let server: PgServer;
let harness: AdminHarness;
beforeAll(async () => {
  server = await startPgServer();
  const database = await server.createDatabase();
  const registry = openPostgresRegistry({ connectionString: server.url(database), region: REGION });
  harness = await startAdmin({ registry });
}, 60_000);
afterAll(async () => {
  await harness?.close();
  await server?.stop();
});

/** Time a promise, in ms. */
async function timed<T>(p: Promise<T>): Promise<{ ms: number; value: T }> {
  const since = performance.now();
  const value = await p;
  return { ms: performance.now() - since, value };
}

describe('admin API while PostgreSQL is down', () => {
  it('answers 503 ServiceUnavailableException within seconds, then works again after the restart', async () => {
    const client = harness.client(ACCOUNT_A);
    const created = await client.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    const certificateId = created.certificateId ?? '';

    server.crash();
    try {
      // A read (SigV4 needs the access key's secret from the registry) and a write.
      for (const call of [
        client.send(new ListCertificatesCommand({})),
        client.send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' })),
      ]) {
        const { ms, value: error } = await timed(sdkError(call));
        expect(error).toMatchObject({ name: 'ServiceUnavailableException', status: 503 });
        expect(error.message).toMatch(/^The registry database is unavailable \(/);
        expect(ms).toBeLessThan(3000);
      }
    } finally {
      server.restart();
    }

    // No operator action: the next calls open new connections to the restarted server.
    await client.send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' }));
    const listed = await client.send(new ListCertificatesCommand({}));
    expect(listed.certificates?.find((c) => c.certificateId === certificateId)?.status).toBe('INACTIVE');
  }, 30_000);
});
