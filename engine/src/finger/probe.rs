//! The prepared probe: a finger template turned once into the lookup
//! structures that make each of many gallery comparisons cheap.

use hoviyat_models::FingerTemplate;

use super::calibration::Calibration;
use super::edges::{EdgeFeatures, EdgeTable};
use super::gallery::{GalleryTemplate, MAX_GALLERY_MINUTIAE, NEIGHBOURS, decode_gallery};
use super::geometry::{MAX_EDGE_PX, Point, select_minutiae};
use super::kernels::{CandidatePoints, Edges8, measure_edges8};
use super::pairing::{
    Alignment, MAX_CANDIDATES, PairList, Pairing, Prints, bounds, pair, pair_local, refit,
};
use super::score::{Score, raw_score};
use crate::Result;

/// Most candidate edge correspondences kept per comparison.
const MAX_HITS: usize = 1024;
/// Root correspondences consolidated per comparison.
const ROOTS: usize = 12;

/// A probe finger prepared for 1:N comparison.
///
/// Build it once per search with [`PreparedProbe::new`], then call
/// [`PreparedProbe::score`] on gallery blobs made by
/// [`encode_gallery`](super::encode_gallery). Scoring takes `&self`, so one
/// prepared probe can be shared across threads; it allocates nothing after
/// a thread's first comparison (its work arrays are kept per thread).
#[derive(Debug, Clone)]
pub struct PreparedProbe {
    points: Vec<Point>,
    bounds: (f32, f32, f32, f32),
    xs: Vec<f32>,
    ys: Vec<f32>,
    table: EdgeTable,
    calibration: Calibration,
}

/// Root alignments tried before the screen decides (see [`SCREEN_RAW`]).
const SCREEN_ROOTS: usize = 8;
/// Raw score the first [`SCREEN_ROOTS`] roots must reach for the rest to be
/// consolidated, the winner refined and paired again locally. Most
/// impostors stay below it, and a comparison that stops there keeps the
/// rigid score of its best root so far, which is below the threshold, so
/// every score at or above it is exactly the exhaustive score. Fewer roots
/// screen
/// out more hard mates (strongly distorted or noisy seeded synthetic
/// impressions); more cost time on every impostor.
const SCREEN_RAW: f32 = 1.0;

/// Whether a comparison may stop after the screening roots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cascade {
    Screen,
    #[cfg_attr(not(test), expect(dead_code, reason = "the reference path of tests"))]
    Exhaustive,
}

/// A gallery neighbour edge with its features and table bucket.
#[derive(Debug, Clone, Copy, Default)]
struct GalleryEdge {
    features: EdgeFeatures,
    bucket: u32,
    a: u8,
    b: u8,
    /// Votes each hit of the edge casts: 2 for an edge that is a neighbour
    /// edge from both ends.
    weight: u8,
}

#[derive(Debug, Clone, Copy, Default)]
struct Hit {
    i: u8,
    a: u8,
    j: u8,
    b: u8,
    weight: u8,
}

impl PreparedProbe {
    /// Prepares `template` (validated first) with the built-in calibration.
    pub fn new(template: &FingerTemplate) -> Result<Self> {
        Self::with_calibration(template, Calibration::default_finger().clone())
    }

    /// Prepares `template` with a given score calibration.
    pub fn with_calibration(template: &FingerTemplate, calibration: Calibration) -> Result<Self> {
        template.validate()?;
        let points: Vec<Point> = select_minutiae(template, MAX_GALLERY_MINUTIAE)
            .iter()
            .map(|m| Point {
                x: m.x_px,
                y: -m.y_px,
                angle_rad: m.angle_rad,
            })
            .collect();
        Ok(Self {
            bounds: bounds(&points),
            xs: points.iter().map(|p| p.x).collect(),
            ys: points.iter().map(|p| p.y).collect(),
            table: EdgeTable::new(&points),
            points,
            calibration,
        })
    }

    /// Number of probe minutiae used.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether the probe has no minutiae (every score is then zero).
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Number of entries in the probe's edge table (a size diagnostic).
    pub fn edge_entries(&self) -> usize {
        self.table.len()
    }

    /// The calibration this probe's scores use.
    pub fn calibration(&self) -> &Calibration {
        &self.calibration
    }

    /// Scores one gallery blob; a malformed blob is a typed error.
    pub fn score(&self, blob: &[u8]) -> Result<Score> {
        let mut gallery = GalleryTemplate::new();
        decode_gallery(blob, &mut gallery)?;
        Ok(self.score_decoded(&gallery))
    }

