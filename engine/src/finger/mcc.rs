//! Local minutia descriptors after Cappelli, Ferrara and Maltoni's Minutia
//! Cylinder-Code (IEEE TPAMI 32(12), 2010), scored with their relaxed local
//! similarity sort (LSS-R).
//!
//! Each minutia gets a *cylinder*: a grid of `NS x NS` cells in the plane of
//! its neighbourhood (radius [`RADIUS_PX`], turned to the minutia's
//! direction) times [`ND`] bins of relative direction. A cell holds how much
//! evidence nearby minutiae give of a minutia at that place whose direction
//! differs from the centre's by that bin's angle. Two minutiae are alike
//! when their cylinders are, whatever the rest of the print does: the
//! description is local, so skin distortion elsewhere does not touch it, and
//! it needs no global alignment. The global score takes the most alike
//! minutia pairs, lets pairs that are geometrically compatible with each
//! other reinforce one another (relaxation), and averages the pairs that
//! kept their strength best.
//!
//! This complements the alignment matcher ([`super::pairing`]): that one
//! counts minutiae paired under one (locally corrected) transform, this one
//! how alike the neighbourhoods of the best pairs are. Written from the
//! paper's description; the parameters are its published ones for 500 dpi.

use std::f32::consts::{PI, TAU};

use hoviyat_models::FingerTemplate;

use super::gallery::MAX_GALLERY_MINUTIAE;
use super::geometry::{angle_diff, select_minutiae};

/// Cells along each side of a cylinder's base.
const NS: usize = 16;
/// Bins of relative direction.
const ND: usize = 6;
/// Cells per cylinder.
const CELLS: usize = NS * NS * ND;
/// Radius of the neighbourhood a cylinder describes, 500 dpi pixels.
pub const RADIUS_PX: f32 = 70.0;
/// Side of a base cell, pixels.
const DELTA_S: f32 = 2.0 * RADIUS_PX / NS as f32;
/// Spread of a neighbour's spatial contribution, pixels.
const SIGMA_S: f32 = 28.0 / 3.0;
/// Spread of a neighbour's directional contribution, radians.
const SIGMA_D: f32 = 2.0 * PI / 9.0;
/// Midpoint and steepness of the sigmoid that turns summed evidence into a
/// cell value in (0, 1).
const PSI_MU: f32 = 0.01;
const PSI_TAU: f32 = 400.0;
/// How far outside the minutiae's convex hull a cell still counts as inside
/// the print, pixels.
const HULL_MARGIN_PX: f32 = 50.0;
/// A cylinder is used only if at least this share of its possible cells
/// lies inside the print...
const MIN_VALID_CELLS: f32 = 0.75;
/// ... and at least this many neighbours contributed to it.
const MIN_CONTRIBUTORS: usize = 2;
/// Two cylinders are compared only on cells valid in both, and only if at
/// least this share of the possible cells is.
const MIN_MATCHABLE_CELLS: f32 = 0.6;
/// Minutiae whose directions differ by more are never alike. This bounds
/// the rotation between two impressions the similarity tolerates to a
/// quarter turn (touch captures are within it; the alignment score, which
/// takes any rotation, carries prints turned further). Without it, FVC2002
/// mean EER of the full comparison was 1.94 % against 1.87 %.
const MAX_DIRECTION_DIFF: f32 = PI / 2.0;

/// Pairs averaged into the global score: from [`MIN_PAIRS`] for tiny
/// templates to [`MAX_PAIRS`] for full ones.
const MIN_PAIRS: f32 = 4.0;
const MAX_PAIRS: f32 = 12.0;
const PAIRS_MU: f32 = 20.0;
const PAIRS_TAU: f32 = 0.4;
/// Relaxation: weight of a pair's own previous strength, and rounds.
const RELAX_WEIGHT: f32 = 0.5;
const RELAX_ROUNDS: usize = 5;

/// A template's cylinders, ready to compare.
#[derive(Debug, Clone)]
pub struct Cylinders {
    /// Minutiae in the 500 dpi, y-up frame.
    points: Vec<(f32, f32, f32)>,
    /// One per minutia whose cylinder is usable.
    cylinders: Vec<Cylinder>,
}

#[derive(Debug, Clone)]
struct Cylinder {
    /// Index into `points`.
    minutia: usize,
    /// Cell values, `[(i * NS + j) * ND + k]`.
    values: Box<[f32; CELLS]>,
    /// Whether base cell `i * NS + j` is inside the print, as bits...
    valid: [u64; NS * NS / 64],
    /// ... and as 1.0 or 0.0 per cell value.
    mask: Box<[f32; CELLS]>,
}

