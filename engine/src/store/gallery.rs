//! The gallery: opening and creating it, the single writer (log, apply,
//! publish), sealing and compaction.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use hoviyat_models::{FingerPosition, MAX_FACE_DIM, binary::decode_record, validate_reference_id};
use rayon::prelude::*;
use serde::Serialize;

use crate::store::format::{
    GALLERY_FORMAT_VERSION, LOCK_FILE, MANIFEST_FILE, io_err, parse_file_id, sync_dir, wal_file,
};
use crate::store::manifest::Manifest;
use crate::store::memblock::{MemBlock, MemRow};
use crate::store::segment::{BLOB_SLOTS, RowSource, Segment, write_segment};
use crate::store::snapshot::{
    Block, Counts, FLAG_DELETED, FLAG_FACE, FLAG_SEARCHABLE, Loc, SealedBlock, Snapshot, Version,
};
use crate::store::wal::{Op, WalWriter, encode_entry, read_wal};
use crate::store::{
    DEFAULT_AUTO_SEAL_ROWS, GalleryConfig, MAX_FINGER_BLOB_BYTES, MAX_STATE_BYTES, PreparedRecord,
};
use crate::{EngineError, GalleryFileKind, Result};

/// Figures of `hoviyat gallery stats`.
#[derive(Debug, Clone, Serialize)]
pub struct GalleryStats {
    /// Rows not deleted (searchable or held).
    pub identities: u64,
    /// Live rows that take part in searches.
    pub searchable: u64,
    /// Finger blobs of live rows.
    pub fingers: u64,
    /// Live rows with a face code.
    pub faces: u64,
    /// Deleted references.
    pub deleted: u64,
    /// Sum of the sizes of the files in the gallery directory.
    pub bytes_on_disk: u64,
    /// `bytes_on_disk / identities` (0 for an empty gallery).
    pub bytes_per_identity: f64,
    pub format_version: u32,
    pub face_dim: Option<usize>,
    /// Sealed segment files.
    pub segments: usize,
    /// Rows held only in the write-ahead log (and memory) so far.
    pub unsealed_rows: usize,
}

#[derive(Debug)]
struct Writer {
    wal: WalWriter,
    next_file_id: u64,
    poisoned: bool,
    auto_seal_rows: usize,
}

/// A gallery directory, open for searching and (unless read-only) writing.
///
/// `Gallery` is `Send + Sync`: share it with an `Arc`. Writes serialise on
/// an internal mutex; [`Gallery::snapshot`] never waits for a writer's I/O.
#[derive(Debug)]
pub struct Gallery {
    dir: PathBuf,
    current: RwLock<Arc<Version>>,
    writer: Option<Mutex<Writer>>,
    _lock: Option<File>,
}

impl Gallery {
    /// Creates an empty gallery in `dir` (created if absent; must not hold a
    /// gallery already) and opens it for writing.
    pub fn create(dir: impl AsRef<Path>, config: GalleryConfig) -> Result<Self> {
        let dir = dir.as_ref();
        check_config(&config)?;
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        if dir.join(MANIFEST_FILE).exists() {
            return Err(EngineError::GalleryExists {
                path: dir.to_path_buf(),
            });
        }
        let lock = lock_dir(dir)?;
        let wal = WalWriter::create(dir, 1)?;
        Manifest {
            config,
            next_file_id: 2,
            wal_id: 1,
            segments: Vec::new(),
            states: HashMap::new(),
        }
        .write(dir)?;
        drop(wal);
        Self::open_inner(dir, Some(lock))
    }

