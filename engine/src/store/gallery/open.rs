//! Creating and opening a gallery directory: the manifest, the segments,
//! the log's replay, the writer's lock and the files a crash left behind.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex, RwLock};

use hoviyat_models::MAX_FACE_DIM;
use rayon::prelude::*;

use crate::store::format::{
    GALLERY_FORMAT_VERSION, LOCK_FILE, MANIFEST_FILE, io_err, parse_file_id, wal_file,
};
use crate::store::manifest::Manifest;
use crate::store::segment::Segment;
use crate::store::snapshot::{Counts, SealedBlock, Version};
use crate::store::wal::{WalWriter, read_wal};
use crate::store::{DEFAULT_AUTO_SEAL_ROWS, GalleryConfig};
use crate::{EngineError, GalleryFileKind, Result};

use super::write::apply;
use super::{Gallery, Writer};

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
            format_version: GALLERY_FORMAT_VERSION,
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
        // A gallery of an older format stays as it is until the first
        // write (see `commit`): opening alone changes no file, so a caller
        // that refuses the gallery after looking at it leaves it usable by
        // the release that wrote it.
        Ok(Self {
            dir: dir.to_path_buf(),
            current: RwLock::new(Arc::new(v)),
            writer,
            format_version: AtomicU32::new(manifest.format_version),
            _lock: lock,
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
        return Err(EngineError::FaceMeanLength {
            expected: config.face_dim.unwrap_or(0),
            got: mean.len(),
        });
    }
    Ok(())
}

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
                Ok(()) => {
                    tracing::info!(path = %path.display(), "removed a file left by an interrupted seal")
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "could not remove an orphan file")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use std::path::PathBuf;

    use crate::store::PreparedRecord;
    use crate::store::test_support::{assert_all, assert_row, config, row};

    #[test]
    fn a_second_writer_is_locked_out_but_readers_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let g = Gallery::create(dir.path(), config()).unwrap();
        g.insert(row(1)).unwrap();
        assert!(matches!(
            Gallery::open(dir.path()),
            Err(EngineError::GalleryLocked { .. })
        ));
        let r = Gallery::open_read_only(dir.path()).unwrap();
        assert_row(&r.snapshot(), &row(1));
        assert!(matches!(
            r.insert(row(2)),
            Err(EngineError::ReadOnlyGallery)
        ));
        assert!(matches!(
            Gallery::create(dir.path(), config()),
            Err(EngineError::GalleryExists { .. })
        ));
    }

    /// A gallery with one segment (rows 0..40), a log of two batches (40..60)
    /// and a logged state update of a sealed row.
    fn damaged_fixture(dir: &Path) -> Vec<PreparedRecord> {
        let rows: Vec<_> = (0..60).map(row).collect();
        let g = Gallery::create(dir, config()).unwrap();
        g.insert_batch(rows[..40].to_vec()).unwrap();
        g.seal().unwrap();
        g.insert_batch(rows[40..50].to_vec()).unwrap();
        g.insert_batch(rows[50..].to_vec()).unwrap();
        rows
    }

    fn file_of(dir: &Path, prefix: &str) -> PathBuf {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
            .unwrap()
    }

    fn named_file(e: &EngineError) -> Option<&Path> {
        match e {
            EngineError::Io { path, .. }
            | EngineError::MissingFile { path, .. }
            | EngineError::BadMagic { path, .. }
            | EngineError::UnsupportedFormatVersion { path, .. }
            | EngineError::TruncatedFile { path, .. }
            | EngineError::CorruptFile { path, .. } => Some(path),
            _ => None,
        }
    }

    /// Opens and verifies; returns the error, or checks that every row is intact.
    fn open_checked(dir: &Path, rows: &[PreparedRecord]) -> Option<EngineError> {
        match Gallery::open_read_only(dir).and_then(|g| g.verify().map(|()| g)) {
            Err(e) => Some(e),
            Ok(g) => {
                assert_all(&g.snapshot(), rows);
                None
            }
        }
    }

    #[test]
    fn damaged_segments_give_errors_naming_the_file_never_wrong_rows() {
        let dir = tempfile::tempdir().unwrap();
        let rows = damaged_fixture(dir.path());
        let seg = file_of(dir.path(), "seg-");
        let good = std::fs::read(&seg).unwrap();
        for cut in [0, 7, 12, 100, 395, 447, 500, good.len() / 2, good.len() - 1] {
            std::fs::write(&seg, &good[..cut]).unwrap();
            let e = open_checked(dir.path(), &rows).expect("a truncated segment must not open");
            assert_eq!(named_file(&e), Some(seg.as_path()), "cut at {cut}: {e}");
        }
        let step = (good.len() / 300).max(1);
        for at in (0..good.len()).step_by(step).chain(0..450) {
            let mut bad = good.clone();
            bad[at] ^= 0x04;
            std::fs::write(&seg, &bad).unwrap();
            if let Some(e) = open_checked(dir.path(), &rows) {
                assert_eq!(named_file(&e), Some(seg.as_path()), "flip at {at}: {e}");
            }
        }
        let mut future = good.clone();
        future[8] = GALLERY_FORMAT_VERSION as u8 + 1;
        std::fs::write(&seg, &future).unwrap();
        assert!(matches!(
            open_checked(dir.path(), &rows),
            Some(EngineError::UnsupportedFormatVersion {
                found: 3,
                kind: GalleryFileKind::Segment,
                ..
            })
        ));
        std::fs::remove_file(&seg).unwrap();
        assert!(matches!(
            open_checked(dir.path(), &rows),
            Some(EngineError::MissingFile {
                kind: GalleryFileKind::Segment,
                ..
            })
        ));
    }

    #[test]
    fn damaged_manifests_give_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let rows = damaged_fixture(dir.path());
        let path = dir.path().join(MANIFEST_FILE);
        let good = std::fs::read(&path).unwrap();
        for at in 0..good.len() {
            let mut bad = good.clone();
            bad[at] ^= 0x20;
            std::fs::write(&path, &bad).unwrap();
            let e = open_checked(dir.path(), &rows).expect("a flipped manifest must not open");
            assert_eq!(named_file(&e), Some(path.as_path()), "flip at {at}: {e}");
        }
        for cut in [0, 10, good.len() / 2, good.len() - 1] {
            std::fs::write(&path, &good[..cut]).unwrap();
            let e = open_checked(dir.path(), &rows).expect("a truncated manifest must not open");
            assert_eq!(named_file(&e), Some(path.as_path()), "cut at {cut}: {e}");
        }
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(
            Gallery::open(dir.path()),
            Err(EngineError::MissingFile {
                kind: GalleryFileKind::Manifest,
                ..
            })
        ));
    }

    #[test]
    fn a_torn_log_tail_is_dropped_and_older_damage_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let rows = damaged_fixture(dir.path());
        let wal = file_of(dir.path(), "wal-");
        let good = std::fs::read(&wal).unwrap();
        // Every cut keeps exactly the batches that were wholly written.
        let entry2 = rows[50..]
            .iter()
            .map(|r| r.record_bytes.len())
            .sum::<usize>();
        let mut kept = Vec::new();
        for cut in (32..good.len()).step_by(97).chain([good.len() - 1]) {
            std::fs::write(&wal, &good[..cut]).unwrap();
            let g = Gallery::open_read_only(dir.path()).unwrap();
            let n = g.snapshot().counts().identities as usize;
            assert!(n == 40 || n == 50, "cut at {cut}: {n} rows");
            assert_all(&g.snapshot(), &rows[..n]);
            kept.push(n);
        }
        assert!(kept.contains(&40) && kept.contains(&50) && entry2 > 0);
        // Reopening for writing cuts the torn tail off, and appends work.
        std::fs::write(&wal, &good[..good.len() - 3]).unwrap();
        {
            let g = Gallery::open(dir.path()).unwrap();
            g.insert(rows[55].clone()).unwrap();
        }
        let g = Gallery::open_read_only(dir.path()).unwrap();
        assert_eq!(g.snapshot().counts().identities, 51);
        assert_row(&g.snapshot(), &rows[55]);
        drop(g);
        // A flip inside the first batch, with the second intact: an error.
        let mut bad = good.clone();
        bad[32 + 40] ^= 0x01;
        std::fs::write(&wal, &bad).unwrap();
        let e = open_checked(dir.path(), &rows).expect("mid-log damage must not open");
        assert_eq!(named_file(&e), Some(wal.as_path()), "{e}");
        let mut v2 = good.clone();
        v2[8] = 9;
        std::fs::write(&wal, &v2).unwrap();
        assert!(matches!(
            open_checked(dir.path(), &rows),
            Some(EngineError::UnsupportedFormatVersion {
                found: 9,
                kind: GalleryFileKind::Wal,
                ..
            })
        ));
        std::fs::remove_file(&wal).unwrap();
        assert!(matches!(
            open_checked(dir.path(), &rows),
            Some(EngineError::MissingFile {
                kind: GalleryFileKind::Wal,
                ..
            })
        ));
    }
}
