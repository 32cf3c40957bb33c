//! `hoviyat bench dedup`: atomic dedup decisions over a synthetic gallery,
//! through the engine facade the service calls.

use anyhow::Context;
use clap::Args;
use hoviyat_benches::dedup::{DedupBenchConfig, run, run_recorded};
use hoviyat_server::audit::{AuditEvent, AuditLog, Decisions};

/// Options of `bench dedup`.
#[derive(Debug, Args)]
pub struct DedupBenchArgs {
    /// Identities enrolled before the timed enrollments.
    #[arg(long, default_value_t = 100_000)]
    pub identities: u64,
    /// Timed enrollments: half re-enrollments of enrolled people, half new people.
    #[arg(long, default_value_t = 200, value_parser = super::at_least_one)]
    pub enrollments: usize,
    /// Seed of the synthetic population.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Data directory to build, laid out as the service's (`DIR/gallery`,
    /// and with `--audit` `DIR/audit.log`); a new or empty one, a temporary
    /// one by default.
    #[arg(long)]
    pub data: Option<std::path::PathBuf>,
    /// Print one JSON object instead of a summary.
    #[arg(long)]
    pub json: bool,
    /// Record every decision in an audit log beside the gallery (fsynced,
    /// under the decision lock), as the service does.
    #[arg(long)]
    pub audit: bool,
}

pub fn run_dedup(a: DedupBenchArgs) -> anyhow::Result<()> {
    let temp;
    let data_dir = match &a.data {
        Some(dir) => {
            super::ensure_new_or_empty(dir)?;
            dir.clone()
        }
        None => {
            temp = tempfile::tempdir().context("making a temporary data directory")?;
            temp.path().to_path_buf()
        }
    };
    let dir = data_dir.join("gallery");
    tracing::info!(identities = a.identities, dir = %dir.display(), "bench dedup: building the gallery");
    let config = DedupBenchConfig {
        identities: a.identities,
        enrollments: a.enrollments,
        seed: a.seed,
    };
    let report = if a.audit {
        std::fs::create_dir_all(&data_dir)?;
        let log = AuditLog::open(&data_dir).context("opening the audit log")?;
        let decisions = Decisions::new(
            &log,
            AuditEvent {
                actor_name: "bench dedup".into(),
                endpoint: "hoviyat bench dedup".into(),
                ..AuditEvent::default()
            },
        );
        run_recorded(&config, &dir, &decisions)
    } else {
        run(&config, &dir)
    }
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
