//! The manifest: the gallery's configuration, its segments with one flag byte
//! per row, the state overrides of sealed rows, and the current log. It is
//! replaced atomically (write, fsync, rename); the rename is the commit point
//! of sealing and compaction.
//!
//! # Layout (format version 1, little-endian)
//! ```text
//! header  magic "HVYMANI\0" version:u32 reserved:u32 body_len:u64 body_crc32:u32 reserved:u32
//! body    has_face_dim:u8 [face_dim:u32]
//!         has_face_model:u8 [len:u16 model]
//!         has_face_mean:u8 [count:u64 values:[f32; count]]
//!         next_file_id:u64 wal_id:u64
//!         segment_count:u64 { id:u64 rows:u64 flags:[u8; rows] }
//!         state_count:u64 { id:str8 len:u32 state }
//! ```
//! Row flags: bit 0 deleted, bit 1 searchable, bit 2 has a face.

use std::collections::HashMap;
use std::path::Path;

use crate::store::GalleryConfig;
use crate::store::format::{
    Cursor, GALLERY_FORMAT_VERSION, MANIFEST_FILE, MANIFEST_MAGIC, check_magic_version, corrupt,
    put_str_u8, put_u16, put_u32, put_u64, write_atomic,
};
use crate::{EngineError, GalleryFileKind, Result};

const KIND: GalleryFileKind = GalleryFileKind::Manifest;
const HEADER_LEN: usize = 32;

/// The decoded manifest.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Manifest {
    pub(crate) config: GalleryConfig,
    pub(crate) next_file_id: u64,
    pub(crate) wal_id: u64,
    /// (segment id, flags of its rows)
    pub(crate) segments: Vec<(u64, Vec<u8>)>,
    pub(crate) states: HashMap<String, Vec<u8>>,
    /// The version the manifest was read with ([`GALLERY_FORMAT_VERSION`]
    /// for one made by this release; always written as that).
    pub(crate) format_version: u32,
}

