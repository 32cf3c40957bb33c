//! Score fusion on the calibrated evidence scale.
//!
//! Every matcher reports a comparison's strength as *evidence*
//! `e = -log10 FMR(score)`: the estimated chance that an impostor comparison
//! scores this high, on a log scale (e = 6 means one in a million). Evidence
//! of independent comparisons (fingers at different positions, the face) is
//! fused with Fisher's method: under the impostor hypothesis each FMR is
//! uniform on (0, 1], so `T = sum(e_i) * ln 10` follows a Gamma(k, 1)
//! distribution and the fused false-match rate is
//! `P(Gamma(k, 1) >= T) = exp(-T) * sum_{i<k} T^i / i!`.
//!
//! The fused value is again evidence on the same scale, so a decision
//! threshold follows directly from a target FPIR and the gallery size:
//! a search of `n` identities at per-comparison FMR `f` has FPIR ≈ `n f`,
//! hence the threshold `log10(n / fpir)` ([`threshold_for_fpir`]).

/// Evidence of several independent comparisons fused into one value on the
/// same `-log10 FMR` scale. Negative inputs are treated as zero evidence;
/// no inputs give zero.
pub fn fuse_evidence(evidence: &[f64]) -> f64 {
    let k = evidence.len();
    if k == 0 {
        return 0.0;
    }
    let total: f64 = evidence.iter().map(|e| e.max(0.0)).sum();
    if k == 1 {
        return total;
    }
    let t = total * std::f64::consts::LN_10;
    // log10 of sum_{i<k} t^i / i!, summed in a numerically safe way.
    let mut term = 1.0_f64;
    let mut sum = 1.0_f64;
    for i in 1..k {
        term *= t / i as f64;
        sum += term;
    }
    (total - sum.log10()).max(0.0)
}

/// The fused-evidence threshold at which a 1:N search of `gallery_size`
/// identities has a false-positive identification rate of about `target_fpir`.
pub fn threshold_for_fpir(gallery_size: usize, target_fpir: f64) -> f64 {
    let n = gallery_size.max(1) as f64;
    let fpir = target_fpir.clamp(f64::MIN_POSITIVE, 1.0);
    (n / fpir).log10()
}

/// MOSIP's encoding of a target FPIR: `round(-10 log10 FPIR)` (30 = 1 in 1,000).
pub fn fpir_from_mosip_code(code: u32) -> f64 {
    10f64.powf(-f64::from(code) / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_comparison_keeps_its_evidence() {
        assert_eq!(fuse_evidence(&[4.5]), 4.5);
        assert_eq!(fuse_evidence(&[]), 0.0);
        assert_eq!(fuse_evidence(&[-2.0]), 0.0);
    }

    #[test]
    fn fused_evidence_is_less_than_the_naive_sum_but_more_than_the_best() {
        let e = [3.0, 3.0, 3.0];
        let fused = fuse_evidence(&e);
        assert!(fused < 9.0 && fused > 3.0, "fused {fused}");
        // Adding a zero-evidence comparison costs a little: more chances.
        assert!(fuse_evidence(&[6.0, 0.0]) < 6.0);
    }

    #[test]
    fn fusion_of_uniform_impostor_fmrs_is_calibrated() {
        // Under the impostor hypothesis, P(fused >= t) must be 10^-t.
        // Deterministic quasi-random FMR pairs on a grid.
        let steps = 400;
        let mut at_least_2 = 0;
        for i in 0..steps {
            for j in 0..steps {
                let u = (i as f64 + 0.5) / steps as f64;
                let v = (j as f64 + 0.5) / steps as f64;
                if fuse_evidence(&[-u.log10(), -v.log10()]) >= 2.0 {
                    at_least_2 += 1;
                }
            }
        }
        let rate = at_least_2 as f64 / (steps * steps) as f64;
        assert!((rate - 0.01).abs() < 0.001, "rate {rate}");
    }

    #[test]
    fn thresholds_follow_gallery_size() {
        assert!((threshold_for_fpir(1_000_000, 0.001) - 9.0).abs() < 1e-9);
        assert!(threshold_for_fpir(1_000, 0.001) < threshold_for_fpir(1_000_000, 0.001));
        assert!((fpir_from_mosip_code(30) - 0.001).abs() < 1e-12);
    }
}
