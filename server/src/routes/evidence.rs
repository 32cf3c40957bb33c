//! What reviewers look at: the finger images an enrollment submitted
//! (`/v1/enrollments/{reference_id}/fingers/{position}/image`) and the
//! adjudication queue (`GET /v1/enrollments?status=potential_duplicate`).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hoviyat_models::FingerPosition;
use utoipa::IntoParams;

use crate::app::AppState;
use crate::audit::AuditEvent;
use crate::auth::{Caller, Role};
use crate::engine::{Enrollment, Status};
use crate::error::{ApiError, ErrorBody};
use crate::limits::WorkQueue;
use crate::wire::{EnrollmentFingerJson, EnrollmentQueueResponse, EnrollmentResponse};

/// Longest page of the adjudication queue.
pub const MAX_QUEUE_PAGE: usize = 100;
/// Default page of the adjudication queue.
pub const DEFAULT_QUEUE_PAGE: usize = 20;

/// The stored fingers of `reference_id` with whether each has an image.
/// Blocking.
pub(crate) fn fingers(
    state: &AppState,
    reference_id: &str,
) -> Result<Vec<EnrollmentFingerJson>, ApiError> {
    let stored = state.abis.stored_fingers(reference_id)?.unwrap_or_default();
    if stored.is_empty() {
        return Ok(Vec::new());
    }
    let with_image = state
        .evidence
        .positions(reference_id)
        .map_err(ApiError::internal)?;
    Ok(EnrollmentFingerJson::list(&stored, &with_image))
}

/// A finger position from a path: its ISO code (0..=10) or snake_case name.
fn position(raw: &str) -> Result<FingerPosition, ApiError> {
    let found = match raw.parse::<u8>() {
        Ok(code) => FingerPosition::from_code(code).ok(),
        Err(_) => FingerPosition::from_name(raw),
    };
    found.ok_or_else(|| {
        ApiError::invalid(
            "out_of_range",
            format!(
                "{raw:?} is not a finger position (ISO code 0..=10 or a name such as right_thumb)"
            ),
        )
        .at("position")
    })
}

/// The image a finger was enrolled with, as submitted (PNG and JPEG) or
/// re-encoded losslessly as PNG (other formats). Reading one is audited.
#[utoipa::path(
    get, path = "/v1/enrollments/{reference_id}/fingers/{position}/image", tag = "enrollments",
    params(
        ("reference_id" = String, Path),
        ("position" = String, Path, description = "ISO position code 0..=10 or its snake_case name"),
    ),
    responses(
        (status = 200, description = "the image, PNG or JPEG", content(
            ("image/png"),
            ("image/jpeg"),
        )),
        (status = 403, body = ErrorBody),
        (status = 404, description = "no such enrollment, or no image kept for that finger", body = ErrorBody),
        (status = 422, description = "not a finger position", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn image(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((reference_id, raw_position)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    caller.require_any(&[Role::Investigator, Role::Adjudicator, Role::Admin])?;
    let reference_id = super::reference_id(&reference_id, "reference_id")?;
    let position = position(&raw_position)?;
    let st = Arc::clone(&state);
    let id = reference_id.clone();
    let found = WorkQueue::io(move || {
        let e = st
            .abis
            .enrollment(&id)?
            .ok_or_else(|| ApiError::not_found(&id))?;
        if e.status == Status::Deleted {
            return Ok(None);
        }
        st.evidence.read(&id, position).map_err(ApiError::internal)
    })
    .await??;
    let Some((format, bytes)) = found else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "image_not_found",
            format!(
                "no image is kept for finger {} of {reference_id:?}",
                position.code()
            ),
        ));
    };
    // Biometric data leaves the service: say who took it.
    super::audit(
        &state,
        AuditEvent {
            reference_id: Some(reference_id),
            outcome: format!("image of finger {} read", position.code()),
            ..AuditEvent::by(
                &caller,
                "GET /v1/enrollments/{reference_id}/fingers/{position}/image",
            )
        },
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response())
}

