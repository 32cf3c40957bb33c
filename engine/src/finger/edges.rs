//! Rotation- and translation-invariant edge features and the probe's
//! quantised edge lookup table.
//!
//! An edge is an ordered minutia pair `(i, j)`. Its features are its length
//! and the directions of `i` and `j` measured from the edge's own direction,
//! so they do not change when the print is rotated or moved. The probe files
//! every edge in each bucket that its tolerance window overlaps (buckets are
//! about one tolerance wide, so two or three per feature), so a gallery edge
//! finds every agreeing probe edge by reading the single bucket of its own
//! features, and reads few others.

use std::f32::consts::TAU;

use super::geometry::{MAX_EDGE_PX, MIN_EDGE_PX, Point, atan2_fast};

/// Width of a length bucket, in pixels.
pub(crate) const LENGTH_STEP_PX: f32 = 4.0;
/// Relative-direction quantisation: 256 steps per turn.
pub(crate) const ANGLE_STEPS: f32 = 256.0;
/// Direction buckets per turn (8 steps = 11.25 degrees each).
const DIRECTION_BUCKETS: usize = 32;
const DIRECTION_SHIFT: u32 = 3;
/// Length buckets: up to the longest gallery edge, plus one.
const LENGTH_BUCKETS: usize = (MAX_EDGE_PX / LENGTH_STEP_PX) as usize + 2;
pub(crate) const BUCKETS: usize = LENGTH_BUCKETS * DIRECTION_BUCKETS * DIRECTION_BUCKETS;
/// Length quantisation of stored edges: 1/16 pixel.
pub(crate) const LENGTH_UNITS_PER_PX: f32 = 16.0;

/// Largest difference of a relative direction accepted, in 1/256 turn
/// (14 steps = 19.7 degrees).
pub(crate) const DIRECTION_TOLERANCE: u8 = 9;

/// The features of one edge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct EdgeFeatures {
    /// Length in 1/16 px.
    pub length_q: u16,
    /// Direction of the first minutia relative to the edge, 1/256 turn.
    pub beta_i: u8,
    /// Direction of the second minutia relative to the edge, 1/256 turn.
    pub beta_j: u8,
}

impl EdgeFeatures {
    /// Features of the edge from `a` to `b`, or `None` if it is shorter than
    /// [`MIN_EDGE_PX`] or longer than `max_px`.
    #[inline]
    pub fn of(a: &Point, b: &Point, max_px: f32) -> Option<Self> {
        let (features, in_range) = Self::measure(a, b, max_px);
        in_range.then_some(features)
    }

    /// Features of the edge from `a` to `b` whatever its length, and whether
    /// the length lies within [`MIN_EDGE_PX`] and `max_px` (the features of
    /// an edge out of range mean nothing). Branch-free, for loops whose
    /// iterations should overlap in the pipeline.
    #[inline]
    pub fn measure(a: &Point, b: &Point, max_px: f32) -> (Self, bool) {
        let dx = b.x - a.x;
        let dy = b.y - a.y;
        let d2 = dx * dx + dy * dy;
        let in_range = (d2 >= MIN_EDGE_PX * MIN_EDGE_PX) & (d2 <= max_px * max_px);
        let phi = atan2_fast(dy, dx);
        let features = Self {
            length_q: (d2.sqrt() * LENGTH_UNITS_PER_PX) as u16,
            beta_i: quantise_angle(a.angle_rad - phi),
            beta_j: quantise_angle(b.angle_rad - phi),
        };
        (features, in_range)
    }

    /// The bucket this edge is looked up in.
    #[inline]
    pub fn bucket(&self) -> usize {
        let l = (f32::from(self.length_q) / (LENGTH_STEP_PX * LENGTH_UNITS_PER_PX)) as usize;
        let l = l.min(LENGTH_BUCKETS - 1);
        let bi = usize::from(self.beta_i >> DIRECTION_SHIFT);
        let bj = usize::from(self.beta_j >> DIRECTION_SHIFT);
        (l * DIRECTION_BUCKETS + bi) * DIRECTION_BUCKETS + bj
    }

