//! The gallery store: the system of record of everyone enrolled, laid out so
//! that searches read it at memory speed.
//!
//! # Model
//! A gallery is a directory. Each row holds, for one reference id:
//! - the record bytes (`hoviyat_models::binary`, the system of record; it
//!   includes the face as f16, which face rescoring reads),
//! - an optional face *code*: `face_dim` i8 values plus an `[f32; 2]` aux
//!   pair whose meaning the face module owns (e.g. scale and norm),
//! - up to 11 finger blobs keyed by [`FingerPosition`] (opaque bytes in the
//!   fingerprint matcher's packed form),
//! - up to 10 screening codes, one per known finger position, each
//!   [`SCREEN_CODE_BYTES`] opaque bytes, kept in a fixed-width column (a
//!   row's ten slots side by side, a bit mask of the present ones) so that a
//!   screening pass over every row streams through memory; the store owns
//!   that layout and hands rows out as [`ScreenRow`]s read by [`ScreenSlot`],
//! - a `searchable` flag (held enrollments are stored but not searched),
//! - an opaque `state` blob the dedup layer updates (latest write wins; kept
//!   after deletion so that "deleted" can still be reported).
//!
//! # Files (all start with an 8-byte magic and the format version)
//! - `manifest.hvm`: configuration, segment list with one flag byte per row,
//!   state overrides, the current log. Replaced atomically.
//! - `seg-NNNNNNNNNN.hvs`: immutable segments, memory-mapped: face codes
//!   and screening codes contiguous and 64-byte aligned, offset tables for
//!   ids, records, blobs and states, and a sorted hash index from id to row.
//!   See `segment.rs`.
//! - `wal-NNNNNNNNNN.hvl`: the write-ahead log. Every write is appended and
//!   fdatasynced before it is acknowledged; opening replays it and drops a
//!   torn tail. See `wal.rs`.
//! - `LOCK`: held by the one process that writes.
//!
//! # Concurrency
//! One writer, many readers. [`Gallery`] is `Send + Sync`; writes serialise
//! on a mutex inside it. [`Gallery::snapshot`] returns a [`Snapshot`] (a few
//! `Arc` clones) that sees every write acknowledged before it was taken and
//! nothing later. Logged rows live in memory blocks until [`Gallery::seal`]
//! (or the automatic seal after [`DEFAULT_AUTO_SEAL_ROWS`] rows) moves them
//! into a segment. [`Gallery::compact`] rewrites all segments into one;
//! snapshots taken before keep reading the old, unlinked files.
//!
//! The store is the bottom layer: it imports nothing from the modules that
//! prepare rows or search them. In the service and the `hoviyat` commands
//! its one writer is [`crate::abis::Abis`], which keeps the search caches
//! current; writing a `Gallery` directly is for the store's own tests and
//! benchmarks.
//!
//! # Reading
//! ```
//! use hoviyat_engine::store::{FaceCode, Gallery, GalleryConfig, PreparedRecord};
//! use hoviyat_engine::models::{binary::encode_record, EnrollmentRecord, FaceTemplate};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let gallery = Gallery::create(dir.path(), GalleryConfig { face_dim: Some(4), ..Default::default() }).unwrap();
//! let record = EnrollmentRecord::new("ref-1", vec![], Some(FaceTemplate::new("m", vec![1.0, 0.0, 0.0, 0.0])));
//! gallery.insert(PreparedRecord {
//!     reference_id: "ref-1".into(),
//!     record_bytes: encode_record(&record).unwrap(),
//!     face: Some(FaceCode { codes: vec![127, 0, 0, 0], aux: [1.0 / 127.0, 1.0] }),
//!     fingers: vec![],
//!     screens: vec![],
//!     searchable: true,
//!     state: b"{\"status\":\"enrolled\"}".to_vec(),
//! }).unwrap();
//! let snapshot = gallery.snapshot();
//! for block in snapshot.blocks() {
//!     let dim = block.face_dim();
//!     for (i, code) in block.face_codes().chunks_exact(dim).enumerate() {
//!         if block.is_live(i) {
//!             assert_eq!(block.reference_id(i), "ref-1");
//!             assert_eq!(code[0], 127);
//!         }
//!     }
//! }
//! assert!(snapshot.get("ref-1").unwrap().is_live());
//! ```
//!
//! # Damage
//! Truncated, altered, missing or wrong-version files give a typed
//! [`crate::EngineError`] naming the file. Opening checks headers, the small
//! sections' checksums and every offset table; [`Gallery::verify`] also
//! checks the checksums of the bulk sections (face codes, records, blobs,
//! states), which opening skips so that it stays fast.

