//! Consistent read views of a gallery: [`Snapshot`], its [`Block`]s and
//! [`RowRef`]s, and the immutable [`Version`] they share.

use std::collections::HashMap;
use std::sync::Arc;

use hoviyat_models::{EnrollmentRecord, FingerPosition};
use serde::Serialize;

use crate::Result;
use crate::store::memblock::MemBlock;
use crate::store::segment::Segment;
use crate::store::{GalleryConfig, SCREEN_ROW_BYTES, ScreenCodeBytes, ScreenRow, ScreenSlot};

/// Row flag: the reference was deleted (a tombstone).
pub(crate) const FLAG_DELETED: u8 = 1;
/// Row flag: the row takes part in searches.
pub(crate) const FLAG_SEARCHABLE: u8 = 2;
/// Row flag: the row has a face code.
pub(crate) const FLAG_FACE: u8 = 4;

/// A sealed segment with the current flags of its rows.
#[derive(Debug, Clone)]
pub(crate) struct SealedBlock {
    pub(crate) seg: Arc<Segment>,
    pub(crate) flags: Arc<Vec<u8>>,
}

/// Where a row lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Loc {
    Sealed(usize, usize),
    Tail(usize, usize),
}

/// Row counts of a gallery.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Rows not deleted (searchable or held).
    pub identities: u64,
    /// Live rows that take part in searches.
    pub searchable: u64,
    /// Finger blobs of live rows.
    pub fingers: u64,
    /// Live rows with a face code.
    pub faces: u64,
    /// Deleted references (their id and state are kept).
    pub deleted: u64,
}

/// One immutable state of the gallery. Writers build the next version from a
/// clone (all `Arc`s, copied on write) and publish it.
#[derive(Debug, Clone)]
pub(crate) struct Version {
    pub(crate) config: Arc<GalleryConfig>,
    pub(crate) sealed: Vec<SealedBlock>,
    pub(crate) tail: Vec<Arc<MemBlock>>,
    /// State overrides of sealed rows as of the manifest.
    pub(crate) base_states: Arc<HashMap<String, Vec<u8>>>,
    /// State overrides of sealed rows logged since the manifest.
    pub(crate) delta_states: Arc<HashMap<String, Vec<u8>>>,
    pub(crate) counts: Counts,
}

impl Version {
    pub(crate) fn face_dim(&self) -> usize {
        self.config.face_dim.unwrap_or(0)
    }

    pub(crate) fn tail_rows(&self) -> usize {
        self.tail.iter().map(|b| b.rows.len()).sum()
    }

    /// The row holding `id`, newest first.
    pub(crate) fn locate(&self, id: &str) -> Option<Loc> {
        let hash = crate::store::format::id_hash(id);
        for (b, block) in self.tail.iter().enumerate().rev() {
            if let Some(r) = block.find_hashed(hash, id) {
                return Some(Loc::Tail(b, r));
            }
        }
        for (s, sb) in self.sealed.iter().enumerate().rev() {
            if let Some(r) = sb.seg.find(id) {
                return Some(Loc::Sealed(s, r));
            }
        }
        None
    }

    pub(crate) fn block(&self, loc: Loc) -> (Block<'_>, usize) {
        match loc {
            Loc::Sealed(s, r) => (Block::from_sealed(&self.sealed[s]), r),
            Loc::Tail(b, r) => (Block::from_mem(&self.tail[b]), r),
        }
    }

    pub(crate) fn flags(&self, loc: Loc) -> u8 {
        let (b, r) = self.block(loc);
        b.flags(r)
    }

    /// Sets a row's flags, copying shared storage, and keeps counts right.
    pub(crate) fn set_flags(&mut self, loc: Loc, new: u8) {
        let old = self.flags(loc);
        let fingers = self.block(loc).0.finger_count(self.block(loc).1) as u64;
        self.uncount(old, fingers);
        self.count(new, fingers);
        match loc {
            Loc::Sealed(s, r) => Arc::make_mut(&mut self.sealed[s].flags)[r] = new,
            Loc::Tail(b, r) => Arc::make_mut(&mut self.tail[b]).flags[r] = new,
        }
    }

    pub(crate) fn count(&mut self, flags: u8, fingers: u64) {
        let c = &mut self.counts;
        if flags & FLAG_DELETED != 0 {
            c.deleted += 1;
            return;
        }
        c.identities += 1;
        c.fingers += fingers;
        c.faces += u64::from(flags & FLAG_FACE != 0);
        c.searchable += u64::from(flags & FLAG_SEARCHABLE != 0);
    }

    fn uncount(&mut self, flags: u8, fingers: u64) {
        let c = &mut self.counts;
        if flags & FLAG_DELETED != 0 {
            c.deleted -= 1;
            return;
        }
        c.identities -= 1;
        c.fingers -= fingers;
        c.faces -= u64::from(flags & FLAG_FACE != 0);
        c.searchable -= u64::from(flags & FLAG_SEARCHABLE != 0);
    }

