//! Learns the finger score calibration from real impostor comparisons and
//! checks it on a held-out database.
//!
//! `cargo run --release -p hoviyat-benches --example matcher_calibration -- [DATA_DIR] [--full]`
//!
//! With `--full` the scores are those of the full 1:1 comparison
//! (`finger::compare`), each unordered pair once, and the table printed is
//! the full comparison's maps: the one for minutiae-only pairs (ISO
//! records, and pyfnprint's extraction with its ridge maps set aside) and
//! the one for pairs that both carry ridge maps (this engine's extraction of
//! FVC2002 and pyfnprint). A database's sets are held out together.
//!
//! `DATA_DIR` (default `../shared/data/fingerprints`) holds `fvc2002-b/DB*_B`
//! (the ISO records in `iso/`, resolution from `dataset.json`) and
//! `pyfnprint-16x8` (PNG images, extracted here with the engine's
//! extractor at 500 dpi). Every ordered cross-finger pair of a database is one
//! impostor comparison as 1:N search makes it (prepared probe against a
//! gallery blob, with the screen): 19,200 unordered pairs, 38,400 scores.
//!
//! For each database in turn the map is learnt from the others and checked
//! on it: the observed FMR on the held-out impostors at the thresholds where
//! the map predicts 1e-2 and 1e-3 (in brackets: with the engine's built-in
//! map, which may have been learnt with the held-out set). Then the map learnt from all of them is
//! printed as the table `engine/src/finger/calibration.rs` embeds.
use std::path::{Path, PathBuf};

use hoviyat_benches::fvc::FvcDataset;
use hoviyat_benches::interval::impostor_share_interval;
use hoviyat_engine::finger::{Calibration, PreparedProbe, compare, encode_gallery};
use hoviyat_models::FingerTemplate;
use rayon::prelude::*;

/// Finger and template of every impression: the `iso/` records (at the
/// folder's stated resolution: the records say 500 dpi whatever the
/// scanner) or this engine's extraction (failures left out).
fn prints(dir: &Path, iso: bool) -> anyhow::Result<Vec<(u32, FingerTemplate)>> {
    let ds = FvcDataset::open(dir, None)?;
    let samples = if iso {
        ds.iso_samples()?
    } else {
        ds.extract_samples()?.samples
    };
    Ok(samples
        .into_iter()
        .filter_map(|s| s.template.map(|t| (s.finger, t)))
        .collect())
}

/// An impostor comparison: the two fingers and the raw score.
type Labelled = (u32, u32, f32);

/// Raw scores of every unordered cross-finger pair with the full 1:1
/// comparison.
fn full_impostor_scores(prints: &[(u32, FingerTemplate)]) -> anyhow::Result<Vec<Labelled>> {
    let pairs: Vec<(usize, usize)> = (0..prints.len())
        .flat_map(|a| (a + 1..prints.len()).map(move |b| (a, b)))
        .filter(|&(a, b)| prints[a].0 != prints[b].0)
        .collect();
    pairs
        .par_iter()
        .map(|&(a, b)| {
            let raw = compare(&prints[a].1, &prints[b].1)?.raw;
            Ok((prints[a].0, prints[b].0, raw))
        })
        .collect()
}

/// Raw scores of every ordered cross-finger pair.
fn impostor_scores(prints: &[(u32, FingerTemplate)]) -> anyhow::Result<Vec<Labelled>> {
    let probes: Vec<PreparedProbe> = prints
        .iter()
        .map(|(_, t)| PreparedProbe::new(t))
        .collect::<Result<_, _>>()?;
    let blobs: Vec<Vec<u8>> = prints
        .iter()
        .map(|(_, t)| encode_gallery(t))
        .collect::<Result<_, _>>()?;
    let mut scores = Vec::new();
    for (a, probe) in probes.iter().enumerate() {
        for (b, blob) in blobs.iter().enumerate() {
            if prints[a].0 != prints[b].0 {
                scores.push((prints[a].0, prints[b].0, probe.score(blob)?.raw));
            }
        }
    }
    Ok(scores)
}

