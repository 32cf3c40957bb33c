//! `hoviyat bench face`: exact 1:N face search (int8 scan + rescoring)
//! against a plain f32 scan and the machine's memory-read bandwidth.

use anyhow::Context;
use clap::Args;
use hoviyat_benches::face::{FaceBenchConfig, run_face_bench};

/// Options of `bench face`.
#[derive(Debug, Args)]
pub struct FaceBenchArgs {
    /// Gallery size (rows).
    #[arg(long, default_value_t = 1_000_000)]
    pub n: usize,
    /// Template dimension.
    #[arg(long, default_value_t = 512)]
    pub dim: usize,
    /// Probes to search (half mated, half not).
    #[arg(long, default_value_t = 100)]
    pub queries: usize,
    /// Probes per batch call.
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Seed of the synthetic gallery and probes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Candidates per probe (investigation mode).
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// Print one JSON object instead of a summary.
    #[arg(long)]
    pub json: bool,
}

pub fn run_face(a: FaceBenchArgs) -> anyhow::Result<()> {
    tracing::info!(
        n = a.n,
        dim = a.dim,
        queries = a.queries,
        "bench face: generating gallery"
    );
    let report = run_face_bench(&FaceBenchConfig {
        n: a.n,
        dim: a.dim,
        queries: a.queries,
        batch: a.batch,
        seed: a.seed,
        k: a.k,
    })
    .context("bench face")?;
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "face search, n={} dim={} kernel={}: single {:.1} q/s ({:.2} of the int8 floor {:.1} q/s, \
             {:.1} GB/s vs memory read {:.1} GB/s), batch {:.1} q/s, plain f32 scan {:.1} q/s; \
             rank-1 agreement {}, max score error {:.2e}",
            report.n,
            report.dim,
            report.kernel.kernel,
            report.single_qps,
            report.single_vs_floor,
            report.int8_floor_qps,
            report.gallery_gb_per_s,
            report.mem_read_gb_per_s,
            report.batch_qps,
            report.baseline_f32_qps,
            report.rank1_agreement,
            report.max_abs_score_error,
        );
    }
    Ok(())
}
