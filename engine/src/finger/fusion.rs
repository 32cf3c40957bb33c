//! Multi-finger fusion on the calibrated scale.
//!
//! Each compared finger contributes evidence `e = -log10 FMR`. If the
//! fingers of an impostor pair were independent, each `FMR` would be uniform
//! on `[0, 1]`, so `E = sum(e) * ln 10` follows a Gamma(n, 1) law for `n`
//! fingers; the fused false-match rate is that law's upper tail at `E`
//! (Fisher's method). Comparing more fingers thus needs more total evidence
//! for the same fused value, and missing fingers simply do not take part.

use hoviyat_models::{EnrollmentRecord, FingerPosition};
use serde::{Deserialize, Serialize};

use super::calibration::MAX_LOG10_FMR;
use super::{PreparedProbe, Score, encode_gallery};
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
    let log10_fmr = fuse_log10_fmr(evidence.iter().map(|e| e.score.log10_fmr));
    FusedScore {
        log10_fmr,
        fingers_compared: evidence.len(),
        per_finger: evidence.to_vec(),
    }
}

/// Fisher's combination of `-log10 FMR` values, itself as `-log10 FMR`.
pub fn fuse_log10_fmr(values: impl IntoIterator<Item = f32>) -> f32 {
    let mut n = 0usize;
    let mut total = 0.0f64;
    for v in values {
        n += 1;
        total += f64::from(v.clamp(0.0, MAX_LOG10_FMR));
    }
    if n == 0 {
        return 0.0;
    }
    let x = total * std::f64::consts::LN_10;
    // Upper tail of Gamma(n, 1): e^-x * sum_{k<n} x^k / k!, in logs.
    let mut term = 1.0f64;
    let mut sum = 1.0f64;
    for k in 1..n {
        term *= x / k as f64;
        sum += term;
    }
    let log10_tail = (-x + sum.ln()) / std::f64::consts::LN_10;
    (-log10_tail).max(0.0) as f32
}

/// Compares two records finger by finger (same positions only; fingers
/// missing on either side are skipped) and fuses the evidence.
pub fn compare_records(probe: &EnrollmentRecord, gallery: &EnrollmentRecord) -> Result<FusedScore> {
    let mut evidence = Vec::new();
    for p in &probe.fingers {
        if p.position == FingerPosition::Unknown {
            continue;
        }
        let Some(g) = gallery.fingers.iter().find(|g| g.position == p.position) else {
            continue;
        };
        let prepared = PreparedProbe::new(p)?;
        let score = prepared.score(&encode_gallery(g)?)?;
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

    #[test]
    fn one_finger_passes_through() {
        for v in [0.0f32, 1.0, 3.5, 8.0] {
            assert!((fuse_log10_fmr([v]) - v).abs() < 1e-4);
        }
    }

    #[test]
    fn more_fingers_need_more_evidence_and_strong_fingers_add_up() {
        // Two fingers of 3 decades each beat one of 3, but by less than 6
        // decades because two chances were taken.
        let two = fuse_log10_fmr([3.0, 3.0]);
        assert!(two > 3.0 && two < 6.0, "{two}");
        // A finger with no evidence dilutes slightly; it never adds.
        let diluted = fuse_log10_fmr([3.0, 0.0]);
        assert!(diluted < 3.0 && diluted > 2.0, "{diluted}");
        // Ten impostor fingers at their median (0.3 decades) stay weak.
        assert!(fuse_log10_fmr([0.3; 10]) < 1.0);
        assert_eq!(fuse_log10_fmr([]), 0.0);
    }

    #[test]
    fn fused_value_is_monotone_in_each_finger() {
        let mut last = 0.0;
        for k in 0..50 {
            let v = fuse_log10_fmr([2.0, k as f32 * 0.2, 1.0]);
            assert!(v >= last);
            last = v;
        }
    }
}
