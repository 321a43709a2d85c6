//! Not part of the engine: a helper for the SQLite registry that only a native addon can
//! offer. It maps the header of a WAL-mode database's wal-index (the `-shm` file) so the
//! registry can tell, without a system call, that no transaction has committed since it
//! last looked.
//!
//! Every commit, by any connection in any process, rewrites the wal-index header (its
//! change counter, frame count and checksums) before the commit returns
//! (https://www.sqlite.org/walformat.html, "The WAL-Index Header"). The header is stored
//! twice; a writer updates the second copy, then the first, so a reader that sees both
//! copies equal has seen one whole header. Two equal headers at two moments therefore
//! mean no commit in between. Anything else (a write under way, an uninitialised index)
//! reads as "changed", and the registry falls back to asking SQLite.
//!
//! Why reading the mapping never faults, and never disturbs SQLite:
//! - SQLite (unix VFS) truncates the `-shm` file only when a connection opens it and no
//!   process holds a lock on its dead-man-switch byte, i.e. when it believes it is the
//!   only user (`unixLockSharedMemory` in sqlite3.c). Every connection that has the file
//!   open holds a shared lock on that byte until it closes. Those are POSIX record locks,
//!   and closing *any* descriptor of a file drops *every* such lock the process holds on
//!   it (https://pubs.opengroup.org/onlinepubs/9799919799/functions/close.html,
//!   https://www.sqlite.org/howtocorrupt.html section 2.2). This module used to open the
//!   `-shm`, map it and close the descriptor: that silently released SQLite's locks, so
//!   the next process to open the database truncated and rebuilt the file under live
//!   mappings — SIGBUS in this process on the next wal-index access past the new end of
//!   file, and lost WAL read locks (test/registry/sqliteWalIndexLocks.test.ts).
//! - So a `-shm` file opened here is never closed while SQLite could hold locks on it:
//!   the descriptors stay in [`OPENED`], one per file, reused by every later mapping of the
//!   same file. One is closed only once the file has no name left (SQLite deletes the
//!   `-shm` when the last connection of any process closes, and it does so only after
//!   this process's own connections to it are gone, so no lock of ours remains on it).
//! - The caller maps only while its own WAL connection is open and stops reading before
//!   closing it (walIndex.ts). While it is open, this process holds the dead-man-switch
//!   lock, so no SQLite truncates the file: the mapped bytes, which existed when mapped
//!   (checked), stay within the file. (Should an operator truncate it anyway, this SQLite
//!   truncates to 3 bytes, leaving the mapped first page in the file: reads see zeros,
//!   which read as "changed"; the fallback, `PRAGMA data_version` and `total_changes()`,
//!   is exact on its own.)

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::sync::{Mutex, PoisonError};

use memmap2::{Mmap, MmapOptions};
use napi::bindgen_prelude::{ArrayBuffer, Env};
use napi::{Error, Result, Status};
use napi_derive::napi;

/// Bytes mapped: both copies of the header (`WalIndexHdr`, 48 bytes each).
const MAPPED: usize = 96;

/// Every `-shm` file this process opened, kept open (see the module header): closing one
/// would release SQLite's locks on it. Bounded by the `-shm` files in use at once.
static OPENED: Mutex<Vec<File>> = Mutex::new(Vec::new());

fn failure(path: &str, what: impl std::fmt::Display) -> Error {
    Error::new(Status::GenericFailure, format!("{path}: {what}"))
}

/// The mapped first MAPPED bytes of the `-shm` file at `path`, through a descriptor that
/// stays in [`OPENED`].
fn map_header(path: &str) -> Result<Mmap> {
    let wanted = std::fs::metadata(path).map_err(|e| failure(path, e))?;
    let mut opened = OPENED.lock().unwrap_or_else(PoisonError::into_inner);
    // Close only files that no longer have a name: SQLite deleted them after every
    // connection to them, this process's included, had closed.
    opened.retain(|file| file.metadata().is_ok_and(|m| m.nlink() > 0));
    let same = |file: &File| {
        file.metadata()
            .is_ok_and(|m| m.dev() == wanted.dev() && m.ino() == wanted.ino())
    };
    let index = match opened.iter().position(same) {
        Some(index) => index,
        None => {
            // Kept even if it turns out to be another file (replaced since the stat):
            // closing it could release SQLite's locks on that one.
            opened.push(File::open(path).map_err(|e| failure(path, e))?);
            opened.len() - 1
        }
    };
    let Some(file) = opened.get(index) else {
        return Err(failure(path, "lost the opened wal-index file"));
    };
    let len = file.metadata().map_err(|e| failure(path, e))?.len();
    if usize::try_from(len).is_ok_and(|len| len < MAPPED) {
        return Err(failure(
            path,
            format!("{len} bytes, too short for a wal-index header"),
        ));
    }
    // SAFETY: a read-only shared mapping of the first MAPPED bytes, which exist (checked
    // just above) and stay in the file while the caller's connection is open: the
    // descriptor is never closed under SQLite (see the module header), so SQLite keeps
    // its dead-man-switch lock and no SQLite truncates the file. Other processes change
    // the bytes while mapped; Rust code never reads them, JavaScript reads them with
    // Atomics.load and only while that connection is open.
    unsafe { MmapOptions::new().len(MAPPED).map(file) }.map_err(|e| failure(path, e))
}

/// An `ArrayBuffer` over the live header bytes of the wal-index file at `path` (the
/// database path plus `-shm`), mapped read-only: JavaScript reads the current header
/// without a call into native code (`ts/registry/sqlite/walIndex.ts` compares it with a
/// mark). Writing to the buffer faults; only that module holds it. The caller's own
/// connection must have the database open in WAL mode, which keeps the file from being
/// truncated (SQLite truncates it only when no process holds it open, and this module
/// never closes its descriptor under SQLite), and must stop reading the buffer before
/// closing that connection.
#[napi]
pub fn map_wal_index_header<'env>(env: &'env Env, path: String) -> Result<ArrayBuffer<'env>> {
    let map = map_header(&path)?;
    let data = map.as_ptr().cast_mut();
    // SAFETY: `data` points at MAPPED bytes owned by `map`, which the finalizer keeps
    // alive until the ArrayBuffer is collected and then unmaps.
    let buffer =
        unsafe { ArrayBuffer::from_external(env, data, MAPPED, map, |_env, map: Mmap| drop(map)) }?;
    // Some runtimes refuse external buffers and napi-rs then copies: a copy would never
    // change, which would hide every commit. Refuse instead.
    if !std::ptr::eq(buffer.as_ptr(), data.cast_const()) {
        return Err(failure(
            &path,
            "this runtime copies external buffers, so the header cannot be watched",
        ));
    }
    Ok(buffer)
}
