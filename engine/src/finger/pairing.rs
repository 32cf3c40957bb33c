//! Consolidation: from one root correspondence to a one-to-one pairing of
//! minutiae under a similarity alignment (rotation, translation and a scale
//! close to 1) with distortion-tolerant thresholds, then a local pass that
//! follows the print's own distortion ([`pair_local`]).

use super::gallery::MAX_GALLERY_MINUTIAE;
use super::geometry::{Point, angle_diff, atan2_fast};
use super::kernels::{CandidatePoints, Placement, Rigid, Tolerance, count_in_box, near_candidates};

/// Largest pairing distance, in pixels.
const MAX_DISTANCE_TOLERANCE_PX: f32 = 24.0;
/// Pairing distance at the alignment's anchor, in pixels.
const DISTANCE_TOLERANCE_PX: f32 = 12.0;
/// Extra pairing distance per pixel away from the anchor (skin distortion
/// accumulates with distance).
const DISTANCE_TOLERANCE_SLOPE: f32 = 0.07;
/// Largest direction difference of a pair, in radians (30 degrees).
const DIRECTION_TOLERANCE_RAD: f32 = 0.52;
/// Largest scale between two impressions an alignment accepts (and its
/// inverse the smallest): resolution mismatches and pressure stay within it.
const MAX_SCALE: f32 = 1.15;
/// Shortest root edge whose length ratio is taken as the scale: the ratio of
/// shorter edges is mostly position noise.
const MIN_SCALE_EDGE_PX: f32 = 30.0;
/// Width of the neighbourhood whose residual displacement predicts a
/// minutia's own in the local pass, pixels.
const LOCAL_SIGMA_PX: f32 = 40.0;
/// Weight of "no displacement" in the local prediction (a minutia with few
/// paired neighbours keeps the global alignment).
const LOCAL_PRIOR: f32 = 0.3;
/// Pairing distance of the local pass, pixels.
const LOCAL_TOLERANCE_PX: f32 = 14.0;
/// Margin around a print's minutiae that still counts as its area, pixels.
const AREA_MARGIN_PX: f32 = 10.0;
/// Most candidate minutia pairs considered per comparison.
pub(crate) const MAX_CANDIDATES: usize = 1024;

/// A gallery minutia without a probe minutia within tolerance.
const NO_PAIR: u8 = u8::MAX;

/// Bounding box `(min_x, min_y, max_x, max_y)` of `points` (zeros if empty).
pub(crate) fn bounds(points: &[Point]) -> (f32, f32, f32, f32) {
    if points.is_empty() {
        return (0.0, 0.0, 0.0, 0.0);
    }
    points.iter().fold(
        (f32::MAX, f32::MAX, f32::MIN, f32::MIN),
        |(a, b, c, d), p| (a.min(p.x), b.min(p.y), c.max(p.x), d.max(p.y)),
    )
}

/// A similarity (rotation, scale near 1, translation) taking gallery
/// coordinates into the probe's frame.
#[derive(Debug, Clone, Copy)]
pub struct Alignment {
    pub rotation_rad: f32,
    /// Probe length per gallery length, within `[1 / MAX_SCALE, MAX_SCALE]`.
    pub scale: f32,
    /// `scale * cos(rotation)`.
    cos: f32,
    /// `scale * sin(rotation)`.
    sin: f32,
    /// Gallery point that maps onto `probe_anchor`.
    gallery_anchor: (f32, f32),
    /// Probe point where pairing tolerances are tightest.
    probe_anchor: (f32, f32),
}

impl Alignment {
    pub(crate) fn new(
        rotation_rad: f32,
        scale: f32,
        gallery_anchor: (f32, f32),
        probe_anchor: (f32, f32),
    ) -> Self {
        let (sin, cos) = rotation_rad.sin_cos();
        Self::with_cos_sin(rotation_rad, cos, sin, scale, gallery_anchor, probe_anchor)
    }

    /// [`Alignment::new`] with the rotation's cosine and sine given.
    fn with_cos_sin(
        rotation_rad: f32,
        cos: f32,
        sin: f32,
        scale: f32,
        gallery_anchor: (f32, f32),
        probe_anchor: (f32, f32),
    ) -> Self {
        let scale = scale.clamp(1.0 / MAX_SCALE, MAX_SCALE);
        Self {
            rotation_rad,
            scale,
            cos: cos * scale,
            sin: sin * scale,
            gallery_anchor,
            probe_anchor,
        }
    }

