//! The JSON form of a set of finger templates.
//!
//! Written as one object, `{"fingers": [FingerTemplate, ...]}` (plus
//! `"format"`, the format the fingers were decoded from, when known). Read
//! from that object, from a bare array `[FingerTemplate, ...]`, or from a
//! single `FingerTemplate` object. Angles read are wrapped into `[0, 2π)`.

use serde::{Deserialize, Serialize};

use super::TemplateFormat;
use crate::{FingerTemplate, Minutia, ModelError, Result};

const FORMAT: &str = "JSON";

/// The JSON document of a set of finger templates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateDocument {
    /// The format the fingers were decoded from; informational, ignored on
    /// input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<TemplateFormat>,
    pub fingers: Vec<FingerTemplate>,
}

/// Parses any of the accepted JSON shapes and validates every finger.
pub(crate) fn decode(bytes: &[u8]) -> Result<Vec<FingerTemplate>> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(invalid)?;
    let mut fingers: Vec<FingerTemplate> = match value {
        serde_json::Value::Array(_) => serde_json::from_value(value).map_err(invalid)?,
        serde_json::Value::Object(ref map) if map.contains_key("fingers") => {
            serde_json::from_value::<TemplateDocument>(value)
                .map_err(invalid)?
                .fingers
        }
        serde_json::Value::Object(_) => {
            vec![serde_json::from_value::<FingerTemplate>(value).map_err(invalid)?]
        }
        _ => {
            return Err(ModelError::InvalidJson {
                reason: "expected an object or an array of finger templates".into(),
            });
        }
    };
    if fingers.is_empty() {
        return Err(ModelError::NoFingers { format: FORMAT });
    }
    fingers.iter().try_for_each(FingerTemplate::validate)?;
    // Deserialising bypasses Minutia::new: wrap angles into [0, 2π) here.
    for m in fingers.iter_mut().flat_map(|f| f.minutiae.iter_mut()) {
        *m = Minutia::new(m.x_px, m.y_px, m.angle_rad, m.kind, m.quality);
    }
    Ok(fingers)
}

/// Writes `{"fingers": [...]}`, pretty-printed, with a final newline.
pub(crate) fn encode(fingers: &[FingerTemplate]) -> Result<Vec<u8>> {
    super::views::validate_all(FORMAT, fingers)?;
    #[derive(Serialize)]
    struct Doc<'a> {
        fingers: &'a [FingerTemplate],
    }
    let doc = Doc { fingers };
    let mut out = serde_json::to_vec_pretty(&doc).map_err(invalid)?;
    out.push(b'\n');
    Ok(out)
}

fn invalid(err: serde_json::Error) -> ModelError {
    ModelError::InvalidJson {
        reason: err.to_string(),
    }
}
