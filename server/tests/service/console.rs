//! The console's files over the router: served without a key, with a
//! Content-Security-Policy that allows no inline script, and no framing.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt as _;

use crate::common::service;

async fn get(path: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let s = service();
    let resp = s
        .app
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn header<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header"))
}

#[tokio::test]
async fn the_page_is_served_without_a_key_under_a_strict_policy() {
    let (status, headers, body) = get("/console").await;
    assert_eq!(status, StatusCode::OK);
    assert!(header(&headers, "content-type").starts_with("text/html"));
    assert!(body.contains("/console/assets/app.js"), "{body}");
    let csp = header(&headers, "content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(header(&headers, "x-frame-options"), "DENY");
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert_eq!(header(&headers, "referrer-policy"), "no-referrer");
}

#[tokio::test]
async fn assets_carry_their_types_and_unknown_ones_are_404() {
    for (path, kind) in [
        ("/console/assets/app.js", "text/javascript"),
        ("/console/assets/compare.js", "text/javascript"),
        ("/console/assets/dom.js", "text/javascript"),
        ("/console/assets/console.css", "text/css"),
    ] {
        let (status, headers, body) = get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(header(&headers, "content-type").starts_with(kind), "{path}");
        assert!(
            headers.contains_key(header::CONTENT_SECURITY_POLICY),
            "{path}"
        );
        assert!(!body.is_empty(), "{path}");
    }
    let (status, headers, _) = get("/console/assets/..%2Fapp.rs").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(headers.contains_key(header::CONTENT_SECURITY_POLICY));
    // The API's own 404 is unchanged beside the console.
    let (status, _, body) = get("/v1/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("no_route"), "{body}");
}