    /// Whether two edges agree within tolerance: lengths within 3 px plus
    /// [`LENGTH_TOLERANCE_DIVISOR`]'s share (skin stretches, resolutions and
    /// pressure differ), relative directions within [`DIRECTION_TOLERANCE`].
    #[inline]
    pub fn agrees(&self, other: &EdgeFeatures) -> bool {
        let (a, b) = (i32::from(self.length_q), i32::from(other.length_q));
        // `&`, not `&&`: about half the probe edges of a bucket agree, so
        // a branch per test would be mispredicted as often as not.
        ((a - b).abs() <= length_tolerance(a.min(b)))
            & direction_close(self.beta_i, other.beta_i)
            & direction_close(self.beta_j, other.beta_j)
    }
}

/// An edge's length tolerance is 3 px plus its length divided by this
/// (1/12: 8 %). Relative, because a scale change (another resolution, a
/// firmer press, stretched skin) changes long edges more than short ones; a
/// 4 % tolerance lost distorted and rescaled mates on FVC2002 DB3.
pub(crate) const LENGTH_TOLERANCE_DIVISOR: i32 = 12;

/// Length tolerance of an edge `length_q` long, in 1/16 px.
#[inline]
fn length_tolerance(length_q: i32) -> i32 {
    (3.0 * LENGTH_UNITS_PER_PX) as i32 + length_q / LENGTH_TOLERANCE_DIVISOR
}

#[inline]
fn direction_close(a: u8, b: u8) -> bool {
    (a.wrapping_sub(b) as i8).unsigned_abs() <= DIRECTION_TOLERANCE
}

/// `angle_rad` (any finite value within a few turns) in 1/256 turn.
#[inline]
pub(crate) fn quantise_angle(angle_rad: f32) -> u8 {
    // A whole number of turns added keeps the value positive, so the
    // truncating cast rounds half up without a libm call.
    let steps = angle_rad * (ANGLE_STEPS / TAU) + (8.0 * ANGLE_STEPS + 0.5);
    (steps.max(0.0) as i32 & 0xff) as u8
}

/// One probe edge as filed in the table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EdgeEntry {
    pub features: EdgeFeatures,
    pub i: u8,
    pub j: u8,
}

/// The probe's edges, bucketed by quantised features (compressed rows).
#[derive(Debug, Clone)]
pub(crate) struct EdgeTable {
    offsets: Vec<u32>,
    entries: Vec<EdgeEntry>,
}

impl EdgeTable {
    /// Files every ordered pair of `points` whose length lies within
    /// [`MIN_EDGE_PX`] and [`MAX_EDGE_PX`] plus half a length step.
    pub fn new(points: &[Point]) -> Self {
        // Longest gallery edge plus its length tolerance.
        let longest_q = (MAX_EDGE_PX * LENGTH_UNITS_PER_PX) as i32;
        let max_px = (longest_q + length_tolerance(longest_q)) as f32 / LENGTH_UNITS_PER_PX + 1.0;
        let mut edges: Vec<EdgeEntry> = Vec::new();
        for (i, a) in points.iter().enumerate() {
            for (j, b) in points.iter().enumerate() {
                if i == j {
                    continue;
                }
                if let Some(features) = EdgeFeatures::of(a, b, max_px) {
                    edges.push(EdgeEntry {
                        features,
                        i: i as u8,
                        j: j as u8,
                    });
                }
            }
        }
        // Counting sort by bucket; within a bucket edges keep (i, j) order.
        let mut offsets = vec![0u32; BUCKETS + 1];
        for e in &edges {
            for bucket in neighbouring_buckets(&e.features) {
                offsets[bucket + 1] += 1;
            }
        }
        for b in 0..BUCKETS {
            offsets[b + 1] += offsets[b];
        }
        let mut next = offsets.clone();
        let placeholder = EdgeEntry {
            features: EdgeFeatures {
                length_q: 0,
                beta_i: 0,
                beta_j: 0,
            },
            i: 0,
            j: 0,
        };
        let mut entries = vec![placeholder; offsets[BUCKETS] as usize];
        for e in &edges {
            for bucket in neighbouring_buckets(&e.features) {
                entries[next[bucket] as usize] = *e;
                next[bucket] += 1;
            }
        }
        Self { offsets, entries }
    }

