//! Byte-level pieces shared by the gallery's file formats: magics, the format
//! version, a bounds-checked reader that names the file in its errors, the
//! reference-id hash, and durable-write helpers.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{EngineError, GalleryFileKind, Result};

/// Format version written into every gallery file (manifest, segment, log).
/// Version 2 added the screening column (segments) and screening codes of
/// inserted rows (log).
pub const GALLERY_FORMAT_VERSION: u32 = 2;
/// Oldest format version still read. A version-1 gallery opens; opening it
/// for writing seals its log first, so new writes go to version-2 files.
pub(crate) const OLDEST_READ_VERSION: u32 = 1;

// The screening column's width is part of format 2: an encoder of another
// size needs a new format version, not files that read as corrupt.
const _: () = assert!(crate::store::SCREEN_CODE_BYTES == 108);

pub(crate) const MANIFEST_MAGIC: [u8; 8] = *b"HVYMANI\0";
pub(crate) const SEGMENT_MAGIC: [u8; 8] = *b"HVYSEGM\0";
pub(crate) const WAL_MAGIC: [u8; 8] = *b"HVYWLOG\0";

/// Name of the manifest inside a gallery directory.
pub const MANIFEST_FILE: &str = "manifest.hvm";
/// Name of the lock file taken by a writing process.
pub(crate) const LOCK_FILE: &str = "LOCK";

pub(crate) fn segment_file(id: u64) -> String {
    format!("seg-{id:010}.hvs")
}

pub(crate) fn wal_file(id: u64) -> String {
    format!("wal-{id:010}.hvl")
}

/// The file id encoded in a segment or log file name, if it is one.
pub(crate) fn parse_file_id(name: &str) -> Option<u64> {
    let stem = name
        .strip_prefix("seg-")
        .and_then(|s| s.strip_suffix(".hvs"))
        .or_else(|| {
            name.strip_prefix("wal-")
                .and_then(|s| s.strip_suffix(".hvl"))
        })?;
    stem.parse().ok()
}

/// 64-bit FNV-1a of a reference id: the key of the segment id index. Stable
/// across versions because it is part of the segment format.
pub(crate) fn id_hash(id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in id.as_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> EngineError + '_ {
    move |source| EngineError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Checks the 8-byte magic and the version that follow it at the start of a
/// file; returns the version (one this release reads).
pub(crate) fn check_magic_version(
    bytes: &[u8],
    magic: &[u8; 8],
    path: &Path,
    kind: GalleryFileKind,
) -> Result<u32> {
    let mut c = Cursor::new(bytes, path, kind);
    let found = c.take(8, "magic")?;
    if found != magic {
        return Err(EngineError::BadMagic {
            path: path.to_path_buf(),
            kind,
            found: found.to_vec(),
        });
    }
    let version = c.u32("format version")?;
    if !(OLDEST_READ_VERSION..=GALLERY_FORMAT_VERSION).contains(&version) {
        return Err(EngineError::UnsupportedFormatVersion {
            path: path.to_path_buf(),
            kind,
            found: version,
            supported: GALLERY_FORMAT_VERSION,
        });
    }
    Ok(version)
}

/// Writes `bytes` to `dir/name` durably and atomically: a temporary file is
/// written and fsynced, renamed over the target, and the directory fsynced.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    let target = dir.join(name);
    let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(bytes).map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    drop(f);
    std::fs::rename(&tmp, &target).map_err(io_err(&target))?;
    sync_dir(dir)
}

/// Makes renames and creations inside `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// A cursor over a file's bytes that checks every read against the bytes
/// present and names the file in its errors.
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pub(crate) at: usize,
    path: &'a Path,
    kind: GalleryFileKind,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8], path: &'a Path, kind: GalleryFileKind) -> Self {
        Self {
            bytes,
            at: 0,
            path,
            kind,
        }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    pub(crate) fn truncated(&self, what: &'static str, needed: usize) -> EngineError {
        EngineError::TruncatedFile {
            path: self.path.to_path_buf(),
            kind: self.kind,
            what,
            offset: self.at as u64,
            needed: needed as u64,
            available: self.bytes.len() as u64,
        }
    }

    pub(crate) fn corrupt(&self, what: &'static str, offset: usize) -> EngineError {
        corrupt(self.path, self.kind, what, offset as u64)
    }

    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.truncated(what, n));
        }
        let s = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N]> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }

    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    pub(crate) fn u64(&mut self, what: &'static str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    pub(crate) fn f32(&mut self, what: &'static str) -> Result<f32> {
        Ok(f32::from_le_bytes(self.array(what)?))
    }

    /// A `u64` length that must fit in the bytes left (times `unit` bytes
    /// per element), so that callers can allocate it safely.
    pub(crate) fn count(&mut self, unit: usize, what: &'static str) -> Result<usize> {
        let n = self.u64(what)?;
        let n = usize::try_from(n).map_err(|_| self.corrupt(what, self.at - 8))?;
        let needed = n.saturating_mul(unit.max(1));
        if needed > self.remaining() {
            return Err(self.truncated(what, needed));
        }
        Ok(n)
    }

    pub(crate) fn string_u8(&mut self, what: &'static str) -> Result<String> {
        let len = usize::from(self.u8(what)?);
        let at = self.at;
        let raw = self.take(len, what)?;
        String::from_utf8(raw.to_vec()).map_err(|_| self.corrupt(what, at))
    }
}

pub(crate) fn corrupt(
    path: &Path,
    kind: GalleryFileKind,
    what: &'static str,
    offset: u64,
) -> EngineError {
    EngineError::CorruptFile {
        path: PathBuf::from(path),
        kind,
        what,
        offset,
    }
}

pub(crate) fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub(crate) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub(crate) fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Writes a string of at most 255 bytes (reference ids are at most 128).
pub(crate) fn put_str_u8(out: &mut Vec<u8>, s: &str) {
    let len = s.len().min(255);
    out.push(len as u8);
    out.extend_from_slice(&s.as_bytes()[..len]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_ids_round_trip_through_names() {
        assert_eq!(parse_file_id(&segment_file(42)), Some(42));
        assert_eq!(parse_file_id(&wal_file(7)), Some(7));
        assert_eq!(parse_file_id("manifest.hvm"), None);
        assert_eq!(parse_file_id("seg-12.hvs.tmp"), None);
    }

    #[test]
    fn cursor_refuses_lengths_beyond_the_file() {
        let path = Path::new("x");
        let bytes = [255u8, 255, 255, 255, 0, 0, 0, 0, 1];
        let mut c = Cursor::new(&bytes, path, GalleryFileKind::Manifest);
        assert!(matches!(
            c.count(1, "n"),
            Err(EngineError::TruncatedFile { .. })
        ));
    }

    #[test]
    fn id_hash_is_the_fnv1a_reference_value() {
        // FNV-1a 64 of "a" from the reference tables.
        assert_eq!(id_hash("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
