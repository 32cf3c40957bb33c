//! `hoviyat synth`: seeded synthetic fingerprint images and populations.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use hoviyat_datasets::synth::{FingerprintConfig, SyntheticFinger};

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
}

pub fn run(args: SynthArgs) -> anyhow::Result<()> {
    match args.command {
        SynthCommand::Fingerprints(a) => fingerprints(a),
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
