//! Matching kernels of the finger matcher, each beside its scalar twin.
//!
//! [`count_in_box`] moves a set of points by a rigid motion and counts those
//! that land inside an axis-aligned box: the overlap estimate that every
//! candidate alignment of every comparison needs. On x86-64 with AVX2 it
//! runs eight points per step (chosen at run time; std caches the CPU
//! feature test); elsewhere, and for the tail, the scalar twin runs. Both
//! evaluate `c x - s y + t` with the same operations in the same order and no
//! fused multiply-add, so they agree exactly (a property test checks it).

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
