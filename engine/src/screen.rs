//! Screening vectors: fixed-length, rotation- and translation-invariant
//! summaries of a finger's minutiae, compared with one small dot product, to
//! pick the few gallery identities worth a full minutiae comparison.
//!
//! A full 10-print dedup against N identities would cost 10·N minutiae
//! comparisons; screening all N with these vectors and fully matching only
//! the best few hundred keeps a dedup in milliseconds. Screening is only a
//! candidate filter: the decision always comes from the full matcher.
//!
//! # The vector
//! For every pair of minutiae (i, j) between 1 and 9 mm apart, three
//! invariants are binned softly (trilinear interpolation), once from each
//! end: the distance, the angle of the segment i→j relative to the direction
//! of i, and the direction of j relative to i; angles are taken modulo π so
//! that an ending read as a bifurcation (direction flipped) changes nothing.
//! The 6×6×6 histogram is square-rooted (Hellinger) and L2-normalised.
//!
//! # Stored form
//! Each value is stored in 4 bits, `level = round(value / CAP · 15)` (values
//! above `CAP` clip), two values a byte (low nibble first): 108 bytes a
//! finger. Measured with `benches/examples/screen_recall.rs` on a seeded
//! synthetic gallery of 30,000 people, 4-bit vectors rank mates as 8-bit
//! ones do (see BENCHMARKS.md). There no unit-length histogram value
//! exceeded 0.182 (99.9 % of vectors peak below 0.165), so the ceiling of
//! 0.18 clips only sparse prints' highest bins.
//!
//! # The score
//! Raw histograms of unrelated fingers are alike (ridge flow makes nearby
//! minutiae parallel everywhere), so the comparison centres them on the mean
//! histogram of the gallery `m`: the score of a gallery vector `g` for a probe
//! `p` is the projection `(p - m)·(g - m) / |p - m|`, computed as one integer
//! dot product of the centred probe with the stored levels, minus a constant.
//! Genuine pairs score about 0.5 on full prints, unrelated ones about
//! 0 ± 0.2, and the scores of several fingers add.
//!
//! The encoder is pure `f32` arithmetic (its arctangent is the matcher's
//! polynomial, not the platform's libm), so every machine derives the same
//! stored bytes.

use hoviyat_models::FingerTemplate;

use crate::finger::atan2_fast;
use crate::kernels;

const D_BINS: usize = 6;
const A_BINS: usize = 6;
const B_BINS: usize = 6;
/// Length of a screening vector (values).
pub const SCREEN_DIM: usize = D_BINS * A_BINS * B_BINS;
/// Bytes of a stored screening vector (4 bits a value).
pub const SCREEN_BYTES: usize = SCREEN_DIM / 2;
/// A stored screening vector: 4-bit levels, two a byte, low nibble first.
pub type ScreenCode = [u8; SCREEN_BYTES];
// The store keeps these codes in a fixed-width column of its own layout.
const _: () = assert!(SCREEN_BYTES == crate::store::SCREEN_CODE_BYTES);
/// Pairs closer than this are dominated by localisation noise.
const D_MIN_MM: f32 = 1.0;
/// Pairs farther apart than this are rarely both inside two impressions.
const D_MAX_MM: f32 = 9.0;
/// Fewer minutiae than this give no usable histogram.
const MIN_MINUTIAE: usize = 5;
/// Highest stored level.
const LEVELS: u8 = 15;
/// The histogram value stored as the highest level.
const CAP: f32 = 0.18;
/// Scale of the centred probe's int8 form.
const PROBE_QUANT: f32 = 127.0;

/// The screening vector of a finger, or `None` when it has too few minutiae
/// (or none within screening distance of each other).
pub fn encode(template: &FingerTemplate) -> Option<ScreenCode> {
    let hist = histogram(template)?;
    let mut out = [0u8; SCREEN_BYTES];
    for (byte, pair) in out.iter_mut().zip(hist.chunks_exact(2)) {
        *byte = level(pair[0]) | level(pair[1]) << 4;
    }
    Some(out)
}

