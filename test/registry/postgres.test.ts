/**
 * The PostgreSQL registry against a real PostgreSQL server (one per file, a fresh
 * database per test): the shared contract suite, then what only a networked backend
 * has: migrations run by several openers at once, separate pools (as separate sidecars
 * have) racing on the same rules, and `certgate serve` / the operator CLI on a
 * `postgres://` URL.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../ts/paths.js';
import { isPostgresUrl, openRegistry } from '../../ts/registry/open.js';
import { redactConnectionString } from '../../ts/registry/postgres/database.js';
import { openPostgresRegistry, PostgresRegistry } from '../../ts/registry/postgres/registry.js';
import { SqliteRegistry } from '../../ts/registry/sqlite/registry.js';
import { MIGRATIONS } from '../../ts/registry/postgres/schema.js';
import { RegistryError, type NewCaCertificate, type NewCertificate, type Registry } from '../../ts/registry/types.js';
import { registryContract } from './contract.js';
import { startPgServer, type PgServer } from './pgServer.js';

let server: PgServer;
beforeAll(async () => {
  server = await startPgServer();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

registryContract('postgres', async () => {
  const name = await server.createDatabase();
  const plantDomain = async (accountId: string, domainName: string): Promise<void> => {
    await sql(name, 'INSERT INTO domains (domain_name, account_id) VALUES ($1, $2)', [domainName, accountId]);
  };
  return { registry: openPostgresRegistry({ connectionString: server.url(name) }), dispose: () => server.dropDatabase(name), plantDomain };
});

const A = '111111111111';
const B = '222222222222';
const hex = (n: number): string => n.toString(16).padStart(64, '0');

const caOf = (accountId: string, n: number, extra: Partial<NewCaCertificate> = {}): NewCaCertificate => ({
  accountId,
  certificateId: hex(n),
  certificatePem: `CA PEM ${n}\n`,
  notBefore: 1_700_000_000,
  notAfter: 2_524_607_999,
  status: 'ACTIVE',
  certificateMode: 'DEFAULT',
  autoRegistrationStatus: 'DISABLE',
  subject: `CN=CA ${n}`,
  registrationConfig: null,
  tags: [],
  ...extra,
});

const certOf = (accountId: string, n: number, extra: Partial<NewCertificate> = {}): NewCertificate => ({
  accountId,
  certificateId: hex(n),
  certificatePem: `PEM ${n}\n`,
  notBefore: 1_700_000_000,
  notAfter: 2_524_607_999,
  status: 'ACTIVE',
  certificateMode: 'SNI_ONLY',
  caCertificateId: null,
  ...extra,
});

/** Run `database`-level SQL as the test superuser. */
async function sql<T extends pg.QueryResultRow>(database: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: server.url(database) });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** Outcome counts of racing calls; every refusal must be a RegistryError with `code`. */
function tally(results: PromiseSettledResult<unknown>[], code: string): { won: number; refused: number } {
  let won = 0;
  let refused = 0;
  for (const result of results) {
    if (result.status === 'fulfilled') won += 1;
    else if (result.reason instanceof RegistryError && result.reason.code === code) refused += 1;
    else throw result.reason;
  }
  return { won, refused };
}

