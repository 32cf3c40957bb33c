//! The one error type of the engine crate.

use hoviyat_models::ModelError;

/// Why an engine operation failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The input record or template is invalid.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Result alias of the engine crate.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;