    /// The alignment that maps gallery edge `(ga, gb)` onto probe edge
    /// `(pi, pj)`, midpoint onto midpoint, with the edges' length ratio as
    /// the scale when both are long enough to measure it.
    pub(crate) fn from_edges(pi: &Point, pj: &Point, ga: &Point, gb: &Point) -> Self {
        let (px, py) = (pj.x - pi.x, pj.y - pi.y);
        let (gx, gy) = (gb.x - ga.x, gb.y - ga.y);
        let length_p = px.hypot(py);
        let length_g = gx.hypot(gy);
        let scale = if length_p.min(length_g) >= MIN_SCALE_EDGE_PX {
            length_p / length_g
        } else {
            1.0
        };
        // The rotation's cosine and sine come from the two edge vectors
        // directly (every root pays for this, and a sine and cosine call
        // cost more than the rest of it).
        let (dot, cross) = (gx * px + gy * py, gx * py - gy * px);
        let norm = length_p * length_g;
        let (cos, sin) = if norm > 0.0 {
            (dot / norm, cross / norm)
        } else {
            (1.0, 0.0)
        };
        Self::with_cos_sin(
            atan2_fast(cross, dot),
            cos,
            sin,
            scale,
            ((ga.x + gb.x) * 0.5, (ga.y + gb.y) * 0.5),
            ((pi.x + pj.x) * 0.5, (pi.y + pj.y) * 0.5),
        )
    }

    /// Gallery point `(x, y)` in the probe's frame.
    #[inline]
    pub(crate) fn apply(&self, x: f32, y: f32) -> (f32, f32) {
        let (dx, dy) = (x - self.gallery_anchor.0, y - self.gallery_anchor.1);
        (
            self.cos * dx - self.sin * dy + self.probe_anchor.0,
            self.sin * dx + self.cos * dy + self.probe_anchor.1,
        )
    }

    /// The alignment as [`near_candidates`] applies it (the same
    /// operations as [`Alignment::apply`]).
    fn placement(&self) -> Placement {
        Placement {
            cos: self.cos,
            sin: self.sin,
            gallery_anchor: self.gallery_anchor,
            probe_anchor: self.probe_anchor,
        }
    }

    /// Gallery to probe coordinates as `x' = c x - s y + tx`, `y' = s x + c y + ty`.
    fn forward(&self) -> Rigid {
        let (gx, gy) = self.gallery_anchor;
        Rigid {
            cos: self.cos,
            sin: self.sin,
            tx: self.probe_anchor.0 - (self.cos * gx - self.sin * gy),
            ty: self.probe_anchor.1 - (self.sin * gx + self.cos * gy),
        }
    }

    /// Probe to gallery coordinates (the inverse similarity).
    fn backward(&self) -> Rigid {
        let (px, py) = self.probe_anchor;
        let k = 1.0 / (self.scale * self.scale);
        let (cos, sin) = (self.cos * k, self.sin * k);
        Rigid {
            cos,
            sin: -sin,
            tx: self.gallery_anchor.0 - (cos * px + sin * py),
            ty: self.gallery_anchor.1 - (-sin * px + cos * py),
        }
    }
}

/// What one alignment achieved.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pairing {
    /// Minutiae paired one-to-one (each pair also shares an agreeing
    /// neighbour edge: chance pairs of unrelated prints rarely do).
    pub paired: u32,
    /// Sum over pairs of a closeness weight in `(0.5, 1]`.
    pub closeness: f32,
    /// Probe minutiae inside the gallery print's area.
    pub probe_in_overlap: u32,
    /// Gallery minutiae inside the probe print's area.
    pub gallery_in_overlap: u32,
}

/// Scratch for one pairing: which gallery minutia took which probe minutia.
#[derive(Debug, Clone)]
pub(crate) struct PairList {
    pub len: usize,
    pub gallery: [u8; MAX_GALLERY_MINUTIAE],
    pub probe: [u8; MAX_GALLERY_MINUTIAE],
}

