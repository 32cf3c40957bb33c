//! Minutiae recall and precision on seeded synthetic impressions forced into
//! one capture condition each (dry, wet, low contrast, partial contact):
//! `extract_conditions [SEED] [FINGERS] [OUTDIR]`; with OUTDIR, the first
//! impression of each condition is written there as a PNG.

use hoviyat_datasets::synth::{self, FingerprintConfig, ImpressionConfig, Skin};
use hoviyat_engine::extract::accuracy::{MatchCounts, Tolerance, compare_masked};
use hoviyat_engine::extract::{self, ExtractConfig};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seed: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(2026);
    let fingers: u32 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20);
    let outdir = args.get(2);
    for skin in [
        Skin::Random,
        Skin::Dry,
        Skin::Wet,
        Skin::LowContrast,
        Skin::Partial,
    ] {
        let cfg = FingerprintConfig {
            impression: ImpressionConfig {
                skin,
                ..ImpressionConfig::default()
            },
            ..FingerprintConfig::default()
        };
        let mut total = MatchCounts::default();
        let mut failures = 0;
        for finger in 1..=fingers {
            let imp = synth::generate(seed, finger, 1, &cfg);
            if finger == 1
                && let Some(dir) = outdir
            {
                let path = format!("{dir}/synth-{skin:?}.png");
                if let Err(e) = imp.image.save(&path) {
                    eprintln!("{path}: {e}");
                }
            }
            match extract::extract(&imp.image, &ExtractConfig::default()) {
                Ok(ex) => total.add(compare_masked(
                    &ex.template.minutiae,
                    &imp.minutiae,
                    &imp.uncertain_minutiae,
                    &Tolerance::default(),
                )),
                Err(e) => {
                    eprintln!("{skin:?} finger {finger}: {e}");
                    failures += 1;
                }
            }
        }
        println!(
            "{skin:?}\timages {fingers}\tfte {failures}\ttruth {}\textracted {}\tmatched {}\trecall {:.3}\tprecision {:.3}",
            total.truth,
            total.extracted,
            total.matched,
            total.recall(),
            total.precision()
        );
    }
}