    /// Opens the gallery in `dir` for reading and writing: replays the log
    /// (dropping a torn tail), and removes files a crash left behind.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let lock = lock_dir(dir)?;
        Self::open_inner(dir, Some(lock))
    }

    /// Opens the gallery in `dir` without changing any file (another process
    /// may be writing it; its later writes are not seen).
    pub fn open_read_only(dir: impl AsRef<Path>) -> Result<Self> {
        Self::open_inner(dir.as_ref(), None)
    }

    fn open_inner(dir: &Path, lock: Option<File>) -> Result<Self> {
        let manifest = Manifest::read(dir)?;
        let face_dim = manifest.config.face_dim.unwrap_or(0);
        let sealed: Vec<SealedBlock> = manifest
            .segments
            .par_iter()
            .map(|(id, flags)| {
                let seg = Segment::open(dir, *id, flags.len(), face_dim)?;
                Ok(SealedBlock {
                    seg: Arc::new(seg),
                    flags: Arc::new(flags.clone()),
                })
            })
            .collect::<Result<_>>()?;
        let mut v = Version {
            config: Arc::new(manifest.config.clone()),
            sealed,
            tail: Vec::new(),
            base_states: Arc::new(manifest.states.clone()),
            delta_states: Arc::new(HashMap::new()),
            counts: Counts::default(),
        };
        let counts: Vec<Counts> = v
            .sealed
            .par_iter()
            .map(|sb| {
                let mut scratch = Version {
                    sealed: Vec::new(),
                    tail: Vec::new(),
                    counts: Counts::default(),
                    ..v.clone()
                };
                for (i, &f) in sb.flags.iter().enumerate() {
                    scratch.count(f, sb.seg.finger_count(i) as u64);
                }
                scratch.counts
            })
            .collect();
        for c in counts {
            v.counts.identities += c.identities;
            v.counts.searchable += c.searchable;
            v.counts.fingers += c.fingers;
            v.counts.faces += c.faces;
            v.counts.deleted += c.deleted;
        }
        let replay = read_wal(dir, manifest.wal_id)?;
        let wal_path = dir.join(wal_file(manifest.wal_id));
        for batch in replay.batches {
            for op in batch {
                apply(&mut v, op, false).map_err(|_| EngineError::CorruptFile {
                    path: wal_path.clone(),
                    kind: GalleryFileKind::Wal,
                    what: "logged operation (does not apply)",
                    offset: 0,
                })?;
            }
        }
        if replay.dropped_bytes > 0 {
            tracing::warn!(
                path = %wal_path.display(),
                bytes = replay.dropped_bytes,
                "dropped a torn, unacknowledged tail of the write-ahead log"
            );
        }
        let writer = match lock {
            Some(_) => {
                let wal = WalWriter::reopen(dir, manifest.wal_id, replay.valid_len)?;
                remove_orphans(dir, &manifest);
                Some(Mutex::new(Writer {
                    wal,
                    next_file_id: manifest.next_file_id,
                    poisoned: false,
                    auto_seal_rows: DEFAULT_AUTO_SEAL_ROWS,
                }))
            }
            None => None,
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            current: RwLock::new(Arc::new(v)),
            writer,
            _lock: lock,
        })
    }

    /// The gallery directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A consistent view holding every write acknowledged before this call.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot { v: self.version() }
    }

    fn version(&self) -> Arc<Version> {
        // A panic while holding the lock cannot leave a half-written Arc.
        match self.current.read() {
            Ok(g) => Arc::clone(&g),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn publish(&self, v: Version) {
        let mut g = match self.current.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        *g = Arc::new(v);
    }

    fn writer(&self) -> Result<std::sync::MutexGuard<'_, Writer>> {
        let w = self
            .writer
            .as_ref()
            .ok_or(EngineError::ReadOnlyGallery)?
            .lock()
            .map_err(|_| EngineError::GalleryPoisoned)?;
        if w.poisoned {
            return Err(EngineError::GalleryPoisoned);
        }
        Ok(w)
    }

    /// Rows kept in the log before an insert seals them into a segment
    /// automatically (default [`DEFAULT_AUTO_SEAL_ROWS`]; `usize::MAX` never).
    pub fn set_auto_seal_rows(&self, rows: usize) -> Result<()> {
        self.writer()?.auto_seal_rows = rows.max(1);
        Ok(())
    }

    /// Turns the fdatasync after each log append off (`false`) or on. Off
    /// loses acknowledged writes on power failure: for benchmarks only.
    pub fn set_sync(&self, sync: bool) -> Result<()> {
        self.writer()?.wal.sync = sync;
        Ok(())
    }

    /// Inserts one record; returns once it is durable.
    pub fn insert(&self, record: PreparedRecord) -> Result<()> {
        self.insert_batch(vec![record])
    }

    /// Inserts records atomically with one fsync (group commit): all of them
    /// are stored, or none and the error says why.
    pub fn insert_batch(&self, records: Vec<PreparedRecord>) -> Result<()> {
        self.commit(records.into_iter().map(Op::Insert).collect())
    }

    /// Takes a live reference in or out of searches.
    pub fn set_searchable(&self, reference_id: &str, searchable: bool) -> Result<()> {
        self.commit(vec![Op::SetSearchable {
            id: reference_id.to_string(),
            searchable,
        }])
    }

    /// Replaces the state blob of a reference (also allowed once deleted).
    pub fn set_state(&self, reference_id: &str, state: Vec<u8>) -> Result<()> {
        self.commit(vec![Op::SetState {
            id: reference_id.to_string(),
            state,
        }])
    }

    /// Deletes a reference: its row becomes a tombstone; id and state stay.
    pub fn delete(&self, reference_id: &str) -> Result<()> {
        self.commit(vec![Op::Delete {
            id: reference_id.to_string(),
        }])
    }

    /// Validates `ops` against the current version, logs them durably as one
    /// entry, then publishes the new version.
    fn commit(&self, ops: Vec<Op>) -> Result<()> {
        if ops.is_empty() {
            return Ok(());
        }
        let mut w = self.writer()?;
        let entry = encode_entry(&ops);
        let mut next = (*self.version()).clone();
        for op in ops {
            apply(&mut next, op, true)?;
        }
        if let Err(e) = w.wal.append(&entry) {
            w.poisoned = true;
            return Err(e);
        }
        let tail_rows = next.tail_rows();
        self.publish(next);
        if tail_rows >= w.auto_seal_rows {
            // The writes are durable already: a failed seal must not turn
            // their acknowledgement into an error.
            if let Err(e) = self.seal_locked(&mut w) {
                tracing::warn!(error = %e, "automatic seal failed; the rows stay in the log");
            }
        }
        Ok(())
    }

    /// Moves logged rows into a new segment and starts a fresh log.
    pub fn seal(&self) -> Result<()> {
        let mut w = self.writer()?;
        self.seal_locked(&mut w)
    }

    fn seal_locked(&self, w: &mut Writer) -> Result<()> {
        if w.wal.entry_bytes() == 0 {
            return Ok(());
        }
        let v = self.version();
        let dir = &self.dir;
        let dim = v.face_dim();
        let mut sealed = v.sealed.clone();
        let tail_rows = v.tail_rows();
        if tail_rows > 0 {
            let src = BlockSource::new(&v, v.tail.iter().map(|b| Block::from_mem(b)));
            let id = w.next_file_id;
            w.next_file_id += 1;
            write_segment(dir, id, dim, &src)?;
            let flags = src.flags();
            let seg = Segment::open(dir, id, flags.len(), dim)?;
            sealed.push(SealedBlock {
                seg: Arc::new(seg),
                flags: Arc::new(flags),
            });
        }
        let wal_id = w.next_file_id;
        w.next_file_id += 1;
        let wal = WalWriter::create(dir, wal_id)?;
        sync_dir(dir)?;
        let mut states = (*v.base_states).clone();
        states.extend(v.delta_states.iter().map(|(k, s)| (k.clone(), s.clone())));
        let manifest = Manifest {
            config: (*v.config).clone(),
            next_file_id: w.next_file_id,
            wal_id,
            segments: sealed
                .iter()
                .map(|sb| (sb.seg.id(), sb.flags.to_vec()))
                .collect(),
            states,
        };
        if let Err(e) = manifest.write(dir) {
            // The rename may or may not have happened: stop writing.
            w.poisoned = true;
            return Err(e);
        }
        let old_wal = dir.join(wal_file(w.wal.id()));
        w.wal = wal;
        self.publish(Version {
            config: Arc::clone(&v.config),
            sealed,
            tail: Vec::new(),
            base_states: Arc::new(manifest.states),
            delta_states: Arc::new(HashMap::new()),
            counts: v.counts,
        });
        if let Err(e) = std::fs::remove_file(&old_wal) {
            tracing::warn!(path = %old_wal.display(), error = %e, "could not remove a sealed log");
        }
        Ok(())
    }

    /// Seals, then rewrites all segments into one: deleted rows shrink to
    /// stubs (id and state), state overrides are folded in. Snapshots taken
    /// before keep reading the old segments; writers wait.
    pub fn compact(&self) -> Result<()> {
        let mut w = self.writer()?;
        self.seal_locked(&mut w)?;
        let v = self.version();
        if v.sealed.is_empty() {
            return Ok(());
        }
        let dir = &self.dir;
        let dim = v.face_dim();
        let src = BlockSource::new(&v, v.sealed.iter().map(Block::from_sealed));
        let id = w.next_file_id;
        w.next_file_id += 1;
        write_segment(dir, id, dim, &src)?;
        let flags = src.flags();
        let seg = Segment::open(dir, id, flags.len(), dim)?;
        drop(src);
        let manifest = Manifest {
            config: (*v.config).clone(),
            next_file_id: w.next_file_id,
            wal_id: w.wal.id(),
            segments: vec![(id, flags.clone())],
            states: HashMap::new(),
        };
        if let Err(e) = manifest.write(dir) {
            w.poisoned = true;
            return Err(e);
        }
        self.publish(Version {
            config: Arc::clone(&v.config),
            sealed: vec![SealedBlock {
                seg: Arc::new(seg),
                flags: Arc::new(flags),
            }],
            tail: Vec::new(),
            base_states: Arc::new(HashMap::new()),
            delta_states: Arc::new(HashMap::new()),
            counts: v.counts,
        });
        for sb in &v.sealed {
            // Unlinking keeps the bytes of maps that older snapshots hold.
            if let Err(e) = std::fs::remove_file(sb.seg.path()) {
                tracing::warn!(path = %sb.seg.path().display(), error = %e, "could not remove a compacted segment");
            }
        }
        Ok(())
    }

    /// Reads every byte of every segment and checks all checksums (open
    /// checks only the small sections).
    pub fn verify(&self) -> Result<()> {
        let v = self.version();
        v.sealed.par_iter().try_for_each(|sb| sb.seg.verify())
    }

    /// Counts and sizes.
    pub fn stats(&self) -> Result<GalleryStats> {
        let v = self.version();
        let mut bytes_on_disk = 0;
        let entries = std::fs::read_dir(&self.dir).map_err(io_err(&self.dir))?;
        for entry in entries {
            let entry = entry.map_err(io_err(&self.dir))?;
            if let Ok(meta) = entry.metadata()
                && meta.is_file()
            {
                bytes_on_disk += meta.len();
            }
        }
        let c = v.counts;
        Ok(GalleryStats {
            identities: c.identities,
            searchable: c.searchable,
            fingers: c.fingers,
            faces: c.faces,
            deleted: c.deleted,
            bytes_on_disk,
            bytes_per_identity: if c.identities == 0 {
                0.0
            } else {
                bytes_on_disk as f64 / c.identities as f64
            },
            format_version: GALLERY_FORMAT_VERSION,
            face_dim: v.config.face_dim,
            segments: v.sealed.len(),
            unsealed_rows: v.tail_rows(),
        })
    }
}

