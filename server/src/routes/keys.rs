//! `/v1/whoami` and `/v1/keys`: which key is calling, and (for admins) the
//! keys there are. Secrets and their hashes never leave the key store.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use crate::app::AppState;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ErrorBody};
use crate::limits::WorkQueue;
use crate::wire::{KeyJson, WhoamiResponse};

/// The caller's key id, name and roles (any valid key).
#[utoipa::path(
    get, path = "/v1/whoami", tag = "keys",
    responses((status = 200, body = WhoamiResponse), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn whoami(caller: Caller) -> Json<WhoamiResponse> {
    Json(WhoamiResponse {
        key_id: caller.key_id,
        name: caller.name,
        roles: caller.roles,
    })
}

/// Every key of the key store, revoked ones included, oldest first: ids,
/// names, roles and dates, never a secret or its hash.
#[utoipa::path(
    get, path = "/v1/keys", tag = "keys",
    responses((status = 200, body = Vec<KeyJson>), (status = 403, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<Vec<KeyJson>>, ApiError> {
    caller.require(Role::Admin)?;
    let dir = state.data_dir.clone();
    let keys = WorkQueue::io(move || crate::keys::list(&dir))
        .await?
        .map_err(ApiError::internal)?;
    Ok(Json(
        keys.into_iter()
            .map(|k| KeyJson {
                key_id: k.id,
                name: k.name,
                roles: k.roles,
                created_at: k.created_at,
                revoked_at: k.revoked_at,
            })
            .collect(),
    ))
}
