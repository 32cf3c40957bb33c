//! The one module of the store that maps files into memory (the only
//! `unsafe` of the store).
//!
//! # Who guarantees a mapped file is not mutated
//! Only segment files are mapped. The gallery writes a segment exactly once,
//! under a temporary name, fsyncs it and renames it into place; from then on
//! no code of Hoviyat opens it for writing. Compaction and sealing replace
//! segments by writing *new* files and later unlinking the old ones; on Unix
//! an unlinked file stays intact for as long as a mapping of it exists, so
//! snapshots that still read an old segment keep valid bytes. A writing
//! gallery holds an exclusive lock on the directory's `LOCK` file, so a second
//! Hoviyat process cannot compact the same directory underneath a reader.
//! Processes outside Hoviyat that edit a gallery directory break this
//! contract; that is an operator error the store cannot prevent.

use std::fs::File;
use std::path::Path;

use crate::store::format::io_err;
use crate::{EngineError, GalleryFileKind, Result};

/// A read-only memory map of a whole file.
#[derive(Debug)]
pub(crate) struct Mapped {
    map: memmap2::Mmap,
}

impl Mapped {
    /// Maps `path` read-only.
    pub(crate) fn open(path: &Path, kind: GalleryFileKind) -> Result<Self> {
        let file = File::open(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                EngineError::MissingFile {
                    path: path.to_path_buf(),
                    kind,
                }
            } else {
                EngineError::Io {
                    path: path.to_path_buf(),
                    source,
                }
            }
        })?;
        // SAFETY: segment files are immutable once renamed into place and
        // are only ever unlinked, never rewritten (see the module doc), so
        // the mapped bytes do not change while this map lives.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io_err(path))?;
        Ok(Self { map })
    }

    /// The mapped bytes; their start is page-aligned.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.map
    }
}
