//! Consolidation: from one root correspondence to a one-to-one pairing of
//! minutiae under a rigid alignment with distortion-tolerant thresholds.

use super::gallery::MAX_GALLERY_MINUTIAE;
use super::geometry::{Point, angle_diff, atan2_fast};

/// Grid cell side in pixels; also the largest pairing distance.
pub(crate) const CELL_PX: f32 = 24.0;
/// Pairing distance at the alignment's anchor, in pixels.
const DISTANCE_TOLERANCE_PX: f32 = 12.0;
/// Extra pairing distance per pixel away from the anchor (skin distortion
/// accumulates with distance).
const DISTANCE_TOLERANCE_SLOPE: f32 = 0.07;
/// Largest direction difference of a pair, in radians (30 degrees).
const DIRECTION_TOLERANCE_RAD: f32 = 0.52;
/// Margin around a print's minutiae that still counts as its area, pixels.
const AREA_MARGIN_PX: f32 = 10.0;

/// The probe's minutiae filed in a grid of [`CELL_PX`] cells.
#[derive(Debug, Clone)]
pub(crate) struct Grid {
    origin_x: f32,
    origin_y: f32,
    columns: usize,
    rows: usize,
    offsets: Vec<u16>,
    members: Vec<u8>,
}

impl Grid {
    pub fn new(points: &[Point]) -> Self {
        let (min_x, min_y, max_x, max_y) = bounds(points);
        let columns = (((max_x - min_x) / CELL_PX) as usize + 1).max(1);
        let rows = (((max_y - min_y) / CELL_PX) as usize + 1).max(1);
        let mut cells: Vec<Vec<u8>> = vec![Vec::new(); columns * rows];
        for (i, p) in points.iter().enumerate() {
            let c = (((p.x - min_x) / CELL_PX) as usize).min(columns - 1);
            let r = (((p.y - min_y) / CELL_PX) as usize).min(rows - 1);
            cells[r * columns + c].push(i as u8);
        }
        let mut offsets = Vec::with_capacity(cells.len() + 1);
        let mut members = Vec::with_capacity(points.len());
        offsets.push(0);
        for cell in cells {
            members.extend_from_slice(&cell);
            offsets.push(members.len() as u16);
        }
        Self {
            origin_x: min_x,
            origin_y: min_y,
            columns,
            rows,
            offsets,
            members,
        }
    }

    /// Calls `f` with every probe index in the 3 x 3 cells around `(x, y)`.
    #[inline]
    fn around(&self, x: f32, y: f32, mut f: impl FnMut(usize)) {
        let cx = ((x - self.origin_x) / CELL_PX).floor();
        let cy = ((y - self.origin_y) / CELL_PX).floor();
        if cx < -1.0 || cy < -1.0 || cx > self.columns as f32 || cy > self.rows as f32 {
            return;
        }
        let (cx, cy) = (cx as isize, cy as isize);
        for r in (cy - 1).max(0)..=(cy + 1).min(self.rows as isize - 1) {
            let row = r as usize * self.columns;
            for c in (cx - 1).max(0)..=(cx + 1).min(self.columns as isize - 1) {
                let cell = row + c as usize;
                let start = usize::from(self.offsets[cell]);
                let end = usize::from(self.offsets[cell + 1]);
                for &m in &self.members[start..end] {
                    f(usize::from(m));
                }
            }
        }
    }
}

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

/// A rigid motion taking gallery coordinates into the probe's frame.
#[derive(Debug, Clone, Copy)]
pub struct Alignment {
    pub rotation_rad: f32,
    cos: f32,
    sin: f32,
    /// Gallery point that maps onto `probe_anchor`.
    gallery_anchor: (f32, f32),
    /// Probe point where pairing tolerances are tightest.
    probe_anchor: (f32, f32),
}

impl Alignment {
    pub(crate) fn new(
        rotation_rad: f32,
        gallery_anchor: (f32, f32),
        probe_anchor: (f32, f32),
    ) -> Self {
        let (sin, cos) = rotation_rad.sin_cos();
        Self {
            rotation_rad,
            cos,
            sin,
            gallery_anchor,
            probe_anchor,
        }
    }

    /// The alignment that maps gallery edge `(ga, gb)` onto probe edge
    /// `(pi, pj)`, midpoint onto midpoint.
    pub(crate) fn from_edges(pi: &Point, pj: &Point, ga: &Point, gb: &Point) -> Self {
        let phi_p = atan2_fast(pj.y - pi.y, pj.x - pi.x);
        let phi_g = atan2_fast(gb.y - ga.y, gb.x - ga.x);
        Self::new(
            angle_diff(phi_p, phi_g),
            ((ga.x + gb.x) * 0.5, (ga.y + gb.y) * 0.5),
            ((pi.x + pj.x) * 0.5, (pi.y + pj.y) * 0.5),
        )
    }

