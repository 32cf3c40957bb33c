//! How many of a genuine pair's minutia correspondences a robustness family
//! leaves, and how many of those the matcher still pairs.
//!
//! Works on template-level changes (`eval robustness --templates iso`, or
//! our extraction's minutiae moved the same way with `extract`). The pairs
//! the full 1:1 comparison makes between the two unchanged impressions are
//! taken as the pair's correspondences; every minutia is traced through
//! the family's change (crop, missed and spurious minutiae), and a
//! correspondence survives where both of its minutiae do. Then the changed
//! impressions are compared and the pairs that repeat a surviving
//! correspondence are counted. A mate left with fewer than
//! [`FEW_CORRESPONDENCES`] has little for any minutiae comparison to find.
//!
//! ```text
//! cargo run --release -p hoviyat-benches --example family_survival -- \
//!     ../shared/data/fingerprints/fvc2002-b/DB1_B combined [SEED] [iso|extract]
//! ```
//!
//! Prints one summary line: genuine pairs, how many keep fewer than
//! [`FEW_CORRESPONDENCES`] correspondences, how many of the
//! [`WEAKEST`] weakest genuine comparisons in the family those are, and how
//! many of the weakest keep at least [`MANY_CORRESPONDENCES`] of which the
//! matcher pairs fewer than three.

use std::collections::HashSet;
use std::path::PathBuf;

use hoviyat_benches::fvc::FvcDataset;
use hoviyat_benches::robustness::image_changes;
use hoviyat_datasets::robustness::Family;
use hoviyat_engine::finger::explain;
use hoviyat_models::FingerTemplate;
use rayon::prelude::*;

/// Surviving correspondences under which a mate counts as left with little.
const FEW_CORRESPONDENCES: usize = 5;
/// Surviving correspondences from which a mate counts as left with plenty.
const MANY_CORRESPONDENCES: usize = 8;
/// Weakest genuine comparisons looked at.
const WEAKEST: usize = 40;
/// Quality tags start here; a traced minutia carries `TAG_BASE + index`.
const TAG_BASE: u8 = 100;

/// A changed template and, per minutia, the index of the original minutia
/// it came from (`None`: spurious).
struct Traced {
    template: FingerTemplate,
    origin: Vec<Option<usize>>,
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or_else(|| {
        anyhow::anyhow!("usage: family_survival DIR FAMILY [SEED] [iso|extract]")
    })?);
    let family_name = args.next().unwrap_or_else(|| "combined".into());
    let family = Family::ALL
        .into_iter()
        .find(|f| f.name() == family_name)
        .ok_or_else(|| anyhow::anyhow!("unknown family {family_name}"))?;
    let seed: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1);
    let extract = args.next().as_deref() == Some("extract");

    let ds = FvcDataset::open(&dir, None)?;
    let samples = if extract {
        ds.extract_samples()?.samples
    } else {
        ds.iso_samples()?
    };
    // Ridge maps are not moved by a template change; the comparison here is
    // of minutiae only.
    let original: Vec<FingerTemplate> = samples
        .iter()
        .map(|s| {
            s.template
                .clone()
                .map(|t| FingerTemplate {
                    ridge_map: None,
                    ..t
                })
                .ok_or_else(|| anyhow::anyhow!("a sample without a template"))
        })
        .collect::<anyhow::Result<_>>()?;
    anyhow::ensure!(
        original
            .iter()
            .all(|t| t.minutiae.len() <= usize::from(u8::MAX - TAG_BASE)),
        "a template has too many minutiae to tag"
    );
    let changes = image_changes(&ds, family, seed)?;
    let changed: Vec<Traced> = original
        .iter()
        .zip(&changes)
        .map(|(t, change)| {
            let Some(change) = change else {
                return Traced {
                    template: t.clone(),
                    origin: (0..t.minutiae.len()).map(Some).collect(),
                };
            };
            // The change of a copy whose qualities name each minutia (the
            // change's draws do not read qualities), then the qualities put
            // back: spurious minutiae keep the ones the change gave them.
            let mut tagged = t.clone();
            for (k, m) in tagged.minutiae.iter_mut().enumerate() {
                m.quality = TAG_BASE + k as u8;
            }
            let mut template = change.apply_template(&tagged);
            let origin: Vec<Option<usize>> = template
                .minutiae
                .iter()
                .map(|m| (m.quality >= TAG_BASE).then(|| usize::from(m.quality - TAG_BASE)))
                .collect();
            for (m, o) in template.minutiae.iter_mut().zip(&origin) {
                if let Some(i) = o {
                    m.quality = t.minutiae[*i].quality;
                }
            }
            Traced { template, origin }
        })
        .collect();

    let genuine: Vec<(usize, usize)> = (0..original.len())
        .flat_map(|a| (a + 1..original.len()).map(move |b| (a, b)))
        .filter(|&(a, b)| ds.images[a].finger == ds.images[b].finger)
        .collect();
    // (family raw score, surviving correspondences, of those paired again)
    let mut rows: Vec<(f32, usize, usize)> = genuine
        .par_iter()
        .map(|&(a, b)| {
            let truth: HashSet<(usize, usize)> = explain(&original[a], &original[b])?
                .pairs
                .iter()
                .map(|p| (p.probe, p.gallery))
                .collect();
            let (ca, cb) = (&changed[a], &changed[b]);
            let kept = |t: &Traced| t.origin.iter().flatten().copied().collect::<HashSet<_>>();
            let (kept_a, kept_b) = (kept(ca), kept(cb));
            let surviving = truth
                .iter()
                .filter(|(i, j)| kept_a.contains(i) && kept_b.contains(j))
                .count();
            let e = explain(&ca.template, &cb.template)?;
            let repeated = e
                .pairs
                .iter()
                .filter(|p| match (ca.origin[p.probe], cb.origin[p.gallery]) {
                    (Some(i), Some(j)) => truth.contains(&(i, j)),
                    _ => false,
                })
                .count();
            Ok((e.score.raw, surviving, repeated))
        })
        .collect::<hoviyat_engine::Result<_>>()?;
    rows.sort_by(|x, y| x.0.total_cmp(&y.0));

    let few = |r: &&(f32, usize, usize)| r.1 < FEW_CORRESPONDENCES;
    let weakest = &rows[..WEAKEST.min(rows.len())];
    let missed = weakest
        .iter()
        .filter(|r| r.1 >= MANY_CORRESPONDENCES && r.2 < 3)
        .count();
    println!(
        "{} {} seed {seed}: genuine {}, fewer than {FEW_CORRESPONDENCES} correspondences {}; \
         of the {} weakest: fewer than {FEW_CORRESPONDENCES} {}, at least {MANY_CORRESPONDENCES} {} \
         (of which under 3 paired again {missed})",
        dir.display(),
        family.name(),
        rows.len(),
        rows.iter().filter(few).count(),
        weakest.len(),
        weakest.iter().filter(few).count(),
        weakest
            .iter()
            .filter(|r| r.1 >= MANY_CORRESPONDENCES)
            .count(),
    );
    Ok(())
}
