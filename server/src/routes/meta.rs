//! Health, Prometheus metrics and the OpenAPI document.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::app::AppState;
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::limits::WorkQueue;
use crate::metrics::Gauges;
use crate::wire::HealthResponse;

/// Liveness, version and the matching kernels in use. No authentication.
#[utoipa::path(
    get, path = "/v1/health", tag = "meta",
    responses((status = 200, body = HealthResponse))
)]
pub async fn health() -> Json<HealthResponse> {
    Json(HealthResponse {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        kernels: crate::engine::kernels(),
    })
}

/// Prometheus text exposition (admin key).
#[utoipa::path(
    get, path = "/metrics", tag = "meta",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")),
    security(("bearer" = []))
)]
pub async fn metrics(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(Role::Admin)?;
    let abis = Arc::clone(&state.abis);
    let s = WorkQueue::io(move || abis.stats()).await??;
    let text = state.metrics.render(Gauges {
        identities: s.identities as u64,
        held: s.held as u64,
        gallery_bytes: s.bytes_on_disk,
        pending_work: (state.work.pending() + s.pending) as u64,
    });
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text))
}

/// This API's OpenAPI 3.1 document, generated from the code.
#[utoipa::path(
    get, path = "/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "OpenAPI document"))
)]
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::document())
}
