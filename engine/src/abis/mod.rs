//! The dedup facade: what the enrollment pipeline and investigators call.
//!
//! [`Abis`] owns one gallery. [`Abis::enroll`] identifies a new record
//! against everyone enrolled and stores it, atomically: enrollments are
//! decided one at a time against a snapshot that holds every enrollment
//! acknowledged before, so two enrollments of the same person can never both
//! be cleared. A record with a mate above the dedup threshold is stored but
//! held out of searches (`potential_duplicate`) until an adjudicator decides.
//! A candidate within 3 decades of the threshold is decided by the full 1:1
//! comparison, as a verification would score it. Investigators search with
//! [`Abis::identify`] and [`Abis::verify`].
//!
//! Scores are fused evidence, `-log10` of the estimated false-match rate
//! (see [`crate::fusion`]); the dedup threshold follows the gallery size:
//! `log10(N / target_fpir)`.
//!
//! ```
//! use hoviyat_engine::abis::{Abis, AbisConfig, Status};
//! use hoviyat_engine::models::{EnrollmentRecord, FaceTemplate};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let config = AbisConfig { face_dim: Some(3), ..AbisConfig::default() };
//! let abis = Abis::open(dir.path(), &config).unwrap();
//! let alice = EnrollmentRecord::new("alice", vec![], Some(FaceTemplate::new("m", vec![1.0, 0.2, 0.1])));
//! let outcome = abis.enroll(alice).unwrap();
//! assert_eq!(outcome.enrollment.status, Status::Cleared);
//! ```

pub mod calibration;
mod decision;
mod explain;
mod import;
mod read;
mod search;
mod types;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock};

use hoviyat_models::binary::{canonicalize, encode_record};
use hoviyat_models::{EnrollmentRecord, FingerPosition};
use rayon::prelude::*;

use self::calibration::FaceCalibration;
use self::search::{Rows, Scope, SearchPlan, Searcher};
use crate::face::FaceCodec;
use crate::prepare::{blob_form, prepare_record};
use crate::screen::{ScreenCode, ScreenMean};
use crate::store::{Gallery, GalleryConfig, RowRef, Snapshot};
use crate::{EngineError, Result, fusion};

pub use decision::{
    Decision, DecisionKind, DecisionLog, DecisionLogError, Unrecorded, took_effect,
};
pub use explain::FingerExplanation;
pub use import::ImportSummary;
pub use read::StoredFinger;
pub use types::{
    Adjudication, Candidate, EnrollOutcome, Enrollment, FaceScore, FingerScore, Identification,
    IdentifyOptions, Mode, Probe, Stats, Status, Verdict, Verification,
};

/// Candidates kept on a dedup decision (the strongest first).
const DEDUP_CANDIDATES: usize = 20;
/// Best candidates of an investigation scored again with the full 1:1
/// comparison ([`crate::finger::compare`]: both directions, the resolution
/// search, the local similarity and the ridge maps), so an investigator's
/// shortlist carries the scores a verification would give. On one-finger
/// searches of real prints in a gallery of 100,056 this lifts rank-1 hits
/// from 374 to 378 of 392 (BENCHMARKS.md, session 11). Dedup and
/// threshold searches confirm only the candidates near their threshold
/// (see [`CONFIRM_MARGIN`]).
const INVESTIGATION_FULL_COMPARISONS: usize = 10;
/// Evidence (decades of FMR) either side of a dedup or threshold search's
/// threshold within which a candidate is compared again with the full 1:1
/// comparison and decided by that score, so a decision agrees with what a
/// verification of the pair would say. The search's one-direction score
/// falls short of the full one for mates (FVC2002 own extraction, one
/// finger, 2,240 ordered genuine pairs: at 8 decades the full score passes
/// 1,752 and the search's 1,418; 294 of the 334 it misses score at least 5
/// one way), while unrelated candidates seldom come within 3 decades of a
/// threshold (about `1,000 x target FPIR` per search by the calibration:
/// one at 1e-3), so confirmations cost little. A candidate further above
/// is a duplicate either way and keeps the search's score: a ten-print
/// re-enrollment scores tens of decades, and its full comparison would
/// cost more than the rest of the decision.
const CONFIRM_MARGIN: f64 = 3.0;
/// Face pairs sampled to fit the face impostor distribution.
const CALIBRATION_PAIRS: usize = 4000;

/// How an [`Abis`] is set up. The `face_*` fields matter only when the
/// gallery is created; an existing gallery keeps its own.
#[derive(Debug, Clone, PartialEq)]
pub struct AbisConfig {
    /// Face template dimension of a new gallery (`None`: fingers only).
    pub face_dim: Option<usize>,
    /// Face model of a new gallery's templates.
    pub face_model: Option<String>,
    /// Mean template subtracted before comparing faces (non-centred models).
    pub face_mean: Option<Vec<f32>>,
    /// False-positive identification rate the dedup threshold aims at.
    pub dedup_target_fpir: f64,
    /// Evidence a 1:1 verification needs (4 = FMR 1 in 10,000).
    pub verify_threshold: f64,
    /// Face candidates considered per search.
    pub face_candidates: usize,
    /// Galleries smaller than this are compared exhaustively.
    pub screen_min_identities: usize,
    /// Full finger comparisons spent per screened search.
    pub screened_comparisons: usize,
}

impl Default for AbisConfig {
    fn default() -> Self {
        Self {
            face_dim: Some(512),
            face_model: None,
            face_mean: None,
            dedup_target_fpir: 1e-3,
            verify_threshold: 4.0,
            face_candidates: 50,
            screen_min_identities: 2_000,
            screened_comparisons: 4_000,
        }
    }
}

/// Caches derived from the gallery's contents.
#[derive(Debug, Default)]
struct Derived {
    /// Screening means per finger position code, once computed.
    screen_means: Option<Vec<ScreenMean>>,
    face_calibration: FaceCalibration,
    /// Faces in the gallery when the calibration was fitted.
    calibrated_at_faces: u64,
}

/// A gallery with its dedup and search logic (see the module docs).
#[derive(Debug)]
pub struct Abis {
    gallery: Gallery,
    codec: Option<FaceCodec>,
    config: AbisConfig,
    /// Held while a dedup decision is taken and stored.
    decide: Mutex<()>,
    derived: RwLock<Derived>,
    pending: AtomicUsize,
}