/// The unit-length Hellinger histogram of a finger (see the module docs).
fn histogram(template: &FingerTemplate) -> Option<[f32; SCREEN_DIM]> {
    let m = &template.minutiae;
    if m.len() < MIN_MINUTIAE {
        return None;
    }
    let px_per_mm = f32::from(template.dpi.max(1)) / 25.4;
    let (d_min, d_max) = (D_MIN_MM * px_per_mm, D_MAX_MM * px_per_mm);
    let (d_min2, d_max2) = (d_min * d_min, d_max * d_max);
    let d_scale = D_BINS as f32 / (d_max - d_min);
    let pi = std::f32::consts::PI;
    let (a_scale, b_scale) = (A_BINS as f32 / pi, B_BINS as f32 / pi);
    let mut hist = [0.0f32; SCREEN_DIM];
    for (i, a) in m.iter().enumerate() {
        for b in &m[i + 1..] {
            // Angles on the image, counter-clockwise, y down (see Minutia).
            let (dx, dy) = (b.x_px - a.x_px, a.y_px - b.y_px);
            let d2 = dx * dx + dy * dy;
            if !(d_min2..d_max2).contains(&d2) {
                continue;
            }
            let d_bin = (d2.sqrt() - d_min) * d_scale - 0.5;
            // The segment's direction seen from a, and (reversed, which
            // modulo π is the same line) from b.
            let theta = atan2_fast(dy, dx);
            let turn = wrap_pi(b.angle_rad - a.angle_rad);
            add_soft(
                &mut hist,
                d_bin,
                wrap_pi(theta - a.angle_rad) * a_scale - 0.5,
                turn * b_scale - 0.5,
            );
            add_soft(
                &mut hist,
                d_bin,
                wrap_pi(theta - b.angle_rad) * a_scale - 0.5,
                wrap_pi(-turn) * b_scale - 0.5,
            );
        }
    }
    let mut norm = 0.0f32;
    for h in &mut hist {
        *h = h.sqrt();
        norm += *h * *h;
    }
    let norm = norm.sqrt();
    if norm == 0.0 {
        return None;
    }
    hist.iter_mut().for_each(|h| *h /= norm);
    Some(hist)
}

fn level(value: f32) -> u8 {
    (value / CAP * f32::from(LEVELS))
        .round()
        .min(f32::from(LEVELS)) as u8
}

/// The levels of a stored vector, unpacked.
fn levels(code: &ScreenCode) -> impl Iterator<Item = u8> + '_ {
    code.iter().flat_map(|&b| [b & 0x0f, b >> 4])
}

/// `x` reduced to `[0, π)`, for the bounded angles the encoder sees.
fn wrap_pi(x: f32) -> f32 {
    let pi = std::f32::consts::PI;
    let r = x - pi * floor(x / pi);
    // Rounding can land exactly on π.
    if r >= pi { r - pi } else { r }
}

/// `floor` without a libm call (the build targets baseline x86-64, where
/// `f32::floor` is a function call); exact for |x| < 2^23.
fn floor(x: f32) -> f32 {
    let t = x as i32 as f32;
    if t > x { t - 1.0 } else { t }
}

/// Spreads one pair over the 8 surrounding bins; distance bins are clamped
/// at the ends, angle bins wrap around. The angle coordinates lie in
/// `[-0.5, BINS - 0.5)`, so wrapping needs one step either way, no division.
fn add_soft(hist: &mut [f32; SCREEN_DIM], d: f32, a: f32, b: f32) {
    let (d0, a0, b0) = (floor(d), floor(a), floor(b));
    let (fd, fa, fb) = (d - d0, a - a0, b - b0);
    let wrap = |i: isize, bins: usize| -> usize {
        if i < 0 {
            (i + bins as isize) as usize
        } else if i >= bins as isize {
            i as usize - bins
        } else {
            i as usize
        }
    };
    let (a_lo, a_hi) = (wrap(a0 as isize, A_BINS), wrap(a0 as isize + 1, A_BINS));
    let (b_lo, b_hi) = (wrap(b0 as isize, B_BINS), wrap(b0 as isize + 1, B_BINS));
    for (di, wd) in [(d0 as isize, 1.0 - fd), (d0 as isize + 1, fd)] {
        if di < 0 || di >= D_BINS as isize {
            continue;
        }
        let base = di as usize * A_BINS;
        for (ai, wa) in [(a_lo, 1.0 - fa), (a_hi, fa)] {
            let row = (base + ai) * B_BINS;
            let w = wd * wa;
            hist[row + b_lo] += w * (1.0 - fb);
            hist[row + b_hi] += w * fb;
        }
    }
}

