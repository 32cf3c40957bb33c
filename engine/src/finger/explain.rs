//! Match explanation: which minutiae a 1:1 comparison paired and the
//! alignment it paired them under, for an examiner to look at.
//!
//! An explanation runs the very comparison that scores (the same code, with
//! a sink for the winning pairs), so its score is the score: [`explain`]
//! equals [`compare`](super::compare) and [`explain_one_way`] equals
//! [`PreparedProbe::score`] on the gallery form. The 1:N path never builds
//! one.
//!
//! Coordinates are each template's own: pixels of its image at its `dpi`,
//! origin top-left, y down. Pairs name minutiae by their index in each
//! template's `minutiae`.

use hoviyat_models::FingerTemplate;
use serde::{Deserialize, Serialize};

use super::gallery::{GalleryTemplate, MAX_GALLERY_MINUTIAE, decode_gallery, encode_gallery};
use super::geometry::{MATCH_DPI, angle_diff, selected_indices};
use super::probe::PreparedProbe;
use super::ridge::ridge_bonus;
use super::score::Score;
use crate::Result;

/// A similarity transform between two images' pixel coordinates (origin
/// top-left, y down):
///
/// ```text
/// x' = scale * ( cos(rotation_rad) * x + sin(rotation_rad) * y) + dx_px
/// y' = scale * (-sin(rotation_rad) * x + cos(rotation_rad) * y) + dy_px
/// ```
///
/// `rotation_rad` is counter-clockwise as seen on the image, the convention
/// of minutia directions, so a minutia's `angle_rad + rotation_rad` is its
/// direction in the other image; it lies in `(-pi, pi]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Similarity {
    pub rotation_rad: f32,
    /// Target pixels per source pixel.
    pub scale: f32,
    pub dx_px: f32,
    pub dy_px: f32,
}

impl Similarity {
    /// Where source point `(x, y)` lands.
    pub fn apply(&self, x: f32, y: f32) -> (f32, f32) {
        let (s, c) = self.rotation_rad.sin_cos();
        (
            self.scale * (c * x + s * y) + self.dx_px,
            self.scale * (-s * x + c * y) + self.dy_px,
        )
    }

    /// The transform back from the target to the source.
    pub fn inverse(&self) -> Self {
        let rotation_rad = angle_diff(0.0, self.rotation_rad);
        let scale = 1.0 / self.scale;
        let (s, c) = rotation_rad.sin_cos();
        let (dx, dy) = (self.dx_px, self.dy_px);
        Self {
            rotation_rad,
            scale,
            dx_px: -scale * (c * dx + s * dy),
            dy_px: -scale * (-s * dx + c * dy),
        }
    }
}

/// One pair of minutiae a comparison matched: indices into the probe's and
/// the gallery template's `minutiae`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MinutiaPair {
    pub probe: usize,
    pub gallery: usize,
}

/// A comparison's score with what it rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub score: Score,
    /// Maps gallery coordinates into the probe's image; `None` when nothing
    /// was paired. The local pass of the matcher lets each pair deviate from
    /// it by the print's own distortion.
    pub alignment: Option<Similarity>,
    /// The paired minutiae (`score.paired` of them), in gallery order of the
    /// side that was the matcher's gallery.
    pub pairs: Vec<MinutiaPair>,
}

impl Explanation {
    /// The same comparison told from the other side: probe and gallery
    /// swapped, the alignment inverted.
    pub fn swapped(&self) -> Self {
        Self {
            score: self.score,
            alignment: self.alignment.map(|a| a.inverse()),
            pairs: self
                .pairs
                .iter()
                .map(|p| MinutiaPair {
                    probe: p.gallery,
                    gallery: p.probe,
                })
                .collect(),
        }
    }
}

/// Explains [`compare`](super::compare)`(probe, gallery)`: the same
/// symmetric score, with the pairs and alignment of the stronger direction,
/// always told from `probe`'s side.
pub fn explain(probe: &FingerTemplate, gallery: &FingerTemplate) -> Result<Explanation> {
    let mut e = super::over_scales(probe, gallery)?;
    super::add_local_similarity(&mut e.score, probe, gallery, e.alignment)?;
    Ok(e)
}