describe('postgres registry database', () => {
  it('opens PostgreSQL for postgres:// and postgresql:// URLs and SQLite for anything else', async () => {
    expect(['postgres://h/db', 'postgresql://u@h/db', 'POSTGRES://h/db'].map(isPostgresUrl)).toEqual([true, true, true]);
    expect(['data/certgate.db', '/var/lib/postgres/x.db', 'postgres.db', 'file:postgres://x'].map(isPostgresUrl)).toEqual([
      false,
      false,
      false,
      false,
    ]);
    const name = await server.createDatabase();
    const pgRegistry = openRegistry({ path: server.url(name).replace(/^postgres:/, 'postgresql:') });
    expect(pgRegistry).toBeInstanceOf(PostgresRegistry);
    expect(await pgRegistry.listAccounts()).toEqual([]);
    await pgRegistry.close();
    await server.dropDatabase(name);
    const dir = mkdtempSync(path.join(tmpdir(), 'certgate-open-'));
    const sqliteRegistry = openRegistry({ path: path.join(dir, 'registry.db') });
    expect(sqliteRegistry).toBeInstanceOf(SqliteRegistry);
    await sqliteRegistry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies each migration exactly once when several sidecars open a fresh database together', async () => {
    const name = await server.createDatabase();
    const openers = Array.from({ length: 4 }, () => openPostgresRegistry({ connectionString: server.url(name), poolSize: 2 }));
    const settings = await Promise.all(openers.map((r) => r.settings()));
    expect(settings).toEqual(Array.from({ length: 4 }, () => ({ region: 'us-east-1', endpointDomain: 'localhost' })));
    await Promise.all(openers.map((r) => r.close()));
    expect(await sql(name, 'SELECT version FROM certgate_schema')).toEqual([{ version: MIGRATIONS.length }]);
    await server.dropDatabase(name);
  });

  it('refuses to use a database whose schema is newer than this certgate', async () => {
    const name = await server.createDatabase();
    await openPostgresRegistry({ connectionString: server.url(name) }).close();
    await sql(name, 'UPDATE certgate_schema SET version = $1', [MIGRATIONS.length + 1]);
    const registry = openPostgresRegistry({ connectionString: server.url(name) });
    await expect(registry.settings()).rejects.toThrow(/newer than this certgate.*upgrade certgate/);
    await expect(registry.listAccounts()).rejects.toThrow(/newer than this certgate/);
    await registry.close();
    await server.dropDatabase(name);
  });

  it('keeps the settings chosen when the database was set up', async () => {
    const name = await server.createDatabase();
    await openPostgresRegistry({ connectionString: server.url(name), region: 'eu-west-1', endpointDomain: 'example.net' }).close();
    const second = openPostgresRegistry({ connectionString: server.url(name), region: 'us-east-2' });
    expect(await second.settings()).toEqual({ region: 'eu-west-1', endpointDomain: 'example.net' });
    await second.close();
    await server.dropDatabase(name);
  });

  it('stores fractional epoch-second timestamps and orders every text column bytewise', async () => {
    const name = await server.createDatabase();
    const registry = openPostgresRegistry({ connectionString: server.url(name) });
    const before = Date.now() / 1000;
    await registry.createAccount({ accountId: A, endpointPrefix: 'aaaaaaaaaaaaaa' });
    const record = await registry.insertCertificate(certOf(A, 1));
    const after = Date.now() / 1000;
    expect(record.creationDate).toBeGreaterThanOrEqual(before);
    expect(record.creationDate).toBeLessThanOrEqual(after);
    expect(record.lastModifiedDate).toBe(record.creationDate);
    await registry.close();
    const [stored] = await sql<{ creation_date: number }>(name, 'SELECT creation_date FROM certificates');
    expect(stored?.creation_date).toBe(record.creationDate);
    const notC = await sql(
      name,
      `SELECT table_name, column_name FROM information_schema.columns
       WHERE table_schema = 'public' AND data_type = 'text' AND collation_name IS DISTINCT FROM 'C'`,
    );
    expect(notC).toEqual([]);
    await server.dropDatabase(name);
  });

  it('never shows the password of the connection string in an error', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as { port: number };
        probe.close(() => resolve(p));
      });
    });
    const url = `postgres://certgate:hunter2-secret@127.0.0.1:${port}/registry`;
    const registry = openPostgresRegistry({ connectionString: url });
    const error = await registry.settings().then(
      () => new Error('expected a connection failure'),
      (e: unknown) => e as Error,
    );
    expect(error.message).toContain(`postgres://certgate:***@127.0.0.1:${port}/registry`);
    expect(error.message).not.toContain('hunter2');
    await registry.close();
    expect(redactConnectionString('postgresql://u@h/db?password=pw&sslmode=require')).toBe(
      'postgresql://u@h/db?password=***&sslmode=require',
    );
  });
});

