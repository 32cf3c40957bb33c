//! The endpoints a console reads over a real socket: the adjudication
//! queue (order, paging, parameters), whoami, the key list (no secrets),
//! the audit chain's state and the DET plots (no way out of their folder);
//! each behind its roles.

use std::sync::Arc;

use hoviyat_server::app::{AppState, router};
use hoviyat_server::engine::AbisConfig;
use hoviyat_server::limits::Limits;
use reqwest::Method as M;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{FACE_DIM, Service, enrollment, make_keys, service};
use crate::evidence::Http;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_lists_held_enrollments_oldest_first_in_pages() {
    let s = service();
    let k = s.keys.clone();
    let http = Http::of(&s).await;
    // Two people cleared, then three second captures of them held, one at
    // a time so that the decision times are ordered.
    for (id, person, capture, expect) in [
        ("q-a", 301, 0, StatusCode::CREATED),
        ("q-b", 302, 0, StatusCode::CREATED),
        ("q-held-1", 301, 1, StatusCode::ACCEPTED),
        ("q-held-2", 302, 1, StatusCode::ACCEPTED),
        ("q-held-3", 301, 2, StatusCode::ACCEPTED),
    ] {
        let (code, answer) = http
            .json(
                M::POST,
                "/v1/enrollments",
                &k.enroller,
                Some(&enrollment(id, person, capture)),
            )
            .await;
        assert_eq!(code, expect, "{id}: {answer}");
    }

    let ids = |page: &Value| -> Vec<String> {
        page["enrollments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["reference_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (code, first) = http
        .get_json(
            "/v1/enrollments?status=potential_duplicate&limit=2",
            &k.adjudicator,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{first}");
    assert_eq!(ids(&first), ["q-held-1", "q-held-2"]);
    let held = &first["enrollments"][0];
    assert_eq!(held["status"], "potential_duplicate");
    assert_eq!(held["candidates"][0]["reference_id"], "q-a", "{held}");
    assert_eq!(held["fingers"].as_array().unwrap().len(), 2, "{held}");
    let next = first["next"].as_str().unwrap();
    let (code, second) = http
        .get_json(
            &format!("/v1/enrollments?status=potential_duplicate&limit=2&after={next}"),
            &k.adjudicator,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{second}");
    assert_eq!(ids(&second), ["q-held-3"]);
    assert_eq!(second["next"], Value::Null);

    // A decided enrollment leaves the queue; the default page holds the rest.
    let (code, _) = http
        .json(
            M::POST,
            "/v1/enrollments/q-held-1/adjudication",
            &k.adjudicator,
            Some(&json!({"verdict": "duplicate", "comment": "same ridges"})),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    let (_, rest) = http
        .get_json("/v1/enrollments?status=potential_duplicate", &k.admin)
        .await;
    assert_eq!(ids(&rest), ["q-held-2", "q-held-3"]);
    assert_eq!(rest["next"], Value::Null);

    // Bad parameters name their field.
    for (query, field) in [
        ("status=cleared", "status"),
        ("limit=5", "status"),
        ("status=potential_duplicate&limit=0", "limit"),
        ("status=potential_duplicate&limit=101", "limit"),
        ("status=potential_duplicate&limit=ten", "limit"),
        ("status=potential_duplicate&after=not-a-cursor", "after"),
        ("status=potential_duplicate&sort=newest", "sort"),
    ] {
        let (code, err) = http
            .get_json(&format!("/v1/enrollments?{query}"), &k.adjudicator)
            .await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {err}");
        assert_eq!(err["field"], field, "{query}: {err}");
    }
    // Only adjudicators and admins read the queue.
    for key in [&k.enroller, &k.investigator] {
        let (code, _) = http
            .get_json("/v1/enrollments?status=potential_duplicate", key)
            .await;
        assert_eq!(code, StatusCode::FORBIDDEN);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoami_names_the_roles_and_the_key_list_holds_no_secret() {
    let s = service();
    let k = s.keys.clone();
    let http = Http::of(&s).await;
    for (key, role) in [
        (&k.enroller, "enroller"),
        (&k.investigator, "investigator"),
        (&k.adjudicator, "adjudicator"),
        (&k.admin, "admin"),
    ] {
        let (code, me) = http.get_json("/v1/whoami", key).await;
        assert_eq!(code, StatusCode::OK, "{me}");
        assert_eq!(me["roles"], json!([role]), "{me}");
        // The key id is the `<id>` of `hvy_<id>_<secret>`.
        assert_eq!(me["key_id"], key.split('_').nth(1).unwrap(), "{me}");
    }
    let (code, _) = http.get_json("/v1/whoami", "hvy_nope").await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);

    let resp = http.get("/v1/keys", &k.admin).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.unwrap();
    let list: Value = serde_json::from_str(&text).unwrap();
    let names: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "enrollment-pipeline",
            "ines-investigator",
            "adam-adjudicator",
            "ada-admin"
        ]
    );
    assert_eq!(list[3]["roles"], json!(["admin"]));
    assert!(list[0]["created_at"].is_string() && list[0]["revoked_at"].is_null());
    for key in [&k.enroller, &k.investigator, &k.adjudicator, &k.admin] {
        let secret = key.rsplit('_').next().unwrap();
        assert!(!text.contains(secret), "a secret leaked: {text}");
    }
    assert!(
        !text.contains("sha256:") && !text.contains("hash"),
        "{text}"
    );
    for key in [&k.enroller, &k.investigator, &k.adjudicator] {
        let (code, _) = http.get_json("/v1/keys", key).await;
        assert_eq!(code, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn the_openapi_document_names_the_console_endpoints() {
    let s = service();
    let (_, doc) = s.call("GET", "/v1/openapi.json", None, None).await;
    for path in [
        "/v1/enrollments/{reference_id}/fingers/{position}/image",
        "/v1/whoami",
        "/v1/keys",
        "/v1/audit/state",
        "/v1/eval/det",
        "/v1/eval/det/{name}",
    ] {
        assert!(doc["paths"][path].is_object(), "openapi lacks {path}");
    }
    assert!(doc["paths"]["/v1/enrollments"]["get"].is_object());
    let stats = &doc["components"]["schemas"]["StatsResponse"]["properties"];
    assert!(stats["evidence_images"].is_object() && stats["evidence_bytes"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_state_verifies_the_chain_and_reports_an_edit() {
    let s = service();
    let k = s.keys.clone();
    let http = Http::of(&s).await;
    for (id, person) in [("au-1", 401), ("au-2", 402), ("au-3", 403)] {
        let (code, _) = http
            .json(
                M::POST,
                "/v1/enrollments",
                &k.enroller,
                Some(&enrollment(id, person, 0)),
            )
            .await;
        assert_eq!(code, StatusCode::CREATED);
    }
    let (code, state) = http.get_json("/v1/audit/state", &k.admin).await;
    assert_eq!(code, StatusCode::OK, "{state}");
    assert_eq!(state["intact"], true, "{state}");
    assert_eq!(state["entries"], 3, "{state}");
    assert_eq!(state["problem"], Value::Null);
    let head = state["head"].as_str().unwrap();
    assert!(head.len() == 64 && head.bytes().all(|b| b.is_ascii_hexdigit()));

    // Someone edits the second entry in place.
    let log = s.dir.path().join(hoviyat_server::audit::LOG_FILE);
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, text.replacen("au-2", "au-X", 1)).unwrap();
    let (_, state) = http.get_json("/v1/audit/state", &k.admin).await;
    assert_eq!(state["intact"], false, "{state}");
    assert!(
        state["problem"].as_str().unwrap().contains("line 3"),
        "the entry after the edited one breaks: {state}"
    );
    for key in [&k.enroller, &k.investigator, &k.adjudicator] {
        let (code, _) = http.get_json("/v1/audit/state", key).await;
        assert_eq!(code, StatusCode::FORBIDDEN);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn det_plots_are_listed_and_served_and_nothing_outside_their_folder() {
    let root = tempfile::tempdir().unwrap();
    let plots = root.path().join("det");
    std::fs::create_dir(&plots).unwrap();
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><path d=\"M0 0L1 1\"/></svg>";
    std::fs::write(plots.join("DB1_B.svg"), svg).unwrap();
    std::fs::write(plots.join("DB2_B.svg"), svg).unwrap();
    std::fs::write(plots.join("notes.txt"), b"not a plot").unwrap();
    std::fs::write(root.path().join("secret.svg"), b"outside").unwrap();

    let dir = tempfile::tempdir().unwrap();
    let keys = make_keys(dir.path());
    let config = AbisConfig {
        face_dim: Some(FACE_DIM),
        ..AbisConfig::default()
    };
    let state = Arc::new(
        AppState::open(dir.path(), Limits::default(), &config)
            .unwrap()
            .with_det_dir(Some(plots)),
    );
    let s = Service {
        dir,
        app: router(Arc::clone(&state)),
        state,
        keys: keys.clone(),
    };
    let http = Http::of(&s).await;

    let (code, list) = http.get_json("/v1/eval/det", &keys.admin).await;
    assert_eq!(code, StatusCode::OK, "{list}");
    assert_eq!(list, json!({"plots": ["DB1_B.svg", "DB2_B.svg"]}));
    let resp = http.get("/v1/eval/det/DB1_B.svg", &keys.admin).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let h = resp.headers().clone();
    assert_eq!(h["content-type"], "image/svg+xml");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-security-policy"], "sandbox");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), svg);

    // Traversal, however spelled, is refused by name.
    for name in [
        "..%2Fsecret.svg",
        "%2E%2E%2Fsecret.svg",
        "..%5Csecret.svg",
        "notes.txt",
    ] {
        let (code, err) = http
            .get_json(&format!("/v1/eval/det/{name}"), &keys.admin)
            .await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {err}");
        assert_eq!(err["field"], "name", "{name}: {err}");
    }
    let (code, _) = http.get_json("/v1/eval/det/DB3_B.svg", &keys.admin).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    for key in [&keys.enroller, &keys.investigator, &keys.adjudicator] {
        let (code, _) = http.get_json("/v1/eval/det", key).await;
        assert_eq!(code, StatusCode::FORBIDDEN);
        let (code, _) = http.get_json("/v1/eval/det/DB1_B.svg", key).await;
        assert_eq!(code, StatusCode::FORBIDDEN);
    }

    // Without --det-dir there is nothing to list.
    let plain = service();
    let http = Http::of(&plain).await;
    let (code, err) = http.get_json("/v1/eval/det", &plain.keys.admin).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "{err}");
    assert_eq!(err["error"], "det_not_configured");
}

/// `hoviyat serve --det-dir DIR` serves DIR's plots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_det_dir_flag_serves_the_folder() {
    let data = tempfile::tempdir().unwrap();
    let keys = make_keys(data.path());
    let plots = tempfile::tempdir().unwrap();
    std::fs::write(plots.path().join("DB4_B.svg"), b"<svg/>").unwrap();
    let (mut child, addr) = crate::crash::start_with(
        data.path(),
        &["--det-dir".as_ref(), plots.path().as_os_str()],
    );
    let answer = reqwest::Client::new()
        .get(format!("http://{addr}/v1/eval/det"))
        .bearer_auth(&keys.admin)
        .send()
        .await
        .unwrap();
    let status = answer.status();
    let body: Value = answer.json().await.unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"plots": ["DB4_B.svg"]}));
}