impl PairList {
    pub fn new() -> Self {
        Self {
            len: 0,
            gallery: [0; MAX_GALLERY_MINUTIAE],
            probe: [0; MAX_GALLERY_MINUTIAE],
        }
    }
}

/// The two prints as the pairing sees them, and the candidate minutia
/// pairs `(probe, gallery)` that share at least one agreeing edge.
#[derive(Clone, Copy)]
pub(crate) struct Prints<'a> {
    pub probe: &'a [Point],
    pub probe_xs: &'a [f32],
    pub probe_ys: &'a [f32],
    pub probe_bounds: (f32, f32, f32, f32),
    pub gallery: &'a [Point],
    pub gallery_xs: &'a [f32],
    pub gallery_ys: &'a [f32],
    pub gallery_bounds: (f32, f32, f32, f32),
    pub candidates: &'a [(u8, u8)],
    /// The minutiae of each candidate pair, in the same order.
    pub candidate_points: CandidatePoints<'a>,
}

/// The distance tolerance of [`pair`].
const TOLERANCE: Tolerance = Tolerance {
    base: DISTANCE_TOLERANCE_PX,
    slope: DISTANCE_TOLERANCE_SLOPE,
    max: MAX_DISTANCE_TOLERANCE_PX,
};

/// Pairs candidate minutiae under `alignment`: a candidate pair qualifies
/// within the distance and direction tolerances, and is kept when it is the
/// closest qualifying pair of both its gallery and its probe minutia.
pub(crate) fn pair(prints: &Prints<'_>, alignment: &Alignment, pairs: &mut PairList) -> Pairing {
    // Move every gallery minutia once; candidates then only look up.
    let n = prints.gallery.len();
    let mut moved = [(0.0f32, 0.0f32, 0.0f32, 0.0f32); MAX_GALLERY_MINUTIAE];
    for (slot, g) in moved[..n].iter_mut().zip(prints.gallery) {
        let (x, y) = alignment.apply(g.x, g.y);
        let (ax, ay) = (x - alignment.probe_anchor.0, y - alignment.probe_anchor.1);
        let r = (ax * ax + ay * ay).sqrt();
        let tolerance = TOLERANCE.at(r);
        *slot = (
            x,
            y,
            g.angle_rad + alignment.rotation_rad,
            tolerance * tolerance,
        );
    }
    // Under a wrong alignment most candidates lie beyond the distance
    // tolerance, unpredictably which: a vector pass marks those within it
    // (the same arithmetic as `moved`), and only they are tested further.
    let mut near = [0u64; MAX_CANDIDATES.div_ceil(64)];
    near_candidates(
        &prints.candidate_points,
        &alignment.placement(),
        &TOLERANCE,
        &mut near,
    );
    let mut best_for_gallery = [(f32::MAX, NO_PAIR); MAX_GALLERY_MINUTIAE];
    let mut best_for_probe = [f32::MAX; MAX_GALLERY_MINUTIAE];
    for (w, &word) in near.iter().enumerate() {
        let mut bits = word;
        while bits != 0 {
            let c = w * 64 + bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let (m, k) = prints.candidates[c];
            let (m, k) = (usize::from(m), usize::from(k));
            let (x, y, angle, tolerance2) = moved[k];
            if let Some(cost) = pair_cost(&prints.probe[m], x, y, angle, tolerance2) {
                keep_if_better(&mut best_for_gallery, &mut best_for_probe, cost, m, k);
            }
        }
    }
    let mut result = Pairing::default();
    keep_mutual_best(
        &best_for_gallery[..prints.gallery.len()],
        &mut best_for_probe,
        pairs,
        &mut result,
    );
    (result.probe_in_overlap, result.gallery_in_overlap) = overlap(prints, alignment);
    result
}

