//! The subcommands of `hoviyat`, one module each.

pub mod audit;
pub mod bench;
pub mod bench_chaos;
pub mod bench_dedup;
pub mod bench_face;
pub mod bench_service;
pub mod eval;
pub mod eval_faces;
pub mod extract;
pub mod gallery;
pub mod keys;
pub mod serve;
pub mod synth;
pub mod template;

use std::path::PathBuf;

/// Logs go to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour only for a person at a terminal, not in a log file or a pipe.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .init();
}

/// `Err` unless `dir` is missing or empty: a run that builds its own
/// gallery there must not add to (and then report on) someone else's.
pub fn ensure_new_or_empty(dir: &std::path::Path) -> anyhow::Result<()> {
    let in_use = std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some());
    anyhow::ensure!(
        !in_use,
        "--data {}: not empty; give a new or empty directory",
        dir.display()
    );
    Ok(())
}

/// A count of 1 or more (a clap value parser).
pub fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{s:?} is not a whole number of 1 or more")),
    }
}

/// The data directory used when `--data` is not given: `$HOVIYAT_DATA`,
/// else `$XDG_DATA_HOME/hoviyat`, else `$HOME/.local/share/hoviyat`, else
/// `./hoviyat-data`.
pub fn default_data_dir() -> PathBuf {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(dir) = env("HOVIYAT_DATA") {
        return dir.into();
    }
    if let Some(dir) = env("XDG_DATA_HOME") {
        return PathBuf::from(dir).join("hoviyat");
    }
    if let Some(home) = env("HOME") {
        return PathBuf::from(home).join(".local/share/hoviyat");
    }
    PathBuf::from("hoviyat-data")
}

/// `--data DIR`, shared by the commands that use a data directory.
#[derive(Debug, Clone, clap::Args)]
pub struct DataDir {
    /// Data directory (gallery, keys, audit log). Default: $HOVIYAT_DATA,
    /// else $XDG_DATA_HOME/hoviyat, else ~/.local/share/hoviyat.
    #[arg(long = "data", value_name = "DIR")]
    pub data: Option<PathBuf>,
}

impl DataDir {
    pub fn path(&self) -> PathBuf {
        self.data.clone().unwrap_or_else(default_data_dir)
    }

    /// The directory, which must exist already: commands that read a
    /// service's data say so instead of reporting on nothing.
    pub fn existing(&self) -> anyhow::Result<PathBuf> {
        let dir = self.path();
        anyhow::ensure!(
            dir.is_dir(),
            "no data directory at {} (give the service's --data)",
            dir.display()
        );
        Ok(dir)
    }

    /// The existing directory, which must hold an audit log.
    pub fn with_audit_log(&self) -> anyhow::Result<PathBuf> {
        let dir = self.existing()?;
        let log = dir.join(hoviyat_server::audit::LOG_FILE);
        anyhow::ensure!(log.is_file(), "no audit log at {}", log.display());
        Ok(dir)
    }
}
