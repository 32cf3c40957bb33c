//! The dedup flow over a real socket with a real HTTP client: enroll, a
//! duplicate is held, adjudicated, then found by identify; verify; delete;
//! and the audit trail of it all.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{enrollment, face, service};

async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    key: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = client.request(method, url).bearer_auth(key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enroll_hold_adjudicate_identify_verify_delete_over_http() {
    let s = service();
    let base = format!("http://{}", s.listen().await);
    let c = reqwest::Client::new();
    let k = s.keys.clone();
    use reqwest::Method as M;

    // Three distinct people are cleared.
    for (i, person) in [(1, 101), (2, 102), (3, 103)] {
        let (code, body) = send(
            &c,
            M::POST,
            format!("{base}/v1/enrollments"),
            &k.enroller,
            Some(enrollment(&format!("p-{i}"), person, 0)),
        )
        .await;
        assert_eq!(code, StatusCode::CREATED, "{body}");
        assert_eq!(body["status"], "cleared");
    }
    // Person 102 again under a new id: held, with p-2 as the candidate.
    let (code, held) = send(
        &c,
        M::POST,
        format!("{base}/v1/enrollments"),
        &k.enroller,
        Some(enrollment("p-4", 102, 1)),
    )
    .await;
    assert_eq!(code, StatusCode::ACCEPTED);
    assert_eq!(held["status"], "potential_duplicate");
    // The enroller is told how many, not who: enrolling is no 1:N search.
    assert!(held.get("candidates").is_none(), "{held}");
    assert!(held["candidate_count"].as_u64().unwrap() >= 1, "{held}");
    let (code, status) = send(
        &c,
        M::GET,
        format!("{base}/v1/enrollments/p-4"),
        &k.investigator,
        None,
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(status["candidates"][0]["reference_id"], "p-2");

    // Held records are not searchable as distinct people.
    let probe = json!({ "face": face(102, 2), "mode": "identification" });
    let (code, found) = send(
        &c,
        M::POST,
        format!("{base}/v1/identify"),
        &k.investigator,
        Some(probe.clone()),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let ids: Vec<_> = found["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["reference_id"].clone())
        .collect();
    assert_eq!(ids, vec![json!("p-2")]);

    // The adjudicator confirms the duplicate: kept, never cleared.
    let (code, adj) = send(
        &c,
        M::POST,
        format!("{base}/v1/enrollments/p-4/adjudication"),
        &k.adjudicator,
        Some(json!({ "verdict": "duplicate", "comment": "same face, second application" })),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{adj}");
    assert_eq!(adj["status"], "confirmed_duplicate");
    assert_eq!(adj["adjudication"]["by"], "adam-adjudicator");
    let (code, _) = send(
        &c,
        M::POST,
        format!("{base}/v1/enrollments/p-4/adjudication"),
        &k.adjudicator,
        Some(json!({ "verdict": "distinct" })),
    )
    .await;
    assert_eq!(
        code,
        StatusCode::CONFLICT,
        "a decided enrollment cannot be adjudicated again"
    );

    // A second look-alike judged distinct is inserted and becomes searchable.
    let (code, held) = send(
        &c,
        M::POST,
        format!("{base}/v1/enrollments"),
        &k.enroller,
        Some(enrollment("p-5", 103, 1)),
    )
    .await;
    assert_eq!(code, StatusCode::ACCEPTED, "{held}");
    let (code, adj) = send(
        &c,
        M::POST,
        format!("{base}/v1/enrollments/p-5/adjudication"),
        &k.adjudicator,
        Some(json!({ "verdict": "distinct", "comment": "twins" })),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(adj["status"], "cleared");
    let probe = json!({ "face": face(103, 3), "mode": "investigation", "max_candidates": 2 });
    let (_, found) = send(
        &c,
        M::POST,
        format!("{base}/v1/identify"),
        &k.investigator,
        Some(probe),
    )
    .await;
    let mut ids: Vec<String> = found["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["reference_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    assert_eq!(ids, vec!["p-3", "p-5"]);
    assert_eq!(found["candidates"][0]["rank"], 1);

    // Restricted search sees only the named ids.
    let probe = json!({ "face": face(103, 3), "restrict_to": ["p-1"] });
    let (_, found) = send(
        &c,
        M::POST,
        format!("{base}/v1/identify"),
        &k.investigator,
        Some(probe),
    )
    .await;
    assert_eq!(found["gallery_size"], 1);

    // Verify 1:1.
    let (code, v) = send(
        &c,
        M::POST,
        format!("{base}/v1/verify"),
        &k.investigator,
        Some(json!({ "reference_id": "p-1", "face": face(101, 4) })),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(v["is_match"], true);
    let (_, v) = send(
        &c,
        M::POST,
        format!("{base}/v1/verify"),
        &k.investigator,
        Some(json!({ "reference_id": "p-1", "face": face(102, 4) })),
    )
    .await;
    assert_eq!(v["is_match"], false);

    // Delete: status deleted, no longer found.
    let (code, del) = send(
        &c,
        M::DELETE,
        format!("{base}/v1/enrollments/p-1"),
        &k.admin,
        None,
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(del["status"], "deleted");
    let (_, st) = send(
        &c,
        M::GET,
        format!("{base}/v1/enrollments/p-1"),
        &k.enroller,
        None,
    )
    .await;
    assert_eq!(st["status"], "deleted");
    let (_, found) = send(
        &c,
        M::POST,
        format!("{base}/v1/identify"),
        &k.investigator,
        Some(json!({ "face": face(101, 5), "mode": "identification" })),
    )
    .await;
    assert_eq!(found["candidates"].as_array().unwrap().len(), 0);

    // Stats.
    let (_, stats) = send(&c, M::GET, format!("{base}/v1/stats"), &k.admin, None).await;
    assert_eq!(stats["identities"], 3, "{stats}");
    assert_eq!(stats["held_enrollments"], 0);

    // The audit trail names who did what, and the chain is intact.
    let (_, audit) = send(
        &c,
        M::GET,
        format!("{base}/v1/audit?limit=1000"),
        &k.admin,
        None,
    )
    .await;
    let entries = audit.as_array().unwrap();
    let of = |endpoint: &str| entries.iter().filter(|e| e["endpoint"] == endpoint).count();
    assert_eq!(of("POST /v1/enrollments"), 5);
    assert_eq!(of("POST /v1/identify"), 4);
    assert_eq!(of("POST /v1/verify"), 2);
    assert_eq!(of("POST /v1/enrollments/{reference_id}/adjudication"), 2);
    assert_eq!(of("DELETE /v1/enrollments/{reference_id}"), 1);
    let search = entries
        .iter()
        .find(|e| e["endpoint"] == "POST /v1/identify")
        .unwrap();
    assert_eq!(search["actor_name"], "ines-investigator");
    assert_eq!(search["probe_sha256"].as_str().unwrap().len(), 64);
    assert!(search["gallery_size"].is_u64());
    let report = hoviyat_server::audit::verify(s.dir.path()).unwrap();
    assert!(report.intact);
    assert_eq!(report.entries as usize, entries.len());
}