impl Cylinders {
    /// Builds the cylinders of `template`'s minutiae (the same ones the
    /// matcher uses).
    pub fn new(template: &FingerTemplate) -> Self {
        let points: Vec<(f32, f32, f32)> = select_minutiae(template, MAX_GALLERY_MINUTIAE)
            .iter()
            .map(|m| (m.x_px, -m.y_px, m.angle_rad))
            .collect();
        let hull = convex_hull(&points);
        let delta_d = TAU / ND as f32;
        let possible = possible_cells();
        let reach = RADIUS_PX + 3.0 * SIGMA_S;
        let mut cylinders = Vec::new();
        for (index, &(x, y, angle)) in points.iter().enumerate() {
            let (sin, cos) = angle.sin_cos();
            // Base cells inside the disc and inside the print.
            let mut valid = [0u64; NS * NS / 64];
            let mut n_valid = 0;
            for c in (0..NS * NS).filter(|&c| in_disc(c)) {
                let (u, v) = cell_offset(c);
                let (px, py) = (x + cos * u - sin * v, y + sin * u + cos * v);
                if near_hull(&hull, px, py, HULL_MARGIN_PX) {
                    valid[c / 64] |= 1 << (c % 64);
                    n_valid += 1;
                }
            }
            if (n_valid as f32) < MIN_VALID_CELLS * possible as f32 {
                continue;
            }
            let mut sums = vec![0.0f32; CELLS];
            let mut contributors = 0;
            for (other, &(ox, oy, oangle)) in points.iter().enumerate() {
                let (dx, dy) = (ox - x, oy - y);
                if other == index || dx * dx + dy * dy > reach * reach {
                    continue;
                }
                // The neighbour in the cylinder's own frame.
                let (lu, lv) = (cos * dx + sin * dy, -sin * dx + cos * dy);
                let relative = angle_diff(oangle, angle);
                let mut directional = [0.0f32; ND];
                for (k, d) in directional.iter_mut().enumerate() {
                    let centre = -PI + (k as f32 + 0.5) * delta_d;
                    let off = angle_diff(centre, relative);
                    let s = SIGMA_D * std::f32::consts::SQRT_2;
                    *d = 0.5 * (erf((off + delta_d / 2.0) / s) - erf((off - delta_d / 2.0) / s));
                }
                let mut touched = false;
                // Only cells within 3 sigma of the neighbour get anything.
                let half = (NS as f32 - 1.0) / 2.0;
                let reach_cells = 3.0 * SIGMA_S / DELTA_S;
                let span = |centre: f32| {
                    let lo = (centre / DELTA_S + half - reach_cells).ceil().max(0.0) as usize;
                    let hi = (centre / DELTA_S + half + reach_cells)
                        .floor()
                        .min(NS as f32 - 1.0);
                    lo..(hi.max(-1.0) + 1.0) as usize
                };
                for c in span(lu).flat_map(|i| span(lv).map(move |j| i * NS + j)) {
                    if valid[c / 64] & (1 << (c % 64)) == 0 {
                        continue;
                    }
                    let (u, v) = cell_offset(c);
                    let d2 = (u - lu) * (u - lu) + (v - lv) * (v - lv);
                    if d2 > 9.0 * SIGMA_S * SIGMA_S {
                        continue;
                    }
                    let spatial =
                        (-d2 / (2.0 * SIGMA_S * SIGMA_S)).exp() / (SIGMA_S * (TAU).sqrt());
                    for (k, d) in directional.iter().enumerate() {
                        sums[c * ND + k] += spatial * d;
                    }
                    touched = true;
                }
                contributors += usize::from(touched);
            }
            if contributors < MIN_CONTRIBUTORS {
                continue;
            }
            let mut values = Box::new([0.0f32; CELLS]);
            let mut mask = Box::new([0.0f32; CELLS]);
            for c in 0..CELLS {
                if valid[c / ND / 64] & (1 << ((c / ND) % 64)) != 0 {
                    values[c] = sigmoid(sums[c], PSI_MU, PSI_TAU);
                    mask[c] = 1.0;
                }
            }
            cylinders.push(Cylinder {
                minutia: index,
                values,
                valid,
                mask,
            });
        }
        Self { points, cylinders }
    }

    /// Usable cylinders.
    pub fn len(&self) -> usize {
        self.cylinders.len()
    }

