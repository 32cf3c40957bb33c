//! The 1:N search pipeline over one gallery snapshot.
//!
//! 1. **Candidates.** The face, when both sides have one, is searched
//!    exactly over the whole scope (int8 scan, exact rescoring). The fingers
//!    are compared exhaustively when that is affordable (small galleries,
//!    partial or latent probes); otherwise every identity is *screened* with
//!    the fixed-length vectors of [`crate::screen`] and only the best few
//!    hundred go on.
//! 2. **Scoring.** Each candidate's fingers are compared with the full
//!    minutiae matcher at the same positions (a probe finger of unknown
//!    position against all of them), the face scored exactly, and the
//!    calibrated evidence fused ([`crate::fusion::fuse_evidence`]). A
//!    candidate that screening kept has its best-screened fingers compared
//!    first and the rest only if one of them shows evidence of a mate; one
//!    found by its face alone is compared in full.
//! 3. **Shortlist** (investigations). The best few candidates are scored
//!    again with the full 1:1 comparison, as a verification scores them
//!    (both directions, the resolution search, the local similarity and
//!    the ridge maps), and ordered by it; the rest keep the order of step 2.

use std::collections::{HashMap, HashSet};

use hoviyat_models::FingerPosition;
use hoviyat_models::binary::{decode_face, decode_record};
use rayon::prelude::*;

use super::calibration::FaceCalibration;
use super::types::{Candidate, FaceScore, FingerScore, Probe};
use crate::face::{FaceCodec, FaceProbe, FaceRows, FaceScope, FaceSearchMode, FaceSearcher};
use crate::finger::PreparedProbe;
use crate::kernels::prefetch;
use crate::prepare::blob_form;
use crate::screen::{ScreenMean, ScreenProbe};
use crate::store::{Block, ScreenRow, ScreenSlot, Snapshot};
use crate::{Result, fusion};

/// Tuning of the candidate stage.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SearchPlan {
    /// Face candidates taken from the face search.
    pub face_candidates: usize,
    /// Galleries smaller than this are always compared exhaustively.
    pub screen_min_identities: usize,
    /// Full finger comparisons spent on screened candidates per search.
    pub screened_comparisons: usize,
    /// Best candidates scored again with the full 1:1 comparison.
    pub full_comparisons: usize,
}

/// Fingers fully compared first on a screened candidate (its best-screened
/// ones) before the rest are compared.
const CASCADE_FINGERS: usize = 3;
/// A screened candidate whose first [`CASCADE_FINGERS`] comparisons all stay
/// below this evidence (-log10 FMR: 2 is FMR 1 %) is not compared further:
/// a mate shows it on at least one of its three best-screened fingers, an
/// unrelated person seldom does, so most of the full comparisons a screened
/// search would spend on unrelated candidates are saved.
const CASCADE_MIN_EVIDENCE: f64 = 2.0;

/// Rows a screening task scans in order.
const SCREEN_CHUNK_ROWS: usize = 1024;
/// How far ahead (in rows) the screening pass prefetches the column.
const SCREEN_PREFETCH_ROWS: usize = 2;

/// A gallery row addressed across the snapshot's blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Row {
    block: usize,
    index: usize,
}

/// The snapshot's blocks with global row numbering (for the face searcher).
pub(crate) struct Rows<'a> {
    blocks: Vec<Block<'a>>,
    starts: Vec<u64>,
}

impl<'a> Rows<'a> {
    pub(crate) fn new(snapshot: &'a Snapshot) -> Self {
        let blocks: Vec<Block<'a>> = snapshot.blocks().collect();
        let mut starts = Vec::with_capacity(blocks.len());
        let mut next = 0u64;
        for b in &blocks {
            starts.push(next);
            next += b.len() as u64;
        }
        Self { blocks, starts }
    }

