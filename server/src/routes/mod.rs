//! Thin handlers: parse, one engine call on the work queue, audit, map.

pub mod admin;
pub mod enrollments;
pub mod meta;
pub mod search;

use crate::audit::AuditCandidate;
use crate::engine::Candidate;

/// Candidates as the audit log records them.
fn audit_candidates(candidates: &[Candidate]) -> Vec<AuditCandidate> {
    candidates
        .iter()
        .map(|c| AuditCandidate {
            reference_id: c.reference_id.clone(),
            score: c.score,
        })
        .collect()
}

/// Appends to the audit log off the async threads. A request whose audit
/// entry cannot be written fails (500): no unaudited search is answered.
async fn audit(
    state: &std::sync::Arc<crate::app::AppState>,
    event: crate::audit::AuditEvent,
) -> Result<(), crate::error::ApiError> {
    let state = std::sync::Arc::clone(state);
    crate::limits::WorkQueue::io(move || state.audit.append(event))
        .await?
        .map(|_| ())
        .map_err(crate::error::ApiError::internal)
}

/// Checks a reference id taken from a path or a body.
fn reference_id(id: &str, field: &str) -> Result<(), crate::error::ApiError> {
    hoviyat_models::validate_reference_id(id).map_err(|e| crate::error::ApiError::from(e).at(field))
}
