//! `/v1/enrollments`: the enrollment pipeline's dedup call, status,
//! adjudication and deletion.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::app::{ApiJson, AppState};
use crate::audit::{AuditEvent, Decisions, decision_outcome};
use crate::auth::{Caller, Role};
use crate::engine::{Decision, DecisionKind, Status};
use crate::error::{ApiError, ErrorBody};
use crate::evidence;
use crate::input;
use crate::limits::{Admitted, StartGate};
use crate::wire::{AdjudicationRequest, EnrollmentRequest, EnrollmentResponse};

/// Longest adjudication comment accepted, in bytes.
pub const MAX_COMMENT_BYTES: usize = 4096;

/// Enroll: identify the record against the whole gallery and decide.
///
/// 201 `cleared` (inserted, searchable) or 202 `potential_duplicate` (held
/// for adjudication; candidates for callers that may read them, a count for
/// the others). Resending an identical body returns
/// the original answer; a different body under the same id is 409.
/// Fingers sent as images are kept in the evidence store before the
/// decision is taken; 503 `evidence_unavailable` if they cannot be.
#[utoipa::path(
    post, path = "/v1/enrollments", tag = "enrollments",
    request_body = EnrollmentRequest,
    responses(
        (status = 201, description = "cleared: inserted into the gallery", body = EnrollmentResponse),
        (status = 202, description = "potential duplicate: held for adjudication", body = EnrollmentResponse),
        (status = 409, description = "reference id exists with a different record", body = ErrorBody),
        (status = 410, description = "reference id was deleted: neither enrolled again nor answered as before", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 503, description = "busy, timeout, audit_unavailable or evidence_unavailable", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    gate: StartGate,
    admitted: Admitted,
    ApiJson(req): ApiJson<EnrollmentRequest>,
) -> Result<Response, ApiError> {
    caller.require(Role::Enroller)?;
    let mut req = req;
    req.reference_id = super::reference_id(&req.reference_id, "reference_id")?;
    let limits = state.limits.clone();
    let st = Arc::clone(&state);
    let who = caller.clone();
    let path = super::status_path(&req.reference_id);
    let outcome = state
        .work
        .run_admitted(admitted, move || {
            let record = input::enrollment_record(&req, &limits)?;
            let images = evidence::prepare(&req.fingers, &limits)?;
            gate.start(Some(path))?;
            let reference_id = record.reference_id.clone();
            // The images are durable before the decision is taken; an id
            // already stored (a replay, or a conflict) keeps what it has.
            let _writing = st.evidence.lock(&reference_id);
            let kept = !images.is_empty() && st.abis.enrollment(&reference_id)?.is_none();
            if kept {
                st.evidence
                    .put(&reference_id, &images)
                    .map_err(ApiError::evidence_unavailable)?;
            }
            // The decision's entry is written by the engine before it stores
            // the decision, in this work item, which runs to its end even if
            // the request is dropped.
            let decisions = Decisions::new(&st.audit, AuditEvent::by(&who, "POST /v1/enrollments"));
            let outcome = match st.abis.enroll_recorded(record, &decisions) {
                Ok(outcome) => outcome,
                Err(e) => {
                    // Not stored: neither are its images. Should the removal
                    // fail, the next start sweeps them.
                    if kept && let Err(r) = st.evidence.remove(&reference_id) {
                        tracing::error!(error = %r, "evidence of a refused enrollment left behind");
                    }
                    return Err(e.into());
                }
            };
            if outcome.replayed {
                // The decision was recorded when it was taken; this records
                // who was given it again.
                st.audit
                    .append(AuditEvent {
                        reference_id: Some(outcome.enrollment.reference_id.clone()),
                        outcome: "replayed".into(),
                        ..AuditEvent::by(&who, "POST /v1/enrollments")
                    })
                    .map_err(ApiError::audit_unavailable)?;
            }
            Ok::<_, ApiError>(outcome)
        })
        .await??;
    let e = &outcome.enrollment;
    if !outcome.replayed {
        let decision = Decision {
            kind: DecisionKind::Enroll,
            enrollment: e,
        };
        state.metrics.decision(&decision_outcome(decision));
    }
    let code = match e.status {
        Status::Cleared => StatusCode::CREATED,
        Status::PotentialDuplicate | Status::ConfirmedDuplicate | Status::Deleted => {
            StatusCode::ACCEPTED
        }
    };
    let location = super::status_path(&e.reference_id);
    let mut response = (
        code,
        axum::Json(EnrollmentResponse::new(e, caller.reads_candidates())),
    )
        .into_response();
    if let Ok(v) = header::HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// An enrollment's status, decision time, stored fingers (with whether an
/// image is kept) and (for investigators, adjudicators and admins)
/// candidates.
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
    let reference_id = super::reference_id(&reference_id, "reference_id")?;
    let st = Arc::clone(&state);
    let id = reference_id.clone();
    let found = state
        .work
        .run(move || {
            let Some(e) = st.abis.enrollment(&id)? else {
                return Ok(None);
            };
            let fingers = super::evidence::fingers(&st, &id)?;
            Ok::<_, ApiError>(Some((e, fingers)))
        })
        .await??;
    let (e, fingers) = found.ok_or_else(|| ApiError::not_found(&reference_id))?;
    let mut answer = EnrollmentResponse::new(&e, caller.reads_candidates());
    answer.fingers = Some(fingers);
    Ok(axum::Json(answer))
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
    gate: StartGate,
    Path(reference_id): Path<String>,
    admitted: Admitted,
    ApiJson(req): ApiJson<AdjudicationRequest>,
) -> Result<axum::Json<EnrollmentResponse>, ApiError> {
    caller.require(Role::Adjudicator)?;
    let reference_id = super::reference_id(&reference_id, "reference_id")?;
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
    let st = Arc::clone(&state);
    let who = caller.clone();
    let path = super::status_path(&reference_id);
    let verdict = req.verdict.into();
    let e = state
        .work
        .run_admitted(admitted, move || {
            gate.start(Some(path))?;
            let decisions = Decisions::new(
                &st.audit,
                AuditEvent {
                    comment: Some(req.comment.clone()),
                    ..AuditEvent::by(&who, "POST /v1/enrollments/{reference_id}/adjudication")
                },
            );
            st.abis
                .adjudicate_recorded(&reference_id, verdict, &who.name, &req.comment, &decisions)
                .map_err(ApiError::from)
        })
        .await??;
    Ok(axum::Json(EnrollmentResponse::new(&e, true)))
}

/// Removes an enrollment from the gallery; its status becomes `deleted`
/// and its kept finger images are removed.
#[utoipa::path(
    delete, path = "/v1/enrollments/{reference_id}", tag = "enrollments",
    params(("reference_id" = String, Path)),
    responses((status = 200, body = EnrollmentResponse), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    gate: StartGate,
    Path(reference_id): Path<String>,
) -> Result<axum::Json<EnrollmentResponse>, ApiError> {
    caller.require(Role::Admin)?;
    let reference_id = super::reference_id(&reference_id, "reference_id")?;
    let st = Arc::clone(&state);
    let who = caller.clone();
    let path = super::status_path(&reference_id);
    let e = state
        .work
        .run(move || {
            gate.start(Some(path))?;
            let decisions = Decisions::new(
                &st.audit,
                AuditEvent::by(&who, "DELETE /v1/enrollments/{reference_id}"),
            );
            let _writing = st.evidence.lock(&reference_id);
            let deleted = st
                .abis
                .delete_recorded(&reference_id, &decisions)
                .map_err(ApiError::from)?;
            // The delete has taken effect: a failure to remove its images is
            // logged, never reported as a failed delete; they are out of
            // every answer (the enrollment is deleted) and the next start
            // sweeps them.
            if let Err(e) = st.evidence.remove(&reference_id) {
                tracing::error!(error = %e, "evidence of a deleted enrollment left behind");
            }
            Ok::<_, ApiError>(deleted)
        })
        .await??;
    Ok(axum::Json(EnrollmentResponse::new(&e, true)))
}