fn main() -> anyhow::Result<()> {
    let full = std::env::args().any(|a| a == "--full");
    let dir = PathBuf::from(
        std::env::args()
            .skip(1)
            .find(|a| !a.starts_with("--"))
            .unwrap_or_else(|| "../shared/data/fingerprints".into()),
    );
    let impostor_scores = if full {
        full_impostor_scores
    } else {
        impostor_scores
    };
    // Sets of impostor scores with the group they are held out with (a
    // database's sets leave together) and whether both templates of each
    // pair carry ridge maps, which only the full comparison reads.
    let mut sets: Vec<(String, usize, bool, Vec<Labelled>)> = Vec::new();
    for (group, db) in ["DB1_B", "DB2_B", "DB3_B", "DB4_B"].into_iter().enumerate() {
        let dir = dir.join("fvc2002-b").join(db);
        sets.push((
            format!("fvc2002-{db}-iso"),
            group,
            false,
            impostor_scores(&prints(&dir, true)?)?,
        ));
        if full {
            let own = prints(&dir, false)?;
            sets.push((
                format!("fvc2002-{db}-own"),
                group,
                true,
                impostor_scores(&own)?,
            ));
        }
    }
    let own = prints(&dir.join("pyfnprint-16x8"), false)?;
    if full {
        sets.push((
            "pyfnprint-extracted".into(),
            4,
            true,
            impostor_scores(&own)?,
        ));
    }
    // The map without ridge maps has always had pyfnprint's minutiae.
    let minutiae_only: Vec<(u32, FingerTemplate)> = own
        .into_iter()
        .map(|(f, t)| {
            (
                f,
                FingerTemplate {
                    ridge_map: None,
                    ..t
                },
            )
        })
        .collect();
    sets.push((
        "pyfnprint-minutiae".into(),
        4,
        false,
        impostor_scores(&minutiae_only)?,
    ));
    let kinds: &[bool] = if full { &[false, true] } else { &[false] };
    for &ridge in kinds {
        let (builtin, table, what) = match (full, ridge) {
            (false, _) => (Calibration::default_finger(), "DEFAULT", "1:N scores"),
            (true, false) => (
                Calibration::default_finger_full(),
                "FULL",
                "full comparison, minutiae only",
            ),
            (true, true) => (
                Calibration::default_finger_ridge(),
                "RIDGE",
                "full comparison, both with ridge maps",
            ),
        };
        println!("\n{what}");
        println!(
            "held out               n      at predicted 1e-2: observed [95 % over fingers] (built-in map)   at 1e-3: observed [95 % over fingers] (built-in map)"
        );
        let of_kind: Vec<_> = sets.iter().filter(|s| s.2 == ridge).collect();
        for (name, group, _, held) in &of_kind {
            let rest: Vec<f32> = of_kind
                .iter()
                .filter(|s| s.1 != *group)
                .flat_map(|s| s.3.iter().map(|l| l.2))
                .collect();
            let cal = Calibration::from_impostor_scores(&rest)?;
            let observed = |c: &Calibration, decades: f32| {
                let above = held.iter().filter(|l| c.log10_fmr(l.2) >= decades).count();
                above as f64 / held.len() as f64
            };
            let spread = |c: &Calibration, decades: f32| {
                let above: Vec<(u32, u32, bool)> = held
                    .iter()
                    .map(|l| (l.0, l.1, c.log10_fmr(l.2) >= decades))
                    .collect();
                let i = impostor_share_interval(&above);
                format!("[{:.1e}, {:.1e}]", i.low, i.high)
            };
            println!(
                "{name:22} {:6}  {:.2e} {} ({:.2e})       {:.2e} {} ({:.2e})",
                held.len(),
                observed(&cal, 2.0),
                spread(&cal, 2.0),
                observed(builtin, 2.0),
                observed(&cal, 3.0),
                spread(&cal, 3.0),
                observed(builtin, 3.0),
            );
        }
        let all: Vec<f32> = of_kind
            .iter()
            .flat_map(|s| s.3.iter().map(|l| l.2))
            .collect();
        let cal = Calibration::from_impostor_scores(&all)?;
        let names: Vec<&str> = of_kind.iter().map(|s| s.0.as_str()).collect();
        println!("// {} impostor scores: {}", all.len(), names.join(", "));
        println!("const {table}_POINTS: &[(f32, f32)] = &[");
        for (raw, e) in cal.points() {
            println!("    ({raw:.4}, {e:.4}),");
        }
        println!("];");
        println!("const {table}_TAIL_SLOPE: f32 = {:.4};", cal.tail_slope());
    }
    Ok(())
}
