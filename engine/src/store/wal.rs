//! The write-ahead log: every acknowledged operation, appended and fsynced
//! before the caller hears "done".
//!
//! # Layout (format version 2, little-endian)
//! ```text
//! header  magic "HVYWLOG\0" version:u32 reserved:u32 wal_id:u64 crc32:u32 reserved:u32  (32 bytes)
//! entry   len:u32 payload_crc32:u32 head_crc32:u32 (over len and payload_crc)  payload:[u8; len]
//! payload op_count:u32 { op }
//! op      1 insert  id:str8 searchable:u8 record:bytes32 face:u8 [dim:u16 codes:[i8; dim] aux:[f32; 2]]
//!                   blob_count:u8 { position:u8 len:u16 blob }
//!                   screen_count:u8 { position:u8 code:[u8; SCREEN_CODE_BYTES] }  (not in version 1)
//!                   state:bytes32
//!         2 set_searchable id:str8 searchable:u8
//!         3 set_state id:str8 state:bytes32
//!         4 delete id:str8
//! ```
//! One entry is one atomic batch: it is written with one `write` and made
//! durable with one `fdatasync`, so a batch is either wholly in the log or,
//! if the process died while writing it, detectably torn.
//!
//! # Recovery
//! Reading stops at the first entry that is incomplete or fails its checksum.
//! If that entry reaches the end of the file (or only zero bytes follow it),
//! it is a torn tail: it was never acknowledged and is dropped. Anything else
//! is corruption of acknowledged data and is reported as an error naming the
//! file.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use hoviyat_models::FingerPosition;

use crate::store::format::{
    Cursor, GALLERY_FORMAT_VERSION, WAL_MAGIC, check_magic_version, corrupt, io_err, put_str_u8,
    put_u16, put_u32, put_u64, wal_file,
};
use crate::store::{FaceCode, PreparedRecord, SCREEN_CODE_BYTES, SCREEN_SLOTS};
use crate::{EngineError, GalleryFileKind, Result};

const KIND: GalleryFileKind = GalleryFileKind::Wal;
pub(crate) const WAL_HEADER_LEN: u64 = 32;
const ENTRY_HEAD_LEN: usize = 12;
/// Largest entry accepted on reading (a batch of ~100k full records).
const MAX_ENTRY_LEN: usize = 1 << 30;

const OP_INSERT: u8 = 1;
const OP_SET_SEARCHABLE: u8 = 2;
const OP_SET_STATE: u8 = 3;
const OP_DELETE: u8 = 4;

/// One logged operation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    Insert(PreparedRecord),
    SetSearchable { id: String, searchable: bool },
    SetState { id: String, state: Vec<u8> },
    Delete { id: String },
}

/// Serialises a batch of operations as one log entry (head and payload).
pub(crate) fn encode_entry(ops: &[Op]) -> Vec<u8> {
    let mut p = Vec::new();
    put_u32(&mut p, ops.len() as u32);
    for op in ops {
        match op {
            Op::Insert(r) => {
                p.push(OP_INSERT);
                put_str_u8(&mut p, &r.reference_id);
                p.push(u8::from(r.searchable));
                put_u32(&mut p, r.record_bytes.len() as u32);
                p.extend_from_slice(&r.record_bytes);
                match &r.face {
                    Some(face) => {
                        p.push(1);
                        put_u16(&mut p, face.codes.len() as u16);
                        p.extend_from_slice(bytemuck::cast_slice(&face.codes));
                        p.extend_from_slice(&face.aux[0].to_le_bytes());
                        p.extend_from_slice(&face.aux[1].to_le_bytes());
                    }
                    None => p.push(0),
                }
                p.push(r.fingers.len() as u8);
                for (pos, blob) in &r.fingers {
                    p.push(pos.code());
                    put_u16(&mut p, blob.len() as u16);
                    p.extend_from_slice(blob);
                }
                p.push(r.screens.len() as u8);
                for (pos, code) in &r.screens {
                    p.push(pos.code());
                    p.extend_from_slice(code);
                }
                put_u32(&mut p, r.state.len() as u32);
                p.extend_from_slice(&r.state);
            }
            Op::SetSearchable { id, searchable } => {
                p.push(OP_SET_SEARCHABLE);
                put_str_u8(&mut p, id);
                p.push(u8::from(*searchable));
            }
            Op::SetState { id, state } => {
                p.push(OP_SET_STATE);
                put_str_u8(&mut p, id);
                put_u32(&mut p, state.len() as u32);
                p.extend_from_slice(state);
            }
            Op::Delete { id } => {
                p.push(OP_DELETE);
                put_str_u8(&mut p, id);
            }
        }
    }
    let mut out = Vec::with_capacity(ENTRY_HEAD_LEN + p.len());
    let mut head = Vec::with_capacity(8);
    put_u32(&mut head, p.len() as u32);
    put_u32(&mut head, crc32fast::hash(&p));
    out.extend_from_slice(&head);
    put_u32(&mut out, crc32fast::hash(&head));
    out.extend_from_slice(&p);
    out
}

