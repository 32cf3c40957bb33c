//! Turning face similarities into calibrated evidence.
//!
//! Face models differ in how their impostor cosines spread (a 128-d dlib
//! model: about 0 ± 0.17; a 512-d ArcFace-style model: much tighter), so the
//! impostor distribution is estimated from the gallery itself: nearly every
//! pair of enrolled people are different people. The estimate is a normal
//! distribution fitted to sampled gallery pairs, and a cosine's evidence is
//! `-log10` of its upper tail. Normal tails are light, so the fitted spread
//! is widened by [`SPREAD_MARGIN`] and the evidence is capped at
//! [`MAX_FACE_EVIDENCE`]: a face alone never carries more weight than that.

use serde::{Deserialize, Serialize};

/// Widening of the fitted impostor spread, against heavy real tails.
pub const SPREAD_MARGIN: f64 = 1.25;
/// The most evidence one face comparison can contribute (1 in 10^10).
pub const MAX_FACE_EVIDENCE: f64 = 10.0;
/// Impostor spread assumed before the gallery has enough faces to fit one.
const PRIOR: FaceCalibration = FaceCalibration {
    mean: 0.0,
    sd: 0.2,
    samples: 0,
};
/// Pairs needed before the fitted distribution replaces the prior.
const MIN_SAMPLES: usize = 200;

/// A fitted impostor distribution of face cosines.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FaceCalibration {
    pub mean: f64,
    pub sd: f64,
    /// Impostor pairs the fit used (0 for the prior).
    pub samples: usize,
}

impl Default for FaceCalibration {
    fn default() -> Self {
        PRIOR
    }
}

impl FaceCalibration {
    /// Fits the distribution to cosines of (presumed) impostor pairs; with
    /// too few of them, the conservative prior.
    pub fn fit(impostor_cosines: &[f32]) -> Self {
        let n = impostor_cosines.len();
        if n < MIN_SAMPLES {
            return PRIOR;
        }
        let mean = impostor_cosines.iter().map(|&c| f64::from(c)).sum::<f64>() / n as f64;
        let var = impostor_cosines
            .iter()
            .map(|&c| (f64::from(c) - mean).powi(2))
            .sum::<f64>()
            / (n - 1) as f64;
        Self {
            mean,
            sd: var.sqrt().max(1e-3),
            samples: n,
        }
    }

    /// Evidence (`-log10` of the estimated false-match rate) of a cosine.
    pub fn evidence(&self, cosine: f32) -> f64 {
        let z = (f64::from(cosine) - self.mean) / (self.sd * SPREAD_MARGIN);
        normal_upper_tail_neg_log10(z).clamp(0.0, MAX_FACE_EVIDENCE)
    }
}

/// `-log10 P(Z >= z)` for a standard normal Z, accurate far into the tail.
pub fn normal_upper_tail_neg_log10(z: f64) -> f64 {
    if z < 8.0 {
        -(0.5 * libm::erfc(z / std::f64::consts::SQRT_2)).log10()
    } else {
        // Mills' ratio: P(Z >= z) ≈ φ(z)/z · (1 - 1/z²), no underflow.
        let ln_tail = -z * z / 2.0 - (z * (2.0 * std::f64::consts::PI).sqrt()).ln()
            + (1.0 - 1.0 / (z * z)).ln();
        -ln_tail / std::f64::consts::LN_10
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_tail_matches_known_values_and_is_continuous() {
        // P(Z >= 0) = 0.5; P(Z >= 3.0902) ≈ 1e-3; P(Z >= 4.2649) ≈ 1e-5.
        assert!((normal_upper_tail_neg_log10(0.0) - std::f64::consts::LOG10_2).abs() < 1e-9);
        assert!((normal_upper_tail_neg_log10(3.0902) - 3.0).abs() < 1e-3);
        assert!((normal_upper_tail_neg_log10(4.2649) - 5.0).abs() < 1e-3);
        let (below, above) = (
            normal_upper_tail_neg_log10(7.999_999),
            normal_upper_tail_neg_log10(8.0),
        );
        assert!((below - above).abs() < 1e-3, "{below} vs {above}");
        assert!(normal_upper_tail_neg_log10(40.0).is_finite());
    }

    #[test]
    fn evidence_grows_with_cosine_and_is_capped() {
        let cal = FaceCalibration {
            mean: 0.0,
            sd: 0.1,
            samples: 1000,
        };
        assert!(cal.evidence(-0.5) < 0.01);
        assert!(cal.evidence(0.3) < cal.evidence(0.4));
        assert_eq!(cal.evidence(0.99), MAX_FACE_EVIDENCE);
    }

    #[test]
    fn too_few_pairs_keep_the_prior() {
        assert_eq!(FaceCalibration::fit(&[0.1; 10]), FaceCalibration::default());
        let spread: Vec<f32> = (0..1050)
            .map(|i| ((i % 21) as f32 - 10.0) / 100.0)
            .collect();
        let fit = FaceCalibration::fit(&spread);
        assert!(
            fit.mean.abs() < 1e-6 && (fit.sd - 0.0606).abs() < 0.001,
            "{fit:?}"
        );
    }
}
