//! Times minutiae extraction over every image of a folder on one thread and
//! prints one JSON report: `extraction_report DIR [REPEATS]`.

use std::path::PathBuf;
use std::process::ExitCode;

use hoviyat_benches::extraction::{image_files, time_extraction};
use hoviyat_engine::extract::ExtractConfig;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: extraction_report DIR [REPEATS]");
        return ExitCode::FAILURE;
    };
    let repeats = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let paths = match image_files(&dir) {
        Ok(p) if !p.is_empty() => p,
        Ok(_) => {
            eprintln!("error: no images in {}", dir.display());
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("error: {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
    };
    let report = time_extraction(&paths, repeats, &ExtractConfig::default());
    eprintln!(
        "{} images, {} failures, wall median {:.2} ms, p90 {:.2} ms; \
         thread CPU median {:.2} ms, p90 {:.2} ms; median {} minutiae",
        report.images,
        report.failures,
        report.median_ms,
        report.p90_ms,
        report.cpu_median_ms.unwrap_or(f64::NAN),
        report.cpu_p90_ms.unwrap_or(f64::NAN),
        report.median_minutiae
    );
    match serde_json::to_string(&report) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