    fn locate(&self, global: u64) -> Option<Row> {
        let block = self
            .starts
            .partition_point(|&s| s <= global)
            .checked_sub(1)?;
        let index = usize::try_from(global - self.starts[block]).ok()?;
        (index < self.blocks[block].len()).then_some(Row { block, index })
    }

    fn block(&self, row: Row) -> &Block<'a> {
        &self.blocks[row.block]
    }

    fn all(&self) -> impl ParallelIterator<Item = Row> + '_ {
        self.blocks
            .par_iter()
            .enumerate()
            .flat_map_iter(|(block, b)| (0..b.len()).map(move |index| Row { block, index }))
    }
}

/// The scope of a search: live rows, optionally restricted to some ids.
pub(crate) struct Scope<'s> {
    restrict: Option<HashSet<&'s str>>,
}

impl<'s> Scope<'s> {
    pub(crate) fn new(restrict: Option<&'s [String]>) -> Self {
        Self {
            restrict: restrict.map(|ids| ids.iter().map(String::as_str).collect()),
        }
    }

    fn admits(&self, block: &Block<'_>, index: usize) -> bool {
        block.is_live(index)
            && self
                .restrict
                .as_ref()
                .is_none_or(|ids| ids.contains(block.reference_id(index)))
    }
}

/// A probe prepared once for a whole search.
pub(crate) struct PreparedSearch {
    face: Option<FaceProbe>,
    fingers: Vec<(FingerPosition, PreparedProbe)>,
}

impl PreparedSearch {
    pub(crate) fn new(probe: &Probe, codec: Option<&FaceCodec>) -> Result<Self> {
        let face = match (&probe.face, codec) {
            (Some(face), Some(codec)) => Some(codec.prepare(&face.values)?),
            _ => None,
        };
        // Each finger's edge table takes a fraction of a millisecond: in
        // parallel, they do not add up on the decision's critical path.
        let fingers = probe
            .fingers
            .par_iter()
            .filter(|f| !f.minutiae.is_empty())
            .map(|f| Ok((f.position, PreparedProbe::new(f)?)))
            .collect::<Result<_>>()?;
        Ok(Self { face, fingers })
    }
}

/// What the finger candidate stage chose.
struct FingerCandidates {
    rows: Vec<Row>,
    /// The probe's screening vectors by position, when screening chose.
    screens: Option<Vec<(FingerPosition, ScreenProbe)>>,
}

/// The order to compare a candidate's fingers in (indices into
/// `prepared.fingers`): best-screened first, a finger without a screening
/// code on either side last.
fn cascade_order(
    block: &Block<'_>,
    index: usize,
    screens: &[(FingerPosition, ScreenProbe)],
    prepared: &PreparedSearch,
) -> Vec<usize> {
    let mut order: Vec<(f32, usize)> = prepared
        .fingers
        .iter()
        .enumerate()
        .map(|(i, (position, _))| {
            let s = screens
                .iter()
                .find(|(p, _)| p == position)
                .and_then(|(_, sp)| Some(sp.score(block.screen_code(index, *position)?)))
                .unwrap_or(f32::MIN);
            (s, i)
        })
        .collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0));
    order.into_iter().map(|(_, i)| i).collect()
}

/// Everything a search needs besides the snapshot.
pub(crate) struct Searcher<'a> {
    pub plan: SearchPlan,
    pub codec: Option<&'a FaceCodec>,
    pub face_calibration: FaceCalibration,
    pub screen_means: Vec<ScreenMean>,
}

/// Candidates of one search, best first, and the number of rows in scope.
pub(crate) struct Found {
    pub candidates: Vec<Candidate>,
    pub scope_size: usize,
}

