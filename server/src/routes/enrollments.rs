//! `/v1/enrollments`: the enrollment pipeline's dedup call, status,
//! adjudication and deletion.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::app::{ApiJson, AppState};
use crate::audit::AuditEvent;
use crate::auth::{Caller, Role};
use crate::engine::Status;
use crate::error::{ApiError, ErrorBody};
use crate::input;
use crate::wire::{AdjudicationRequest, EnrollmentRequest, EnrollmentResponse};

/// Longest adjudication comment accepted, in bytes.
pub const MAX_COMMENT_BYTES: usize = 4096;

/// Enroll: identify the record against the whole gallery and decide.
///
/// 201 `cleared` (inserted, searchable) or 202 `potential_duplicate` (held
/// for adjudication, with candidates). Resending an identical body returns
/// the original answer; a different body under the same id is 409.
#[utoipa::path(
    post, path = "/v1/enrollments", tag = "enrollments",
    request_body = EnrollmentRequest,
    responses(
        (status = 201, description = "cleared: inserted into the gallery", body = EnrollmentResponse),
        (status = 202, description = "potential duplicate: held for adjudication", body = EnrollmentResponse),
        (status = 409, description = "reference id exists with a different record", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(req): ApiJson<EnrollmentRequest>,
) -> Result<Response, ApiError> {
    caller.require(Role::Enroller)?;
    super::reference_id(&req.reference_id, "reference_id")?;
    let limits = state.limits.clone();
    let abis = Arc::clone(&state.abis);
    let outcome = state
        .work
        .run(move || {
            let record = input::enrollment_record(&req, &limits)?;
            abis.enroll(record).map_err(ApiError::from)
        })
        .await??;
    let e = &outcome.enrollment;
    if !outcome.replayed {
        let body = EnrollmentResponse::new(e, true);
        let status_name = serde_json::to_value(body.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        state.metrics.decision(&status_name);
        super::audit(
            &state,
            AuditEvent {
                actor_key_id: caller.key_id.clone(),
                actor_name: caller.name.clone(),
                endpoint: "POST /v1/enrollments".into(),
                reference_id: Some(e.reference_id.clone()),
                candidates: super::audit_candidates(&e.candidates),
                outcome: status_name,
                ..AuditEvent::default()
            },
        )
        .await?;
    }
    let code = match e.status {
        Status::Cleared => StatusCode::CREATED,
        Status::PotentialDuplicate | Status::ConfirmedDuplicate | Status::Deleted => {
            StatusCode::ACCEPTED
        }
    };
    let location = format!("/v1/enrollments/{}", e.reference_id);
    let mut response = (code, axum::Json(EnrollmentResponse::new(e, true))).into_response();
    if let Ok(v) = header::HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// An enrollment's status, decision time and (for investigators,
/// adjudicators and admins) candidates.
#[utoipa::path(
    get, path = "/v1/enrollments/{reference_id}", tag = "enrollments",
    params(("reference_id" = String, Path)),
    responses((status = 200, body = EnrollmentResponse), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn status(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(reference_id): Path<String>,
) -> Result<axum::Json<EnrollmentResponse>, ApiError> {
    caller.require_any(&Role::ALL)?;
    super::reference_id(&reference_id, "reference_id")?;
    let abis = Arc::clone(&state.abis);
    let id = reference_id.clone();
    let found = state.work.run(move || abis.enrollment(&id)).await??;
    let e = found.ok_or_else(|| ApiError::not_found(&reference_id))?;
    Ok(axum::Json(EnrollmentResponse::new(
        &e,
        caller.reads_candidates(),
    )))
}

/// An adjudicator's verdict on a held enrollment.
#[utoipa::path(
    post, path = "/v1/enrollments/{reference_id}/adjudication", tag = "enrollments",
    params(("reference_id" = String, Path)),
    request_body = AdjudicationRequest,
    responses(
        (status = 200, body = EnrollmentResponse),
        (status = 404, body = ErrorBody),
        (status = 409, description = "the enrollment is not held", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn adjudicate(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(reference_id): Path<String>,
    ApiJson(req): ApiJson<AdjudicationRequest>,
) -> Result<axum::Json<EnrollmentResponse>, ApiError> {
    caller.require(Role::Adjudicator)?;
    super::reference_id(&reference_id, "reference_id")?;
    if req.comment.len() > MAX_COMMENT_BYTES {
        return Err(ApiError::invalid(
            "comment_too_long",
            format!(
                "comment is {} bytes; at most {MAX_COMMENT_BYTES}",
                req.comment.len()
            ),
        )
        .at("comment"));
    }
    let abis = Arc::clone(&state.abis);
    let (id, by, comment) = (
        reference_id.clone(),
        caller.name.clone(),
        req.comment.clone(),
    );
    let verdict = req.verdict.into();
    let e = state
        .work
        .run(move || abis.adjudicate(&id, verdict, &by, &comment))
        .await??;
    let body = EnrollmentResponse::new(&e, true);
    super::audit(
        &state,
        AuditEvent {
            actor_key_id: caller.key_id.clone(),
            actor_name: caller.name.clone(),
            endpoint: "POST /v1/enrollments/{reference_id}/adjudication".into(),
            reference_id: Some(reference_id),
            candidates: super::audit_candidates(&e.candidates),
            outcome: format!("{:?}", req.verdict).to_lowercase(),
            comment: Some(req.comment),
            ..AuditEvent::default()
        },
    )
    .await?;
    Ok(axum::Json(body))
}

/// Removes an enrollment from the gallery; its status becomes `deleted`.
#[utoipa::path(
    delete, path = "/v1/enrollments/{reference_id}", tag = "enrollments",
    params(("reference_id" = String, Path)),
    responses((status = 200, body = EnrollmentResponse), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(reference_id): Path<String>,
) -> Result<axum::Json<EnrollmentResponse>, ApiError> {
    caller.require(Role::Admin)?;
    super::reference_id(&reference_id, "reference_id")?;
    let abis = Arc::clone(&state.abis);
    let id = reference_id.clone();
    let e = state.work.run(move || abis.delete(&id)).await??;
    super::audit(
        &state,
        AuditEvent {
            actor_key_id: caller.key_id.clone(),
            actor_name: caller.name.clone(),
            endpoint: "DELETE /v1/enrollments/{reference_id}".into(),
            reference_id: Some(reference_id),
            outcome: "deleted".into(),
            ..AuditEvent::default()
        },
    )
    .await?;
    Ok(axum::Json(EnrollmentResponse::new(&e, true)))
}
