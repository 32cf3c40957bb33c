//! `/v1/stats`, `/v1/audit` and `/v1/audit/state`: administrators' views.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::AppState;
use crate::audit::AuditEntry;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ErrorBody};
use crate::limits::WorkQueue;
use crate::wire::{AuditStateResponse, StatsResponse};

/// Gallery and queue figures.
#[utoipa::path(
    get, path = "/v1/stats", tag = "admin",
    responses((status = 200, body = StatsResponse), (status = 403, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn stats(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<StatsResponse>, ApiError> {
    caller.require(Role::Admin)?;
    let abis = Arc::clone(&state.abis);
    let s = WorkQueue::io(move || abis.stats()).await??;
    let (evidence_images, evidence_bytes) = state.evidence.totals();
    Ok(Json(StatsResponse {
        identities: s.identities as u64,
        held_enrollments: s.held as u64,
        confirmed_duplicates: s.confirmed_duplicates as u64,
        deleted: s.deleted as u64,
        gallery_bytes: s.bytes_on_disk,
        pending_work: (state.work.pending() + s.pending) as u64,
        evidence_images,
        evidence_bytes,
    }))
}

/// Which audit entries to read.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Only entries with a greater sequence number (default 0).
    #[serde(default)]
    pub after: u64,
    /// At most this many (1..=1000, default 100).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// Entries of the hash-chained audit log, oldest first.
#[utoipa::path(
    get, path = "/v1/audit", tag = "admin",
    params(AuditQuery),
    responses((status = 200, body = Vec<AuditEntry>), (status = 403, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn audit(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    caller.require(Role::Admin)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("out_of_range", "limit must be 1..=1000").at("limit"));
    }
    let st = Arc::clone(&state);
    let entries = WorkQueue::io(move || st.audit.read(q.after, limit))
        .await?
        .map_err(ApiError::internal)?;
    Ok(Json(entries))
}

/// Whether the audit log's hash chain verifies (as `hoviyat audit verify`),
/// its length and head.
#[utoipa::path(
    get, path = "/v1/audit/state", tag = "admin",
    responses((status = 200, body = AuditStateResponse), (status = 403, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn audit_state(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<AuditStateResponse>, ApiError> {
    caller.require(Role::Admin)?;
    let st = Arc::clone(&state);
    let report = WorkQueue::io(move || st.audit.verify_now())
        .await?
        .map_err(ApiError::internal)?;
    let problem = report.first_break.map(|b| match b.line {
        0 => format!("broken at its end: {}", b.reason),
        line => format!("broken at line {line}: {}", b.reason),
    });
    Ok(Json(AuditStateResponse {
        intact: report.intact,
        entries: report.entries,
        head: report.head_sha256,
        problem,
    }))
}
