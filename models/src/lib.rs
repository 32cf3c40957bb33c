//! Plain biometric data types of the Hoviyat ABIS and the interchange codecs
//! for finger minutiae records.
//!
//! The main types are [`Minutia`], [`FingerTemplate`] (one finger's minutiae
//! with its [`FingerPosition`]), [`FaceTemplate`] (a face embedding), and
//! [`EnrollmentRecord`] (one person's up to ten fingers, optional face and
//! [`MissingFinger`] markers). Every type validates itself with a typed
//! [`ModelError`] and serialises to JSON with serde.
//!
//! ```
//! use hoviyat_models::{EnrollmentRecord, FingerPosition, FingerTemplate, Minutia, MinutiaKind};
//!
//! let thumb = FingerTemplate {
//!     position: FingerPosition::RightThumb,
//!     width_px: 400,
//!     height_px: 500,
//!     dpi: 500,
//!     quality: 80,
//!     minutiae: vec![Minutia::new(120.0, 200.0, 1.2, MinutiaKind::Ending, 70)],
//!     ridge_map: None,
//! };
//! let record = EnrollmentRecord::new("applicant-0001", vec![thumb], None);
//! record.validate(None).unwrap();
//! let json = serde_json::to_string(&record).unwrap();
//! assert_eq!(serde_json::from_str::<EnrollmentRecord>(&json).unwrap(), record);
//! ```
#![forbid(unsafe_code)]

pub mod binary;
pub mod codec;
mod error;
mod face;
mod finger;
mod minutia;
mod record;
pub mod ridge;

pub use error::{ModelError, Result};
pub use face::FaceTemplate;
pub use face::{MAX_FACE_DIM, MAX_FACE_MODEL_BYTES, MAX_FACE_VALUE};
pub use finger::{DPI_RANGE, MAX_IMAGE_SIDE_PX, MAX_MINUTIAE};
pub use finger::{FingerPosition, FingerTemplate, MissingFinger, MissingReason};
pub use minutia::{Minutia, MinutiaKind};
pub use record::{
    EnrollmentRecord, MAX_FINGERS, MAX_REFERENCE_ID_BYTES, normalize_reference_id,
    validate_reference_id,
};
pub use ridge::{RidgeCell, RidgeMap};