    /// Whether no minutia has a usable cylinder.
    pub fn is_empty(&self) -> bool {
        self.cylinders.is_empty()
    }

    /// Global similarity in `[0, 1]` of two templates (LSS-R); symmetric.
    pub fn similarity(&self, other: &Cylinders) -> f32 {
        let (na, nb) = (self.cylinders.len(), other.cylinders.len());
        if na == 0 || nb == 0 {
            return 0.0;
        }
        let possible = possible_cells() as f32;
        let mut local = Vec::with_capacity(na * nb);
        for (a, ca) in self.cylinders.iter().enumerate() {
            let theta_a = self.points[ca.minutia].2;
            for (b, cb) in other.cylinders.iter().enumerate() {
                let theta_b = other.points[cb.minutia].2;
                if angle_diff(theta_a, theta_b).abs() > MAX_DIRECTION_DIFF {
                    continue;
                }
                let s = cylinder_similarity(ca, cb, possible);
                if s > 0.0 {
                    local.push((s, a, b));
                }
            }
        }
        let n_min = na.min(nb) as f32;
        let n_pairs = (MIN_PAIRS
            + (sigmoid(n_min, PAIRS_MU, PAIRS_TAU) * (MAX_PAIRS - MIN_PAIRS)).round())
            as usize;
        // The strongest pairs, each minutia used once.
        local.sort_by(|x, y| y.0.total_cmp(&x.0).then((x.1, x.2).cmp(&(y.1, y.2))));
        let (mut used_a, mut used_b) = (vec![false; na], vec![false; nb]);
        let mut pairs = Vec::new();
        for &(s, a, b) in &local {
            if pairs.len() == na.min(nb) {
                break;
            }
            if !used_a[a] && !used_b[b] {
                used_a[a] = true;
                used_b[b] = true;
                pairs.push((
                    s,
                    self.points[self.cylinders[a].minutia],
                    other.points[other.cylinders[b].minutia],
                ));
            }
        }
        if pairs.is_empty() {
            return 0.0;
        }
        // Relaxation: a pair keeps its strength in proportion to the strength
        // of the pairs whose geometry agrees with it. Support is shared out
        // over at least the `n_pairs` the score averages: where a template
        // has fewer usable cylinders than that, the missing pairs support
        // nothing. (Over `n - 1` alone, as the paper has it, the two usable
        // cylinders of a four-minutia fragment reinforced each other fully
        // and the fragment matched unrelated prints at 0.14-0.25, raw 7-13
        // in the full comparison: FVC2002 DB1_B's `partial` family on the
        // ISO records, FMR1000 23.9 % then, 9.6 % now; BENCHMARKS.md,
        // session 19.)
        let n = pairs.len();
        let mut compat = vec![0.0f32; n * n];
        for t in 0..n {
            for k in 0..n {
                if t != k {
                    compat[t * n + k] = compatibility(&pairs[t], &pairs[k]);
                }
            }
        }
        let initial: Vec<f32> = pairs.iter().map(|p| p.0).collect();
        let mut lambda = initial.clone();
        let mut next = vec![0.0f32; n];
        for _ in 0..RELAX_ROUNDS {
            for t in 0..n {
                let support: f32 = (0..n).map(|k| compat[t * n + k] * lambda[k]).sum();
                next[t] = RELAX_WEIGHT * lambda[t]
                    + (1.0 - RELAX_WEIGHT) * support / (n.max(n_pairs).max(2) - 1) as f32;
            }
            std::mem::swap(&mut lambda, &mut next);
        }
        // The pairs that kept their strength best, averaged.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&x, &y| {
            (lambda[y] / initial[y])
                .total_cmp(&(lambda[x] / initial[x]))
                .then(x.cmp(&y))
        });
        let take = n_pairs.min(n);
        order[..take].iter().map(|&t| lambda[t]).sum::<f32>() / n_pairs as f32
    }
}

type Pair = (f32, (f32, f32, f32), (f32, f32, f32));

/// How well two pairs agree geometrically: distances, relative directions
/// and the angles of the joining segment must all be alike in both prints.
fn compatibility(t: &Pair, k: &Pair) -> f32 {
    let (at, bt) = (t.1, t.2);
    let (ak, bk) = (k.1, k.2);
    let da = (at.0 - ak.0).hypot(at.1 - ak.1);
    let db = (bt.0 - bk.0).hypot(bt.1 - bk.1);
    let d1 = (da - db).abs();
    let d2 = angle_diff(angle_diff(at.2, ak.2), angle_diff(bt.2, bk.2)).abs();
    let radial =
        |m: (f32, f32, f32), n: (f32, f32, f32)| angle_diff(m.2, (m.1 - n.1).atan2(m.0 - n.0));
    let d3 = angle_diff(radial(at, ak), radial(bt, bk)).abs();
    sigmoid(d1, 5.0, -1.6) * sigmoid(d2, PI / 12.0, -30.0) * sigmoid(d3, PI / 12.0, -30.0)
}

