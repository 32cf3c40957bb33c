//! `hoviyat extract`: fingerprint images to minutiae templates.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use hoviyat_engine::extract::{self, DecodeLimits, ExtractConfig, Extraction};
use hoviyat_models::codec::{self, TemplateFormat};
use hoviyat_models::{FingerPosition, FingerTemplate};
use rayon::prelude::*;
use serde::Serialize;

/// Output format of the templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON object per image (one line each).
    Json,
    /// ISO/IEC 19794-2:2005 finger minutiae record.
    #[value(name = "iso19794-2-2005")]
    Iso2005,
    /// ANSI/INCITS 378-2004 finger minutiae record.
    #[value(name = "ansi378-2004")]
    Ansi2004,
    /// The engine's template document `{"fingers": [template]}`, as
    /// `hoviyat template convert --to json` writes it: the minutiae and the
    /// ridge map, which the JSON lines and the ISO/ANSI records leave out.
    /// A finger of an enrolment request takes its template as it is.
    #[value(name = "template-json")]
    TemplateJson,
}

/// Extract minutiae from fingerprint images (PNG, TIFF, BMP, JPEG).
#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// Fingerprint images; several are processed in parallel.
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
    /// Scan resolution of the images; other than 500 they are rescaled.
    #[arg(long, default_value_t = 500)]
    pub dpi: u16,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Print one JSON object per image on stdout (the default output; the
    /// flag every reporting command takes).
    #[arg(long)]
    pub json: bool,
    /// Write the output here instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Draw the minutiae over the image into this PNG (a folder when several
    /// images are given: one `<name>.png` each).
    #[arg(long)]
    pub overlay: Option<PathBuf>,
    /// Also draw reference minutiae from this JSON file (an object with a
    /// `minutiae` array, e.g. a synthetic print's ground truth) in orange.
    #[arg(long, requires = "overlay")]
    pub truth: Option<PathBuf>,
    /// Also draw the ridge skeleton in the overlay.
    #[arg(long)]
    pub skeleton: bool,
    /// Magnification of the overlay (1 to 4).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=4))]
    pub overlay_scale: u32,
    /// ISO finger position code (0-10) written into the templates.
    #[arg(long, default_value_t = 0)]
    pub position: u8,
    /// Threads to use (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// One JSON line of the output.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Line<'a> {
    Ok {
        image: &'a str,
        width: u16,
        height: u16,
        dpi: u16,
        quality: u8,
        elapsed_ms: f64,
        minutiae: &'a [hoviyat_models::Minutia],
    },
    Failed {
        image: &'a str,
        fte: bool,
        reason: String,
        elapsed_ms: f64,
    },
}

struct Outcome {
    path: PathBuf,
    result: anyhow::Result<Extraction>,
    /// `true` when the image held no usable fingerprint (failure to
    /// extract), as opposed to an unreadable file.
    fte: bool,
    elapsed_ms: f64,
}

pub fn run(args: ExtractArgs) -> anyhow::Result<()> {
    let position = FingerPosition::from_code(args.position)?;
    let config = ExtractConfig {
        dpi: args.dpi,
        position,
        keep_skeleton: args.skeleton,
        ..ExtractConfig::default()
    };
    let format_name = args
        .format
        .to_possible_value()
        .map_or_else(String::new, |v| v.get_name().to_owned());
    if args.json && args.format != Format::Json {
        bail!("--json and --format {format_name} ask for two outputs: give one");
    }
    let many = args.images.len() > 1;
    if many && args.format != Format::Json {
        bail!("--format {format_name} writes one record: give one image");
    }
    if let (true, Some(dir)) = (many, &args.overlay) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()?;
    let outcomes: Vec<Outcome> = pool.install(|| {
        args.images
            .par_iter()
            .map(|path| process(path, &config, &args, many))
            .collect()
    });

    let mut failures = 0usize;
    let mut text = String::new();
    let mut record: Option<Vec<u8>> = None;
    for o in &outcomes {
        let image = o.path.to_string_lossy();
        match &o.result {
            Ok(ex) => {
                if args.format == Format::Json {
                    text.push_str(&serde_json::to_string(&Line::Ok {
                        image: &image,
                        width: ex.template.width_px,
                        height: ex.template.height_px,
                        dpi: ex.template.dpi,
                        quality: ex.quality,
                        elapsed_ms: o.elapsed_ms,
                        minutiae: &ex.template.minutiae,
                    })?);
                    text.push('\n');
                } else {
                    record = Some(encode(&ex.template, args.format)?);
                }
            }
            Err(err) => {
                failures += 1;
                if args.format == Format::Json {
                    text.push_str(&serde_json::to_string(&Line::Failed {
                        image: &image,
                        fte: o.fte,
                        reason: format!("{err:#}"),
                        elapsed_ms: o.elapsed_ms,
                    })?);
                    text.push('\n');
                }
            }
        }
    }
    let bytes = record.unwrap_or_else(|| text.into_bytes());
    match &args.out {
        Some(path) => {
            std::fs::write(path, &bytes).with_context(|| format!("writing {}", path.display()))?
        }
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&bytes)?;
        }
    }
    if failures > 0 {
        if let (false, Some(o)) = (many, outcomes.first())
            && let Err(err) = &o.result
        {
            bail!("{}: {err:#}", o.path.display());
        }
        bail!("{failures} of {} images failed", outcomes.len());
    }
    Ok(())
}

fn process(path: &Path, config: &ExtractConfig, args: &ExtractArgs, many: bool) -> Outcome {
    let mut elapsed_ms = 0.0;
    let mut fte = false;
    let result = (|| {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let gray = extract::decode_image(&bytes, &DecodeLimits::for_dpi(config.dpi))?;
        let start = Instant::now();
        let result = extract::extract(&gray, config);
        elapsed_ms = start.elapsed().as_secs_f64() * 1e3;
        let ex = result.inspect_err(|e| fte = e.is_failure_to_extract())?;
        if let Some(target) = &args.overlay {
            let target = if many {
                let stem = path.file_stem().unwrap_or_default();
                target.join(Path::new(stem).with_extension("png"))
            } else {
                target.clone()
            };
            let work = extract::to_work_resolution(&gray, config.dpi)?;
            let mut canvas = extract::overlay::draw(
                &work,
                &ex.template,
                ex.skeleton.as_ref(),
                args.overlay_scale,
            );
            if let Some(truth) = &args.truth {
                #[derive(serde::Deserialize)]
                struct Truth {
                    minutiae: Vec<hoviyat_models::Minutia>,
                }
                let text = std::fs::read_to_string(truth)
                    .with_context(|| format!("reading {}", truth.display()))?;
                let truth: Truth = serde_json::from_str(&text)
                    .with_context(|| format!("parsing {}", truth.display()))?;
                extract::overlay::draw_reference(&mut canvas, &truth.minutiae, args.overlay_scale);
            }
            canvas
                .save(&target)
                .with_context(|| format!("writing {}", target.display()))?;
        }
        Ok(ex)
    })();
    Outcome {
        path: path.to_path_buf(),
        result,
        fte,
        elapsed_ms,
    }
}

fn encode(template: &FingerTemplate, format: Format) -> anyhow::Result<Vec<u8>> {
    let format = match format {
        Format::Json => return Ok(serde_json::to_vec(template)?),
        Format::Iso2005 => TemplateFormat::Iso19794_2_2005,
        Format::Ansi2004 => TemplateFormat::Ansi378_2004,
        Format::TemplateJson => TemplateFormat::Json,
    };
    Ok(codec::encode(std::slice::from_ref(template), format)?)
}