/// The running mean of a gallery's screening vectors (per finger position or
/// pooled), which the scores are centred on.
#[derive(Debug, Clone)]
pub struct ScreenMean {
    /// Exact sums of the stored int8 codes (no rounding drift however many
    /// vectors come and go).
    sum: Vec<i64>,
    count: u64,
}

impl Default for ScreenMean {
    fn default() -> Self {
        Self {
            sum: vec![0; SCREEN_DIM],
            count: 0,
        }
    }
}

impl ScreenMean {
    /// Adds one stored vector.
    pub fn add(&mut self, code: &ScreenCode) {
        for (s, l) in self.sum.iter_mut().zip(levels(code)) {
            *s += i64::from(l);
        }
        self.count += 1;
    }

    /// Removes one vector added before.
    pub fn remove(&mut self, code: &ScreenCode) {
        if self.count == 0 {
            return;
        }
        for (s, l) in self.sum.iter_mut().zip(levels(code)) {
            *s -= i64::from(l);
        }
        self.count -= 1;
    }

    /// Adds every vector another mean holds.
    pub fn merge(&mut self, other: &ScreenMean) {
        for (s, o) in self.sum.iter_mut().zip(&other.sum) {
            *s += o;
        }
        self.count += other.count;
    }

    /// Vectors added so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The mean in histogram units.
    fn mean(&self) -> Vec<f32> {
        let n = self.count.max(1) as f64 * f64::from(LEVELS) / f64::from(CAP);
        self.sum.iter().map(|&s| (s as f64 / n) as f32).collect()
    }
}

/// A probe finger prepared for screening against many gallery vectors.
#[derive(Debug, Clone)]
pub struct ScreenProbe {
    /// The centred, unit-length probe, quantised; the even weights weigh
    /// value `2k` (a stored byte's low nibble), the odd ones `2k + 1`.
    weights: kernels::U4Weights,
    /// Converts the integer dot product with stored levels to the
    /// projection's scale.
    scale: f32,
    /// The centred probe's projection on the mean, subtracted from every score.
    offset: f32,
}

impl ScreenProbe {
    /// Prepares a probe vector against the gallery mean; `None` when the probe
    /// is (numerically) the mean itself and so carries no information.
    pub fn new(code: &ScreenCode, mean: &ScreenMean) -> Option<Self> {
        let m = mean.mean();
        let step = CAP / f32::from(LEVELS);
        let mut u: Vec<f32> = levels(code)
            .zip(&m)
            .map(|(l, mk)| f32::from(l) * step - mk)
            .collect();
        let norm = u.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm < 1e-6 {
            return None;
        }
        u.iter_mut().for_each(|v| *v /= norm);
        let peak = u.iter().fold(0.0f32, |acc, v| acc.max(v.abs()));
        let q_scale = PROBE_QUANT / peak;
        let (mut even, mut odd) = ([0i8; SCREEN_BYTES], [0i8; SCREEN_BYTES]);
        for (k, pair) in u.chunks_exact(2).enumerate() {
            even[k] = (pair[0] * q_scale).round() as i8;
            odd[k] = (pair[1] * q_scale).round() as i8;
        }
        let offset = u.iter().zip(&m).map(|(a, b)| a * b).sum();
        Some(Self {
            weights: kernels::U4Weights::new(&even, &odd),
            scale: step / q_scale,
            offset,
        })
    }

    /// The projection score of one gallery vector.
    pub fn score(&self, code: &ScreenCode) -> f32 {
        self.weights.dot(code) as f32 * self.scale - self.offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hoviyat_models::{FingerPosition, Minutia, MinutiaKind};

    /// A deterministic pseudo-random finger with `n` minutiae.
    fn finger(seed: u64, n: usize) -> FingerTemplate {
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as f32 / (1u64 << 31) as f32
        };
        let minutiae = (0..n)
            .map(|_| {
                let kind = if next() < 0.5 {
                    MinutiaKind::Ending
                } else {
                    MinutiaKind::Bifurcation
                };
                Minutia::new(
                    40.0 + next() * 220.0,
                    40.0 + next() * 300.0,
                    next() * std::f32::consts::TAU,
                    kind,
                    60,
                )
            })
            .collect();
        FingerTemplate {
            position: FingerPosition::RightIndex,
            width_px: 300,
            height_px: 380,
            dpi: 500,
            quality: 60,
            minutiae,
            ridge_map: None,
        }
    }

