//! `hoviyat bench service`: the load generator's FNIR and FPIR are the
//! figures BENCHMARKS.md reports for the enrollment pipeline, so a small run
//! must find every re-enrollment's mate and hold no new person.

#[path = "support/cli.rs"]
mod cli;

use cli::{hoviyat, path_str};

#[test]
fn the_service_bench_finds_every_re_enrollments_mate() {
    let dir = tempfile::tempdir().unwrap();
    let out = hoviyat(&[
        "bench",
        "service",
        "--identities",
        "300",
        "--requests",
        "20",
        "--concurrency",
        "2",
        "--data",
        path_str(dir.path()),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &report["report"];
    assert_eq!(r["requests"], 20);
    assert_eq!(r["reenrollments"], 10);
    assert_eq!(r["errors"], 0, "{r}");
    assert_eq!(r["missed_reenrollments"], 0, "{r}");
    assert_eq!(r["false_holds"], 0, "{r}");
}
