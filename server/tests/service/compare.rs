//! Match explanation over a real socket: `/v1/compare` on submitted and
//! stored fingers (held enrollments too), its errors, roles and audit, and
//! `"explain": true` on identify and verify.

use hoviyat_datasets::synth::fingerprint::{FingerprintConfig, SyntheticFinger};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Service, enrollment, finger, png_base64, service};

async fn post(base: &str, path: &str, key: Option<&str>, body: &Value) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(body);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn image_sample(finger: &SyntheticFinger, impression: u32, cfg: &FingerprintConfig) -> Value {
    let image = finger.impression(impression, cfg).image;
    json!({ "position": 3, "image": { "data": png_base64(&image), "dpi": 500 } })
}

fn stored(reference_id: &str, position: u8) -> Value {
    json!({ "reference_id": reference_id, "position": position })
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

/// Every pair names a minutia of each side, and the alignment carries the
/// gallery's into the probe's within `tolerance_px`.
fn check_pairs(
    alignment: &Value,
    pairs: &Value,
    probe: &Value,
    gallery: &Value,
    tolerance_px: f64,
) {
    let (r, k) = (f(&alignment["rotation_rad"]), f(&alignment["scale"]));
    let (dx, dy) = (f(&alignment["dx_px"]), f(&alignment["dy_px"]));
    let holds =
        |side: &Value, p: &Value| {
            side["minutiae"].as_array().unwrap().iter().any(|m| {
                (f(&m["x_px"]) - f(&p["x_px"])).hypot(f(&m["y_px"]) - f(&p["y_px"])) < 1e-3
            })
        };
    for pair in pairs.as_array().unwrap() {
        let (p, g) = (&pair["probe"], &pair["gallery"]);
        assert!(holds(probe, p), "{p} is no probe minutia");
        assert!(holds(gallery, g), "{g} is no gallery minutia");
        let (x, y) = (f(&g["x_px"]), f(&g["y_px"]));
        let mx = k * (r.cos() * x + r.sin() * y) + dx;
        let my = k * (-r.sin() * x + r.cos() * y) + dy;
        let off = (mx - f(&p["x_px"])).hypot(my - f(&p["y_px"]));
        assert!(
            off < tolerance_px,
            "pair {pair} lies {off} px off {alignment}"
        );
    }
}

/// Two people cleared (`s-1`, `s-2`) and a second capture of `s-2` held
/// (`s-3`).
async fn enrolled(s: &Service, base: &str) {
    for (id, person, capture, status) in [
        ("s-1", 301, 0, "cleared"),
        ("s-2", 302, 0, "cleared"),
        ("s-3", 302, 1, "potential_duplicate"),
    ] {
        let (code, body) = post(
            base,
            "/v1/enrollments",
            Some(&s.keys.enroller),
            &enrollment(id, person, capture),
        )
        .await;
        assert!(code.is_success(), "{id}: {body}");
        assert_eq!(body["status"], status, "{id}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_explains_mates_and_impostors_over_http() {
    let s = service();
    let base = format!("http://{}", s.listen().await);
    let k = s.keys.clone();
    let cfg = FingerprintConfig::default();
    let one = SyntheticFinger::new(21, 1, &cfg);
    let other = SyntheticFinger::new(21, 2, &cfg);

    // Two impressions of one finger: strong, many pairs that the
    // alignment carries onto each other.
    let body =
        json!({ "probe": image_sample(&one, 1, &cfg), "gallery": image_sample(&one, 2, &cfg) });
    let (code, mate) = post(&base, "/v1/compare", Some(&k.investigator), &body).await;
    assert_eq!(code, StatusCode::OK, "{mate}");
    let paired = mate["paired"].as_u64().unwrap();
    assert!(paired >= 10, "{paired} pairs");
    assert_eq!(mate["pairs"].as_array().unwrap().len() as u64, paired);
    assert!(f(&mate["fmr_estimate"]) < 1e-4, "{}", mate["fmr_estimate"]);
    let expected = 10f64.powf(-f(&mate["log10_fmr"]));
    assert!((f(&mate["fmr_estimate"]) / expected - 1.0).abs() < 1e-6);
    assert!(!mate["probe"]["minutiae"].as_array().unwrap().is_empty());
    assert_eq!(mate["gallery"]["position"], 3);
    // A submitted finger has no kept image.
    assert_eq!(mate["gallery"]["has_image"], false);
    assert!(
        mate["gallery"].get("reference_id").is_none(),
        "{}",
        mate["gallery"]
    );
    // Real impressions are distorted: pairs follow the alignment loosely.
    check_pairs(
        &mate["alignment"],
        &mate["pairs"],
        &mate["probe"],
        &mate["gallery"],
        30.0,
    );

    // Two different fingers: weak.
    let body =
        json!({ "probe": image_sample(&one, 1, &cfg), "gallery": image_sample(&other, 1, &cfg) });
    let (code, impostor) = post(&base, "/v1/compare", Some(&k.investigator), &body).await;
    assert_eq!(code, StatusCode::OK, "{impostor}");
    assert!(f(&impostor["log10_fmr"]) < 3.0, "{impostor}");
    assert!(f(&impostor["score"]) < f(&mate["score"]));
    assert!(impostor["paired"].as_u64().unwrap() * 3 < paired);

    // The compare is a search: audited, with who and what.
    let resp = reqwest::Client::new()
        .get(format!("{base}/v1/audit?after=0&limit=1000"))
        .bearer_auth(&k.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let log: Value = resp.json().await.unwrap();
    let compares: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["endpoint"] == "POST /v1/compare")
        .collect();
    assert_eq!(compares.len(), 2, "{log}");
    assert_eq!(compares[0]["actor_name"], "ines-investigator");
    assert_eq!(compares[0]["outcome"], format!("{paired} pairs"));
    assert!(compares[0]["probe_sha256"].as_str().unwrap().len() == 64);
}

/// A stored finger whose image the evidence store keeps says so, in the
/// compare answer and in a search's explanation, so that a console can
/// draw the print; a template-only finger does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_and_explain_say_which_stored_fingers_have_an_image() {
    let s = service();
    let base = format!("http://{}", s.listen().await);
    let k = s.keys.clone();
    let cfg = FingerprintConfig::default();
    let one = SyntheticFinger::new(23, 1, &cfg);
    let body = json!({ "reference_id": "img-1", "fingers": [image_sample(&one, 1, &cfg)] });
    let (code, answer) = post(&base, "/v1/enrollments", Some(&k.enroller), &body).await;
    assert!(code.is_success(), "{answer}");
    enrolled(&s, &base).await;

    let body = json!({ "probe": image_sample(&one, 2, &cfg), "gallery": stored("img-1", 3) });
    let (code, with_image) = post(&base, "/v1/compare", Some(&k.investigator), &body).await;
    assert_eq!(code, StatusCode::OK, "{with_image}");
    assert_eq!(with_image["gallery"]["has_image"], true, "{with_image}");
    let body = json!({ "probe": finger(301, 1, 2), "gallery": stored("s-1", 1) });
    let (code, template_only) = post(&base, "/v1/compare", Some(&k.investigator), &body).await;
    assert_eq!(code, StatusCode::OK, "{template_only}");
    assert_eq!(template_only["gallery"]["has_image"], false);

    let body =
        json!({ "fingers": [image_sample(&one, 2, &cfg)], "max_candidates": 3, "explain": true });
    let (code, found) = post(&base, "/v1/identify", Some(&k.investigator), &body).await;
    assert_eq!(code, StatusCode::OK, "{found}");
    let mate = &found["candidates"][0];
    assert_eq!(mate["reference_id"], "img-1", "{found}");
    assert_eq!(
        mate["fingers"][0]["explain"]["gallery"]["has_image"], true,
        "{mate}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_and_held_fingers_compare_and_errors_name_the_field() {
    let s = service();
    let base = format!("http://{}", s.listen().await);
    let k = s.keys.clone();
    enrolled(&s, &base).await;

    // A fresh capture against a stored finger.
    let body = json!({ "probe": finger(301, 1, 2), "gallery": stored("s-1", 1) });
    let (code, answer) = post(&base, "/v1/compare", Some(&k.investigator), &body).await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert!(f(&answer["log10_fmr"]) > 4.0, "{answer}");
    assert_eq!(answer["gallery"]["reference_id"], "s-1");
    assert_eq!(answer["gallery"]["position"], 1);
    assert_eq!(answer["gallery"]["minutiae"].as_array().unwrap().len(), 40);
    // Captures of one finger differ by a pixel or two and no rotation.
    check_pairs(
        &answer["alignment"],
        &answer["pairs"],
        &answer["probe"],
        &answer["gallery"],
        6.0,
    );
    assert!(f(&answer["alignment"]["rotation_rad"]).abs() < 0.05);
    assert!((f(&answer["alignment"]["scale"]) - 1.0).abs() < 0.05);

    // An adjudicator compares the held enrollment with its candidate, and
    // with someone else.
    let body = json!({ "probe": stored("s-3", 2), "gallery": stored("s-2", 2) });
    let (code, held) = post(&base, "/v1/compare", Some(&k.adjudicator), &body).await;
    assert_eq!(code, StatusCode::OK, "{held}");
    assert!(f(&held["log10_fmr"]) > 4.0, "{held}");
    assert!(held["paired"].as_u64().unwrap() >= 20, "{held}");
    let body = json!({ "probe": stored("s-3", 2), "gallery": stored("s-1", 2) });
    let (code, apart) = post(&base, "/v1/compare", Some(&k.adjudicator), &body).await;
    assert_eq!(code, StatusCode::OK, "{apart}");
    assert!(f(&apart["log10_fmr"]) < 3.0, "{apart}");

    // Errors name the field.
    let minutiae = finger(301, 1, 0);
    let cases = [
        (
            json!({ "probe": { "minutiae": minutiae["minutiae"] }, "gallery": stored("s-1", 1) }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "probe.position",
        ),
        (
            json!({ "probe": { "position": 1, "image": { "data": "not base64!", "dpi": 500 } },
                    "gallery": stored("s-1", 1) }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "probe.image.data",
        ),
        (
            json!({ "probe": minutiae, "gallery": stored("nobody", 1) }),
            StatusCode::NOT_FOUND,
            "gallery.reference_id",
        ),
        (
            json!({ "probe": minutiae, "gallery": stored("s-1", 7) }),
            StatusCode::NOT_FOUND,
            "gallery.position",
        ),
        (
            json!({ "probe": minutiae,
                    "gallery": { "reference_id": "s-1", "position": 1, "minutiae": minutiae["minutiae"] } }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "gallery",
        ),
        (
            json!({ "probe": { "position": 1 }, "gallery": stored("s-1", 1) }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "probe",
        ),
    ];
    for (body, status, field) in cases {
        let (code, answer) = post(&base, "/v1/compare", Some(&k.investigator), &body).await;
        assert_eq!(code, status, "{body} -> {answer}");
        assert_eq!(answer["field"], field, "{body} -> {answer}");
    }

    // Investigators and adjudicators only.
    let body = json!({ "probe": finger(301, 1, 2), "gallery": stored("s-1", 1) });
    for key in [&k.enroller, &k.admin] {
        let (code, answer) = post(&base, "/v1/compare", Some(key), &body).await;
        assert_eq!(code, StatusCode::FORBIDDEN, "{answer}");
    }
    let (code, _) = post(&base, "/v1/compare", None, &body).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identify_and_verify_explain_each_finger_score_when_asked() {
    let s = service();
    let base = format!("http://{}", s.listen().await);
    let k = s.keys.clone();
    enrolled(&s, &base).await;
    let fingers = json!([finger(301, 1, 3), finger(301, 2, 3)]);

    let (code, plain) = post(
        &base,
        "/v1/identify",
        Some(&k.investigator),
        &json!({ "fingers": fingers, "max_candidates": 5 }),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{plain}");
    assert!(
        plain["candidates"][0]["fingers"][0]
            .get("explain")
            .is_none(),
        "{plain}"
    );

    let (code, found) = post(
        &base,
        "/v1/identify",
        Some(&k.investigator),
        &json!({ "fingers": fingers, "max_candidates": 5, "explain": true }),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{found}");
    let mate = &found["candidates"][0];
    assert_eq!(mate["reference_id"], "s-1", "{found}");
    for (i, score) in mate["fingers"].as_array().unwrap().iter().enumerate() {
        let e = &score["explain"];
        assert_eq!(e["gallery"]["reference_id"], "s-1");
        assert_eq!(e["gallery"]["position"], score["position"]);
        assert!(e["pairs"].as_array().unwrap().len() >= 20, "{e}");
        check_pairs(
            &e["alignment"],
            &e["pairs"],
            &json!({ "minutiae": fingers[i]["minutiae"]["minutiae"] }),
            &e["gallery"],
            6.0,
        );
    }
    // Every returned candidate is explained, impostors with few pairs.
    for c in found["candidates"].as_array().unwrap().iter().skip(1) {
        for score in c["fingers"].as_array().unwrap() {
            assert!(
                score["explain"]["pairs"].as_array().unwrap().len() < 20,
                "{c}"
            );
        }
    }

    let (code, verified) = post(
        &base,
        "/v1/verify",
        Some(&k.investigator),
        &json!({ "reference_id": "s-1", "fingers": fingers, "explain": true }),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{verified}");
    let e = &verified["fingers"][0]["explain"];
    assert_eq!(e["gallery"]["reference_id"], "s-1", "{verified}");
    assert!(e["pairs"].as_array().unwrap().len() >= 20, "{e}");
}
