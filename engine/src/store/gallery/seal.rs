//! Sealing (logged rows into a new segment, a fresh log) and compaction
//! (all segments into one, deleted rows shrunk to stubs).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use hoviyat_models::FingerPosition;

use crate::Result;
use crate::store::ScreenRow;
use crate::store::format::{GALLERY_FORMAT_VERSION, sync_dir, wal_file};
use crate::store::manifest::Manifest;
use crate::store::segment::{RowSource, Segment, write_segment};
use crate::store::snapshot::{Block, FLAG_DELETED, FLAG_FACE, SealedBlock, Version};
use crate::store::wal::WalWriter;

use super::{Gallery, Writer};

impl Gallery {
    /// Moves logged rows into a new segment and starts a fresh log.
    pub fn seal(&self) -> Result<()> {
        let mut w = self.writer()?;
        self.seal_locked(&mut w)
    }

    pub(super) fn seal_locked(&self, w: &mut Writer) -> Result<()> {
        if w.wal.entry_bytes() == 0
            && self.format_version.load(Ordering::Relaxed) == GALLERY_FORMAT_VERSION
        {
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
            format_version: GALLERY_FORMAT_VERSION,
        };
        if let Err(e) = manifest.write(dir) {
            // The rename may or may not have happened: stop writing.
            w.poisoned = true;
            return Err(e);
        }
        self.format_version
            .store(GALLERY_FORMAT_VERSION, Ordering::Relaxed);
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
            format_version: GALLERY_FORMAT_VERSION,
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

    fn screens(&self, i: usize) -> Option<ScreenRow<'_>> {
        if self.stub(i) {
            return None;
        }
        let (b, r) = self.row(i);
        b.screen_row(r)
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

#[cfg(test)]
mod tests {

    use super::*;
    use crate::store::test_support::{assert_all, config, row};

    #[test]
    fn rows_survive_reopen_seal_and_compaction_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<_> = (0..300).map(row).collect();
        {
            let g = Gallery::create(dir.path(), config()).unwrap();
            g.insert(rows[0].clone()).unwrap();
            g.insert_batch(rows[1..200].to_vec()).unwrap();
            assert_all(&g.snapshot(), &rows[..200]);
        }
        let g = Gallery::open(dir.path()).unwrap();
        assert_all(&g.snapshot(), &rows[..200]);
        g.seal().unwrap();
        g.insert_batch(rows[200..].to_vec()).unwrap();
        let snap = g.snapshot();
        assert_eq!(snap.blocks().filter(|b| b.is_sealed()).count(), 1);
        assert_all(&snap, &rows);
        for b in snap.blocks().filter(|b| b.is_sealed()) {
            assert_eq!(b.face_codes().as_ptr() as usize % 64, 0);
            assert_eq!(b.face_codes().len(), b.len() * b.face_dim());
        }
        drop(g);
        let g = Gallery::open(dir.path()).unwrap();
        assert_all(&g.snapshot(), &rows);
        g.compact().unwrap();
        assert_all(&g.snapshot(), &rows);
        assert_eq!(g.snapshot().block_count(), 1);
        drop(g);
        let g = Gallery::open(dir.path()).unwrap();
        assert_all(&g.snapshot(), &rows);
        g.verify().unwrap();
        let c = g.snapshot().counts();
        assert_eq!(c.identities, 300);
        assert_eq!(
            c.faces,
            rows.iter().filter(|r| r.face.is_some()).count() as u64
        );
        assert_eq!(
            c.fingers,
            rows.iter().map(|r| r.fingers.len() as u64).sum::<u64>()
        );
        assert_eq!(
            c.searchable,
            rows.iter().filter(|r| r.searchable).count() as u64
        );
    }
}
