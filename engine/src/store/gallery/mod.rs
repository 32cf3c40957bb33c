//! The gallery: the one writer of a gallery directory and its readers'
//! snapshots. By concern: [`open`] creates and opens a directory (and
//! cleans up after a crash), [`write`] logs and applies the writes, [`seal`]
//! moves logged rows into segments and compacts them.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use rayon::prelude::*;
use serde::Serialize;

use crate::store::format::io_err;
use crate::store::snapshot::{Snapshot, Version};
use crate::store::wal::WalWriter;
use crate::{EngineError, Result};

mod open;
mod seal;
mod write;

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
    /// Version of the manifest as last read or written.
    format_version: AtomicU32,
    _lock: Option<File>,
}

impl Gallery {
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
            format_version: self.format_version.load(Ordering::Relaxed),
            face_dim: v.config.face_dim,
            segments: v.sealed.len(),
            unsealed_rows: v.tail_rows(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::store::GALLERY_FORMAT_VERSION;
    use crate::store::test_support::{assert_row, config, row};

    #[test]
    fn gallery_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Gallery>();
        check::<Snapshot>();
    }

    #[test]
    fn a_snapshot_sees_exactly_the_writes_acknowledged_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let g = Gallery::create(dir.path(), config()).unwrap();
        g.insert(row(1)).unwrap();
        let before = g.snapshot();
        g.insert(row(2)).unwrap();
        g.delete(&row(1).reference_id).unwrap();
        g.compact().unwrap();
        assert!(before.get(&row(2).reference_id).is_none());
        assert_row(&before, &row(1));
        let after = g.snapshot();
        assert!(after.get(&row(1).reference_id).unwrap().is_deleted());
        assert_row(&after, &row(2));
    }

    #[test]
    fn readers_during_writes_see_consistent_snapshots() {
        let dir = tempfile::tempdir().unwrap();
        let g = Gallery::create(dir.path(), config()).unwrap();
        g.set_auto_seal_rows(50).unwrap();
        let acked = AtomicUsize::new(0);
        const N: u64 = 400;
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 0..N {
                    g.insert(row(i)).unwrap();
                    acked.store(i as usize + 1, Ordering::SeqCst);
                    if i % 97 == 96 {
                        g.compact().unwrap();
                    }
                }
            });
            for _ in 0..2 {
                s.spawn(|| {
                    loop {
                        let a = acked.load(Ordering::SeqCst);
                        let snap = g.snapshot();
                        for i in 0..a as u64 {
                            assert!(
                                snap.get(&row(i).reference_id).is_some(),
                                "acked {i} missing"
                            );
                        }
                        let rows: usize = snap.blocks().map(|b| b.len()).sum();
                        assert!(rows >= a);
                        assert_eq!(rows as u64, snap.counts().identities);
                        for b in snap.blocks() {
                            for i in 0..b.len() {
                                let id = b.reference_id(i);
                                let rec = hoviyat_models::binary::decode_record(b.record_bytes(i))
                                    .unwrap();
                                assert_eq!(rec.reference_id, id);
                            }
                        }
                        if a == N as usize {
                            break;
                        }
                    }
                });
            }
        });
        assert!(g.stats().unwrap().segments >= 1);
    }

    #[test]
    fn stats_count_bytes_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let g = Gallery::create(dir.path(), config()).unwrap();
        g.insert_batch((0..30).map(row).collect()).unwrap();
        g.seal().unwrap();
        let s = g.stats().unwrap();
        assert_eq!(s.identities, 30);
        assert_eq!(s.format_version, GALLERY_FORMAT_VERSION);
        assert!(s.bytes_on_disk > 30 * 100);
        assert!((s.bytes_per_identity - s.bytes_on_disk as f64 / 30.0).abs() < 1e-9);
    }
}
