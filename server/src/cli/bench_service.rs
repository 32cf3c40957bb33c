//! `hoviyat bench service`: seed a gallery with N synthetic identities, start
//! the service on a loopback port and drive it over HTTP with a mix of new
//! people and re-enrollments; print throughput, latency, FNIR and FPIR.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use hoviyat_datasets::synth::{Population, PopulationConfig};
use hoviyat_server::app::{AppState, router};
use hoviyat_server::engine::{Abis, AbisConfig};
use hoviyat_server::keys::{self, Role};
use hoviyat_server::limits::Limits;
use hoviyat_server::loadgen::{self, Job};
use rayon::prelude::*;
use serde_json::json;

#[derive(Debug, clap::Args)]
pub struct ServiceArgs {
    /// Identities in the gallery before the timed enrollments.
    #[arg(long, default_value_t = 10_000)]
    identities: u64,
    /// Enrollments in flight at once.
    #[arg(long, default_value_t = 4, value_parser = super::at_least_one)]
    concurrency: usize,
    /// Timed enrollments.
    #[arg(long, default_value_t = 400, value_parser = super::at_least_one)]
    requests: usize,
    /// Share of the timed enrollments that re-enroll a gallery identity.
    #[arg(long, default_value_t = 0.5)]
    reenroll_share: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Keep the gallery in DIR (default: a temporary directory). A DIR that
    /// already holds this seed's gallery is reused without seeding.
    #[arg(long, value_name = "DIR")]
    data: Option<std::path::PathBuf>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    json: bool,
}

/// Imports the population's identities the gallery does not hold yet;
/// returns the seconds it took and how many enrollments the gallery holds.
fn seed_gallery(
    dir: &Path,
    population: &Population,
    config: &AbisConfig,
) -> anyhow::Result<(f64, u64)> {
    let abis = Abis::open(dir, config)?;
    let have = abis.stats()?.identities as u64;
    let n = population.len();
    let started = Instant::now();
    if have < n {
        let bar = indicatif::ProgressBar::new(n - have).with_message("seeding gallery");
        hoviyat_benches::dedup::import_population(&abis, population, have, |k| bar.inc(k))?;
        bar.finish_and_clear();
    }
    let s = abis.stats()?;
    let total = s.identities + s.held + s.confirmed_duplicates + s.deleted;
    Ok((started.elapsed().as_secs_f64(), total as u64))
}

/// Runs `hoviyat bench service`.
pub fn run(a: ServiceArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (0.0..=1.0).contains(&a.reenroll_share),
        "--reenroll-share must lie in 0..=1"
    );
    anyhow::ensure!(
        a.identities > 0 || a.reenroll_share == 0.0,
        "re-enrollments need a gallery"
    );
    let tmp = tempfile::tempdir()?;
    let dir = a.data.clone().unwrap_or_else(|| tmp.path().to_owned());
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let population = Population::new(PopulationConfig::new(a.seed, a.identities))?;
    let abis_config = AbisConfig {
        face_dim: population.config().face.map(|f| f.dim),
        ..AbisConfig::default()
    };
    let gallery_dir = dir.join(hoviyat_server::app::GALLERY_DIR);
    let (seed_s, held_before) = seed_gallery(&gallery_dir, &population, &abis_config)?;
    // Earlier runs on a kept DIR enrolled their own timed records: start
    // past them so that every request is new (not an idempotent replay).
    let offset = held_before.saturating_sub(a.identities);

    // The timed enrollments: re-enrollments spread over the gallery, and
    // people beyond its size (never enrolled).
    let mated = (a.requests as f64 * a.reenroll_share).round() as usize;
    let stride = (a.identities / (mated as u64 + 1)).max(1);
    let jobs: Vec<Job> = (0..a.requests)
        .into_par_iter()
        .map(|k| {
            // Interleave mated and non-mated so both see the same load.
            let is_mated = (k * mated) / a.requests.max(1) != ((k + 1) * mated) / a.requests.max(1);
            if is_mated {
                let i = (k as u64 * stride) % a.identities;
                let sample = u32::try_from(1 + offset + k as u64).unwrap_or(u32::MAX);
                let mut r = population.reenrollment(i, sample);
                r.reference_id = population.reenrollment_id(i, sample);
                Job {
                    body: loadgen::request_json(&r),
                    mate: Some(population.reference_id(i)),
                }
            } else {
                Job {
                    body: loadgen::request_json(
                        &population.identity(a.identities + offset + k as u64),
                    ),
                    mate: None,
                }
            }
        })
        .collect();

    let limits = Limits {
        max_pending: a.concurrency.max(1) * 4,
        ..Limits::default()
    };
    let state = AppState::open(&dir, limits, &abis_config)
        .with_context(|| format!("opening {}", dir.display()))?;
    // The pipeline's role, and one that may read a decision's candidates:
    // without it the answers omit them, and no re-enrollment could be
    // checked for its mate.
    let (_, key) = keys::add(&dir, "bench", &[Role::Enroller, Role::Adjudicator])?;
    let state = Arc::new(state);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(axum::serve(listener, router(Arc::clone(&state))).into_future());
        tracing::info!(%addr, requests = jobs.len(), "driving the service");
        let report = loadgen::drive(&format!("http://{addr}"), &key, jobs, a.concurrency).await;
        server.abort();
        anyhow::Ok(report)
    })?;
    let kernels = hoviyat_server::engine::kernels();
    let out = json!({
        "identities": a.identities,
        "seed": a.seed,
        "seed_gallery_s": seed_s,
        "enrollments_before": held_before,
        "threads": rayon::current_num_threads(),
        "kernels": kernels,
        "report": report,
    });
    if a.json {
        println!("{out}");
    } else {
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    if report.errors > 0 {
        anyhow::bail!("{} enrollments failed", report.errors);
    }
    Ok(())
}
