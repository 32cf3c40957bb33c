//! `/v1/compare`: two fingers compared 1:1, with the minutiae the score
//! rests on, for an examiner to look at.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use hoviyat_models::FingerTemplate;

use crate::app::{ApiJson, AppState};
use crate::audit::{AuditCandidate, AuditEvent, probe_sha256};
use crate::auth::{Caller, Role};
use crate::engine::{Abis, EngineError};
use crate::error::{ApiError, ErrorBody};
use crate::input;
use crate::limits::{Admitted, Limits};
use crate::wire::{CompareRequest, CompareResponse, FingerInput, GalleryFingerJson, SampleInput};

/// A comparison side made into a template, with the stored enrollment it
/// came from.
struct Sample {
    template: FingerTemplate,
    reference_id: Option<String>,
}

/// The template of `s`, the side at `field` (`probe` or `gallery`).
fn sample(abis: &Abis, s: &SampleInput, limits: &Limits, field: &str) -> Result<Sample, ApiError> {
    let position = s.position.ok_or_else(|| {
        ApiError::invalid("missing_field", "position is required").at(format!("{field}.position"))
    })?;
    let Some(id) = &s.reference_id else {
        let finger = FingerInput {
            position,
            image: s.image.clone(),
            template: s.template.clone(),
            minutiae: s.minutiae.clone(),
        };
        let template = input::finger_sample(&finger, limits).map_err(|e| e.within(field))?;
        return Ok(Sample {
            template,
            reference_id: None,
        });
    };
    if s.image.is_some() || s.template.is_some() || s.minutiae.is_some() {
        return Err(ApiError::invalid(
            "finger_source",
            "give either reference_id or one of image, template or minutiae",
        )
        .at(field));
    }
    let id = super::reference_id(id, &format!("{field}.reference_id"))?;
    let template = abis.stored_finger(&id, position).map_err(|e| match e {
        EngineError::UnknownReference { .. } => {
            ApiError::not_found(&id).at(format!("{field}.reference_id"))
        }
        other => ApiError::from(other).within(field),
    })?;
    Ok(Sample {
        template,
        reference_id: Some(id),
    })
}

/// How a side is named in the audit log's comment.
fn described(s: &Sample) -> String {
    match &s.reference_id {
        Some(id) => format!("stored {id:?} position {}", s.template.position.code()),
        None => format!("submitted position {}", s.template.position.code()),
    }
}

/// Compares two fingers 1:1: the symmetric score, its estimated
/// false-match rate, the alignment and the paired minutiae.
#[utoipa::path(
    post, path = "/v1/compare", tag = "search",
    request_body = CompareRequest,
    responses(
        (status = 200, body = CompareResponse),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn compare(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    admitted: Admitted,
    ApiJson(req): ApiJson<CompareRequest>,
) -> Result<Json<CompareResponse>, ApiError> {
    caller.require_any(&[Role::Investigator, Role::Adjudicator])?;
    let limits = state.limits.clone();
    let abis = Arc::clone(&state.abis);
    let (probe, gallery, explanation) = state
        .work
        .run_admitted(admitted, move || {
            let probe = sample(&abis, &req.probe, &limits, "probe")?;
            let gallery = sample(&abis, &req.gallery, &limits, "gallery")?;
            let explanation = crate::engine::explain_fingers(&probe.template, &gallery.template)
                .map_err(ApiError::from)?;
            Ok::<_, ApiError>((probe, gallery, explanation))
        })
        .await??;
    let score = f64::from(explanation.score.log10_fmr);
    super::audit(
        &state,
        AuditEvent {
            reference_id: gallery
                .reference_id
                .clone()
                .or_else(|| probe.reference_id.clone()),
            probe_sha256: Some(probe_sha256(&(&probe.template, &gallery.template))),
            gallery_size: Some(1),
            candidates: [&probe.reference_id, &gallery.reference_id]
                .into_iter()
                .flatten()
                .map(|id| AuditCandidate {
                    reference_id: id.clone(),
                    score,
                })
                .collect(),
            outcome: format!("{} pairs", explanation.score.paired),
            comment: Some(format!(
                "probe: {}; gallery: {}",
                described(&probe),
                described(&gallery)
            )),
            ..AuditEvent::by(&caller, "POST /v1/compare")
        },
    )
    .await?;
    let has_image = match &gallery.reference_id {
        Some(id) => state
            .evidence
            .positions(id)
            .map_err(ApiError::internal)?
            .contains(&gallery.template.position),
        None => false,
    };
    let view = GalleryFingerJson::new(&gallery.template, gallery.reference_id.clone(), has_image);
    Ok(Json(CompareResponse::new(
        &explanation,
        &probe.template,
        &gallery.template,
        view,
    )))
}
