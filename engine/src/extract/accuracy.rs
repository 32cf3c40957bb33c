//! Minutiae recall and precision against ground truth: an extracted minutia
//! matches a true one when they lie within a distance and an angle of each
//! other; pairs are matched one-to-one, closest first. Ground truth may also
//! name *don't-care* minutiae (real ones it cannot vouch for, e.g. at the
//! edge of the inked area): an extracted minutia left unmatched that pairs
//! (one-to-one, within tolerance) with one is counted neither true nor false.

use hoviyat_models::Minutia;
use serde::Serialize;

/// Tolerances of a match.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Tolerance {
    pub distance_px: f32,
    pub angle_rad: f32,
}

impl Default for Tolerance {
    /// 10 px and 30 degrees.
    fn default() -> Self {
        Self {
            distance_px: 10.0,
            angle_rad: 30f32.to_radians(),
        }
    }
}

/// Counts of a comparison; add them up over images before taking ratios.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MatchCounts {
    pub truth: usize,
    /// Extracted minutiae judged (don't-care ones left out).
    pub extracted: usize,
    /// Extracted minutiae that matched only a don't-care minutia.
    pub dont_care: usize,
    /// One-to-one matches within tolerance.
    pub matched: usize,
    /// Matches whose kinds (ending, bifurcation) also agree.
    pub same_kind: usize,
}

impl MatchCounts {
    /// Share of true minutiae found (1 when there are none to find).
    pub fn recall(&self) -> f64 {
        ratio(self.matched, self.truth)
    }
    /// Share of extracted minutiae that are true (1 when none extracted).
    pub fn precision(&self) -> f64 {
        ratio(self.matched, self.extracted)
    }
    /// Adds another comparison's counts.
    pub fn add(&mut self, other: MatchCounts) {
        self.truth += other.truth;
        self.extracted += other.extracted;
        self.dont_care += other.dont_care;
        self.matched += other.matched;
        self.same_kind += other.same_kind;
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// Absolute difference of two angles, in `[0, π]`.
pub fn angle_between(a: f32, b: f32) -> f32 {
    let d = (a - b).rem_euclid(std::f32::consts::TAU);
    d.min(std::f32::consts::TAU - d)
}

/// Matches `extracted` against `truth` one-to-one within `tol`.
pub fn compare(extracted: &[Minutia], truth: &[Minutia], tol: &Tolerance) -> MatchCounts {
    compare_masked(extracted, truth, &[], tol)
}

/// [`compare`], then the extracted minutiae left unmatched are matched
/// one-to-one, closest first, with the `dont_care` minutiae within `tol`;
/// those so matched are left out of the count of extracted ones (and
/// counted in `dont_care`).
pub fn compare_masked(
    extracted: &[Minutia],
    truth: &[Minutia],
    dont_care: &[Minutia],
    tol: &Tolerance,
) -> MatchCounts {
    let mut used = vec![false; extracted.len()];
    let mut counts = MatchCounts {
        truth: truth.len(),
        ..MatchCounts::default()
    };
    for (i, j) in pair_closest(extracted, truth, &mut used, tol) {
        counts.matched += 1;
        if extracted[i].kind == truth[j].kind {
            counts.same_kind += 1;
        }
    }
    // Unmatched extractions against don't-care minutiae, also one-to-one:
    // a cluster of spurious detections near one such minutia excuses one.
    counts.dont_care = pair_closest(extracted, dont_care, &mut used, tol).len();
    counts.extracted = extracted.len() - counts.dont_care;
    counts
}

/// Pairs the `extracted` minutiae not yet `used` with `reference` minutiae
/// within `tol`, one-to-one, closest pairs first; marks the paired
/// extracted ones used and returns the (extracted, reference) index pairs.
fn pair_closest(
    extracted: &[Minutia],
    reference: &[Minutia],
    used: &mut [bool],
    tol: &Tolerance,
) -> Vec<(usize, usize)> {
    let mut candidates: Vec<(f32, usize, usize)> = Vec::new();
    for (i, e) in extracted.iter().enumerate().filter(|&(i, _)| !used[i]) {
        for (j, t) in reference.iter().enumerate() {
            let d = (e.x_px - t.x_px).hypot(e.y_px - t.y_px);
            if d <= tol.distance_px && angle_between(e.angle_rad, t.angle_rad) <= tol.angle_rad {
                candidates.push((d, i, j));
            }
        }
    }
    candidates.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut taken = vec![false; reference.len()];
    let mut pairs = Vec::new();
    for (_, i, j) in candidates {
        if !used[i] && !taken[j] {
            used[i] = true;
            taken[j] = true;
            pairs.push((i, j));
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use hoviyat_models::MinutiaKind;

    #[test]
    fn matches_are_one_to_one_and_within_both_tolerances() {
        let t = |x, y, a| Minutia::new(x, y, a, MinutiaKind::Ending, 50);
        let truth = [t(10.0, 10.0, 0.0), t(50.0, 50.0, 1.0), t(90.0, 90.0, 3.0)];
        let extracted = [
            t(12.0, 11.0, 6.2),       // close, angle wraps: match
            t(11.0, 10.0, 0.1),       // second claim on the same truth
            t(55.0, 50.0, 1.0 + 0.6), // angle 34° off: no
            t(90.0, 101.0, 3.0),      // 11 px off: no
        ];
        let c = compare(&extracted, &truth, &Tolerance::default());
        assert_eq!(c.matched, 1);
        assert_eq!((c.truth, c.extracted), (3, 4));
        assert!((c.recall() - 1.0 / 3.0).abs() < 1e-9);
        assert!((c.precision() - 0.25).abs() < 1e-9);
    }

    #[test]
    fn unmatched_minutiae_on_dont_care_ones_count_neither_way() {
        let t = |x, y, a| Minutia::new(x, y, a, MinutiaKind::Ending, 50);
        let truth = [t(10.0, 10.0, 0.0)];
        let dont_care = [t(10.0, 12.0, 0.0), t(80.0, 80.0, 2.0)];
        let extracted = [
            t(10.0, 11.0, 0.0), // the true one
            t(81.0, 80.0, 2.1), // on a don't-care minutia: left out
            t(82.0, 81.0, 2.0), // a second claim on it: false
            t(80.0, 80.0, 3.0), // near it but 57° off: false
            t(40.0, 40.0, 1.0), // nothing near: false
        ];
        let c = compare_masked(&extracted, &truth, &dont_care, &Tolerance::default());
        assert_eq!((c.matched, c.dont_care, c.extracted), (1, 1, 4));
        assert!((c.precision() - 0.25).abs() < 1e-9);
        // A don't-care minutia never takes a match from the truth.
        let same = compare_masked(&extracted[..1], &truth, &dont_care, &Tolerance::default());
        assert_eq!((same.matched, same.dont_care), (1, 0));
    }
}
