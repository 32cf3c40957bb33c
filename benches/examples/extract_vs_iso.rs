//! Compares the extractor's minutiae with a foreign extractor's records, image
//! by image: `extract_vs_iso DIR [DPI]` reads the FVC-named `DIR/*.png` and
//! `DIR/iso/{stem}.iso` (ISO 19794-2 or ANSI 378, read in the image's pixels
//! as [`FvcDataset::iso_samples`] reads them), extracts at `DPI` (default:
//! `DIR/dataset.json`, else 500) and prints one line per image (our count,
//! theirs, pairs within 10 px / 30 degrees, quality, FTE reason) and a
//! summary: median counts and the share of their minutiae we find ("recall
//! vs iso") and of ours they also have ("precision vs iso"). The foreign
//! records are no ground truth; the shares only say how close the two
//! extractors come.

use std::path::PathBuf;
use std::process::ExitCode;

use hoviyat_benches::fvc::FvcDataset;
use hoviyat_engine::extract::accuracy::{MatchCounts, Tolerance, compare};
use hoviyat_engine::extract::{self, ExtractConfig, WORK_DPI};
use hoviyat_models::Minutia;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: extract_vs_iso DIR [DPI]");
        return ExitCode::FAILURE;
    };
    let dpi = args.next().and_then(|d| d.parse().ok());
    let (ds, records) = match FvcDataset::open(&dir, dpi).and_then(|ds| {
        let records = ds.iso_samples()?;
        Ok((ds, records))
    }) {
        Ok(read) => read,
        Err(e) => {
            eprintln!("error: {}: {e:#}", dir.display());
            return ExitCode::FAILURE;
        }
    };
    let config = ExtractConfig {
        dpi: ds.dpi,
        ..ExtractConfig::default()
    };
    let tol = Tolerance::default();
    let mut total = MatchCounts::default();
    let (mut ours_n, mut theirs_n, mut ftes) = (Vec::new(), Vec::new(), 0usize);
    for (i, record) in records.iter().enumerate() {
        let path = &ds.images[i].path;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Our templates are in the extractor's working resolution.
        let theirs: Vec<Minutia> = record
            .template
            .as_ref()
            .map(|t| {
                let s = f32::from(WORK_DPI) / f32::from(t.dpi.max(1));
                t.minutiae
                    .iter()
                    .map(|m| Minutia {
                        x_px: m.x_px * s,
                        y_px: m.y_px * s,
                        ..*m
                    })
                    .collect()
            })
            .unwrap_or_default();
        let image = match ds.load_image(i) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("{name}: {e:#}");
                continue;
            }
        };
        theirs_n.push(theirs.len());
        match extract::extract(&image, &config) {
            Ok(ex) => {
                let c = compare(&ex.template.minutiae, &theirs, &tol);
                total.add(c);
                ours_n.push(ex.template.minutiae.len());
                println!(
                    "{name}\tours {:3}\tiso {:3}\tpaired {:3}\tquality {:3}\tforeground {:.2}\tevidence {:.2}",
                    ex.template.minutiae.len(),
                    theirs.len(),
                    c.matched,
                    ex.quality,
                    ex.foreground_share,
                    ex.ridge_evidence_share
                );
            }
            Err(e) => {
                ftes += 1;
                ours_n.push(0);
                total.add(compare(&[], &theirs, &tol));
                println!("{name}\tFTE\tiso {:3}\t{e}", theirs.len());
            }
        }
    }
    let median = |v: &mut Vec<usize>| {
        v.sort_unstable();
        v.get(v.len() / 2).copied().unwrap_or(0)
    };
    println!(
        "summary\timages {}\tfte {ftes}\tmedian ours {}\tmedian iso {}\trecall_vs_iso {:.3}\tprecision_vs_iso {:.3}",
        records.len(),
        median(&mut ours_n),
        median(&mut theirs_n),
        total.recall(),
        total.precision()
    );
    ExitCode::SUCCESS
}
