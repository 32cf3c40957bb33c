//! Matching kernels of the finger matcher, each beside its scalar twin.
//!
//! [`measure_edges8`] computes the invariant features of eight gallery
//! edges at once (length, and both minutia directions relative to the edge:
//! an `atan2`, a square root and two quantisations each), the arithmetic
//! every gallery neighbour edge of every comparison needs. Its AVX2 body
//! performs the scalar twin's operations in the same order, branch-free
//! selections included, so the two agree exactly.
//!
//! [`count_in_box`] moves a set of points by a rigid motion and counts those
//! that land inside an axis-aligned box: the overlap estimate that every
//! candidate alignment of every comparison needs. On x86-64 with AVX2 it
//! runs eight points per step (chosen at run time; std caches the CPU
//! feature test); elsewhere, and for the tail, the scalar twin runs. Both
//! evaluate `c x - s y + t` with the same operations in the same order and no
//! fused multiply-add, so they agree exactly (a property test checks it).

//!
//! [`near_candidates`] moves the gallery minutia of every candidate minutia
//! pair by one alignment and marks the pairs whose two minutiae then lie
//! within the distance tolerance (which widens away from the alignment's
//! anchor): the test that most candidates of every root alignment fail.
//! Its AVX2 body, too, repeats the scalar twin's operations in order.

use super::edges::{ANGLE_STEPS, EdgeFeatures, LENGTH_UNITS_PER_PX};
use super::geometry::{ATAN_COEFFS, MIN_EDGE_PX, Point};

/// A rigid motion: `x' = cos x - sin y + tx`, `y' = sin x + cos y + ty`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rigid {
    pub cos: f32,
    pub sin: f32,
    pub tx: f32,
    pub ty: f32,
}

/// Number of points `(xs[i], ys[i])` that `t` moves into the closed box
/// `(x_min, y_min, x_max, y_max)`. Uses the shorter of the two slices.
pub fn count_in_box(xs: &[f32], ys: &[f32], t: &Rigid, bounds: (f32, f32, f32, f32)) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { count_in_box_avx2(xs, ys, t, bounds) };
        }
    }
    count_in_box_scalar(xs, ys, t, bounds)
}

/// Scalar twin of [`count_in_box`].
pub fn count_in_box_scalar(xs: &[f32], ys: &[f32], t: &Rigid, bounds: (f32, f32, f32, f32)) -> u32 {
    let (x0, y0, x1, y1) = bounds;
    xs.iter()
        .zip(ys)
        .map(|(&x, &y)| {
            let mx = (t.cos * x - t.sin * y) + t.tx;
            let my = (t.sin * x + t.cos * y) + t.ty;
            u32::from(mx >= x0 && mx <= x1 && my >= y0 && my <= y1)
        })
        .sum()
}

/// AVX2 body of [`count_in_box`].
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn count_in_box_avx2(
    xs: &[f32],
    ys: &[f32],
    t: &Rigid,
    bounds: (f32, f32, f32, f32),
) -> u32 {
    use std::arch::x86_64::*;
    let n = xs.len().min(ys.len());
    let lanes = n / 8 * 8;
    let (x0, y0, x1, y1) = bounds;
    let mut count = 0u32;
    let c = _mm256_set1_ps(t.cos);
    let s = _mm256_set1_ps(t.sin);
    let tx = _mm256_set1_ps(t.tx);
    let ty = _mm256_set1_ps(t.ty);
    let (vx0, vy0, vx1, vy1) = (
        _mm256_set1_ps(x0),
        _mm256_set1_ps(y0),
        _mm256_set1_ps(x1),
        _mm256_set1_ps(y1),
    );
    let mut i = 0;
    while i < lanes {
        // SAFETY: i + 8 <= lanes <= len of both slices; loadu has no
        // alignment requirement.
        let (x, y) = unsafe {
            (
                _mm256_loadu_ps(xs.as_ptr().add(i)),
                _mm256_loadu_ps(ys.as_ptr().add(i)),
            )
        };
        let mx = _mm256_add_ps(_mm256_sub_ps(_mm256_mul_ps(c, x), _mm256_mul_ps(s, y)), tx);
        let my = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(s, x), _mm256_mul_ps(c, y)), ty);
        let inside = _mm256_and_ps(
            _mm256_and_ps(
                _mm256_cmp_ps::<_CMP_GE_OQ>(mx, vx0),
                _mm256_cmp_ps::<_CMP_LE_OQ>(mx, vx1),
            ),
            _mm256_and_ps(
                _mm256_cmp_ps::<_CMP_GE_OQ>(my, vy0),
                _mm256_cmp_ps::<_CMP_LE_OQ>(my, vy1),
            ),
        );
        count += (_mm256_movemask_ps(inside) as u32).count_ones();
        i += 8;
    }
    count + count_in_box_scalar(&xs[lanes..n], &ys[lanes..n], t, bounds)
}

