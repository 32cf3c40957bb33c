//! Immutable segment files: sealed rows in a column layout that matchers scan
//! straight from the memory map.
//!
//! # Layout (format version 2, little-endian)
//! ```text
//! 0    magic "HVYSEGM\0"  version:u32  section_count:u32 (15)
//! 16   rows:u64  face_dim:u32  reserved:u32
//! 32   15 x { offset:u64 len:u64 crc32:u32 reserved:u32 }
//! 392  header_crc32:u32 (over bytes 0..392)
//! 448  sections, each starting on a 64-byte boundary:
//!  0 face codes      rows x face_dim i8, row-major (zeros for rows without a face)
//!  1 face aux        rows x [f32; 2]
//!  2 id offsets      (rows + 1) x u64 into section 3
//!  3 id bytes        UTF-8 reference ids, concatenated
//!  4 record offsets  (rows + 1) x u64 into section 5
//!  5 record bytes    `hoviyat_models::binary` records (empty for deleted stubs)
//!  6 blob starts     (rows + 1) x u64 into section 8
//!  7 blob lengths    rows x 11 x u16, by finger position code 0..=10; 0 = none
//!  8 blob bytes      each row's finger blobs in position order
//!  9 state offsets   (rows + 1) x u64 into section 10
//! 10 state bytes     per-reference state blobs as of sealing
//! 11 index hashes    rows x u64: FNV-1a of the ids, ascending
//! 12 index rows      rows x u32: the row of each hash
//! 13 screen codes    rows x SCREEN_ROW_BYTES: ten screening slots per row (zeros when absent)
//! 14 screen masks    rows x u16: bit s set when slot s holds a code
//! ```
//! Version 1 has sections 0-12 only (header checksum at 344, sections from
//! 384); it is still read, its rows have no screening codes.
//!
//! Opening checks the header checksum, every section's bounds and size, the
//! checksums of the small sections (all but 0, 5, 8, 10 and 13) and that every
//! offset table is monotone and ends at its section's end, so no accessor can
//! read out of bounds. The checksums of the four bulk sections are checked by
//! [`Segment::verify`], which reads every byte.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use hoviyat_models::{FingerPosition, MAX_REFERENCE_ID_BYTES};

use crate::store::format::{
    GALLERY_FORMAT_VERSION, SEGMENT_MAGIC, check_magic_version, corrupt, id_hash, io_err,
    segment_file, sync_dir,
};
use crate::store::mmap::Mapped;
use crate::store::{SCREEN_ROW_BYTES, SCREEN_SLOTS, ScreenRow};
use crate::{EngineError, GalleryFileKind, Result};

const KIND: GalleryFileKind = GalleryFileKind::Segment;
const SECTIONS: usize = 15;
/// Sections of a format-version-1 segment.
const SECTIONS_V1: usize = 13;
const DATA_START: u64 = 448;
const DATA_START_V1: u64 = 384;
const ALIGN: u64 = 64;
/// Finger position codes 0..=10: the blob slots of a row.
pub(crate) const BLOB_SLOTS: usize = 11;

const FACE_CODES: usize = 0;
const FACE_AUX: usize = 1;
const ID_OFFSETS: usize = 2;
const ID_BYTES: usize = 3;
const RECORD_OFFSETS: usize = 4;
const RECORD_BYTES: usize = 5;
const BLOB_STARTS: usize = 6;
const BLOB_LENS: usize = 7;
const BLOB_BYTES: usize = 8;
const STATE_OFFSETS: usize = 9;
const STATE_BYTES: usize = 10;
const INDEX_HASHES: usize = 11;
const INDEX_ROWS: usize = 12;
const SCREEN_CODES: usize = 13;
const SCREEN_MASKS: usize = 14;
const BULK: [usize; 5] = [
    FACE_CODES,
    RECORD_BYTES,
    BLOB_BYTES,
    STATE_BYTES,
    SCREEN_CODES,
];

