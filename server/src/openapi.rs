//! The OpenAPI document, generated from the handlers' and types'
//! annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{audit, error, routes, wire};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hoviyat ABIS",
        description = "Biometric deduplication and search: enroll, identify, verify, adjudicate."
    ),
    paths(
        routes::enrollments::create,
        routes::enrollments::status,
        routes::enrollments::adjudicate,
        routes::enrollments::delete,
        routes::evidence::image,
        routes::evidence::queue,
        routes::keys::whoami,
        routes::keys::list,
        routes::admin::audit_state,
        routes::eval::det_plots,
        routes::eval::det_plot,
        routes::search::identify,
        routes::search::verify,
        routes::compare::compare,
        routes::admin::stats,
        routes::admin::audit,
        routes::meta::health,
        routes::meta::metrics,
        routes::meta::openapi,
    ),
    components(schemas(
        error::ErrorBody,
        wire::EnrollmentRequest,
        wire::FingerInput,
        wire::ImageInput,
        wire::TemplateInput,
        wire::TemplateFormat,
        wire::MinutiaeInput,
        wire::MinutiaJson,
        wire::MissingFingerInput,
        wire::FaceInput,
        wire::EnrollmentResponse,
        wire::StatusJson,
        wire::CandidateJson,
        wire::FingerScoreJson,
        wire::FaceScoreJson,
        wire::AdjudicationRequest,
        wire::AdjudicationJson,
        wire::VerdictJson,
        wire::IdentifyRequest,
        wire::ModeJson,
        wire::IdentifyResponse,
        wire::VerifyRequest,
        wire::VerifyResponse,
        wire::CompareRequest,
        wire::SampleInput,
        wire::CompareResponse,
        wire::AlignmentJson,
        wire::PointJson,
        wire::PairJson,
        wire::ProbeFingerJson,
        wire::GalleryFingerJson,
        wire::FingerExplainJson,
        wire::StatsResponse,
        wire::HealthResponse,
        wire::EnrollmentFingerJson,
        wire::EnrollmentQueueResponse,
        wire::WhoamiResponse,
        wire::KeyJson,
        wire::AuditStateResponse,
        wire::DetPlotsResponse,
        crate::keys::Role,
        audit::AuditEntry,
        audit::AuditEvent,
        audit::AuditCandidate,
    )),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("API key made with `hoviyat keys add`"))
                    .build(),
            ),
        );
    }
}

/// The document served at `/v1/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}