fn check_config(config: &GalleryConfig) -> Result<()> {
    if let Some(d) = config.face_dim
        && (d == 0 || d > MAX_FACE_DIM)
    {
        return Err(EngineError::Model(
            hoviyat_models::ModelError::FaceDimensionOutOfRange {
                got: d,
                max: MAX_FACE_DIM,
            },
        ));
    }
    if let Some(mean) = &config.face_mean
        && Some(mean.len()) != config.face_dim
    {
        return Err(EngineError::FaceMeanDimension {
            expected: config.face_dim,
            got: mean.len(),
        });
    }
    Ok(())
}

#[expect(
    clippy::incompatible_msrv,
    reason = "File::try_lock is std since 1.89; the workspace builds with 1.95"
)]
fn lock_dir(dir: &Path) -> Result<File> {
    let path = dir.join(LOCK_FILE);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                EngineError::MissingFile {
                    path: dir.join(MANIFEST_FILE),
                    kind: GalleryFileKind::Manifest,
                }
            } else {
                EngineError::Io {
                    path: path.clone(),
                    source,
                }
            }
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(EngineError::GalleryLocked {
            path: dir.to_path_buf(),
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(EngineError::Io { path, source }),
    }
}

/// Removes segments and logs the manifest does not name, and temporary
/// files: what a crash during sealing or compaction leaves behind.
fn remove_orphans(dir: &Path, manifest: &Manifest) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let orphan = if name.ends_with(".tmp") {
            true
        } else if let Some(id) = parse_file_id(name) {
            if name.starts_with("seg-") {
                !manifest.segments.iter().any(|(s, _)| *s == id)
            } else {
                id != manifest.wal_id
            }
        } else {
            false
        };
        if orphan {
            let path = dir.join(name);
            match std::fs::remove_file(&path) {
                Ok(()) => tracing::info!(path = %path.display(), "removed a file left by an interrupted seal"),
                Err(e) => tracing::warn!(path = %path.display(), error = %e, "could not remove an orphan file"),
            }
        }
    }
}