impl Manifest {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut b = Vec::new();
        let c = &self.config;
        match c.face_dim {
            Some(d) => {
                b.push(1);
                put_u32(&mut b, d as u32);
            }
            None => b.push(0),
        }
        match &c.face_model {
            Some(m) => {
                b.push(1);
                let len = m.len().min(usize::from(u16::MAX));
                put_u16(&mut b, len as u16);
                b.extend_from_slice(&m.as_bytes()[..len]);
            }
            None => b.push(0),
        }
        match &c.face_mean {
            Some(mean) => {
                b.push(1);
                put_u64(&mut b, mean.len() as u64);
                for v in mean {
                    b.extend_from_slice(&v.to_le_bytes());
                }
            }
            None => b.push(0),
        }
        put_u64(&mut b, self.next_file_id);
        put_u64(&mut b, self.wal_id);
        put_u64(&mut b, self.segments.len() as u64);
        for (id, flags) in &self.segments {
            put_u64(&mut b, *id);
            put_u64(&mut b, flags.len() as u64);
            b.extend_from_slice(flags);
        }
        // Sorted, so that equal manifests are equal bytes.
        let mut states: Vec<_> = self.states.iter().collect();
        states.sort_unstable_by(|a, b| a.0.cmp(b.0));
        put_u64(&mut b, states.len() as u64);
        for (id, state) in states {
            put_str_u8(&mut b, id);
            put_u32(&mut b, state.len() as u32);
            b.extend_from_slice(state);
        }
        let mut out = Vec::with_capacity(HEADER_LEN + b.len());
        out.extend_from_slice(&MANIFEST_MAGIC);
        put_u32(&mut out, GALLERY_FORMAT_VERSION);
        put_u32(&mut out, 0);
        put_u64(&mut out, b.len() as u64);
        put_u32(&mut out, crc32fast::hash(&b));
        put_u32(&mut out, 0);
        out.extend_from_slice(&b);
        out
    }

    pub(crate) fn decode(bytes: &[u8], path: &Path) -> Result<Self> {
        let format_version = check_magic_version(bytes, &MANIFEST_MAGIC, path, KIND)?;
        let mut c = Cursor::new(bytes, path, KIND);
        c.take(12, "header")?;
        if c.u32("reserved")? != 0 {
            return Err(corrupt(path, KIND, "reserved header field", 12));
        }
        let body_len = c.u64("body length")?;
        let crc = c.u32("body checksum")?;
        if c.u32("reserved")? != 0 {
            return Err(corrupt(path, KIND, "reserved header field", 28));
        }
        if body_len != c.remaining() as u64 {
            if body_len > c.remaining() as u64 {
                return Err(c.truncated("body", body_len as usize));
            }
            return Err(corrupt(path, KIND, "body length", 16));
        }
        if crc32fast::hash(&bytes[HEADER_LEN..]) != crc {
            return Err(corrupt(path, KIND, "body checksum", 24));
        }
        let flag = |c: &mut Cursor<'_>, what| -> Result<bool> {
            let at = c.at;
            match c.u8(what)? {
                0 => Ok(false),
                1 => Ok(true),
                _ => Err(c.corrupt(what, at)),
            }
        };
        let face_dim = if flag(&mut c, "face dim flag")? {
            Some(c.u32("face dim")? as usize)
        } else {
            None
        };
        let face_model = if flag(&mut c, "face model flag")? {
            let len = usize::from(c.u16("face model length")?);
            let at = c.at;
            let raw = c.take(len, "face model")?;
            Some(String::from_utf8(raw.to_vec()).map_err(|_| c.corrupt("face model", at))?)
        } else {
            None
        };
        let face_mean = if flag(&mut c, "face mean flag")? {
            let n = c.count(4, "face mean count")?;
            let mut mean = Vec::with_capacity(n);
            for _ in 0..n {
                mean.push(c.f32("face mean")?);
            }
            Some(mean)
        } else {
            None
        };
        let next_file_id = c.u64("next file id")?;
        let wal_id = c.u64("wal id")?;
        let n = c.count(16, "segment count")?;
        let mut segments = Vec::with_capacity(n);
        for _ in 0..n {
            let id = c.u64("segment id")?;
            let rows = c.count(1, "segment rows")?;
            segments.push((id, c.take(rows, "row flags")?.to_vec()));
        }
        let n = c.count(6, "state count")?;
        let mut states = HashMap::with_capacity(n);
        for _ in 0..n {
            let id = c.string_u8("state reference id")?;
            let len = c.u32("state length")? as usize;
            states.insert(id, c.take(len, "state")?.to_vec());
        }
        if c.remaining() != 0 {
            return Err(c.corrupt("trailing bytes", c.at));
        }
        Ok(Self {
            config: GalleryConfig {
                face_dim,
                face_model,
                face_mean,
            },
            next_file_id,
            wal_id,
            segments,
            states,
            format_version,
        })
    }

    pub(crate) fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(MANIFEST_FILE);
        let bytes = std::fs::read(&path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                EngineError::MissingFile {
                    path: path.clone(),
                    kind: KIND,
                }
            } else {
                EngineError::Io {
                    path: path.clone(),
                    source,
                }
            }
        })?;
        Self::decode(&bytes, &path)
    }

    /// Replaces the manifest of `dir` atomically and durably.
    pub(crate) fn write(&self, dir: &Path) -> Result<()> {
        write_atomic(dir, MANIFEST_FILE, &self.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_round_trip_and_reject_damage() {
        let m = Manifest {
            config: GalleryConfig {
                face_dim: Some(4),
                face_model: Some("m".into()),
                face_mean: Some(vec![0.5, 0.0, -1.0, 2.0]),
            },
            next_file_id: 9,
            wal_id: 8,
            segments: vec![(3, vec![2, 3, 6]), (5, vec![])],
            format_version: GALLERY_FORMAT_VERSION,
            states: [("a".to_string(), b"{}".to_vec())].into(),
        };
        let path = Path::new("manifest.hvm");
        let bytes = m.encode();
        assert_eq!(Manifest::decode(&bytes, path).unwrap(), m);
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x10;
            assert!(Manifest::decode(&b, path).is_err(), "flip at {i}");
            assert!(Manifest::decode(&bytes[..i], path).is_err(), "cut at {i}");
        }
    }
}
