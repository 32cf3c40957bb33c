//! Minutiae recall and precision of the extractor on seeded synthetic prints
//! with ground truth, per fingerprint class:
//! `synth_extraction_accuracy [SEED] [FINGERS_PER_CLASS] [IMPRESSIONS]`.

use hoviyat_benches::extraction::synth_accuracy;
use hoviyat_engine::extract::ExtractConfig;
use hoviyat_engine::extract::accuracy::Tolerance;

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let seed = args.first().copied().unwrap_or(1);
    let fingers = args.get(1).copied().unwrap_or(10) as u32;
    let impressions = args.get(2).copied().unwrap_or(2) as u32;
    let report = synth_accuracy(
        seed,
        fingers,
        impressions,
        &Tolerance::default(),
        &ExtractConfig::default(),
    );
    for c in &report.per_class {
        eprintln!(
            "{:?}: {} images, {} FTE, truth {}, extracted {} (+{} don't-care), matched {}: recall {:.3} precision {:.3} (don't-care as false {:.3}) kind {:.3}",
            c.class,
            c.images,
            c.failures,
            c.counts.truth,
            c.counts.extracted,
            c.counts.dont_care,
            c.counts.matched,
            c.recall,
            c.precision,
            c.precision_dont_care_as_false,
            c.kind_agreement
        );
    }
    let o = &report.overall;
    eprintln!(
        "all: {} images, {} FTE, recall {:.3} precision {:.3} kind {:.3}",
        o.images, o.failures, o.recall, o.precision, o.kind_agreement
    );
    match serde_json::to_string(&report) {
        Ok(json) => println!("{json}"),
        Err(e) => eprintln!("error: {e}"),
    }
}
