/**
 * Choosing and opening the registry backend. The location comes from `--db`, else
 * `CERTGATE_DB`, else `data/certgate.db` under the working directory: a
 * `postgres://` or `postgresql://` URL opens the PostgreSQL backend (several sidecars
 * sharing one registry); anything else is a SQLite file path.
 */
import { openPostgresRegistry } from './postgres/registry.js';
import type { RegistryOptions } from './rules/registry.js';
import { openSqliteRegistry } from './sqlite/registry.js';
import type { Registry, RegistrySettings } from './types.js';

/** Where the registry is (a SQLite file path or a PostgreSQL URL) and the options every backend takes. */
export interface OpenRegistryOptions extends RegistryOptions {
  path: string;
  /** SQLite only: reuse the decision's reads while nothing was committed (ts/fastpath/; default true). */
  fastPath?: boolean;
  /** SQLite only: check "nothing committed" through the mapped wal-index (needs the native addon; default false). */
  watchWalIndex?: boolean;
  /** SQLite only, with the fast path: hold every standing in memory (`all`) or read the ones not seen (`seen`, default). */
  standings?: 'all' | 'seen';
  /** SQLite only, with `standings: 'all'`: standing objects kept ready for warm decisions. */
  viewCacheSize?: number;
  /** PostgreSQL only: the sidecars' lease assumed when a lowering write cannot read their rows (ts/view/fleetWait.ts). */
  fleetLeaseMs?: number;
}

/** The default database file when neither `--db` nor `CERTGATE_DB` is given. */
export const DEFAULT_DB_PATH = 'data/certgate.db';

/** Resolve the database path from an explicit option and the environment. */
export function resolveDbPath(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  return explicit ?? env['CERTGATE_DB'] ?? DEFAULT_DB_PATH;
}

/** Whether `db` names a PostgreSQL database rather than a SQLite file. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(db);
}

/** Open the registry at `options.path` (a SQLite file path or a PostgreSQL URL). */
export function openRegistry(options: OpenRegistryOptions): Registry {
  const { path, fastPath, watchWalIndex, standings, viewCacheSize, fleetLeaseMs, ...common } = options;
  return isPostgresUrl(path)
    ? openPostgresRegistry({ connectionString: path, ...common, ...(fleetLeaseMs === undefined ? {} : { fleetLeaseMs }) })
    : openSqliteRegistry({
        path,
        ...common,
        ...(fastPath === undefined ? {} : { fastPath }),
        ...(watchWalIndex === undefined ? {} : { watchWalIndex }),
        ...(standings === undefined ? {} : { standings }),
        ...(viewCacheSize === undefined ? {} : { viewCacheSize }),
      });
}

/**
 * Why a registry cannot be used with the region and endpoint domain a command asked for
 * (they are fixed when a registry is created), or undefined when it can.
 */
export function settingsMismatch(
  at: string,
  fixed: RegistrySettings,
  asked: { region?: string | undefined; endpointDomain?: string | undefined },
): string | undefined {
  for (const [flag, want, have] of [
    ['--region', asked.region, fixed.region],
    ['--endpoint-domain', asked.endpointDomain, fixed.endpointDomain],
  ] as const) {
    if (want !== undefined && want !== have)
      return `The registry at ${at} was created with ${flag} ${have}, not ${want}; ${flag} only applies to a new registry.`;
  }
  return undefined;
}
