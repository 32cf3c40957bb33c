//! Atomic dedup: same-person enrollments submitted at the same moment are
//! never both cleared.

use std::sync::Arc;

use serde_json::Value;

use crate::common::{enrollment, service};

/// Pairs of same-person enrollments sent at once.
const PAIRS: u64 = 50;

async fn enroll_until_answered(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    body: Value,
) -> (u16, Value) {
    loop {
        let resp = client
            .post(url)
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        // A full queue answers 503 + Retry-After: retry, as a pipeline would.
        if status == 503 {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        }
        return (status, resp.json().await.unwrap_or(Value::Null));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_same_person_pairs_are_never_both_cleared() {
    let s = service();
    let url = format!("http://{}/v1/enrollments", s.listen().await);
    let client = reqwest::Client::new();
    let key: Arc<str> = s.keys.enroller.clone().into();
    let barrier = Arc::new(tokio::sync::Barrier::new((PAIRS * 2) as usize));
    let mut tasks = Vec::new();
    for pair in 0..PAIRS {
        for side in 0..2u64 {
            let (client, url, key, barrier) = (
                client.clone(),
                url.clone(),
                Arc::clone(&key),
                Arc::clone(&barrier),
            );
            let body = enrollment(&format!("pair-{pair}-{side}"), 5_000 + pair, side);
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let (status, body) = enroll_until_answered(&client, &url, &key, body).await;
                (pair, status, body)
            }));
        }
    }
    let mut cleared = vec![0u32; PAIRS as usize];
    let mut held = vec![0u32; PAIRS as usize];
    for t in tasks {
        let (pair, status, body) = t.await.unwrap();
        match (status, body["status"].as_str()) {
            (201, Some("cleared")) => cleared[pair as usize] += 1,
            (202, Some("potential_duplicate")) => held[pair as usize] += 1,
            other => panic!("pair {pair}: unexpected answer {other:?}"),
        }
    }
    for pair in 0..PAIRS as usize {
        assert!(
            cleared[pair] <= 1,
            "pair {pair}: both enrollments were cleared"
        );
        assert_eq!(cleared[pair] + held[pair], 2);
    }
}