/// Minutiae of each print inside the other's area under `alignment`:
/// `(probe, gallery)`.
fn overlap(prints: &Prints<'_>, alignment: &Alignment) -> (u32, u32) {
    let (px0, py0, px1, py1) = prints.probe_bounds;
    let gallery_in_overlap = count_in_box(
        prints.gallery_xs,
        prints.gallery_ys,
        &alignment.forward(),
        (
            px0 - AREA_MARGIN_PX,
            py0 - AREA_MARGIN_PX,
            px1 + AREA_MARGIN_PX,
            py1 + AREA_MARGIN_PX,
        ),
    );
    let (gx0, gy0, gx1, gy1) = prints.gallery_bounds;
    let probe_in_overlap = count_in_box(
        prints.probe_xs,
        prints.probe_ys,
        &alignment.backward(),
        (
            gx0 - AREA_MARGIN_PX,
            gy0 - AREA_MARGIN_PX,
            gx1 + AREA_MARGIN_PX,
            gy1 + AREA_MARGIN_PX,
        ),
    );
    (probe_in_overlap, gallery_in_overlap)
}

/// Pairs again under `alignment` corrected locally, given `first`, the
/// pairing `pair` made under the same alignment (whose overlap counts are
/// kept). Each gallery minutia is moved by the residual displacement of the
/// pairs of `first` around it (its own pair left out; weights fall off over
/// [`LOCAL_SIGMA_PX`]) and paired within [`LOCAL_TOLERANCE_PX`]. Skin
/// distortion moves neighbouring minutiae alike, so true pairs stay close
/// after the correction wherever they lie, while chance pairs of unrelated
/// prints have unrelated residuals and fall out: one tolerance fits the
/// whole print instead of one that widens with the distance from the root.
pub(crate) fn pair_local(
    prints: &Prints<'_>,
    alignment: &Alignment,
    first: &PairList,
    first_pairing: &Pairing,
    pairs: &mut PairList,
) -> Pairing {
    let n = prints.gallery.len();
    let mut moved = [(0.0f32, 0.0f32); MAX_GALLERY_MINUTIAE];
    for (slot, g) in moved[..n].iter_mut().zip(prints.gallery) {
        *slot = alignment.apply(g.x, g.y);
    }
    // Residuals of the first pairing: probe minus moved gallery minutia.
    let mut residual = [(0.0f32, 0.0f32, 0u8); MAX_GALLERY_MINUTIAE];
    let firsts = first.gallery[..first.len]
        .iter()
        .zip(&first.probe[..first.len]);
    for (slot, (&k, &m)) in residual.iter_mut().zip(firsts) {
        let p = &prints.probe[usize::from(m)];
        let (x, y) = moved[usize::from(k)];
        *slot = (p.x - x, p.y - y, k);
    }
    let mut corrected = [(0.0f32, 0.0f32); MAX_GALLERY_MINUTIAE];
    let inv = 1.0 / (4.0 * LOCAL_SIGMA_PX * LOCAL_SIGMA_PX);
    for (k, slot) in corrected[..n].iter_mut().enumerate() {
        let (x, y) = moved[k];
        let (mut sx, mut sy, mut sw) = (0.0f32, 0.0f32, LOCAL_PRIOR);
        for &(rx, ry, j) in &residual[..first.len] {
            let (jx, jy) = moved[usize::from(j)];
            let d2 = (jx - x) * (jx - x) + (jy - y) * (jy - y);
            // A smooth bump, zero from 2 sigma out and for the minutia's
            // own pair (cheaper than a Gaussian, same shape near 0).
            let u = (1.0 - d2 * inv).max(0.0);
            let w = if usize::from(j) == k { 0.0 } else { u * u };
            sx += w * rx;
            sy += w * ry;
            sw += w;
        }
        *slot = (x + sx / sw, y + sy / sw);
    }
    let tolerance2 = LOCAL_TOLERANCE_PX * LOCAL_TOLERANCE_PX;
    let mut best_for_gallery = [(f32::MAX, NO_PAIR); MAX_GALLERY_MINUTIAE];
    let mut best_for_probe = [f32::MAX; MAX_GALLERY_MINUTIAE];
    for &(m, k) in prints.candidates {
        let (m, k) = (usize::from(m), usize::from(k));
        let (x, y) = corrected[k];
        let angle = prints.gallery[k].angle_rad + alignment.rotation_rad;
        if let Some(cost) = pair_cost(&prints.probe[m], x, y, angle, tolerance2) {
            keep_if_better(&mut best_for_gallery, &mut best_for_probe, cost, m, k);
        }
    }
    let mut result = Pairing {
        probe_in_overlap: first_pairing.probe_in_overlap,
        gallery_in_overlap: first_pairing.gallery_in_overlap,
        ..Pairing::default()
    };
    keep_mutual_best(
        &best_for_gallery[..n],
        &mut best_for_probe,
        pairs,
        &mut result,
    );
    result
}
/// The least-squares similarity alignment of the paired minutiae, anchored
/// at their centroids (scale clamped near 1); `None` with fewer than three
/// pairs.
pub(crate) fn refit(prints: &Prints<'_>, pairs: &PairList) -> Option<Alignment> {
    if pairs.len < 3 {
        return None;
    }
    let n = pairs.len as f32;
    let (mut gx, mut gy, mut px, mut py) = (0.0, 0.0, 0.0, 0.0);
    for t in 0..pairs.len {
        let g = &prints.gallery[usize::from(pairs.gallery[t])];
        let p = &prints.probe[usize::from(pairs.probe[t])];
        gx += g.x;
        gy += g.y;
        px += p.x;
        py += p.y;
    }
    let (gx, gy, px, py) = (gx / n, gy / n, px / n, py / n);
    let (mut dot, mut cross, mut norm) = (0.0f32, 0.0f32, 0.0f32);
    for t in 0..pairs.len {
        let g = &prints.gallery[usize::from(pairs.gallery[t])];
        let p = &prints.probe[usize::from(pairs.probe[t])];
        let (ax, ay) = (g.x - gx, g.y - gy);
        let (bx, by) = (p.x - px, p.y - py);
        dot += ax * bx + ay * by;
        cross += ax * by - ay * bx;
        norm += ax * ax + ay * ay;
    }
    if (dot == 0.0 && cross == 0.0) || norm == 0.0 {
        return None;
    }
    let rotation = atan2_fast(cross, dot);
    let scale = dot.hypot(cross) / norm;
    Some(Alignment::new(rotation, scale, (gx, gy), (px, py)))
}

