//! Ridge evidence beside the minutiae: once two prints are aligned by their
//! minutiae, do their ridge maps ([`RidgeMap`]) agree where they overlap —
//! the flow of the ridges and their spacing?
//!
//! Mates agree almost everywhere (FVC2002 and pyfnprint medians: mean
//! cos 2Δ of the orientations 0.95-0.99, ridge periods 4-7 % apart); an
//! impostor aligned on a few chance minutiae pairs usually shows a turned
//! flow somewhere or a different ridge spacing (periods 11-15 % apart at
//! its best alignment). The bonus is added to every comparison of two
//! templates with maps but matters where minutiae leave one short — a dry
//! or a wet impression, a small overlap — and is bounded (at most 4 raw;
//! two decades of FMR sit near raw 4.7), so minutiae stay what a match rests
//! on. Both maps come from extraction; without two maps the bonus is zero.

use hoviyat_models::{FingerTemplate, RidgeMap};

use super::explain::Similarity;

/// Mean cos 2Δ of the orientations from which agreement starts to count,
/// and from which it counts fully.
const ORIENTATION_FROM: f32 = 0.90;
const ORIENTATION_FULL: f32 = 0.97;
/// Mean |ln| of the period ratio at which spacing agreement counts fully,
/// and from which it no longer counts.
const PERIOD_FULL: f32 = 0.04;
const PERIOD_NONE: f32 = 0.20;
/// Overlap (square pixels at 500 dpi, about 49 mm²) from which the bonus
/// is not scaled down for a small common area.
const FULL_OVERLAP_PX2: f32 = 19_200.0;
/// Raw score for full orientation agreement, and for full period agreement.
/// With the thresholds above, chosen on FVC2002 DB1_B and DB2_B (own
/// extraction) and confirmed on DB3_B, DB4_B and pyfnprint (BENCHMARKS.md,
/// session 10).
pub const RIDGE_ORIENTATION_RAW: f32 = 2.0;
pub const RIDGE_PERIOD_RAW: f32 = 2.0;

/// How two ridge maps compare under an alignment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RidgeAgreement {
    /// Gallery cells that land on a finger cell of the probe.
    pub cells: u32,
    /// Mean cos 2Δ of the two orientations over those cells (1: parallel
    /// everywhere, 0: unrelated, -1: crossed everywhere).
    pub orientation: f32,
    /// Cells of those where both periods were measured.
    pub period_cells: u32,
    /// Mean |ln(probe period / gallery period)| over those, the gallery's
    /// period taken at the alignment's scale.
    pub period_log_diff: f32,
}

/// Compares the ridge maps of `gallery` and `probe` with `alignment`
/// mapping gallery pixels into the probe's; `None` when either has no map
/// or no cells overlap.
pub fn ridge_agreement(
    probe: &FingerTemplate,
    gallery: &FingerTemplate,
    alignment: &Similarity,
) -> Option<RidgeAgreement> {
    let (p, g) = (probe.ridge_map.as_ref()?, gallery.ridge_map.as_ref()?);
    let (mut cells, mut cos_sum, mut period_cells, mut log_sum) = (0u32, 0f32, 0u32, 0f32);
    let g_cell = f32::from(g.cell_px);
    let p_cell = f32::from(p.cell_px);
    for row in 0..usize::from(g.rows) {
        for col in 0..usize::from(g.cols) {
            let Some(gc) = g.cell(col, row) else {
                continue;
            };
            let (x, y) = alignment.apply((col as f32 + 0.5) * g_cell, (row as f32 + 0.5) * g_cell);
            let Some(pc) = probe_cell(p, x / p_cell, y / p_cell) else {
                continue;
            };
            cells += 1;
            let delta = pc.orientation_rad - (gc.orientation_rad + alignment.rotation_rad);
            cos_sum += (2.0 * delta).cos();
            if let (Some(pp), Some(gp)) = (pc.period_px, gc.period_px) {
                period_cells += 1;
                log_sum += (pp / (gp * alignment.scale)).ln().abs();
            }
        }
    }
    (cells > 0).then(|| RidgeAgreement {
        cells,
        orientation: cos_sum / cells as f32,
        period_cells,
        period_log_diff: log_sum / period_cells.max(1) as f32,
    })
}

