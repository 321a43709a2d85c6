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
use napi::{Error, Result, Status};
use napi_derive::napi;

/// Size of one copy of the header (`WalIndexHdr`).
const HEADER: usize = 48;

/// The mapped header of one database's wal-index and the header last marked.
#[napi]
pub struct WalIndex {
    map: Mmap,
    mark: Option<[u8; HEADER]>,
}

#[napi]
impl WalIndex {
    /// Map the wal-index file at `path` (the database path plus `-shm`). The database
    /// must be open in WAL mode by the caller's own connection, which keeps the file at
    /// its size: SQLite truncates it only when no connection has it open.
    #[napi(factory)]
    pub fn open(path: String) -> Result<Self> {
        let file = File::open(&path)
            .map_err(|e| Error::new(Status::GenericFailure, format!("{path}: {e}")))?;
        let len = file
            .metadata()
            .map_err(|e| Error::new(Status::GenericFailure, format!("{path}: {e}")))?
            .len();
        if len < 2 * 48 {
            return Err(Error::new(
                Status::GenericFailure,
                format!("{path} is {len} bytes, too short for a wal-index header"),
            ));
        }
        // SAFETY: a read-only shared mapping of the header's bytes. Other processes
        // change them while mapped; they are only ever read through volatile reads
        // (`current`), never through references, and the file cannot shrink below them
        // while the caller's connection is open (see above).
        let map = unsafe { MmapOptions::new().len(2 * HEADER).map(&file) }
            .map_err(|e| Error::new(Status::GenericFailure, format!("{path}: {e}")))?;
        Ok(Self { map, mark: None })
    }

    /// Remember the current header. False (and nothing remembered) when it cannot be
    /// read whole right now.
    #[napi]
    pub fn mark(&mut self) -> bool {
        self.mark = self.current();
        self.mark.is_some()
    }

    /// True only when a header was marked and the current header equals it: nothing
    /// has committed since the mark.
    #[napi]
    pub fn unchanged(&self) -> bool {
        match (self.mark, self.current()) {
            (Some(mark), Some(now)) => mark == now,
            _ => false,
        }
    }
}

impl WalIndex {
    /// The header if both copies agree and it is initialised (`isInit`, byte 12).
    fn current(&self) -> Option<[u8; HEADER]> {
        let base = self.map.as_ptr();
        // SAFETY: `base` points at 2 * HEADER mapped bytes (checked in `open`); volatile
        // reads because another process writes them.
        let first: [u8; HEADER] = unsafe { std::ptr::read_volatile(base.cast()) };
        std::sync::atomic::fence(std::sync::atomic::Ordering::Acquire);
        let second: [u8; HEADER] = unsafe { std::ptr::read_volatile(base.add(HEADER).cast()) };
        (first == second && first.get(12) == Some(&1)).then_some(first)
    }
}
