//! The load generator of `hoviyat bench service`: drives a running service
//! over HTTP with a mix of new people and re-enrollments of enrolled ones,
//! and measures throughput, latency and the accuracy of the decisions.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hoviyat_models::EnrollmentRecord;
use serde::Serialize;
use serde_json::{Value, json};

/// One enrollment to send and what the right decision is.
#[derive(Debug, Clone)]
pub struct Job {
    pub body: Value,
    /// For a re-enrollment: the reference id of the enrolled mate.
    pub mate: Option<String>,
}

/// What a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    pub requests: usize,
    pub new_people: usize,
    pub reenrollments: usize,
    pub concurrency: usize,
    pub elapsed_s: f64,
    /// Decided enrollments per second (wall clock).
    pub dedups_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Re-enrollments cleared, or held without their mate among the candidates.
    pub missed_reenrollments: usize,
    /// `missed_reenrollments / reenrollments`.
    pub fnir: f64,
    /// New people held as potential duplicates.
    pub false_holds: usize,
    /// `false_holds / new_people`.
    pub fpir: f64,
    /// 503 answers that were retried.
    pub busy_retries: usize,
    /// Answers other than 201/202/503 (failures).
    pub errors: usize,
}

/// The request body of an enrollment record (fingers as minutiae JSON).
pub fn request_json(record: &EnrollmentRecord) -> Value {
    let fingers: Vec<Value> = record
        .fingers
        .iter()
        .map(|f| {
            json!({
                "position": f.position.code(),
                "minutiae": {
                    "width_px": f.width_px,
                    "height_px": f.height_px,
                    "dpi": f.dpi,
                    "quality": f.quality,
                    "minutiae": f.minutiae,
                }
            })
        })
        .collect();
    let missing: Vec<Value> = record
        .missing
        .iter()
        .map(|m| json!({ "position": m.position.code(), "reason": m.reason }))
        .collect();
    let mut body = json!({
        "reference_id": record.reference_id,
        "fingers": fingers,
        "missing": missing,
    });
    if let Some(face) = &record.face {
        body["face"] = json!({ "model": face.model, "values": face.values });
    }
    body
}

struct Outcome {
    latency: Duration,
    status: u16,
    body: Value,
    busy_retries: usize,
}

async fn send(client: &reqwest::Client, url: &str, key: &str, body: &Value) -> Outcome {
    let mut busy_retries = 0;
    loop {
        let start = Instant::now();
        let resp = client.post(url).bearer_auth(key).json(body).send().await;
        let latency = start.elapsed();
        match resp {
            Ok(r) if r.status().as_u16() == 503 => {
                busy_retries += 1;
                let wait_s = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(1);
                tokio::time::sleep(Duration::from_millis(wait_s.min(5) * 200)).await;
            }
            Ok(r) => {
                let status = r.status().as_u16();
                let body = r.json().await.unwrap_or(Value::Null);
                return Outcome {
                    latency,
                    status,
                    body,
                    busy_retries,
                };
            }
            Err(e) => {
                return Outcome {
                    latency,
                    status: 0,
                    body: json!({ "error": e.to_string() }),
                    busy_retries,
                };
            }
        }
    }
}

fn percentile_ms(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    // Nearest rank.
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1e3
}

/// Sends `jobs` to `base_url` with `concurrency` requests in flight.
pub async fn drive(base_url: &str, key: &str, jobs: Vec<Job>, concurrency: usize) -> LoadReport {
    let url = format!("{}/v1/enrollments", base_url.trim_end_matches('/'));
    let client = reqwest::Client::new();
    let total = jobs.len();
    let new_people = jobs.iter().filter(|j| j.mate.is_none()).count();
    let queue = Arc::new(std::sync::Mutex::new(jobs.into_iter()));
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (queue, client, url, key) = (
            Arc::clone(&queue),
            client.clone(),
            url.clone(),
            key.to_owned(),
        );
        workers.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let job = queue.lock().unwrap_or_else(|p| p.into_inner()).next();
                let Some(job) = job else { break };
                let outcome = send(&client, &url, &key, &job.body).await;
                out.push((job, outcome));
            }
            out
        }));
    }
    let mut results = Vec::with_capacity(total);
    for w in workers {
        if let Ok(r) = w.await {
            results.extend(r);
        }
    }
    let elapsed = start.elapsed();
    let mut latencies: Vec<Duration> = Vec::new();
    let (mut missed, mut false_holds, mut busy, mut errors) = (0, 0, 0, 0);
    for (job, o) in &results {
        busy += o.busy_retries;
        if o.status != 201 && o.status != 202 {
            errors += 1;
            if let Some(mate) = &job.mate {
                tracing::warn!(status = o.status, %mate, body = %o.body, "enrollment failed");
            }
            continue;
        }
        latencies.push(o.latency);
        let held = o.body["status"] == "potential_duplicate";
        match &job.mate {
            Some(mate) => {
                let found = o.body["candidates"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|c| c["reference_id"] == mate.as_str()));
                if !(held && found) {
                    missed += 1;
                }
            }
            None => {
                if held {
                    false_holds += 1;
                }
            }
        }
    }
    latencies.sort();
    let reenrollments = total - new_people;
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    LoadReport {
        requests: total,
        new_people,
        reenrollments,
        concurrency,
        elapsed_s: elapsed.as_secs_f64(),
        dedups_per_s: latencies.len() as f64 / elapsed.as_secs_f64().max(1e-9),
        p50_ms: percentile_ms(&latencies, 0.50),
        p99_ms: percentile_ms(&latencies, 0.99),
        max_ms: latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        missed_reenrollments: missed,
        fnir: ratio(missed, reenrollments),
        false_holds,
        fpir: ratio(false_holds, new_people),
        busy_retries: busy,
        errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let d: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile_ms(&d, 0.5), 50.0);
        assert_eq!(percentile_ms(&d, 0.99), 99.0);
        assert_eq!(percentile_ms(&d[..1], 0.99), 1.0);
        assert_eq!(percentile_ms(&[], 0.5), 0.0);
    }
}
