//! Loaders for real biometric data folders and seeded synthetic generators
//! for fingerprints, faces and whole populations: the fixtures of Hoviyat's
//! tests and the load of its benchmarks.
#![forbid(unsafe_code)]

mod error;
pub mod faces;
pub mod fvc;
pub mod minutiae_impressions;
pub mod popfile;
pub mod synth;

pub use error::{DatasetError, Result};
pub use popfile::{PopulationHeader, PopulationReader, PopulationWriter};
