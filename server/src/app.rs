//! The service's shared state, its router and the layers around it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{FromRequest, MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::de::DeserializeOwned;
use tower_http::limit::RequestBodyLimitLayer;

use crate::audit::{AuditEvent, AuditLog};
use crate::engine::{Abis, AbisConfig};
use crate::error::{ApiError, ErrorBody};
use crate::evidence::EvidenceStore;
use crate::keys::KeyRing;
use crate::limits::{AtTimeout, Limits, StartGate, WorkQueue};
use crate::metrics::Metrics;
use crate::routes;

/// Everything a request handler may use.
#[derive(Debug)]
pub struct AppState {
    pub abis: Arc<Abis>,
    pub keys: KeyRing,
    pub audit: AuditLog,
    pub work: WorkQueue,
    pub limits: Limits,
    pub metrics: Metrics,
    pub data_dir: PathBuf,
    /// The finger images enrollments submitted (see [`crate::evidence`]).
    pub evidence: EvidenceStore,
    /// Where `hoviyat eval suite --det` wrote its DET plots, if configured.
    pub det_dir: Option<PathBuf>,
}

/// Why the service could not start on a data directory.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Keys(#[from] crate::keys::KeyStoreError),
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
    #[error("gallery: {0}")]
    Engine(#[from] crate::engine::EngineError),
    #[error(transparent)]
    Evidence(#[from] crate::evidence::EvidenceError),
}

/// Sub-directory of the data directory that holds the engine's gallery.
pub const GALLERY_DIR: &str = "gallery";

impl AppState {
    /// Opens (creating if needed) the data directory: gallery, keys, audit.
    /// `abis`'s face settings apply only when the gallery is created.
    pub fn open(data_dir: &Path, limits: Limits, abis: &AbisConfig) -> Result<Self, StartError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StartError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        // The log first: one whose head does not match is refused before
        // anything else is opened.
        let audit = AuditLog::open(data_dir)?;
        let abis = Abis::open(data_dir.join(GALLERY_DIR), abis)?;
        resolve_last_decision(&audit, &abis)?;
        let evidence = open_evidence(data_dir, &abis)?;
        // The first request should not pay for the search caches.
        abis.warm_up();
        Ok(Self {
            abis: Arc::new(abis),
            keys: KeyRing::open(data_dir)?,
            audit,
            work: WorkQueue::new(&limits),
            limits,
            metrics: Metrics::default(),
            data_dir: data_dir.to_owned(),
            evidence,
            det_dir: None,
        })
    }

    /// Serves the DET plots (`*.svg`) of `dir` at `/v1/eval/det`.
    pub fn with_det_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.det_dir = dir;
        self
    }
}

/// Opens the evidence store and sweeps what must not stay: images written
/// for an enrollment that was never stored (the process died between the
/// two) or that was deleted (its removal did not finish).
fn open_evidence(data_dir: &Path, abis: &Abis) -> Result<EvidenceStore, StartError> {
    let evidence = EvidenceStore::open(data_dir)?;
    let report = evidence
        .sweep(|id| {
            abis.enrollment(id)
                .map(|e| e.is_some_and(|e| e.status != crate::engine::Status::Deleted))
        })
        .map_err(|e| match e {
            crate::evidence::SweepError::Evidence(e) => StartError::Evidence(e),
            crate::evidence::SweepError::Gallery(e) => StartError::Engine(e),
        })?;
    if report.removed > 0 {
        tracing::warn!(
            removed = report.removed,
            kept = report.kept,
            "swept evidence of enrollments that are not stored"
        );
    }
    Ok(evidence)
}

