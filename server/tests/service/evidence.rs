//! The evidence store over a real socket: submitted images are kept and
//! served back as they were, template-only fingers have none, delete and
//! replays keep the counts honest, a failed write leaves nothing, and a
//! restart sweeps what a crash or a failed removal left behind.

use std::sync::Arc;

use base64::Engine as _;
use hoviyat_datasets::synth::fingerprint::{FingerprintConfig, SyntheticFinger};
use hoviyat_server::app::{AppState, router};
use hoviyat_server::engine::AbisConfig;
use hoviyat_server::evidence::{EVIDENCE_DIR, EvidenceImage, ImageFormat};
use hoviyat_server::limits::Limits;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{FACE_DIM, Service, finger, make_keys, service};

/// A client of one running service.
pub struct Http {
    pub base: String,
    pub client: reqwest::Client,
}

impl Http {
    pub async fn of(s: &Service) -> Self {
        Self {
            base: format!("http://{}", s.listen().await),
            client: reqwest::Client::new(),
        }
    }

    pub async fn get(&self, path: &str, key: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
    }

    /// A JSON request; the answer's status and JSON body.
    pub async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        key: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(key);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.unwrap();
        (resp.status(), resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn get_json(&self, path: &str, key: &str) -> (StatusCode, Value) {
        self.json(reqwest::Method::GET, path, key, None).await
    }

    pub async fn stats(&self, admin: &str) -> (u64, u64) {
        let (code, stats) = self.get_json("/v1/stats", admin).await;
        assert_eq!(code, StatusCode::OK, "{stats}");
        (
            stats["evidence_images"].as_u64().unwrap(),
            stats["evidence_bytes"].as_u64().unwrap(),
        )
    }
}

/// A synthetic print of `finger`, encoded as `format`.
fn print(finger: u64, format: image::ImageFormat) -> (image::GrayImage, Vec<u8>) {
    let cfg = FingerprintConfig::default();
    let gray = SyntheticFinger::new(finger, 1, &cfg)
        .impression(1, &cfg)
        .image;
    let mut bytes = Vec::new();
    image::DynamicImage::ImageLuma8(gray.clone())
        .write_to(&mut std::io::Cursor::new(&mut bytes), format)
        .unwrap();
    (gray, bytes)
}

fn image_finger(position: u8, bytes: &[u8]) -> Value {
    json!({
        "position": position,
        "image": { "data": base64::engine::general_purpose::STANDARD.encode(bytes), "dpi": 500 },
    })
}

fn evidence_entries(s: &Service) -> usize {
    std::fs::read_dir(s.dir.path().join(EVIDENCE_DIR))
        .unwrap()
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_are_kept_served_back_and_removed_with_the_enrollment() {
    let s = service();
    let k = s.keys.clone();
    let http = Http::of(&s).await;
    use reqwest::Method as M;

    let (_, png) = print(21, image::ImageFormat::Png);
    let body = json!({
        "reference_id": "ev-1",
        "fingers": [image_finger(2, &png), finger(21, 3, 0)],
    });
    let (code, answer) = http
        .json(M::POST, "/v1/enrollments", &k.enroller, Some(&body))
        .await;
    assert_eq!(code, StatusCode::CREATED, "{answer}");
    assert_eq!(http.stats(&k.admin).await, (1, png.len() as u64));

    // The status lists both fingers; only the one sent as an image has one.
    let (code, status) = http.get_json("/v1/enrollments/ev-1", &k.adjudicator).await;
    assert_eq!(code, StatusCode::OK, "{status}");
    let fingers = status["fingers"].as_array().unwrap();
    assert_eq!(fingers.len(), 2, "{status}");
    let by_position = |p: u64| {
        fingers
            .iter()
            .find(|f| f["position"] == p)
            .unwrap_or_else(|| panic!("no finger {p}: {status}"))
    };
    assert_eq!(by_position(2)["has_image"], true);
    assert!(by_position(2)["minutiae_count"].as_u64().unwrap() > 0);
    assert_eq!(by_position(3)["has_image"], false);
    assert_eq!(
        by_position(3)["minutiae_count"],
        answer_minutiae(&body, 1),
        "{status}"
    );

    // The image comes back byte for byte, by code or by name.
    for path in [
        "/v1/enrollments/ev-1/fingers/2/image",
        "/v1/enrollments/ev-1/fingers/right_index/image",
    ] {
        let resp = http.get(path, &k.investigator).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let h = resp.headers().clone();
        assert_eq!(h["content-type"], "image/png");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["cache-control"], "no-store");
        assert_eq!(resp.bytes().await.unwrap().as_ref(), png.as_slice());
    }
    // Reading biometric images leaves a trace.
    let reads = s
        .state
        .audit
        .read(0, usize::MAX)
        .unwrap()
        .into_iter()
        .filter(|e| e.event.outcome == "image of finger 2 read")
        .count();
    assert_eq!(reads, 2);

    // A template-only finger, a finger not enrolled, a bad position.
    let (code, err) = http
        .get_json("/v1/enrollments/ev-1/fingers/3/image", &k.admin)
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND, "{err}");
    assert_eq!(err["error"], "image_not_found");
    let (code, _) = http
        .get_json("/v1/enrollments/ev-1/fingers/4/image", &k.admin)
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let (code, err) = http
        .get_json("/v1/enrollments/ev-1/fingers/11/image", &k.admin)
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["field"], "position");
    let (code, err) = http
        .get_json("/v1/enrollments/nobody/fingers/2/image", &k.admin)
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND, "{err}");
    assert_eq!(err["error"], "reference_not_found");
    // An enroller submits prints but does not read them back.
    let resp = http
        .get("/v1/enrollments/ev-1/fingers/2/image", &k.enroller)
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    // A replay keeps one copy; a different body under the id changes nothing.
    let (code, _) = http
        .json(M::POST, "/v1/enrollments", &k.enroller, Some(&body))
        .await;
    assert_eq!(code, StatusCode::CREATED);
    assert_eq!(http.stats(&k.admin).await, (1, png.len() as u64));
    assert_eq!(evidence_entries(&s), 1);
    let (_, other_png) = print(22, image::ImageFormat::Png);
    let other = json!({ "reference_id": "ev-1", "fingers": [image_finger(2, &other_png)] });
    let (code, err) = http
        .json(M::POST, "/v1/enrollments", &k.enroller, Some(&other))
        .await;
    assert_eq!(code, StatusCode::CONFLICT, "{err}");
    let kept = http
        .get("/v1/enrollments/ev-1/fingers/2/image", &k.admin)
        .await;
    assert_eq!(kept.bytes().await.unwrap().as_ref(), png.as_slice());
    assert_eq!(http.stats(&k.admin).await, (1, png.len() as u64));

    // Delete removes the images from the API, the counts and the disk.
    let (code, _) = http
        .json(M::DELETE, "/v1/enrollments/ev-1", &k.admin, None)
        .await;
    assert_eq!(code, StatusCode::OK);
    let (code, _) = http
        .get_json("/v1/enrollments/ev-1/fingers/2/image", &k.admin)
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(http.stats(&k.admin).await, (0, 0));
    assert_eq!(evidence_entries(&s), 0);
    let (_, status) = http.get_json("/v1/enrollments/ev-1", &k.admin).await;
    assert_eq!(status["fingers"], json!([]), "{status}");
}

