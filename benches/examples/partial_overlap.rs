//! How much finger two impressions of a robustness family (`partial` by
//! default, or `combined`) still share: a floor under the family's EER
//! that no matcher can go below.
//!
//! `partial` keeps a random 40-70 % window of impressions 2..N; `combined`
//! also turns, rescales and shifts them before that window is cut, so part
//! of the window can show no finger at all. Two impressions of a finger
//! were also placed differently on the sensor, so two kept regions can show
//! different parts of the finger. For every genuine pair this registers
//! the two unchanged impressions with the full 1:1 comparison (trusted only
//! where it is strong), then measures the finger area (ridge-map
//! foreground) that both changed impressions still show, in mm², and
//! prints it beside the pair's score in the family and that score's rank
//! among the impostors.
//!
//! ```text
//! cargo run --release -p hoviyat-benches --example partial_overlap -- \
//!     ../shared/data/fingerprints/fvc2002-b/DB1_B 1 [partial|combined]
//! ```
//!
//! One line per genuine pair on stdout (`finger_a_imp finger_b_imp
//! common_mm2 original_raw family_raw`), then a summary.

use std::path::PathBuf;

use hoviyat_benches::fvc::FvcDataset;
use hoviyat_benches::robustness::{extract_with_changes, image_changes};
use hoviyat_datasets::robustness::{Change, Family};
use hoviyat_engine::finger::{Similarity, compare, explain};
use hoviyat_engine::metrics::Scores;
use hoviyat_models::FingerTemplate;
use rayon::prelude::*;

/// Raw full-comparison score from which the unchanged impressions'
/// alignment is trusted as the finger's registration.
const TRUSTED_RAW: f32 = 10.0;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .expect("usage: partial_overlap DIR [SEED] [partial|combined]"),
    );
    let seed: u64 = args.next().map_or(Ok(1), |s| s.parse())?;
    let family = match args.next().as_deref() {
        None | Some("partial") => Family::Partial,
        Some("combined") => Family::Combined,
        Some(other) => anyhow::bail!("family {other}: partial or combined"),
    };
    let ds = FvcDataset::open(&dir, None)?;
    let original = ds.extract_samples()?.samples;
    // The change of each impression (`None`: kept as captured).
    let changes = image_changes(&ds, family, seed)?;
    let changed = extract_with_changes(&ds, &changes)?;
    let n = original.len();
    let pairs: Vec<(usize, usize)> = (0..n)
        .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
        .collect();
    let scored: Vec<(usize, usize, bool, f32)> = pairs
        .par_iter()
        .map(|&(a, b)| {
            let genuine = original[a].finger == original[b].finger;
            let raw = match (&changed[a].template, &changed[b].template) {
                (Some(ta), Some(tb)) => compare(ta, tb).map_or(0.0, |s| s.raw),
                _ => 0.0,
            };
            (a, b, genuine, raw)
        })
        .collect();
    let mut impostors: Vec<f32> = scored.iter().filter(|s| !s.2).map(|s| s.3).collect();
    impostors.sort_by(|x, y| y.total_cmp(x));
    let threshold_1pct = impostors[impostors.len() / 100];
    let genuine: Vec<_> = scored.iter().filter(|s| s.2).collect();
    let rows: Vec<PairRow> = genuine
        .par_iter()
        .map(|&&(a, b, _, family_raw)| {
            let (Some(ta), Some(tb)) = (&original[a].template, &original[b].template) else {
                return PairRow {
                    a,
                    b,
                    common_mm2: None,
                    original_raw: 0.0,
                    family_raw,
                };
            };
            let e = explain(ta, tb).expect("templates compare");
            let common = (e.score.raw >= TRUSTED_RAW)
                .then_some(e.alignment)
                .flatten()
                .and_then(|al| {
                    let a = (ta, changes[a].as_ref());
                    common_mm2(a, (tb, changes[b].as_ref()), f32::from(ds.dpi), &al)
                });
            PairRow {
                a,
                b,
                common_mm2: common,
                original_raw: e.score.raw,
                family_raw,
            }
        })
        .collect();
    let name = |i: usize| format!("{}_{}", original[i].finger, original[i].impression);
    for r in &rows {
        let common = r
            .common_mm2
            .map_or("untrusted".to_string(), |c| format!("{c:.1}"));
        println!(
            "{} {} {common} {:.2} {:.2}",
            name(r.a),
            name(r.b),
            r.original_raw,
            r.family_raw
        );
    }
    let below = |limit: f32| {
        rows.iter()
            .filter(|r| r.common_mm2.is_some_and(|c| c < limit))
            .count()
    };
    let failing = rows
        .iter()
        .filter(|r| r.family_raw < threshold_1pct)
        .count();
    let trusted = rows.iter().filter(|r| r.common_mm2.is_some()).count();
    eprintln!(
        "{}: {} genuine pairs, registration trusted for {trusted}; common finger area < 10 mm2: {}, < 20: {}, < 30: {}, < 50: {}; below the 1 % FMR threshold ({threshold_1pct:.2} raw) in the family: {failing}",
        dir.display(),
        rows.len(),
        below(10.0),
        below(20.0),
        below(30.0),
        below(50.0),
    );
    let impostor_scores: Vec<f64> = impostors.iter().map(|&s| f64::from(s)).collect();
    let eer = |keep: &dyn Fn(&PairRow) -> bool| {
        let genuine: Vec<f64> = rows
            .iter()
            .filter(|r| keep(r))
            .map(|r| f64::from(r.family_raw))
            .collect();
        (genuine.len(), Scores::new(&genuine, &impostor_scores).eer())
    };
    let (n_all, eer_all) = eer(&|_| true);
    let (n_common, eer_common) = eer(&|r| r.common_mm2.is_none_or(|c| c >= 30.0));
    eprintln!(
        "  family EER {:.2} % ({n_all} genuine, {} impostor pairs); leaving out the pairs known to share < 30 mm2: {:.2} % ({n_common} genuine)",
        eer_all * 100.0,
        impostor_scores.len(),
        eer_common * 100.0
    );
    let failing_small = rows
        .iter()
        .filter(|r| r.family_raw < threshold_1pct && r.common_mm2.is_some_and(|c| c < 30.0))
        .count();
    eprintln!("  of those below the threshold, with < 30 mm2 in common: {failing_small}");
    Ok(())
}

