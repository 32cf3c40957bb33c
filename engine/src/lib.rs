//! The Hoviyat ABIS engine: fingerprint minutiae extraction, matching
//! kernels, the memory-mapped gallery store, 1:N search and score fusion.
//!
//! The engine is a plain library: it does no networking and owns no async
//! runtime, so a batch job, a benchmark or the HTTP service can all call it.
//! CPU-heavy work runs on rayon.
//!
//! Errors of every module are one [`EngineError`].

pub mod abis;
#[cfg(test)]
mod compat;
mod error;
pub mod extract;
pub mod face;
pub mod finger;
pub mod fusion;
pub mod kernels;
pub mod metrics;
pub mod prepare;
pub mod screen;
pub mod store;

pub use error::{EngineError, GalleryFileKind, Result};
pub use hoviyat_models as models;
