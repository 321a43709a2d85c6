/**
 * A real, throwaway PostgreSQL server for tests: `initdb` into a temp dir, `pg_ctl start`
 * on 127.0.0.1 and a free port, trust authentication for the `certgate` superuser,
 * `fsync=on` (the durability the registry relies on). One server per test file; each
 * test gets its own database from `createDatabase`.
 *
 * initdb and postgres refuse to run as root, so as root the binaries run as the
 * `postgres` system user (`runuser`) in a directory chowned to it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

/** The superuser `initdb -U` creates (trust authentication: no password). */
export const PG_USER = 'certgate';

const PG_ROOT = '/usr/lib/postgresql';

/** The newest installed `/usr/lib/postgresql/<version>/bin`, or an error saying how to install it. */
export function findPgBinDir(): string {
  const versions = existsSync(PG_ROOT)
    ? readdirSync(PG_ROOT).filter(
        (v) => existsSync(path.join(PG_ROOT, v, 'bin', 'initdb')) && existsSync(path.join(PG_ROOT, v, 'bin', 'pg_ctl')),
      )
    : [];
  const newest = versions.reduce<string | undefined>((best, v) => (best === undefined || Number(v) > Number(best) ? v : best), undefined);
  if (newest === undefined) {
    throw new Error(
      `PostgreSQL server binaries (initdb, pg_ctl) not found under ${PG_ROOT}/*/bin; run \`bash scripts/setup.sh --for test\` to install them`,
    );
  }
  return path.join(PG_ROOT, newest, 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface PgServer {
  port: number;
  /** Connection URL of `database` on this server. */
  url(database: string): string;
  /** Create an empty database with a fresh unique name; returns the name. */
  createDatabase(): Promise<string>;
  /** Drop a database (closing any connections left to it). */
  dropDatabase(name: string): Promise<void>;
  /**
   * Stop the server as a crash would (`pg_ctl stop -m immediate`: every backend is killed,
   * connections drop, recovery runs at the next start). The data directory stays.
   */
  crash(): void;
  /** Start the server again after `crash`, on the same port and data; resolves once it accepts connections. */
  restart(): void;
  /** Stop the server (fast shutdown) and remove its directory. */
  stop(): Promise<void>;
}

export interface PgServerOptions {
  /**
   * Keep the server's files in this directory instead of a temp one: a cluster already
   * there is started again (its databases kept), and `stop` leaves it in place. Benches
   * use it to build a large registry once (bench/fleetSize.ts).
   */
  dir?: string;
}

/** Start a server; throws (never skips) when PostgreSQL is not installed. */
export async function startPgServer(opts: PgServerOptions = {}): Promise<PgServer> {
  const bin = findPgBinDir();
  const keep = opts.dir !== undefined;
  if (opts.dir !== undefined) mkdirSync(opts.dir, { recursive: true });
  const dir = opts.dir ?? mkdtempSync(path.join(tmpdir(), 'certgate-pg-'));
  const asRoot = process.getuid?.() === 0;
  // Run a PostgreSQL binary as the postgres user when we are root.
  const run = (tool: string, args: string[]): void => {
    const file = path.join(bin, tool);
    const [command, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
    execFileSync(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  };
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(dir, uid, gid);
  }
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'server.log');
  if (!existsSync(path.join(data, 'PG_VERSION'))) run('initdb', ['-D', data, '-A', 'trust', '-U', PG_USER, '--no-instructions']);
  const port = await freePort();
  const options = `-k ${dir} -p ${port} -c listen_addresses=127.0.0.1 -c fsync=on`;
  try {
    run('pg_ctl', ['-D', data, '-l', log, '-o', options, '-w', 'start']);
  } catch (error) {
    const serverLog = existsSync(log) ? readFileSync(log, 'utf8') : '(no log)';
    if (!keep) rmSync(dir, { recursive: true, force: true });
    throw new Error(`pg_ctl start failed: ${(error as Error).message}\n${serverLog}`, { cause: error });
  }
  const pgCtl = (args: string[]): void => {
    const file = path.join(bin, 'pg_ctl');
    const result = spawnSync(asRoot ? 'runuser' : file, asRoot ? ['-u', 'postgres', '--', file, ...args] : args, { stdio: 'pipe' });
    if (result.status !== 0) {
      const serverLog = existsSync(log) ? readFileSync(log, 'utf8').slice(-4000) : '(no log)';
      throw new Error(`pg_ctl ${args.join(' ')} failed: ${String(result.stderr)}\n${serverLog}`);
    }
  };
  let stopped = false;
  const stopSync = (): void => {
    if (stopped) return;
    stopped = true;
    const file = path.join(bin, 'pg_ctl');
    const args = ['-D', data, '-m', 'fast', '-w', 'stop'];
    spawnSync(asRoot ? 'runuser' : file, asRoot ? ['-u', 'postgres', '--', file, ...args] : args, { stdio: 'ignore' });
    if (!keep) rmSync(dir, { recursive: true, force: true });
  };
  // Safety net: a crashed test run must not leave a server behind.
  process.once('exit', stopSync);

  const url = (database: string) => `postgres://${PG_USER}@127.0.0.1:${port}/${database}`;
  const admin = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: url('postgres') });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  let counter = 0;
  return {
    port,
    url,
    async createDatabase() {
      counter += 1;
      const name = `registry_${counter}`;
      await admin(`CREATE DATABASE ${name}`);
      return name;
    },
    async dropDatabase(name) {
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
    crash() {
      pgCtl(['-D', data, '-m', 'immediate', '-w', 'stop']);
    },
    restart() {
      pgCtl(['-D', data, '-l', log, '-o', options, '-w', 'start']);
    },
    async stop() {
      process.off('exit', stopSync);
      stopSync();
    },
  };
}
