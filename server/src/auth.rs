//! Bearer-key authentication as an extractor, and the role each endpoint
//! needs.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::app::AppState;
use crate::error::ApiError;
pub use crate::keys::{AuthError, Caller, Role};

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_owned())
            .ok_or_else(ApiError::unauthorized)?;
        let state = Arc::clone(state);
        // An older (argon2) key's first use is slow: keep it off the async
        // threads. The ring bounds how many run at once.
        match crate::limits::WorkQueue::io(move || state.keys.authenticate(&token)).await? {
            Ok(caller) => Ok(caller),
            Err(AuthError::Invalid) => Err(ApiError::unauthorized()),
            Err(AuthError::Busy) => Err(ApiError::busy(1)),
        }
    }
}

impl Caller {
    /// 403 unless the caller holds `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.has(role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(role.name()))
        }
    }

    /// 403 unless the caller holds one of `roles`.
    pub fn require_any(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.iter().any(|r| self.has(*r)) {
            Ok(())
        } else {
            let names: Vec<_> = roles.iter().map(|r| r.name()).collect();
            Err(ApiError::forbidden(&names.join(" or ")))
        }
    }

    /// May this caller see candidate lists of stored enrollments?
    pub fn reads_candidates(&self) -> bool {
        self.has(Role::Investigator) || self.has(Role::Adjudicator) || self.has(Role::Admin)
    }
}