impl Searcher<'_> {
    /// Searches `probe` and scores every candidate; `keep` bounds how many of
    /// the best are returned.
    pub(crate) fn search(
        &self,
        rows: &Rows<'_>,
        scope: &Scope<'_>,
        probe: &Probe,
        keep: usize,
    ) -> Result<Found> {
        let prepared = PreparedSearch::new(probe, self.codec)?;
        let in_scope: Vec<Row> = rows
            .all()
            .filter(|r| scope.admits(rows.block(*r), r.index))
            .collect();
        let scope_size = in_scope.len();

        let mut face_scores: HashMap<Row, f32> = HashMap::new();
        if let (Some(face), Some(codec)) = (&prepared.face, self.codec) {
            for (row, cosine) in self.face_candidates(rows, scope, codec, face, keep)? {
                face_scores.insert(row, cosine);
            }
        }
        // Each candidate, and whether screening kept it. A row found by its
        // face alone screened poorly, so its best-screened fingers say
        // little about the rest: it is compared in full.
        let mut candidates: HashMap<Row, bool> =
            face_scores.keys().map(|&row| (row, false)).collect();
        let screened = self.finger_candidates(rows, &in_scope, probe, &prepared);
        let by_screening = screened.screens.is_some();
        candidates.extend(screened.rows.into_iter().map(|row| (row, by_screening)));

        let candidates: Vec<(Row, bool)> = candidates.into_iter().collect();
        let mut scored: Vec<(Row, Candidate)> = candidates
            .par_iter()
            .map(|&(row, kept)| {
                let face = face_scores.get(&row).copied();
                // A row screening kept compares its best-screened fingers
                // first (whether or not the face found it too).
                let cascade =
                    screened.screens.as_deref().filter(|_| kept).map(|screens| {
                        cascade_order(rows.block(row), row.index, screens, &prepared)
                    });
                Ok(self
                    .score(rows, row, &prepared, face, cascade.as_deref())?
                    .map(|c| (row, c)))
            })
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .flatten()
            .collect();
        sort_candidates(&mut scored);
        scored.truncate(keep);
        // The best few are compared again in full, as a verification
        // would, and ordered by that score; the rest follow in the order of
        // the search's own comparison.
        let full = scored.len().min(self.plan.full_comparisons);
        let rescored: Vec<Candidate> = scored[..full]
            .par_iter()
            .map(|(row, _)| {
                let record = decode_record(rows.block(*row).record_bytes(row.index))?;
                self.compare(probe, &record)
            })
            .collect::<Result<_>>()?;
        for ((_, slot), candidate) in scored.iter_mut().zip(rescored) {
            *slot = candidate;
        }
        sort_candidates(&mut scored[..full]);
        Ok(Found {
            candidates: scored.into_iter().map(|(_, c)| c).collect(),
            scope_size,
        })
    }

    fn face_candidates(
        &self,
        rows: &Rows<'_>,
        scope: &Scope<'_>,
        codec: &FaceCodec,
        probe: &FaceProbe,
        keep: usize,
    ) -> Result<Vec<(Row, f32)>> {
        let segments: Vec<FaceRows<'_>> = rows
            .blocks
            .iter()
            .zip(&rows.starts)
            .filter(|(b, _)| b.face_dim() == codec.dim())
            .map(|(b, &first_row)| FaceRows {
                first_row,
                codes: b.face_codes(),
                aux: b.face_aux(),
            })
            .collect();
        let vectors = |global: u64, out: &mut [f32]| -> bool {
            let Some(row) = rows.locate(global) else {
                return false;
            };
            stored_face(rows.block(row), row.index, out)
        };
        let exclude = |global: u64| -> bool {
            rows.locate(global).is_none_or(|row| {
                !scope.admits(rows.block(row), row.index) || !rows.block(row).has_face(row.index)
            })
        };
        let searcher = FaceSearcher::new(codec, &segments, &vectors)?.excluding(&exclude);
        let k = keep.max(self.plan.face_candidates);
        let outcome =
            searcher.search(probe, FaceSearchMode::Investigation { k }, FaceScope::All)?;
        Ok(outcome
            .hits
            .into_iter()
            .filter_map(|hit| rows.locate(hit.row).map(|row| (row, hit.score)))
            .collect())
    }

    /// The rows whose fingers deserve a full comparison, and the probe's
    /// screening vectors when they were chosen by screening (the cascade of
    /// [`Self::score`] then orders every candidate's fingers by them).
    fn finger_candidates(
        &self,
        rows: &Rows<'_>,
        in_scope: &[Row],
        probe: &Probe,
        prepared: &PreparedSearch,
    ) -> FingerCandidates {
        if prepared.fingers.is_empty() {
            return FingerCandidates {
                rows: Vec::new(),
                screens: None,
            };
        }
        let screens: Vec<(FingerPosition, ScreenProbe)> = probe
            .fingers
            .iter()
            .filter(|f| f.position != FingerPosition::Unknown)
            .filter_map(|f| {
                let code = crate::screen::encode(f)?;
                let mean = self.screen_means.get(usize::from(f.position.code()))?;
                Some((f.position, ScreenProbe::new(&code, mean)?))
            })
            .collect();
        // Screening is for multi-finger probes over large galleries: at
        // least four fingers with screening vectors (a finger too sparse for
        // one still gets its full comparison on the kept candidates).
        // Searches with fewer (a partial or latent set) are exhaustive.
        let screen = in_scope.len() >= self.plan.screen_min_identities && screens.len() >= 4;
        if !screen {
            return FingerCandidates {
                rows: in_scope.to_vec(),
                screens: None,
            };
        }
        let keep = (self.plan.screened_comparisons / prepared.fingers.len()).max(1);
        // The probe's screening weights by slot of the store's screening
        // column, which this pass streams through row after row.
        let slots: Vec<(ScreenSlot, &ScreenProbe)> = screens
            .iter()
            .filter_map(|(position, sp)| Some((ScreenSlot::of(*position)?, sp)))
            .collect();
        let row_codes =
            |row: Row| -> Option<ScreenRow<'_>> { rows.block(row).screen_row(row.index) };
        let slots = &slots;
        let mut scored: Vec<(f32, Row)> = in_scope
            .par_chunks(SCREEN_CHUNK_ROWS)
            .flat_map_iter(|chunk| {
                chunk.iter().enumerate().map(move |(k, &row)| {
                    // The hardware prefetchers stop at page boundaries, which
                    // rows of the column cross every few rows.
                    if let Some(ahead) = chunk
                        .get(k + SCREEN_PREFETCH_ROWS)
                        .and_then(|&r| row_codes(r))
                    {
                        prefetch(ahead.bytes());
                    }
                    let Some(codes) = row_codes(row) else {
                        return (0.0, row);
                    };
                    let total: f32 = slots
                        .iter()
                        .filter_map(|&(slot, sp)| Some(sp.score(codes.code(slot)?)))
                        .sum();
                    (total, row)
                })
            })
            .collect();
        if scored.len() > keep {
            scored.select_nth_unstable_by(keep - 1, |a, b| b.0.total_cmp(&a.0));
            scored.truncate(keep);
        }
        FingerCandidates {
            rows: scored.into_iter().map(|(_, row)| row).collect(),
            screens: Some(screens),
        }
    }

    /// Scores one candidate; `None` when nothing could be compared.
    fn score(
        &self,
        rows: &Rows<'_>,
        row: Row,
        prepared: &PreparedSearch,
        face_cosine: Option<f32>,
        cascade: Option<&[usize]>,
    ) -> Result<Option<Candidate>> {
        let block = rows.block(row);
        let in_order: Vec<usize> = match cascade {
            Some(order) => order.to_vec(),
            None => (0..prepared.fingers.len()).collect(),
        };
        let mut scores: Vec<Option<FingerScore>> = vec![None; prepared.fingers.len()];
        for (done, &i) in in_order.iter().enumerate() {
            if cascade.is_some() && done == CASCADE_FINGERS {
                let best = scores
                    .iter()
                    .flatten()
                    .map(|f| f.evidence)
                    .fold(0.0, f64::max);
                if best < CASCADE_MIN_EVIDENCE {
                    break;
                }
            }
            let (position, probe) = &prepared.fingers[i];
            // A latent of unknown position is compared with every stored
            // finger.
            let positions: &[FingerPosition] = if *position == FingerPosition::Unknown {
                &FingerPosition::TEN
            } else {
                std::slice::from_ref(position)
            };
            let tried = positions
                .iter()
                .filter_map(|&p| block.finger_blob(row.index, p).map(|blob| (p, blob)))
                .map(|(p, blob)| Ok((p, probe.score(blob_form(blob)?)?)));
            scores[i] = best_finger_score(*position, tried)?;
        }
        // Reported in the probe's finger order, whatever the comparison order.
        let fingers: Vec<FingerScore> = scores.into_iter().flatten().collect();
        let face = match (face_cosine, &prepared.face, self.codec) {
            (Some(cosine), _, _) => Some(cosine),
            (None, Some(probe), Some(codec)) if block.has_face(row.index) => {
                let mut values = vec![0.0; codec.dim()];
                if stored_face(block, row.index, &mut values) {
                    Some(codec.score(probe, &values)?)
                } else {
                    None
                }
            }
            _ => None,
        }
        .map(|cosine| self.face_score(cosine));
        if fingers.is_empty() && face.is_none() {
            return Ok(None);
        }
        Ok(Some(fused(
            block.reference_id(row.index).to_string(),
            fingers,
            face,
        )))
    }

    fn face_score(&self, cosine: f32) -> FaceScore {
        FaceScore {
            cosine,
            evidence: self.face_calibration.evidence(cosine),
        }
    }

    /// Compares a probe with one record directly (1:1), finger by finger
    /// with the full comparison ([`crate::finger::compare`]: symmetric,
    /// with the resolution search and the local similarity), as
    /// `POST /v1/compare` does, and as an investigation's shortlist and a
    /// threshold decision's candidates near the threshold are scored again;
    /// the candidate stage scores by alignment alone.
    pub(crate) fn compare(
        &self,
        probe: &Probe,
        record: &hoviyat_models::EnrollmentRecord,
    ) -> Result<Candidate> {
        let face_probe = match (&probe.face, self.codec) {
            (Some(face), Some(codec)) => Some(codec.prepare(&face.values)?),
            _ => None,
        };
        let per_finger: Vec<Option<FingerScore>> = probe
            .fingers
            .par_iter()
            .filter(|f| !f.minutiae.is_empty())
            .map(|f| best_full_score(f, &record.fingers))
            .collect::<Result<_>>()?;
        let fingers = per_finger.into_iter().flatten().collect();
        let face = match (&face_probe, self.codec, &record.face) {
            (Some(p), Some(codec), Some(stored)) => {
                Some(self.face_score(codec.score(p, &stored.values)?))
            }
            _ => None,
        };
        Ok(fused(record.reference_id.clone(), fingers, face))
    }
}

