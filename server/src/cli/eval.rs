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
    /// Minutiae source: JSON lines `{"file": "1_1.png", "template": {...}}`
    /// for the dataset's images. Required until the engine's own extractor
    /// lands; every image of the dataset must have a line.
    #[arg(long)]
    minutiae: Option<PathBuf>,
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    match args.command {
        EvalCommand::Fingerprints(a) => fingerprints(a),
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
    let Some(minutiae) = &args.minutiae else {
        bail!("this build has no fingerprint extractor yet: pass --minutiae FILE.jsonl");
    };
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
    for (path, finger, impression) in &images {
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
    value["minutiae_source"] = serde_json::Value::String(minutiae.display().to_string());
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
