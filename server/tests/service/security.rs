//! The outside test's findings: a wrong-secret flood, bodies beyond the
//! pending bound, what an enroller is told, look-alike reference ids, and
//! the smaller input checks.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use hoviyat_server::limits::Limits;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::common::{Service, enrollment, finger, service, service_with};

/// Peak resident memory of process `pid`, in KiB (Linux).
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_flood_stays_within_bounded_memory() {
    use argon2::password_hash::{PasswordHasher, SaltString};
    // A keys.json of an earlier release: its key is an argon2id hash, the
    // expensive kind to check.
    let dir = tempfile::tempdir().unwrap();
    let salt = SaltString::encode_b64(&[3u8; 16]).unwrap();
    let hash = argon2::Argon2::default()
        .hash_password("ab".repeat(32).as_bytes(), &salt)
        .unwrap()
        .to_string();
    let keys = json!({"version": 1, "keys": [{
        "id": "0123456789ab", "name": "old-admin", "roles": ["admin"], "hash": hash,
        "created_at": "2026-01-01T00:00:00Z"
    }]});
    std::fs::write(dir.path().join("keys.json"), keys.to_string()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hoviyat"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--face-dim",
            "0",
            "--data",
        ])
        .arg(dir.path())
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("server exited early").unwrap();
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let before = peak_rss_kib(child.id()).unwrap();

    let client = reqwest::Client::new();
    let wrong = format!("hvy_0123456789ab_{}", "cd".repeat(32));
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let (client, url, wrong) = (
            client.clone(),
            format!("http://{addr}/v1/stats"),
            wrong.clone(),
        );
        tasks.push(tokio::spawn(async move {
            client
                .get(url)
                .bearer_auth(wrong)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for t in tasks {
        let code = t.await.unwrap();
        assert!(
            code == StatusCode::UNAUTHORIZED || code == StatusCode::SERVICE_UNAVAILABLE,
            "{code}"
        );
    }
    // The right key still works.
    let ok = client
        .get(format!("http://{addr}/v1/stats"))
        .bearer_auth(format!("hvy_0123456789ab_{}", "ab".repeat(32)))
        .send()
        .await
        .unwrap()
        .status();
    let after = peak_rss_kib(child.id()).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(ok, StatusCode::OK);
    // argon2id takes 19 MiB per check: 200 at once would be ~3.8 GiB.
    let grown_mib = after.saturating_sub(before) / 1024;
    assert!(grown_mib < 300, "peak RSS grew by {grown_mib} MiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_beyond_the_pending_bound_are_refused_before_they_are_read() {
    let s = service_with(Limits {
        max_pending: 2,
        ..Limits::default()
    });
    let addr = s.listen().await;
    let declared = 12 * 1024 * 1024;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let key = s.keys.enroller.clone();
        tasks.push(tokio::task::spawn_blocking(move || {
            use std::io::{Read as _, Write as _};
            let stream = std::net::TcpStream::connect(addr).unwrap();
            let mut wr = stream.try_clone().unwrap();
            let mut rd = stream;
            let head = format!(
                "POST /v1/enrollments HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {key}\r\n\
                 content-type: application/json\r\ncontent-length: {declared}\r\n\r\n\
                 {{\"reference_id\": \"big-{i}\", \"fingers\": [{{\"position\": 1, \"image\": {{\"dpi\": 500, \"data\": \""
            );
            // Part of the body, then the client stalls: only the admitted
            // requests may wait for the rest.
            let writer = std::thread::spawn(move || {
                let _ = wr.write_all(head.as_bytes());
                let chunk = vec![b'A'; 64 * 1024];
                for _ in 0..64 {
                    if wr.write_all(&chunk).is_err() {
                        break;
                    }
                }
            });
            // Generous bound: an admitted request never answers here.
            rd.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut buf = vec![0u8; 1024];
            let n = rd.read(&mut buf).unwrap_or(0);
            let _ = rd.shutdown(std::net::Shutdown::Both);
            let _ = writer.join();
            String::from_utf8_lossy(&buf[..n]).into_owned()
        }));
    }
    let mut refused = 0;
    for t in tasks {
        let answer = t.await.unwrap();
        if answer.starts_with("HTTP/1.1 503") {
            assert!(
                answer.to_ascii_lowercase().contains("retry-after"),
                "{answer}"
            );
            refused += 1;
        }
    }
    assert!(
        refused >= 18,
        "only {refused} of 20 refused before their bodies"
    );
}

/// A oneshot request returning the status, the `Location` header and the body.
async fn post(
    s: &Service,
    uri: &str,
    key: &str,
    body: &Value,
) -> (StatusCode, Option<String>, Value) {
    let req = Request::builder()
        .method("POST")
        .uri(uri)
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(body).unwrap()))
        .unwrap();
    let resp = s.app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let location = resp
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        location,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn look_alike_reference_ids_over_http_get_an_escaped_location_or_422() {
    let s = service();
    let base = format!("http://{}", s.listen().await);
    let client = reqwest::Client::new();
    let send = |id: &str| {
        client
            .post(format!("{base}/v1/enrollments"))
            .bearer_auth(&s.keys.enroller)
            .json(&enrollment(id, 9, 0))
            .send()
    };
    let resp = send("\u{2067}app-0009").await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let resp = send("\u{0647}\u{0648}\u{06CC}\u{062A}-9").await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, "/v1/enrollments/%D9%87%D9%88%DB%8C%D8%AA-9");
    let status = client
        .get(format!("{base}{location}"))
        .bearer_auth(&s.keys.enroller)
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), StatusCode::OK);
}

