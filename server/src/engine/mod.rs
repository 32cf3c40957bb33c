//! The service's one door to the engine: every engine type and call the
//! handlers use is named here, so that an engine API change is absorbed in
//! this module and in `error.rs`.

pub use hoviyat_engine::EngineError;
pub use hoviyat_engine::abis::{
    Abis, AbisConfig, Candidate, EnrollOutcome, Enrollment, FaceScore, FingerScore, Identification,
    IdentifyOptions, Mode, Probe, Stats, Status, Verdict, Verification,
};

/// The kernels the engine picked on this machine, for the health endpoint.
pub fn kernels() -> serde_json::Value {
    serde_json::json!({
        "simd": hoviyat_engine::kernels::report(),
        "face": hoviyat_engine::face::kernel_report(),
    })
}

use hoviyat_models::{FingerPosition, FingerTemplate};

use crate::error::ApiError;
use crate::wire::TemplateFormat;

/// Decodes an ISO/ANSI minutiae record into the template of `position`.
pub fn decode_template(
    _bytes: &[u8],
    _format: Option<TemplateFormat>,
    _position: FingerPosition,
) -> Result<FingerTemplate, ApiError> {
    Err(ApiError::invalid(
        "unsupported_template",
        "template decoding is not available in this build",
    ))
}

/// Extracts the minutiae of a fingerprint image.
pub fn extract_image(
    _image: &image::GrayImage,
    _dpi: u16,
    _position: FingerPosition,
) -> Result<FingerTemplate, ApiError> {
    Err(ApiError::invalid(
        "unsupported_image",
        "image extraction is not available in this build",
    ))
}
