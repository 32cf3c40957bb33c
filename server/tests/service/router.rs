//! The router through `oneshot`: roles, body errors (400/413/415/422),
//! idempotent retries, audit entries, public and private endpoints.

use axum::http::StatusCode;
use hoviyat_server::limits::Limits;
use serde_json::json;

use crate::common::{enrollment, face, png_base64, service, service_with};

#[tokio::test]
async fn each_role_may_do_its_work_and_nothing_else() {
    let s = service();
    let k = s.keys.clone();
    let body = enrollment("role-1", 1, 0);
    let probe = json!({ "face": face(1, 1) });
    let verdict = json!({ "verdict": "distinct", "comment": "" });

    // No key, a malformed key, a forged key: 401.
    assert_eq!(
        s.call("POST", "/v1/enrollments", None, Some(&body)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        s.call("POST", "/v1/enrollments", Some("nonsense"), Some(&body))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    // The admin key with its last character changed (to one it is not).
    let last = if k.admin.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &k.admin[..k.admin.len() - 1]);
    assert_eq!(
        s.call("GET", "/v1/stats", Some(&forged), None).await.0,
        StatusCode::UNAUTHORIZED
    );

    // Enrolling is the enroller's.
    for other in [&k.investigator, &k.adjudicator, &k.admin] {
        assert_eq!(
            s.call("POST", "/v1/enrollments", Some(other), Some(&body))
                .await
                .0,
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(
        s.call("POST", "/v1/enrollments", Some(&k.enroller), Some(&body))
            .await
            .0,
        StatusCode::CREATED
    );

    // Searching is the investigator's.
    for other in [&k.enroller, &k.adjudicator, &k.admin] {
        assert_eq!(
            s.call("POST", "/v1/identify", Some(other), Some(&probe))
                .await
                .0,
            StatusCode::FORBIDDEN
        );
        let v = json!({ "reference_id": "role-1", "face": face(1, 1) });
        assert_eq!(
            s.call("POST", "/v1/verify", Some(other), Some(&v)).await.0,
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(
        s.call("POST", "/v1/identify", Some(&k.investigator), Some(&probe))
            .await
            .0,
        StatusCode::OK
    );

    // Adjudicating is the adjudicator's (409 here: role-1 is not held).
    for other in [&k.enroller, &k.investigator, &k.admin] {
        assert_eq!(
            s.call(
                "POST",
                "/v1/enrollments/role-1/adjudication",
                Some(other),
                Some(&verdict)
            )
            .await
            .0,
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(
        s.call(
            "POST",
            "/v1/enrollments/role-1/adjudication",
            Some(&k.adjudicator),
            Some(&verdict)
        )
        .await
        .0,
        StatusCode::CONFLICT
    );

    // Stats, audit, metrics and delete are the admin's.
    for uri in ["/v1/stats", "/v1/audit", "/metrics"] {
        for other in [&k.enroller, &k.investigator, &k.adjudicator] {
            assert_eq!(
                s.call("GET", uri, Some(other), None).await.0,
                StatusCode::FORBIDDEN,
                "{uri}"
            );
        }
        assert_eq!(
            s.call("GET", uri, Some(&k.admin), None).await.0,
            StatusCode::OK,
            "{uri}"
        );
    }
    assert_eq!(
        s.call("DELETE", "/v1/enrollments/role-1", Some(&k.enroller), None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    // Status: every role; candidates only for those who may read them.
    let (code, status) = s
        .call("GET", "/v1/enrollments/role-1", Some(&k.enroller), None)
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(status["status"], "cleared");
    assert!(status.get("candidates").is_none());
    let (_, status) = s
        .call("GET", "/v1/enrollments/role-1", Some(&k.investigator), None)
        .await;
    assert!(status["candidates"].is_array());

    // Health and the OpenAPI document are public.
    let (code, health) = s.call("GET", "/v1/health", None, None).await;
    assert_eq!(code, StatusCode::OK);
    assert!(health["kernels"].is_object());
    let (code, doc) = s.call("GET", "/v1/openapi.json", None, None).await;
    assert_eq!(code, StatusCode::OK);
    for path in [
        "/v1/enrollments",
        "/v1/identify",
        "/v1/verify",
        "/v1/enrollments/{reference_id}/adjudication",
        "/v1/audit",
        "/v1/compare",
    ] {
        assert!(doc["paths"][path].is_object(), "openapi lacks {path}");
    }
    let schemas = &doc["components"]["schemas"];
    for (schema, property) in [
        ("CompareResponse", "fmr_estimate"),
        ("CompareResponse", "pairs"),
        ("SampleInput", "reference_id"),
        ("FingerScoreJson", "explain"),
        ("IdentifyRequest", "explain"),
        ("GalleryFingerJson", "has_image"),
    ] {
        assert!(
            schemas[schema]["properties"][property].is_object(),
            "openapi lacks {schema}.{property}"
        );
    }
}

#[tokio::test]
async fn a_revoked_key_is_refused_by_the_running_service() {
    let s = service();
    assert_eq!(
        s.call("GET", "/v1/stats", Some(&s.keys.admin), None)
            .await
            .0,
        StatusCode::OK
    );
    let id = s.keys.admin.split('_').nth(1).unwrap();
    hoviyat_server::keys::revoke(s.dir.path(), id).unwrap();
    assert_eq!(
        s.call("GET", "/v1/stats", Some(&s.keys.admin), None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_identical_retry_returns_the_original_answer_and_a_different_body_conflicts() {
    let s = service();
    let key = s.keys.enroller.clone();
    let first = s
        .call(
            "POST",
            "/v1/enrollments",
            Some(&key),
            Some(&enrollment("idem-1", 7, 0)),
        )
        .await;
    assert_eq!(first.0, StatusCode::CREATED);
    let retry = s
        .call(
            "POST",
            "/v1/enrollments",
            Some(&key),
            Some(&enrollment("idem-1", 7, 0)),
        )
        .await;
    assert_eq!(
        retry, first,
        "an identical retry is answered as the original"
    );

    let dup = s
        .call(
            "POST",
            "/v1/enrollments",
            Some(&key),
            Some(&enrollment("idem-2", 7, 1)),
        )
        .await;
    assert_eq!(dup.0, StatusCode::ACCEPTED);
    assert_eq!(dup.1["status"], "potential_duplicate");
    let dup_retry = s
        .call(
            "POST",
            "/v1/enrollments",
            Some(&key),
            Some(&enrollment("idem-2", 7, 1)),
        )
        .await;
    assert_eq!(dup_retry, dup);

    let (code, err) = s
        .call(
            "POST",
            "/v1/enrollments",
            Some(&key),
            Some(&enrollment("idem-1", 8, 0)),
        )
        .await;
    assert_eq!(code, StatusCode::CONFLICT);
    assert_eq!(err["error"], "reference_exists");
    assert_eq!(err["field"], "reference_id");

    // Two decisions, each recorded once; each replay recorded as a replay
    // (who was given the decision again), never as a second decision.
    let (_, audit) = s.call("GET", "/v1/audit", Some(&s.keys.admin), None).await;
    let enrolls: Vec<_> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["endpoint"] == "POST /v1/enrollments")
        .collect();
    let decisions = enrolls.iter().filter(|e| e["decision"] == "enroll").count();
    let replays = enrolls
        .iter()
        .filter(|e| e["outcome"] == "replayed")
        .count();
    assert_eq!((decisions, replays), (2, 2), "{enrolls:?}");
}

#[tokio::test]
async fn bad_bodies_get_415_413_400_and_422_with_the_field_named() {
    let s = service_with(Limits {
        max_body_bytes: 64 * 1024,
        ..Limits::default()
    });
    let key = s.keys.enroller.clone();
    let ok = serde_json::to_vec(&enrollment("bad-1", 1, 0)).unwrap();

    let (code, err) = s
        .raw(
            "POST",
            "/v1/enrollments",
            Some(&key),
            Some("text/plain"),
            Some(ok.clone()),
        )
        .await;
    assert_eq!(code, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(err["error"], "unsupported_media_type");
    let (code, _) = s
        .raw(
            "POST",
            "/v1/enrollments",
            Some(&key),
            None,
            Some(ok.clone()),
        )
        .await;
    assert_eq!(code, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let huge = json!({ "reference_id": "bad-2", "face": { "model": "m", "values": vec![0.5f32; 40_000] } });
    let (code, err) = s
        .call("POST", "/v1/enrollments", Some(&key), Some(&huge))
        .await;
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(err["error"], "body_too_large");

    let (code, err) = s
        .raw(
            "POST",
            "/v1/enrollments",
            Some(&key),
            Some("application/json"),
            Some(ok[..ok.len() / 2].to_vec()),
        )
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"], "bad_json");

    let cases = [
        (
            json!({ "reference_id": 5, "face": face(1, 0) }),
            "reference_id",
        ),
        (
            json!({ "reference_id": "x", "face": { "model": "m", "values": [1.0, "a"] } }),
            "face.values[1]",
        ),
        (
            json!({ "reference_id": "x", "fingers": [{ "position": 11, "minutiae": { "width_px": 10, "height_px": 10, "dpi": 500, "minutiae": [] } }] }),
            "fingers[0].position",
        ),
        (
            json!({ "reference_id": "x", "fingers": [{ "position": 1, "image": { "data": "@@@", "dpi": 500 } }] }),
            "fingers[0].image.data",
        ),
        (
            json!({ "reference_id": "x", "fingers": [{ "position": 1 }] }),
            "fingers[0]",
        ),
        (
            json!({ "reference_id": "", "face": face(1, 0) }),
            "reference_id",
        ),
        (
            json!({ "reference_id": "x", "face": { "model": "m", "values": [0.0, 0.0] } }),
            "face",
        ),
        (json!({ "reference_id": "x" }), "fingers"),
        (
            json!({ "reference_id": "x", "face": face(1, 0), "surprise": 1 }),
            "surprise",
        ),
    ];
    for (body, field) in cases {
        let (code, err) = s
            .call("POST", "/v1/enrollments", Some(&key), Some(&body))
            .await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {err}");
        assert!(
            err["field"]
                .as_str()
                .is_some_and(|f| f.starts_with(field) || f == field),
            "{field} vs {err}"
        );
        assert!(err["message"].is_string());
    }

    let probe = json!({ "face": face(1, 0), "mode": "investigation", "max_candidates": 0 });
    let (code, err) = s
        .call(
            "POST",
            "/v1/identify",
            Some(&s.keys.investigator),
            Some(&probe),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["field"], "max_candidates");
    let probe = json!({ "face": face(1, 0), "mode": "identification", "target_fpir": 2.0 });
    let (code, _) = s
        .call(
            "POST",
            "/v1/identify",
            Some(&s.keys.investigator),
            Some(&probe),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json_errors() {
    let s = service();
    let (code, err) = s.call("GET", "/v2/nothing", None, None).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert!(err["error"].is_string());
    let (code, err) = s.call("PUT", "/v1/identify", None, None).await;
    assert_eq!(code, StatusCode::METHOD_NOT_ALLOWED);
    assert!(err["error"].is_string());
    let (code, _) = s
        .call(
            "GET",
            "/v1/enrollments/nobody",
            Some(&s.keys.enroller),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    // A path segment that is not UTF-8 once decoded: the JSON shape, with
    // the router's reason rather than a blank refusal.
    let (code, err) = s
        .call(
            "GET",
            "/v1/enrollments/%FF%FE",
            Some(&s.keys.enroller),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"], "bad_request");
    let message = err["message"].as_str().unwrap_or_default();
    assert!(
        !message.is_empty() && message != "the request was refused",
        "{err}"
    );
}

#[tokio::test]
async fn iso_and_ansi_templates_are_accepted_as_finger_input() {
    use base64::Engine as _;
    use hoviyat_models::FingerTemplate;
    use hoviyat_models::codec::{TemplateFormat, encode};
    let s = service();
    // The fixture's minutiae JSON, as a template the codec encodes.
    let as_template = |person: u64, position: u8, format: TemplateFormat| {
        let f = crate::common::finger(person, position, 0);
        let m = &f["minutiae"];
        let t: FingerTemplate = serde_json::from_value(json!({
            "position": position, "width_px": m["width_px"], "height_px": m["height_px"],
            "dpi": m["dpi"], "quality": m["quality"], "minutiae": m["minutiae"],
        }))
        .unwrap();
        let bytes = encode(&[t], format).unwrap();
        json!({ "position": position, "template": { "data": base64::engine::general_purpose::STANDARD.encode(bytes) } })
    };
    let body = json!({
        "reference_id": "tmpl-1",
        "fingers": [as_template(900, 1, TemplateFormat::Iso19794_2_2005), as_template(900, 2, TemplateFormat::Ansi378_2004)],
    });
    let (code, out) = s
        .call(
            "POST",
            "/v1/enrollments",
            Some(&s.keys.enroller),
            Some(&body),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{out}");
    // The same person's minutiae JSON finds the template-enrolled record.
    let probe = json!({ "fingers": [crate::common::finger(900, 1, 1)], "max_candidates": 1 });
    let (code, found) = s
        .call(
            "POST",
            "/v1/identify",
            Some(&s.keys.investigator),
            Some(&probe),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(found["candidates"][0]["reference_id"], "tmpl-1");
    // A template at another position than declared is refused.
    let wrong = json!({ "reference_id": "tmpl-2", "fingers": [{ "position": 3, "template": as_template(901, 1, TemplateFormat::Iso19794_2_2005)["template"] }] });
    let (code, err) = s
        .call(
            "POST",
            "/v1/enrollments",
            Some(&s.keys.enroller),
            Some(&wrong),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"], "position_mismatch");
    assert_eq!(err["field"], "fingers[0].template.data");
}

#[tokio::test]
async fn a_corrupt_enrollment_state_is_a_500_never_a_404() {
    use std::sync::Arc;

    use hoviyat_server::app::{AppState, GALLERY_DIR, router};
    use hoviyat_server::engine::AbisConfig;

    use crate::common::{FACE_DIM, Service};

    let s = service();
    for (id, person) in [("c-1", 1), ("c-2", 2)] {
        let (code, body) = s
            .call(
                "POST",
                "/v1/enrollments",
                Some(&s.keys.enroller),
                Some(&enrollment(id, person, 0)),
            )
            .await;
        assert_eq!(code, StatusCode::CREATED, "{body}");
    }
    let Service {
        dir,
        app,
        state,
        keys,
    } = s;
    drop(app);
    drop(state);
    // Damage c-1's state behind the service's back (a deliberately corrupt
    // fixture: the checksums stay valid, the content is not a state).
    {
        let g = hoviyat_engine::store::Gallery::open(dir.path().join(GALLERY_DIR)).unwrap();
        g.set_state("c-1", b"not an enrollment state".to_vec())
            .unwrap();
    }
    let config = AbisConfig {
        face_dim: Some(FACE_DIM),
        ..AbisConfig::default()
    };
    let state = Arc::new(AppState::open(dir.path(), Limits::default(), &config).unwrap());
    let s = Service {
        app: router(Arc::clone(&state)),
        dir,
        state,
        keys,
    };
    let k = s.keys.clone();

    let (code, body) = s
        .call("GET", "/v1/enrollments/c-1", Some(&k.admin), None)
        .await;
    assert_eq!(code, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(body["error"], "internal");
    let (code, body) = s
        .call("DELETE", "/v1/enrollments/c-1", Some(&k.admin), None)
        .await;
    assert_eq!(code, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    let verdict = json!({ "verdict": "distinct", "comment": "" });
    let (code, body) = s
        .call(
            "POST",
            "/v1/enrollments/c-1/adjudication",
            Some(&k.adjudicator),
            Some(&verdict),
        )
        .await;
    assert_eq!(code, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    // The others are unaffected, and an unknown id is still a 404.
    let (code, body) = s
        .call("GET", "/v1/enrollments/c-2", Some(&k.admin), None)
        .await;
    assert_eq!((code, &body["status"]), (StatusCode::OK, &json!("cleared")));
    let (code, _) = s
        .call("GET", "/v1/enrollments/never", Some(&k.admin), None)
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
}

/// Invalid content is refused with 422 and the exact JSON path of the
/// offending value, wherever in the request it sits: missing fields, wrong
/// types for named values, a finger's own values, positions given twice,
/// and values the stored form cannot hold.
#[tokio::test]
async fn invalid_content_names_the_exact_field() {
    let s = service();
    let minutiae = |width: u32, dpi: u32, list: serde_json::Value| json!({ "width_px": width, "height_px": 400, "dpi": dpi, "minutiae": list });
    let one = json!([{ "x_px": 120, "y_px": 200, "angle_rad": 1.2, "kind": "ending" }]);
    let finger =
        |position: u8| json!({ "position": position, "minutiae": minutiae(300, 500, one.clone()) });
    let blank = png_base64(&image::GrayImage::from_pixel(300, 300, image::Luma([128])));
    let enrollments = [
        (json!({ "fingers": [finger(2)] }), "reference_id"),
        (
            json!({ "reference_id": "x", "fingers": [{ "position": 2, "minutiae": { "height_px": 400, "dpi": 500, "minutiae": [] } }] }),
            "fingers[0].minutiae.width_px",
        ),
        (
            json!({ "reference_id": "x", "fingers": [{ "position": 2, "minutiae": minutiae(300, 500, json!([{ "x_px": 1, "y_px": 1, "angle_rad": 1, "kind": 5 }])) }] }),
            "fingers[0].minutiae.minutiae[0].kind",
        ),
        (
            json!({ "reference_id": "x", "fingers": [{ "position": 2, "minutiae": minutiae(0, 500, json!([])) }] }),
            "fingers[0].minutiae.width_px",
        ),
        (
            json!({ "reference_id": "x", "fingers": [{ "position": 2, "minutiae": minutiae(300, 0, json!([])) }] }),
            "fingers[0].minutiae.dpi",
        ),
        (
            json!({ "reference_id": "x", "fingers": [{ "position": 2, "minutiae": minutiae(100, 500, one.clone()) }] }),
            "fingers[0].minutiae.minutiae[0]",
        ),
        (
            json!({ "reference_id": "x", "fingers": [{ "position": 2, "minutiae": minutiae(300, 500, json!([{ "x_px": 1, "y_px": 1, "angle_rad": 1, "kind": "ending", "quality": 101 }])) }] }),
            "fingers[0].minutiae.minutiae[0].quality",
        ),
        (
            json!({ "reference_id": "x", "fingers": [finger(2), finger(3), finger(2)] }),
            "fingers[2].position",
        ),
        (
            json!({ "reference_id": "x", "fingers": [finger(2)], "missing": [{ "position": 2, "reason": "bandaged" }] }),
            "missing[0].position",
        ),
        (
            json!({ "reference_id": "x", "fingers": [{ "position": 2, "image": { "data": blank, "dpi": 0 } }] }),
            "fingers[0].image.dpi",
        ),
        (
            json!({ "reference_id": "x", "face": { "model": "", "values": [0.5, 1.0] } }),
            "face.model",
        ),
        (
            json!({ "reference_id": "x", "face": { "model": "m", "values": [0.5, 1e38] } }),
            "face.values[1]",
        ),
        (
            json!({ "reference_id": "x", "fingers": [finger(2)], "metadata": { "note": "n".repeat(70_000) } }),
            "metadata.note",
        ),
    ];
    for (body, field) in enrollments {
        let (code, err) = s
            .call(
                "POST",
                "/v1/enrollments",
                Some(&s.keys.enroller),
                Some(&body),
            )
            .await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {err}");
        assert_eq!(err["field"], field, "{err}");
    }
    let searches = [
        (
            json!({ "fingers": [finger(2), finger(2)] }),
            "fingers[1].position",
        ),
        (json!({ "fingers": [finger(2)], "mode": 5 }), "mode"),
        (
            json!({ "fingers": [finger(2)], "threshold": 3.0 }),
            "threshold",
        ),
        (
            json!({ "fingers": [finger(2)], "mode": "identification", "threshold": 3.0, "target_fpir": 0.01 }),
            "target_fpir",
        ),
    ];
    for (body, field) in searches {
        let (code, err) = s
            .call(
                "POST",
                "/v1/identify",
                Some(&s.keys.investigator),
                Some(&body),
            )
            .await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {err}");
        assert_eq!(err["field"], field, "{err}");
    }
    // Query parameters are named too.
    for (query, field) in [
        ("limit=x", "limit"),
        ("limit=0", "limit"),
        ("after=-1", "after"),
        ("after=18446744073709551616", "after"),
        ("since=3", "since"),
    ] {
        let (code, err) = s
            .call(
                "GET",
                &format!("/v1/audit?{query}"),
                Some(&s.keys.admin),
                None,
            )
            .await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {err}");
        assert_eq!(err["field"], field, "{err}");
    }
    // Broken JSON has a position in its message and no field to name.
    let (code, err) = s
        .raw(
            "POST",
            "/v1/enrollments",
            Some(&s.keys.enroller),
            Some("application/json"),
            Some(br#"{"reference_id": "x","#.to_vec()),
        )
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"], "bad_json");
    assert!(err.get("field").is_none(), "{err}");
}

/// A finger captured with no minutiae is stored like any other (the record
/// had failed to decode when all its fingers were empty).
#[tokio::test]
async fn a_finger_without_minutiae_is_enrolled() {
    let s = service();
    let body = json!({ "reference_id": "empty-1", "fingers": [{ "position": 2, "minutiae": { "width_px": 300, "height_px": 400, "dpi": 500, "minutiae": [] } }] });
    let (code, answer) = s
        .call(
            "POST",
            "/v1/enrollments",
            Some(&s.keys.enroller),
            Some(&body),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{answer}");
    let (code, _) = s
        .call(
            "GET",
            "/v1/enrollments/empty-1",
            Some(&s.keys.enroller),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::OK);
}

/// An enrollment retried after its reference was deleted is told so (410),
/// neither enrolled again nor answered with a 2xx.
#[tokio::test]
async fn a_retry_after_a_delete_is_gone() {
    let s = service();
    let body = enrollment("gone-1", 1, 0);
    let (code, _) = s
        .call(
            "POST",
            "/v1/enrollments",
            Some(&s.keys.enroller),
            Some(&body),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED);
    let (code, _) = s
        .call(
            "DELETE",
            "/v1/enrollments/gone-1",
            Some(&s.keys.admin),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    let (code, err) = s
        .call(
            "POST",
            "/v1/enrollments",
            Some(&s.keys.enroller),
            Some(&body),
        )
        .await;
    assert_eq!(code, StatusCode::GONE, "{err}");
    assert_eq!(err["error"], "reference_deleted");
    // A verification against it, or against an id never enrolled, names
    // the request's reference_id.
    for id in ["gone-1", "never-1"] {
        let probe = json!({ "reference_id": id, "face": face(1, 1) });
        let (code, err) = s
            .call(
                "POST",
                "/v1/verify",
                Some(&s.keys.investigator),
                Some(&probe),
            )
            .await;
        assert!(code.is_client_error(), "{code} {err}");
        assert_eq!(err["field"], "reference_id", "{err}");
    }
}

/// Sends `request` on a raw socket and returns the status line and body of
/// the answer.
async fn raw_exchange(addr: std::net::SocketAddr, request: Vec<u8>) -> (String, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(&request).await.unwrap();
    let mut answer = Vec::new();
    let read = stream.read_to_end(&mut answer);
    tokio::time::timeout(std::time::Duration::from_secs(20), read)
        .await
        .expect("the service answers")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.lines().next().unwrap_or_default().to_owned();
    let body = answer
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    (status, body)
}

/// A body that stops arriving is the client's fault (408), and one that
/// cannot be read (a broken chunked encoding) is a 400, not a 413.
#[tokio::test]
async fn a_stalled_or_broken_body_is_a_client_error() {
    let s = service_with(Limits {
        request_timeout: std::time::Duration::from_secs(1),
        ..Limits::default()
    });
    let addr = s.listen().await;
    let head = |framing: &str| {
        format!(
            "POST /v1/identify HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {}\r\n\
             content-type: application/json\r\n{framing}\r\n\r\n",
            s.keys.investigator
        )
    };
    // Two bytes of a hundred, then nothing (the connection stays open).
    let (status, body) = raw_exchange(
        addr,
        format!("{}{{}}", head("content-length: 100")).into_bytes(),
    )
    .await;
    assert!(status.contains(" 408 "), "{status} {body}");
    assert!(body.contains("body_timeout"), "{body}");

    let (status, body) = raw_exchange(
        addr,
        format!("{}zz\r\n", head("transfer-encoding: chunked")).into_bytes(),
    )
    .await;
    assert!(status.contains(" 400 "), "{status} {body}");
    assert!(body.contains("bad_body"), "{body}");
}
