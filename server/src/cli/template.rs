//! `hoviyat template`: show finger minutiae templates as JSON and convert
//! them between ISO/IEC 19794-2, ANSI/INCITS 378 and JSON.
//!
//! The input format is always detected from the file's content (FMR magic
//! and header, or JSON), never from its name. The JSON form is
//! `{"fingers": [FingerTemplate, ...]}`; `show` adds `"format"`, the format
//! the file was in. On input a bare array of templates or a single template
//! object is accepted as well.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use hoviyat_models::codec::{self, TemplateDocument, TemplateFormat};

/// Largest template file read; real records are a few kilobytes.
const MAX_INPUT_BYTES: u64 = 16 << 20;

#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Converts a template file to another format.
    Convert {
        /// The template file to read (ISO/ANSI record or JSON).
        input: PathBuf,
        /// Where to write the converted template.
        output: PathBuf,
        /// The format to write.
        #[arg(long, value_enum)]
        to: TargetFormat,
        /// Print what was converted as one JSON object on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Prints a template file as JSON on stdout (indented; one line with
    /// `--json`).
    Show {
        /// The template file to read (ISO/ANSI record or JSON).
        file: PathBuf,
        /// Print the document on one line.
        #[arg(long)]
        json: bool,
    },
}

/// Formats `convert --to` can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TargetFormat {
    /// ISO/IEC 19794-2:2005 finger minutiae record.
    #[value(name = "iso19794-2-2005")]
    Iso19794_2_2005,
    /// ANSI/INCITS 378-2004 finger minutiae record.
    #[value(name = "ansi378-2004")]
    Ansi378_2004,
    /// ISO/IEC 19794-2:2011 finger minutiae record.
    #[value(name = "iso19794-2-2011")]
    Iso19794_2_2011,
    /// `{"fingers": [...]}`.
    #[value(name = "json")]
    Json,
}

impl From<TargetFormat> for TemplateFormat {
    fn from(f: TargetFormat) -> Self {
        match f {
            TargetFormat::Iso19794_2_2005 => Self::Iso19794_2_2005,
            TargetFormat::Ansi378_2004 => Self::Ansi378_2004,
            TargetFormat::Iso19794_2_2011 => Self::Iso19794_2_2011,
            TargetFormat::Json => Self::Json,
        }
    }
}

pub fn run(command: TemplateCommand) -> anyhow::Result<()> {
    match command {
        TemplateCommand::Convert {
            input,
            output,
            to,
            json,
        } => convert(&input, &output, to.into(), json),
        TemplateCommand::Show { file, json } => show(&file, json),
    }
}

fn convert(input: &Path, output: &Path, to: TemplateFormat, json: bool) -> anyhow::Result<()> {
    let decoded = read_template(input)?;
    let bytes = codec::encode(&decoded.fingers, to)
        .with_context(|| format!("cannot write {} as {to}", input.display()))?;
    std::fs::write(output, &bytes).with_context(|| format!("cannot write {}", output.display()))?;
    tracing::info!(
        fingers = decoded.fingers.len(),
        from = %decoded.format,
        to = %to,
        bytes = bytes.len(),
        "converted {} to {}",
        input.display(),
        output.display()
    );
    if json {
        println!(
            "{}",
            serde_json::json!({
                "input": input.display().to_string(),
                "output": output.display().to_string(),
                "from": decoded.format.to_string(),
                "to": to.to_string(),
                "fingers": decoded.fingers.len(),
                "bytes": bytes.len(),
            })
        );
    }
    Ok(())
}

fn show(file: &Path, one_line: bool) -> anyhow::Result<()> {
    let decoded = read_template(file)?;
    let doc = TemplateDocument {
        format: Some(decoded.format),
        fingers: decoded.fingers,
    };
    let mut stdout = std::io::stdout().lock();
    if one_line {
        serde_json::to_writer(&mut stdout, &doc)?;
    } else {
        serde_json::to_writer_pretty(&mut stdout, &doc)?;
    }
    writeln!(stdout)?;
    Ok(())
}

fn read_template(path: &Path) -> anyhow::Result<codec::DecodedTemplates> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        bail!(
            "{} is larger than {MAX_INPUT_BYTES} bytes: not a template",
            path.display()
        );
    }
    codec::decode(&bytes).with_context(|| format!("cannot decode {}", path.display()))
}
