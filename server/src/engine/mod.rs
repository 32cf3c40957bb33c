//! The service's one door to the engine: every engine type and call the
//! handlers use is named here, so that an engine API change is absorbed in
//! this module and in `error.rs`.

pub use hoviyat_engine::EngineError;
pub use hoviyat_engine::abis::FingerExplanation;
pub use hoviyat_engine::abis::{
    Abis, AbisConfig, Candidate, Decision, DecisionKind, DecisionLog, EnrollOutcome, Enrollment,
    FaceScore, FingerScore, Identification, IdentifyOptions, Mode, Probe, Stats, Status,
    StoredFinger, Verdict, Verification, took_effect,
};
pub use hoviyat_engine::finger::{Explanation, Similarity, explain as explain_fingers};

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
///
/// A record may carry several fingers: the one at `position` is taken. A
/// record with one finger of unknown position (code 0) is taken as
/// `position`; one at another position is refused, as a likely mix-up.
pub fn decode_template(
    bytes: &[u8],
    format: Option<TemplateFormat>,
    position: FingerPosition,
) -> Result<FingerTemplate, ApiError> {
    use hoviyat_models::codec::{self, TemplateFormat as F};
    let bad =
        |e: hoviyat_models::ModelError| ApiError::invalid("bad_template", e.to_string()).at("data");
    let fingers = match format.unwrap_or(TemplateFormat::Auto) {
        TemplateFormat::Auto => {
            let decoded = codec::decode(bytes).map_err(bad)?;
            if decoded.format == F::Json {
                return Err(ApiError::invalid(
                    "bad_template",
                    "template data must be a binary ISO/ANSI record; send minutiae JSON as `minutiae`",
                )
                .at("data"));
            }
            decoded.fingers
        }
        TemplateFormat::Iso19794_2_2005 => {
            codec::decode_as(bytes, F::Iso19794_2_2005).map_err(bad)?
        }
        TemplateFormat::Iso19794_2_2011 => {
            codec::decode_as(bytes, F::Iso19794_2_2011).map_err(bad)?
        }
        TemplateFormat::Ansi378_2004 => codec::decode_as(bytes, F::Ansi378_2004).map_err(bad)?,
    };
    if let Some(f) = fingers.iter().find(|f| f.position == position) {
        return Ok(f.clone());
    }
    match fingers.as_slice() {
        [only] if only.position == FingerPosition::Unknown => {
            let mut f = only.clone();
            f.position = position;
            Ok(f)
        }
        _ => Err(ApiError::invalid(
            "position_mismatch",
            format!(
                "the record holds no finger at position {position}; it holds {:?}",
                fingers
                    .iter()
                    .map(|f| f.position.code())
                    .collect::<Vec<_>>()
            ),
        )
        .at("data")),
    }
}

/// Extracts the minutiae of a fingerprint image (CPU work: call it off the
/// async threads).
pub fn extract_image(
    image: &image::GrayImage,
    dpi: u16,
    position: FingerPosition,
) -> Result<FingerTemplate, ApiError> {
    let config = hoviyat_engine::extract::ExtractConfig {
        dpi,
        position,
        ..Default::default()
    };
    // Paths relative to the image input: `dpi`, or the image itself.
    hoviyat_engine::extract::extract(image, &config)
        .map(|e| e.template)
        .map_err(|e| {
            let dpi = matches!(e, EngineError::ResolutionOutOfRange { .. });
            let mut api = ApiError::from(e);
            api.field = dpi.then(|| "dpi".to_owned());
            api
        })
}