/// Similarity of two cylinders over the cells valid in both: one minus the
/// distance of their value vectors relative to the sum of their norms.
fn cylinder_similarity(a: &Cylinder, b: &Cylinder, possible: f32) -> f32 {
    let matchable: u32 = a
        .valid
        .iter()
        .zip(&b.valid)
        .map(|(x, y)| (x & y).count_ones())
        .sum();
    if (matchable as f32) < MIN_MATCHABLE_CELLS * possible {
        return 0.0;
    }
    // Each side's values on the cells valid in both (a cell invalid on one
    // side is zero on it), in lanes the compiler can vectorise.
    const LANES: usize = 16;
    let (mut na, mut nb, mut nd) = ([0.0f32; LANES], [0.0f32; LANES], [0.0f32; LANES]);
    let chunks = a
        .values
        .chunks_exact(LANES)
        .zip(b.values.chunks_exact(LANES))
        .zip(a.mask.chunks_exact(LANES).zip(b.mask.chunks_exact(LANES)));
    for ((va, vb), (ma, mb)) in chunks {
        for l in 0..LANES {
            let (x, y) = (va[l] * mb[l], vb[l] * ma[l]);
            na[l] += x * x;
            nb[l] += y * y;
            nd[l] += (x - y) * (x - y);
        }
    }
    let (na, nb, nd): (f32, f32, f32) = (na.iter().sum(), nb.iter().sum(), nd.iter().sum());
    let norms = na.sqrt() + nb.sqrt();
    if norms == 0.0 {
        return 0.0;
    }
    1.0 - nd.sqrt() / norms
}

/// Base cells within the cylinder's radius.
fn possible_cells() -> usize {
    (0..NS * NS).filter(|&c| in_disc(c)).count()
}

/// Whether base cell `c`'s centre lies within the cylinder's radius.
fn in_disc(c: usize) -> bool {
    let (u, v) = cell_offset(c);
    u * u + v * v <= RADIUS_PX * RADIUS_PX
}

/// Offset of base cell `c`'s centre from the cylinder's centre, in the
/// cylinder's frame.
fn cell_offset(c: usize) -> (f32, f32) {
    let (i, j) = (c / NS, c % NS);
    let half = (NS as f32 - 1.0) / 2.0;
    ((i as f32 - half) * DELTA_S, (j as f32 - half) * DELTA_S)
}

fn sigmoid(v: f32, mu: f32, tau: f32) -> f32 {
    1.0 / (1.0 + (-tau * (v - mu)).exp())
}

/// Error function (Abramowitz and Stegun 7.1.26, error under 1.5e-7).
fn erf(x: f32) -> f32 {
    let sign = x.signum();
    let x = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_7 + t * (1.421_413_7 + t * (-1.453_152 + t * 1.061_405_4))));
    sign * (1.0 - poly * (-x * x).exp())
}