/// Decodes one entry's payload, written in log format `version`.
fn decode_payload(bytes: &[u8], path: &Path, base: usize, version: u32) -> Result<Vec<Op>> {
    let mut c = Cursor::new(bytes, path, KIND);
    let bad = |what, at: usize| corrupt(path, KIND, what, (base + at) as u64);
    let n = c.u32("op count")? as usize;
    // Every op takes at least two bytes.
    if n > bytes.len() / 2 {
        return Err(bad("op count", 0));
    }
    let mut ops = Vec::with_capacity(n);
    for _ in 0..n {
        let at = c.at;
        let op = match c.u8("op code")? {
            OP_INSERT => {
                let reference_id = c.string_u8("reference id")?;
                let searchable = c.u8("searchable")? != 0;
                let len = c.u32("record length")? as usize;
                let record_bytes = c.take(len, "record bytes")?.to_vec();
                let face = match c.u8("face flag")? {
                    0 => None,
                    1 => {
                        let dim = usize::from(c.u16("face dim")?);
                        let codes: Vec<i8> =
                            bytemuck::cast_slice(c.take(dim, "face codes")?).to_vec();
                        let aux = [c.f32("face aux")?, c.f32("face aux")?];
                        Some(FaceCode { codes, aux })
                    }
                    _ => return Err(bad("face flag", c.at - 1)),
                };
                let blob_count = usize::from(c.u8("blob count")?);
                let mut fingers = Vec::with_capacity(blob_count.min(11));
                for _ in 0..blob_count {
                    let code_at = c.at;
                    let position = FingerPosition::from_code(c.u8("finger position")?)
                        .map_err(|_| bad("finger position", code_at))?;
                    let len = usize::from(c.u16("blob length")?);
                    fingers.push((position, c.take(len, "finger blob")?.to_vec()));
                }
                let screen_count = if version >= 2 {
                    usize::from(c.u8("screen count")?)
                } else {
                    0
                };
                let mut screens = Vec::with_capacity(screen_count.min(SCREEN_SLOTS));
                for _ in 0..screen_count {
                    let code_at = c.at;
                    let position = FingerPosition::from_code(c.u8("screen position")?)
                        .map_err(|_| bad("screen position", code_at))?;
                    let code: [u8; SCREEN_CODE_BYTES] = c
                        .take(SCREEN_CODE_BYTES, "screening code")?
                        .try_into()
                        .map_err(|_| bad("screening code", code_at))?;
                    screens.push((position, code));
                }
                let len = c.u32("state length")? as usize;
                let state = c.take(len, "state")?.to_vec();
                Op::Insert(PreparedRecord {
                    reference_id,
                    record_bytes,
                    face,
                    fingers,
                    screens,
                    searchable,
                    state,
                })
            }
            OP_SET_SEARCHABLE => Op::SetSearchable {
                id: c.string_u8("reference id")?,
                searchable: c.u8("searchable")? != 0,
            },
            OP_SET_STATE => {
                let id = c.string_u8("reference id")?;
                let len = c.u32("state length")? as usize;
                Op::SetState {
                    id,
                    state: c.take(len, "state")?.to_vec(),
                }
            }
            OP_DELETE => Op::Delete {
                id: c.string_u8("reference id")?,
            },
            _ => return Err(bad("op code", at)),
        };
        ops.push(op);
    }
    if c.remaining() != 0 {
        return Err(bad("entry length", c.at));
    }
    Ok(ops)
}