    /// Scores many gallery blobs in order, reusing one decode buffer.
    pub fn score_batch<'a>(&self, blobs: impl IntoIterator<Item = &'a [u8]>) -> Vec<Result<Score>> {
        let mut gallery = GalleryTemplate::new();
        blobs
            .into_iter()
            .map(|blob| {
                decode_gallery(blob, &mut gallery)?;
                Ok(self.score_decoded(&gallery))
            })
            .collect()
    }

    /// Scores a decoded gallery template.
    pub fn score_decoded(&self, gallery: &GalleryTemplate) -> Score {
        let pairing = self.best_pairing(gallery, Cascade::Screen);
        Score::from_pairing(&pairing, &self.calibration)
    }

    fn best_pairing(&self, gallery: &GalleryTemplate, cascade: Cascade) -> Pairing {
        self.best_pairing_into(gallery, cascade, &mut ())
    }

    /// The comparison of [`PreparedProbe::score_decoded`], also telling
    /// `winner` the pairs (and the alignment they were made under) of the
    /// pairing it returns, for an explanation.
    pub(crate) fn explained(
        &self,
        gallery: &GalleryTemplate,
        winner: &mut Option<(Alignment, PairList)>,
    ) -> Score {
        let pairing = self.best_pairing_into(gallery, Cascade::Screen, winner);
        Score::from_pairing(&pairing, &self.calibration)
    }

    /// [`PreparedProbe::best_pairing`] with a sink for the winning pairs
    /// (`()` for none, which compiles to the plain comparison).
    fn best_pairing_into<W: Winner>(
        &self,
        gallery: &GalleryTemplate,
        cascade: Cascade,
        winner: &mut W,
    ) -> Pairing {
        SCRATCH.with_borrow_mut(|scratch| self.best_pairing_with(gallery, cascade, winner, scratch))
    }

    /// [`PreparedProbe::best_pairing_into`] with the thread's work arrays.
    fn best_pairing_with<W: Winner>(
        &self,
        gallery: &GalleryTemplate,
        cascade: Cascade,
        winner: &mut W,
        scratch: &mut Scratch,
    ) -> Pairing {
        let Scratch {
            listed,
            edges,
            ranges,
            hits,
            candidates,
            points: [cgx, cgy, cpx, cpy],
        } = scratch;
        let g = &gallery.points[..gallery.len];
        if g.is_empty() || self.points.is_empty() {
            return Pairing::default();
        }
        // The gallery's neighbour edges. An edge that is a neighbour edge
        // from both ends is looked up once with weight two: the probe table
        // holds both directions of every edge, so the reverse lookup would
        // find the same correspondences again. A minutia's own index marks
        // "no neighbour". The lists grow without branches (a spare slot
        // takes the writes that are not kept): which edges are kept is
        // unpredictable, and mispredicted branches would stall the feature
        // arithmetic that otherwise overlaps from one edge to the next.
        let mut n_listed = 0;
        for a in 0..g.len() {
            for &b in &gallery.neighbours[a] {
                let mutual = gallery.neighbours[usize::from(b)]
                    .iter()
                    .fold(false, |m, &c| m | (usize::from(c) == a));
                listed[n_listed] = (a as u8, b, 1 + u8::from(mutual));
                n_listed += usize::from((usize::from(b) != a) & !(mutual & (usize::from(b) < a)));
            }
        }
        let mut n_edges = 0;
        for chunk in listed[..n_listed].chunks(8) {
            let mut ends = Edges8::default();
            for (l, &(a, b, _)) in chunk.iter().enumerate() {
                // Decoding checked every index against the length.
                let (ga, gb) = (&g[usize::from(a)], &g[usize::from(b)]);
                (ends.ax[l], ends.ay[l], ends.a_angle_rad[l]) = (ga.x, ga.y, ga.angle_rad);
                (ends.bx[l], ends.by[l], ends.b_angle_rad[l]) = (gb.x, gb.y, gb.angle_rad);
            }
            let m = measure_edges8(&ends, MAX_EDGE_PX);
            for (l, &(a, b, weight)) in chunk.iter().enumerate() {
                let features = EdgeFeatures {
                    length_q: m.length_q[l],
                    beta_i: m.beta_i[l],
                    beta_j: m.beta_j[l],
                };
                edges[n_edges] = GalleryEdge {
                    features,
                    bucket: features.bucket() as u32,
                    a,
                    b,
                    weight,
                };
                n_edges += usize::from(m.in_range[l]);
            }
        }
        // Agreeing probe edges become hits. About half the entries of a
        // bucket agree, so the list grows without a branch on agreement
        // (which would be mispredicted half the time); a spare slot takes
        // the writes of a full list.
        // The bucket ranges are read first, in a pass of independent loads
        // (the offsets table is too large for the nearest cache).
        for (range, edge) in ranges.iter_mut().zip(&edges[..n_edges]) {
            *range = self.table.range(edge.bucket as usize);
        }
        let mut n_hits = 0;
        for (edge, &range) in edges[..n_edges].iter().zip(ranges.iter()) {
            for e in self.table.entries(range) {
                hits[n_hits] = Hit {
                    i: e.i,
                    a: edge.a,
                    j: e.j,
                    b: edge.b,
                    weight: edge.weight,
                };
                n_hits += usize::from(e.features.agrees(&edge.features) & (n_hits < MAX_HITS));
            }
        }
        // Each hit votes for its two minutia pairs; a pair's first vote
        // makes it a candidate for consolidation.
        let mut votes = [[0u8; MAX_GALLERY_MINUTIAE]; MAX_GALLERY_MINUTIAE];
        let mut n_candidates = 0;
        for hit in &hits[..n_hits] {
            for (p, q) in [(hit.i, hit.a), (hit.j, hit.b)] {
                let cell = &mut votes[usize::from(p)][usize::from(q)];
                candidates[n_candidates] = (p, q);
                n_candidates += usize::from((*cell == 0) & (n_candidates < MAX_CANDIDATES));
                *cell = cell.saturating_add(hit.weight);
            }
        }
        if n_hits == 0 {
            return Pairing::default();
        }
        // The best-supported correspondences become roots: support is how
        // many neighbour edges agree around each of the two minutia pairs.
        let mut roots: [(u16, usize); ROOTS] = [(0, usize::MAX); ROOTS];
        for (h, hit) in hits[..n_hits].iter().enumerate() {
            let support = u16::from(votes[usize::from(hit.i)][usize::from(hit.a)])
                + u16::from(votes[usize::from(hit.j)][usize::from(hit.b)]);
            if support <= roots[ROOTS - 1].0 {
                continue;
            }
            let mut at = ROOTS - 1;
            while at > 0 && roots[at - 1].0 < support {
                roots[at] = roots[at - 1];
                at -= 1;
            }
            roots[at] = (support, h);
        }
        let mut gallery_xs = [0.0f32; MAX_GALLERY_MINUTIAE];
        let mut gallery_ys = [0.0f32; MAX_GALLERY_MINUTIAE];
        for (k, p) in g.iter().enumerate() {
            gallery_xs[k] = p.x;
            gallery_ys[k] = p.y;
        }
        for (t, &(p, q)) in candidates[..n_candidates].iter().enumerate() {
            let (p, q) = (&self.points[usize::from(p)], &g[usize::from(q)]);
            (cgx[t], cgy[t], cpx[t], cpy[t]) = (q.x, q.y, p.x, p.y);
        }
        let prints = Prints {
            probe: &self.points,
            probe_xs: &self.xs,
            probe_ys: &self.ys,
            probe_bounds: self.bounds,
            gallery: g,
            gallery_xs: &gallery_xs[..g.len()],
            gallery_ys: &gallery_ys[..g.len()],
            gallery_bounds: bounds(g),
            candidates: &candidates[..n_candidates],
            candidate_points: CandidatePoints {
                gx: &cgx[..n_candidates],
                gy: &cgy[..n_candidates],
                px: &cpx[..n_candidates],
                py: &cpy[..n_candidates],
            },
        };
        let mut pairs = PairList::new();
        let mut best_pairs = PairList::new();
        let mut best = Pairing::default();
        let mut best_raw = f32::MIN;
        let mut best_alignment = None;
        let live = roots.iter().filter(|r| r.1 != usize::MAX);
        let mut screened_out = false;
        for (consolidated, &(_, h)) in live.enumerate() {
            if cascade == Cascade::Screen && consolidated == SCREEN_ROOTS && best_raw < SCREEN_RAW {
                // The best-supported roots found too little: an impostor
                // as far as the full search would tell (see `SCREEN_RAW`).
                screened_out = true;
                break;
            }
            let hit = hits[h];
            let alignment = Alignment::from_edges(
                &self.points[usize::from(hit.i)],
                &self.points[usize::from(hit.j)],
                &g[usize::from(hit.a)],
                &g[usize::from(hit.b)],
            );
            let pairing = pair(&prints, &alignment, &mut pairs);
            let raw = raw_score(&pairing);
            if raw > best_raw {
                best_raw = raw;
                best = pairing;
                best_alignment = Some(alignment);
                std::mem::swap(&mut best_pairs, &mut pairs);
            }
        }
        let Some(mut alignment) = best_alignment else {
            return best;
        };
        screened_out |= cascade == Cascade::Screen && best_raw < SCREEN_RAW;
        if !screened_out {
            // Refine the winner: a least-squares fit over all its pairs is a
            // better alignment than any single root edge.
            if let Some(refined) = refit(&prints, &best_pairs) {
                let pairing = pair(&prints, &refined, &mut pairs);
                if raw_score(&pairing) > best_raw {
                    best = pairing;
                    alignment = refined;
                    std::mem::swap(&mut best_pairs, &mut pairs);
                }
            }
        }
        if screened_out {
            winner.win(&alignment, &best_pairs);
            return best;
        }
        // The local pass keeps the pairs that follow the print's own
        // distortion. The lower of the two scores is kept.
        let local = pair_local(&prints, &alignment, &best_pairs, &best, &mut pairs);
        if raw_score(&local) < raw_score(&best) {
            winner.win(&alignment, &pairs);
            local
        } else {
            winner.win(&alignment, &best_pairs);
            best
        }
    }
}