describe('postgres registry shared by two sidecars (two pools)', () => {
  let name: string;
  let one: PostgresRegistry;
  let two: PostgresRegistry;

  beforeAll(async () => {
    name = await server.createDatabase();
    one = openPostgresRegistry({ connectionString: server.url(name) });
    two = openPostgresRegistry({ connectionString: server.url(name) });
    await one.createAccount({ accountId: A, endpointPrefix: 'aaaaaaaaaaaaaa' });
    await one.createAccount({ accountId: B, endpointPrefix: 'bbbbbbbbbbbbbb' });
    await two.settings();
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
    await server.dropDatabase(name);
  });

  it('makes a write of one sidecar visible to the other before the write resolves', async () => {
    await one.insertCertificate(certOf(A, 50));
    expect((await two.getCertificate(A, hex(50)))?.status).toBe('ACTIVE');
    await one.setCertificateStatus(A, hex(50), 'REVOKED', ['ACTIVE']);
    expect((await two.getCertificate(A, hex(50)))?.status).toBe('REVOKED');
  });

  it('gives a contested DEFAULT CA to exactly one account', async () => {
    for (let n = 100; n < 110; n++) {
      const results = await Promise.allSettled([one.insertCaCertificate(caOf(A, n)), two.insertCaCertificate(caOf(B, n))]);
      expect(tally(results, 'DEFAULT_CA_OWNED_ELSEWHERE')).toEqual({ won: 1, refused: 1 });
      expect(
        await sql(name, "SELECT account_id FROM ca_certificates WHERE certificate_id = $1 AND certificate_mode = 'DEFAULT'", [hex(n)]),
      ).toHaveLength(1);
    }
  });

  it('registers a certificate raced by both sidecars exactly once', async () => {
    for (let n = 200; n < 210; n++) {
      const same = await Promise.allSettled([one.insertCertificate(certOf(A, n)), two.insertCertificate(certOf(A, n))]);
      expect(tally(same, 'ALREADY_EXISTS')).toEqual({ won: 1, refused: 1 });
      const modes = { certificateMode: 'DEFAULT' } as const;
      const across = await Promise.allSettled([
        one.insertCertificate(certOf(A, n + 100, modes)),
        two.insertCertificate(certOf(B, n + 100, modes)),
      ]);
      expect(tally(across, 'ALREADY_EXISTS')).toEqual({ won: 1, refused: 1 });
      expect(await one.findCertificateRegistrations(hex(n + 100))).toHaveLength(1);
    }
  });

  it('admits exactly ten same-subject CAs when both sidecars register at once', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 14 }, (_, i) => (i % 2 === 0 ? one : two).insertCaCertificate(caOf(A, 400 + i, { subject: 'CN=Raced' }))),
    );
    expect(tally(results, 'SUBJECT_LIMIT')).toEqual({ won: 10, refused: 4 });
    expect(await two.findCaCertificatesBySubject(A, 'CN=Raced')).toHaveLength(10);
  });

  it('lets exactly one of two conflicting status changes through', async () => {
    await one.insertCertificate(certOf(A, 500));
    const results = await Promise.allSettled([
      one.setCertificateStatus(A, hex(500), 'REVOKED', ['ACTIVE']),
      two.setCertificateStatus(A, hex(500), 'INACTIVE', ['ACTIVE']),
    ]);
    expect(tally(results, 'STATE')).toEqual({ won: 1, refused: 1 });
    const winner = results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ status: string }>;
    expect(await one.getCertificate(A, hex(500))).toMatchObject({ status: winner.value.status, customerVersion: 2 });
  });

  it('creates a JITR registration once however many sidecars see the first connection', async () => {
    await one.insertCaCertificate(caOf(A, 600));
    const facts = { certificateId: hex(601), certificatePem: 'PEM\n', notBefore: 1, notAfter: 2 };
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? one : two).registerPendingActivation(A, facts, hex(600), 'DEFAULT')),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.record.generationId)).size).toBe(1);
  });

  it('numbers events in commit order, so a reader following the cursor misses none', async () => {
    const seen: number[] = [];
    let cursor = 0;
    const follow = async () => {
      for (const event of await one.listEvents(A, cursor, 1000)) {
        seen.push(event.sequence);
        cursor = event.sequence;
      }
    };
    const writing = new AbortController();
    const reader = (async () => {
      while (!writing.signal.aborted) await follow();
    })();
    const appended = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? one : two).appendEvent(A, 'race', { i })));
    writing.abort();
    await reader;
    await follow();
    const sequences = new Set(appended.map((e) => e.sequence));
    expect(sequences.size).toBe(40);
    // Every event, each once, in increasing order: the cursor skipped nothing.
    expect(seen).toHaveLength(40);
    expect(new Set(seen)).toEqual(sequences);
    expect(seen.every((s, i) => i === 0 || s > (seen[i - 1] ?? Infinity))).toBe(true);
  });
});

