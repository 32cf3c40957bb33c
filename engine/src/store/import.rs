//! Bulk import of enrollment records into a gallery: prepared in parallel,
//! inserted in group-committed batches, bad records skipped with their line.

use std::collections::HashSet;

use hoviyat_models::EnrollmentRecord;
use rayon::prelude::*;
use serde::Serialize;

use crate::face::FaceCodec;
use crate::prepare::prepare_record;
use crate::store::{Gallery, PreparedRecord};
use crate::{EngineError, Result};

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// Records (lines) read.
    pub read: u64,
    /// Records stored.
    pub imported: u64,
    /// Records skipped (invalid, or their reference id already stored).
    pub skipped: u64,
    /// The last line number read.
    pub last_line: u64,
}

/// Imports `records` (each with its line number, or the reason it could not
/// be read) into `gallery`, `batch_rows` at a time with one fsync per batch.
/// New rows are searchable, with the state `initial_state` makes for their
/// record (the dedup layer's "cleared at import" state; see
/// [`crate::abis::imported_state`]).
///
/// A record that cannot be read, does not validate or names a stored
/// reference id is skipped and reported through `on_skip(line, reason)`;
/// `on_batch(&summary)` runs after every committed batch. An I/O failure
/// stops the import with [`EngineError::ImportAborted`], which says how many
/// records were stored and up to which line.
pub fn import_records<I>(
    gallery: &Gallery,
    records: I,
    batch_rows: usize,
    initial_state: impl Fn(&EnrollmentRecord) -> Result<Vec<u8>> + Sync,
    mut on_skip: impl FnMut(u64, &str),
    mut on_batch: impl FnMut(&ImportSummary),
) -> Result<ImportSummary>
where
    I: Iterator<Item = (u64, std::result::Result<EnrollmentRecord, String>)>,
{
    let config = gallery.snapshot().config().clone();
    let codec = match config.face_dim {
        Some(dim) => Some(FaceCodec::new(dim, config.face_mean.clone())?),
        None => None,
    };
    let mut summary = ImportSummary::default();
    let mut pending: Vec<(u64, std::result::Result<EnrollmentRecord, String>)> =
        Vec::with_capacity(batch_rows);
    let mut records = records.peekable();
    while records.peek().is_some() {
        pending.clear();
        pending.extend(records.by_ref().take(batch_rows.max(1)));
        summary.read += pending.len() as u64;
        summary.last_line = pending.last().map_or(summary.last_line, |(l, _)| *l);
        let prepared: Vec<(u64, std::result::Result<PreparedRecord, String>)> = pending
            .par_iter()
            .map(|(line, r)| {
                let p = r.as_ref().map_err(Clone::clone).and_then(|r| {
                    initial_state(r)
                        .and_then(|state| prepare_record(r, &config, codec.as_ref(), true, state))
                        .map_err(|e| e.to_string())
                });
                (*line, p)
            })
            .collect();
        let snapshot = gallery.snapshot();
        let mut ids = HashSet::new();
        let mut batch = Vec::with_capacity(prepared.len());
        let mut lines = Vec::with_capacity(prepared.len());
        for (line, p) in prepared {
            match p {
                Err(reason) => {
                    summary.skipped += 1;
                    on_skip(line, &reason);
                }
                Ok(p)
                    if snapshot.get(&p.reference_id).is_some() || ids.contains(&p.reference_id) =>
                {
                    summary.skipped += 1;
                    on_skip(
                        line,
                        &format!(
                            "reference id {:?} is already in the gallery",
                            p.reference_id
                        ),
                    );
                }
                Ok(p) => {
                    ids.insert(p.reference_id.clone());
                    lines.push(line);
                    batch.push(p);
                }
            }
        }
        drop(snapshot);
        let n = batch.len() as u64;
        match gallery.insert_batch(batch.clone()) {
            Ok(()) => summary.imported += n,
            Err(e) if is_row_error(&e) => {
                // Find the culprit(s) one by one.
                for (line, p) in lines.into_iter().zip(batch) {
                    match gallery.insert(p) {
                        Ok(()) => summary.imported += 1,
                        Err(e) if is_row_error(&e) => {
                            summary.skipped += 1;
                            on_skip(line, &e.to_string());
                        }
                        Err(e) => return Err(aborted(&summary, line, e)),
                    }
                }
            }
            Err(e) => {
                let line = lines.first().copied().unwrap_or(summary.last_line);
                return Err(aborted(&summary, line, e));
            }
        }
        on_batch(&summary);
    }
    Ok(summary)
}

fn aborted(summary: &ImportSummary, line: u64, source: EngineError) -> EngineError {
    EngineError::ImportAborted {
        stored: summary.imported,
        line,
        source: Box::new(source),
    }
}

/// Whether an insert error concerns the record itself (skip it) rather than
/// the gallery (stop).
fn is_row_error(e: &EngineError) -> bool {
    matches!(
        e,
        EngineError::Model(_)
            | EngineError::DuplicateReference { .. }
            | EngineError::ReferenceIdMismatch { .. }
            | EngineError::FaceCodeDimension { .. }
            | EngineError::NonFiniteFaceAux
            | EngineError::FingerBlobSize { .. }
            | EngineError::DuplicateFingerBlob { .. }
            | EngineError::ScreenSlot { .. }
            | EngineError::StateTooLarge { .. }
            | EngineError::FaceEqualsMean
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::{config, record};

    #[test]
    fn bad_and_duplicate_records_are_skipped_with_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let g = Gallery::create(dir.path(), config()).unwrap();
        let mut wrong_dim = record(5);
        wrong_dim.face = Some(hoviyat_models::FaceTemplate::new("m", vec![1.0; 3]));
        let input = vec![
            (1, Ok(record(1))),
            (2, Err("expected value at column 1".to_string())),
            (3, Ok(record(2))),
            (4, Ok(record(1))),
            (5, Ok(wrong_dim)),
            (6, Ok(record(3))),
            (7, Ok(record(4))),
        ];
        let mut skipped = Vec::new();
        let mut batches = 0;
        let s = import_records(
            &g,
            input.into_iter(),
            3,
            |r| crate::abis::imported_state(&r.reference_id),
            |line, _| skipped.push(line),
            |_| batches += 1,
        )
        .unwrap();
        assert_eq!(skipped, vec![2, 4, 5]);
        assert_eq!(batches, 3);
        assert_eq!(
            s,
            ImportSummary {
                read: 7,
                imported: 4,
                skipped: 3,
                last_line: 7
            }
        );
        let snap = g.snapshot();
        for i in 1..=4 {
            assert!(snap.get(&record(i).reference_id).unwrap().is_live());
        }
        assert!(snap.get(&record(5).reference_id).is_none());
    }
}