/// Best score first; equal scores in reference-id order.
fn sort_candidates(scored: &mut [(Row, Candidate)]) {
    scored.sort_by(|(_, a), (_, b)| best_first(a, b));
}

/// The order of a candidate list: best score first, equal scores in
/// reference-id order.
pub(crate) fn best_first(a: &Candidate, b: &Candidate) -> std::cmp::Ordering {
    b.score
        .total_cmp(&a.score)
        .then_with(|| a.reference_id.cmp(&b.reference_id))
}

/// The full 1:1 score of probe finger `probe` against the stored finger at
/// its position (every stored finger for one of unknown position, as
/// [`best_finger_score`] takes them).
fn best_full_score(
    probe: &hoviyat_models::FingerTemplate,
    stored: &[hoviyat_models::FingerTemplate],
) -> Result<Option<FingerScore>> {
    let unknown = probe.position == FingerPosition::Unknown;
    let tried = stored
        .iter()
        .filter(|g| unknown || g.position == probe.position)
        .map(|g| Ok((g.position, crate::finger::compare(probe, g)?)));
    best_finger_score(probe.position, tried)
}

/// The finger score of a probe finger at `position` from its comparisons
/// with stored fingers: the strongest (by raw score); for a finger of
/// unknown position, which was compared with every stored finger, its
/// evidence is discounted for the number of fingers tried. `None` when
/// nothing was compared.
fn best_finger_score(
    position: FingerPosition,
    tried: impl IntoIterator<Item = Result<(FingerPosition, crate::finger::Score)>>,
) -> Result<Option<FingerScore>> {
    let mut n_tried = 0usize;
    let mut best: Option<FingerScore> = None;
    for scored in tried {
        let (stored_at, score) = scored?;
        n_tried += 1;
        if best.is_none_or(|b| score.raw > b.raw) {
            best = Some(FingerScore {
                position: stored_at,
                raw: score.raw,
                evidence: f64::from(score.log10_fmr),
            });
        }
    }
    if let Some(b) = best
        .as_mut()
        .filter(|_| position == FingerPosition::Unknown)
    {
        b.evidence = (b.evidence - (n_tried as f64).log10()).max(0.0);
    }
    Ok(best)
}

