//! `hoviyat bench`: throughput benchmarks on seeded synthetic data.

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// 1:N finger comparisons per second per core (prepared probe against
    /// gallery blobs), beside the NBIS bozorth3 port on the same templates.
    Fingers(FingerArgs),
    /// Atomic dedup decisions over a synthetic gallery, through the engine
    /// facade the service calls.
    Dedup(super::bench_dedup::DedupBenchArgs),
    /// Exact 1:N face search (int8 scan + rescoring) against a plain f32
    /// scan and the machine's memory-read bandwidth.
    Face(super::bench_face::FaceBenchArgs),
    /// The HTTP service under dedup load: seeded gallery, loopback server,
    /// enrollments over HTTP; dedups/s, p50/p99 latency, FNIR/FPIR.
    Service(super::bench_service::ServiceArgs),
    /// Enrollment, adjudication and delete load on a real `hoviyat serve`
    /// with client hang-ups, timeouts, SIGKILLs and audit write faults; then
    /// every decision checked against the gallery and the audit log
    /// (acknowledged, present, audited, lost, unaudited; audit verify).
    Chaos(super::bench_chaos::ChaosArgs),
}

#[derive(Debug, Args)]
struct FingerArgs {
    /// Gallery size (synthetic fingers).
    #[arg(long, default_value_t = 10_000)]
    gallery: usize,
    /// Seed of the synthetic population.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Impostor probes searched against the whole gallery.
    #[arg(long, default_value_t = 20)]
    probes: usize,
    /// Print one JSON object on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.command {
        BenchCommand::Fingers(a) => fingers(a),
        BenchCommand::Dedup(a) => super::bench_dedup::run_dedup(a),
        BenchCommand::Face(a) => super::bench_face::run_face(a),
        BenchCommand::Service(a) => super::bench_service::run(a),
        BenchCommand::Chaos(a) => super::bench_chaos::run(a),
    }
}

fn fingers(args: FingerArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.gallery > 0 && args.probes > 0,
        "--gallery and --probes must be positive"
    );
    let report = hoviyat_benches::finger_bench::run(args.gallery, args.probes, args.seed)?;
    let mut value = serde_json::to_value(&report)?;
    value["kernels"] = serde_json::to_value(hoviyat_engine::kernels::report())?;
    if args.json {
        println!("{}", serde_json::to_string(&value)?);
    } else {
        println!(
            "{:.0} impostor comparisons/s/core (bozorth3 port {}), {:.0} bytes per finger",
            report.impostor_cmp_per_s_per_core,
            report
                .bozorth3_cmp_per_s_per_core
                .map_or("not built".to_string(), |b| format!(
                    "{b:.0}/s/core, speedup {:.1}x",
                    report.impostor_cmp_per_s_per_core / b
                )),
            report.bytes_per_finger
        );
    }
    Ok(())
}
