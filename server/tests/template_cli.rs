//! `hoviyat template show|convert`, run as a binary on the committed sample.

use std::path::{Path, PathBuf};

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/tests/data/sample-iso2005.fmr")
}

#[path = "support/cli.rs"]
mod cli;
use cli::{hoviyat, path_str};

fn show_json(path: &Path) -> serde_json::Value {
    let out = hoviyat(&["template", "show", path_str(path)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("show prints one JSON document")
}

#[test]
fn show_prints_the_sample_as_json_with_its_detected_format() {
    let doc = show_json(&sample());
    assert_eq!(doc["format"], "iso19794-2-2005");
    let fingers = doc["fingers"].as_array().expect("fingers array");
    assert_eq!(fingers.len(), 1);
    assert_eq!(fingers[0]["position"], 2);
    assert_eq!(fingers[0]["dpi"], 500);
    assert_eq!(fingers[0]["minutiae"].as_array().map(Vec::len), Some(8));
    assert_eq!(fingers[0]["minutiae"][0]["x_px"], 102.0);
}

#[test]
fn convert_to_json_and_back_reproduces_the_iso_record_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("sample.json");
    let iso = dir.path().join("sample.fmr");
    let out = hoviyat(&[
        "template",
        "convert",
        path_str(&sample()),
        path_str(&json),
        "--to",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = hoviyat(&[
        "template",
        "convert",
        path_str(&json),
        path_str(&iso),
        "--to",
        "iso19794-2-2005",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(&iso).unwrap(),
        std::fs::read(sample()).unwrap()
    );
}

#[test]
fn the_input_format_comes_from_content_not_from_the_file_name() {
    let dir = tempfile::tempdir().unwrap();
    // An ANSI record named like JSON, and JSON named like an ISO record.
    let ansi = dir.path().join("looks-like.json");
    let out = hoviyat(&[
        "template",
        "convert",
        path_str(&sample()),
        path_str(&ansi),
        "--to",
        "ansi378-2004",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = show_json(&ansi);
    assert_eq!(doc["format"], "ansi378-2004");
    assert_eq!(
        doc["fingers"][0]["minutiae"].as_array().map(Vec::len),
        Some(8)
    );

    let json = dir.path().join("looks-like.fmr");
    let out = hoviyat(&[
        "template",
        "convert",
        path_str(&ansi),
        path_str(&json),
        "--to",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(show_json(&json)["format"], "json");
}

#[test]
fn malformed_input_and_unknown_formats_fail_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(sample()).unwrap();
    bytes.truncate(bytes.len() - 7);
    let cut = dir.path().join("cut.fmr");
    std::fs::write(&cut, &bytes).unwrap();
    let out = hoviyat(&["template", "show", path_str(&cut)]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("record length"), "{stderr}");

    let out = hoviyat(&[
        "template",
        "convert",
        path_str(&sample()),
        path_str(&cut),
        "--to",
        "iso",
    ]);
    assert!(!out.status.success());
    let missing = dir.path().join("missing.fmr");
    let out = hoviyat(&["template", "show", path_str(&missing)]);
    assert!(!out.status.success());
}

/// With `--json`, `show` prints its document on one line and `convert`
/// reports what it wrote as one JSON object.
#[test]
fn json_output_is_one_line() {
    let out = hoviyat(&["template", "show", "--json", path_str(&sample())]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc, show_json(&sample()));

    let dir = tempfile::tempdir().unwrap();
    let ansi = dir.path().join("sample.ansi");
    let out = hoviyat(&[
        "template",
        "convert",
        path_str(&sample()),
        path_str(&ansi),
        "--to",
        "ansi378-2004",
        "--json",
    ]);
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["from"], "iso19794-2-2005");
    assert_eq!(report["to"], "ansi378-2004");
    assert_eq!(report["fingers"], 1);
    assert_eq!(
        report["bytes"],
        std::fs::metadata(&ansi).unwrap().len(),
        "{report}"
    );
}