const SECTION_NAMES: [&str; SECTIONS] = [
    "face codes section",
    "face aux section",
    "id offsets section",
    "id bytes section",
    "record offsets section",
    "record bytes section",
    "blob starts section",
    "blob lengths section",
    "blob bytes section",
    "state offsets section",
    "state bytes section",
    "index hashes section",
    "index rows section",
    "screen codes section",
    "screen masks section",
];

/// What a segment writer reads its rows from.
pub(crate) trait RowSource {
    fn len(&self) -> usize;
    fn id(&self, i: usize) -> &str;
    fn record(&self, i: usize) -> &[u8];
    fn face(&self, i: usize) -> Option<(&[i8], [f32; 2])>;
    /// The blob at finger position code `slot` (0..=10).
    fn blob(&self, i: usize, slot: usize) -> Option<&[u8]>;
    /// The screening codes of the row (`None` when it has none).
    fn screens(&self, i: usize) -> Option<ScreenRow<'_>>;
    fn state(&self, i: usize) -> &[u8];
}

#[derive(Debug, Clone, Copy, Default)]
struct Section {
    offset: usize,
    len: usize,
    crc: u32,
}

/// An open, memory-mapped segment.
#[derive(Debug)]
pub(crate) struct Segment {
    path: PathBuf,
    id: u64,
    map: Mapped,
    rows: usize,
    face_dim: usize,
    sections: [Section; SECTIONS],
}

impl Segment {
    /// Maps and checks `dir/seg-<id>.hvs`, which must hold `expected_rows`
    /// rows of `face_dim`-dimensional face codes.
    pub(crate) fn open(dir: &Path, id: u64, expected_rows: usize, face_dim: usize) -> Result<Self> {
        let path = dir.join(segment_file(id));
        let map = Mapped::open(&path, KIND)?;
        let bytes = map.bytes();
        let truncated = |what, offset: usize, needed: usize| EngineError::TruncatedFile {
            path: path.clone(),
            kind: KIND,
            what,
            offset: offset as u64,
            needed: needed as u64,
            available: bytes.len() as u64,
        };
        let version = check_magic_version(bytes, &SEGMENT_MAGIC, &path, KIND)?;
        let (count, data_start) = if version == 1 {
            (SECTIONS_V1, DATA_START_V1)
        } else {
            (SECTIONS, DATA_START)
        };
        let header_crc_at = 32 + count * 24;
        if bytes.len() < header_crc_at + 4 {
            return Err(truncated("header", 0, header_crc_at + 4));
        }
        let header_crc = read_u32(bytes, header_crc_at);
        if crc32fast::hash(&bytes[..header_crc_at]) != header_crc {
            return Err(corrupt(
                &path,
                KIND,
                "header checksum",
                header_crc_at as u64,
            ));
        }
        let section_count = read_u32(bytes, 12) as usize;
        let rows = read_u64(bytes, 16);
        let dim = read_u32(bytes, 24) as usize;
        if section_count != count {
            return Err(corrupt(&path, KIND, "section count", 12));
        }
        if usize::try_from(rows).ok() != Some(expected_rows) {
            return Err(corrupt(
                &path,
                KIND,
                "row count (disagrees with manifest)",
                16,
            ));
        }
        if dim != face_dim {
            return Err(corrupt(
                &path,
                KIND,
                "face dimension (disagrees with manifest)",
                24,
            ));
        }
        let rows = expected_rows;
        // A version-1 segment's screening sections stay empty.
        let mut sections = [Section::default(); SECTIONS];
        for (s, section) in sections.iter_mut().enumerate().take(count) {
            let at = 32 + s * 24;
            let offset = read_u64(bytes, at);
            let len = read_u64(bytes, at + 8);
            let end = offset.checked_add(len);
            match end {
                Some(end) if end <= bytes.len() as u64 => {}
                _ => {
                    return Err(truncated(SECTION_NAMES[s], offset as usize, len as usize));
                }
            }
            if !offset.is_multiple_of(ALIGN) || offset < data_start {
                return Err(corrupt(&path, KIND, "section alignment", at as u64));
            }
            *section = Section {
                offset: offset as usize,
                len: len as usize,
                crc: read_u32(bytes, at + 16),
            };
        }
        let expected_len = |s: usize| -> Option<usize> {
            let r1 = rows.checked_add(1)?;
            match s {
                FACE_CODES => rows.checked_mul(dim),
                FACE_AUX => rows.checked_mul(8),
                ID_OFFSETS | RECORD_OFFSETS | BLOB_STARTS | STATE_OFFSETS => r1.checked_mul(8),
                BLOB_LENS => rows.checked_mul(2 * BLOB_SLOTS),
                INDEX_HASHES => rows.checked_mul(8),
                INDEX_ROWS => rows.checked_mul(4),
                SCREEN_CODES => rows.checked_mul(SCREEN_ROW_BYTES),
                SCREEN_MASKS => rows.checked_mul(2),
                _ => None,
            }
        };
        for (s, section) in sections.iter().enumerate().take(count) {
            if let Some(want) = expected_len(s)
                && section.len != want
            {
                return Err(corrupt(
                    &path,
                    KIND,
                    SECTION_NAMES[s],
                    (32 + s * 24 + 8) as u64,
                ));
            }
            if !BULK.contains(&s)
                && crc32fast::hash(&bytes[section.offset..section.offset + section.len])
                    != section.crc
            {
                return Err(corrupt(
                    &path,
                    KIND,
                    SECTION_NAMES[s],
                    section.offset as u64,
                ));
            }
        }
        let seg = Self {
            path,
            id,
            map,
            rows,
            face_dim: dim,
            sections,
        };
        seg.check_structure()?;
        Ok(seg)
    }

