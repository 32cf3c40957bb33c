//! `hoviyat synth fingerprints|population`, run as a binary into a temp dir.

use hoviyat_datasets::PopulationReader;
use hoviyat_datasets::synth::{GroundTruth, Population, PopulationConfig};
use hoviyat_models::binary::canonicalize;

#[path = "support/cli.rs"]
mod cli;
use cli::{hoviyat, path_str};

#[test]
fn fingerprints_writes_fvc_named_images_with_ground_truth() {
    let dir = tempfile::tempdir().unwrap();
    let out = hoviyat(&[
        "synth",
        "fingerprints",
        "--fingers",
        "1",
        "--impressions",
        "2",
        "--seed",
        "3",
        "--out",
        path_str(dir.path()),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["images"], 2);
    let entries = hoviyat_datasets::fvc::list(dir.path()).unwrap();
    assert_eq!(entries.len(), 2);
    for e in &entries {
        let img = e.load().unwrap();
        let gt: GroundTruth =
            serde_json::from_slice(&std::fs::read(e.path.with_extension("json")).unwrap()).unwrap();
        assert_eq!((gt.finger, gt.impression), (e.finger, e.impression));
        assert_eq!((gt.width_px, gt.height_px), img.dimensions());
        assert!(!gt.minutiae.is_empty());
    }
}

#[test]
fn population_file_holds_the_generator_records_and_bad_arguments_fail() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pop.hvp");
    let out = hoviyat(&[
        "synth",
        "population",
        "--identities",
        "5",
        "--seed",
        "8",
        "--face-dim",
        "64",
        "--out",
        path_str(&file),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["identities"], 5);
    let reader = PopulationReader::open(&file).unwrap();
    assert_eq!(reader.header().count, 5);
    assert_eq!(reader.header().face_dim, 64);
    let mut cfg = PopulationConfig::new(8, 5);
    if let Some(face) = cfg.face.as_mut() {
        face.dim = 64;
    }
    let pop = Population::new(cfg).unwrap();
    for (i, record) in reader.enumerate() {
        let want = canonicalize(&pop.identity(i as u64)).unwrap();
        assert_eq!(record.unwrap(), want);
    }

    let bad = hoviyat(&[
        "synth",
        "population",
        "--identities",
        "2",
        "--face-genuine-cosine",
        "1.5",
        "--out",
        path_str(&dir.path().join("bad.hvp")),
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("genuine_cosine"));
}
