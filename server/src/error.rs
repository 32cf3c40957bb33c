//! The service's one error type, [`ApiError`], and how engine errors map to
//! HTTP statuses.
//!
//! Every error body is `{ "error": code, "message": text, "field": path }`.
//! A 5xx body is generic: the details go to the log, never to the caller.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hoviyat_models::ModelError;
use serde::Serialize;
use utoipa::ToSchema;

/// The JSON body of every error response.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `invalid_record`.
    pub error: String,
    /// Human-readable explanation.
    pub message: String,
    /// JSON path of the offending field in the request body, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An error answered to a caller.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// Seconds the caller should wait before retrying (503).
    pub retry_after_s: Option<u32>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after_s: None,
        }
    }

    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// 422: the request is well-formed JSON but its content is invalid.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid bearer API key is required",
        )
    }

    pub fn forbidden(needed: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this endpoint needs the {needed} role"),
        )
    }

    pub fn not_found(reference_id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "reference_not_found",
            format!("no enrollment with reference id {reference_id:?}"),
        )
        .at("reference_id")
    }

    /// 503 with `Retry-After`: too much matching work is pending.
    pub fn busy(retry_after_s: u32) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "too much matching work is pending; retry later",
        );
        e.retry_after_s = Some(retry_after_s);
        e
    }

    /// 503 with `Retry-After`: the request ran past its time limit before
    /// its work began; nothing was done.
    pub fn timeout() -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "the request ran past its time limit before its work began; nothing was done; retry later",
        );
        e.retry_after_s = Some(1);
        e
    }

    /// 408: the request's body had not arrived when its time limit passed;
    /// nothing was done.
    pub fn body_timeout(limit: std::time::Duration) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!(
                "the request body did not arrive within the time limit ({} s); nothing was done",
                limit.as_secs_f32()
            ),
        )
    }

    /// 503 with `Retry-After`: the request ran past its time limit after its
    /// work began; the work runs to completion and its outcome can be read
    /// at `status_path`.
    pub fn accepted_timeout(status_path: Option<&str>) -> Self {
        let where_ = status_path.map_or_else(
            || "read the enrollment's status".to_owned(),
            |p| format!("read GET {p}"),
        );
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout_accepted",
            format!(
                "the request ran past its time limit after its work was accepted; \
                 the work completes and is audited: {where_} for the outcome before retrying"
            ),
        );
        e.retry_after_s = Some(1);
        e
    }

    /// 503 with `Retry-After`: the audit log cannot be written, so no
    /// decision is taken and no search answered (details in the log).
    pub fn audit_unavailable(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "audit log cannot be written");
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "audit_unavailable",
            "the audit log cannot be written; nothing was done; retry later",
        );
        e.retry_after_s = Some(5);
        e
    }

    /// 500 with a generic body; `detail` goes to the log only.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the service log",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.code.to_owned(),
            message: self.message,
            field: self.field,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(s) = self.retry_after_s {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<ModelError> for ApiError {
    fn from(e: ModelError) -> Self {
        let field = model_error_field(&e);
        let mut api = ApiError::invalid("invalid_record", e.to_string());
        api.field = field;
        api
    }
}

/// The request field a model error points at, when it names one.
fn model_error_field(e: &ModelError) -> Option<String> {
    match e {
        ModelError::EmptyReferenceId
        | ModelError::ReferenceIdTooLong { .. }
        | ModelError::ReferenceIdControlChar { .. }
        | ModelError::ReferenceIdFormatChar { .. }
        | ModelError::ReferenceIdSpace
        | ModelError::ReferenceIdNotNfc => Some("reference_id".into()),
        ModelError::EmptyRecord | ModelError::TooManyFingers { .. } => Some("fingers".into()),
        ModelError::FaceDimensionInconsistent { .. }
        | ModelError::FaceDimensionMismatch { .. }
        | ModelError::FaceZeroVector
        | ModelError::FaceDimensionOutOfRange { .. } => Some("face".into()),
        ModelError::FaceModelName { .. } => Some("face.model".into()),
        ModelError::FaceValueOutOfRange { index, .. } => Some(format!("face.values[{index}]")),
        ModelError::MetadataTooLarge { field, .. } => Some(field.clone()),
        ModelError::NonFinite { field } | ModelError::QualityOutOfRange { field, .. } => {
            Some(field.clone())
        }
        ModelError::InvalidRidgeMap { position, .. } => {
            Some(format!("finger {position}: ridge_map"))
        }
        ModelError::DuplicateFingerPosition { .. }
        | ModelError::MissingAndCaptured { .. }
        | ModelError::InvalidFingerPosition { .. }
        | ModelError::EmptyImage { .. }
        | ModelError::ImageTooLarge { .. }
        | ModelError::ResolutionOutOfRange { .. }
        | ModelError::MinutiaOutsideImage { .. }
        | ModelError::Truncated { .. }
        | ModelError::BadMagic { .. }
        | ModelError::UnsupportedVersion { .. }
        | ModelError::LengthMismatch { .. }
        | ModelError::InvalidField { .. }
        | ModelError::DuplicateView { .. }
        | ModelError::TooManyViews { .. }
        | ModelError::MixedImageGeometry { .. }
        | ModelError::NoFingers { .. }
        | ModelError::InvalidJson { .. }
        | ModelError::UnknownTemplateFormat { .. }
        | ModelError::TooManyMinutiae { .. } => None,
    }
}

impl From<hoviyat_engine::EngineError> for ApiError {
    // One exhaustive match, no `_` arm: a new engine error forces a decision.
    fn from(e: hoviyat_engine::EngineError) -> Self {
        use hoviyat_engine::EngineError as E;
        match e {
            E::Model(m) => m.into(),
            E::DuplicateReference { reference_id } => ApiError::new(
                StatusCode::CONFLICT,
                "reference_exists",
                format!(
                    "reference id {reference_id:?} was already enrolled with a different record"
                ),
            )
            .at("reference_id"),
            E::ReferenceExists { reference_id } => ApiError::new(
                StatusCode::CONFLICT,
                "reference_exists",
                format!(
                    "reference id {reference_id:?} was already enrolled with a different record"
                ),
            )
            .at("reference_id"),
            E::NotHeld {
                reference_id,
                status,
            } => ApiError::new(
                StatusCode::CONFLICT,
                "not_held",
                format!(
                    "enrollment {reference_id:?} is {status:?}; only a held potential duplicate can be adjudicated"
                ),
            ),
            E::UnknownReference { reference_id } => ApiError::not_found(&reference_id),
            E::UnknownFinger {
                reference_id,
                position,
            } => ApiError::new(
                StatusCode::NOT_FOUND,
                "finger_not_found",
                format!("enrollment {reference_id:?} holds no finger at position {position}"),
            )
            .at("position"),
            E::DecisionNotRecorded { source } => ApiError::audit_unavailable(source),
            E::DeletedReference { reference_id } => ApiError::new(
                StatusCode::GONE,
                "reference_deleted",
                format!("enrollment {reference_id:?} has been deleted"),
            )
            .at("reference_id"),
            E::FaceEqualsMean => ApiError::invalid(
                "degenerate_face",
                "the face template has no direction to compare (it equals the gallery mean)",
            )
            .at("face"),
            E::FaceCodeDimension { expected, got } => ApiError::invalid(
                "face_dimension",
                format!("face template has {got} values; the gallery's faces have {expected:?}"),
            )
            .at("face.values"),
            E::FaceThresholdNotFinite { threshold } => ApiError::invalid(
                "out_of_range",
                format!("threshold {threshold} is not finite"),
            )
            .at("threshold"),
            E::ImageFormatUnknown | E::ImageDecode { .. } => ApiError::invalid(
                "unreadable_image",
                "the fingerprint image could not be decoded (PNG, JPEG, TIFF or BMP expected)",
            )
            .at("fingers"),
            // Too large once decoded: the same answer as the check on the
            // image header.
            E::ImageTooLarge { .. } | E::ImageTooManyBytes { .. } => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "image_too_large",
                e.to_string(),
            )
            .at("fingers"),
            E::ResolutionOutOfRange { .. } => {
                ApiError::invalid("out_of_range", e.to_string()).at("fingers.dpi")
            }
            E::FteImageTooSmall { .. }
            | E::FteBlank { .. }
            | E::FteNoRidges { .. }
            | E::FteTooFewMinutiae { .. } => {
                ApiError::invalid("failure_to_extract", e.to_string()).at("fingers")
            }
            // The gallery refuses writes until reopened: the service is
            // unavailable, not the request wrong.
            E::GalleryPoisoned | E::ReadOnlyGallery => {
                tracing::error!(error = %e, "gallery refuses writes");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the gallery is not accepting writes; retry later",
                )
            }
            // Files, encodings and configuration: our fault, never the
            // caller's; the details go to the log.
            E::Io { .. }
            | E::MissingFile { .. }
            | E::BadMagic { .. }
            | E::UnsupportedFormatVersion { .. }
            | E::TruncatedFile { .. }
            | E::CorruptFile { .. }
            | E::GalleryExists { .. }
            | E::GalleryLocked { .. }
            | E::ImportAborted { .. }
            | E::ReferenceIdMismatch { .. }
            | E::NonFiniteFaceAux
            | E::FingerBlobSize { .. }
            | E::DuplicateFingerBlob { .. }
            | E::ScreenSlot { .. }
            | E::StateTooLarge { .. }
            | E::FaceMeanLength { .. }
            | E::FaceRowsInconsistent { .. }
            | E::FaceSegmentsOverlap { .. }
            | E::FaceRowOutOfRange { .. }
            | E::FaceVectorMissing { .. }
            | E::GalleryTruncated { .. }
            | E::GalleryVersion { .. }
            | E::GalleryLength { .. }
            | E::GalleryChecksum { .. }
            | E::GalleryField { .. }
            | E::Calibration { .. }
            | E::StateEncoding { .. }
            | E::CorruptState { .. }
            | E::BadFingerBlob { .. } => ApiError::internal(e),
        }
    }
}