fn probe_cell(map: &RidgeMap, col: f32, row: f32) -> Option<hoviyat_models::RidgeCell> {
    if !(col >= 0.0 && row >= 0.0) {
        return None;
    }
    map.cell(col as usize, row as usize)
}

/// The raw score [`compare`](super::compare) adds for ridge agreement
/// under `alignment` (0 without it or without two maps): up to
/// [`RIDGE_ORIENTATION_RAW`] for parallel flow and [`RIDGE_PERIOD_RAW`]
/// for equal spacing, each scaled down when the overlap is small.
pub fn ridge_bonus(
    probe: &FingerTemplate,
    gallery: &FingerTemplate,
    alignment: Option<Similarity>,
) -> f32 {
    let Some(a) = alignment.and_then(|a| ridge_agreement(probe, gallery, &a)) else {
        return 0.0;
    };
    let Some(map) = probe.ridge_map.as_ref() else {
        return 0.0;
    };
    // Cell area in square pixels at 500 dpi.
    let cell_500 = f32::from(map.cell_px) * 500.0 / f32::from(probe.dpi.max(1));
    let area = |n: u32| (n as f32 * cell_500 * cell_500 / FULL_OVERLAP_PX2).min(1.0);
    let orientation = ((a.orientation - ORIENTATION_FROM) / (ORIENTATION_FULL - ORIENTATION_FROM))
        .clamp(0.0, 1.0);
    let period = ((PERIOD_NONE - a.period_log_diff) / (PERIOD_NONE - PERIOD_FULL)).clamp(0.0, 1.0);
    RIDGE_ORIENTATION_RAW * orientation * area(a.cells)
        + RIDGE_PERIOD_RAW * period * area(a.period_cells)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{ExtractConfig, extract};
    use crate::finger::{compare, explain};
    use hoviyat_datasets::synth::{FingerprintConfig, SyntheticFinger};

    /// Impressions 1 and 2 of `fingers` seeded synthetic fingers, extracted.
    fn extracted(fingers: u32) -> Vec<(u32, FingerTemplate)> {
        let cfg = FingerprintConfig::default();
        let mut out = Vec::new();
        for finger in 1..=fingers {
            let synthetic = SyntheticFinger::new(77, finger, &cfg);
            for impression in 1..=2 {
                let image = synthetic.impression(impression, &cfg).image;
                let t = extract(&image, &ExtractConfig::default())
                    .expect("a synthetic print extracts")
                    .template;
                out.push((finger, t));
            }
        }
        out
    }

    /// Mates aligned by their minutiae show parallel ridge flow and equal
    /// spacing, and earn the bonus; impostors earn far less of it on
    /// average. The 1:1 score stays symmetric with the maps read.
    #[test]
    fn mates_agree_on_ridges_and_impostors_gain_less() {
        let prints = extracted(5);
        let (mut mates, mut impostors) = (Vec::new(), Vec::new());
        for (i, (fa, a)) in prints.iter().enumerate() {
            for (fb, b) in &prints[i + 1..] {
                let e = explain(a, b).unwrap();
                let bonus = ridge_bonus(a, b, e.alignment);
                assert_eq!(compare(a, b).unwrap(), compare(b, a).unwrap());
                if fa == fb {
                    let agreement = ridge_agreement(a, b, &e.alignment.unwrap()).unwrap();
                    assert!(agreement.orientation >= 0.9, "{agreement:?}");
                    assert!(agreement.period_log_diff <= 0.1, "{agreement:?}");
                    mates.push(bonus);
                } else {
                    impostors.push(bonus);
                }
            }
        }
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        assert!(
            mean(&mates) >= 2.0 * mean(&impostors),
            "mates {mates:?} impostors {impostors:?}"
        );
    }

    #[test]
    fn without_two_maps_there_is_no_bonus() {
        let prints = extracted(1);
        let (a, mut b) = (prints[0].1.clone(), prints[1].1.clone());
        let alignment = explain(&a, &b).unwrap().alignment;
        assert!(ridge_bonus(&a, &b, alignment) > 0.0);
        b.ridge_map = None;
        assert_eq!(ridge_bonus(&a, &b, alignment), 0.0);
        assert_eq!(ridge_bonus(&b, &a, alignment), 0.0);
        assert_eq!(ridge_bonus(&a, &a, None), 0.0);
    }
}