    /// Rotates and shifts a template rigidly (angles counter-clockwise on the image).
    fn moved(t: &FingerTemplate, angle_rad: f32, shift: (f32, f32)) -> FingerTemplate {
        let (s, c) = angle_rad.sin_cos();
        let (cx, cy) = (150.0, 190.0);
        let mut out = t.clone();
        out.width_px = 600;
        out.height_px = 600;
        for m in &mut out.minutiae {
            let (x, y) = (m.x_px - cx, cy - m.y_px);
            let (xr, yr) = (c * x - s * y, s * x + c * y);
            *m = Minutia::new(
                300.0 + xr + shift.0,
                300.0 - yr + shift.1,
                m.angle_rad + angle_rad,
                m.kind,
                m.quality,
            );
        }
        out
    }

    fn gallery_mean(seeds: std::ops::Range<u64>) -> ScreenMean {
        let mut mean = ScreenMean::default();
        for s in seeds {
            mean.add(&encode(&finger(s, 40)).unwrap());
        }
        mean
    }

    #[test]
    fn vectors_do_not_change_under_rotation_and_translation() {
        let t = finger(1, 40);
        let a = encode(&t).unwrap();
        let b = encode(&moved(&t, 2.4, (17.0, -9.0))).unwrap();
        let diffs: Vec<i16> = levels(&a)
            .zip(levels(&b))
            .map(|(x, y)| (i16::from(x) - i16::from(y)).abs())
            .collect();
        assert!(diffs.iter().all(|&d| d <= 1), "levels moved by {diffs:?}");
        assert!(diffs.iter().filter(|&&d| d > 0).count() <= 5);
    }

    #[test]
    fn angles_wrap_into_a_half_turn() {
        for x in [-7.0f32, -3.2, -0.0, 0.0, 1.0, std::f32::consts::PI, 9.9] {
            let w = wrap_pi(x);
            assert!((0.0..std::f32::consts::PI).contains(&w), "{x} -> {w}");
        }
    }

    #[test]
    fn a_rotated_mate_outscores_unrelated_fingers() {
        let mean = gallery_mean(100..400);
        let probe_t = finger(7, 40);
        let probe = ScreenProbe::new(&encode(&probe_t).unwrap(), &mean).unwrap();
        // The mate: rotated, shifted, with a quarter of its minutiae lost.
        let mut mate_t = moved(&probe_t, -1.1, (5.0, 12.0));
        mate_t.minutiae.truncate(30);
        let mate = probe.score(&encode(&mate_t).unwrap());
        let others: Vec<f32> = (1000..1300)
            .map(|s| probe.score(&encode(&finger(s, 40)).unwrap()))
            .collect();
        let best_other = others.iter().copied().fold(f32::MIN, f32::max);
        let mean = others.iter().sum::<f32>() / others.len() as f32;
        let sd =
            (others.iter().map(|s| (s - mean).powi(2)).sum::<f32>() / others.len() as f32).sqrt();
        assert!(
            mate > best_other,
            "mate {mate} vs best unrelated {best_other}"
        );
        assert!(
            mate > mean + 4.0 * sd,
            "mate {mate}, unrelated {mean} ± {sd}"
        );
    }

    #[test]
    fn too_few_minutiae_give_no_vector() {
        assert!(encode(&finger(3, 4)).is_none());
        assert!(encode(&finger(3, 5)).is_some());
    }

    #[test]
    fn removing_undoes_adding() {
        let mut mean = gallery_mean(0..3);
        let code = encode(&finger(9, 30)).unwrap();
        let before = mean.mean();
        mean.add(&code);
        mean.remove(&code);
        assert_eq!(mean.count(), 3);
        let after = mean.mean();
        assert!(before.iter().zip(&after).all(|(a, b)| (a - b).abs() < 1e-6));
    }
}