describe('certgate on a postgres:// registry', () => {
  const run = promisify(execFile);
  const bin = path.join(projectRoot, 'bin', 'certgate.js');
  let cwd: string;
  let url: string;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    // The binaries run from dist/; without the PostgreSQL backend there they would treat
    // the URL as a SQLite path and this test would prove nothing.
    if (!existsSync(path.join(projectRoot, 'dist', 'registry', 'postgres', 'registry.js'))) {
      throw new Error('dist/ has no PostgreSQL registry; run `npm run build:ts` (or `bash scripts/setup.sh --for test`)');
    }
    cwd = mkdtempSync(path.join(tmpdir(), 'certgate-pg-serve-'));
    url = server.url(await server.createDatabase());
  });
  afterAll(async () => {
    if (child?.exitCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(cwd, { recursive: true, force: true });
  });

  it('creates and lists accounts with the operator CLI --db', async () => {
    const created = await run(process.execPath, [bin, 'account', 'create', '--db', url, '--account-id', A], { cwd });
    expect(JSON.parse(created.stdout)).toMatchObject({ accountId: A });
    const listed = await run(process.execPath, [bin, 'account', 'list', '--db', url, '--json'], { cwd });
    expect((JSON.parse(listed.stdout) as { accounts: { accountId: string }[] }).accounts.map((a) => a.accountId)).toEqual([A]);
    const registry: Registry = openRegistry({ path: url });
    expect((await registry.getAccount(A))?.accountId).toBe(A);
    await registry.close();
  });

  it('serves with --db postgres://... and reports ready', async () => {
    const args = [bin, 'serve', '--db', url, '--admin-port', '0', '--authz-port', '0', '--grpc-port', '0', '--processes', '1'];
    const started = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    const authz = await new Promise<string>((resolve, reject) => {
      let out = '';
      const take = (chunk: Buffer) => {
        out += chunk.toString();
        for (const line of out.split('\n')) {
          if (!line.startsWith('{')) continue;
          const parsed = JSON.parse(line) as { msg?: string; authz?: string };
          if (parsed.msg === 'listening' && parsed.authz) resolve(parsed.authz);
        }
      };
      started.stdout.on('data', take);
      started.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      started.once('exit', (code) => reject(new Error(`certgate serve exited with ${code}: ${out}`)));
    });
    const ready = await fetch(`${authz}/readyz`);
    expect(ready.status).toBe(200);
    // The server's pool holds the connection /readyz used: serve really is on PostgreSQL.
    const database = new URL(url).pathname.slice(1);
    const others = await sql(database, 'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]);
    expect(others.length).toBeGreaterThan(0);
  }, 30_000);
});
