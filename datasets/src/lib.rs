//! Loaders for real biometric data folders and seeded synthetic generators
//! for fingerprints, faces and whole populations: the fixtures of Hoviyat's
//! tests and the load of its benchmarks.
//!
//! - [`synth::generate`] / [`synth::SyntheticFinger`]: SFinGe-style
//!   fingerprint images (500 dpi) with ground-truth minutiae.
//! - [`synth::Population`]: N identities of ten finger templates and a face
//!   template each, with O(1) access to any identity and to fresh
//!   re-enrollments of it (mated probes).
//! - [`PopulationWriter`] / [`PopulationReader`]: the streaming population
//!   file that `hoviyat gallery import` reads.
//! - [`fvc`]: folders of `{finger}_{impression}.png` images.
//! - [`robustness`]: seeded changes of real impressions by family
//!   (rotation, scale, shift, partial, distortion, noise), for images and
//!   minutiae alike.
//!
//! ```
//! use hoviyat_datasets::synth::{Population, PopulationConfig};
//!
//! let pop = Population::new(PopulationConfig::new(7, 1_000)).unwrap();
//! let enrolled = pop.identity(42);
//! let probe = pop.reenrollment(42, 1); // the same person, captured again
//! assert_eq!(enrolled.reference_id, "synth-7-00000042");
//! assert_eq!(pop.identity_of(&probe.reference_id), Some(42));
//! enrolled.validate(Some(512)).unwrap();
//! ```
#![forbid(unsafe_code)]

mod error;
pub mod faces;
pub mod fvc;
pub mod minutiae_impressions;
pub mod popfile;
pub mod robustness;
pub mod synth;

pub use error::{DatasetError, Result};
pub use popfile::{PopulationHeader, PopulationReader, PopulationWriter};
