//! Bulk import of enrollment records through [`Abis`]: prepared in
//! parallel, inserted in group-committed batches under the decision lock,
//! bad records skipped with their line.

use std::collections::HashSet;

use hoviyat_models::EnrollmentRecord;
use rayon::prelude::*;
use serde::Serialize;

use super::{Abis, imported_state};
use crate::prepare::prepare_record;
use crate::store::PreparedRecord;
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

impl Abis {
    /// Imports `records` (each with its line number, or the reason it could
    /// not be read), `batch_rows` at a time with one fsync per batch, as
    /// cleared and searchable without a dedup search (an existing,
    /// de-duplicated population; see [`imported_state`]). Each batch is
    /// stored under the decision lock and keeps the screening means current.
    ///
    /// A record that cannot be read, does not validate or names a stored
    /// reference id is skipped and reported through `on_skip(line, reason)`;
    /// `on_batch(&summary)` runs after every committed batch. An I/O failure
    /// stops the import with [`EngineError::ImportAborted`], which says how
    /// many records were stored and up to which line.
    pub fn import_records<I>(
        &self,
        records: I,
        batch_rows: usize,
        mut on_skip: impl FnMut(u64, &str),
        mut on_batch: impl FnMut(&ImportSummary),
    ) -> Result<ImportSummary>
    where
        I: Iterator<Item = (u64, std::result::Result<EnrollmentRecord, String>)>,
    {
        let gallery = &self.gallery;
        let config = gallery.snapshot().config().clone();
        let codec = self.codec.as_ref();
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
                        imported_state(&r.reference_id)
                            .and_then(|state| prepare_record(r, &config, codec, true, state))
                            .map_err(|e| e.to_string())
                    });
                    (*line, p)
                })
                .collect();
            let _decide = self.lock_decisions();
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
                        if snapshot.get(&p.reference_id).is_some()
                            || ids.contains(&p.reference_id) =>
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
                Ok(()) => {
                    summary.imported += n;
                    let added: Vec<_> = batch
                        .iter()
                        .flat_map(|r| r.screens.iter().copied())
                        .collect();
                    self.adjust_screen_means(&added, true);
                }
                Err(e) if is_row_error(&e) => {
                    // Find the culprit(s) one by one.
                    for (line, p) in lines.into_iter().zip(batch) {
                        let screens = p.screens.clone();
                        match gallery.insert(p) {
                            Ok(()) => {
                                summary.imported += 1;
                                self.adjust_screen_means(&screens, true);
                            }
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
            drop(_decide);
            on_batch(&summary);
        }
        Ok(summary)
    }
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
        let g = crate::store::Gallery::create(dir.path(), config()).unwrap();
        let abis = Abis::with_gallery(g, &crate::abis::AbisConfig::default()).unwrap();
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
        let s = abis
            .import_records(
                input.into_iter(),
                3,
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
        let snap = abis.gallery().snapshot();
        for i in 1..=4 {
            assert!(snap.get(&record(i).reference_id).unwrap().is_live());
        }
        assert!(snap.get(&record(5).reference_id).is_none());
    }
}