/// Most gallery neighbour edges of one comparison, plus a spare slot.
const MAX_EDGES: usize = MAX_GALLERY_MINUTIAE * NEIGHBOURS + 1;

/// The work arrays of one comparison. Every comparison writes each slot it
/// reads first, so they are kept per thread and reused rather than cleared
/// (about 30 KB, whose clearing cost a few per cent of a comparison).
struct Scratch {
    listed: [(u8, u8, u8); MAX_EDGES],
    edges: [GalleryEdge; MAX_EDGES],
    ranges: [(u32, u32); MAX_EDGES],
    hits: [Hit; MAX_HITS + 1],
    candidates: [(u8, u8); MAX_CANDIDATES + 1],
    /// The candidate pairs' gallery x, y and probe x, y.
    points: [[f32; MAX_CANDIDATES]; 4],
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Box<Scratch>> = std::cell::RefCell::new(Box::new(Scratch {
        listed: [(0, 0, 0); MAX_EDGES],
        edges: [GalleryEdge::default(); MAX_EDGES],
        ranges: [(0, 0); MAX_EDGES],
        hits: [Hit::default(); MAX_HITS + 1],
        candidates: [(0, 0); MAX_CANDIDATES + 1],
        points: [[0.0; MAX_CANDIDATES]; 4],
    }));
}

