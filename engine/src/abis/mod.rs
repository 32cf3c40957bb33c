//! The dedup facade: what the enrollment pipeline and investigators call.
//!
//! The facade itself (atomic identify-then-insert over the gallery store,
//! statuses, adjudication) lands with the store and matchers; this module
//! holds its public types.

pub mod calibration;
mod types;

pub use types::{
    Adjudication, Candidate, EnrollOutcome, Enrollment, FaceScore, FingerScore, Identification,
    IdentifyOptions, Mode, Probe, Stats, Status, Verdict, Verification,
};