    /// Checks offsets tables and ids so that accessors never go out of bounds.
    fn check_structure(&self) -> Result<()> {
        for (offs, data) in [
            (ID_OFFSETS, ID_BYTES),
            (RECORD_OFFSETS, RECORD_BYTES),
            (STATE_OFFSETS, STATE_BYTES),
            (BLOB_STARTS, BLOB_BYTES),
        ] {
            let table = self.u64s(offs)?;
            let mut prev = 0u64;
            if table.first() != Some(&0) {
                return Err(self.corrupt_in(offs, 0));
            }
            for (i, &o) in table.iter().enumerate() {
                if o < prev {
                    return Err(self.corrupt_in(offs, i * 8));
                }
                prev = o;
            }
            if prev != self.sections[data].len as u64 {
                return Err(self.corrupt_in(offs, table.len().saturating_sub(1) * 8));
            }
        }
        let starts = self.u64s(BLOB_STARTS)?;
        let lens = self.u16s(BLOB_LENS)?;
        for i in 0..self.rows {
            let sum: u64 = lens[i * BLOB_SLOTS..(i + 1) * BLOB_SLOTS]
                .iter()
                .map(|&l| u64::from(l))
                .sum();
            if starts[i] + sum != starts[i + 1] {
                return Err(self.corrupt_in(BLOB_LENS, i * BLOB_SLOTS * 2));
            }
        }
        let id_offs = self.u64s(ID_OFFSETS)?;
        let ids = self.section(ID_BYTES);
        for i in 0..self.rows {
            let raw = &ids[id_offs[i] as usize..id_offs[i + 1] as usize];
            if raw.is_empty()
                || raw.len() > MAX_REFERENCE_ID_BYTES
                || std::str::from_utf8(raw).is_err()
            {
                return Err(self.corrupt_in(ID_BYTES, id_offs[i] as usize));
            }
        }
        let hashes = self.u64s(INDEX_HASHES)?;
        if hashes.windows(2).any(|w| w[0] > w[1]) {
            return Err(self.corrupt_in(INDEX_HASHES, 0));
        }
        let index_rows = self.u32s(INDEX_ROWS)?;
        if let Some(i) = index_rows.iter().position(|&r| r as usize >= self.rows) {
            return Err(self.corrupt_in(INDEX_ROWS, i * 4));
        }
        let masks = self.u16s(SCREEN_MASKS)?;
        if let Some(i) = masks.iter().position(|&m| m >> SCREEN_SLOTS != 0) {
            return Err(self.corrupt_in(SCREEN_MASKS, i * 2));
        }
        Ok(())
    }

