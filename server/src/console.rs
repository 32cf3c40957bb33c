//! The investigator and adjudicator console: a small single-page app served
//! at `/console`, its files embedded in the binary (nothing fetched or built
//! at run time). The page holds no data of its own; everything it shows comes
//! from the `/v1` API with the key the user signs in with, so these routes
//! need no key.
//!
//! Every response carries a Content-Security-Policy without inline script or
//! eval, and refuses framing.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::map_response;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// The policy of every console response: scripts, styles and data only from
/// the service itself; images also from `blob:` (a dropped probe, a fetched
/// gallery image) and `data:`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; form-action 'none'; \
     frame-ancestors 'none'; base-uri 'none'";

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const INDEX_HTML: &str = include_str!("../console/index.html");

const ASSETS: &[Asset] = &[
    Asset {
        name: "console.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../console/console.css"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../console/app.js"),
    },
    Asset {
        name: "compare.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../console/compare.js"),
    },
    Asset {
        name: "dom.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../console/dom.js"),
    },
];

/// The console's routes: `/console` (the page) and `/console/assets/{name}`.
pub fn router() -> Router {
    Router::new()
        .route("/console", get(index))
        .route("/console/", get(index))
        .route("/console/assets/{name}", get(asset))
        .layer(map_response(security_headers))
}

async fn index() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        INDEX_HTML,
    )
        .into_response()
}

async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => (
            [
                (header::CONTENT_TYPE, a.content_type),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            a.body,
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "no such console file",
        )
            .into_response(),
    }
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_script_and_stylesheet_the_page_names_is_served() {
        for reference in INDEX_HTML
            .split("/console/assets/")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
        {
            assert!(
                ASSETS.iter().any(|a| a.name == reference),
                "index.html names {reference}, which is not embedded"
            );
        }
    }

    #[test]
    fn the_page_has_no_inline_script_or_style() {
        for file in std::iter::once(INDEX_HTML).chain(ASSETS.iter().map(|a| a.body)) {
            assert!(!file.contains("<script>"), "inline script");
            assert!(!file.contains("<style"), "inline style");
            assert!(!file.contains(" style=\""), "inline style attribute");
            for markup in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
            ] {
                assert!(!file.contains(markup), "{markup}");
            }
            assert!(!file.contains("eval("), "eval");
        }
    }
}
