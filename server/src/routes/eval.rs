//! `/v1/eval/det`: the DET plots of the last `hoviyat eval suite --det DIR`
//! run, when the service was started with `--det-dir DIR`.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ErrorBody};
use crate::limits::WorkQueue;
use crate::wire::DetPlotsResponse;

/// Longest plot file name served.
const MAX_NAME_BYTES: usize = 255;

fn det_dir(state: &AppState) -> Result<PathBuf, ApiError> {
    state.det_dir.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "det_not_configured",
            "no DET plots are served (start the service with --det-dir DIR)",
        )
    })
}

/// A plain file name ending in `.svg`: ASCII letters, digits, `-`, `_` and
/// `.`, not starting with a dot. Anything else (a path, `..`, a hidden
/// file) is refused.
fn is_plot_name(name: &str) -> bool {
    name.len() <= MAX_NAME_BYTES
        && name.len() > ".svg".len()
        && name.ends_with(".svg")
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The plots available, by file name.
#[utoipa::path(
    get, path = "/v1/eval/det", tag = "admin",
    responses(
        (status = 200, body = DetPlotsResponse),
        (status = 403, body = ErrorBody),
        (status = 404, description = "the service was started without --det-dir", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn det_plots(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<DetPlotsResponse>, ApiError> {
    caller.require(Role::Admin)?;
    let dir = det_dir(&state)?;
    let plots = WorkQueue::io(move || -> std::io::Result<Vec<String>> {
        let mut plots = Vec::new();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            // No evaluation has written its plots yet.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(plots),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if is_plot_name(&name) && entry.file_type()?.is_file() {
                plots.push(name);
            }
        }
        plots.sort();
        Ok(plots)
    })
    .await?
    .map_err(ApiError::internal)?;
    Ok(Json(DetPlotsResponse { plots }))
}

/// One plot, as SVG (served sandboxed: it runs no script and loads nothing).
#[utoipa::path(
    get, path = "/v1/eval/det/{name}", tag = "admin",
    params(("name" = String, Path, description = "a file name from GET /v1/eval/det")),
    responses(
        (status = 200, description = "the plot", content_type = "image/svg+xml"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "not a plain .svg file name", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn det_plot(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Role::Admin)?;
    let dir = det_dir(&state)?;
    if !is_plot_name(&name) {
        return Err(ApiError::invalid(
            "bad_plot_name",
            "name must be a plain file name ending in .svg (letters, digits, '-', '_', '.')",
        )
        .at("name"));
    }
    let path = dir.join(&name);
    let bytes = WorkQueue::io(move || -> std::io::Result<Option<Vec<u8>>> {
        // Only a regular file: a link could lead out of the directory.
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() => std::fs::read(&path).map(Some),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    })
    .await?
    .map_err(ApiError::internal)?
    .ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "plot_not_found",
            format!("no DET plot named {name:?}"),
        )
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CONTENT_SECURITY_POLICY, "sandbox"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_svg_names_pass() {
        for good in ["DB1_B.svg", "fvc-2002.db1.svg"] {
            assert!(is_plot_name(good), "{good}");
        }
        for bad in [
            "../x.svg",
            "..svg",
            ".svg",
            ".hidden.svg",
            "a/b.svg",
            "a\\b.svg",
            "x.svg.png",
            "x.SVG ",
            "%2e%2e.svg",
            "x\0.svg",
            "",
        ] {
            assert!(!is_plot_name(bad), "{bad:?}");
        }
    }
}