/// Checks a prepared row on its own and against the configuration.
fn check_prepared(p: &PreparedRecord, config: &GalleryConfig, check_record: bool) -> Result<()> {
    validate_reference_id(&p.reference_id)?;
    if check_record {
        let record = decode_record(&p.record_bytes)?;
        if record.reference_id != p.reference_id {
            return Err(EngineError::ReferenceIdMismatch {
                expected: p.reference_id.clone(),
                found: record.reference_id,
            });
        }
    }
    if let Some(face) = &p.face {
        if config.face_dim != Some(face.codes.len()) {
            return Err(EngineError::FaceCodeDimension {
                expected: config.face_dim,
                got: face.codes.len(),
            });
        }
        if !face.aux.iter().all(|a| a.is_finite()) {
            return Err(EngineError::NonFiniteFaceAux);
        }
    }
    let mut seen = [false; BLOB_SLOTS];
    for (position, blob) in &p.fingers {
        if blob.is_empty() || blob.len() > MAX_FINGER_BLOB_BYTES {
            return Err(EngineError::FingerBlobSize {
                position: *position,
                len: blob.len(),
                max: MAX_FINGER_BLOB_BYTES,
            });
        }
        let slot = &mut seen[usize::from(position.code())];
        if *slot {
            return Err(EngineError::DuplicateFingerBlob {
                position: *position,
            });
        }
        *slot = true;
    }
    if p.state.len() > MAX_STATE_BYTES {
        return Err(EngineError::StateTooLarge {
            len: p.state.len(),
            max: MAX_STATE_BYTES,
        });
    }
    if p.record_bytes.len() > u32::MAX as usize {
        return Err(EngineError::StateTooLarge {
            len: p.record_bytes.len(),
            max: u32::MAX as usize,
        });
    }
    Ok(())
}

