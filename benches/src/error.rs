//! The one error type of the benchmark runner library.

use hoviyat_datasets::DatasetError;
use hoviyat_engine::EngineError;

/// Why a benchmark or evaluation run failed.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    #[error("{name} = {value} is out of range: {expected}")]
    BadParameter {
        name: &'static str,
        value: u64,
        expected: &'static str,
    },
    #[error(
        "dataset has {templates} templates of {identities} identities; evaluation needs at least two identities and one with two templates"
    )]
    DatasetTooSmall { templates: usize, identities: usize },
}

/// Result alias of the benchmark runner library.
pub type Result<T, E = BenchError> = std::result::Result<T, E>;
