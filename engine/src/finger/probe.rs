//! The prepared probe: a finger template turned once into the lookup
//! structures that make each of many gallery comparisons cheap.

use hoviyat_models::FingerTemplate;

use super::calibration::Calibration;
use super::edges::{EdgeFeatures, EdgeTable};
use super::gallery::{GalleryTemplate, MAX_GALLERY_MINUTIAE, decode_gallery};
use super::geometry::{MAX_EDGE_PX, Point, select_minutiae};
use super::pairing::{Alignment, MAX_CANDIDATES, PairList, Pairing, Prints, bounds, pair, refit};
use super::score::{Score, raw_score};
use crate::Result;

/// Most candidate edge correspondences kept per comparison.
const MAX_HITS: usize = 768;
/// Root correspondences consolidated per comparison.
const ROOTS: usize = 12;

/// A probe finger prepared for 1:N comparison.
///
/// Build it once per search with [`PreparedProbe::new`], then call
/// [`PreparedProbe::score`] on gallery blobs made by
/// [`encode_gallery`](super::encode_gallery). Scoring allocates nothing and
/// takes `&self`, so one prepared probe can be shared across threads.
#[derive(Debug, Clone)]
pub struct PreparedProbe {
    points: Vec<Point>,
    bounds: (f32, f32, f32, f32),
    xs: Vec<f32>,
    ys: Vec<f32>,
    table: EdgeTable,
    calibration: Calibration,
}

#[derive(Debug, Clone, Copy, Default)]
struct Hit {
    i: u8,
    a: u8,
    j: u8,
    b: u8,
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
        let pairing = self.best_pairing(gallery);
        Score::from_pairing(&pairing, &self.calibration)
    }

    fn best_pairing(&self, gallery: &GalleryTemplate) -> Pairing {
        let g = &gallery.points[..gallery.len];
        if g.is_empty() || self.points.is_empty() {
            return Pairing::default();
        }
        let mut votes = [[0u8; MAX_GALLERY_MINUTIAE]; MAX_GALLERY_MINUTIAE];
        let mut hits = [Hit::default(); MAX_HITS];
        let mut n_hits = 0;
        let mut candidates = [(0u8, 0u8); MAX_CANDIDATES];
        let mut n_candidates = 0;
        for (a, ga) in g.iter().enumerate() {
            for &b in &gallery.neighbours[a] {
                let b = usize::from(b);
                if b == a {
                    continue;
                }
                let gb = &g[b];
                let Some(features) = EdgeFeatures::of(ga, gb, MAX_EDGE_PX) else {
                    continue;
                };
                for e in self.table.bucket(features.bucket()) {
                    if !e.features.agrees(&features) {
                        continue;
                    }
                    let (i, j) = (usize::from(e.i), usize::from(e.j));
                    for (p, q) in [(i, a), (j, b)] {
                        if votes[p][q] == 0 && n_candidates < MAX_CANDIDATES {
                            candidates[n_candidates] = (p as u8, q as u8);
                            n_candidates += 1;
                        }
                        votes[p][q] = votes[p][q].saturating_add(1);
                    }
                    if n_hits < MAX_HITS {
                        hits[n_hits] = Hit {
                            i: e.i,
                            a: a as u8,
                            j: e.j,
                            b: b as u8,
                        };
                        n_hits += 1;
                    }
                }
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
        };
        let mut pairs = PairList::new();
        let mut best = Pairing::default();
        let mut best_raw = f32::MIN;
        let mut best_alignment = None;
        for &(_, h) in roots.iter().filter(|r| r.1 != usize::MAX) {
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
            }
        }
        // Refine the winner: a least-squares fit over all its pairs is a
        // better alignment than any single root edge.
        if let Some(alignment) = best_alignment {
            pair(&prints, &alignment, &mut pairs);
            if let Some(refined) = refit(&prints, &pairs) {
                let pairing = pair(&prints, &refined, &mut pairs);
                if raw_score(&pairing) > best_raw {
                    best = pairing;
                }
            }
        }
        best
    }
}