/// Applies one operation to `v`, checking it first; on error `v` may be
/// partly changed and must be discarded.
fn apply(v: &mut Version, op: Op, check_record: bool) -> Result<()> {
    match op {
        Op::Insert(p) => {
            check_prepared(&p, &v.config, check_record)?;
            if v.locate(&p.reference_id).is_some() {
                return Err(EngineError::DuplicateReference {
                    reference_id: p.reference_id,
                });
            }
            let mut flags = 0;
            if p.searchable {
                flags |= FLAG_SEARCHABLE;
            }
            if p.face.is_some() {
                flags |= FLAG_FACE;
            }
            let dim = v.face_dim();
            if v.tail.last().is_none_or(|b| b.is_full()) {
                v.tail.push(Arc::new(MemBlock::new(dim)));
            }
            let fingers = p.fingers.len() as u64;
            let PreparedRecord {
                reference_id,
                record_bytes,
                face,
                fingers: blobs,
                state,
                ..
            } = p;
            let row = MemRow {
                hash: crate::store::format::id_hash(&reference_id),
                id: reference_id,
                record: record_bytes,
                blobs,
                state,
            };
            if let Some(block) = v.tail.last_mut() {
                Arc::make_mut(block).push(row, face.as_ref().map(|f| (&f.codes[..], f.aux)), flags);
            }
            v.count(flags, fingers);
        }
        Op::SetSearchable { id, searchable } => {
            let loc = live_loc(v, &id)?;
            let old = v.flags(loc);
            let new = if searchable {
                old | FLAG_SEARCHABLE
            } else {
                old & !FLAG_SEARCHABLE
            };
            v.set_flags(loc, new);
        }
        Op::Delete { id } => {
            let loc = live_loc(v, &id)?;
            let old = v.flags(loc);
            v.set_flags(loc, old | FLAG_DELETED);
        }
        Op::SetState { id, state } => {
            if state.len() > MAX_STATE_BYTES {
                return Err(EngineError::StateTooLarge {
                    len: state.len(),
                    max: MAX_STATE_BYTES,
                });
            }
            match v.locate(&id) {
                None => return Err(EngineError::UnknownReference { reference_id: id }),
                Some(Loc::Tail(b, r)) => {
                    let block = Arc::make_mut(&mut v.tail[b]);
                    let mut row = (*block.rows[r]).clone();
                    row.state = state;
                    block.rows[r] = Arc::new(row);
                }
                Some(Loc::Sealed(..)) => {
                    Arc::make_mut(&mut v.delta_states).insert(id, state);
                }
            }
        }
    }
    Ok(())
}

