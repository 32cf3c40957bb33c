//! Could the ridge flow rescue the mates a robustness family leaves with
//! too few minutiae? A measurement, not a matcher: for every pair of a
//! family's changed impressions (own extraction, so each template carries a
//! ridge map), the two orientation fields are registered on their own —
//! every rotation in 10 degree steps and translations on a 16 px grid,
//! refined three times by halving both steps, maximising the summed
//! `cos 2Δ - 0.6` over the cells that overlap — and the ridge bonus the
//! full comparison would add ([`ridge_bonus`], at most 4 raw) is taken
//! under that registration. Mates the matcher fails (full comparison below
//! the family's EER threshold) are set against impostors: if the flow alone
//! separated them, their bonus at the registration would sit above nearly
//! every impostor's.
//!
//! ```text
//! cargo run --release -p hoviyat-benches --example ridge_registration -- \
//!     ../shared/data/fingerprints/pyfnprint-16x8 combined 1
//! ```
//!
//! Prints one JSON object: the family's EER threshold (raw), the failing
//! mates' count, the smaller minutiae count of their two templates in bins,
//! how many were registered away from the matcher's alignment, and the
//! bonus percentiles of failing mates, of all mates and of impostors.

use std::path::PathBuf;

use hoviyat_benches::fvc::FvcDataset;
use hoviyat_benches::robustness::{extract_with_changes, image_changes};
use hoviyat_datasets::robustness::Family;
use hoviyat_engine::finger::ridge::ridge_bonus;
use hoviyat_engine::finger::{Similarity, explain};
use hoviyat_engine::metrics::Scores;
use hoviyat_models::FingerTemplate;
use rayon::prelude::*;

