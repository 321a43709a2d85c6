/**
 * Choosing and opening the registry backend. Today only SQLite exists; the database
 * path comes from `--db PATH`, else `CERTGATE_DB`, else `data/certgate.db` under the
 * working directory.
 */
import { openSqliteRegistry, type SqliteRegistryOptions } from './sqlite/registry.js';
import type { Registry } from './types.js';

/** The default database file when neither `--db` nor `CERTGATE_DB` is given. */
export const DEFAULT_DB_PATH = 'data/certgate.db';

/** Resolve the database path from an explicit option and the environment. */
export function resolveDbPath(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  return explicit ?? env['CERTGATE_DB'] ?? DEFAULT_DB_PATH;
}

/** Open the registry at `options.path`. */
export function openRegistry(options: SqliteRegistryOptions): Registry {
  return openSqliteRegistry(options);
}