mod format;
mod gallery;
mod manifest;
mod memblock;
mod mmap;
mod row;
mod segment;
mod snapshot;
mod wal;

#[cfg(test)]
pub(crate) use format::LOCK_FILE;
pub use format::{GALLERY_FORMAT_VERSION, MANIFEST_FILE};
pub use gallery::{Gallery, GalleryStats};
pub use hoviyat_models::FingerPosition;
pub use row::{
    SCREEN_CODE_BYTES, SCREEN_ROW_BYTES, SCREEN_SLOTS, ScreenCodeBytes, ScreenRow, ScreenSlot,
};
pub use snapshot::{Block, Counts, RowRef, Snapshot};

use serde::{Deserialize, Serialize};

/// Largest finger blob, in bytes.
pub const MAX_FINGER_BLOB_BYTES: usize = u16::MAX as usize;
/// Largest state blob, in bytes.
pub const MAX_STATE_BYTES: usize = 1 << 20;
/// The screening slot of `position` (`None` for an unknown position).
pub(crate) fn screen_slot(position: FingerPosition) -> Option<usize> {
    ScreenSlot::of(position).map(ScreenSlot::index)
}

/// Logged rows after which an insert seals them into a segment.
pub const DEFAULT_AUTO_SEAL_ROWS: usize = 16_384;

/// Fixed properties of a gallery, set at creation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GalleryConfig {
    /// Dimension of the face codes; `None` for a finger-only gallery.
    pub face_dim: Option<usize>,
    /// The face model whose templates the codes come from.
    pub face_model: Option<String>,
    /// Mean face template subtracted before quantising (`face_dim` values).
    pub face_mean: Option<Vec<f32>>,
}

/// A face template quantised for scanning.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceCode {
    /// `face_dim` values.
    pub codes: Vec<i8>,
    /// Meaning owned by the face module (e.g. scale, norm).
    pub aux: [f32; 2],
}

/// One row ready to insert (the dedup layer prepares it from an enrollment
/// record).
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedRecord {
    pub reference_id: String,
    /// `hoviyat_models::binary::encode_record` of the record; its reference
    /// id must equal `reference_id`.
    pub record_bytes: Vec<u8>,
    pub face: Option<FaceCode>,
    /// At most one blob per position, each 1..=[`MAX_FINGER_BLOB_BYTES`] bytes.
    pub fingers: Vec<(FingerPosition, Vec<u8>)>,
    /// At most one screening code per known position (not
    /// [`FingerPosition::Unknown`]).
    pub screens: Vec<(FingerPosition, ScreenCodeBytes)>,
    /// Whether the row takes part in searches.
    pub searchable: bool,
    /// Initial state blob, at most [`MAX_STATE_BYTES`].
    pub state: Vec<u8>,
}

/// Seeded rows for the store's unit tests. The store keeps finger blobs
/// and screening codes opaque, so these rows carry deterministic stand-in
/// bytes (the layers above test rows prepared from real templates).
#[cfg(test)]
pub(crate) mod test_support {
    use hoviyat_models::binary::encode_record;
    use hoviyat_models::{EnrollmentRecord, FaceTemplate, FingerTemplate, Minutia, MinutiaKind};

    use super::*;

    pub(crate) const DIM: usize = 16;

    pub(crate) fn config() -> GalleryConfig {
        GalleryConfig {
            face_dim: Some(DIM),
            face_model: Some("test-model".into()),
            face_mean: Some((0..DIM).map(|i| i as f32 * 0.01).collect()),
        }
    }