/// Which enrollments to list.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// Only `potential_duplicate` (the adjudication queue) is listed.
    #[param(required = true)]
    pub status: String,
    /// Page length, 1..=100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
    /// The `next` of the previous page.
    pub after: Option<String>,
}

/// Where a page of the queue starts: after this decision time and id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
struct Cursor(jiff::Timestamp, String);

impl Cursor {
    fn of(e: &Enrollment) -> Self {
        Self(e.decided_at, e.reference_id.clone())
    }

    fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    fn decode(s: &str) -> Result<Self, ApiError> {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or_else(|| {
                ApiError::invalid(
                    "bad_cursor",
                    "after must be the `next` of an earlier page of this list",
                )
                .at("after")
            })
    }
}

impl QueueQuery {
    fn parse(raw: BTreeMap<String, String>) -> Result<(usize, Option<Cursor>), ApiError> {
        super::known_parameters(&raw, &["status", "limit", "after"])?;
        match raw.get("status").map(String::as_str) {
            Some("potential_duplicate") => {}
            Some(other) => {
                return Err(ApiError::invalid(
                    "unsupported_status",
                    format!(
                        "status {other:?} cannot be listed; only potential_duplicate (the adjudication queue) can"
                    ),
                )
                .at("status"));
            }
            None => {
                return Err(ApiError::invalid(
                    "missing_parameter",
                    "status is required (status=potential_duplicate)",
                )
                .at("status"));
            }
        }
        let limit = super::page_limit(&raw, DEFAULT_QUEUE_PAGE, MAX_QUEUE_PAGE)?;
        let after = raw.get("after").map(|a| Cursor::decode(a)).transpose()?;
        Ok((limit, after))
    }
}

/// The adjudication queue: enrollments held as potential duplicates, oldest
/// decision first, each with its candidates and stored fingers.
#[utoipa::path(
    get, path = "/v1/enrollments", tag = "enrollments",
    params(QueueQuery),
    responses(
        (status = 200, body = EnrollmentQueueResponse),
        (status = 403, body = ErrorBody),
        (status = 422, description = "bad status, limit or after", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn queue(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(raw): Query<BTreeMap<String, String>>,
) -> Result<axum::Json<EnrollmentQueueResponse>, ApiError> {
    caller.require_any(&[Role::Adjudicator, Role::Admin])?;
    let (limit, after) = QueueQuery::parse(raw)?;
    let st = Arc::clone(&state);
    let page = state
        .work
        .run(move || {
            let held = st.abis.held_enrollments()?;
            let start = after.map_or(0, |a| held.partition_point(|e| Cursor::of(e) <= a));
            let rest = held.get(start..).unwrap_or_default();
            let page = &rest[..rest.len().min(limit)];
            let next = (rest.len() > page.len())
                .then(|| page.last().map(|e| Cursor::of(e).encode()))
                .flatten();
            let enrollments = page
                .iter()
                .map(|e| {
                    let mut answer = EnrollmentResponse::new(e, true);
                    answer.fingers = Some(fingers(&st, &e.reference_id)?);
                    Ok(answer)
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            Ok::<_, ApiError>(EnrollmentQueueResponse { enrollments, next })
        })
        .await??;
    Ok(axum::Json(page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_names_after() {
        let c = Cursor("2026-12-04T21:00:00Z".parse().unwrap(), "id/ü".into());
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        let e = Cursor::decode("not a cursor").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("after"));
    }

    #[test]
    fn positions_are_codes_or_names_and_nothing_else() {
        assert_eq!(position("7").unwrap().code(), 7);
        assert_eq!(position("right_thumb").unwrap().code(), 1);
        for bad in ["11", "-1", "thumb", "", "1.0"] {
            assert_eq!(
                position(bad).unwrap_err().field.as_deref(),
                Some("position")
            );
        }
    }
}
