/**
 * Choosing and opening the registry backend. The location comes from `--db`, else
 * `CERTGATE_DB`, else `data/certgate.db` under the working directory: a
 * `postgres://` or `postgresql://` URL opens the PostgreSQL backend (several sidecars
 * sharing one registry); anything else is a SQLite file path.
 */
import { openPostgresRegistry } from './postgres/registry.js';
import { openSqliteRegistry, type SqliteRegistryOptions } from './sqlite/registry.js';
import type { Registry } from './types.js';

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
export function openRegistry(options: SqliteRegistryOptions): Registry {
  if (isPostgresUrl(options.path)) {
    return openPostgresRegistry({
      connectionString: options.path,
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(options.endpointDomain === undefined ? {} : { endpointDomain: options.endpointDomain }),
    });
  }
  return openSqliteRegistry(options);
}
