//! `hoviyat eval`: accuracy evaluations on real data folders.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use hoviyat_benches::agreement::AgreementConfig;
use hoviyat_benches::fingers::{Protocol, Sample, evaluate};
use hoviyat_benches::fvc::FvcDataset;
use hoviyat_benches::interval::Interval;
use hoviyat_benches::robustness::{TemplateSource, run_robustness};
use hoviyat_benches::suite::{SuiteOptions, run_suite};

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
    /// Every dataset folder under a root: our extraction and matching, our
    /// matcher on the folder's `iso/` records, and the NBIS peer, side by
    /// side (EER, FMR100, FMR1000, ZeroFMR, FTE, extraction time).
    Suite(SuiteArgs),
    /// Impressions 2..N of an FVC-named folder changed by seeded families
    /// (rotation, scale, shift, partial, distortion, noise, combined, and
    /// for images compression), one family at a time; EER, FMR1000 and FTE
    /// per family.
    Robustness(RobustnessArgs),
    /// 1:N against 1:1 on real prints: N synthetic identities plus one
    /// identity per real finger (first impression), every other impression
    /// searched in investigation mode; rank-1 hit rate beside the rank-1
    /// an exhaustive 1:1 comparison implies.
    OneToMany(OneToManyArgs),
    /// Face templates: leave-one-out rank-1, genuine/impostor statistics, EER.
    Faces(super::eval_faces::FaceEvalArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ProtocolArg {
    AllPairs,
    Fvc,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TemplatesArg {
    /// Extract the images with the engine's extractor.
    Extract,
    /// Read another extractor's records from `DIR/iso/{name}.iso` (ISO/IEC
    /// 19794-2 or ANSI 378, detected from the content).
    Iso,
    /// Extract as `extract` does, then keep the minutiae alone (no ridge
    /// map): our extractor's minutiae under the same matcher conditions
    /// as `iso`.
    ExtractMinutiae,
}

/// Where `eval robustness` takes its minutiae from.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum RobustnessTemplatesArg {
    /// Change the images and extract them with the engine's extractor.
    Extract,
    /// Change the minutiae of the `DIR/iso/` records.
    Iso,
    /// Extract the unchanged images, then change their minutiae: beside
    /// `extract`, the matcher's share of a family's cost.
    ExtractedMinutiae,
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
    /// Where the minutiae come from.
    #[arg(long, value_enum, default_value = "extract")]
    templates: TemplatesArg,
    /// Take the minutiae from JSON lines `{"file": "1_1.png", "template": {...}}`
    /// (every image needs a line) instead: to evaluate the matcher on
    /// another extractor's output.
    #[arg(long, conflicts_with = "templates")]
    minutiae: Option<PathBuf>,
    /// Scan resolution of the images; default: `DIR/dataset.json`'s `dpi`,
    /// else 500.
    #[arg(long)]
    dpi: Option<u16>,
}

#[derive(Debug, Args)]
struct SuiteArgs {
    /// Folder whose subfolders are FVC-named datasets (each with an
    /// optional `dataset.json` and `iso/`).
    #[arg(long)]
    root: PathBuf,
    #[arg(long, value_enum, default_value = "all-pairs")]
    protocol: ProtocolArg,
    /// Write one DET plot per dataset (`{name}.svg`, every row's curve) here.
    #[arg(long, value_name = "OUTDIR")]
    det: Option<PathBuf>,
    /// Leave out the NBIS peer row.
    #[arg(long)]
    no_nbis: bool,
    /// Print one JSON object on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct RobustnessArgs {
    /// Folder of images named `{finger}_{impression}.{ext}`.
    #[arg(long)]
    dataset: PathBuf,
    /// Seed of the changes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// `extract`: change the images and extract them; `iso`: change the
    /// minutiae of `DIR/iso/` records; `extracted-minutiae`: extract the
    /// unchanged images and change their minutiae.
    #[arg(long, value_enum, default_value = "extract")]
    templates: RobustnessTemplatesArg,
    #[arg(long, value_enum, default_value = "all-pairs")]
    protocol: ProtocolArg,
    /// Scan resolution; default: `DIR/dataset.json`, else 500.
    #[arg(long)]
    dpi: Option<u16>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct OneToManyArgs {
    /// Dataset folder, or a folder of dataset folders; repeatable.
    #[arg(long, required = true)]
    root: Vec<PathBuf>,
    /// Synthetic identities (10 fingers and a face each) in the gallery.
    #[arg(long, default_value_t = 100_000)]
    identities: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Candidates each investigation returns.
    #[arg(long, default_value_t = 20)]
    #[arg(value_parser = super::at_least_one)]
    max_candidates: usize,
    /// Build the gallery here (must not exist yet or be empty); default: a
    /// temporary folder, deleted afterwards.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    json: bool,
}

impl From<ProtocolArg> for Protocol {
    fn from(p: ProtocolArg) -> Self {
        match p {
            ProtocolArg::AllPairs => Protocol::AllPairs,
            ProtocolArg::Fvc => Protocol::Fvc,
        }
    }
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    match args.command {
        EvalCommand::Fingerprints(a) => fingerprints(a),
        EvalCommand::Suite(a) => suite(a),
        EvalCommand::Robustness(a) => robustness(a),
        EvalCommand::OneToMany(a) => one_to_many(a),
        EvalCommand::Faces(a) => super::eval_faces::run_faces(a),
    }
}

fn fingerprints(args: FingerprintArgs) -> anyhow::Result<()> {
    let dataset = FvcDataset::open(&args.dataset, args.dpi)?;
    let (samples, source) = match (&args.minutiae, args.templates) {
        (Some(minutiae), _) => (
            samples_from_file(&dataset, minutiae)?,
            minutiae.display().to_string(),
        ),
        (None, TemplatesArg::Iso) => (dataset.iso_samples()?, "iso".to_string()),
        (None, TemplatesArg::Extract) => (
            dataset.extract_samples()?.samples,
            "hoviyat extract".to_string(),
        ),
        (None, TemplatesArg::ExtractMinutiae) => {
            let mut samples = dataset.extract_samples()?.samples;
            for template in samples.iter_mut().filter_map(|s| s.template.as_mut()) {
                template.ridge_map = None;
            }
            (samples, "hoviyat extract, minutiae only".to_string())
        }
    };
    let protocol = Protocol::from(args.protocol);
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
    value["dpi"] = serde_json::Value::from(dataset.dpi);
    value["minutiae_source"] = serde_json::Value::String(source);
    if args.json {
        println!("{}", serde_json::to_string(&value)?);
    } else {
        println!(
            "{} {:?}: EER {:.3} % {}, FMR100 {:.3} %, FMR1000 {:.3} % {}, ZeroFMR {:.3} %, FTE {:.2} % ({} genuine, {} impostor), {:.1} us per 1:1 comparison",
            args.dataset.display(),
            args.protocol,
            report.eer * 100.0,
            percent(report.eer_interval),
            report.fmr100 * 100.0,
            report.fmr1000 * 100.0,
            percent(report.fmr1000_interval),
            report.zero_fmr * 100.0,
            report.fte * 100.0,
            report.n_genuine,
            report.n_impostor,
            report.match_us_median
        );
    }
    Ok(())
}

fn suite(args: SuiteArgs) -> anyhow::Result<()> {
    let options = SuiteOptions {
        protocol: args.protocol.into(),
        nbis: !args.no_nbis,
    };
    let report = run_suite(&args.root, options, |dataset, kind| {
        eprintln!("{dataset}: {kind}");
    })?;
    if let Some(dir) = &args.det {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for ds in &report.datasets {
            let title = format!(
                "{} ({:?}, {} genuine, {} impostor)",
                ds.name,
                args.protocol,
                ds.rows.first().map_or(0, |r| r.n_genuine),
                ds.rows.first().map_or(0, |r| r.n_impostor)
            );
            let curves: Vec<(&str, &[hoviyat_engine::metrics::DetPoint])> =
                ds.rows.iter().map(|r| (r.kind, r.det.as_slice())).collect();
            let path = dir.join(format!("{}.svg", ds.name));
            std::fs::write(&path, hoviyat_engine::metrics::det_svg(&title, &curves))
                .with_context(|| format!("writing {}", path.display()))?;
        }
    }
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    for ds in &report.datasets {
        println!("{} ({} images, {} dpi)", ds.name, ds.images, ds.dpi);
        for r in &ds.rows {
            println!(
                "  {:<15} EER {:6.2} % {:<15} FMR100 {:6.2} %  FMR1000 {:6.2} % {:<15} ZeroFMR {:6.2} %  FTE {:5.2} %  extract {}",
                r.kind,
                r.eer * 100.0,
                percent(r.eer_interval),
                r.fmr100 * 100.0,
                r.fmr1000 * 100.0,
                percent(r.fmr1000_interval),
                r.zero_fmr * 100.0,
                r.fte * 100.0,
                r.extract_ms_median
                    .map_or("-".to_string(), |ms| format!("{ms:.1} ms")),
            );
        }
    }
    let differences = report
        .datasets
        .iter()
        .map(|ds| (ds.name.as_str(), &ds.hoviyat_minus))
        .chain([("mean", &report.mean_hoviyat_minus)]);
    for (name, minus) in differences {
        for (kind, d) in minus {
            println!(
                "{name}: hoviyat minus {kind:<15} EER {:<17} FMR1000 {} points",
                percent(d.eer),
                percent(d.fmr1000)
            );
        }
    }
    for (kind, eer) in &report.mean_eer {
        println!(
            "mean {kind:<15} EER {:6.2} % {:<15} FMR1000 {:6.2} % {}",
            eer * 100.0,
            report
                .mean_eer_interval
                .get(kind)
                .map_or(String::new(), |i| percent(*i)),
            report.mean_fmr1000.get(kind).copied().unwrap_or(0.0) * 100.0,
            report
                .mean_fmr1000_interval
                .get(kind)
                .map_or(String::new(), |i| percent(*i)),
        );
    }
    Ok(())
}

fn robustness(args: RobustnessArgs) -> anyhow::Result<()> {
    let dataset = FvcDataset::open(&args.dataset, args.dpi)?;
    let source = match args.templates {
        RobustnessTemplatesArg::Extract => TemplateSource::Extract,
        RobustnessTemplatesArg::Iso => TemplateSource::Iso,
        RobustnessTemplatesArg::ExtractedMinutiae => TemplateSource::ExtractedMinutiae,
    };
    let report = run_robustness(
        &dataset,
        args.seed,
        source,
        args.protocol.into(),
        |family| {
            eprintln!("{}: {family}", dataset.name);
        },
    )?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    println!(
        "{} (seed {}, {:?})",
        report.dataset, report.seed, report.templates
    );
    for r in &report.families {
        println!(
            "  {:<11} EER {:6.2} % {:<15} FMR1000 {:6.2} % {:<15} FTE {:5.2} %  ({} genuine, {} impostor)",
            r.family,
            r.eer * 100.0,
            percent(r.eer_interval),
            r.fmr1000 * 100.0,
            percent(r.fmr1000_interval),
            r.fte * 100.0,
            r.n_genuine,
            r.n_impostor
        );
    }
    Ok(())
}

/// A 95 % interval in percent, `[low, high]`.
fn percent(i: Interval) -> String {
    format!("[{:.2}, {:.2}]", i.low * 100.0, i.high * 100.0)
}

fn one_to_many(args: OneToManyArgs) -> anyhow::Result<()> {
    if let Some(dir) = &args.data {
        // The figures describe the gallery this run builds, nothing else.
        super::ensure_new_or_empty(dir)?;
    }
    let mut datasets = Vec::new();
    for root in &args.root {
        for dir in hoviyat_datasets::fvc::find_datasets(root)? {
            datasets.push(FvcDataset::open(&dir, None)?);
        }
    }
    let temp;
    let dir = match &args.data {
        Some(dir) => dir.clone(),
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let config = AgreementConfig {
        identities: args.identities,
        seed: args.seed,
        max_candidates: args.max_candidates,
    };
    let report = hoviyat_benches::agreement::run(&config, &datasets, &dir, |step| {
        eprintln!("{step}");
    })?;
    anyhow::ensure!(
        report.total.searches > 0,
        "no searches: no folder holds a second impression of a finger"
    );
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    println!(
        "gallery {} ({} synthetic), top {} candidates",
        report.gallery_size, report.synthetic_identities, report.max_candidates
    );
    for r in report.datasets.iter().chain([&report.total]) {
        println!(
            "  {:<16} searches {:4}  rank-1 1:N {:6.2} %  rank-1 1:1 {:6.2} %  in list {:4}  screening losses {}  verified {:6.2} %  dedup held {} (1:1 {}, one way {}, non-mates {})",
            r.name,
            r.searches,
            r.rank1_hit_rate * 100.0,
            r.one_to_one_rank1_rate * 100.0,
            r.in_list,
            r.screening_losses,
            r.verified_rate * 100.0,
            r.dedup_found,
            r.dedup_full,
            r.dedup_one_way,
            r.dedup_non_mates
        );
    }
    println!(
        "dedup threshold {:.2}, p50 {:.0} ms, p99 {:.0} ms",
        report.dedup_threshold, report.dedup_ms_p50, report.dedup_ms_p99
    );
    Ok(())
}

/// Reads the templates of the images from a JSON-lines file.
fn samples_from_file(
    dataset: &FvcDataset,
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
    let mut samples = Vec::with_capacity(dataset.images.len());
    for image in &dataset.images {
        let name = image
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(template) = templates.get(&name) else {
            bail!("{} has no line for {name}", minutiae.display());
        };
        samples.push(Sample {
            finger: image.finger,
            impression: image.impression,
            template: template.clone(),
        });
    }
    Ok(samples)
}