/// The symmetric comparison at the templates' stated resolutions: the
/// stronger direction, told from `probe`'s side.
pub(super) fn explain_at_stated_dpi(
    probe: &FingerTemplate,
    gallery: &FingerTemplate,
) -> Result<Explanation> {
    let forward = explain_one_way(probe, gallery)?;
    let backward = explain_one_way(gallery, probe)?;
    // The ridge maps are read under the winning direction's own alignment
    // (not its inverse), so either order of the pair computes the same
    // number; on a tie both directions are read and the better counts.
    let forward_ridge = || ridge_bonus(probe, gallery, forward.alignment);
    let backward_ridge = || ridge_bonus(gallery, probe, backward.alignment);
    let (mut e, bonus) = if super::backward_wins(&forward.score, &backward.score) {
        let bonus = backward_ridge();
        (backward.swapped(), bonus)
    } else if super::backward_wins(&backward.score, &forward.score) {
        let bonus = forward_ridge();
        (forward, bonus)
    } else {
        let bonus = forward_ridge().max(backward_ridge());
        (forward, bonus)
    };
    e.score.raw += bonus;
    Ok(e)
}

/// Explains the probe's direction only, the score 1:N search gives
/// (`PreparedProbe::new(probe)?.score(&encode_gallery(gallery)?)`).
pub fn explain_one_way(probe: &FingerTemplate, gallery: &FingerTemplate) -> Result<Explanation> {
    explain_prepared(&PreparedProbe::new(probe)?, probe, gallery)
}

