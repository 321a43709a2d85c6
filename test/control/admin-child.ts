/**
 * A standalone admin server for the crash test: `vite-node admin-child.ts -- <db path>`.
 * Prints `listening <port>` once it accepts requests; runs until killed.
 */
import type { AddressInfo } from 'node:net';
import { createAdminServer } from '../../ts/control/server.js';
import { openSqliteRegistry } from '../../ts/registry/sqlite/registry.js';

const dbPath = process.argv[process.argv.length - 1] ?? '';
const registry = openSqliteRegistry({ path: dbPath });
const server = await createAdminServer({ registry, engine: 'native' });
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