/// A candidate with its finger and face evidence fused into one score.
fn fused(reference_id: String, fingers: Vec<FingerScore>, face: Option<FaceScore>) -> Candidate {
    let evidence: Vec<f64> = fingers
        .iter()
        .map(|f| f.evidence)
        .chain(face.map(|f| f.evidence))
        .collect();
    Candidate {
        reference_id,
        score: fusion::fuse_evidence(&evidence),
        fingers,
        face,
    }
}

/// The stored face (f16 in the record) of a row, as f32.
fn stored_face(block: &Block<'_>, index: usize, out: &mut [f32]) -> bool {
    match decode_face(block.record_bytes(index)) {
        Ok(face) => match face {
            Some(face) if face.values.len() == out.len() => {
                out.copy_from_slice(&face.values);
                true
            }
            _ => false,
        },
        Err(_) => false,
    }
}

/// Cosines of up to `pairs` pseudo-random pairs of stored faces, from the
/// int8 codes (close enough to fit an impostor distribution).
pub(crate) fn sample_face_cosines(rows: &Rows<'_>, pairs: usize) -> Vec<f32> {
    let faces: Vec<(&[i8], [f32; 2])> = rows
        .blocks
        .iter()
        .flat_map(|b| {
            (0..b.len())
                .filter(|&i| b.is_live(i))
                .filter_map(move |i| b.face_code(i))
        })
        .collect();
    let n = faces.len();
    if n < 2 {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(pairs);
    // A fixed stride walk: deterministic, covers the gallery evenly.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..pairs {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let a = (state >> 33) as usize % n;
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let b = (state >> 33) as usize % n;
        if a == b {
            continue;
        }
        let (ca, aa) = faces[a];
        let (cb, ab) = faces[b];
        out.push(crate::kernels::dot_i8(ca, cb) as f32 * aa[0] * ab[0]);
    }
    out
}

/// The screening means of a snapshot, one per finger position code (0..=10).
pub(crate) fn screen_means(rows: &Rows<'_>) -> Vec<ScreenMean> {
    rows.blocks
        .par_iter()
        .map(|b| {
            let mut means = vec![ScreenMean::default(); 11];
            for i in (0..b.len()).filter(|&i| b.is_live(i)) {
                for p in FingerPosition::TEN {
                    if let Some(code) = b.screen_code(i, p) {
                        means[usize::from(p.code())].add(code);
                    }
                }
            }
            means
        })
        .reduce(
            || vec![ScreenMean::default(); 11],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    x.merge(&y);
                }
                a
            },
        )
}