/// [`explain_one_way`] with the probe already prepared; `prepared` must be
/// `probe` prepared.
pub(crate) fn explain_prepared(
    prepared: &PreparedProbe,
    probe: &FingerTemplate,
    gallery: &FingerTemplate,
) -> Result<Explanation> {
    let mut decoded = GalleryTemplate::new();
    decode_gallery(&encode_gallery(gallery)?, &mut decoded)?;
    let mut winner = None;
    let score = prepared.explained(&decoded, &mut winner);
    let Some((alignment, list)) = winner.filter(|(_, list)| list.len > 0) else {
        return Ok(Explanation {
            score,
            alignment: None,
            pairs: Vec::new(),
        });
    };
    // The matcher's indices count the minutiae it kept of each template.
    let probe_kept = selected_indices(probe, MAX_GALLERY_MINUTIAE);
    let gallery_kept = selected_indices(gallery, MAX_GALLERY_MINUTIAE);
    let pairs = list.probe[..list.len]
        .iter()
        .zip(&list.gallery[..list.len])
        .filter_map(|(&m, &k)| {
            Some(MinutiaPair {
                probe: *probe_kept.get(usize::from(m))?,
                gallery: *gallery_kept.get(usize::from(k))?,
            })
        })
        .collect();
    // The matcher's frame is 500 dpi with y up; each template's own is its
    // dpi with y down. The image origin maps to the translation.
    let probe_scale = MATCH_DPI / f32::from(probe.dpi.max(1));
    let gallery_scale = MATCH_DPI / f32::from(gallery.dpi.max(1));
    let (ox, oy) = alignment.apply(0.0, 0.0);
    let similarity = Similarity {
        rotation_rad: angle_diff(alignment.rotation_rad, 0.0),
        scale: alignment.scale * gallery_scale / probe_scale,
        dx_px: ox / probe_scale,
        dy_px: -oy / probe_scale,
    };
    Ok(Explanation {
        score,
        alignment: Some(similarity),
        pairs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finger::compare;
    use hoviyat_datasets::minutiae_impressions::{Master, Perturbation};
    use hoviyat_models::Minutia;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// `t` rotated by `angle_rad` (counter-clockwise as seen) about its
    /// centre, shifted, and rescaled to `dpi`, on a canvas that holds it.
    fn moved(t: &FingerTemplate, angle_rad: f32, shift: (f32, f32), dpi: u16) -> FingerTemplate {
        let k = f32::from(dpi) / f32::from(t.dpi);
        let (cx, cy) = (f32::from(t.width_px) / 2.0, f32::from(t.height_px) / 2.0);
        let (s, c) = angle_rad.sin_cos();
        let minutiae = t
            .minutiae
            .iter()
            .map(|m| {
                let (dx, dy) = (m.x_px - cx, m.y_px - cy);
                let x = (c * dx + s * dy + 400.0 + shift.0) * k;
                let y = (-s * dx + c * dy + 400.0 + shift.1) * k;
                Minutia::new(x, y, m.angle_rad + angle_rad, m.kind, m.quality)
            })
            .collect();
        let side = (800.0 * k) as u16;
        FingerTemplate {
            width_px: side,
            height_px: side,
            dpi,
            minutiae,
            ..t.clone()
        }
    }

    fn prints(seed: u64) -> (FingerTemplate, FingerTemplate, FingerTemplate) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let p = Perturbation::default();
        let master = Master::generate(&mut rng);
        let a = master.impression(&p, &mut rng);
        let b = master.impression(&p, &mut rng);
        let other = Master::generate(&mut rng).impression(&p, &mut rng);
        (a, b, other)
    }

    #[test]
    fn the_explained_score_is_the_compared_score() {
        for seed in 0..12 {
            let (a, b, other) = prints(seed);
            for (x, y) in [(&a, &b), (&b, &a), (&a, &other), (&other, &b)] {
                let e = explain(x, y).unwrap();
                assert_eq!(e.score, compare(x, y).unwrap(), "seed {seed}");
                assert_eq!(e.pairs.len() as u32, e.score.paired, "seed {seed}");
                assert_eq!(e.alignment.is_some(), e.score.paired > 0);
                let one_way = explain_one_way(x, y).unwrap();
                let scored = PreparedProbe::new(x)
                    .unwrap()
                    .score(&encode_gallery(y).unwrap())
                    .unwrap();
                assert_eq!(one_way.score, scored, "seed {seed}");
            }
        }
    }

    #[test]
    fn a_moved_copy_pairs_each_minutia_with_itself_under_the_alignment() {
        let mut rng = ChaCha8Rng::seed_from_u64(31);
        for case in 0..8 {
            let (a, _, _) = prints(100 + case);
            let angle = rng.random_range(-3.1..3.1f32);
            let shift = (
                rng.random_range(-100.0..100.0),
                rng.random_range(-100.0..100.0),
            );
            // Half the copies come at another resolution.
            let dpi = if case % 2 == 0 { 500 } else { 400 };
            let copy = moved(&a, angle, shift, dpi);
            let e = explain(&a, &copy).unwrap();
            let alignment = e.alignment.expect("a copy pairs");
            let kept = a.minutiae.len().min(MAX_GALLERY_MINUTIAE);
            assert!(
                e.pairs.len() * 10 >= kept * 9,
                "{} of {kept}",
                e.pairs.len()
            );
            let rotation = angle_diff(alignment.rotation_rad, -angle).abs();
            assert!(
                rotation < 0.05,
                "rotation {} for {angle}",
                alignment.rotation_rad
            );
            let expected_scale = 500.0 / f32::from(dpi);
            assert!(
                (alignment.scale - expected_scale).abs() < 0.02,
                "{alignment:?}"
            );
            for pair in &e.pairs {
                assert_eq!(pair.probe, pair.gallery, "a minutia pairs with its copy");
                let (p, g) = (&a.minutiae[pair.probe], &copy.minutiae[pair.gallery]);
                let (x, y) = alignment.apply(g.x_px, g.y_px);
                let off = (x - p.x_px).hypot(y - p.y_px);
                assert!(off < 2.5, "case {case}: pair {pair:?} is {off} px apart");
                let turn = angle_diff(g.angle_rad + alignment.rotation_rad, p.angle_rad);
                assert!(turn.abs() < 0.1, "direction off by {turn}");
            }
        }
    }

    #[test]
    fn swapping_the_sides_swaps_the_pairs_and_inverts_the_alignment() {
        for seed in 40..46 {
            let (a, b, _) = prints(seed);
            let ab = explain(&a, &b).unwrap();
            let ba = explain(&b, &a).unwrap();
            assert_eq!(ab.score, ba.score);
            let mut swapped: Vec<MinutiaPair> = ab.swapped().pairs;
            let mut other = ba.pairs.clone();
            swapped.sort_by_key(|p| (p.probe, p.gallery));
            other.sort_by_key(|p| (p.probe, p.gallery));
            assert_eq!(swapped, other, "seed {seed}");
            let (f, g) = (ab.alignment.unwrap(), ba.alignment.unwrap());
            // g undoes f: a point taken there and back returns.
            for (x, y) in [(0.0, 0.0), (300.0, 50.0), (120.0, 400.0)] {
                let (u, v) = f.apply(x, y);
                let (x2, y2) = g.apply(u, v);
                assert!((x2 - x).hypot(y2 - y) < 0.05, "seed {seed}: {f:?} {g:?}");
            }
            assert!((f.scale * g.scale - 1.0).abs() < 1e-4);
            assert!(angle_diff(f.rotation_rad, -g.rotation_rad).abs() < 1e-4);
        }
    }

    #[test]
    fn impostors_pair_few_minutiae_and_mates_many() {
        let (mut impostor_pairs, mut mate_pairs) = (Vec::new(), Vec::new());
        for seed in 60..72 {
            let (a, b, other) = prints(seed);
            mate_pairs.push(explain(&a, &b).unwrap().pairs.len());
            impostor_pairs.push(explain(&a, &other).unwrap().pairs.len());
        }
        mate_pairs.sort_unstable();
        let worst_impostor = impostor_pairs.iter().max().copied().unwrap_or(0);
        let median_mate = mate_pairs[mate_pairs.len() / 2];
        assert!(
            worst_impostor * 3 < median_mate,
            "impostors {impostor_pairs:?}, mates {mate_pairs:?}"
        );
        assert!(worst_impostor <= 10, "impostors {impostor_pairs:?}");
    }
}