fn live_loc(v: &Version, id: &str) -> Result<Loc> {
    let loc = v.locate(id).ok_or_else(|| EngineError::UnknownReference {
        reference_id: id.to_string(),
    })?;
    if v.flags(loc) & FLAG_DELETED != 0 {
        return Err(EngineError::DeletedReference {
            reference_id: id.to_string(),
        });
    }
    Ok(loc)
}

/// Rows of some blocks as a segment writer reads them: deleted rows become
/// stubs, states are the current ones.
struct BlockSource<'a> {
    v: &'a Version,
    rows: Vec<(Block<'a>, u32)>,
}

impl<'a> BlockSource<'a> {
    fn new(v: &'a Version, blocks: impl Iterator<Item = Block<'a>>) -> Self {
        let mut rows = Vec::new();
        for b in blocks {
            rows.extend((0..b.len()).map(|i| (b, i as u32)));
        }
        Self { v, rows }
    }

    fn row(&self, i: usize) -> (Block<'a>, usize) {
        let (b, r) = self.rows[i];
        (b, r as usize)
    }

    fn stub(&self, i: usize) -> bool {
        let (b, r) = self.row(i);
        b.is_deleted(r)
    }

    /// Flags of the written rows (stubs have no face).
    fn flags(&self) -> Vec<u8> {
        (0..self.rows.len())
            .map(|i| {
                let (b, r) = self.row(i);
                let f = b.flags(r);
                if f & FLAG_DELETED != 0 {
                    f & !FLAG_FACE
                } else {
                    f
                }
            })
            .collect()
    }
}

impl RowSource for BlockSource<'_> {
    fn len(&self) -> usize {
        self.rows.len()
    }

    fn id(&self, i: usize) -> &str {
        let (b, r) = self.row(i);
        b.reference_id(r)
    }

    fn record(&self, i: usize) -> &[u8] {
        if self.stub(i) {
            return &[];
        }
        let (b, r) = self.row(i);
        b.record_bytes(r)
    }

    fn face(&self, i: usize) -> Option<(&[i8], [f32; 2])> {
        let (b, r) = self.row(i);
        b.face_code(r)
    }

    fn blob(&self, i: usize, slot: usize) -> Option<&[u8]> {
        if self.stub(i) {
            return None;
        }
        let (b, r) = self.row(i);
        b.finger_blob(r, FingerPosition::from_code(slot as u8).ok()?)
    }

    fn state(&self, i: usize) -> &[u8] {
        let (b, r) = self.row(i);
        let id = b.reference_id(r);
        self.v
            .delta_states
            .get(id)
            .or_else(|| self.v.base_states.get(id))
            .map_or_else(|| b.own_state(r), |s| s.as_slice())
    }
}