    /// Checks the checksums of the bulk sections (reads the whole file).
    pub(crate) fn verify(&self) -> Result<()> {
        for s in BULK {
            if crc32fast::hash(self.section(s)) != self.sections[s].crc {
                return Err(self.corrupt_in(s, 0));
            }
        }
        Ok(())
    }

    fn corrupt_in(&self, s: usize, at: usize) -> EngineError {
        corrupt(
            &self.path,
            KIND,
            SECTION_NAMES[s],
            (self.sections[s].offset + at) as u64,
        )
    }

    fn section(&self, s: usize) -> &[u8] {
        let sec = self.sections[s];
        self.map
            .bytes()
            .get(sec.offset..sec.offset + sec.len)
            .unwrap_or(&[])
    }

    fn u64s(&self, s: usize) -> Result<&[u64]> {
        bytemuck::try_cast_slice(self.section(s)).map_err(|_| self.corrupt_in(s, 0))
    }

    fn u32s(&self, s: usize) -> Result<&[u32]> {
        bytemuck::try_cast_slice(self.section(s)).map_err(|_| self.corrupt_in(s, 0))
    }

    fn u16s(&self, s: usize) -> Result<&[u16]> {
        bytemuck::try_cast_slice(self.section(s)).map_err(|_| self.corrupt_in(s, 0))
    }

    // Accessors: the tables were checked at open, so the casts succeed and
    // the slices are in bounds; the fallbacks only keep the code panic-free.

    fn table(&self, s: usize) -> &[u64] {
        bytemuck::try_cast_slice(self.section(s)).unwrap_or(&[])
    }

    fn slice_at(&self, offs: usize, data: usize, i: usize) -> &[u8] {
        let t = self.table(offs);
        match (t.get(i), t.get(i + 1)) {
            (Some(&a), Some(&b)) => self
                .section(data)
                .get(a as usize..b as usize)
                .unwrap_or(&[]),
            _ => &[],
        }
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn len(&self) -> usize {
        self.rows
    }

    pub(crate) fn face_dim(&self) -> usize {
        self.face_dim
    }

    pub(crate) fn face_codes(&self) -> &[i8] {
        bytemuck::cast_slice(self.section(FACE_CODES))
    }

    pub(crate) fn face_aux(&self) -> &[[f32; 2]] {
        bytemuck::try_cast_slice(self.section(FACE_AUX)).unwrap_or(&[])
    }

    /// The screening column (empty in a version-1 segment).
    pub(crate) fn screen_codes(&self) -> &[u8] {
        self.section(SCREEN_CODES)
    }

    /// The rows' screening masks (empty in a version-1 segment).
    pub(crate) fn screen_masks(&self) -> &[u16] {
        bytemuck::try_cast_slice(self.section(SCREEN_MASKS)).unwrap_or(&[])
    }

    pub(crate) fn reference_id(&self, i: usize) -> &str {
        std::str::from_utf8(self.slice_at(ID_OFFSETS, ID_BYTES, i)).unwrap_or("")
    }

    pub(crate) fn record_bytes(&self, i: usize) -> &[u8] {
        self.slice_at(RECORD_OFFSETS, RECORD_BYTES, i)
    }

    pub(crate) fn state(&self, i: usize) -> &[u8] {
        self.slice_at(STATE_OFFSETS, STATE_BYTES, i)
    }

    fn blob_lens(&self, i: usize) -> &[u16] {
        let lens: &[u16] = bytemuck::try_cast_slice(self.section(BLOB_LENS)).unwrap_or(&[]);
        lens.get(i * BLOB_SLOTS..(i + 1) * BLOB_SLOTS)
            .unwrap_or(&[])
    }

    /// The blob at finger position code `slot`.
    pub(crate) fn blob_slot(&self, i: usize, slot: usize) -> Option<&[u8]> {
        let lens = self.blob_lens(i);
        let len = usize::from(*lens.get(slot)?);
        if len == 0 {
            return None;
        }
        let before: usize = lens[..slot].iter().map(|&l| usize::from(l)).sum();
        let start = *self.table(BLOB_STARTS).get(i)? as usize + before;
        self.section(BLOB_BYTES).get(start..start + len)
    }

    pub(crate) fn finger_blob(&self, i: usize, position: FingerPosition) -> Option<&[u8]> {
        self.blob_slot(i, usize::from(position.code()))
    }

    /// Number of finger blobs of row `i`.
    pub(crate) fn finger_count(&self, i: usize) -> usize {
        self.blob_lens(i).iter().filter(|&&l| l > 0).count()
    }

    /// The row holding `id`, by binary search of the hash index.
    pub(crate) fn find(&self, id: &str) -> Option<usize> {
        let h = id_hash(id);
        let hashes: &[u64] = bytemuck::try_cast_slice(self.section(INDEX_HASHES)).unwrap_or(&[]);
        let rows: &[u32] = bytemuck::try_cast_slice(self.section(INDEX_ROWS)).unwrap_or(&[]);
        let mut k = hashes.partition_point(|&x| x < h);
        while k < hashes.len() && hashes[k] == h {
            let row = *rows.get(k)? as usize;
            if self.reference_id(row) == id {
                return Some(row);
            }
            k += 1;
        }
        None
    }
}

fn read_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn read_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// A buffered writer that tracks its position and the running checksum of
/// the current section.
struct SectionWriter {
    w: BufWriter<File>,
    path: PathBuf,
    pos: u64,
    crc: crc32fast::Hasher,
    start: u64,
}

impl SectionWriter {
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.w.write_all(bytes).map_err(io_err(&self.path))?;
        self.crc.update(bytes);
        self.pos += bytes.len() as u64;
        Ok(())
    }