/// Candidate minutia pairs in structure-of-arrays form (matcher frame):
/// pair `c` is gallery minutia `(gx[c], gy[c])` and probe minutia
/// `(px[c], py[c])`. All four slices have the same length.
#[derive(Debug, Clone, Copy)]
pub struct CandidatePoints<'a> {
    pub gx: &'a [f32],
    pub gy: &'a [f32],
    pub px: &'a [f32],
    pub py: &'a [f32],
}

/// A similarity alignment as the near test applies it: a gallery point
/// `(x, y)` goes to `(cos dx - sin dy + probe_anchor.0, sin dx + cos dy +
/// probe_anchor.1)` with `(dx, dy) = (x, y) - gallery_anchor` (`cos` and
/// `sin` carry the scale).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub cos: f32,
    pub sin: f32,
    pub gallery_anchor: (f32, f32),
    pub probe_anchor: (f32, f32),
}

/// The distance tolerance at distance `r` from the probe anchor:
/// `min(base + slope r, max)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    pub base: f32,
    pub slope: f32,
    pub max: f32,
}

impl Tolerance {
    /// The tolerance at distance `r` from the anchor: `base + slope r`, at
    /// most `max` (the AVX2 body computes the same, lane by lane).
    #[inline(always)]
    pub fn at(&self, r: f32) -> f32 {
        (self.base + self.slope * r).min(self.max)
    }
}

/// Sets bit `c % 64` of `near[c / 64]` exactly for the candidates `c` whose
/// gallery minutia, moved by `a`, lies within `t`'s tolerance (taken at the
/// moved point's distance from the probe anchor) of the probe minutia:
/// squared distance at most the squared tolerance. Words past the
/// candidates are cleared; `near` must hold a bit per candidate.
#[inline]
pub fn near_candidates(c: &CandidatePoints<'_>, a: &Placement, t: &Tolerance, near: &mut [u64]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { near_candidates_avx2(c, a, t, near) };
        }
    }
    near_candidates_scalar(c, a, t, near)
}

/// Scalar twin of [`near_candidates`].
pub fn near_candidates_scalar(
    c: &CandidatePoints<'_>,
    a: &Placement,
    t: &Tolerance,
    near: &mut [u64],
) {
    near.fill(0);
    near_candidates_from(0, c, a, t, near);
}

/// The scalar test for candidates `first..`, setting their bits.
fn near_candidates_from(
    first: usize,
    c: &CandidatePoints<'_>,
    a: &Placement,
    t: &Tolerance,
    near: &mut [u64],
) {
    let n = c.gx.len().min(c.gy.len()).min(c.px.len()).min(c.py.len());
    for i in first..n {
        let (dx, dy) = (c.gx[i] - a.gallery_anchor.0, c.gy[i] - a.gallery_anchor.1);
        let x = a.cos * dx - a.sin * dy + a.probe_anchor.0;
        let y = a.sin * dx + a.cos * dy + a.probe_anchor.1;
        let (ax, ay) = (x - a.probe_anchor.0, y - a.probe_anchor.1);
        let r = (ax * ax + ay * ay).sqrt();
        let tolerance = t.at(r);
        let d2 = (c.px[i] - x) * (c.px[i] - x) + (c.py[i] - y) * (c.py[i] - y);
        if d2 <= tolerance * tolerance {
            near[i / 64] |= 1 << (i % 64);
        }
    }
}

