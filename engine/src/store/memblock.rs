//! The in-memory tail of the gallery: rows that are durable in the
//! write-ahead log but not yet sealed into a segment, in small blocks that
//! snapshots share and writers copy on write.

use std::sync::Arc;

use hoviyat_models::FingerPosition;

use crate::store::format::id_hash;
use crate::store::row::write_screen_row;
use crate::store::{SCREEN_ROW_BYTES, ScreenCodeBytes};

/// Rows per tail block. Small, because a writer that changes a block a
/// snapshot still holds copies the block's face codes and row pointers.
pub(crate) const MEM_BLOCK_ROWS: usize = 128;

/// One logged row, immutable once built (a state update replaces it).
#[derive(Debug, Clone)]
pub(crate) struct MemRow {
    pub(crate) id: String,
    pub(crate) record: Vec<u8>,
    pub(crate) blobs: Vec<(FingerPosition, Vec<u8>)>,
    pub(crate) state: Vec<u8>,
}

/// Up to [`MEM_BLOCK_ROWS`] logged rows in the same column layout as a
/// segment: face codes and screening codes contiguous, one aux pair, one
/// screening mask and one flag byte per row.
#[derive(Debug, Clone)]
pub(crate) struct MemBlock {
    pub(crate) face_dim: usize,
    pub(crate) rows: Vec<Arc<MemRow>>,
    /// The rows' id hashes, contiguous: an id lookup scans these (one cache
    /// line per eight rows) instead of following every row's pointer.
    hashes: Vec<u64>,
    pub(crate) codes: Vec<i8>,
    pub(crate) aux: Vec<[f32; 2]>,
    /// [`SCREEN_ROW_BYTES`] per row (zeros in absent slots).
    pub(crate) screen_codes: Vec<u8>,
    /// Bit `s` set: slot `s` of the row holds a screening code.
    pub(crate) screen_masks: Vec<u16>,
    pub(crate) flags: Vec<u8>,
}

impl MemBlock {
    pub(crate) fn new(face_dim: usize) -> Self {
        Self {
            face_dim,
            rows: Vec::with_capacity(MEM_BLOCK_ROWS),
            hashes: Vec::with_capacity(MEM_BLOCK_ROWS),
            codes: Vec::with_capacity(MEM_BLOCK_ROWS * face_dim),
            aux: Vec::with_capacity(MEM_BLOCK_ROWS),
            screen_codes: Vec::with_capacity(MEM_BLOCK_ROWS * SCREEN_ROW_BYTES),
            screen_masks: Vec::with_capacity(MEM_BLOCK_ROWS),
            flags: Vec::with_capacity(MEM_BLOCK_ROWS),
        }
    }

    pub(crate) fn is_full(&self) -> bool {
        self.rows.len() >= MEM_BLOCK_ROWS
    }

    /// The row holding `id`, whose hash the caller computed (once for a walk
    /// over many blocks).
    pub(crate) fn find_hashed(&self, hash: u64, id: &str) -> Option<usize> {
        self.hashes
            .iter()
            .enumerate()
            .filter(|&(_, &h)| h == hash)
            .map(|(i, _)| i)
            .find(|&i| self.rows[i].id == id)
    }

    /// Appends a row; `codes` must be `face_dim` long when given, the
    /// screens' positions known and distinct (checked by the caller).
    pub(crate) fn push(
        &mut self,
        row: MemRow,
        face: Option<(&[i8], [f32; 2])>,
        screens: &[(FingerPosition, ScreenCodeBytes)],
        flags: u8,
    ) {
        match face {
            Some((codes, aux)) => {
                self.codes.extend_from_slice(codes);
                self.aux.push(aux);
            }
            None => {
                self.codes.resize(self.codes.len() + self.face_dim, 0);
                self.aux.push([0.0; 2]);
            }
        }
        let start = self.screen_codes.len();
        self.screen_codes.resize(start + SCREEN_ROW_BYTES, 0);
        let mask = write_screen_row(&mut self.screen_codes[start..], screens);
        self.screen_masks.push(mask);
        self.hashes.push(id_hash(&row.id));
        self.rows.push(Arc::new(row));
        self.flags.push(flags);
    }

    pub(crate) fn blob(&self, row: usize, position: FingerPosition) -> Option<&[u8]> {
        self.rows
            .get(row)?
            .blobs
            .iter()
            .find(|(p, _)| *p == position)
            .map(|(_, b)| b.as_slice())
    }
}
