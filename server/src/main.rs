//! `hoviyat`: the Hoviyat ABIS command-line tool and service.
//!
//! Every subcommand lives in its own module under `cli/`. Commands that report
//! figures take `--json` and then print one JSON object (or one per line for
//! many inputs) on stdout; progress and logs go to stderr; a failure exits
//! non-zero with a one-line reason.
#![forbid(unsafe_code)]

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Hoviyat: automated biometric identification (fingerprints and faces).
#[derive(Debug, Parser)]
#[command(name = "hoviyat", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP service (default: 127.0.0.1:8080, default data directory).
    Serve(cli::serve::Args),
    /// Manage API keys.
    Keys(cli::keys::Args),
    /// Check the audit log.
    Audit(cli::audit::Args),
    /// Accuracy evaluations on real data folders.
    Eval(cli::eval::EvalArgs),
    /// Throughput benchmarks on seeded synthetic data.
    Bench(cli::bench::BenchArgs),
    /// Inspect, import into and maintain a gallery directory.
    Gallery(cli::gallery::GalleryArgs),
    /// Extract minutiae from fingerprint images.
    Extract(cli::extract::ExtractArgs),
    /// Show and convert finger minutiae templates (ISO/IEC 19794-2, ANSI 378, JSON).
    Template {
        #[command(subcommand)]
        command: cli::template::TemplateCommand,
    },
    /// Generate seeded synthetic fingerprints and populations.
    Synth(cli::synth::SynthArgs),
}

fn main() -> ExitCode {
    cli::init_logging();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version go to stdout as clap prints them; a usage error
        // is one line, like every other failure (`--help` has the rest).
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            let rendered = e.render().to_string();
            let reason = rendered.lines().next().unwrap_or("invalid arguments");
            eprintln!("{reason}");
            return ExitCode::from(2);
        }
    };
    let result: anyhow::Result<()> = match cli.command {
        Command::Serve(args) => cli::serve::run(args),
        Command::Keys(args) => cli::keys::run(args),
        Command::Audit(args) => cli::audit::run(args),
        Command::Eval(args) => cli::eval::run(args),
        Command::Bench(args) => cli::bench::run(args),
        Command::Gallery(args) => cli::gallery::run(args),
        Command::Extract(args) => cli::extract::run(args),
        Command::Template { command } => cli::template::run(command),
        Command::Synth(args) => cli::synth::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", one_line(&err));
            ExitCode::FAILURE
        }
    }
}

/// The reason and its causes on one line, a cause left out where the
/// message before it already ends with it (error types that print their
/// source and also give it as their source).
fn one_line(err: &anyhow::Error) -> String {
    let mut line = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    line.replace(['\n', '\r'], " ")
}
