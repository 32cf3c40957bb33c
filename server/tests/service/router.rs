//! The router through `oneshot`: roles, body errors (400/413/415/422),
//! idempotent retries, audit entries, public and private endpoints.

use axum::http::StatusCode;
use hoviyat_server::limits::Limits;
use serde_json::json;

use crate::common::{enrollment, face, service, service_with};

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