/// Records a candidate pair's cost as the best so far for gallery minutia
/// `k` (with its partner `m`) and for probe minutia `m`, where it is.
#[inline(always)]
fn keep_if_better(
    best_for_gallery: &mut [(f32, u8); MAX_GALLERY_MINUTIAE],
    best_for_probe: &mut [f32; MAX_GALLERY_MINUTIAE],
    cost: f32,
    m: usize,
    k: usize,
) {
    if cost < best_for_gallery[k].0 {
        best_for_gallery[k] = (cost, m as u8);
    }
    if cost < best_for_probe[m] {
        best_for_probe[m] = cost;
    }
}

/// How far a gallery minutia moved to `(x, y)` with direction `angle` is
/// from probe minutia `p`, as a share of the tolerances (0 = on it); `None`
/// beyond the squared distance `tolerance2` or the direction tolerance.
#[inline]
fn pair_cost(p: &Point, x: f32, y: f32, angle: f32, tolerance2: f32) -> Option<f32> {
    let d2 = (p.x - x) * (p.x - x) + (p.y - y) * (p.y - y);
    if d2 > tolerance2 {
        return None;
    }
    let da = angle_diff(p.angle_rad, angle).abs();
    if da > DIRECTION_TOLERANCE_RAD {
        return None;
    }
    Some(d2 / tolerance2 + da / DIRECTION_TOLERANCE_RAD)
}

/// Keeps each gallery minutia's best probe minutia where it is also that
/// probe minutia's best (equal costs: the first gallery minutia wins),
/// filling `pairs` and counting into `result`. `best_for_gallery` holds
/// `(cost, probe index)`, [`NO_PAIR`] for none.
fn keep_mutual_best(
    best_for_gallery: &[(f32, u8)],
    best_for_probe: &mut [f32],
    pairs: &mut PairList,
    result: &mut Pairing,
) {
    pairs.len = 0;
    for (k, &(cost, m)) in best_for_gallery.iter().enumerate() {
        if m == NO_PAIR || best_for_probe[usize::from(m)] < cost {
            continue;
        }
        best_for_probe[usize::from(m)] = f32::MIN;
        result.paired += 1;
        result.closeness += 1.0 - 0.5 * cost;
        pairs.gallery[pairs.len] = k as u8;
        pairs.probe[pairs.len] = m;
        pairs.len += 1;
    }
}
