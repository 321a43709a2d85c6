/**
 * The one decision path over a registry that answers asynchronously: real PostgreSQL
 * (test/registry/pgServer.ts). Every read is a promise, so every decision is one; the
 * rules and answers are those of the SQLite runs (readsBothWays.test.ts), and a revoke
 * is seen by the next decision.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresRegistry } from '../../ts/registry/postgres/registry.js';
import type { Registry } from '../../ts/registry/types.js';
import { startPgServer, type PgServer } from '../registry/pgServer.js';
import { testAuthorizer } from './authorizer.js';
import { certificate, identity } from './pki.js';
import { ACCOUNT_A, PREFIX_A, SNI_A, registerCertificate, type World } from './world.js';

let server: PgServer;
let database: string;
let registry: Registry;
beforeAll(async () => {
  server = await startPgServer();
  database = await server.createDatabase();
  registry = openPostgresRegistry({ connectionString: server.url(database) });
  await registry.createAccount({ accountId: ACCOUNT_A, endpointPrefix: PREFIX_A });
}, 60_000);
afterAll(async () => {
  await registry?.close();
  await server?.dropDatabase(database);
  await server?.stop();
});

describe('one decision path over PostgreSQL', () => {
  it('allows, refuses and sees a revoke at once, every decision awaited', async () => {
    const leaf = certificate({ subject: identity('pg device', 'p256') });
    await registerCertificate(registry, leaf);
    const { authorizer } = testAuthorizer({ registry } as unknown as World, { registry, jitr: false, configCacheMs: 1000 });
    for (let round = 0; round < 2; round++) {
      const decided = authorizer.decide(SNI_A, [leaf.pem]);
      expect(decided).toBeInstanceOf(Promise);
      expect(await decided).toMatchObject({ allow: true, reason: 'CERTIFICATE_ACTIVE', accountId: ACCOUNT_A });
    }
    expect(await authorizer.authorize('nowhere.example', [leaf.pem])).toMatchObject({ allow: false, reason: 'UNKNOWN_SNI' });
    const stranger = certificate({ subject: identity('pg stranger', 'p256') });
    expect(await authorizer.authorize(SNI_A, [stranger.pem])).toMatchObject({ allow: false, reason: 'CERTIFICATE_NOT_REGISTERED' });
    await registry.setCertificateStatus(ACCOUNT_A, leaf.id, 'REVOKED', ['ACTIVE']);
    expect(await authorizer.authorize(SNI_A, [leaf.pem])).toMatchObject({
      allow: false,
      reason: 'CERTIFICATE_REVOKED',
      accountId: ACCOUNT_A,
    });
  });
});
