//! Fixtures: a service on a temporary data directory with one key per role,
//! seeded synthetic probes, and a small client for `oneshot` calls.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use hoviyat_server::app::{AppState, router};
use hoviyat_server::engine::AbisConfig;
use hoviyat_server::keys::{self, Role};
use hoviyat_server::limits::Limits;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// One key per role, plus one holding them all.
#[derive(Debug, Clone)]
pub struct Keys {
    pub enroller: String,
    pub investigator: String,
    pub adjudicator: String,
    pub admin: String,
}

#[derive(Debug)]
pub struct Service {
    pub dir: tempfile::TempDir,
    pub app: Router,
    pub state: Arc<AppState>,
    pub keys: Keys,
}

pub fn make_keys(dir: &std::path::Path) -> Keys {
    let add = |name: &str, role: Role| keys::add(dir, name, &[role]).unwrap().1;
    Keys {
        enroller: add("enrollment-pipeline", Role::Enroller),
        investigator: add("ines-investigator", Role::Investigator),
        adjudicator: add("adam-adjudicator", Role::Adjudicator),
        admin: add("ada-admin", Role::Admin),
    }
}

pub fn service_with(limits: Limits) -> Service {
    let dir = tempfile::tempdir().unwrap();
    let keys = make_keys(dir.path());
    let config = AbisConfig {
        face_dim: Some(FACE_DIM),
        ..AbisConfig::default()
    };
    let state = Arc::new(AppState::open(dir.path(), limits, &config).unwrap());
    let app = router(Arc::clone(&state));
    Service {
        dir,
        app,
        state,
        keys,
    }
}

pub fn service() -> Service {
    service_with(Limits::default())
}

impl Service {
    /// One request through the router, as `oneshot`.
    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap());
        self.raw(method, uri, key, Some("application/json"), bytes)
            .await
    }

    pub async fn raw(
        &self,
        method: &str,
        uri: &str,
        key: Option<&str>,
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(k) = key {
            req = req.header("authorization", format!("Bearer {k}"));
        }
        if body.is_some()
            && let Some(ct) = content_type
        {
            req = req.header("content-type", ct);
        }
        let req = req.body(body.map_or_else(Body::empty, Body::from)).unwrap();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value)
    }

    /// Serves the router on a loopback port for real HTTP clients.
    pub async fn listen(&self) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = self.app.clone();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }
}

/// Face embedding dimension of the fixtures.
pub const FACE_DIM: usize = 128;

/// A seeded face template of synthetic person `person`; `capture` > 0 adds
/// a small capture-to-capture variation.
pub fn face(person: u64, capture: u64) -> Value {
    let mut rng = rand::rngs::StdRng::seed_from_u64(person);
    let mut v: Vec<f32> = (0..FACE_DIM).map(|_| rng.random_range(-1.0..1.0)).collect();
    if capture > 0 {
        let mut noise = rand::rngs::StdRng::seed_from_u64(person ^ (capture << 32));
        for x in &mut v {
            *x += noise.random_range(-0.05..0.05);
        }
    }
    json!({ "model": "fixture-face-v1", "values": v })
}

/// Minutiae of finger `position` of synthetic person `person`, as the
/// `minutiae` input of a finger; `capture` > 0 jitters them slightly and
/// drops a few, as a second capture would.
pub fn finger(person: u64, position: u8, capture: u64) -> Value {
    let mut rng = rand::rngs::StdRng::seed_from_u64(person * 16 + u64::from(position));
    let mut noise =
        rand::rngs::StdRng::seed_from_u64(!(person * 16 + u64::from(position)) ^ capture);
    let minutiae: Vec<Value> = (0..40)
        .filter_map(|_| {
            let (x, y) = (
                rng.random_range(30.0..270.0f32),
                rng.random_range(30.0..370.0f32),
            );
            let angle = rng.random_range(0.0..std::f32::consts::TAU);
            let kind = if rng.random_bool(0.5) {
                "ending"
            } else {
                "bifurcation"
            };
            let (dx, dy, da) = if capture > 0 {
                (
                    noise.random_range(-1.5..1.5f32),
                    noise.random_range(-1.5..1.5f32),
                    noise.random_range(-0.08..0.08f32),
                )
            } else {
                (0.0, 0.0, 0.0)
            };
            let dropped = capture > 0 && noise.random_bool(0.1);
            (!dropped).then(|| {
                json!({
                    "x_px": x + dx, "y_px": y + dy,
                    "angle_rad": (angle + da).rem_euclid(std::f32::consts::TAU),
                    "kind": kind, "quality": 60
                })
            })
        })
        .collect();
    json!({
        "position": position,
        "minutiae": { "width_px": 300, "height_px": 400, "dpi": 500, "quality": 70, "minutiae": minutiae }
    })
}

/// An enrollment body of synthetic person `person` under `reference_id`
/// with all ten fingers and a face.
pub fn ten_finger_enrollment(reference_id: &str, person: u64) -> Value {
    json!({
        "reference_id": reference_id,
        "fingers": (1..=10).map(|p| finger(person, p, 0)).collect::<Vec<_>>(),
        "face": face(person, 0),
    })
}

impl Service {
    /// Waits until no request's work is queued or running (work goes on
    /// after its request was dropped).
    pub async fn settle(&self) {
        while self.state.work.pending() > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Reference ids with a decision entry in the audit log, by kind.
    pub fn audited(&self, kind: hoviyat_server::audit::AuditDecision) -> Vec<String> {
        self.state
            .audit
            .read(0, usize::MAX)
            .unwrap()
            .into_iter()
            .filter(|e| e.event.decision == Some(kind))
            .filter_map(|e| e.event.reference_id)
            .collect()
    }
}

/// An enrollment body of synthetic person `person` under `reference_id`:
/// two fingers and a face.
pub fn enrollment(reference_id: &str, person: u64, capture: u64) -> Value {
    json!({
        "reference_id": reference_id,
        "fingers": [finger(person, 1, capture), finger(person, 2, capture)],
        "face": face(person, capture),
    })
}

/// `image` as a PNG file, base64-encoded as the API takes it.
pub fn png_base64(image: &image::GrayImage) -> String {
    use base64::Engine as _;
    let mut bytes = Vec::new();
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
