//! Seeded synthetic biometric data: fingerprint images with ground truth
//! (SFinGe-style masters and impressions) and template-level populations.

pub mod clutter;
pub mod face;
pub mod fingerprint;
pub mod impression;
pub mod master;
pub mod orientation;
pub mod population;
pub mod seed;
pub mod skeleton;

pub use face::{FaceConfig, FaceModel};
pub use fingerprint::{
    FingerprintConfig, GroundTruth, SyntheticFinger, SyntheticImpression, generate,
};
pub use impression::{ImpressionConfig, Skin};
pub use master::MasterConfig;
pub use orientation::FingerClass;
pub use population::{CaptureConfig, Population, PopulationConfig};