/// AVX2 body of [`near_candidates`].
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn near_candidates_avx2(
    c: &CandidatePoints<'_>,
    a: &Placement,
    t: &Tolerance,
    near: &mut [u64],
) {
    use std::arch::x86_64::*;
    near.fill(0);
    let n = c.gx.len().min(c.gy.len()).min(c.px.len()).min(c.py.len());
    let lanes = n / 8 * 8;
    let set = |v: f32| _mm256_set1_ps(v);
    let (cos, sin) = (set(a.cos), set(a.sin));
    let (gax, gay) = (set(a.gallery_anchor.0), set(a.gallery_anchor.1));
    let (pax, pay) = (set(a.probe_anchor.0), set(a.probe_anchor.1));
    let (base, slope, max) = (set(t.base), set(t.slope), set(t.max));
    let mut i = 0;
    while i < lanes {
        // SAFETY: i + 8 <= lanes <= the length of every slice; loadu has
        // no alignment requirement.
        let load = |v: &[f32]| unsafe { _mm256_loadu_ps(v.as_ptr().add(i)) };
        let dx = _mm256_sub_ps(load(c.gx), gax);
        let dy = _mm256_sub_ps(load(c.gy), gay);
        let x = _mm256_add_ps(
            _mm256_sub_ps(_mm256_mul_ps(cos, dx), _mm256_mul_ps(sin, dy)),
            pax,
        );
        let y = _mm256_add_ps(
            _mm256_add_ps(_mm256_mul_ps(sin, dx), _mm256_mul_ps(cos, dy)),
            pay,
        );
        let (ax, ay) = (_mm256_sub_ps(x, pax), _mm256_sub_ps(y, pay));
        let r = _mm256_sqrt_ps(_mm256_add_ps(_mm256_mul_ps(ax, ax), _mm256_mul_ps(ay, ay)));
        let tolerance = _mm256_min_ps(_mm256_add_ps(base, _mm256_mul_ps(slope, r)), max);
        let ex = _mm256_sub_ps(load(c.px), x);
        let ey = _mm256_sub_ps(load(c.py), y);
        let d2 = _mm256_add_ps(_mm256_mul_ps(ex, ex), _mm256_mul_ps(ey, ey));
        let inside = _mm256_cmp_ps::<_CMP_LE_OQ>(d2, _mm256_mul_ps(tolerance, tolerance));
        let bits = u64::from(_mm256_movemask_ps(inside) as u8);
        near[i / 64] |= bits << (i % 64);
        i += 8;
    }
    near_candidates_from(lanes, c, a, t, near);
}

/// Eight edges, endpoints in structure-of-arrays form (matcher frame).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Edges8 {
    pub ax: [f32; 8],
    pub ay: [f32; 8],
    pub a_angle_rad: [f32; 8],
    pub bx: [f32; 8],
    pub by: [f32; 8],
    pub b_angle_rad: [f32; 8],
}

/// The features of eight edges, as `EdgeFeatures::measure` gives them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Measured8 {
    pub length_q: [u16; 8],
    pub beta_i: [u8; 8],
    pub beta_j: [u8; 8],
    pub in_range: [bool; 8],
}

/// Features of eight edges, each exactly as `EdgeFeatures::measure`
/// computes it with `max_px`.
#[inline]
pub fn measure_edges8(e: &Edges8, max_px: f32) -> Measured8 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { measure_edges8_avx2(e, max_px) };
        }
    }
    measure_edges8_scalar(e, max_px)
}