    /// A deterministic record: 1..=10 fingers, a face on two rows of three.
    pub(crate) fn record(i: u64) -> EnrollmentRecord {
        let mut s = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let fingers = (0..1 + i % 10)
            .map(|f| FingerTemplate {
                position: FingerPosition::TEN[f as usize],
                width_px: 400,
                height_px: 500,
                dpi: 500,
                quality: (next() % 101) as u8,
                minutiae: (0..5 + next() % 30)
                    .map(|_| {
                        Minutia::new(
                            (next() % 400) as f32,
                            (next() % 500) as f32,
                            (next() % 6283) as f32 / 1000.0,
                            MinutiaKind::Ending,
                            (next() % 101) as u8,
                        )
                    })
                    .collect(),
                ridge_map: None,
            })
            .collect();
        let face = (!i.is_multiple_of(3)).then(|| {
            FaceTemplate::new(
                "test-model",
                (0..DIM)
                    .map(|_| (next() % 2001) as f32 / 1000.0 - 1.0)
                    .collect(),
            )
        });
        EnrollmentRecord::new(format!("ref-{i:06}"), fingers, face)
    }

    /// The row of [`record`]`(i)`: its encoded record, a face code (values
    /// times 127), one blob per finger (its minutiae's coordinates) and a
    /// screening code for fingers of more than 12 minutiae; held (not
    /// searchable) when `i` is a multiple of 7.
    pub(crate) fn row(i: u64) -> PreparedRecord {
        let record = record(i);
        let face = record.face.as_ref().map(|f| FaceCode {
            codes: f
                .values
                .iter()
                .map(|v| (v * 127.0).round().clamp(-127.0, 127.0) as i8)
                .collect(),
            aux: [
                1.0 / 127.0,
                f.values.iter().map(|v| v * v).sum::<f32>().sqrt(),
            ],
        });
        let fingers = record
            .fingers
            .iter()
            .map(|f| {
                let blob = f
                    .minutiae
                    .iter()
                    .flat_map(|m| [m.x_px as u16, m.y_px as u16])
                    .flat_map(u16::to_le_bytes)
                    .collect();
                (f.position, blob)
            })
            .collect();
        let screens = record
            .fingers
            .iter()
            .filter(|f| f.minutiae.len() > 12)
            .map(|f| {
                let mut code = [0u8; SCREEN_CODE_BYTES];
                for (k, b) in code.iter_mut().enumerate() {
                    *b = (i as usize * 31 + usize::from(f.position.code()) * 7 + k) as u8;
                }
                (f.position, code)
            })
            .collect();
        PreparedRecord {
            reference_id: record.reference_id.clone(),
            record_bytes: encode_record(&record).expect("test records encode"),
            face,
            fingers,
            screens,
            searchable: !i.is_multiple_of(7),
            state: format!("{{\"n\":{i}}}").into_bytes(),
        }
    }

    pub(crate) fn assert_row(snap: &Snapshot, p: &PreparedRecord) {
        let r = snap
            .get(&p.reference_id)
            .unwrap_or_else(|| panic!("{} missing", p.reference_id));
        assert_eq!(r.reference_id(), p.reference_id);
        assert_eq!(r.record_bytes(), p.record_bytes.as_slice());
        assert_eq!(
            r.face_code().map(|(c, a)| (c.to_vec(), a)),
            p.face.as_ref().map(|f| (f.codes.clone(), f.aux))
        );
        for pos in FingerPosition::TEN {
            let want = p
                .fingers
                .iter()
                .find(|(q, _)| *q == pos)
                .map(|(_, b)| b.as_slice());
            assert_eq!(r.finger_blob(pos), want);
            let screen = p.screens.iter().find(|(q, _)| *q == pos).map(|(_, c)| c);
            assert_eq!(r.screen_code(pos), screen, "{} at {pos:?}", p.reference_id);
        }
        assert_eq!(r.screen_code(FingerPosition::Unknown), None);
        assert_eq!(r.finger_blob(FingerPosition::Unknown), None);
        assert_eq!(r.is_live(), p.searchable);
        assert_eq!(r.record().unwrap().reference_id, p.reference_id);
    }

    pub(crate) fn assert_all(snap: &Snapshot, rows: &[PreparedRecord]) {
        for p in rows {
            assert_row(snap, p);
        }
        let total: usize = snap.blocks().map(|b| b.len()).sum();
        assert_eq!(total, rows.len());
    }
}