/// Agreement a cell must beat to add to the registration's objective, so
/// that a larger overlap of unrelated flow does not win by size alone.
const AGREEMENT_FLOOR: f32 = 0.6;
/// Upper ends of the bins of the smaller minutiae count of a pair.
const MINUTIAE_BINS: [usize; 6] = [5, 8, 10, 12, 15, 20];

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: ridge_registration DIR FAMILY [SEED]";
    let dir = PathBuf::from(args.next().ok_or_else(|| anyhow::anyhow!(usage))?);
    let name = args.next().ok_or_else(|| anyhow::anyhow!(usage))?;
    let family = Family::ALL
        .iter()
        .copied()
        .find(|f| f.name() == name)
        .ok_or_else(|| anyhow::anyhow!("unknown family {name}"))?;
    let seed: u64 = args.next().map_or(Ok(1), |s| s.parse())?;
    let ds = FvcDataset::open(&dir, None)?;
    let changes = image_changes(&ds, family, seed)?;
    let samples = extract_with_changes(&ds, &changes)?;
    let n = samples.len();
    let pairs: Vec<(usize, usize)> = (0..n)
        .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
        .collect();
    let rows: Vec<Row> = pairs
        .par_iter()
        .map(|&(a, b)| {
            let genuine = samples[a].finger == samples[b].finger;
            let (Some(ta), Some(tb)) = (&samples[a].template, &samples[b].template) else {
                return Ok(Row::failed_to_enrol(genuine));
            };
            let e = explain(ta, tb)?;
            let registration = register(ta, tb);
            Ok(Row {
                genuine,
                raw: e.score.raw,
                fewer_minutiae: ta.minutiae.len().min(tb.minutiae.len()),
                bonus: registration.map_or(0.0, |r| ridge_bonus(ta, tb, Some(r))),
                registered_elsewhere: match (registration, e.alignment) {
                    (Some(r), Some(m)) => !same_placement(&r, &m),
                    _ => true,
                },
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let raw = |genuine: bool| -> Vec<f64> {
        rows.iter()
            .filter(|r| r.genuine == genuine)
            .map(|r| f64::from(r.raw))
            .collect()
    };
    let (genuine, impostor) = (raw(true), raw(false));
    let scores = Scores::new(&genuine, &impostor);
    let eer = scores.eer();
    // The lowest raw score whose impostor share is within the EER.
    let mut sorted = impostor.clone();
    sorted.sort_by(|x, y| y.total_cmp(x));
    let threshold = sorted[((eer * sorted.len() as f64) as usize).min(sorted.len() - 1)] as f32;
    let failing: Vec<&Row> = rows
        .iter()
        .filter(|r| r.genuine && r.raw < threshold)
        .collect();
    let bonuses = |keep: &dyn Fn(&Row) -> bool| -> Vec<f32> {
        let mut v: Vec<f32> = rows.iter().filter(|r| keep(r)).map(|r| r.bonus).collect();
        v.sort_by(f32::total_cmp);
        v
    };
    let impostor_bonus = bonuses(&|r| !r.genuine);
    let failing_bonus = bonuses(&|r| r.genuine && r.raw < threshold);
    let above = |q: f64| {
        let line = percentile(&impostor_bonus, q);
        failing_bonus.iter().filter(|&&b| b > line).count()
    };
    let mut bins = vec![0usize; MINUTIAE_BINS.len() + 1];
    for r in &failing {
        bins[MINUTIAE_BINS
            .iter()
            .position(|&b| r.fewer_minutiae <= b)
            .unwrap_or(MINUTIAE_BINS.len())] += 1;
    }
    let quartiles = |v: &[f32]| [0.1, 0.5, 0.9, 0.99].map(|q| percentile(v, q));
    println!(
        "{}",
        serde_json::json!({
            "dataset": ds.name,
            "family": family.name(),
            "seed": seed,
            "n_genuine": genuine.len(),
            "n_impostor": impostor.len(),
            "eer": eer,
            "eer_threshold_raw": threshold,
            "failing_mates": failing.len(),
            "failing_fewer_minutiae_bins_upper": MINUTIAE_BINS,
            "failing_fewer_minutiae_counts": bins,
            "failing_registered_elsewhere": failing.iter().filter(|r| r.registered_elsewhere).count(),
            "bonus_p10_p50_p90_p99": {
                "failing_mates": quartiles(&failing_bonus),
                "all_mates": quartiles(&bonuses(&|r| r.genuine)),
                "impostors": quartiles(&impostor_bonus),
            },
            "failing_above_impostor_p90": above(0.9),
            "failing_above_impostor_p99": above(0.99),
        })
    );
    Ok(())
}

/// One compared pair.
struct Row {
    genuine: bool,
    /// The full comparison's raw score (0 when a template failed).
    raw: f32,
    /// Minutiae of the sparser template.
    fewer_minutiae: usize,
    /// Ridge bonus under the orientation fields' own registration.
    bonus: f32,
    /// Whether that registration places the prints elsewhere than the
    /// matcher's alignment.
    registered_elsewhere: bool,
}

impl Row {
    fn failed_to_enrol(genuine: bool) -> Self {
        Self {
            genuine,
            raw: 0.0,
            fewer_minutiae: 0,
            bonus: 0.0,
            registered_elsewhere: true,
        }
    }
}

fn percentile(sorted: &[f32], q: f64) -> f32 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((q * sorted.len() as f64) as usize).min(sorted.len() - 1)]
}

/// Whether two alignments place the gallery alike: turned within about
/// 11 degrees, and a point in the middle of a print landing within 24 px.
fn same_placement(a: &Similarity, b: &Similarity) -> bool {
    let turn = (a.rotation_rad - b.rotation_rad).sin().abs();
    let (x1, y1) = a.apply(150.0, 150.0);
    let (x2, y2) = b.apply(150.0, 150.0);
    turn < 0.2 && (x1 - x2).hypot(y1 - y2) < 24.0
}

/// Foreground cells of a template's ridge map: centre (template pixels)
/// and ridge orientation.
fn cells(t: &FingerTemplate) -> Vec<(f32, f32, f32)> {
    let Some(map) = t.ridge_map.as_ref() else {
        return Vec::new();
    };
    let side = f32::from(map.cell_px);
    let mut out = Vec::new();
    for row in 0..usize::from(map.rows) {
        for col in 0..usize::from(map.cols) {
            if let Some(cell) = map.cell(col, row) {
                out.push((
                    (col as f32 + 0.5) * side,
                    (row as f32 + 0.5) * side,
                    cell.orientation_rad,
                ));
            }
        }
    }
    out
}

/// The registration's objective: summed `cos 2Δ - AGREEMENT_FLOOR` over
/// the gallery cells that land on a probe foreground cell.
fn objective(probe: &FingerTemplate, gallery: &[(f32, f32, f32)], a: &Similarity) -> f32 {
    let Some(map) = probe.ridge_map.as_ref() else {
        return 0.0;
    };
    let side = f32::from(map.cell_px);
    let (sin, cos) = a.rotation_rad.sin_cos();
    let mut sum = 0.0;
    for &(x, y, orientation) in gallery {
        let (u, v) = (cos * x + sin * y + a.dx_px, -sin * x + cos * y + a.dy_px);
        if u < 0.0 || v < 0.0 {
            continue;
        }
        if let Some(cell) = map.cell((u / side) as usize, (v / side) as usize) {
            let delta = cell.orientation_rad - orientation - a.rotation_rad;
            sum += (2.0 * delta).cos() - AGREEMENT_FLOOR;
        }
    }
    sum
}

/// The rigid placement of `gallery` on `probe` (scale 1) that best aligns
/// their orientation fields; `None` without two ridge maps.
fn register(probe: &FingerTemplate, gallery: &FingerTemplate) -> Option<Similarity> {
    let map = probe.ridge_map.as_ref()?;
    let gallery_cells = cells(gallery);
    if gallery_cells.is_empty() {
        return None;
    }
    let side = f32::from(map.cell_px);
    let (width, height) = (f32::from(map.cols) * side, f32::from(map.rows) * side);
    let count = gallery_cells.len() as f32;
    let (cx, cy) = gallery_cells
        .iter()
        .fold((0.0, 0.0), |(x, y), c| (x + c.0 / count, y + c.1 / count));
    let mut best = (f32::MIN, None);
    let consider = |a: Similarity, best: &mut (f32, Option<Similarity>)| {
        let value = objective(probe, &gallery_cells, &a);
        if value > best.0 {
            *best = (value, Some(a));
        }
    };
    // Coarse: the gallery's centroid placed on every grid point of the
    // probe's picture, at every rotation.
    for step in 0..36 {
        let rotation_rad = (step as f32 * 10.0 - 180.0).to_radians();
        let (sin, cos) = rotation_rad.sin_cos();
        let (rx, ry) = (cos * cx + sin * cy, -sin * cx + cos * cy);
        let mut ty = 0.0;
        while ty <= height {
            let mut tx = 0.0;
            while tx <= width {
                let a = Similarity {
                    rotation_rad,
                    scale: 1.0,
                    dx_px: tx - rx,
                    dy_px: ty - ry,
                };
                consider(a, &mut best);
                tx += 16.0;
            }
            ty += 16.0;
        }
    }
    // Fine: three rounds around the best, halving both steps.
    let (mut turn, mut shift) = (5f32.to_radians(), 8.0f32);
    for _ in 0..3 {
        let centre = best.1?;
        for dr in [-1.0f32, 0.0, 1.0] {
            for dx in [-1.0f32, 0.0, 1.0] {
                for dy in [-1.0f32, 0.0, 1.0] {
                    let a = Similarity {
                        rotation_rad: centre.rotation_rad + dr * turn,
                        scale: 1.0,
                        dx_px: centre.dx_px + dx * shift,
                        dy_px: centre.dy_px + dy * shift,
                    };
                    consider(a, &mut best);
                }
            }
        }
        turn /= 2.0;
        shift /= 2.0;
    }
    best.1
}