impl Abis {
    /// Opens the gallery in `dir`, creating it (with `config`'s face
    /// settings) when the directory holds none.
    pub fn open(dir: impl AsRef<Path>, config: &AbisConfig) -> Result<Self> {
        let dir = dir.as_ref();
        let gallery = if dir.join(crate::store::MANIFEST_FILE).exists() {
            Gallery::open(dir)?
        } else {
            std::fs::create_dir_all(dir).map_err(|source| EngineError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
            Gallery::create(
                dir,
                GalleryConfig {
                    face_dim: config.face_dim,
                    face_model: config.face_model.clone(),
                    face_mean: config.face_mean.clone(),
                },
            )?
        };
        Self::with_gallery(gallery, config)
    }

    /// Opens the gallery in `dir`, which must hold one (a missing manifest
    /// is an error, nothing is created).
    pub fn open_existing(dir: impl AsRef<Path>, config: &AbisConfig) -> Result<Self> {
        Self::with_gallery(Gallery::open(dir)?, config)
    }

    /// Wraps an open gallery (this facade is then its only writer).
    pub(crate) fn with_gallery(gallery: Gallery, config: &AbisConfig) -> Result<Self> {
        let snapshot = gallery.snapshot();
        // Finger blobs are derived data in a versioned layout; a gallery made
        // by an older layout is refused here rather than searched with
        // fingers silently skipped. One blob tells: all are written alike.
        let first_blob = snapshot.blocks().find_map(|b| {
            (0..b.len()).find_map(|i| {
                FingerPosition::TEN
                    .iter()
                    .find_map(|&p| b.finger_blob(i, p))
            })
        });
        if let Some(blob) = first_blob {
            blob_form(blob)?;
        }
        let gallery_config = snapshot.config().clone();
        drop(snapshot);
        let codec = match gallery_config.face_dim {
            Some(dim) => Some(FaceCodec::new(dim, gallery_config.face_mean.clone())?),
            None => None,
        };
        Ok(Self {
            gallery,
            codec,
            config: config.clone(),
            decide: Mutex::new(()),
            derived: RwLock::new(Derived::default()),
            pending: AtomicUsize::new(0),
        })
    }

    /// Computes the caches searches need (the screening means, the face
    /// score calibration) now instead of on the first search: a service
    /// calls it before it takes requests. Later writes keep them current.
    pub fn warm_up(&self) {
        let snapshot = self.gallery.snapshot();
        let rows = Rows::new(&snapshot);
        self.refresh_derived(&snapshot, &rows, true);
    }

    /// The gallery underneath, for this crate's tests: everyone else writes
    /// through the decision lock here.
    #[cfg(test)]
    pub(crate) fn gallery(&self) -> &Gallery {
        &self.gallery
    }

    /// Seals the gallery's write-ahead log into a segment (after a bulk
    /// load; see [`Gallery::seal`]).
    pub fn seal(&self) -> Result<()> {
        let _decide = self.lock_decisions();
        self.gallery.seal()
    }

    /// Seals, then rewrites the gallery's segments into one (see
    /// [`Gallery::compact`]); decisions wait meanwhile. Nobody's status
    /// changes.
    pub fn compact(&self) -> Result<()> {
        let _decide = self.lock_decisions();
        self.gallery.compact()
    }

    /// The gallery's own counts and sizes.
    pub fn gallery_stats(&self) -> Result<crate::store::GalleryStats> {
        self.gallery.stats()
    }

    /// The gallery's face dimension.
    pub fn face_dim(&self) -> Option<usize> {
        self.codec.as_ref().map(FaceCodec::dim)
    }

    /// Identifies `record` against the gallery and stores it with the
    /// decision (see the module docs). An identical retry of an earlier
    /// enrollment returns its answer again; a different record under an
    /// existing reference id is [`EngineError::ReferenceExists`].
    pub fn enroll(&self, record: EnrollmentRecord) -> Result<EnrollOutcome> {
        self.enroll_recorded(record, &Unrecorded)
    }

    /// [`Abis::enroll`], recording the decision in `log` before it is stored
    /// (see [`DecisionLog`]). A replay records nothing: its decision was
    /// recorded when it was taken.
    pub fn enroll_recorded(
        &self,
        record: EnrollmentRecord,
        log: &dyn DecisionLog,
    ) -> Result<EnrollOutcome> {
        record.validate(self.face_dim())?;
        let canonical = canonicalize(&record)?;
        let bytes = encode_record(&canonical)?;
        // The row is prepared before the decision lock (the gallery's
        // configuration never changes); the decision sets its flag and state.
        let mut row = {
            let snapshot = self.gallery.snapshot();
            prepare_record(
                &canonical,
                snapshot.config(),
                self.codec.as_ref(),
                false,
                Vec::new(),
            )?
        };
        self.pending.fetch_add(1, Ordering::Relaxed);
        let _pending = PendingGuard(&self.pending);
        let _decide = self.lock_decisions();

        let snapshot = self.gallery.snapshot();
        if let Some(existing) = snapshot.get(&canonical.reference_id) {
            let state = read_state(&snapshot, &canonical.reference_id)?;
            // A deleted id is not enrolled again, nor is its last answer
            // given again: the caller learns that it was deleted.
            if state.as_ref().is_some_and(|e| e.status == Status::Deleted) {
                return Err(EngineError::DeletedReference {
                    reference_id: canonical.reference_id,
                });
            }
            if existing.record_bytes() == bytes.as_slice()
                && let Some(enrollment) = state
            {
                return Ok(EnrollOutcome {
                    enrollment,
                    replayed: true,
                });
            }
            return Err(EngineError::ReferenceExists {
                reference_id: canonical.reference_id,
            });
        }

        let rows = Rows::new(&snapshot);
        let gallery_size = snapshot.counts().searchable as usize;
        let threshold = fusion::threshold_for_fpir(gallery_size, self.config.dedup_target_fpir);
        let probe = Probe {
            fingers: canonical.fingers.clone(),
            face: canonical.face.clone(),
        };
        let searcher = self.searcher(&snapshot, &rows, true);
        let found = searcher.search(&rows, &Scope::new(None), &probe, DEDUP_CANDIDATES)?;
        let candidates = confirm(&searcher, &snapshot, &probe, found.candidates, threshold)?;
        let status = if candidates.is_empty() {
            Status::Cleared
        } else {
            Status::PotentialDuplicate
        };
        let enrollment = Enrollment {
            reference_id: canonical.reference_id.clone(),
            status,
            decided_at: jiff::Timestamp::now(),
            candidates,
            threshold,
            gallery_size,
            adjudication: None,
            deleted_at: None,
        };
        row.searchable = status == Status::Cleared;
        row.state = state_bytes(&enrollment)?;
        let added = row.screens.clone();
        let decision = Decision {
            kind: DecisionKind::Enroll,
            enrollment: &enrollment,
        };
        record_decision(log, decision)?;
        self.gallery
            .insert(row)
            .inspect_err(|_| log.not_stored(decision))?;
        if status == Status::Cleared {
            self.adjust_screen_means(&added, true);
        }
        Ok(EnrollOutcome {
            enrollment,
            replayed: false,
        })
    }

    /// Stores records as cleared without identifying them (loading an
    /// existing, already de-duplicated population), with one durable write
    /// for the batch. Returns how many were stored.
    pub fn import_batch(&self, records: &[EnrollmentRecord]) -> Result<usize> {
        let _decide = self.lock_decisions();
        let snapshot = self.gallery.snapshot();
        // Preparing (encoding, screening vectors, matcher forms) is most of
        // an import's work and independent per record.
        let rows = records
            .par_iter()
            .map(|record| {
                prepare_record(
                    record,
                    snapshot.config(),
                    self.codec.as_ref(),
                    true,
                    imported_state(&record.reference_id)?,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let added: Vec<_> = rows
            .iter()
            .flat_map(|r| r.screens.iter().copied())
            .collect();
        let count = rows.len();
        self.gallery.insert_batch(rows)?;
        self.adjust_screen_means(&added, true);
        Ok(count)
    }

    /// The state of an enrollment, if the reference id was ever enrolled.
    pub fn enrollment(&self, reference_id: &str) -> Result<Option<Enrollment>> {
        let snapshot = self.gallery.snapshot();
        read_state(&snapshot, reference_id)
    }

    /// Records an adjudicator's verdict on a held enrollment: `distinct`
    /// makes it searchable (cleared), `duplicate` confirms it.
    pub fn adjudicate(
        &self,
        reference_id: &str,
        verdict: Verdict,
        by: &str,
        comment: &str,
    ) -> Result<Enrollment> {
        self.adjudicate_recorded(reference_id, verdict, by, comment, &Unrecorded)
    }

    /// [`Abis::adjudicate`], recording the verdict in `log` before it is
    /// stored (see [`DecisionLog`]).
    pub fn adjudicate_recorded(
        &self,
        reference_id: &str,
        verdict: Verdict,
        by: &str,
        comment: &str,
        log: &dyn DecisionLog,
    ) -> Result<Enrollment> {
        let _decide = self.lock_decisions();
        let snapshot = self.gallery.snapshot();
        let mut enrollment =
            read_state(&snapshot, reference_id)?.ok_or_else(|| EngineError::UnknownReference {
                reference_id: reference_id.to_string(),
            })?;
        if enrollment.status != Status::PotentialDuplicate {
            return Err(EngineError::NotHeld {
                reference_id: reference_id.to_string(),
                status: enrollment.status,
            });
        }
        enrollment.status = match verdict {
            Verdict::Distinct => Status::Cleared,
            Verdict::Duplicate => Status::ConfirmedDuplicate,
        };
        enrollment.adjudication = Some(Adjudication {
            verdict,
            by: by.to_string(),
            comment: comment.to_string(),
            at: jiff::Timestamp::now(),
        });
        let state = state_bytes(&enrollment)?;
        let decision = Decision {
            kind: DecisionKind::Adjudicate,
            enrollment: &enrollment,
        };
        record_decision(log, decision)?;
        // The state first: if the flag write failed after it, a retry of a
        // `distinct` verdict would be refused, but the row would stay out of
        // searches, which is the safe side.
        self.gallery
            .set_state(reference_id, state)
            .inspect_err(|_| log.not_stored(decision))?;
        if verdict == Verdict::Distinct {
            self.gallery.set_searchable(reference_id, true)?;
            if let Some(row) = snapshot.get(reference_id) {
                self.adjust_screen_means(&row_screens(&row), true);
            }
        }
        Ok(enrollment)
    }

    /// Deletes an enrollment: it leaves searches for good; its status stays
    /// readable as `deleted`.
    pub fn delete(&self, reference_id: &str) -> Result<Enrollment> {
        self.delete_recorded(reference_id, &Unrecorded)
    }

    /// [`Abis::delete`], recording the delete in `log` before it is stored
    /// (see [`DecisionLog`]).
    pub fn delete_recorded(&self, reference_id: &str, log: &dyn DecisionLog) -> Result<Enrollment> {
        let _decide = self.lock_decisions();
        let snapshot = self.gallery.snapshot();
        let mut enrollment =
            read_state(&snapshot, reference_id)?.ok_or_else(|| EngineError::UnknownReference {
                reference_id: reference_id.to_string(),
            })?;
        if enrollment.status == Status::Deleted {
            return Err(EngineError::DeletedReference {
                reference_id: reference_id.to_string(),
            });
        }
        let was_searchable = snapshot.get(reference_id).is_some_and(|r| r.is_live());
        enrollment.status = Status::Deleted;
        enrollment.deleted_at = Some(jiff::Timestamp::now());
        let state = state_bytes(&enrollment)?;
        let decision = Decision {
            kind: DecisionKind::Delete,
            enrollment: &enrollment,
        };
        record_decision(log, decision)?;
        self.gallery
            .set_state(reference_id, state)
            .inspect_err(|_| log.not_stored(decision))?;
        self.gallery.delete(reference_id)?;
        if was_searchable && let Some(row) = snapshot.get(reference_id) {
            self.adjust_screen_means(&row_screens(&row), false);
        }
        Ok(enrollment)
    }

    /// An investigator's search (see [`Mode`]).
    pub fn identify(&self, probe: &Probe, options: &IdentifyOptions) -> Result<Identification> {
        validate_probe(probe, self.face_dim())?;
        let snapshot = self.gallery.snapshot();
        let rows = Rows::new(&snapshot);
        let scope = Scope::new(options.restrict_to.as_deref());
        let mut searcher = self.searcher(&snapshot, &rows, true);
        match &options.mode {
            Mode::Investigation { max_candidates } => {
                searcher.plan.full_comparisons = INVESTIGATION_FULL_COMPARISONS;
                let found = searcher.search(&rows, &scope, probe, (*max_candidates).max(1))?;
                Ok(Identification {
                    candidates: found.candidates,
                    gallery_size: found.scope_size,
                    threshold: None,
                })
            }
            Mode::Identification {
                threshold,
                target_fpir,
                max_candidates,
            } => {
                let keep = max_candidates.unwrap_or(DEDUP_CANDIDATES).max(1);
                let found = searcher.search(&rows, &scope, probe, keep)?;
                let threshold = match (threshold, target_fpir) {
                    (Some(t), _) => *t,
                    (None, Some(fpir)) => fusion::threshold_for_fpir(found.scope_size, *fpir),
                    (None, None) => {
                        fusion::threshold_for_fpir(found.scope_size, self.config.dedup_target_fpir)
                    }
                };
                Ok(Identification {
                    candidates: confirm(&searcher, &snapshot, probe, found.candidates, threshold)?,
                    gallery_size: found.scope_size,
                    threshold: Some(threshold),
                })
            }
        }
    }

    /// Compares a probe 1:1 with one stored enrollment (held ones
    /// included), each finger with the full comparison
    /// ([`crate::finger::compare`]: both directions, the resolution search
    /// and the local similarity, calibrated with its own map), so a
    /// verification and `POST /v1/compare` give the same finger scores.
    /// Searches score by alignment alone (one direction, cheaper), but for
    /// an investigation's best candidates and the candidates near a dedup
    /// or threshold search's threshold, which get this score.
    pub fn verify(&self, probe: &Probe, reference_id: &str) -> Result<Verification> {
        validate_probe(probe, self.face_dim())?;
        let snapshot = self.gallery.snapshot();
        let record = live_record(&snapshot, reference_id)?;
        let rows = Rows::new(&snapshot);
        let searcher = self.searcher(&snapshot, &rows, false);
        let candidate = searcher.compare(probe, &record)?;
        let threshold = self.config.verify_threshold;
        Ok(Verification {
            reference_id: reference_id.to_string(),
            score: candidate.score,
            fingers: candidate.fingers,
            face: candidate.face,
            threshold,
            is_match: candidate.score >= threshold,
        })
    }

    /// Counts and sizes.
    pub fn stats(&self) -> Result<Stats> {
        let gallery = self.gallery.stats()?;
        let snapshot = self.gallery.snapshot();
        let (mut held, mut confirmed) = (0, 0);
        for block in snapshot.blocks() {
            for i in (0..block.len()).filter(|&i| !block.is_deleted(i) && !block.is_searchable(i)) {
                match read_state(&snapshot, block.reference_id(i))?.map(|e| e.status) {
                    Some(Status::ConfirmedDuplicate) => confirmed += 1,
                    _ => held += 1,
                }
            }
        }
        Ok(Stats {
            identities: gallery.searchable as usize,
            held,
            confirmed_duplicates: confirmed,
            deleted: gallery.deleted as usize,
            bytes_on_disk: gallery.bytes_on_disk,
            pending: self.pending.load(Ordering::Relaxed),
        })
    }

    fn lock_decisions(&self) -> MutexGuard<'_, ()> {
        // The guarded data is `()`: a panic elsewhere cannot leave it torn.
        self.decide
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A searcher with up-to-date derived data for `snapshot`.
    fn searcher<'a>(
        &'a self,
        snapshot: &Snapshot,
        rows: &Rows<'_>,
        need_screen: bool,
    ) -> Searcher<'a> {
        self.refresh_derived(snapshot, rows, need_screen);
        let derived = self.derived.read().unwrap_or_else(|p| p.into_inner());
        Searcher {
            plan: SearchPlan {
                face_candidates: self.config.face_candidates,
                screen_min_identities: self.config.screen_min_identities,
                screened_comparisons: self.config.screened_comparisons,
                full_comparisons: 0,
            },
            codec: self.codec.as_ref(),
            face_calibration: derived.face_calibration,
            screen_means: derived.screen_means.clone().unwrap_or_default(),
        }
    }

    fn refresh_derived(&self, snapshot: &Snapshot, rows: &Rows<'_>, need_screen: bool) {
        let counts = snapshot.counts();
        let (stale_faces, stale_screen) = {
            let d = self.derived.read().unwrap_or_else(|p| p.into_inner());
            (
                counts.faces >= 2 * d.calibrated_at_faces.max(100),
                need_screen
                    && d.screen_means.is_none()
                    && counts.searchable as usize >= self.config.screen_min_identities,
            )
        };
        if stale_faces && self.codec.is_some() {
            let cosines = search::sample_face_cosines(rows, CALIBRATION_PAIRS);
            let mut d = self.derived.write().unwrap_or_else(|p| p.into_inner());
            d.face_calibration = FaceCalibration::fit(&cosines);
            d.calibrated_at_faces = counts.faces;
        }
        if stale_screen {
            let means = search::screen_means(rows);
            let mut d = self.derived.write().unwrap_or_else(|p| p.into_inner());
            if d.screen_means.is_none() {
                d.screen_means = Some(means);
            }
        }
    }

    fn adjust_screen_means(&self, codes: &[(FingerPosition, ScreenCode)], add: bool) {
        let mut d = self.derived.write().unwrap_or_else(|p| p.into_inner());
        if let Some(means) = d.screen_means.as_mut() {
            for (position, code) in codes {
                if let Some(mean) = means.get_mut(usize::from(position.code())) {
                    if add {
                        mean.add(code)
                    } else {
                        mean.remove(code)
                    }
                }
            }
        }
    }
}

/// The state of a record loaded by a bulk import: cleared now, without a
/// dedup search (the imported population is taken as de-duplicated).
pub fn imported_state(reference_id: &str) -> Result<Vec<u8>> {
    state_bytes(&Enrollment {
        reference_id: reference_id.to_string(),
        status: Status::Cleared,
        decided_at: jiff::Timestamp::now(),
        candidates: Vec::new(),
        threshold: 0.0,
        gallery_size: 0,
        adjudication: None,
        deleted_at: None,
    })
}

fn record_decision(log: &dyn DecisionLog, decision: Decision<'_>) -> Result<()> {
    log.record(decision)
        .map_err(|source| EngineError::DecisionNotRecorded { source })
}

/// Decrements the pending-work counter when an enrollment ends.
struct PendingGuard<'a>(&'a AtomicUsize);

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The screening codes of a stored row.
fn row_screens(row: &crate::store::RowRef<'_>) -> Vec<(FingerPosition, ScreenCode)> {
    FingerPosition::TEN
        .iter()
        .filter_map(|&p| Some((p, *row.screen_code(p)?)))
        .collect()
}

fn state_bytes(enrollment: &Enrollment) -> Result<Vec<u8>> {
    serde_json::to_vec(enrollment).map_err(|e| EngineError::StateEncoding {
        reason: e.to_string(),
    })
}

/// The stored state of an enrollment: `None` if the reference id was never
/// enrolled; an error if its state cannot be read (never taken for absent).
/// The stored, not deleted, row of `reference_id` (held enrollments and
/// confirmed duplicates included).
fn live_row<'s>(snapshot: &'s Snapshot, reference_id: &str) -> Option<RowRef<'s>> {
    snapshot.get(reference_id).filter(|r| !r.is_deleted())
}

