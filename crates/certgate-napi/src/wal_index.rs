//! Not part of the engine: a helper for the SQLite registry that only a native addon can
//! offer. It maps the header of a WAL-mode database's wal-index (the `-shm` file) so the
//! registry can tell, without a system call, that no transaction has committed since it
//! last looked.
//!
//! Every commit, by any connection in any process, rewrites the wal-index header (its
//! change counter, frame count and checksums) before the commit returns
//! (sqlite.org/walformat.html, "The WAL-Index Header"). The header is stored twice; a
//! writer updates the second copy, then the first, so a reader that sees both copies
//! equal has seen one whole header. Two equal headers at two moments therefore mean no
//! commit in between. Anything else (a write under way, an uninitialised index) reads as
//! "changed", and the registry falls back to asking SQLite.

use std::fs::File;

use memmap2::{Mmap, MmapOptions};
use napi::bindgen_prelude::{ArrayBuffer, Env};
use napi::{Error, Result, Status};
use napi_derive::napi;

/// Bytes mapped: both copies of the header (`WalIndexHdr`, 48 bytes each).
const MAPPED: usize = 96;

fn failure(path: &str, what: impl std::fmt::Display) -> Error {
    Error::new(Status::GenericFailure, format!("{path}: {what}"))
}

/// An `ArrayBuffer` over the live header bytes of the wal-index file at `path` (the
/// database path plus `-shm`), mapped read-only: JavaScript reads the current header
/// without a call into native code (`ts/registry/sqlite/walIndex.ts` compares it with a
/// mark). Writing to the buffer faults; only that module holds it. The caller's own
/// connection must have the database open in WAL mode, which keeps the file from being
/// truncated (SQLite truncates it only when no connection has it open), and must stop
/// reading the buffer before closing that connection.
#[napi]
pub fn map_wal_index_header<'env>(env: &'env Env, path: String) -> Result<ArrayBuffer<'env>> {
    let file = File::open(&path).map_err(|e| failure(&path, e))?;
    let len = file.metadata().map_err(|e| failure(&path, e))?.len();
    if usize::try_from(len).is_ok_and(|len| len < MAPPED) {
        return Err(failure(
            &path,
            format!("{len} bytes, too short for a wal-index header"),
        ));
    }
    // SAFETY: a read-only shared mapping of the first MAPPED bytes, which exist (checked
    // above) and stay (see the function's contract). Other processes change them while
    // mapped; Rust code never reads them, JavaScript reads them with Atomics.load.
    let map: Mmap =
        unsafe { MmapOptions::new().len(MAPPED).map(&file) }.map_err(|e| failure(&path, e))?;
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