/// Scalar twin of [`measure_edges8`].
pub fn measure_edges8_scalar(e: &Edges8, max_px: f32) -> Measured8 {
    let mut out = Measured8::default();
    for l in 0..8 {
        let a = Point {
            x: e.ax[l],
            y: e.ay[l],
            angle_rad: e.a_angle_rad[l],
        };
        let b = Point {
            x: e.bx[l],
            y: e.by[l],
            angle_rad: e.b_angle_rad[l],
        };
        let (f, in_range) = EdgeFeatures::measure(&a, &b, max_px);
        out.length_q[l] = f.length_q;
        out.beta_i[l] = f.beta_i;
        out.beta_j[l] = f.beta_j;
        out.in_range[l] = in_range;
    }
    out
}

/// AVX2 body of [`measure_edges8`].
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn measure_edges8_avx2(e: &Edges8, max_px: f32) -> Measured8 {
    use std::arch::x86_64::*;
    use std::f32::consts::{PI, TAU};
    // SAFETY (all loads and stores below): each array holds exactly eight
    // f32 or i32 lanes; loadu/storeu have no alignment requirement.
    let load = |v: &[f32; 8]| unsafe { _mm256_loadu_ps(v.as_ptr()) };
    let (ax, ay, aa) = (load(&e.ax), load(&e.ay), load(&e.a_angle_rad));
    let (bx, by, ba) = (load(&e.bx), load(&e.by), load(&e.b_angle_rad));
    let zero = _mm256_setzero_ps();
    let sign = _mm256_set1_ps(-0.0);
    let dx = _mm256_sub_ps(bx, ax);
    let dy = _mm256_sub_ps(by, ay);
    let d2 = _mm256_add_ps(_mm256_mul_ps(dx, dx), _mm256_mul_ps(dy, dy));
    let in_range = _mm256_and_ps(
        _mm256_cmp_ps::<_CMP_GE_OQ>(d2, _mm256_set1_ps(MIN_EDGE_PX * MIN_EDGE_PX)),
        _mm256_cmp_ps::<_CMP_LE_OQ>(d2, _mm256_set1_ps(max_px * max_px)),
    );
    // atan2_fast(dy, dx), operation for operation.
    let adx = _mm256_andnot_ps(sign, dx);
    let ady = _mm256_andnot_ps(sign, dy);
    let max = _mm256_max_ps(adx, ady);
    let min = _mm256_min_ps(adx, ady);
    // The scalar returns 0 for the origin: t = 0 gives exactly that.
    let t = _mm256_andnot_ps(
        _mm256_cmp_ps::<_CMP_EQ_OQ>(max, zero),
        _mm256_div_ps(min, max),
    );
    let s = _mm256_mul_ps(t, t);
    let c = |v: f32| _mm256_set1_ps(v);
    let [c1, c3, c5, c7, c9] = ATAN_COEFFS;
    let mut p = _mm256_add_ps(c(c7), _mm256_mul_ps(s, c(c9)));
    p = _mm256_add_ps(c(c5), _mm256_mul_ps(s, p));
    p = _mm256_add_ps(c(c3), _mm256_mul_ps(s, p));
    p = _mm256_add_ps(c(c1), _mm256_mul_ps(s, p));
    let mut r = _mm256_mul_ps(t, p);
    let fold = |flip: __m256, k: f32, r: __m256| {
        let signed = _mm256_xor_ps(r, _mm256_and_ps(flip, sign));
        _mm256_add_ps(_mm256_and_ps(c(k), flip), signed)
    };
    r = fold(_mm256_cmp_ps::<_CMP_GT_OQ>(ady, adx), PI / 2.0, r);
    r = fold(_mm256_cmp_ps::<_CMP_LT_OQ>(dx, zero), PI, r);
    r = fold(_mm256_cmp_ps::<_CMP_LT_OQ>(dy, zero), TAU, r);
    let phi = _mm256_and_ps(r, _mm256_cmp_ps::<_CMP_LT_OQ>(r, c(TAU)));
    // quantise_angle, operation for operation.
    let quantise = |angle: __m256| {
        let steps = _mm256_add_ps(
            _mm256_mul_ps(_mm256_sub_ps(angle, phi), c(ANGLE_STEPS / TAU)),
            c(8.0 * ANGLE_STEPS + 0.5),
        );
        _mm256_and_si256(
            _mm256_cvttps_epi32(_mm256_max_ps(steps, zero)),
            _mm256_set1_epi32(0xff),
        )
    };
    // `as u16` saturates: so does the clamp (a square root is never negative).
    let length = _mm256_cvttps_epi32(_mm256_min_ps(
        _mm256_mul_ps(_mm256_sqrt_ps(d2), c(LENGTH_UNITS_PER_PX)),
        c(65_535.0),
    ));
    let store = |v: __m256i| {
        let mut lanes = [0i32; 8];
        // SAFETY: see above.
        unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), v) };
        lanes
    };
    let (length, beta_i, beta_j) = (store(length), store(quantise(aa)), store(quantise(ba)));
    let mask = _mm256_movemask_ps(in_range);
    let mut out = Measured8::default();
    for l in 0..8 {
        // Lanes hold 0..=65535 and 0..=255 by construction.
        out.length_q[l] = length[l] as u16;
        out.beta_i[l] = beta_i[l] as u8;
        out.beta_j[l] = beta_j[l] as u8;
        out.in_range[l] = mask & (1 << l) != 0;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn edges8(v: &[(f32, f32, f32, f32, f32, f32)]) -> Edges8 {
        let mut e = Edges8::default();
        for (l, &(ax, ay, aa, bx, by, ba)) in v.iter().enumerate().take(8) {
            (e.ax[l], e.ay[l], e.a_angle_rad[l]) = (ax, ay, aa);
            (e.bx[l], e.by[l], e.b_angle_rad[l]) = (bx, by, ba);
        }
        e
    }

    proptest! {
        #[test]
        fn simd_edge_features_agree_with_scalar(
            v in proptest::collection::vec(
                (-600.0f32..600.0, -600.0f32..600.0, 0.0f32..std::f32::consts::TAU,
                 -600.0f32..600.0, -600.0f32..600.0, 0.0f32..std::f32::consts::TAU),
                8,
            ),
        ) {
            let e = edges8(&v);
            prop_assert_eq!(measure_edges8(&e, 128.0), measure_edges8_scalar(&e, 128.0));
        }

        #[test]
        fn simd_edge_features_agree_on_gallery_grids(
            v in proptest::collection::vec(
                (0u16..2048, 0u16..2048, any::<u8>(), -140i32..140, -140i32..140, any::<u8>()),
                8,
            ),
        ) {
            // Gallery forms hold whole pixels and 1/256-turn directions:
            // exact ties (equal |dx| and |dy|, axis-parallel edges, zero
            // length) are common there.
            let step = std::f32::consts::TAU / 256.0;
            let v: Vec<_> = v
                .iter()
                .map(|&(x, y, a, dx, dy, b)| {
                    let (x, y) = (f32::from(x), -f32::from(y));
                    (x, y, f32::from(a) * step, x + dx as f32, y + dy as f32, f32::from(b) * step)
                })
                .collect();
            let e = edges8(&v);
            prop_assert_eq!(measure_edges8(&e, 128.0), measure_edges8_scalar(&e, 128.0));
        }
    }

    proptest! {
        #[test]
        fn simd_count_in_box_agrees_with_scalar(
            points in proptest::collection::vec((-600.0f32..600.0, -600.0f32..600.0), 0..80),
            angle in 0.0f32..std::f32::consts::TAU,
            tx in -300.0f32..300.0, ty in -300.0f32..300.0,
            x0 in -400.0f32..0.0, y0 in -400.0f32..0.0, w in 0.0f32..500.0, h in 0.0f32..500.0,
        ) {
            let (xs, ys): (Vec<f32>, Vec<f32>) = points.into_iter().unzip();
            let (sin, cos) = angle.sin_cos();
            let t = Rigid { cos, sin, tx, ty };
            let b = (x0, y0, x0 + w, y0 + h);
            prop_assert_eq!(count_in_box(&xs, &ys, &t, b), count_in_box_scalar(&xs, &ys, &t, b));
        }
    }

    proptest! {
        #[test]
        fn simd_near_candidates_agree_with_scalar(
            pairs in proptest::collection::vec(
                (-300.0f32..300.0, -300.0f32..300.0, -40.0f32..40.0, -40.0f32..40.0),
                0..300,
            ),
            angle in 0.0f32..std::f32::consts::TAU, scale in 0.85f32..1.15,
            gax in -200.0f32..200.0, gay in -200.0f32..200.0,
            pax in -200.0f32..200.0, pay in -200.0f32..200.0,
        ) {
            let (sin, cos) = angle.sin_cos();
            let a = Placement {
                cos: cos * scale,
                sin: sin * scale,
                gallery_anchor: (gax, gay),
                probe_anchor: (pax, pay),
            };
            // Probe minutiae near where the gallery ones land, so that both
            // sides of the tolerance are exercised.
            let (gx, gy): (Vec<f32>, Vec<f32>) = pairs.iter().map(|p| (p.0, p.1)).unzip();
            let moved: Vec<(f32, f32)> = pairs
                .iter()
                .map(|p| {
                    let (dx, dy) = (p.0 - gax, p.1 - gay);
                    (a.cos * dx - a.sin * dy + pax + p.2, a.sin * dx + a.cos * dy + pay + p.3)
                })
                .collect();
            let (px, py): (Vec<f32>, Vec<f32>) = moved.into_iter().unzip();
            let c = CandidatePoints { gx: &gx, gy: &gy, px: &px, py: &py };
            let t = Tolerance { base: 12.0, slope: 0.07, max: 24.0 };
            let (mut simd, mut scalar) = ([u64::MAX; 5], [u64::MAX; 5]);
            near_candidates(&c, &a, &t, &mut simd);
            near_candidates_scalar(&c, &a, &t, &mut scalar);
            prop_assert_eq!(simd, scalar);
        }
    }

    #[test]
    fn near_candidates_marks_pairs_within_the_widening_tolerance() {
        // Identity alignment anchored at the origin: the tolerance is 12 px
        // there, 12 + 0.07 r further out, 24 px at most.
        let a = Placement {
            cos: 1.0,
            sin: 0.0,
            gallery_anchor: (0.0, 0.0),
            probe_anchor: (0.0, 0.0),
        };
        let t = Tolerance {
            base: 12.0,
            slope: 0.07,
            max: 24.0,
        };
        // (gallery x, probe x offset along y): in, out, in far away, out
        // beyond the cap, and again past the first eight lanes.
        let cases = [
            (0.0, 11.9, true),
            (0.0, 12.1, false),
            (100.0, 18.9, true),
            (100.0, 19.1, false),
            (1000.0, 23.9, true),
            (1000.0, 24.1, false),
            (0.0, 0.0, true),
            (0.0, 30.0, false),
            (0.0, 5.0, true),
            (0.0, 50.0, false),
        ];
        let gx: Vec<f32> = cases.iter().map(|c| c.0).collect();
        let gy = vec![0.0; cases.len()];
        let py: Vec<f32> = cases.iter().map(|c| c.1).collect();
        let c = CandidatePoints {
            gx: &gx,
            gy: &gy,
            px: &gx,
            py: &py,
        };
        let mut near = [0u64; 1];
        near_candidates(&c, &a, &t, &mut near);
        for (i, case) in cases.iter().enumerate() {
            assert_eq!(near[0] >> i & 1 == 1, case.2, "case {i}: {case:?}");
        }
    }

    #[test]
    fn identity_counts_points_on_and_inside_the_edges() {
        let t = Rigid {
            cos: 1.0,
            sin: 0.0,
            tx: 0.0,
            ty: 0.0,
        };
        let xs: Vec<f32> = (0..20).map(|i| i as f32).collect();
        let ys = vec![5.0; 20];
        assert_eq!(count_in_box(&xs, &ys, &t, (3.0, 0.0, 12.0, 5.0)), 10);
        assert_eq!(count_in_box(&xs, &ys, &t, (3.0, 6.0, 12.0, 9.0)), 0);
    }
}