    /// The current state blob of `id`.
    pub(crate) fn state(&self, id: &str) -> Option<&[u8]> {
        if let Some(s) = self
            .delta_states
            .get(id)
            .or_else(|| self.base_states.get(id))
        {
            return Some(s);
        }
        let loc = self.locate(id)?;
        let (b, r) = self.block(loc);
        Some(b.own_state(r))
    }
}

/// A consistent, read-only view of a gallery.
///
/// Every insert acknowledged before [`crate::store::Gallery::snapshot`]
/// returned is in it; nothing written afterwards is. Taking one is a few
/// `Arc` clones; holding one keeps the segments it reads mapped.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub(crate) v: Arc<Version>,
}

impl Snapshot {
    /// The blocks of rows: sealed segments first, then the logged tail.
    pub fn blocks(&self) -> impl Iterator<Item = Block<'_>> + '_ {
        self.v
            .sealed
            .iter()
            .map(Block::from_sealed)
            .chain(self.v.tail.iter().map(|b| Block::from_mem(b)))
    }

    /// Number of blocks [`Snapshot::blocks`] yields.
    pub fn block_count(&self) -> usize {
        self.v.sealed.len() + self.v.tail.len()
    }

    /// The row of `reference_id`, deleted or not.
    pub fn get(&self, reference_id: &str) -> Option<RowRef<'_>> {
        let loc = self.v.locate(reference_id)?;
        let (block, row) = self.v.block(loc);
        Some(RowRef { block, row })
    }

    /// The latest state blob of `reference_id` (kept after deletion).
    pub fn state(&self, reference_id: &str) -> Option<&[u8]> {
        self.v.state(reference_id)
    }

    /// Row counts.
    pub fn counts(&self) -> Counts {
        self.v.counts
    }

    /// The gallery's configuration.
    pub fn config(&self) -> &GalleryConfig {
        &self.v.config
    }

    /// Face code dimension (0 when the gallery stores no faces).
    pub fn face_dim(&self) -> usize {
        self.v.face_dim()
    }
}

#[derive(Debug, Clone, Copy)]
enum Inner<'a> {
    Sealed(&'a Segment, &'a [u8]),
    Mem(&'a MemBlock),
}

/// A run of rows with contiguous face codes: a sealed segment (read through
/// its memory map) or a block of the logged tail.
///
/// Row indices run from 0 to `len() - 1`; every accessor taking a row
/// returns an empty value for an index out of range.
#[derive(Debug, Clone, Copy)]
pub struct Block<'a> {
    inner: Inner<'a>,
}

impl<'a> Block<'a> {
    pub(crate) fn from_sealed(sb: &'a SealedBlock) -> Self {
        Self {
            inner: Inner::Sealed(&sb.seg, &sb.flags),
        }
    }

    pub(crate) fn from_mem(b: &'a MemBlock) -> Self {
        Self {
            inner: Inner::Mem(b),
        }
    }

    /// Number of rows, deleted ones included.
    pub fn len(&self) -> usize {
        match self.inner {
            Inner::Sealed(s, _) => s.len(),
            Inner::Mem(m) => m.rows.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the rows come from a sealed, memory-mapped segment.
    pub fn is_sealed(&self) -> bool {
        matches!(self.inner, Inner::Sealed(..))
    }

    /// Face code dimension.
    pub fn face_dim(&self) -> usize {
        match self.inner {
            Inner::Sealed(s, _) => s.face_dim(),
            Inner::Mem(m) => m.face_dim,
        }
    }

    /// All face codes, `len() * face_dim()` values, row-major. Rows without
    /// a face hold zeros. In sealed blocks the slice starts 64-byte aligned.
    pub fn face_codes(&self) -> &'a [i8] {
        match self.inner {
            Inner::Sealed(s, _) => s.face_codes(),
            Inner::Mem(m) => &m.codes,
        }
    }

    /// The auxiliary pair of every row (`[0.0, 0.0]` for rows without a face).
    pub fn face_aux(&self) -> &'a [[f32; 2]] {
        match self.inner {
            Inner::Sealed(s, _) => s.face_aux(),
            Inner::Mem(m) => &m.aux,
        }
    }

