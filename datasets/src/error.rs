//! The one error type of the datasets crate.

use std::path::PathBuf;

/// Why a dataset could not be read, written or generated.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: invalid JSON: {source}")]
    Json {
        path: PathBuf,
        line: usize,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}:{line}: embedding has {got} values; earlier lines have {expected}")]
    DimensionMismatch {
        path: PathBuf,
        line: usize,
        expected: usize,
        got: usize,
    },
    #[error("{path}: cannot decode image: {source}")]
    Image {
        path: PathBuf,
        #[source]
        source: image::ImageError,
    },
    #[error("{path}: no `{{finger}}_{{impression}}` image files found")]
    EmptyFolder { path: PathBuf },
    #[error("population file: wrong magic {found:02x?}")]
    BadMagic { found: [u8; 8] },
    #[error("population file: unsupported version {version}")]
    UnsupportedVersion { version: u16 },
    #[error("population file: record {index} declares {len} bytes; at most {max} allowed")]
    RecordTooLong { index: u64, len: u32, max: u32 },
    #[error(
        "population file: record {index} fails its checksum (stored {stored:08x}, computed {computed:08x})"
    )]
    Checksum {
        index: u64,
        stored: u32,
        computed: u32,
    },
    #[error("population file: header announces {expected} records but the file ends after {found}")]
    Truncated { expected: u64, found: u64 },
    #[error("population file: {written} records written but the header announces {expected}")]
    CountMismatch { expected: u64, written: u64 },
    #[error("population file: record {index}: {source}")]
    Record {
        index: u64,
        #[source]
        source: hoviyat_models::ModelError,
    },
    #[error("invalid generator configuration: {field} = {value} ({reason})")]
    InvalidConfig {
        field: &'static str,
        value: f64,
        reason: &'static str,
    },
}

/// Result alias of the datasets crate.
pub type Result<T, E = DatasetError> = std::result::Result<T, E>;