/// Where a comparison may leave the pairs of its result and the alignment
/// they were made under (the local pass pairs under that alignment
/// corrected locally). Scoring passes `()`, which keeps nothing.
pub(crate) trait Winner {
    fn win(&mut self, alignment: &Alignment, pairs: &PairList);
}

impl Winner for () {
    #[inline(always)]
    fn win(&mut self, _: &Alignment, _: &PairList) {}
}

impl Winner for Option<(Alignment, PairList)> {
    fn win(&mut self, alignment: &Alignment, pairs: &PairList) {
        *self = Some((*alignment, pairs.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hoviyat_datasets::minutiae_impressions::{Master, Perturbation};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn screened_scores_equal_exhaustive_scores_from_the_screen_up() {
        let mut rng = ChaCha8Rng::seed_from_u64(21);
        let masters: Vec<Master> = (0..40).map(|_| Master::generate(&mut rng)).collect();
        let full = Perturbation::default();
        let partial = Perturbation::partial();
        let distorted = Perturbation::distorted();
        let probes: Vec<PreparedProbe> = masters
            .iter()
            .map(|m| PreparedProbe::new(&m.impression(&full, &mut rng)).unwrap())
            .collect();
        let (mut mates, mut mates_screened_out, mut impostors, mut impostors_screened_out) =
            (0, 0, 0, 0);
        for p in [&full, &partial, &distorted] {
            let gallery: Vec<GalleryTemplate> = masters
                .iter()
                .map(|m| {
                    let mut g = GalleryTemplate::new();
                    let blob = super::super::encode_gallery(&m.impression(p, &mut rng)).unwrap();
                    decode_gallery(&blob, &mut g).unwrap();
                    g
                })
                .collect();
            for (i, probe) in probes.iter().enumerate() {
                for (k, g) in gallery.iter().enumerate() {
                    let screened = probe.best_pairing(g, Cascade::Screen);
                    let exhaustive = probe.best_pairing(g, Cascade::Exhaustive);
                    let (rs, re) = (raw_score(&screened), raw_score(&exhaustive));
                    // From the screen up the two are the same comparison.
                    // (Below it a screened score may exceed the exhaustive
                    // one: the local pass can thin the exhaustive winner's
                    // pairs more than those of a screened root.)
                    if rs >= SCREEN_RAW {
                        assert_eq!(screened, exhaustive, "screened {rs}, exhaustive {re}");
                    }
                    let out = usize::from(rs < SCREEN_RAW);
                    if i == k {
                        mates += 1;
                        mates_screened_out += out;
                    } else {
                        impostors += 1;
                        impostors_screened_out += out;
                    }
                }
            }
        }
        // The screen is what makes 1:N fast: most impostors stop there,
        // while mates (also partial and distorted ones) go on.
        assert!(
            impostors_screened_out * 10 >= impostors * 8,
            "{impostors_screened_out} of {impostors} impostors screened out"
        );
        assert!(
            mates_screened_out * 40 <= mates,
            "{mates_screened_out} of {mates} mates screened out"
        );
    }
}
