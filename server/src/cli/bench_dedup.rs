//! `hoviyat bench dedup`: atomic dedup decisions over a synthetic gallery,
//! through the engine facade the service calls.

use anyhow::Context;
use clap::Args;
use hoviyat_benches::dedup::{DedupBenchConfig, run};

/// Options of `bench dedup`.
#[derive(Debug, Args)]
pub struct DedupBenchArgs {
    /// Identities enrolled before the timed enrollments.
    #[arg(long, default_value_t = 100_000)]
    pub identities: u64,
    /// Timed enrollments: half re-enrollments of enrolled people, half new people.
    #[arg(long, default_value_t = 200)]
    pub enrollments: usize,
    /// Seed of the synthetic population.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Gallery directory to build (must not exist yet); a temporary one by default.
    #[arg(long)]
    pub data: Option<std::path::PathBuf>,
    /// Print one JSON object instead of a summary.
    #[arg(long)]
    pub json: bool,
}

pub fn run_dedup(a: DedupBenchArgs) -> anyhow::Result<()> {
    let temp;
    let dir = match &a.data {
        Some(dir) => dir.clone(),
        None => {
            temp = tempfile::tempdir().context("making a temporary gallery directory")?;
            temp.path().join("gallery")
        }
    };
    tracing::info!(identities = a.identities, dir = %dir.display(), "bench dedup: building the gallery");
    let report = run(
        &DedupBenchConfig {
            identities: a.identities,
            enrollments: a.enrollments,
            seed: a.seed,
        },
        &dir,
    )
    .context("bench dedup")?;
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "dedup at N={}: {:.1} decisions/s, p50 {:.1} ms, p99 {:.1} ms; FNIR {:.4} ({} of {} re-enrollments missed), \
             FPIR {:.4} ({} of {} new people held); {:.0} bytes/identity; import {:.0} identities/s",
            report.identities,
            report.dedups_per_s,
            report.latency_ms_p50,
            report.latency_ms_p99,
            report.fnir,
            report.missed_duplicates,
            report.mated,
            report.fpir,
            report.false_holds,
            report.non_mated,
            report.bytes_per_identity,
            report.import_identities_per_s,
        );
    }
    Ok(())
}