    #[inline]
    fn apply(&self, x: f32, y: f32) -> (f32, f32) {
        let (dx, dy) = (x - self.gallery_anchor.0, y - self.gallery_anchor.1);
        (
            self.cos * dx - self.sin * dy + self.probe_anchor.0,
            self.sin * dx + self.cos * dy + self.probe_anchor.1,
        )
    }

    #[inline]
    fn invert(&self, x: f32, y: f32) -> (f32, f32) {
        let (dx, dy) = (x - self.probe_anchor.0, y - self.probe_anchor.1);
        (
            self.cos * dx + self.sin * dy + self.gallery_anchor.0,
            -self.sin * dx + self.cos * dy + self.gallery_anchor.1,
        )
    }
}

/// What one alignment achieved.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pairing {
    /// Minutiae paired one-to-one.
    pub paired: u32,
    /// Sum over pairs of a closeness weight in `(0, 1]`.
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

/// The two prints as the pairing sees them.
pub(crate) struct Prints<'a> {
    pub probe: &'a [Point],
    pub probe_grid: &'a Grid,
    pub probe_bounds: (f32, f32, f32, f32),
    pub gallery: &'a [Point],
    pub gallery_bounds: (f32, f32, f32, f32),
}

/// Pairs gallery minutiae with probe minutiae under `alignment`: each
/// gallery minutia (in order) takes the closest free probe minutia within
/// the distance and direction tolerances.
pub(crate) fn pair(prints: &Prints<'_>, alignment: &Alignment, pairs: &mut PairList) -> Pairing {
    let mut taken: u64 = 0;
    let mut result = Pairing::default();
    pairs.len = 0;
    let (px0, py0, px1, py1) = prints.probe_bounds;
    for (k, g) in prints.gallery.iter().enumerate() {
        let (x, y) = alignment.apply(g.x, g.y);
        let inside = x >= px0 - AREA_MARGIN_PX
            && x <= px1 + AREA_MARGIN_PX
            && y >= py0 - AREA_MARGIN_PX
            && y <= py1 + AREA_MARGIN_PX;
        result.gallery_in_overlap += u32::from(inside);
        let angle = g.angle_rad + alignment.rotation_rad;
        let r = (x - alignment.probe_anchor.0).hypot(y - alignment.probe_anchor.1);
        let tolerance = (DISTANCE_TOLERANCE_PX + DISTANCE_TOLERANCE_SLOPE * r).min(CELL_PX);
        let tolerance2 = tolerance * tolerance;
        let mut best = usize::MAX;
        let mut best_cost = f32::MAX;
        prints.probe_grid.around(x, y, |m| {
            if taken & (1u64 << m) != 0 {
                return;
            }
            let p = &prints.probe[m];
            let d2 = (p.x - x).powi(2) + (p.y - y).powi(2);
            if d2 > tolerance2 {
                return;
            }
            let da = angle_diff(p.angle_rad, angle).abs();
            if da > DIRECTION_TOLERANCE_RAD {
                return;
            }
            let cost = d2 / tolerance2 + da / DIRECTION_TOLERANCE_RAD;
            if cost < best_cost {
                best_cost = cost;
                best = m;
            }
        });
        if best != usize::MAX {
            taken |= 1u64 << best;
            result.paired += 1;
            result.closeness += 1.0 - 0.5 * best_cost;
            pairs.gallery[pairs.len] = k as u8;
            pairs.probe[pairs.len] = best as u8;
            pairs.len += 1;
        }
    }
    let (gx0, gy0, gx1, gy1) = prints.gallery_bounds;
    for p in prints.probe {
        let (x, y) = alignment.invert(p.x, p.y);
        let inside = x >= gx0 - AREA_MARGIN_PX
            && x <= gx1 + AREA_MARGIN_PX
            && y >= gy0 - AREA_MARGIN_PX
            && y <= gy1 + AREA_MARGIN_PX;
        result.probe_in_overlap += u32::from(inside);
    }
    result
}

/// The least-squares rigid alignment of the paired minutiae, anchored at
/// their centroids; `None` with fewer than three pairs.
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
    let (mut dot, mut cross) = (0.0f32, 0.0f32);
    for t in 0..pairs.len {
        let g = &prints.gallery[usize::from(pairs.gallery[t])];
        let p = &prints.probe[usize::from(pairs.probe[t])];
        let (ax, ay) = (g.x - gx, g.y - gy);
        let (bx, by) = (p.x - px, p.y - py);
        dot += ax * bx + ay * by;
        cross += ax * by - ay * bx;
    }
    if dot == 0.0 && cross == 0.0 {
        return None;
    }
    let rotation = atan2_fast(cross, dot);
    Some(Alignment::new(rotation, (gx, gy), (px, py)))
}
