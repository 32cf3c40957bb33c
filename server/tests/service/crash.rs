//! Durability: SIGKILL the real `hoviyat serve` during an enrollment load;
//! after a restart every enrollment answered 201 is there, unchanged.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::common::{enrollment, make_keys};

/// Acknowledged enrollments before the kill.
const KILL_AFTER_ACKS: usize = 40;

/// Starts the binary on a free loopback port; returns it and its address.
pub(crate) fn start(dir: &Path) -> (Child, String) {
    start_with(dir, &[])
}

/// [`start`] with more `serve` arguments.
pub fn start_with(dir: &Path, extra: &[&std::ffi::OsStr]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hoviyat"))
        .args(["serve", "--listen", "127.0.0.1:0", "--face-dim"])
        .arg(crate::common::FACE_DIM.to_string())
        .arg("--data")
        .arg(dir)
        .args(extra)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .unwrap();
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_enrollment_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let keys = make_keys(dir.path());
    let (mut child, addr) = start(dir.path());
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/v1/enrollments");

    // Four writers enroll until the server dies under them.
    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    for w in 0..4u64 {
        let (client, url, key, stop, acks) = (
            client.clone(),
            url.clone(),
            keys.enroller.clone(),
            Arc::clone(&stop),
            Arc::clone(&acks),
        );
        writers.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                // Every 5th enrollment re-enrolls an earlier person: held.
                let person = if i % 5 == 4 {
                    w * 10_000 + i - 4
                } else {
                    w * 10_000 + i
                };
                let id = format!("crash-{w}-{i}");
                let Ok(resp) = client
                    .post(&url)
                    .bearer_auth(&key)
                    .json(&enrollment(&id, person, i % 5))
                    .send()
                    .await
                else {
                    break;
                };
                let status = resp.status().as_u16();
                let Ok(body) = resp.json::<Value>().await else {
                    break;
                };
                if status == 201 || status == 202 {
                    acks.fetch_add(1, Ordering::Relaxed);
                    acked.push((
                        id,
                        status,
                        body["status"].as_str().unwrap_or_default().to_owned(),
                    ));
                }
            }
            acked
        }));
    }
    // Kill in the middle of the load: once enough enrollments were
    // acknowledged that the test means something, with more in flight.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while acks.load(Ordering::Relaxed) < KILL_AFTER_ACKS && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL on Unix.
    child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    let mut acked = Vec::new();
    for w in writers {
        acked.extend(w.await.unwrap());
    }
    assert!(
        acked.len() >= 10,
        "only {} enrollments before the kill",
        acked.len()
    );

    let (mut child, addr) = start(dir.path());
    for (id, http_status, status) in &acked {
        let resp = client
            .get(format!("http://{addr}/v1/enrollments/{id}"))
            .bearer_auth(&keys.enroller)
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status().as_u16(),
            200,
            "{id} (answered {http_status}) is gone after restart"
        );
        let body: Value = resp.json().await.unwrap();
        assert_eq!(
            body["status"].as_str(),
            Some(status.as_str()),
            "{id} changed status"
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // The audit chain survived the kill too.
    assert!(hoviyat_server::audit::verify(dir.path()).unwrap().intact);
}