#[tokio::test]
async fn look_alike_reference_ids_are_one_id_or_refused() {
    let s = service();
    let k = s.keys.clone();
    let (code, _, _) = post(
        &s,
        "/v1/enrollments",
        &k.enroller,
        &enrollment("app-0001", 1, 0),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED);
    for bad in [
        "app-0001\u{200B}",
        "\u{202E}app-0001",
        " app-0001",
        "app-0001 ",
        "app\u{2066}0001",
    ] {
        let (code, _, err) = post(&s, "/v1/enrollments", &k.enroller, &enrollment(bad, 2, 0)).await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}: {err}");
        assert_eq!(err["field"], "reference_id", "{bad:?}");
    }
    // Decomposed and composed forms are the same id; Location is escaped.
    let (code, location, answer) = post(
        &s,
        "/v1/enrollments",
        &k.enroller,
        &enrollment("rene\u{301}", 3, 0),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["reference_id"], "ren\u{E9}");
    assert_eq!(location.as_deref(), Some("/v1/enrollments/ren%C3%A9"));
    let (code, _, _) = post(
        &s,
        "/v1/enrollments",
        &k.enroller,
        &enrollment("ren\u{E9}", 4, 0),
    )
    .await;
    assert_eq!(code, StatusCode::CONFLICT);
    let (code, status) = s
        .call("GET", "/v1/enrollments/rene%CC%81", Some(&k.admin), None)
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(status["reference_id"], "ren\u{E9}");
    let (_, location, _) = post(
        &s,
        "/v1/enrollments",
        &k.enroller,
        &enrollment("a b/c?d", 5, 0),
    )
    .await;
    assert_eq!(location.as_deref(), Some("/v1/enrollments/a%20b%2Fc%3Fd"));
}

#[tokio::test]
async fn input_errors_name_the_right_field_and_status() {
    let s = service();
    let k = s.keys.clone();
    // An angle that is no direction.
    let mut f = finger(1, 1, 0);
    f["minutiae"]["minutiae"][0]["angle_rad"] = json!(1e30);
    let body = json!({"reference_id": "angle-1", "fingers": [f]});
    let (code, _, err) = post(&s, "/v1/enrollments", &k.enroller, &body).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["field"], "fingers[0].minutiae.minutiae[0].angle_rad");

    let png = |w: u32, h: u32| {
        let img = image::GrayImage::from_pixel(w, h, image::Luma([200u8]));
        let mut bytes = Vec::new();
        img.write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
        base64::engine::general_purpose::STANDARD.encode(bytes)
    };
    // Within the header limit (4096 px) but too large for the extractor at
    // its resolution: 413, as the header check answers.
    let body = json!({"reference_id": "img-big", "fingers": [
        {"position": 1, "image": {"data": png(3000, 64), "dpi": 500}}]});
    let (code, _, err) = post(&s, "/v1/enrollments", &k.enroller, &body).await;
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE, "{err}");
    assert_eq!(err["error"], "image_too_large");
    assert_eq!(err["field"], "fingers[0].image");
    let body = json!({"reference_id": "img-dpi", "fingers": [
        {"position": 1, "image": {"data": png(100, 100), "dpi": 50}}]});
    let (code, _, err) = post(&s, "/v1/enrollments", &k.enroller, &body).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["field"], "fingers[0].image.dpi");
}
