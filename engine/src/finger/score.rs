//! The comparison score: a raw figure of evidence and its calibrated form.

use serde::{Deserialize, Serialize};

use super::calibration::Calibration;
use super::pairing::Pairing;

/// Fewest minutiae a print's common area is assumed to hold when normalising,
/// so that a tiny overlap with a few pairs cannot score like a full match.
/// 11: on FVC2002 DB1_B and DB2_B's records and their robustness families
/// 9-11 all gain on 12 (the floor chosen while the records were read
/// stretched), 10 the most; against 100,000 synthetic identities 10 cost
/// investigations two mates at rank 1 and two from the top 20 candidates,
/// 11 one from the top 20, while both hold one more duplicate in dedup
/// (BENCHMARKS.md, session 20).
const MIN_OVERLAP_MINUTIAE: f32 = 11.0;

/// The result of comparing two fingers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Raw evidence: grows with the number of paired minutiae and with the
    /// share of the common area's minutiae they cover; 0 for no evidence.
    /// Not comparable across matcher versions; use `log10_fmr` for decisions.
    pub raw: f32,
    /// Estimated false-match rate of a score this high, as `-log10 FMR`
    /// (3.0 means one impostor comparison in 1,000 scores as high).
    pub log10_fmr: f32,
    /// Minutiae paired one-to-one in the best alignment.
    pub paired: u32,
}

impl Score {
    /// A score of no evidence at all.
    pub const ZERO: Score = Score {
        raw: 0.0,
        log10_fmr: 0.0,
        paired: 0,
    };

    pub(crate) fn from_pairing(pairing: &Pairing, calibration: &Calibration) -> Self {
        let raw = raw_score(pairing);
        Self {
            raw,
            log10_fmr: calibration.log10_fmr(raw),
            paired: pairing.paired,
        }
    }
}

/// Raw score of a pairing: `paired x share`, where pairs are edge-supported
/// (see [`Pairing::paired`]) and the share is their closeness-weighted count
/// over the minutiae that the busier of the two prints shows in the other's
/// area: the pairs must account for both prints' minutiae there, so a print
/// crowded with minutiae (spurious ones of a wet or noisy capture, or many
/// real ones) does not pair by chance at the other's rate. (The geometric
/// mean of the two counts, used before, let one sparse print carry the
/// share: FVC2002 mean EER 2.07 against 2.00 %, FMR1000 5.00 against 4.46 %;
/// BENCHMARKS.md.)
pub(crate) fn raw_score(p: &Pairing) -> f32 {
    if p.paired == 0 {
        return 0.0;
    }
    let busier = p.probe_in_overlap.max(p.gallery_in_overlap) as f32;
    let share = (p.closeness / busier.max(MIN_OVERLAP_MINUTIAE)).min(1.0);
    p.paired as f32 * share
}
