//! The one error type of the engine crate.

use hoviyat_models::ModelError;

/// Why an engine operation failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The input record or template is invalid.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A finger gallery blob is shorter than its fixed header and checksum.
    #[error("finger gallery blob: needs at least {needed} bytes, got {available}")]
    GalleryTruncated { needed: usize, available: usize },
    /// A finger gallery blob has a version this build does not read.
    #[error("finger gallery blob: unsupported version {version}")]
    GalleryVersion { version: u8 },
    /// A finger gallery blob's length disagrees with its minutia count.
    #[error("finger gallery blob: expected {expected} bytes, got {actual}")]
    GalleryLength { expected: usize, actual: usize },
    /// A finger gallery blob's checksum does not match its contents.
    #[error("finger gallery blob: checksum {stored:08x} stored, {computed:08x} computed")]
    GalleryChecksum { stored: u32, computed: u32 },
    /// A finger gallery blob holds a value out of range.
    #[error("finger gallery blob: {field} {value} is out of range")]
    GalleryField { field: &'static str, value: u64 },
    /// A calibration table is unusable (too few scores, not increasing).
    #[error("finger score calibration: {reason}")]
    Calibration { reason: &'static str },
}

/// Result alias of the engine crate.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;
