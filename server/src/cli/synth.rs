//! `hoviyat synth`: seeded synthetic fingerprint images and populations.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use hoviyat_datasets::synth::{
    FaceConfig, FingerprintConfig, Population, PopulationConfig, SyntheticFinger,
};
use hoviyat_datasets::{PopulationHeader, PopulationWriter};
use hoviyat_models::binary::encode_record;

/// Generate synthetic biometric data.
#[derive(Debug, Args)]
pub struct SynthArgs {
    #[command(subcommand)]
    command: SynthCommand,
}

#[derive(Debug, Subcommand)]
enum SynthCommand {
    /// Fingerprint images (FVC naming `{finger}_{impression}.png`) with a
    /// ground-truth JSON file per image.
    Fingerprints(FingerprintsArgs),
    /// A template-level population (ten fingers and a face per identity) as
    /// a population file that `hoviyat gallery import` reads.
    Population(PopulationArgs),
}

#[derive(Debug, Args)]
struct PopulationArgs {
    /// Number of identities.
    #[arg(long)]
    identities: u64,
    /// Seed; the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output population file.
    #[arg(long)]
    out: PathBuf,
    /// Face template dimension; 0 writes finger-only records.
    #[arg(long, default_value_t = 512)]
    face_dim: usize,
    /// Mean cosine between two face captures of one person.
    #[arg(long, default_value_t = 0.7)]
    face_genuine_cosine: f32,
    /// Standard deviation of the face cosine between different people.
    #[arg(long, default_value_t = 0.07)]
    face_impostor_std: f32,
    /// Print one JSON summary object on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct FingerprintsArgs {
    /// Number of distinct fingers.
    #[arg(long, default_value_t = 10)]
    fingers: u32,
    /// Impressions per finger.
    #[arg(long, default_value_t = 8)]
    impressions: u32,
    /// Seed; the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output folder (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Print one JSON summary object on stdout.
    #[arg(long)]
    json: bool,
    /// Also write each noise-free master as `master_{finger}.png`.
    #[arg(long)]
    masters: bool,
}

pub fn run(args: SynthArgs) -> anyhow::Result<()> {
    match args.command {
        SynthCommand::Fingerprints(a) => fingerprints(a),
        SynthCommand::Population(a) => population(a),
    }
}

fn progress(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{elapsed_precise}} [{{bar:40}}] {{pos}}/{{len}} {what} ({{per_sec}}, eta {{eta}})"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

fn fingerprints(a: FingerprintsArgs) -> anyhow::Result<()> {
    anyhow::ensure!(a.fingers >= 1, "--fingers must be at least 1");
    anyhow::ensure!(a.impressions >= 1, "--impressions must be at least 1");
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    let cfg = FingerprintConfig::default();
    let started = Instant::now();
    let bar = progress(u64::from(a.fingers) * u64::from(a.impressions), "images");
    let counts: Vec<usize> = (1..=a.fingers)
        .into_par_iter()
        .map(|finger| -> anyhow::Result<Vec<usize>> {
            let master = SyntheticFinger::new(a.seed, finger, &cfg);
            if a.masters {
                let path = a.out.join(format!("master_{finger}.png"));
                master
                    .master_image()
                    .save(&path)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                let path = a.out.join(format!("master_{finger}.json"));
                let json = serde_json::json!({ "minutiae": master.master_minutiae() });
                std::fs::write(&path, json.to_string())
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            (1..=a.impressions)
                .map(|impression| {
                    let imp = master.impression(impression, &cfg);
                    let stem = a.out.join(format!("{finger}_{impression}"));
                    let png = stem.with_extension("png");
                    imp.image
                        .save(&png)
                        .with_context(|| format!("cannot write {}", png.display()))?;
                    let gt = stem.with_extension("json");
                    let text = serde_json::to_string_pretty(&imp.ground_truth(a.seed))?;
                    std::fs::write(&gt, text)
                        .with_context(|| format!("cannot write {}", gt.display()))?;
                    bar.inc(1);
                    Ok(imp.minutiae.len())
                })
                .collect()
        })
        .collect::<anyhow::Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect();
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let images = counts.len();
    let mean_minutiae = counts.iter().sum::<usize>() as f64 / images as f64;
    let summary = serde_json::json!({
        "command": "synth fingerprints",
        "out": a.out,
        "seed": a.seed,
        "fingers": a.fingers,
        "impressions": a.impressions,
        "images": images,
        "mean_minutiae_per_image": mean_minutiae,
        "seconds": seconds,
        "images_per_second": images as f64 / seconds,
    });
    if a.json {
        println!("{summary}");
    } else {
        eprintln!(
            "wrote {images} images with ground truth to {} in {seconds:.1} s ({:.1} images/s, {mean_minutiae:.1} minutiae per image)",
            a.out.display(),
            images as f64 / seconds
        );
    }
    Ok(())
}

/// Identities generated in parallel before being written in order.
const CHUNK: u64 = 4096;

fn population(a: PopulationArgs) -> anyhow::Result<()> {
    let mut cfg = PopulationConfig::new(a.seed, a.identities);
    cfg.face = (a.face_dim > 0).then(|| FaceConfig {
        dim: a.face_dim,
        genuine_cosine: a.face_genuine_cosine,
        impostor_cosine_std: a.face_impostor_std,
        ..FaceConfig::default()
    });
    let pop = Population::new(cfg)?;
    let header = PopulationHeader {
        seed: a.seed,
        count: a.identities,
        face_dim: u32::try_from(a.face_dim)?,
    };
    let mut writer = PopulationWriter::create(&a.out, header)?;
    let started = Instant::now();
    let bar = progress(a.identities, "identities");
    let (mut bytes, mut fingers, mut minutiae) = (0u64, 0u64, 0u64);
    let mut start = 0;
    while start < a.identities {
        let end = (start + CHUNK).min(a.identities);
        let chunk: Vec<(Vec<u8>, u64, u64)> = (start..end)
            .into_par_iter()
            .map(|i| {
                let record = pop.identity(i);
                let m: usize = record.fingers.iter().map(|f| f.minutiae.len()).sum();
                let f = record.fingers.len();
                Ok((encode_record(&record)?, f as u64, m as u64))
            })
            .collect::<anyhow::Result<_>>()?;
        for (encoded, f, m) in chunk {
            writer.write_encoded(&encoded)?;
            bytes += encoded.len() as u64 + 8;
            fingers += f;
            minutiae += m;
        }
        bar.set_position(end);
        start = end;
    }
    writer.finish()?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let summary = serde_json::json!({
        "command": "synth population",
        "out": a.out,
        "seed": a.seed,
        "identities": a.identities,
        "face_dim": a.face_dim,
        "fingers": fingers,
        "mean_minutiae_per_finger": minutiae as f64 / fingers.max(1) as f64,
        "bytes": bytes + 32,
        "seconds": seconds,
        "identities_per_second": a.identities as f64 / seconds,
    });
    if a.json {
        println!("{summary}");
    } else {
        eprintln!(
            "wrote {} identities ({:.1} MB) to {} in {seconds:.1} s ({:.0} identities/s)",
            a.identities,
            (bytes + 32) as f64 / 1e6,
            a.out.display(),
            a.identities as f64 / seconds
        );
    }
    Ok(())
}
