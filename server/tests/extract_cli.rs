//! `hoviyat extract`, run as a binary on a seeded synthetic print.

#[path = "support/cli.rs"]
mod cli;
use cli::{hoviyat, path_str};

/// Writes one seeded synthetic impression into `dir`; returns its path.
fn synthetic_print(dir: &std::path::Path) -> std::path::PathBuf {
    let out = hoviyat(&[
        "synth",
        "fingerprints",
        "--fingers",
        "1",
        "--impressions",
        "1",
        "--seed",
        "5",
        "--out",
        path_str(dir),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let entries = hoviyat_datasets::fvc::list(dir).expect("the synthetic folder lists");
    entries
        .first()
        .expect("synth wrote one impression")
        .path
        .clone()
}

#[test]
fn json_flag_prints_one_object_per_image_like_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let image = synthetic_print(dir.path());
    let plain = hoviyat(&["extract", path_str(&image)]);
    let flagged = hoviyat(&["extract", "--json", path_str(&image), path_str(&image)]);
    assert!(
        plain.status.success() && flagged.status.success(),
        "{}",
        String::from_utf8_lossy(&flagged.stderr)
    );
    let first: serde_json::Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert!(!first["minutiae"].as_array().unwrap().is_empty());
    let lines: Vec<serde_json::Value> = String::from_utf8(flagged.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "one line per image");
    for line in &lines {
        assert_eq!(line["minutiae"], first["minutiae"]);
    }
}

#[test]
fn json_flag_with_a_record_format_fails_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let image = synthetic_print(dir.path());
    let out = hoviyat(&[
        "extract",
        "--json",
        "--format",
        "iso19794-2-2005",
        path_str(&image),
    ]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let reason = String::from_utf8_lossy(&out.stderr);
    assert!(reason.contains("--json"), "{reason}");
}

/// The template document output keeps what the JSON lines leave out (the
/// ridge map) and reads back as a template with the same minutiae.
#[test]
fn the_template_document_keeps_the_ridge_map() {
    let dir = tempfile::tempdir().unwrap();
    let image = synthetic_print(dir.path());
    let doc = dir.path().join("template.json");
    let out = hoviyat(&[
        "extract",
        "--format",
        "template-json",
        "--out",
        path_str(&doc),
        path_str(&image),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = hoviyat(&["extract", path_str(&image)]);
    let line: serde_json::Value = serde_json::from_slice(&line.stdout).unwrap();
    let shown = hoviyat(&["template", "show", path_str(&doc)]);
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    let finger = &shown["fingers"][0];
    assert_eq!(finger["minutiae"], line["minutiae"]);
    assert!(
        finger["ridge_map"]["cells"]
            .as_array()
            .is_some_and(|c| !c.is_empty()),
        "{finger}"
    );
    assert!(line.get("ridge_map").is_none());
}
