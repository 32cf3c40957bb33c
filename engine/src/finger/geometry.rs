//! Coordinate frame, angle arithmetic and minutia selection shared by the
//! gallery form and the prepared probe.
//!
//! Internally the matcher works at 500 dpi in a frame with y **up**, so that a
//! minutia of ISO direction `a` points along `(cos a, sin a)` and rotations are
//! the textbook ones.

use std::f32::consts::{PI, TAU};

use hoviyat_models::{FingerTemplate, Minutia};

/// Resolution of the matcher's coordinate frame, in dots per inch.
pub const MATCH_DPI: f32 = 500.0;
/// Longest neighbour edge kept, in 500 dpi pixels: longer pairs bend too much
/// under skin distortion to describe a neighbourhood.
pub const MAX_EDGE_PX: f32 = 128.0;
/// Shortest edge used: the direction of a shorter pair is mostly noise.
pub(crate) const MIN_EDGE_PX: f32 = 6.0;

/// A minutia in the matcher's frame (500 dpi, y up, direction in radians).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Point {
    pub x: f32,
    pub y: f32,
    pub angle_rad: f32,
}

/// The minutiae the matcher uses from `template`: at most `max` of them, the
/// highest quality first kept (ties keep template order), in 500 dpi pixels
/// with y still pointing **down** (as stored), in their original order.
pub(crate) fn select_minutiae(template: &FingerTemplate, max: usize) -> Vec<Minutia> {
    let scale = MATCH_DPI / f32::from(template.dpi.max(1));
    selected_indices(template, max)
        .into_iter()
        .map(|i| {
            let m = &template.minutiae[i];
            Minutia {
                x_px: m.x_px * scale,
                y_px: m.y_px * scale,
                ..*m
            }
        })
        .collect()
}

/// Indices into `template.minutiae` of what [`select_minutiae`] keeps, in
/// the same order.
pub(crate) fn selected_indices(template: &FingerTemplate, max: usize) -> Vec<usize> {
    let mut chosen: Vec<(usize, &Minutia)> = template.minutiae.iter().enumerate().collect();
    if chosen.len() > max {
        // Stable sort: equal qualities keep their order, so the choice is
        // deterministic.
        chosen.sort_by_key(|c| std::cmp::Reverse(c.1.quality));
        chosen.truncate(max);
        chosen.sort_by_key(|(i, _)| *i);
    }
    chosen.into_iter().map(|(i, _)| i).collect()
}

/// `a - b` wrapped into `(-π, π]`.
#[inline]
pub(crate) fn angle_diff(a: f32, b: f32) -> f32 {
    let mut d = a - b;
    // Inputs are within a few turns of each other, so two steps suffice.
    if d > PI {
        d -= TAU;
        if d > PI {
            d -= TAU;
        }
    } else if d <= -PI {
        d += TAU;
        if d <= -PI {
            d += TAU;
        }
    }
    d
}

/// `a` wrapped into `[0, 2π)` for inputs within a few turns of that range.
#[inline]
#[cfg(test)]
pub(crate) fn wrap_tau(a: f32) -> f32 {
    let w = a.rem_euclid(TAU);
    if w >= TAU { 0.0 } else { w }
}

/// Coefficients of the odd minimax polynomial for atan on [0, 1] (terms
/// t, t³, ... t⁹; error about 1e-5 rad), shared by [`atan2_fast`] and the
/// edge kernel's SIMD form.
pub(crate) const ATAN_COEFFS: [f32; 5] =
    [0.999_866, -0.330_299_5, 0.180_141, -0.085_133, 0.020_835_1];

/// `atan2(y, x)` in `[0, 2π)`, within 1e-4 rad of the exact value; finite
/// for every finite input (0 for the origin).
#[inline]
pub(crate) fn atan2_fast(y: f32, x: f32) -> f32 {
    let ax = x.abs();
    let ay = y.abs();
    let max = ax.max(ay);
    if max == 0.0 {
        return 0.0;
    }
    let t = ax.min(ay) / max;
    let s = t * t;
    let [c1, c3, c5, c7, c9] = ATAN_COEFFS;
    let r = t * (c1 + s * (c3 + s * (c5 + s * (c7 + s * c9))));
    // Octant folds without branches (edge directions are random, so
    // branches on their signs would be mispredicted half the time).
    let r = fold(ay > ax, PI / 2.0, r);
    let r = fold(x < 0.0, PI, r);
    let r = fold(y < 0.0, TAU, r);
    // `TAU - 0` is the one result that can reach `TAU`; it means 0.
    f32::from_bits(r.to_bits() & mask(r < TAU))
}

/// Exactly `c - r` if `flip`, else exactly `r`, without a branch: the sign
/// of `r` flips and `c` is added or a zero is.
#[inline(always)]
fn fold(flip: bool, c: f32, r: f32) -> f32 {
    let signed = f32::from_bits(r.to_bits() ^ (u32::from(flip) << 31));
    f32::from_bits(c.to_bits() & mask(flip)) + signed
}

/// All ones if `b`, else zero.
#[inline(always)]
fn mask(b: bool) -> u32 {
    0u32.wrapping_sub(u32::from(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn fast_atan2_agrees_with_std(x in -500.0f32..500.0, y in -500.0f32..500.0) {
            prop_assume!(x.abs() + y.abs() > 1e-3);
            let exact = wrap_tau(y.atan2(x));
            let err = angle_diff(atan2_fast(y, x), exact).abs();
            prop_assert!(err < 1e-4, "err {err} at ({x}, {y})");
        }

        #[test]
        fn angle_diff_is_the_shortest_turn(a in 0.0f32..TAU, b in 0.0f32..TAU) {
            let d = angle_diff(a, b);
            prop_assert!(d > -PI - 1e-5 && d <= PI + 1e-5);
            prop_assert!(angle_diff(wrap_tau(b + d), a).abs() < 1e-4);
        }
    }

    #[test]
    fn selection_keeps_the_best_minutiae_in_order_and_rescales() {
        use hoviyat_models::{FingerPosition, MinutiaKind};
        let t = FingerTemplate {
            position: FingerPosition::RightIndex,
            width_px: 1000,
            height_px: 1000,
            dpi: 1000,
            quality: 50,
            minutiae: (0..5)
                .map(|i| {
                    Minutia::new(
                        100.0 * i as f32,
                        10.0,
                        0.0,
                        MinutiaKind::Ending,
                        [5, 90, 10, 80, 70][i],
                    )
                })
                .collect(),
            ridge_map: None,
        };
        let kept = select_minutiae(&t, 3);
        let xs: Vec<f32> = kept.iter().map(|m| m.x_px).collect();
        assert_eq!(xs, vec![50.0, 150.0, 200.0]);
    }
}
