//! The one error type of the engine crate.

use hoviyat_models::ModelError;

/// Why an engine operation failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The input record or template is invalid.
    #[error(transparent)]
    Model(#[from] ModelError),

    // Face search.
    #[error("face gallery mean has {got} values; the gallery dimension is {expected}")]
    FaceMeanDimension { expected: usize, got: usize },
    #[error("face template equals the gallery mean: it has no direction to compare")]
    FaceEqualsMean,
    #[error("face segment {segment}: {codes} code bytes for {rows} rows of dimension {dim}")]
    FaceRowsInconsistent {
        segment: usize,
        codes: usize,
        rows: usize,
        dim: usize,
    },
    #[error("face segment {segment} starts before the previous one ends")]
    FaceSegmentsOverlap { segment: usize },
    #[error("face row {row} is not in the gallery")]
    FaceRowOutOfRange { row: u64 },
    #[error("face row {row} has a code but no stored template to rescore")]
    FaceVectorMissing { row: u64 },
    #[error("face search threshold {threshold} is not a finite number")]
    FaceThresholdNotFinite { threshold: f32 },
}

/// Result alias of the engine crate.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;
