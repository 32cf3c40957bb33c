//! The benchmark and evaluation runners of Hoviyat (called by `hoviyat
//! bench` and `hoviyat eval`) and shared helpers of its criterion benches.
//!
//! - [`face::run_face_bench`]: exact face search on a seeded synthetic
//!   gallery beside a plain f32 scan and a memory-read loop.
//! - [`face_eval::evaluate_faces`]: leave-one-out rank-1 and verification
//!   figures on a labelled face template file.
#![forbid(unsafe_code)]

pub mod agreement;
pub mod dedup;
mod error;
pub mod extraction;
pub mod face;
pub mod face_eval;
pub mod finger_bench;
pub mod fingers;
pub mod fvc;
pub mod gallery;
pub mod interval;
#[cfg(feature = "bozorth3")]
pub mod nbis;
pub mod robustness;
pub mod suite;

pub use error::{BenchError, Result};

/// The `q` quantile (0 to 1) of values sorted ascending, by nearest rank
/// (rounded); `None` for no values.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    sorted.get((last as f64 * q).round() as usize).copied()
}