/// Convex hull (counter-clockwise) of the points' positions.
fn convex_hull(points: &[(f32, f32, f32)]) -> Vec<(f32, f32)> {
    let mut p: Vec<(f32, f32)> = points.iter().map(|&(x, y, _)| (x, y)).collect();
    p.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    p.dedup();
    if p.len() < 3 {
        return p;
    }
    let cross = |o: (f32, f32), a: (f32, f32), b: (f32, f32)| {
        (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
    };
    // Andrew's monotone chain: the lower hull left to right, then the upper
    // one right to left, each without its last point (the other's first).
    let half = |points: &mut dyn Iterator<Item = &(f32, f32)>| {
        let mut chain: Vec<(f32, f32)> = Vec::new();
        for &q in points {
            while chain.len() >= 2
                && cross(chain[chain.len() - 2], chain[chain.len() - 1], q) <= 0.0
            {
                chain.pop();
            }
            chain.push(q);
        }
        chain.pop();
        chain
    };
    let mut hull = half(&mut p.iter());
    hull.extend(half(&mut p.iter().rev()));
    hull
}

/// Whether `(x, y)` is inside the convex polygon `hull` or within `margin`
/// of its boundary.
fn near_hull(hull: &[(f32, f32)], x: f32, y: f32, margin: f32) -> bool {
    let n = hull.len();
    if n == 0 {
        return false;
    }
    let mut inside = n >= 3;
    let mut nearest = f32::INFINITY;
    for i in 0..n {
        let a = hull[i];
        let b = hull[(i + 1) % n];
        let (ex, ey) = (b.0 - a.0, b.1 - a.1);
        let (px, py) = (x - a.0, y - a.1);
        if ex * py - ey * px < 0.0 {
            inside = false;
        }
        let len2 = ex * ex + ey * ey;
        let t = if len2 > 0.0 {
            ((px * ex + py * ey) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (qx, qy) = (px - t * ex, py - t * ey);
        nearest = nearest.min(qx * qx + qy * qy);
    }
    inside || nearest <= margin * margin
}

#[cfg(test)]
mod tests {
    use super::*;
    use hoviyat_datasets::minutiae_impressions::{Master, Perturbation};
    use hoviyat_models::Minutia;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// `t` turned by `angle` about the origin and shifted, inside a canvas
    /// large enough for it.
    fn turned(t: &FingerTemplate, angle: f32, shift: f32) -> FingerTemplate {
        let (s, c) = angle.sin_cos();
        FingerTemplate {
            width_px: 1200,
            height_px: 1200,
            minutiae: t
                .minutiae
                .iter()
                .map(|m| {
                    let x = c * m.x_px + s * m.y_px + shift;
                    let y = -s * m.x_px + c * m.y_px + shift;
                    Minutia::new(x, y, m.angle_rad + angle, m.kind, m.quality)
                })
                .collect(),
            ..t.clone()
        }
    }

    #[test]
    fn a_turned_copy_is_as_alike_as_the_print_itself_and_mates_beat_impostors() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let p = Perturbation::default();
        let masters: Vec<Master> = (0..10).map(|_| Master::generate(&mut rng)).collect();
        let first: Vec<FingerTemplate> =
            masters.iter().map(|m| m.impression(&p, &mut rng)).collect();
        let second: Vec<FingerTemplate> =
            masters.iter().map(|m| m.impression(&p, &mut rng)).collect();
        let cyl = |t: &FingerTemplate| Cylinders::new(t);
        let mut worst_mate = f32::INFINITY;
        let mut best_impostor = 0.0f32;
        for (k, a) in first.iter().enumerate() {
            let ca = cyl(a);
            assert!(
                ca.len() * 2 >= a.minutiae.len(),
                "{} of {}",
                ca.len(),
                a.minutiae.len()
            );
            let itself = ca.similarity(&ca);
            // Cylinders are in each minutia's own frame: a rigid motion of
            // the whole print (turned less than the direction gate allows)
            // changes them only by rounding.
            let copy = ca.similarity(&cyl(&turned(a, 1.2, 400.0)));
            assert!(
                (itself - copy).abs() < 0.02,
                "itself {itself}, turned copy {copy}"
            );
            worst_mate = worst_mate.min(ca.similarity(&cyl(&second[k])));
            for (j, b) in second.iter().enumerate() {
                if j != k {
                    best_impostor = best_impostor.max(ca.similarity(&cyl(b)));
                }
            }
        }
        assert!(
            worst_mate > best_impostor,
            "worst mate {worst_mate}, best impostor {best_impostor}"
        );
    }

    #[test]
    fn empty_and_tiny_templates_score_zero() {
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        let a = Master::generate(&mut rng).impression(&Perturbation::default(), &mut rng);
        let tiny = FingerTemplate {
            minutiae: a.minutiae[..2].to_vec(),
            ..a.clone()
        };
        let none = FingerTemplate {
            minutiae: Vec::new(),
            ..a.clone()
        };
        let ca = Cylinders::new(&a);
        for t in [&tiny, &none] {
            let c = Cylinders::new(t);
            assert!(c.is_empty());
            assert_eq!(ca.similarity(&c), 0.0);
            assert_eq!(c.similarity(&ca), 0.0);
        }
    }

    #[test]
    fn error_function_matches_known_values() {
        for (x, expected) in [
            (0.0f32, 0.0f32),
            (0.5, 0.520_499_9),
            (1.0, 0.842_700_8),
            (2.0, 0.995_322_3),
        ] {
            assert!((erf(x) - expected).abs() < 1e-6, "erf({x}) = {}", erf(x));
            assert!((erf(-x) + expected).abs() < 1e-6);
        }
    }
}
