//! The one error type of the datasets crate.

use std::path::PathBuf;

/// Why a dataset could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: invalid JSON: {source}")]
    Json {
        path: PathBuf,
        line: usize,
        source: serde_json::Error,
    },
    #[error("{path}:{line}: embedding has {got} values; earlier lines have {expected}")]
    DimensionMismatch {
        path: PathBuf,
        line: usize,
        expected: usize,
        got: usize,
    },
}

/// Result alias of the datasets crate.
pub type Result<T, E = DatasetError> = std::result::Result<T, E>;
