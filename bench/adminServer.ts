/**
 * One admin server for bench/adminApi.ts: `createAdminServer` of the tree at BENCH_ROOT
 * (this one, or an exported older revision) over the SQLite file BENCH_DB, on a free
 * loopback port printed as `{"port":N}`. The rate limit is off: the bench measures the
 * SigV4 path, not the throttle.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const root = process.env.BENCH_ROOT ?? '';
const db = process.env.BENCH_DB ?? '';
if (root === '' || db === '') throw new Error('BENCH_ROOT and BENCH_DB are required');

type Open = (o: { path: string; region: string }) => unknown;
type Create = (o: { registry: unknown; engine: 'native'; adminRateLimit: number }) => Promise<http.Server>;
const { openSqliteRegistry } = (await import(path.join(root, 'ts/registry/sqlite/registry.ts'))) as { openSqliteRegistry: Open };
const { createAdminServer } = (await import(path.join(root, 'ts/control/server.ts'))) as { createAdminServer: Create };

const server = await createAdminServer({
  registry: openSqliteRegistry({ path: db, region: 'us-east-1' }),
  engine: 'native',
  adminRateLimit: 0,
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: (server.address() as AddressInfo).port })));