    /// The screening column: [`SCREEN_ROW_BYTES`] bytes per row, zeros in
    /// absent slots. Empty for a segment of format version 1, which has
    /// none. Read through [`Block::screen_row`].
    pub(crate) fn screen_codes(&self) -> &'a [u8] {
        match self.inner {
            Inner::Sealed(s, _) => s.screen_codes(),
            Inner::Mem(m) => &m.screen_codes,
        }
    }

    /// One mask per row: bit `s` set when slot `s` holds a code. Empty for
    /// a segment of format version 1.
    pub(crate) fn screen_masks(&self) -> &'a [u16] {
        match self.inner {
            Inner::Sealed(s, _) => s.screen_masks(),
            Inner::Mem(m) => &m.screen_masks,
        }
    }

    /// The screening codes of row `i` (`None` in a block without a
    /// screening column, format version 1).
    #[inline]
    pub fn screen_row(&self, i: usize) -> Option<ScreenRow<'a>> {
        let mask = *self.screen_masks().get(i)?;
        let at = i.checked_mul(SCREEN_ROW_BYTES)?;
        ScreenRow::new(
            mask,
            self.screen_codes()
                .get(at..at.checked_add(SCREEN_ROW_BYTES)?)?,
        )
    }

    /// The screening code of row `i` at `position`, if it has one.
    pub fn screen_code(&self, i: usize, position: FingerPosition) -> Option<&'a ScreenCodeBytes> {
        self.screen_row(i)?.code(ScreenSlot::of(position)?)
    }

    /// The face code and aux of row `i`, if it has a face.
    pub fn face_code(&self, i: usize) -> Option<(&'a [i8], [f32; 2])> {
        if !self.has_face(i) {
            return None;
        }
        let d = self.face_dim();
        let codes = self.face_codes().get(i * d..(i + 1) * d)?;
        Some((codes, *self.face_aux().get(i)?))
    }

    pub(crate) fn flags(&self, i: usize) -> u8 {
        match self.inner {
            Inner::Sealed(_, f) => f.get(i).copied(),
            Inner::Mem(m) => m.flags.get(i).copied(),
        }
        .unwrap_or(FLAG_DELETED)
    }

    /// Whether row `i` takes part in searches: not deleted and searchable.
    pub fn is_live(&self, i: usize) -> bool {
        self.flags(i) & (FLAG_DELETED | FLAG_SEARCHABLE) == FLAG_SEARCHABLE
    }

    /// Whether row `i` is a tombstone.
    pub fn is_deleted(&self, i: usize) -> bool {
        self.flags(i) & FLAG_DELETED != 0
    }

    /// Whether row `i` is flagged searchable (deleted rows may still be).
    pub fn is_searchable(&self, i: usize) -> bool {
        self.flags(i) & FLAG_SEARCHABLE != 0
    }

    /// Whether row `i` has a face code.
    pub fn has_face(&self, i: usize) -> bool {
        self.flags(i) & (FLAG_FACE | FLAG_DELETED) == FLAG_FACE
    }

    pub fn reference_id(&self, i: usize) -> &'a str {
        match self.inner {
            Inner::Sealed(s, _) => s.reference_id(i),
            Inner::Mem(m) => m.rows.get(i).map_or("", |r| r.id.as_str()),
        }
    }

    /// The `hoviyat_models::binary` record of row `i` (empty once a deleted
    /// row has been compacted).
    pub fn record_bytes(&self, i: usize) -> &'a [u8] {
        match self.inner {
            Inner::Sealed(s, _) => s.record_bytes(i),
            Inner::Mem(m) => m.rows.get(i).map_or(&[], |r| r.record.as_slice()),
        }
    }

    /// The finger blob of row `i` at `position`.
    pub fn finger_blob(&self, i: usize, position: FingerPosition) -> Option<&'a [u8]> {
        match self.inner {
            Inner::Sealed(s, _) => s.finger_blob(i, position),
            Inner::Mem(m) => m.blob(i, position),
        }
    }

    /// Number of finger blobs of row `i`.
    pub fn finger_count(&self, i: usize) -> usize {
        match self.inner {
            Inner::Sealed(s, _) => s.finger_count(i),
            Inner::Mem(m) => m.rows.get(i).map_or(0, |r| r.blobs.len()),
        }
    }

    /// The state stored with the row itself (ignores later overrides; use
    /// [`Snapshot::state`] for the current state).
    pub(crate) fn own_state(&self, i: usize) -> &'a [u8] {
        match self.inner {
            Inner::Sealed(s, _) => s.state(i),
            Inner::Mem(m) => m.rows.get(i).map_or(&[], |r| r.state.as_slice()),
        }
    }
}

/// One row of a snapshot.
#[derive(Debug, Clone, Copy)]
pub struct RowRef<'a> {
    /// The block holding the row.
    pub block: Block<'a>,
    /// The row's index in `block`.
    pub row: usize,
}

impl<'a> RowRef<'a> {
    pub fn reference_id(&self) -> &'a str {
        self.block.reference_id(self.row)
    }

    pub fn record_bytes(&self) -> &'a [u8] {
        self.block.record_bytes(self.row)
    }

    /// Decodes the stored record.
    pub fn record(&self) -> Result<EnrollmentRecord> {
        Ok(hoviyat_models::binary::decode_record(self.record_bytes())?)
    }

    pub fn is_live(&self) -> bool {
        self.block.is_live(self.row)
    }

    pub fn is_deleted(&self) -> bool {
        self.block.is_deleted(self.row)
    }

    pub fn is_searchable(&self) -> bool {
        self.block.is_searchable(self.row)
    }

    pub fn face_code(&self) -> Option<(&'a [i8], [f32; 2])> {
        self.block.face_code(self.row)
    }

    pub fn finger_blob(&self, position: FingerPosition) -> Option<&'a [u8]> {
        self.block.finger_blob(self.row, position)
    }

    /// The screening code at `position`, if the row has one.
    pub fn screen_code(&self, position: FingerPosition) -> Option<&'a ScreenCodeBytes> {
        self.block.screen_code(self.row, position)
    }
}
