//! How much local (cylinder) similarity the full 1:1 comparison should add
//! to the alignment score: per FVC2002 database (the `iso/` records and
//! this engine's extraction) and pyfnprint, all-pairs, the EER / FMR1000 of
//! the alignment score alone, of `raw + w x similarity` for a few weights,
//! and of the similarity alone.
//!
//! `cargo run --release -p hoviyat-benches --example matcher_local_fusion -- [DATA_DIR] [--weights 10,20,30]`
//!
//! `DATA_DIR` (default `../shared/data/fingerprints`) holds `fvc2002-b/DB*_B`
//! and `pyfnprint-16x8`. The alignment score is `finger::compare`'s with the
//! local term (`finger::local_similarity`) taken off again, so the figures
//! hold for any built-in weight.
//! Also prints the median cost of building a template's cylinders, of
//! comparing two templates' cylinders, and of the whole `compare` (on DB1_B's
//! ISO records, and on its extraction with and without the ridge maps).
use std::path::PathBuf;
use std::time::Instant;

use hoviyat_benches::fingers::Sample;
use hoviyat_benches::fvc::FvcDataset;
use hoviyat_engine::finger::mcc::Cylinders;
use hoviyat_engine::finger::{LOCAL_SIMILARITY_WEIGHT_RAW, compare, explain, local_similarity};
use hoviyat_engine::metrics::VerificationReport;
use hoviyat_models::FingerTemplate;
use rayon::prelude::*;

/// One comparison: whether the two are mates, the alignment score and the
/// local similarity.
struct Pair {
    genuine: bool,
    alignment: f64,
    local: f64,
}

fn score_set(samples: &[Sample]) -> anyhow::Result<Vec<Pair>> {
    let pairs: Vec<(usize, usize)> = (0..samples.len())
        .flat_map(|a| (a + 1..samples.len()).map(move |b| (a, b)))
        .collect();
    pairs
        .par_iter()
        .map(|&(a, b)| {
            let genuine = samples[a].finger == samples[b].finger;
            let (alignment, local) = match (&samples[a].template, &samples[b].template) {
                (Some(ta), Some(tb)) => {
                    let e = explain(ta, tb)?;
                    let local = local_similarity(ta, tb, e.alignment)?;
                    let raw = e.score.raw - LOCAL_SIMILARITY_WEIGHT_RAW * local;
                    (f64::from(raw), f64::from(local))
                }
                _ => (0.0, 0.0),
            };
            Ok(Pair {
                genuine,
                alignment,
                local,
            })
        })
        .collect()
}

fn figures(pairs: &[Pair], score: impl Fn(&Pair) -> f64) -> (f64, f64) {
    let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
    for p in pairs {
        if p.genuine {
            genuine.push(score(p));
        } else {
            impostor.push(score(p));
        }
    }
    let r = VerificationReport::new(&genuine, &impostor);
    (100.0 * r.eer, 100.0 * r.fmr1000)
}

fn median_us(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0) * 1e6
}

/// Median costs on one set, one thread.
fn costs(samples: &[Sample]) -> anyhow::Result<(f64, f64, f64)> {
    let templates: Vec<_> = samples.iter().filter_map(|s| s.template.as_ref()).collect();
    let (mut build, mut similarity, mut whole) = (Vec::new(), Vec::new(), Vec::new());
    let mut cylinders = Vec::new();
    for t in &templates {
        let started = Instant::now();
        cylinders.push(Cylinders::new(t));
        build.push(started.elapsed().as_secs_f64());
    }
    for a in 0..templates.len() {
        let b = (a + 1) % templates.len();
        let started = Instant::now();
        std::hint::black_box(cylinders[a].similarity(&cylinders[b]));
        similarity.push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        std::hint::black_box(compare(templates[a], templates[b])?);
        whole.push(started.elapsed().as_secs_f64());
    }
    Ok((median_us(build), median_us(similarity), median_us(whole)))
}

fn main() -> anyhow::Result<()> {
    let mut root = PathBuf::from("../shared/data/fingerprints");
    let mut weights = vec![10.0, 20.0, 30.0, 40.0];
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--weights" {
            let list = args.next().unwrap_or_default();
            weights = list.split(',').map(str::parse).collect::<Result<_, _>>()?;
        } else {
            root = PathBuf::from(a);
        }
    }
    let mut sets: Vec<(String, Vec<Sample>)> = Vec::new();
    for db in ["DB1_B", "DB2_B", "DB3_B", "DB4_B"] {
        let ds = FvcDataset::open(&root.join("fvc2002-b").join(db), None)?;
        sets.push((format!("{db} iso"), ds.iso_samples()?));
        sets.push((format!("{db} own"), ds.extract_samples()?.samples));
    }
    let ds = FvcDataset::open(&root.join("pyfnprint-16x8"), None)?;
    sets.push(("pyfnprint own".into(), ds.extract_samples()?.samples));

    let (build, similarity, whole) = costs(&sets[0].1)?;
    println!(
        "{}: cylinders {build:.0} us per template, similarity {similarity:.0} us, whole compare {whole:.0} us (medians, one thread)",
        sets[0].0
    );
    // The ridge maps' share of a comparison: the same extracted templates
    // with and without their maps, back to back.
    let own = &sets[1].1;
    let (_, _, with_maps) = costs(own)?;
    let stripped: Vec<Sample> = own
        .iter()
        .map(|s| Sample {
            template: s.template.clone().map(|t| FingerTemplate {
                ridge_map: None,
                ..t
            }),
            ..s.clone()
        })
        .collect();
    let (_, _, without) = costs(&stripped)?;
    println!(
        "{}: whole compare {with_maps:.0} us with ridge maps, {without:.0} us without (medians, one thread)",
        sets[1].0
    );
    print!("{:13} | alignment   ", "set");
    for w in &weights {
        print!(" | w = {w:<7}");
    }
    println!(" | local only");
    let columns = weights.len() + 2;
    let mut means = vec![(0.0, 0.0); columns];
    for (name, samples) in &sets {
        let pairs = score_set(samples)?;
        let mut row = vec![figures(&pairs, |p| p.alignment)];
        for w in &weights {
            row.push(figures(&pairs, |p| p.alignment + w * p.local));
        }
        row.push(figures(&pairs, |p| p.local));
        print!("{name:13}");
        for (k, (eer, fmr1000)) in row.into_iter().enumerate() {
            means[k].0 += eer / sets.len() as f64;
            means[k].1 += fmr1000 / sets.len() as f64;
            print!(" | {eer:5.2}/{fmr1000:5.2}");
        }
        println!();
    }
    print!("{:13}", "mean");
    for (eer, fmr1000) in means {
        print!(" | {eer:5.2}/{fmr1000:5.2}");
    }
    println!("\n(EER / FMR1000 in %)");
    Ok(())
}