/// The candidates of a threshold decision, the strongest first: those
/// within [`CONFIRM_MARGIN`] of `threshold` by the search's score compared
/// again in full and kept if that score reaches it, those further above
/// kept with the search's score.
fn confirm(
    searcher: &Searcher<'_>,
    snapshot: &Snapshot,
    probe: &Probe,
    found: Vec<Candidate>,
    threshold: f64,
) -> Result<Vec<Candidate>> {
    let mut confirmed: Vec<Candidate> = found
        .into_par_iter()
        .filter(|c| c.score >= threshold - CONFIRM_MARGIN)
        .map(|c| {
            if c.score >= threshold + CONFIRM_MARGIN {
                return Ok(c);
            }
            searcher.compare(probe, &live_record(snapshot, &c.reference_id)?)
        })
        .collect::<Result<_>>()?;
    confirmed.retain(|c| c.score >= threshold);
    confirmed.sort_by(search::best_first);
    Ok(confirmed)
}

/// The record of [`live_row`], or [`EngineError::UnknownReference`].
fn live_record(snapshot: &Snapshot, reference_id: &str) -> Result<EnrollmentRecord> {
    live_row(snapshot, reference_id)
        .ok_or_else(|| EngineError::UnknownReference {
            reference_id: reference_id.to_string(),
        })?
        .record()
}