    /// Where the entries of `bucket` start and end, for
    /// [`EdgeTable::entries`]; an empty range for a bucket out of range.
    #[inline]
    pub fn range(&self, bucket: usize) -> (u32, u32) {
        match (self.offsets.get(bucket), self.offsets.get(bucket + 1)) {
            (Some(&start), Some(&end)) => (start, end),
            _ => (0, 0),
        }
    }

    /// The entries from `start` to `end`, as [`EdgeTable::range`] gives
    /// them.
    #[inline]
    pub fn entries(&self, (start, end): (u32, u32)) -> &[EdgeEntry] {
        self.entries
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }

    /// Number of filed entries (each edge appears in several buckets).
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Every bucket whose features lie within tolerance of `f`: lengths up to
/// `length_tolerance(length)` away (clamped at the ends), directions up to
/// [`DIRECTION_TOLERANCE`] away (wrapping).
fn neighbouring_buckets(f: &EdgeFeatures) -> impl Iterator<Item = usize> {
    let step = (LENGTH_STEP_PX * LENGTH_UNITS_PER_PX) as i32;
    let length = i32::from(f.length_q);
    let reach = length_tolerance(length);
    let first = ((length - reach).max(0) / step) as usize;
    let last = (((length + reach) / step) as usize).min(LENGTH_BUCKETS - 1);
    let dirs = |beta: u8| {
        let t = DIRECTION_TOLERANCE;
        let lo = beta.wrapping_sub(t) >> DIRECTION_SHIFT;
        let hi = beta.wrapping_add(t) >> DIRECTION_SHIFT;
        // Buckets from lo to hi going up, wrapping past the last.
        let span = (usize::from(hi) + DIRECTION_BUCKETS - usize::from(lo)) % DIRECTION_BUCKETS;
        (0..=span).map(move |k| (usize::from(lo) + k) % DIRECTION_BUCKETS)
    };
    let (di, dj) = (dirs(f.beta_i), dirs(f.beta_j));
    (first..=last.max(first)).flat_map(move |l| {
        di.clone().flat_map({
            let dj = dj.clone();
            move |bi| {
                dj.clone()
                    .map(move |bj| (l * DIRECTION_BUCKETS + bi) * DIRECTION_BUCKETS + bj)
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn point(x: f32, y: f32, angle_rad: f32) -> Point {
        Point { x, y, angle_rad }
    }

    proptest! {
        #[test]
        fn features_do_not_change_under_rotation_and_translation(
            x in -200.0f32..200.0, y in -200.0f32..200.0, a in 0.0f32..TAU,
            dx in -100.0f32..100.0, dy in -100.0f32..100.0, b in 0.0f32..TAU,
            rot in 0.0f32..TAU, tx in -300.0f32..300.0, ty in -300.0f32..300.0,
        ) {
            let p = point(x, y, a);
            let q = point(x + dx, y + dy, b);
            let (s, c) = rot.sin_cos();
            let move_point = |m: &Point| point(c * m.x - s * m.y + tx, s * m.x + c * m.y + ty, m.angle_rad + rot);
            let f = EdgeFeatures::of(&p, &q, 200.0);
            let g = EdgeFeatures::of(&move_point(&p), &move_point(&q), 200.0);
            if let (Some(f), Some(g)) = (f, g) {
                prop_assert!(f.agrees(&g), "{f:?} vs {g:?}");
            }
        }

        #[test]
        fn every_agreeing_edge_is_found_in_one_bucket(
            length_q in 96u16..2200, bi in any::<u8>(), bj in any::<u8>(),
            dl in -260i32..260, di in -16i32..=16, dj in -16i32..=16,
        ) {
            // Whenever a gallery edge agrees with a probe edge, the probe
            // edge is filed in the gallery edge's bucket.
            let probe = EdgeFeatures { length_q, beta_i: bi, beta_j: bj };
            let gallery = EdgeFeatures {
                length_q: (i32::from(length_q) + dl).max(0) as u16,
                beta_i: bi.wrapping_add(di as u8),
                beta_j: bj.wrapping_add(dj as u8),
            };
            if probe.agrees(&gallery) {
                let buckets: Vec<usize> = neighbouring_buckets(&probe).collect();
                prop_assert!(buckets.contains(&gallery.bucket()));
            }
        }
    }
}
