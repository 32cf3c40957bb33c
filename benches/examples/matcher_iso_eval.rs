//! The matcher alone on fixed minutiae: FVC2002 set B, the commercial
//! extractor's ISO 19794-2:2005 records (`DB*_B/iso/`), all-pairs protocol
//! (280 genuine / 2,880 impostor pairs per database). Prints EER and FMR1000
//! per database and their mean.
//!
//! `cargo run --release -p hoviyat-benches --example matcher_iso_eval -- [DIR] [--record-dpi] [--dump FILE]`
//!
//! The records state 500 dpi for every database (the extractor's default);
//! DB2_B was scanned at 569 dpi, so the resolution is taken from each
//! folder's `dataset.json` unless `--record-dpi` is given. `--dump` writes
//! one line per comparison (`db genuine raw_ab raw_ba`) for calibration work.
use std::io::Write;
use std::path::{Path, PathBuf};

use hoviyat_benches::fingers::{Protocol, Sample, evaluate};
use hoviyat_benches::fvc::FvcDataset;
use hoviyat_engine::finger::{PreparedProbe, encode_gallery};
use hoviyat_engine::metrics::VerificationReport;

fn load(db: &Path, record_dpi: bool) -> anyhow::Result<Vec<Sample>> {
    let mut ds = FvcDataset::open(db, None)?;
    if record_dpi {
        // The records' own resolution field, as an ISO reader would take it.
        ds.stated_dpi = None;
    }
    ds.iso_samples()
}

fn main() -> anyhow::Result<()> {
    let mut dir = PathBuf::from("../shared/data/fingerprints/fvc2002-b");
    let mut record_dpi = false;
    let mut dump = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--record-dpi" => record_dpi = true,
            "--dump" => dump = args.next().map(PathBuf::from),
            _ => dir = PathBuf::from(a),
        }
    }
    let mut out = match &dump {
        Some(p) => Some(std::io::BufWriter::new(std::fs::File::create(p)?)),
        None => None,
    };
    let (mut sum_eer, mut sum_f1000, mut sum_max_eer) = (0.0, 0.0, 0.0);
    for db in ["DB1_B", "DB2_B", "DB3_B", "DB4_B"] {
        let samples = load(&dir.join(db), record_dpi)?;
        let (report, _) = evaluate(&samples, Protocol::AllPairs)?;
        // Both directions, for diagnosis of the score's symmetry.
        let probes: Vec<PreparedProbe> = samples
            .iter()
            .map(|s| PreparedProbe::new(s.template.as_ref().expect("decoded")))
            .collect::<Result<_, _>>()?;
        let blobs: Vec<Vec<u8>> = samples
            .iter()
            .map(|s| encode_gallery(s.template.as_ref().expect("decoded")))
            .collect::<Result<_, _>>()?;
        let (mut g, mut im, mut asym) = (Vec::new(), Vec::new(), 0usize);
        for a in 0..samples.len() {
            for b in a + 1..samples.len() {
                let ab = probes[a].score(&blobs[b])?;
                let ba = probes[b].score(&blobs[a])?;
                asym += usize::from(ab.raw != ba.raw);
                let genuine = samples[a].finger == samples[b].finger;
                let v = f64::from(ab.log10_fmr.max(ba.log10_fmr))
                    + 1e-6 * f64::from(ab.raw.max(ba.raw));
                if genuine {
                    g.push(v);
                } else {
                    im.push(v);
                }
                if let Some(o) = out.as_mut() {
                    writeln!(
                        o,
                        "{db} {} {} {} {} {}",
                        u8::from(genuine),
                        ab.raw,
                        ba.raw,
                        ab.paired,
                        ba.paired
                    )?;
                }
            }
        }
        let both = VerificationReport::new(&g, &im);
        println!(
            "{db}: eer {:.2} % fmr1000 {:.2} % zero_fmr {:.2} % | max(ab,ba) eer {:.2} % fmr1000 {:.2} % | asymmetric {asym} of {} | score {:.1} us",
            100.0 * report.eer,
            100.0 * report.fmr1000,
            100.0 * report.zero_fmr,
            100.0 * both.eer,
            100.0 * both.fmr1000,
            g.len() + im.len(),
            report.score_us_median,
        );
        sum_eer += report.eer;
        sum_f1000 += report.fmr1000;
        sum_max_eer += both.eer;
    }
    println!(
        "mean: eer {:.2} % fmr1000 {:.2} % | max(ab,ba) eer {:.2} %",
        25.0 * sum_eer,
        25.0 * sum_f1000,
        25.0 * sum_max_eer
    );
    Ok(())
}