/// Decisions are recorded before they are stored, one at a time: if the
/// process died in between, the last recorded decision is missing from the
/// gallery. Say so in the log, so that it does not claim a decision that
/// never took effect.
fn resolve_last_decision(audit: &AuditLog, abis: &Abis) -> Result<(), StartError> {
    let Some(last) = audit.last_decision() else {
        return Ok(());
    };
    let stored = abis.enrollment(&last.reference_id)?;
    if crate::engine::took_effect(last.kind.into(), stored.as_ref()) {
        return Ok(());
    }
    tracing::warn!(
        seq = last.seq,
        reference_id = %last.reference_id,
        "the last recorded decision was never stored; recording that"
    );
    audit.append(AuditEvent {
        endpoint: "service start".into(),
        reference_id: Some(last.reference_id.clone()),
        outcome: crate::audit::NOT_STORED.into(),
        refers_to: Some(last.seq),
        comment: Some(
            "the service stopped after recording this decision and before storing it; \
             it did not take effect"
                .into(),
        ),
        ..AuditEvent::default()
    })?;
    Ok(())
}

/// The whole HTTP API.
pub fn router(state: Arc<AppState>) -> Router {
    let limits = state.limits.clone();
    let api = Router::new()
        .route(
            "/v1/enrollments",
            post(routes::enrollments::create).get(routes::evidence::queue),
        )
        .route(
            "/v1/enrollments/{reference_id}",
            get(routes::enrollments::status).delete(routes::enrollments::delete),
        )
        .route(
            "/v1/enrollments/{reference_id}/adjudication",
            post(routes::enrollments::adjudicate),
        )
        .route(
            "/v1/enrollments/{reference_id}/fingers/{position}/image",
            get(routes::evidence::image),
        )
        .route("/v1/whoami", get(routes::keys::whoami))
        .route("/v1/keys", get(routes::keys::list))
        .route("/v1/audit/state", get(routes::admin::audit_state))
        .route("/v1/eval/det", get(routes::eval::det_plots))
        .route("/v1/eval/det/{name}", get(routes::eval::det_plot))
        .route("/v1/identify", post(routes::search::identify))
        .route("/v1/verify", post(routes::search::verify))
        .route("/v1/compare", post(routes::compare::compare))
        .route("/v1/stats", get(routes::admin::stats))
        .route("/v1/audit", get(routes::admin::audit))
        .route("/v1/health", get(routes::meta::health))
        .route("/v1/openapi.json", get(routes::meta::openapi))
        .route("/metrics", get(routes::meta::metrics))
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "no_route", "no such endpoint")
        });
    api.layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), deadline))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            record_metrics,
        ))
        .layer(middleware::from_fn(json_errors))
        .with_state(state)
        .merge(crate::console::router())
}

/// The request time limit. Work that began before it fired runs on (see
/// [`StartGate`]); the answer then says that it was accepted.
async fn deadline(State(state): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let gate = StartGate::default();
    req.extensions_mut().insert(gate.clone());
    let body = BodyProgress::default();
    req.extensions_mut().insert(body.clone());
    match tokio::time::timeout(state.limits.request_timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => match gate.expire() {
            AtTimeout::NotStarted if body.is_reading() => {
                ApiError::body_timeout(state.limits.request_timeout).into_response()
            }
            AtTimeout::NotStarted => ApiError::timeout().into_response(),
            AtTimeout::Started { status_path } => {
                let mut response =
                    ApiError::accepted_timeout(status_path.as_deref()).into_response();
                if let Some(v) = status_path.and_then(|p| header::HeaderValue::from_str(&p).ok()) {
                    response.headers_mut().insert(header::LOCATION, v);
                }
                response
            }
        },
    }
}

async fn record_metrics(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(req).await;
    state
        .metrics
        .request(&method, &route, response.status().as_u16(), start.elapsed());
    response
}

