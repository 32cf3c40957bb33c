//! The writes: validated against the current version, logged durably as
//! one entry, then published to new snapshots.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use hoviyat_models::{binary::decode_record, validate_reference_id};

use crate::store::format::GALLERY_FORMAT_VERSION;
use crate::store::memblock::{MemBlock, MemRow};
use crate::store::segment::BLOB_SLOTS;
use crate::store::snapshot::{FLAG_DELETED, FLAG_FACE, FLAG_SEARCHABLE, Loc, Version};
use crate::store::wal::{Op, encode_entry};
use crate::store::{
    GalleryConfig, MAX_FINGER_BLOB_BYTES, MAX_STATE_BYTES, PreparedRecord, SCREEN_SLOTS,
    screen_slot,
};
use crate::{EngineError, Result};

use super::Gallery;

impl Gallery {
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
        if self.format_version.load(Ordering::Relaxed) < GALLERY_FORMAT_VERSION {
            // The first write to an older gallery: its logged rows move into
            // a current-format segment and a current-format log takes this
            // and later writes (an older log is never appended to).
            self.seal_locked(&mut w)?;
        }
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
    let mut seen = [false; SCREEN_SLOTS];
    for (position, _) in &p.screens {
        match screen_slot(*position).map(|s| &mut seen[s]) {
            Some(slot) if !*slot => *slot = true,
            _ => {
                return Err(EngineError::ScreenSlot {
                    position: *position,
                });
            }
        }
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
pub(super) fn apply(v: &mut Version, op: Op, check_record: bool) -> Result<()> {
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
                screens,
                state,
                ..
            } = p;
            let row = MemRow {
                id: reference_id,
                record: record_bytes,
                blobs,
                state,
            };
            if let Some(block) = v.tail.last_mut() {
                Arc::make_mut(block).push(
                    row,
                    face.as_ref().map(|f| (&f.codes[..], f.aux)),
                    &screens,
                    flags,
                );
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

#[cfg(test)]
mod tests {

    use super::*;
    use crate::store::test_support::{config, row};

    #[test]
    fn duplicate_ids_are_refused_and_a_bad_batch_stores_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let g = Gallery::create(dir.path(), config()).unwrap();
        g.insert(row(1)).unwrap();
        assert!(matches!(
            g.insert(row(1)),
            Err(EngineError::DuplicateReference { .. })
        ));
        g.seal().unwrap();
        assert!(matches!(
            g.insert(row(1)),
            Err(EngineError::DuplicateReference { .. })
        ));
        // The batch's fourth row repeats its first: nothing is stored.
        let batch = vec![row(2), row(3), row(4), row(2)];
        assert!(matches!(
            g.insert_batch(batch),
            Err(EngineError::DuplicateReference { .. })
        ));
        let mut bad = row(5);
        bad.face.as_mut().unwrap().codes.pop();
        assert!(matches!(
            g.insert_batch(vec![row(6), bad]),
            Err(EngineError::FaceCodeDimension { .. })
        ));
        let mut mismatch = row(7);
        mismatch.reference_id = "other".into();
        assert!(matches!(
            g.insert(mismatch),
            Err(EngineError::ReferenceIdMismatch { .. })
        ));
        drop(g);
        let g = Gallery::open(dir.path()).unwrap();
        let snap = g.snapshot();
        assert_eq!(snap.counts().identities, 1);
        for i in 2..=7 {
            assert!(snap.get(&row(i).reference_id).is_none());
        }
    }

    #[test]
    fn deletes_flags_and_state_persist_and_state_outlives_deletion() {
        let dir = tempfile::tempdir().unwrap();
        let g = Gallery::create(dir.path(), config()).unwrap();
        g.insert_batch((0..10).map(row).collect()).unwrap();
        g.seal().unwrap();
        g.insert_batch((10..20).map(row).collect()).unwrap();
        let (sealed, tail) = (row(3).reference_id, row(13).reference_id);
        for id in [&sealed, &tail] {
            g.set_state(id, b"held".to_vec()).unwrap();
            g.set_searchable(id, false).unwrap();
        }
        g.delete(&row(4).reference_id).unwrap();
        g.delete(&row(14).reference_id).unwrap();
        g.set_state(&row(4).reference_id, b"deleted".to_vec())
            .unwrap();
        assert!(matches!(
            g.delete(&row(4).reference_id),
            Err(EngineError::DeletedReference { .. })
        ));
        assert!(matches!(
            g.set_searchable(&row(14).reference_id, true),
            Err(EngineError::DeletedReference { .. })
        ));
        assert!(matches!(
            g.delete("nobody"),
            Err(EngineError::UnknownReference { .. })
        ));
        assert!(matches!(
            g.insert(row(4)),
            Err(EngineError::DuplicateReference { .. })
        ));
        let check = |g: &Gallery| {
            let s = g.snapshot();
            for id in [&sealed, &tail] {
                assert_eq!(s.state(id), Some(&b"held"[..]));
                let r = s.get(id).unwrap();
                assert!(!r.is_live() && !r.is_deleted());
            }
            assert_eq!(s.state(&row(4).reference_id), Some(&b"deleted"[..]));
            assert_eq!(s.state(&row(14).reference_id), Some(&b"{\"n\":14}"[..]));
            assert_eq!(s.state(&row(5).reference_id), Some(&b"{\"n\":5}"[..]));
            assert!(s.get(&row(4).reference_id).unwrap().is_deleted());
            assert!(!s.get(&row(14).reference_id).unwrap().is_live());
            let c = s.counts();
            assert_eq!((c.identities, c.deleted), (18, 2));
        };
        check(&g);
        drop(g);
        let g = Gallery::open(dir.path()).unwrap();
        check(&g);
        g.seal().unwrap();
        check(&g);
        g.compact().unwrap();
        check(&g);
        let s = g.snapshot();
        let r = s.get(&row(4).reference_id).unwrap();
        assert!(r.record_bytes().is_empty() && r.face_code().is_none());
        drop(s);
        drop(g);
        check(&Gallery::open(dir.path()).unwrap());
    }
}