/// One genuine pair: image indices, the finger area both kept windows show
/// (when the registration is trusted), the unchanged impressions' raw score
/// and the family's.
struct PairRow {
    a: usize,
    b: usize,
    common_mm2: Option<f32>,
    original_raw: f32,
    family_raw: f32,
}

/// Whether the point `(x, y)` of an unchanged impression's template is
/// still in the picture after `change` (every point is when there is
/// none). The change moves image pixels; a template from an image of
/// another resolution than the matcher's 500 dpi has its coordinates at
/// 500 dpi, `image_px` image pixels per template pixel.
fn kept(change: Option<&Change>, image_px: f32, x: f32, y: f32) -> bool {
    change.is_none_or(|c| {
        let (w, h) = c.output_size();
        let (ox, oy) = c.forward(x * image_px, y * image_px);
        ox >= 0.0 && oy >= 0.0 && ox < w as f32 && oy < h as f32
    })
}

/// Finger area (mm²) of `a` that its change keeps and that, mapped through
/// `b_to_a` (gallery `b` into probe `a`), lies on `b`'s foreground and is
/// kept by `b`'s change; points in the unchanged impressions' templates,
/// whose images were scanned at `image_dpi`.
fn common_mm2(
    (a, change_a): (&FingerTemplate, Option<&Change>),
    (b, change_b): (&FingerTemplate, Option<&Change>),
    image_dpi: f32,
    b_to_a: &Similarity,
) -> Option<f32> {
    let image_px = |t: &FingerTemplate| image_dpi / f32::from(t.dpi.max(1));
    let (image_px_a, image_px_b) = (image_px(a), image_px(b));
    let (map_a, map_b) = (a.ridge_map.as_ref()?, b.ridge_map.as_ref()?);
    let a_to_b = b_to_a.inverse();
    let cell_a = f32::from(map_a.cell_px);
    let cell_b = f32::from(map_b.cell_px);
    // Sample each foreground cell of `a` on a 4 x 4 grid.
    let step = cell_a / 4.0;
    let mut hits = 0u32;
    for row in 0..usize::from(map_a.rows) {
        for col in 0..usize::from(map_a.cols) {
            if map_a.cell(col, row).is_none() {
                continue;
            }
            for sy in 0..4 {
                for sx in 0..4 {
                    let x = col as f32 * cell_a + (sx as f32 + 0.5) * step;
                    let y = row as f32 * cell_a + (sy as f32 + 0.5) * step;
                    if !kept(change_a, image_px_a, x, y) {
                        continue;
                    }
                    let (bx, by) = a_to_b.apply(x, y);
                    if bx < 0.0 || by < 0.0 || !kept(change_b, image_px_b, bx, by) {
                        continue;
                    }
                    if map_b
                        .cell((bx / cell_b) as usize, (by / cell_b) as usize)
                        .is_some()
                    {
                        hits += 1;
                    }
                }
            }
        }
    }
    let px_per_mm = f32::from(a.dpi) / 25.4;
    Some(hits as f32 * step * step / (px_per_mm * px_per_mm))
}
