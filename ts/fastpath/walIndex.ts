/**
 * Watching a WAL-mode database's wal-index header (the `-shm` file) to tell, without a
 * system call, that nothing has committed since a mark. Used by {@link CommittedReads};
 * when the native addon is not built, or the database is not in WAL mode, there is no
 * watch and every read asks SQLite.
 *
 * Every commit, by any connection in any process, rewrites the header — its change
 * counter, frame count and checksums — before the commit returns
 * (sqlite.org/walformat.html, "The WAL-Index Header"). The header is stored twice; a
 * writer updates the second copy, then the first. The addon
 * (crates/certgate-napi/src/wal_index.rs) maps both copies read-only into an
 * ArrayBuffer; this module reads them with `Atomics.load` (in order, never torn into a
 * false match): a mark is taken only from two equal copies, and "unchanged" means both
 * copies still equal the mark. Anything else — a write under way, an uninitialised
 * index — reads as changed.
 */
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import { nativeAddonPath } from '../paths.js';

/** 32-bit words in one copy of the header (48 bytes). */
const WORDS = 12;
/** Byte offset of `isInit` in the header. */
const IS_INIT = 12;

export class WalIndexWatch {
  readonly #words: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #mark = new Int32Array(WORDS);
  #marked = false;
  #closed = false;

  constructor(header: ArrayBuffer) {
    this.#words = new Int32Array(header, 0, 2 * WORDS);
    this.#bytes = new Uint8Array(header, 0, 2 * WORDS * 4);
  }

  /** Remember the current header; false (nothing remembered) when it cannot be read whole now. */
  mark(): boolean {
    this.#marked = false;
    if (this.#closed) return false;
    for (let i = 0; i < WORDS; i++) this.#mark[i] = Atomics.load(this.#words, i);
    for (let i = 0; i < WORDS; i++) if (Atomics.load(this.#words, WORDS + i) !== this.#mark[i]) return false;
    this.#marked = Atomics.load(this.#bytes, IS_INIT) === 1;
    return this.#marked;
  }

  /** True only when a mark exists and both copies of the header still equal it. */
  unchanged(): boolean {
    if (!this.#marked || this.#closed) return false;
    for (let i = 0; i < WORDS; i++) if (Atomics.load(this.#words, i) !== this.#mark[i]) return false;
    for (let i = 0; i < WORDS; i++) if (Atomics.load(this.#words, WORDS + i) !== this.#mark[i]) return false;
    return true;
  }

  /**
   * Stop reading the mapping (before the connection closes: only the open connection
   * guarantees the file is not truncated under it, which would fault).
   */
  close(): void {
    this.#closed = true;
    this.#marked = false;
  }
}

interface Addon {
  mapWalIndexHeader?: (path: string) => ArrayBuffer;
}

let addon: Addon | null | undefined;

function loadAddon(): Addon | null {
  if (addon === undefined) addon = existsSync(nativeAddonPath) ? (createRequire(import.meta.url)(nativeAddonPath) as Addon) : null;
  return addon;
}

/**
 * A watch over `db`'s wal-index, or undefined. Open it only after the connection has
 * read the database: in WAL mode the connection then holds a shared lock on the
 * database file and one on the `-shm` file for as long as it stays open, which (a)
 * keeps the `-shm` file from being truncated or deleted and (b) stops any other
 * connection from leaving WAL mode or writing in exclusive locking mode, the only ways
 * to commit without updating the header (test/registry/sqliteCommittedReads.test.ts
 * checks (b); test/registry/sqliteWalIndexLocks.test.ts checks that mapping leaves
 * SQLite those locks, which (a) needs). Close the watch before the connection.
 */
export function watchWalIndex(db: Database.Database): WalIndexWatch | undefined {
  if (db.memory) return undefined;
  const mode = db.pragma('journal_mode', { simple: true }) as string;
  const map = loadAddon()?.mapWalIndexHeader;
  if (mode !== 'wal' || map === undefined) return undefined;
  try {
    // SQLite keeps the -shm file next to the database file itself, a symlink resolved.
    return new WalIndexWatch(map(`${realpathSync(db.name)}-shm`));
  } catch {
    // Not watchable here (an unusual VFS or file system): every read asks SQLite, which
    // is as exact, only slower.
    return undefined;
  }
}