fn header(wal_id: u64) -> Vec<u8> {
    let mut h = Vec::with_capacity(WAL_HEADER_LEN as usize);
    h.extend_from_slice(&WAL_MAGIC);
    put_u32(&mut h, GALLERY_FORMAT_VERSION);
    put_u32(&mut h, 0);
    put_u64(&mut h, wal_id);
    let crc = crc32fast::hash(&h);
    put_u32(&mut h, crc);
    put_u32(&mut h, 0);
    h
}

/// What reading a log found.
#[derive(Debug)]
pub(crate) struct Replay {
    /// The acknowledged batches, in order.
    pub(crate) batches: Vec<Vec<Op>>,
    /// Length of the valid prefix: header plus complete entries.
    pub(crate) valid_len: u64,
    /// Bytes of a torn tail that were dropped.
    pub(crate) dropped_bytes: u64,
}

/// Reads log `wal_id` of `dir`.
pub(crate) fn read_wal(dir: &Path, wal_id: u64) -> Result<Replay> {
    let path = dir.join(wal_file(wal_id));
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
    let version = check_magic_version(&bytes, &WAL_MAGIC, &path, KIND)?;
    let mut c = Cursor::new(&bytes, &path, KIND);
    let head = c.take(WAL_HEADER_LEN as usize, "header")?;
    let mut hc = Cursor::new(head, &path, KIND);
    hc.take(16, "header")?;
    let id = hc.u64("wal id")?;
    let crc = hc.u32("header checksum")?;
    if crc32fast::hash(&head[..24]) != crc {
        return Err(corrupt(&path, KIND, "header checksum", 24));
    }
    if id != wal_id {
        return Err(corrupt(&path, KIND, "log id (disagrees with manifest)", 16));
    }
    let mut batches = Vec::new();
    let mut at = WAL_HEADER_LEN as usize;
    loop {
        let rest = &bytes[at..];
        if rest.is_empty() {
            break;
        }
        // A bad entry is a torn tail if nothing but zeros follows it.
        let tail = |batches: Vec<Vec<Op>>, entry_end: usize| -> Result<Replay> {
            let after = bytes.get(entry_end..).unwrap_or(&[]);
            if after.iter().all(|&b| b == 0) {
                Ok(Replay {
                    batches,
                    valid_len: at as u64,
                    dropped_bytes: (bytes.len() - at) as u64,
                })
            } else {
                Err(corrupt(&path, KIND, "entry checksum", at as u64))
            }
        };
        if rest.len() < ENTRY_HEAD_LEN {
            return tail(batches, bytes.len());
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let payload_crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        let head_crc = u32::from_le_bytes([rest[8], rest[9], rest[10], rest[11]]);
        if crc32fast::hash(&rest[..8]) != head_crc || len > MAX_ENTRY_LEN {
            // A bad head: torn only if nothing but zeros follows it.
            return tail(batches, at + ENTRY_HEAD_LEN);
        }
        let end = at + ENTRY_HEAD_LEN + len;
        if end > bytes.len() {
            // A sound head whose payload never fully reached the disk.
            return Ok(Replay {
                batches,
                valid_len: at as u64,
                dropped_bytes: (bytes.len() - at) as u64,
            });
        }
        let payload = &bytes[at + ENTRY_HEAD_LEN..end];
        if crc32fast::hash(payload) != payload_crc {
            return tail(batches, end);
        }
        batches.push(decode_payload(
            payload,
            &path,
            at + ENTRY_HEAD_LEN,
            version,
        )?);
        at = end;
    }
    Ok(Replay {
        batches,
        valid_len: at as u64,
        dropped_bytes: 0,
    })
}

/// The open log a writer appends to.
#[derive(Debug)]
pub(crate) struct WalWriter {
    file: File,
    path: PathBuf,
    len: u64,
    id: u64,
    /// Whether to fdatasync after each append (off only in benchmarks).
    pub(crate) sync: bool,
}

impl WalWriter {
    /// Creates log `id` in `dir` with just its header, durably.
    pub(crate) fn create(dir: &Path, id: u64) -> Result<Self> {
        let path = dir.join(wal_file(id));
        let mut file = OpenOptions::new()
            .create_new(true)
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        let h = header(id);
        file.write_all(&h).map_err(io_err(&path))?;
        file.sync_all().map_err(io_err(&path))?;
        Ok(Self {
            file,
            path,
            len: h.len() as u64,
            id,
            sync: true,
        })
    }

    /// Reopens log `id` for appending after its first `valid_len` bytes,
    /// cutting off a torn tail durably.
    pub(crate) fn reopen(dir: &Path, id: u64, valid_len: u64) -> Result<Self> {
        let path = dir.join(wal_file(id));
        let file = OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        let on_disk = file.metadata().map_err(io_err(&path))?.len();
        if on_disk != valid_len {
            file.set_len(valid_len).map_err(io_err(&path))?;
            file.sync_all().map_err(io_err(&path))?;
        }
        Ok(Self {
            file,
            path,
            len: valid_len,
            id,
            sync: true,
        })
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Bytes of entries after the header.
    pub(crate) fn entry_bytes(&self) -> u64 {
        self.len - WAL_HEADER_LEN
    }

    /// Appends one entry and makes it durable. On error the log is in an
    /// unknown state and the caller must stop writing to it.
    pub(crate) fn append(&mut self, entry: &[u8]) -> Result<()> {
        use std::os::unix::fs::FileExt;
        self.file
            .write_all_at(entry, self.len)
            .map_err(io_err(&self.path))?;
        if self.sync {
            self.file.sync_data().map_err(io_err(&self.path))?;
        }
        self.len += entry.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops() -> Vec<Op> {
        vec![
            Op::Insert(PreparedRecord {
                reference_id: "a".into(),
                record_bytes: vec![1, 2, 3],
                face: Some(FaceCode {
                    codes: vec![-1, 2, 127],
                    aux: [0.5, 1.0],
                }),
                fingers: vec![(FingerPosition::LeftIndex, vec![9; 12])],
                screens: vec![(FingerPosition::LeftIndex, [7; SCREEN_CODE_BYTES])],
                searchable: true,
                state: b"{}".to_vec(),
            }),
            Op::SetSearchable {
                id: "a".into(),
                searchable: false,
            },
            Op::SetState {
                id: "a".into(),
                state: b"x".to_vec(),
            },
            Op::Delete { id: "a".into() },
        ]
    }

    #[test]
    fn entries_round_trip() {
        let e = encode_entry(&ops());
        let back = decode_payload(
            &e[ENTRY_HEAD_LEN..],
            Path::new("w"),
            0,
            GALLERY_FORMAT_VERSION,
        )
        .unwrap();
        assert_eq!(back, ops());
    }

    #[test]
    fn torn_tail_is_dropped_and_mid_log_damage_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = WalWriter::create(dir.path(), 3).unwrap();
        let e = encode_entry(&ops());
        w.append(&e).unwrap();
        w.append(&e).unwrap();
        let path = dir.path().join(wal_file(3));
        let full = std::fs::read(&path).unwrap();
        // Cut inside the second entry: the first survives.
        for cut in [
            full.len() - 1,
            full.len() - e.len() + 5,
            full.len() - e.len() + 13,
        ] {
            std::fs::write(&path, &full[..cut]).unwrap();
            let r = read_wal(dir.path(), 3).unwrap();
            assert_eq!(r.batches.len(), 1, "cut at {cut}");
            assert_eq!(r.valid_len as usize, full.len() - e.len());
        }
        // A flipped byte in the last entry: dropped as torn.
        let mut flipped = full.clone();
        *flipped.last_mut().unwrap() ^= 0x40;
        std::fs::write(&path, &flipped).unwrap();
        assert_eq!(read_wal(dir.path(), 3).unwrap().batches.len(), 1);
        // A flipped byte in the first entry, with a good one after: an error.
        let mut flipped = full.clone();
        flipped[WAL_HEADER_LEN as usize + 20] ^= 0x40;
        std::fs::write(&path, &flipped).unwrap();
        match read_wal(dir.path(), 3) {
            Err(EngineError::CorruptFile { path: p, .. }) => assert_eq!(p, path),
            other => panic!("expected a corrupt-file error, got {other:?}"),
        }
    }
}
