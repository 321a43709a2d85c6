/**
 * The wal-index header watch of the native addon (crates/certgate-napi/src/wal_index.rs):
 * tells without a system call that nothing has committed to a WAL-mode database since a
 * mark. Used by {@link CommittedReads}; when the addon is not built, or the database is
 * not in WAL mode, there is no watch and every read asks SQLite.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import { nativeAddonPath } from '../../paths.js';

export interface WalIndexWatch {
  /** Remember the current header; false when it cannot be read whole right now. */
  mark(): boolean;
  /** True only when a mark exists and nothing has committed since. */
  unchanged(): boolean;
}

interface Addon {
  WalIndex?: { open(path: string): WalIndexWatch };
}

let addon: Addon | null | undefined;

function loadAddon(): Addon | null {
  if (addon === undefined) addon = existsSync(nativeAddonPath) ? (createRequire(import.meta.url)(nativeAddonPath) as Addon) : null;
  return addon;
}

/**
 * A watch over `db`'s wal-index, or undefined. Open it only after the connection has
 * read the database: in WAL mode the connection then holds a shared lock on the
 * database file for as long as it stays open, which (a) keeps the `-shm` file from
 * being truncated or deleted and (b) stops any other connection from leaving WAL mode
 * or writing in exclusive locking mode, the only ways to commit without updating the
 * header (test/registry/sqliteCommittedReads.test.ts checks (b)).
 */
export function watchWalIndex(db: Database.Database): WalIndexWatch | undefined {
  if (db.memory) return undefined;
  const mode = db.pragma('journal_mode', { simple: true }) as string;
  const WalIndex = loadAddon()?.WalIndex;
  if (mode !== 'wal' || WalIndex === undefined) return undefined;
  return WalIndex.open(`${db.name}-shm`);
}
