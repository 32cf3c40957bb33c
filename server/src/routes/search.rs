//! `/v1/identify` and `/v1/verify`: investigators' 1:N and 1:1 searches.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use crate::app::{ApiJson, AppState};
use crate::audit::{AuditEvent, probe_sha256};
use crate::auth::{Caller, Role};
use crate::engine::{Candidate, IdentifyOptions, Mode};
use crate::error::{ApiError, ErrorBody};
use crate::input;
use crate::limits::Admitted;
use crate::wire::{
    CandidateJson, IdentifyRequest, IdentifyResponse, ModeJson, VerifyRequest, VerifyResponse,
    attach_explanations,
};

/// Longest candidate list an investigation may ask for.
pub const MAX_CANDIDATES: u32 = 1000;
/// Default investigation list length.
pub const DEFAULT_CANDIDATES: u32 = 20;
/// Most reference ids a search may be restricted to.
pub const MAX_RESTRICT: usize = 100_000;

fn options(req: &IdentifyRequest) -> Result<IdentifyOptions, ApiError> {
    let mode = match req.mode {
        ModeJson::Investigation => {
            // A ranked list has no threshold: one given would be ignored.
            for (given, field) in [
                (req.threshold.is_some(), "threshold"),
                (req.target_fpir.is_some(), "target_fpir"),
            ] {
                if given {
                    return Err(ApiError::invalid(
                        "not_in_this_mode",
                        format!(
                            "{field} applies to \"mode\": \"identification\"; an investigation returns a ranked list"
                        ),
                    )
                    .at(field));
                }
            }
            let n = req.max_candidates.unwrap_or(DEFAULT_CANDIDATES);
            if !(1..=MAX_CANDIDATES).contains(&n) {
                return Err(ApiError::invalid(
                    "out_of_range",
                    format!("max_candidates must be 1..={MAX_CANDIDATES}"),
                )
                .at("max_candidates"));
            }
            Mode::Investigation {
                max_candidates: n as usize,
            }
        }
        ModeJson::Identification => {
            if req.threshold.is_some() && req.target_fpir.is_some() {
                return Err(ApiError::invalid(
                    "conflicting_fields",
                    "give threshold or target_fpir, not both",
                )
                .at("target_fpir"));
            }
            if let Some(t) = req.threshold
                && !t.is_finite()
            {
                return Err(
                    ApiError::invalid("out_of_range", "threshold must be finite").at("threshold"),
                );
            }
            if let Some(f) = req.target_fpir
                && !(f > 0.0 && f < 1.0)
            {
                return Err(ApiError::invalid(
                    "out_of_range",
                    "target_fpir must lie strictly between 0 and 1",
                )
                .at("target_fpir"));
            }
            let max_candidates = match req.max_candidates {
                None => None,
                Some(n) if (1..=MAX_CANDIDATES).contains(&n) => Some(n as usize),
                Some(_) => {
                    return Err(ApiError::invalid(
                        "out_of_range",
                        format!("max_candidates must be 1..={MAX_CANDIDATES}"),
                    )
                    .at("max_candidates"));
                }
            };
            Mode::Identification {
                threshold: req.threshold,
                target_fpir: req.target_fpir,
                max_candidates,
            }
        }
    };
    let restrict_to = match &req.restrict_to {
        None => None,
        Some(ids) => {
            if ids.len() > MAX_RESTRICT {
                return Err(ApiError::invalid(
                    "too_many_ids",
                    format!(
                        "restrict_to holds {} ids; at most {MAX_RESTRICT}",
                        ids.len()
                    ),
                )
                .at("restrict_to"));
            }
            let ids = ids
                .iter()
                .enumerate()
                .map(|(i, id)| super::reference_id(id, &format!("restrict_to[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            Some(ids)
        }
    };
    Ok(IdentifyOptions { mode, restrict_to })
}

/// 1:N search with any subset of fingers and/or a face.
#[utoipa::path(
    post, path = "/v1/identify", tag = "search",
    request_body = IdentifyRequest,
    responses(
        (status = 200, body = IdentifyResponse),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn identify(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    admitted: Admitted,
    ApiJson(req): ApiJson<IdentifyRequest>,
) -> Result<Json<IdentifyResponse>, ApiError> {
    caller.require(Role::Investigator)?;
    let opts = options(&req)?;
    let limits = state.limits.clone();
    let abis = Arc::clone(&state.abis);
    let (probe_hash, found, explained) = state
        .work
        .run_admitted(admitted, move || {
            let probe = input::probe(&req.fingers, req.face.as_ref(), &limits)?;
            let hash = probe_sha256(&probe);
            let found = abis.identify(&probe, &opts).map_err(ApiError::from)?;
            // Only the candidates returned are explained.
            let explained = if req.explain {
                Some((abis.explain_candidates(&probe, &found.candidates)?, probe))
            } else {
                None
            };
            Ok::<_, ApiError>((hash, found, explained))
        })
        .await??;
    super::audit(
        &state,
        AuditEvent {
            probe_sha256: Some(probe_hash.clone()),
            gallery_size: Some(found.gallery_size as u64),
            candidates: super::audit_candidates(&found.candidates),
            outcome: format!("{} candidates", found.candidates.len()),
            ..AuditEvent::by(&caller, "POST /v1/identify")
        },
    )
    .await?;
    let mut candidates = CandidateJson::list(&found.candidates);
    if let Some((explained, probe)) = &explained {
        for (c, e) in candidates.iter_mut().zip(explained) {
            let with_image = state
                .evidence
                .positions(&c.reference_id)
                .map_err(ApiError::internal)?;
            attach_explanations(&mut c.fingers, e, probe, &c.reference_id, &with_image);
        }
    }
    Ok(Json(IdentifyResponse {
        gallery_size: found.gallery_size as u64,
        threshold: found.threshold,
        probe_sha256: probe_hash,
        candidates,
    }))
}

/// 1:1 comparison of a probe against one stored reference.
#[utoipa::path(
    post, path = "/v1/verify", tag = "search",
    request_body = VerifyRequest,
    responses(
        (status = 200, body = VerifyResponse),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn verify(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    admitted: Admitted,
    ApiJson(req): ApiJson<VerifyRequest>,
) -> Result<Json<VerifyResponse>, ApiError> {
    caller.require(Role::Investigator)?;
    let mut req = req;
    req.reference_id = super::reference_id(&req.reference_id, "reference_id")?;
    let limits = state.limits.clone();
    let abis = Arc::clone(&state.abis);
    let reference_id = req.reference_id.clone();
    let (probe_hash, v, explained) = state
        .work
        .run_admitted(admitted, move || {
            let probe = input::probe(&req.fingers, req.face.as_ref(), &limits)?;
            let hash = probe_sha256(&probe);
            let v = abis
                .verify(&probe, &req.reference_id)
                .map_err(ApiError::from)?;
            let explained = if req.explain {
                let compared = Candidate {
                    reference_id: v.reference_id.clone(),
                    score: v.score,
                    fingers: v.fingers.clone(),
                    face: v.face,
                };
                let mut e = abis.explain_candidates(&probe, &[compared])?;
                Some((e.pop().unwrap_or_default(), probe))
            } else {
                None
            };
            Ok::<_, ApiError>((hash, v, explained))
        })
        .await??;
    super::audit(
        &state,
        AuditEvent {
            reference_id: Some(reference_id.clone()),
            probe_sha256: Some(probe_hash.clone()),
            gallery_size: Some(1),
            candidates: vec![crate::audit::AuditCandidate {
                reference_id: reference_id.clone(),
                score: v.score,
            }],
            outcome: if v.is_match { "match" } else { "no_match" }.into(),
            ..AuditEvent::by(&caller, "POST /v1/verify")
        },
    )
    .await?;
    let mut response = VerifyResponse::new(&v, probe_hash);
    if let Some((explained, probe)) = &explained {
        let with_image = state
            .evidence
            .positions(&v.reference_id)
            .map_err(ApiError::internal)?;
        attach_explanations(
            &mut response.fingers,
            explained,
            probe,
            &v.reference_id,
            &with_image,
        );
    }
    Ok(Json(response))
}