/// Turns the plain-text error responses of axum and tower-http (413 from the
/// body limit, 503 from the timeout, 405, ...) into the JSON error shape.
async fn json_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
    let (code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("body_too_large", "request body is too large".to_owned()),
        StatusCode::SERVICE_UNAVAILABLE => (
            "unavailable",
            "the service is unavailable; retry later".to_owned(),
        ),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("method_not_allowed", "method not allowed here".to_owned())
        }
        StatusCode::NOT_FOUND => ("not_found", "not found".to_owned()),
        s if s.is_server_error() => ("internal", "internal error; see the service log".to_owned()),
        // Axum's own refusals (a path segment that does not decode, ...)
        // say what was wrong in their text: keep it.
        _ => {
            let text = axum::body::to_bytes(response.into_body(), 1024)
                .await
                .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
                .unwrap_or_default();
            let message = if text.is_empty() {
                "the request was refused".to_owned()
            } else {
                text
            };
            ("bad_request", message)
        }
    };
    let mut out = (
        status,
        axum::Json(ErrorBody {
            error: code.to_owned(),
            message,
            field: None,
        }),
    )
        .into_response();
    if let Some(v) = retry_after {
        out.headers_mut().insert(header::RETRY_AFTER, v);
    }
    out
}

/// Whether a request's body is being read: a time limit that passes then
/// is the client's (408), not the service's (503).
#[derive(Debug, Clone, Default)]
struct BodyProgress(Arc<std::sync::atomic::AtomicBool>);

impl BodyProgress {
    fn set_reading(&self, reading: bool) {
        self.0.store(reading, std::sync::atomic::Ordering::Release);
    }

    fn is_reading(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Acquire)
    }
}

/// A JSON request body: 415 without a JSON content type, 413 beyond the size
/// limit, 400 for broken JSON, 422 (with the field's path) for wrong shapes.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<Arc<AppState>> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "the body must be JSON (Content-Type: application/json)",
            ));
        }
        let progress = req.extensions().get::<BodyProgress>().cloned();
        if let Some(p) = &progress {
            p.set_reading(true);
        }
        let bytes = axum::body::to_bytes(req.into_body(), state.limits.max_body_bytes)
            .await
            .map_err(|e| body_error(&e, state.limits.max_body_bytes))?;
        if let Some(p) = &progress {
            p.set_reading(false);
        }
        parse_json(&bytes).map(ApiJson)
    }
}

/// 413 when a body ran past `limit`; 400 when it could not be read at all
/// (a broken chunked encoding, a connection cut mid-body).
fn body_error(e: &axum::Error, limit: usize) -> ApiError {
    let mut chain = std::iter::successors(Some(e as &(dyn std::error::Error + 'static)), |e| {
        e.source()
    });
    if chain.any(|e| e.is::<http_body_util::LengthLimitError>()) {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("request body exceeds {limit} bytes"),
        )
    } else {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_body",
            format!("the request body could not be read: {e}"),
        )
    }
}

/// Parses `bytes`, naming the offending field on failure: 400 `bad_json`
/// for text that is not JSON, 422 `invalid_field` with the field's path for
/// JSON of the wrong shape.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = named_field(&inner.to_string()).map_or(path.clone(), |name| {
                    if path == "." {
                        name.to_owned()
                    } else {
                        format!("{path}.{name}")
                    }
                });
                let err = ApiError::invalid("invalid_field", inner.to_string());
                if field == "." { err } else { err.at(field) }
            }
            // serde_json calls a number, `null` or an array where an enum's
            // name belongs a syntax error; the text itself is JSON.
            serde_json::error::Category::Syntax
                if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() =>
            {
                let err = ApiError::invalid(
                    "invalid_field",
                    "wrong type: this field takes a string, one of its named values",
                );
                if path == "." { err } else { err.at(path) }
            }
            serde_json::error::Category::Syntax
            | serde_json::error::Category::Eof
            | serde_json::error::Category::Io => {
                // The position is in the message; a path is given only where
                // the parser knew it (`?` marks a place it did not).
                let err = ApiError::new(StatusCode::BAD_REQUEST, "bad_json", inner.to_string());
                if path == "." || path.contains('?') {
                    err
                } else {
                    err.at(path)
                }
            }
        }
    })?;
    de.end()
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_json", e.to_string()))?;
    Ok(value)
}

/// The field a serde message names when the path stops at its parent
/// object: `missing field `x``, `duplicate field `x``.
fn named_field(message: &str) -> Option<&str> {
    ["missing field `", "duplicate field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next())
        .filter(|name| !name.is_empty())
}
