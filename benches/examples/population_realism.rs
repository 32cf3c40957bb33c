//! Impostor scores of `synth population` fingers beside real impostor
//! pairs, on the matcher's raw scale (independent of the calibration) and
//! on the calibrated one: do synthetic people resemble each other as much
//! as real people do?
//!
//! `cargo run --release -p hoviyat-benches --example population_realism -- ROOT [ROOT...]`
//! (each ROOT a dataset folder or a folder of them; `iso/` records are used
//! where a folder has them, our extraction elsewhere). Prints one JSON object.
use hoviyat_benches::fingers::{Protocol, Sample, protocol_pairs};
use hoviyat_benches::fvc::FvcDataset;
use hoviyat_datasets::synth::{Population, PopulationConfig};
use hoviyat_engine::finger::{PreparedProbe, Score, encode_gallery};
use hoviyat_models::FingerTemplate;
use rayon::prelude::*;

fn score(a: &FingerTemplate, b: &FingerTemplate) -> anyhow::Result<Score> {
    Ok(PreparedProbe::new(a)?.score(&encode_gallery(b)?)?)
}

fn summary(mut v: Vec<f64>) -> serde_json::Value {
    v.sort_by(f64::total_cmp);
    let q = |f: f64| hoviyat_benches::quantile(&v, f).unwrap_or(0.0);
    serde_json::json!({
        "count": v.len(), "p50": q(0.5), "p90": q(0.9), "p99": q(0.99),
        "p999": q(0.999), "max": q(1.0),
        "mean": v.iter().sum::<f64>() / v.len().max(1) as f64,
    })
}

fn main() -> anyhow::Result<()> {
    let roots: Vec<String> = std::env::args().skip(1).collect();
    anyhow::ensure!(
        !roots.is_empty(),
        "usage: population_realism ROOT [ROOT...]"
    );
    let mut real = Vec::new();
    let mut minutiae = Vec::new();
    for root in &roots {
        for dir in hoviyat_datasets::fvc::find_datasets(std::path::Path::new(root))? {
            let ds = FvcDataset::open(&dir, None)?;
            let samples: Vec<Sample> = if ds.has_iso() {
                ds.iso_samples()?
            } else {
                ds.extract_samples()?.samples
            };
            minutiae.extend(
                samples
                    .iter()
                    .filter_map(|s| s.template.as_ref())
                    .map(|t| t.minutiae.len() as f64),
            );
            let pairs = protocol_pairs(&samples, Protocol::AllPairs);
            let scores: Vec<Score> = pairs
                .par_iter()
                .filter(|p| !p.2)
                .filter_map(|&(a, b, _)| {
                    let (Some(x), Some(y)) = (&samples[a].template, &samples[b].template) else {
                        return None;
                    };
                    score(x, y).ok()
                })
                .collect();
            real.extend(scores);
        }
    }
    let population = Population::new(PopulationConfig::new(11, 400))?;
    let identities: Vec<_> = (0..400).map(|i| population.identity(i)).collect();
    let synth_minutiae: Vec<f64> = identities
        .iter()
        .flat_map(|r| r.fingers.iter().map(|f| f.minutiae.len() as f64))
        .collect();
    // Same position, different people: every pair of the first 200 people
    // at position k, k cycling over the fingers.
    let pairs: Vec<(usize, usize)> = (0..200)
        .flat_map(|i| (i + 1..200).map(move |j| (i, j)))
        .collect();
    let synthetic: Vec<Score> = pairs
        .par_iter()
        .filter_map(|&(i, j)| {
            let k = (i + j) % 10;
            let a = identities[i].fingers.get(k)?;
            let b = identities[j]
                .fingers
                .iter()
                .find(|f| f.position == a.position)?;
            score(a, b).ok()
        })
        .collect();
    let raw = |s: &[Score]| summary(s.iter().map(|s| f64::from(s.raw)).collect());
    let cal = |s: &[Score]| summary(s.iter().map(|s| f64::from(s.log10_fmr)).collect());
    println!(
        "{}",
        serde_json::json!({
            "real": {"raw": raw(&real), "log10_fmr": cal(&real), "minutiae": summary(minutiae)},
            "synthetic": {"raw": raw(&synthetic), "log10_fmr": cal(&synthetic), "minutiae": summary(synth_minutiae)},
        })
    );
    Ok(())
}