/// The minutiae count of finger `i` of an enrollment body sent as minutiae.
fn answer_minutiae(body: &Value, i: usize) -> Value {
    json!(
        body["fingers"][i]["minutiae"]["minutiae"]
            .as_array()
            .unwrap()
            .len()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jpeg_is_kept_as_sent_and_bmp_becomes_the_same_pixels_in_png() {
    let s = service();
    let k = s.keys.clone();
    let http = Http::of(&s).await;
    let (_, jpeg) = print(31, image::ImageFormat::Jpeg);
    let (gray, bmp) = print(32, image::ImageFormat::Bmp);
    let body = json!({
        "reference_id": "ev-formats",
        "fingers": [image_finger(1, &jpeg), image_finger(6, &bmp)],
    });
    let (code, answer) = http
        .json(
            reqwest::Method::POST,
            "/v1/enrollments",
            &k.enroller,
            Some(&body),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{answer}");

    let resp = http
        .get("/v1/enrollments/ev-formats/fingers/1/image", &k.adjudicator)
        .await;
    assert_eq!(resp.headers()["content-type"], "image/jpeg");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), jpeg.as_slice());

    let resp = http
        .get("/v1/enrollments/ev-formats/fingers/6/image", &k.adjudicator)
        .await;
    assert_eq!(resp.headers()["content-type"], "image/png");
    let png = resp.bytes().await.unwrap();
    assert_eq!(image::guess_format(&png).unwrap(), image::ImageFormat::Png);
    let back = image::load_from_memory(&png).unwrap().into_luma8();
    assert_eq!(back, gray, "re-encoding must be lossless");
    // The counts are of what is kept.
    assert_eq!(
        http.stats(&k.admin).await,
        (2, (jpeg.len() + png.len()) as u64)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_image_write_fails_the_enrollment_and_leaves_nothing() {
    let s = service();
    let k = s.keys.clone();
    let http = Http::of(&s).await;
    let (_, png) = print(41, image::ImageFormat::Png);
    let body = json!({ "reference_id": "ev-fail", "fingers": [image_finger(2, &png)] });

    // The store's directory is replaced by a file: nothing can be written.
    let dir = s.dir.path().join(EVIDENCE_DIR);
    std::fs::remove_dir(&dir).unwrap();
    std::fs::write(&dir, b"in the way").unwrap();
    let (code, err) = http
        .json(
            reqwest::Method::POST,
            "/v1/enrollments",
            &k.enroller,
            Some(&body),
        )
        .await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{err}");
    assert_eq!(err["error"], "evidence_unavailable");
    // No decision was taken or recorded: the id is free and unaudited.
    let (code, _) = http.get_json("/v1/enrollments/ev-fail", &k.admin).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert!(
        s.state
            .audit
            .read(0, usize::MAX)
            .unwrap()
            .iter()
            .all(|e| e.event.reference_id.as_deref() != Some("ev-fail"))
    );

    // Once the disk is back, the same request goes through.
    std::fs::remove_file(&dir).unwrap();
    std::fs::create_dir(&dir).unwrap();
    let (code, answer) = http
        .json(
            reqwest::Method::POST,
            "/v1/enrollments",
            &k.enroller,
            Some(&body),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{answer}");
    assert_eq!(http.stats(&k.admin).await, (1, png.len() as u64));
}

fn open(dir: &std::path::Path) -> Arc<AppState> {
    let config = AbisConfig {
        face_dim: Some(FACE_DIM),
        ..AbisConfig::default()
    };
    Arc::new(AppState::open(dir, Limits::default(), &config).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_sweeps_evidence_of_enrollments_that_are_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let keys = make_keys(dir.path());
    let (_, png) = print(51, image::ImageFormat::Png);
    let (_, other_png) = print(52, image::ImageFormat::Png);
    let before = {
        // The first run is driven in-process so that it can be dropped
        // whole, as a stopped process is.
        let state = open(dir.path());
        let s = Service {
            dir: tempfile::tempdir().unwrap(),
            app: router(Arc::clone(&state)),
            state: Arc::clone(&state),
            keys: keys.clone(),
        };
        for (id, print) in [("kept", &png), ("deleted", &other_png)] {
            let body = json!({ "reference_id": id, "fingers": [image_finger(2, print)] });
            let (code, answer) = s
                .call("POST", "/v1/enrollments", Some(&keys.enroller), Some(&body))
                .await;
            assert_eq!(code, StatusCode::CREATED, "{answer}");
        }
        // What a crash between writing the images and deciding leaves: the
        // images, written as the handler writes them, with no enrollment.
        state
            .evidence
            .put(
                "never-decided",
                &[EvidenceImage {
                    position: hoviyat_models::FingerPosition::RightIndex,
                    format: ImageFormat::Png,
                    bytes: png.clone(),
                }],
            )
            .unwrap();
        // A crash in the middle of writing: a temporary directory.
        std::fs::create_dir(state.evidence.dir().join(".tmp-crashed")).unwrap();
        // A delete whose image removal never happened.
        state.abis.delete("deleted").unwrap();
        let (_, stats) = s.call("GET", "/v1/stats", Some(&keys.admin), None).await;
        (
            stats["evidence_images"].clone(),
            stats["evidence_bytes"].clone(),
        )
    };
    assert_eq!(before, (json!(3), json!(2 * png.len() + other_png.len())));

    let state = open(dir.path());
    let s = Service {
        dir,
        app: router(Arc::clone(&state)),
        state,
        keys: keys.clone(),
    };
    let http = Http::of(&s).await;
    assert_eq!(http.stats(&keys.admin).await, (1, png.len() as u64));
    assert_eq!(evidence_entries(&s), 1);
    let resp = http
        .get("/v1/enrollments/kept/fingers/2/image", &keys.investigator)
        .await;
    assert_eq!(resp.bytes().await.unwrap().as_ref(), png.as_slice());
}

/// Acknowledged image enrollments before the kill.
const KILL_AFTER_IMAGE_ACKS: usize = 12;

/// SIGKILL the real binary while image enrollments are written: after a
/// restart every acknowledged enrollment has its image, byte for byte, and
/// no image is kept for an enrollment that is not stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_sigkill_images_and_enrollments_agree() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let keys = make_keys(dir.path());
    // Distinct fingers, so that every enrollment is decided (cleared).
    let prints: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..40)
            .map(|f| print(1000 + f, image::ImageFormat::Png).1)
            .collect(),
    );
    let (mut child, addr) = crate::crash::start_with(dir.path(), &[]);
    let client = reqwest::Client::new();
    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    for w in 0..2usize {
        let (client, addr, key, stop, acks, prints) = (
            client.clone(),
            addr.clone(),
            keys.enroller.clone(),
            Arc::clone(&stop),
            Arc::clone(&acks),
            Arc::clone(&prints),
        );
        writers.push(tokio::spawn(async move {
            let (mut acked, mut sent) = (Vec::new(), Vec::new());
            for i in (w..prints.len()).step_by(2) {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let id = format!("kill-{i}");
                sent.push(id.clone());
                let body = json!({ "reference_id": id, "fingers": [image_finger(7, &prints[i])] });
                let Ok(resp) = client
                    .post(format!("http://{addr}/v1/enrollments"))
                    .bearer_auth(&key)
                    .json(&body)
                    .send()
                    .await
                else {
                    break;
                };
                if resp.status().is_success() {
                    acks.fetch_add(1, Ordering::Relaxed);
                    acked.push(i);
                }
            }
            (acked, sent)
        }));
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while acks.load(Ordering::Relaxed) < KILL_AFTER_IMAGE_ACKS
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    child.kill().unwrap(); // SIGKILL on Unix.
    child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    let (mut acked, mut sent) = (Vec::new(), Vec::new());
    for w in writers {
        let (a, s) = w.await.unwrap();
        acked.extend(a);
        sent.extend(s);
    }
    assert!(acked.len() >= KILL_AFTER_IMAGE_ACKS / 2, "{acked:?}");

    let state = open(dir.path());
    let left_index = hoviyat_models::FingerPosition::LeftIndex;
    for i in &acked {
        let id = format!("kill-{i}");
        let kept = state.evidence.read(&id, left_index).unwrap();
        assert_eq!(
            kept.map(|(_, bytes)| bytes).as_deref(),
            Some(prints[*i].as_slice()),
            "{id} was acknowledged; its image must be kept"
        );
    }
    // Whatever was in flight: an image only with its enrollment.
    let mut stored = 0;
    for id in &sent {
        let is_stored = state.abis.enrollment(id).unwrap().is_some();
        let has_image = state.evidence.read(id, left_index).unwrap().is_some();
        assert_eq!(is_stored, has_image, "{id}");
        stored += u64::from(is_stored);
    }
    assert_eq!(state.evidence.totals().0, stored);
}
