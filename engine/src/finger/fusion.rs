//! Multi-finger fusion on the calibrated scale.
//!
//! Each finger compared at the same position on both records contributes
//! evidence `e = -log10 FMR`; the evidence is fused with Fisher's method
//! ([`crate::fusion::fuse_evidence`]), so comparing more fingers needs more
//! total evidence for the same fused value. Fingers missing on either side
//! simply do not take part.

use hoviyat_models::{EnrollmentRecord, FingerPosition};
use serde::{Deserialize, Serialize};

use super::calibration::MAX_LOG10_FMR;
use super::{Score, compare};
use crate::Result;

/// One finger's comparison within a record comparison.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FingerEvidence {
    pub position: FingerPosition,
    pub score: Score,
}

/// The fused result of comparing several fingers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FusedScore {
    /// Estimated `-log10 FMR` of the whole comparison.
    pub log10_fmr: f32,
    /// Number of fingers compared (present on both sides).
    pub fingers_compared: usize,
    pub per_finger: Vec<FingerEvidence>,
}

/// Fuses per-finger evidence (see the module docs). No fingers give 0.
pub fn fuse_fingers(evidence: &[FingerEvidence]) -> FusedScore {
    let values: Vec<f64> = evidence
        .iter()
        .map(|e| f64::from(e.score.log10_fmr.clamp(0.0, MAX_LOG10_FMR)))
        .collect();
    let log10_fmr = crate::fusion::fuse_evidence(&values) as f32;
    FusedScore {
        log10_fmr,
        fingers_compared: evidence.len(),
        per_finger: evidence.to_vec(),
    }
}

/// Compares two records finger by finger with the symmetric [`compare`]
/// (same positions only; fingers missing on either side are skipped) and
/// fuses the evidence.
pub fn compare_records(probe: &EnrollmentRecord, gallery: &EnrollmentRecord) -> Result<FusedScore> {
    let mut evidence = Vec::new();
    for p in &probe.fingers {
        if p.position == FingerPosition::Unknown {
            continue;
        }
        let Some(g) = gallery.fingers.iter().find(|g| g.position == p.position) else {
            continue;
        };
        let score = compare(p, g)?;
        evidence.push(FingerEvidence {
            position: p.position,
            score,
        });
    }
    Ok(fuse_fingers(&evidence))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(values: &[f32]) -> Vec<FingerEvidence> {
        values
            .iter()
            .zip(FingerPosition::TEN)
            .map(|(&v, position)| FingerEvidence {
                position,
                score: Score {
                    raw: v,
                    log10_fmr: v,
                    paired: 0,
                },
            })
            .collect()
    }

    #[test]
    fn one_finger_passes_through_and_none_gives_zero() {
        assert!((fuse_fingers(&evidence(&[3.5])).log10_fmr - 3.5).abs() < 1e-4);
        assert_eq!(fuse_fingers(&[]).log10_fmr, 0.0);
        assert_eq!(fuse_fingers(&[]).fingers_compared, 0);
    }

    #[test]
    fn more_fingers_need_more_evidence_and_strong_fingers_add_up() {
        let two = fuse_fingers(&evidence(&[3.0, 3.0])).log10_fmr;
        assert!(two > 3.0 && two < 6.0, "{two}");
        let diluted = fuse_fingers(&evidence(&[3.0, 0.0])).log10_fmr;
        assert!(diluted < 3.0 && diluted > 2.0, "{diluted}");
        assert!(fuse_fingers(&evidence(&[0.3; 10])).log10_fmr < 1.0);
    }
}