    fn begin(&mut self) -> Result<()> {
        let pad = (ALIGN - self.pos % ALIGN) % ALIGN;
        self.w
            .write_all(&[0u8; ALIGN as usize][..pad as usize])
            .map_err(io_err(&self.path))?;
        self.pos += pad;
        self.start = self.pos;
        self.crc = crc32fast::Hasher::new();
        Ok(())
    }

    fn end(&mut self) -> Section {
        Section {
            offset: self.start as usize,
            len: (self.pos - self.start) as usize,
            crc: std::mem::take(&mut self.crc).finalize(),
        }
    }
}

/// Writes an offsets section and the bytes section it indexes.
fn write_var<'s>(
    w: &mut SectionWriter,
    rows: usize,
    get: impl Fn(usize) -> &'s [u8],
) -> Result<(Section, Section)> {
    w.begin()?;
    let mut at = 0u64;
    w.write(&at.to_le_bytes())?;
    for i in 0..rows {
        at += get(i).len() as u64;
        w.write(&at.to_le_bytes())?;
    }
    let offsets = w.end();
    w.begin()?;
    for i in 0..rows {
        w.write(get(i))?;
    }
    Ok((offsets, w.end()))
}

/// Writes the rows of `src` as segment `id` in `dir` durably (temporary name,
/// fsync, rename, directory fsync) and returns its path.
pub(crate) fn write_segment(
    dir: &Path,
    id: u64,
    face_dim: usize,
    src: &dyn RowSource,
) -> Result<PathBuf> {
    let rows = src.len();
    let final_path = dir.join(segment_file(id));
    let tmp = dir.join(format!("{}.tmp", segment_file(id)));
    let file = File::create(&tmp).map_err(io_err(&tmp))?;
    let mut w = SectionWriter {
        w: BufWriter::with_capacity(1 << 20, file),
        path: tmp.clone(),
        pos: 0,
        crc: crc32fast::Hasher::new(),
        start: 0,
    };
    w.write(&[0u8; DATA_START as usize])?;
    let mut sections = [Section::default(); SECTIONS];

    w.begin()?;
    let zeros = vec![0i8; face_dim];
    for i in 0..rows {
        let codes = src.face(i).map_or(zeros.as_slice(), |(c, _)| c);
        w.write(bytemuck::cast_slice(codes))?;
    }
    sections[FACE_CODES] = w.end();

    w.begin()?;
    for i in 0..rows {
        let aux = src.face(i).map_or([0.0; 2], |(_, a)| a);
        w.write(bytemuck::cast_slice(&aux))?;
    }
    sections[FACE_AUX] = w.end();

    (sections[ID_OFFSETS], sections[ID_BYTES]) = write_var(&mut w, rows, |i| src.id(i).as_bytes())?;
    (sections[RECORD_OFFSETS], sections[RECORD_BYTES]) =
        write_var(&mut w, rows, |i| src.record(i))?;

    w.begin()?;
    let mut at = 0u64;
    w.write(&at.to_le_bytes())?;
    for i in 0..rows {
        for slot in 0..BLOB_SLOTS {
            at += src.blob(i, slot).map_or(0, |b| b.len() as u64);
        }
        w.write(&at.to_le_bytes())?;
    }
    sections[BLOB_STARTS] = w.end();
    w.begin()?;
    for i in 0..rows {
        for slot in 0..BLOB_SLOTS {
            let len = src.blob(i, slot).map_or(0, |b| b.len());
            // Insert checked blob lengths against u16::MAX.
            w.write(&(len.min(usize::from(u16::MAX)) as u16).to_le_bytes())?;
        }
    }
    sections[BLOB_LENS] = w.end();
    w.begin()?;
    for i in 0..rows {
        for slot in 0..BLOB_SLOTS {
            if let Some(b) = src.blob(i, slot) {
                w.write(b)?;
            }
        }
    }
    sections[BLOB_BYTES] = w.end();

    (sections[STATE_OFFSETS], sections[STATE_BYTES]) = write_var(&mut w, rows, |i| src.state(i))?;

    w.begin()?;
    let no_screens = [0u8; SCREEN_ROW_BYTES];
    // A row's screening slots as written: a row without a code is zeros.
    let screens = |i: usize| -> (u16, &[u8]) {
        match src.screens(i) {
            Some(row) if !row.is_empty() => (row.mask(), row.bytes()),
            _ => (0, &no_screens),
        }
    };
    for i in 0..rows {
        w.write(screens(i).1)?;
    }
    sections[SCREEN_CODES] = w.end();
    w.begin()?;
    for i in 0..rows {
        w.write(&screens(i).0.to_le_bytes())?;
    }
    sections[SCREEN_MASKS] = w.end();

    let mut index: Vec<(u64, u32)> = (0..rows).map(|i| (id_hash(src.id(i)), i as u32)).collect();
    index.sort_unstable();
    w.begin()?;
    for &(h, _) in &index {
        w.write(&h.to_le_bytes())?;
    }
    sections[INDEX_HASHES] = w.end();
    w.begin()?;
    for &(_, r) in &index {
        w.write(&r.to_le_bytes())?;
    }
    sections[INDEX_ROWS] = w.end();
    drop(index);

    let mut header = Vec::with_capacity(DATA_START as usize);
    header.extend_from_slice(&SEGMENT_MAGIC);
    header.extend_from_slice(&GALLERY_FORMAT_VERSION.to_le_bytes());
    header.extend_from_slice(&(SECTIONS as u32).to_le_bytes());
    header.extend_from_slice(&(rows as u64).to_le_bytes());
    header.extend_from_slice(&(face_dim as u32).to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes());
    for s in &sections {
        header.extend_from_slice(&(s.offset as u64).to_le_bytes());
        header.extend_from_slice(&(s.len as u64).to_le_bytes());
        header.extend_from_slice(&s.crc.to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes());
    }
    let crc = crc32fast::hash(&header);
    header.extend_from_slice(&crc.to_le_bytes());

    let mut file = w.w.into_inner().map_err(|e| io_err(&tmp)(e.into_error()))?;
    file.seek(SeekFrom::Start(0)).map_err(io_err(&tmp))?;
    file.write_all(&header).map_err(io_err(&tmp))?;
    file.sync_all().map_err(io_err(&tmp))?;
    drop(file);
    std::fs::rename(&tmp, &final_path).map_err(io_err(&final_path))?;
    sync_dir(dir)?;
    Ok(final_path)
}