fn read_state(snapshot: &Snapshot, reference_id: &str) -> Result<Option<Enrollment>> {
    let Some(bytes) = snapshot.state(reference_id) else {
        return Ok(None);
    };
    serde_json::from_slice(bytes)
        .map(Some)
        .map_err(|e| EngineError::CorruptState {
            reference_id: reference_id.to_string(),
            reason: e.to_string(),
        })
}

fn validate_probe(probe: &Probe, face_dim: Option<usize>) -> Result<()> {
    if probe.fingers.is_empty() && probe.face.is_none() {
        return Err(hoviyat_models::ModelError::EmptyRecord.into());
    }
    if probe.fingers.len() > hoviyat_models::MAX_FINGERS {
        return Err(hoviyat_models::ModelError::TooManyFingers {
            count: probe.fingers.len(),
            max: hoviyat_models::MAX_FINGERS,
        }
        .into());
    }
    for finger in &probe.fingers {
        finger.validate()?;
    }
    if let Some(face) = &probe.face {
        face.validate(face_dim)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hoviyat_models::{FaceTemplate, FingerTemplate, Minutia, MinutiaKind};

    #[test]
    fn a_gallery_with_an_older_blob_layout_is_refused_not_searched() {
        let compat = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/gallery-v1");
        let tmp = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(compat).unwrap() {
            let p = entry.unwrap().path();
            std::fs::copy(&p, tmp.path().join(p.file_name().unwrap())).unwrap();
        }
        let before: Vec<(std::path::PathBuf, Vec<u8>)> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().is_some_and(|n| n != "LOCK"))
            .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
            .collect();
        let err = Abis::open(tmp.path(), &AbisConfig::default()).err();
        assert!(
            matches!(err, Some(EngineError::BadFingerBlob { what }) if what.contains("another release")),
            "{err:?}"
        );
        // The refused gallery is left as it was, for the release that wrote it.
        for (path, bytes) in &before {
            assert_eq!(&std::fs::read(path).unwrap(), bytes, "{}", path.display());
        }
    }

    /// A tiny deterministic generator: `next()` in [0, 1).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> f32 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 40) as f32 / (1u64 << 24) as f32
        }
    }

    const DIM: usize = 16;

    /// Person `id`'s finger at `position`: minutiae spread over the print
    /// at least 12 px apart, directions following a smooth flow.
    fn master(id: u64, position: FingerPosition) -> Vec<(f32, f32, f32)> {
        let mut rng = Lcg(id * 1000 + u64::from(position.code()));
        let mut out: Vec<(f32, f32, f32)> = Vec::new();
        // A smooth orientation field of the finger's own.
        let (base, a1, a2) = (
            rng.next() * std::f32::consts::PI,
            0.5 + rng.next(),
            0.5 + rng.next(),
        );
        let (f1, f2, p1, p2) = (
            40.0 + rng.next() * 80.0,
            40.0 + rng.next() * 80.0,
            rng.next() * 6.0,
            rng.next() * 6.0,
        );
        while out.len() < 40 {
            let (x, y) = (30.0 + rng.next() * 240.0, 30.0 + rng.next() * 300.0);
            if out.iter().any(|m| (m.0 - x).hypot(m.1 - y) < 12.0) {
                continue;
            }
            let flip = if rng.next() < 0.5 {
                0.0
            } else {
                std::f32::consts::PI
            };
            let angle = base + a1 * (x / f1 + p1).sin() + a2 * (y / f2 + p2).cos() + flip;
            out.push((x, y, angle));
        }
        out
    }

    /// An impression: rotated, shifted, jittered, some minutiae lost.
    fn impression(id: u64, position: FingerPosition, sample: u64) -> FingerTemplate {
        let mut rng = Lcg(id * 7919 + sample * 104729 + u64::from(position.code()));
        let rotation = if sample == 0 {
            0.0
        } else {
            (rng.next() - 0.5) * 0.6
        };
        let (dx, dy) = if sample == 0 {
            (0.0, 0.0)
        } else {
            ((rng.next() - 0.5) * 30.0, (rng.next() - 0.5) * 30.0)
        };
        let (s, c) = rotation.sin_cos();
        let jitter = if sample == 0 { 0.0 } else { 1.5 };
        let mut minutiae = Vec::new();
        for (x, y, a) in master(id, position) {
            if sample != 0 && rng.next() < 0.15 {
                continue;
            }
            let (u, v) = (x - 150.0, 180.0 - y);
            let (ur, vr) = (c * u - s * v, s * u + c * v);
            let (jx, jy, ja) = (rng.next() - 0.5, rng.next() - 0.5, rng.next() - 0.5);
            minutiae.push(Minutia::new(
                200.0 + ur + dx + jx * jitter,
                240.0 - vr + dy + jy * jitter,
                a + rotation + ja * 0.1 * jitter,
                MinutiaKind::Ending,
                60,
            ));
        }
        FingerTemplate {
            position,
            width_px: 400,
            height_px: 480,
            dpi: 500,
            quality: 70,
            minutiae,
            ridge_map: None,
        }
    }

    fn face(id: u64, sample: u64) -> FaceTemplate {
        let mut centre = Lcg(id + 1);
        let mut noise = Lcg(id * 31 + sample + 1_000_000);
        FaceTemplate::new(
            "test",
            (0..DIM)
                .map(|_| (centre.next() - 0.5) + (noise.next() - 0.5) * 0.3)
                .collect(),
        )
    }

    fn person(id: u64, sample: u64, reference_id: &str) -> EnrollmentRecord {
        let fingers = FingerPosition::TEN
            .iter()
            .map(|&p| impression(id, p, sample))
            .collect();
        EnrollmentRecord::new(reference_id, fingers, Some(face(id, sample)))
    }

    fn abis(dir: &Path) -> Abis {
        let config = AbisConfig {
            face_dim: Some(DIM),
            ..AbisConfig::default()
        };
        Abis::open(dir, &config).unwrap()
    }

    fn enroll_population(abis: &Abis, n: u64) {
        for id in 0..n {
            let outcome = abis.enroll(person(id, 0, &format!("p-{id}"))).unwrap();
            assert_eq!(
                outcome.enrollment.status,
                Status::Cleared,
                "p-{id}: {:?}",
                outcome.enrollment.candidates
            );
        }
    }

    #[test]
    fn a_re_enrollment_is_held_then_adjudicated() {
        let dir = tempfile::tempdir().unwrap();
        let abis = abis(dir.path());
        enroll_population(&abis, 12);

        let again = abis.enroll(person(5, 1, "second-identity")).unwrap();
        assert_eq!(again.enrollment.status, Status::PotentialDuplicate);
        assert_eq!(again.enrollment.candidates[0].reference_id, "p-5");
        assert_eq!(again.enrollment.candidates[0].fingers.len(), 10);
        assert!(again.enrollment.candidates[0].face.is_some());
        // Held enrollments are not searchable as distinct people.
        let probe = Probe {
            fingers: vec![impression(5, FingerPosition::RightIndex, 2)],
            face: None,
        };
        let found = abis.identify(&probe, &IdentifyOptions::default()).unwrap();
        assert_eq!(found.candidates[0].reference_id, "p-5");
        assert!(
            found
                .candidates
                .iter()
                .all(|c| c.reference_id != "second-identity")
        );
        assert_eq!(abis.stats().unwrap().held, 1);

        let decided = abis
            .adjudicate(
                "second-identity",
                Verdict::Duplicate,
                "adj-1",
                "same person",
            )
            .unwrap();
        assert_eq!(decided.status, Status::ConfirmedDuplicate);
        assert!(matches!(
            abis.adjudicate(
                "second-identity",
                Verdict::Distinct,
                "adj-2",
                "changed my mind"
            ),
            Err(EngineError::NotHeld { .. })
        ));
        let status = abis.enrollment("second-identity").unwrap().unwrap();
        assert_eq!(status.adjudication.unwrap().by, "adj-1");
    }

    #[test]
    fn distinct_verdicts_make_the_enrollment_searchable() {
        let dir = tempfile::tempdir().unwrap();
        let abis = abis(dir.path());
        enroll_population(&abis, 4);
        let held = abis.enroll(person(2, 1, "twin")).unwrap();
        assert_eq!(held.enrollment.status, Status::PotentialDuplicate);
        abis.adjudicate("twin", Verdict::Distinct, "adj", "identical twins")
            .unwrap();
        assert_eq!(
            abis.enrollment("twin").unwrap().unwrap().status,
            Status::Cleared
        );
        let probe = Probe {
            fingers: vec![impression(2, FingerPosition::LeftThumb, 3)],
            face: None,
        };
        let found = abis.identify(&probe, &IdentifyOptions::default()).unwrap();
        let ids: Vec<&str> = found
            .candidates
            .iter()
            .take(2)
            .map(|c| c.reference_id.as_str())
            .collect();
        assert!(ids.contains(&"twin") && ids.contains(&"p-2"), "{ids:?}");
    }

    #[test]
    fn retries_are_idempotent_and_conflicts_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let abis = abis(dir.path());
        let first = abis.enroll(person(1, 0, "a")).unwrap();
        let retry = abis.enroll(person(1, 0, "a")).unwrap();
        assert!(retry.replayed && !first.replayed);
        assert_eq!(retry.enrollment, first.enrollment);
        assert!(matches!(
            abis.enroll(person(2, 0, "a")),
            Err(EngineError::ReferenceExists { .. })
        ));
    }

    #[test]
    fn deleted_enrollments_leave_searches_but_keep_their_status() {
        let dir = tempfile::tempdir().unwrap();
        let abis = abis(dir.path());
        enroll_population(&abis, 3);
        abis.delete("p-1").unwrap();
        assert_eq!(
            abis.enrollment("p-1").unwrap().unwrap().status,
            Status::Deleted
        );
        assert!(matches!(
            abis.delete("p-1"),
            Err(EngineError::DeletedReference { .. })
        ));
        // A retry of the deleted enrollment, or another record under its
        // id, is told that the id was deleted, not given the old answer.
        for record in [person(1, 0, "p-1"), person(2, 0, "p-1")] {
            assert!(matches!(
                abis.enroll(record),
                Err(EngineError::DeletedReference { .. })
            ));
        }
        // The same person enrolling again is now cleared: the old identity is gone.
        let back = abis.enroll(person(1, 1, "p-1-again")).unwrap();
        assert_eq!(back.enrollment.status, Status::Cleared);
        assert!(abis.verify(&Probe::default(), "p-1").is_err());
    }

    #[test]
    fn verification_separates_mates_from_strangers() {
        let dir = tempfile::tempdir().unwrap();
        let abis = abis(dir.path());
        enroll_population(&abis, 3);
        let probe = Probe {
            fingers: vec![impression(0, FingerPosition::RightThumb, 4)],
            face: None,
        };
        assert!(abis.verify(&probe, "p-0").unwrap().is_match);
        assert!(!abis.verify(&probe, "p-1").unwrap().is_match);
        assert!(matches!(
            abis.verify(&probe, "nobody"),
            Err(EngineError::UnknownReference { .. })
        ));
    }

    /// An investigator's shortlist carries the full comparison's scores:
    /// the very scores a verification of each candidate gives, best first;
    /// the rest of the list keeps the search's own comparison.
    #[test]
    fn an_investigations_best_candidates_carry_their_verification_scores() {
        let dir = tempfile::tempdir().unwrap();
        let abis = abis(dir.path());
        enroll_population(&abis, 14);
        let probe = Probe {
            fingers: vec![
                impression(3, FingerPosition::RightThumb, 4),
                impression(3, FingerPosition::LeftIndex, 4),
            ],
            face: None,
        };
        let options = IdentifyOptions {
            mode: Mode::Investigation { max_candidates: 14 },
            restrict_to: None,
        };
        let found = abis.identify(&probe, &options).unwrap();
        assert_eq!(found.candidates[0].reference_id, "p-3");
        assert!(found.candidates.len() > INVESTIGATION_FULL_COMPARISONS);
        let (shortlist, rest) = found.candidates.split_at(INVESTIGATION_FULL_COMPARISONS);
        for c in shortlist {
            let verified = abis.verify(&probe, &c.reference_id).unwrap();
            assert_eq!((c.score, &c.fingers), (verified.score, &verified.fingers));
        }
        assert!(shortlist.windows(2).all(|w| w[0].score >= w[1].score));
        let differs = rest
            .iter()
            .any(|c| abis.verify(&probe, &c.reference_id).unwrap().score != c.score);
        assert!(differs, "the tail was compared in full too");
    }

    #[test]
    fn a_threshold_decision_near_its_threshold_rests_on_the_full_comparison() {
        let dir = tempfile::tempdir().unwrap();
        let abis = abis(dir.path());
        enroll_population(&abis, 14);
        // A partial capture (8 minutiae): the full comparison finds much
        // more of the mate than the search's one-direction score does.
        let mut finger = impression(3, FingerPosition::LeftIndex, 4);
        finger.minutiae.truncate(8);
        let probe = Probe {
            fingers: vec![finger],
            face: None,
        };
        // The mate's score by the search's own (one-direction) comparison.
        let snapshot = abis.gallery.snapshot();
        let rows = Rows::new(&snapshot);
        let found = abis
            .searcher(&snapshot, &rows, true)
            .search(&rows, &Scope::new(None), &probe, DEDUP_CANDIDATES)
            .unwrap();
        let one_way = found
            .candidates
            .iter()
            .find(|c| c.reference_id == "p-3")
            .expect("the mate is a candidate")
            .score;
        let full = abis.verify(&probe, "p-3").unwrap().score;
        assert!(full > one_way + 0.1, "full {full}, one way {one_way}");
        // A threshold the mate misses one way but meets in full.
        let at = |threshold: f64| IdentifyOptions {
            mode: Mode::Identification {
                threshold: Some(threshold),
                target_fpir: None,
                max_candidates: None,
            },
            restrict_to: None,
        };
        let held = abis.identify(&probe, &at((one_way + full) / 2.0)).unwrap();
        assert_eq!(held.candidates[0].reference_id, "p-3");
        for c in &held.candidates {
            let verified = abis.verify(&probe, &c.reference_id).unwrap();
            assert_eq!((c.score, &c.fingers), (verified.score, &verified.fingers));
        }
        // Above the full score nothing is held.
        let above = abis.identify(&probe, &at(full + 0.01)).unwrap();
        assert!(above.candidates.is_empty(), "{:?}", above.candidates);
    }

    #[test]
    fn simultaneous_enrollments_of_one_person_are_never_both_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let abis = abis(dir.path());
        enroll_population(&abis, 2);
        for pair in 0..4u64 {
            let id = 100 + pair;
            let (a, b) = std::thread::scope(|s| {
                let a = s.spawn(|| abis.enroll(person(id, 1, &format!("x-{id}"))).unwrap());
                let b = s.spawn(|| abis.enroll(person(id, 2, &format!("y-{id}"))).unwrap());
                (a.join().unwrap(), b.join().unwrap())
            });
            let cleared = [a, b]
                .iter()
                .filter(|o| o.enrollment.status == Status::Cleared)
                .count();
            assert_eq!(cleared, 1, "pair {pair}");
        }
    }

    #[test]
    fn screening_keeps_the_mate_among_the_candidates() {
        let dir = tempfile::tempdir().unwrap();
        let config = AbisConfig {
            face_dim: Some(DIM),
            screen_min_identities: 10,
            screened_comparisons: 60,
            ..AbisConfig::default()
        };
        let abis = Abis::open(dir.path(), &config).unwrap();
        let population: Vec<EnrollmentRecord> = (0..60)
            .map(|id| person(id, 0, &format!("p-{id}")))
            .collect();
        abis.import_batch(&population).unwrap();
        // Fingers only, so the face cannot bring the mate in.
        let mut probe = person(33, 1, "probe");
        probe.face = None;
        let search = |fingers| {
            abis.identify(
                &Probe {
                    fingers,
                    face: None,
                },
                &IdentifyOptions::default(),
            )
            .unwrap()
        };
        let found = search(probe.fingers);
        assert_eq!(found.candidates[0].reference_id, "p-33");
        assert!(
            found.candidates.len() <= 6,
            "screening kept {} candidates",
            found.candidates.len()
        );
        // The mate passes the cascade: every finger it shares is scored.
        assert_eq!(found.candidates[0].fingers.len(), 10);
        // The same once the rows are sealed into a segment's screening column.
        abis.seal().unwrap();
        let sealed = search(person(33, 1, "probe").fingers);
        assert_eq!(sealed.candidates[0].reference_id, "p-33");
        assert_eq!(sealed.candidates.len(), found.candidates.len());
        // One finger too sparse for a screening vector (a partial capture)
        // does not turn the search exhaustive.
        let mut sparse = person(33, 1, "probe").fingers;
        sparse[4].minutiae.truncate(3);
        let again = search(sparse);
        assert_eq!(again.candidates[0].reference_id, "p-33");
        assert!(
            again.candidates.len() <= 6,
            "{} candidates",
            again.candidates.len()
        );
        // Unrelated candidates stop after their three best-screened fingers
        // when none of them shows evidence of a match (seen in the search
        // itself: an investigation compares its shortlist again in full, a
        // threshold search the candidates near its threshold).
        let snapshot = abis.gallery.snapshot();
        let rows = Rows::new(&snapshot);
        let thresholded = abis
            .searcher(&snapshot, &rows, true)
            .search(
                &rows,
                &Scope::new(None),
                &Probe {
                    fingers: person(33, 1, "probe").fingers,
                    face: None,
                },
                DEDUP_CANDIDATES,
            )
            .unwrap();
        assert_eq!(thresholded.candidates.len(), found.candidates.len());
        for c in &thresholded.candidates[1..] {
            let best = c.fingers.iter().map(|f| f.evidence).fold(0.0, f64::max);
            if best < 2.0 {
                assert_eq!(c.fingers.len(), 3, "{}", c.reference_id);
            }
        }
    }

    #[test]
    fn compaction_through_the_facade_keeps_everyone_and_open_existing_creates_nothing() {
        let empty = tempfile::tempdir().unwrap();
        let missing = empty.path().join("gallery");
        assert!(Abis::open_existing(&missing, &AbisConfig::default()).is_err());
        assert!(!missing.join(crate::store::MANIFEST_FILE).exists());

        let dir = tempfile::tempdir().unwrap();
        let abis = abis(dir.path());
        enroll_population(&abis, 6);
        let deleted = abis.delete("p-2").unwrap();
        abis.compact().unwrap();
        assert_eq!(abis.gallery_stats().unwrap().segments, 1);
        drop(abis);
        let abis = Abis::open_existing(dir.path(), &AbisConfig::default()).unwrap();
        for id in (0..6).filter(|&id| id != 2) {
            let e = abis.enrollment(&format!("p-{id}")).unwrap().unwrap();
            assert_eq!(e.status, Status::Cleared, "p-{id}");
        }
        assert_eq!(abis.enrollment("p-2").unwrap(), Some(deleted));
        // The compacted gallery still finds its people.
        let again = abis.enroll(person(4, 1, "p-4-again")).unwrap();
        assert_eq!(again.enrollment.status, Status::PotentialDuplicate);
        assert_eq!(again.enrollment.candidates[0].reference_id, "p-4");
    }

    #[test]
    fn a_corrupt_enrollment_state_is_an_error_not_absent() {
        let dir = tempfile::tempdir().unwrap();
        let abis = abis(dir.path());
        enroll_population(&abis, 2);
        abis.gallery()
            .set_state("p-1", b"not json".to_vec())
            .unwrap();
        assert!(matches!(
            abis.enrollment("p-1"),
            Err(EngineError::CorruptState { .. })
        ));
        assert!(matches!(
            abis.delete("p-1"),
            Err(EngineError::CorruptState { .. })
        ));
        assert!(abis.enrollment("never").unwrap().is_none());
    }

    /// A log that keeps what it was given, or refuses everything.
    #[derive(Default)]
    struct Recorder {
        refuse: bool,
        seen: std::cell::RefCell<Vec<(DecisionKind, String, Status, bool)>>,
    }

    impl DecisionLog for Recorder {
        fn record(&self, d: Decision<'_>) -> std::result::Result<(), DecisionLogError> {
            if self.refuse {
                return Err("disk full".into());
            }
            self.seen.borrow_mut().push((
                d.kind,
                d.enrollment.reference_id.clone(),
                d.enrollment.status,
                true,
            ));
            Ok(())
        }
        fn not_stored(&self, d: Decision<'_>) {
            self.seen.borrow_mut().push((
                d.kind,
                d.enrollment.reference_id.clone(),
                d.enrollment.status,
                false,
            ));
        }
    }

    #[test]
    fn decisions_are_recorded_before_they_are_stored_and_a_refused_one_is_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let abis = abis(dir.path());
        enroll_population(&abis, 3);
        let refusing = Recorder {
            refuse: true,
            ..Recorder::default()
        };
        let err = abis
            .enroll_recorded(person(1, 1, "held"), &refusing)
            .unwrap_err();
        assert!(
            matches!(err, EngineError::DecisionNotRecorded { .. }),
            "{err}"
        );
        assert!(abis.enrollment("held").unwrap().is_none());
        assert!(matches!(
            abis.delete_recorded("p-0", &refusing),
            Err(EngineError::DecisionNotRecorded { .. })
        ));
        assert_eq!(
            abis.enrollment("p-0").unwrap().unwrap().status,
            Status::Cleared
        );

        let log = Recorder::default();
        abis.enroll_recorded(person(1, 1, "held"), &log).unwrap();
        // A replay is no new decision.
        assert!(
            abis.enroll_recorded(person(1, 1, "held"), &log)
                .unwrap()
                .replayed
        );
        abis.adjudicate_recorded("held", Verdict::Duplicate, "ada", "same", &log)
            .unwrap();
        abis.delete_recorded("p-0", &log).unwrap();
        let seen = log.seen.into_inner();
        assert_eq!(
            seen,
            vec![
                (
                    DecisionKind::Enroll,
                    "held".to_string(),
                    Status::PotentialDuplicate,
                    true
                ),
                (
                    DecisionKind::Adjudicate,
                    "held".to_string(),
                    Status::ConfirmedDuplicate,
                    true
                ),
                (
                    DecisionKind::Delete,
                    "p-0".to_string(),
                    Status::Deleted,
                    true
                ),
            ]
        );
        for (kind, id, _, _) in &seen {
            assert!(took_effect(*kind, abis.enrollment(id).unwrap().as_ref()));
        }
    }

    #[test]
    fn records_loaded_by_the_gallery_import_have_a_status() {
        let dir = tempfile::tempdir().unwrap();
        let abis = abis(dir.path());
        let input = (0..3u64).map(|id| (id + 1, Ok(person(id, 0, &format!("imp-{id}")))));
        abis.import_records(input, 2, |_, _| {}, |_| {}).unwrap();
        assert_eq!(
            abis.enrollment("imp-1").unwrap().unwrap().status,
            Status::Cleared
        );
        assert_eq!(abis.delete("imp-2").unwrap().status, Status::Deleted);
        let again = abis.enroll(person(0, 1, "imp-0-again")).unwrap();
        assert_eq!(again.enrollment.candidates[0].reference_id, "imp-0");
    }

    #[test]
    fn the_gallery_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let abis = abis(dir.path());
            enroll_population(&abis, 3);
            abis.enroll(person(0, 1, "dup")).unwrap();
        }
        let abis = abis(dir.path());
        assert_eq!(
            abis.enrollment("dup").unwrap().unwrap().status,
            Status::PotentialDuplicate
        );
        assert_eq!(abis.stats().unwrap().identities, 3);
    }
}
