//! `hoviyat eval`: accuracy evaluations on real data folders.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use hoviyat_benches::fingers::{Protocol, Sample, evaluate, parse_fvc_name};

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(subcommand)]
    command: EvalCommand,
}

#[derive(Debug, Subcommand)]
enum EvalCommand {
    /// Compares every pair of an FVC-named fingerprint folder and reports
    /// EER, FMR100, FMR1000, ZeroFMR, FTE and timing.
    Fingerprints(FingerprintArgs),
    /// Face templates: leave-one-out rank-1, genuine/impostor statistics, EER.
    Faces(super::eval_faces::FaceEvalArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ProtocolArg {
    AllPairs,
    Fvc,
}

#[derive(Debug, Args)]
struct FingerprintArgs {
    /// Folder of images named `{finger}_{impression}.{ext}`.
    #[arg(long)]
    dataset: PathBuf,
    #[arg(long, value_enum, default_value = "all-pairs")]
    protocol: ProtocolArg,
    /// Print one JSON object on stdout.
    #[arg(long)]
    json: bool,
    /// Write a DET plot (SVG) here.
    #[arg(long)]
    det: Option<PathBuf>,
    /// Take the minutiae from JSON lines `{"file": "1_1.png", "template": {...}}`
    /// (every image needs a line) instead of extracting them with the
    /// engine's extractor: to evaluate the matcher on another extractor's output.
    #[arg(long)]
    minutiae: Option<PathBuf>,
    /// Scan resolution of the images.
    #[arg(long, default_value_t = 500)]
    dpi: u16,
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    match args.command {
        EvalCommand::Fingerprints(a) => fingerprints(a),
        EvalCommand::Faces(a) => super::eval_faces::run_faces(a),
    }
}

fn fingerprints(args: FingerprintArgs) -> anyhow::Result<()> {
    let mut images = Vec::new();
    for entry in std::fs::read_dir(&args.dataset)
        .with_context(|| format!("reading dataset folder {}", args.dataset.display()))?
    {
        let path = entry?.path();
        if let Some((finger, impression)) = parse_fvc_name(&path) {
            images.push((path, finger, impression));
        }
    }
    images.sort_by_key(|(_, f, i)| (*f, *i));
    if images.is_empty() {
        bail!("no FVC-named images in {}", args.dataset.display());
    }
    let samples: Vec<Sample> = match &args.minutiae {
        Some(minutiae) => samples_from_file(&images, minutiae)?,
        None => samples_by_extraction(&images, args.dpi)?,
    };
    let protocol = match args.protocol {
        ProtocolArg::AllPairs => Protocol::AllPairs,
        ProtocolArg::Fvc => Protocol::Fvc,
    };
    let (report, scores) = evaluate(&samples, protocol)?;
    if let Some(det) = &args.det {
        let points = scores.det();
        let title = format!(
            "{} ({:?}, {} genuine, {} impostor)",
            args.dataset.display(),
            args.protocol,
            report.n_genuine,
            report.n_impostor
        );
        let svg = hoviyat_engine::metrics::det_svg(&title, &[("hoviyat finger matcher", &points)]);
        std::fs::write(det, svg).with_context(|| format!("writing {}", det.display()))?;
    }
    let mut value = serde_json::to_value(&report)?;
    value["dataset"] = serde_json::Value::String(args.dataset.display().to_string());
    value["minutiae_source"] = serde_json::Value::String(match &args.minutiae {
        Some(file) => file.display().to_string(),
        None => "hoviyat extract".to_string(),
    });
    if args.json {
        println!("{}", serde_json::to_string(&value)?);
    } else {
        println!(
            "{} {:?}: EER {:.3} %, FMR100 {:.3} %, FMR1000 {:.3} %, ZeroFMR {:.3} %, FTE {:.2} % ({} genuine, {} impostor), {:.1} us per 1:1 comparison",
            args.dataset.display(),
            args.protocol,
            report.eer * 100.0,
            report.fmr100 * 100.0,
            report.fmr1000 * 100.0,
            report.zero_fmr * 100.0,
            report.fte * 100.0,
            report.n_genuine,
            report.n_impostor,
            report.match_us_median
        );
    }
    Ok(())
}

/// Extracts every image with the engine's extractor, in parallel; a failure
/// to extract counts towards FTE, an unreadable file is an error.
fn samples_by_extraction(images: &[(PathBuf, u32, u32)], dpi: u16) -> anyhow::Result<Vec<Sample>> {
    use hoviyat_engine::extract::{DecodeLimits, ExtractConfig, decode_image, extract};
    use rayon::prelude::*;
    images
        .par_iter()
        .map(|(path, finger, impression)| {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let image = decode_image(&bytes, &DecodeLimits::for_dpi(dpi))
                .with_context(|| format!("decoding {}", path.display()))?;
            let config = ExtractConfig {
                dpi,
                ..Default::default()
            };
            let template = match extract(&image, &config) {
                Ok(extraction) => Some(extraction.template),
                Err(e) if e.is_failure_to_extract() => {
                    tracing::warn!(file = %path.display(), reason = %e, "failure to extract");
                    None
                }
                Err(e) => {
                    return Err(
                        anyhow::Error::new(e).context(format!("extracting {}", path.display()))
                    );
                }
            };
            Ok(Sample {
                finger: *finger,
                impression: *impression,
                template,
            })
        })
        .collect()
}

/// Reads the templates of the images from a JSON-lines file.
fn samples_from_file(
    images: &[(PathBuf, u32, u32)],
    minutiae: &std::path::Path,
) -> anyhow::Result<Vec<Sample>> {
    let mut templates = std::collections::HashMap::new();
    let text = std::fs::read_to_string(minutiae)
        .with_context(|| format!("reading {}", minutiae.display()))?;
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        #[derive(serde::Deserialize)]
        struct Line {
            file: String,
            template: Option<hoviyat_models::FingerTemplate>,
        }
        let parsed: Line = serde_json::from_str(line)
            .with_context(|| format!("{} line {}", minutiae.display(), n + 1))?;
        templates.insert(parsed.file, parsed.template);
    }
    let mut samples = Vec::with_capacity(images.len());
    for (path, finger, impression) in images {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(template) = templates.get(&name) else {
            bail!("{} has no line for {name}", minutiae.display());
        };
        samples.push(Sample {
            finger: *finger,
            impression: *impression,
            template: template.clone(),
        });
    }
    Ok(samples)
}
