//! The subcommands of `hoviyat`, one module each.

pub mod bench;
pub mod bench_dedup;
pub mod bench_face;
pub mod eval;
pub mod eval_faces;
pub mod extract;
pub mod gallery;
pub mod synth;
pub mod template;

/// Logs go to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
