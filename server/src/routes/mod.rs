//! Thin handlers: parse, one engine call on the work queue, audit, map.

pub mod admin;
pub mod compare;
pub mod enrollments;
pub mod eval;
pub mod evidence;
pub mod keys;
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
/// entry cannot be written fails (503 with `Retry-After`): no unaudited
/// search is answered.
async fn audit(
    state: &std::sync::Arc<crate::app::AppState>,
    event: crate::audit::AuditEvent,
) -> Result<(), crate::error::ApiError> {
    let state = std::sync::Arc::clone(state);
    crate::limits::WorkQueue::io(move || state.audit.append(event))
        .await?
        .map(|_| ())
        .map_err(crate::error::ApiError::audit_unavailable)
}

/// A reference id taken from a path or a body, in Unicode normal form C,
/// or 422 naming `field` (see `hoviyat_models::validate_reference_id`).
fn reference_id(id: &str, field: &str) -> Result<String, crate::error::ApiError> {
    hoviyat_models::normalize_reference_id(id)
        .map_err(|e| crate::error::ApiError::from(e).at(field))
}

/// 422 naming the first query parameter of `raw` not in `known`.
fn known_parameters(
    raw: &std::collections::BTreeMap<String, String>,
    known: &[&str],
) -> Result<(), crate::error::ApiError> {
    match raw.keys().find(|k| !known.contains(&k.as_str())) {
        None => Ok(()),
        Some(unknown) => Err(crate::error::ApiError::invalid(
            "unknown_parameter",
            format!("unknown query parameter {unknown:?} ({})", known.join(", ")),
        )
        .at(unknown.clone())),
    }
}

/// The `limit` query parameter of a paged list: `default` when absent,
/// else an integer `1..=max`, or 422 naming it.
fn page_limit(
    raw: &std::collections::BTreeMap<String, String>,
    default: usize,
    max: usize,
) -> Result<usize, crate::error::ApiError> {
    match raw.get("limit") {
        None => Ok(default),
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                crate::error::ApiError::invalid(
                    "out_of_range",
                    format!("limit must be an integer 1..={max}"),
                )
                .at("limit")
            }),
    }
}

/// The path of an enrollment's status, percent-encoded so that any id makes
/// a valid `Location` header and URL.
pub fn status_path(reference_id: &str) -> String {
    let mut out = String::from("/v1/enrollments/");
    for b in reference_id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
