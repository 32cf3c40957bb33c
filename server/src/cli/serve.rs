//! `hoviyat serve`: run the HTTP service.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use hoviyat_server::app::{AppState, router};
use hoviyat_server::engine::AbisConfig;
use hoviyat_server::keys::{self, Role};
use hoviyat_server::limits::Limits;

use super::DataDir;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    data: DataDir,
    /// Address to listen on (port 0 picks a free port; the bound address is
    /// logged as `listening on ADDR`).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = Limits::default().max_body_bytes)]
    max_body_bytes: usize,
    /// Largest image side, in pixels.
    #[arg(long, default_value_t = Limits::default().max_image_side_px)]
    max_image_side_px: u32,
    /// Per-request time limit, in seconds.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    timeout_s: u64,
    /// Matching requests queued or running at once; beyond: 503.
    #[arg(long, default_value_t = Limits::default().max_pending, value_parser = super::at_least_one)]
    max_pending: usize,
    /// Matching requests running at once (default: CPU count).
    #[arg(long, value_parser = super::at_least_one)]
    workers: Option<usize>,
    /// Face template dimension of a new gallery (0: fingers only). An
    /// existing gallery keeps its own.
    #[arg(long, default_value_t = 512)]
    face_dim: usize,
    /// Serve the DET plots (`*.svg`) that `hoviyat eval suite --det DIR`
    /// wrote to DIR at `/v1/eval/det` (admin).
    #[arg(long, value_name = "DIR")]
    det_dir: Option<std::path::PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let dir = args.data.path();
    if let Some(det) = &args.det_dir {
        anyhow::ensure!(
            det.is_dir(),
            "--det-dir {}: no such directory",
            det.display()
        );
    }
    let defaults = Limits::default();
    let limits = Limits {
        max_body_bytes: args.max_body_bytes,
        max_image_side_px: args.max_image_side_px,
        max_image_alloc_bytes: defaults.max_image_alloc_bytes,
        request_timeout: Duration::from_secs(args.timeout_s),
        max_pending: args.max_pending,
        workers: args.workers.unwrap_or(defaults.workers),
    };
    let first_start = !keys::keys_path(&dir).exists();
    let abis = AbisConfig {
        face_dim: (args.face_dim > 0).then_some(args.face_dim),
        ..AbisConfig::default()
    };
    let state = AppState::open(&dir, limits, &abis)
        .with_context(|| format!("opening data directory {}", dir.display()))?
        .with_det_dir(args.det_dir.clone());
    // Bound before a bootstrap key is shown: a start that fails on a busy
    // port must not show the only copy of a key and then exit.
    let listener = std::net::TcpListener::bind(args.listen)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .with_context(|| format!("listening on {}", args.listen))?;
    if first_start {
        // A fresh machine has no key: make one with every role and show it
        // once, so the README's curl tour works with no other setup.
        let (stored, key) = keys::add(&dir, "bootstrap", &Role::ALL)?;
        eprintln!(
            "first start: made bootstrap key {} with every role; it is shown only now:\n\n    {key}\n\n\
             make per-person keys with `hoviyat keys add` and revoke this one with `hoviyat keys revoke {}`",
            stored.id, stored.id
        );
    }
    let state = Arc::new(state);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)
            .with_context(|| format!("listening on {}", args.listen))?;
        let local = listener.local_addr()?;
        tracing::info!(data = %dir.display(), "listening on {local}");
        axum::serve(listener, router(state))
            .with_graceful_shutdown(shutdown())
            .await
            .context("serving")
    })
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    tracing::info!("shutting down");
}
