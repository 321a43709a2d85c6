/**
 * A standalone admin server for the crash test: `vite-node admin-child.ts -- <db path>`.
 * Prints `listening <port>` once it accepts requests; runs until killed.
 */
import type { AddressInfo } from 'node:net';
import { createAdminServer } from '../../ts/control/server.js';
import { openSqliteRegistry } from '../../ts/registry/sqlite/registry.js';

const dbPath = process.argv[process.argv.length - 1] ?? '';
const registry = openSqliteRegistry({ path: dbPath });
// No rate limit: the crash test bursts 400 registrations through one key on purpose.
const server = await createAdminServer({ registry, engine: 'native', adminRateLimit: 0 });
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
