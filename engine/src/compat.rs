//! The committed sample galleries (`tests/data/gallery-vN`, one per format
//! version) still open, read back the rows prepared for them, take writes
//! and compact. The rows come from [`crate::prepare`], so these tests sit
//! above the store, which imports nothing from the layers that prepare rows.

use std::path::{Path, PathBuf};

use hoviyat_models::FingerPosition;

use crate::face::FaceCodec;
use crate::prepare::prepare_record;
use crate::store::test_support::{DIM, assert_row, config, record};
use crate::store::{GALLERY_FORMAT_VERSION, Gallery, LOCK_FILE, PreparedRecord};

/// The row the samples hold for seeded record `i`, prepared as the dedup
/// layer prepares it (real finger blobs and screening codes).
fn row(i: u64) -> PreparedRecord {
    let state = format!("{{\"n\":{i}}}").into_bytes();
    let codec = FaceCodec::new(DIM, None).expect("a valid dimension");
    prepare_record(
        &record(i),
        &config(),
        Some(&codec),
        !i.is_multiple_of(7),
        state,
    )
    .expect("test records are valid")
}

/// The committed sample gallery of format `version`.
fn compat_dir(version: u32) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/gallery-v{version}"))
}

/// Writes the committed sample gallery of the current format version.
/// Run by hand when the format version changes (into a new directory):
/// `cargo test -p hoviyat-engine write_compat_gallery -- --ignored`
#[test]
#[ignore = "writes the committed sample gallery"]
fn write_compat_gallery() {
    let dir = compat_dir(GALLERY_FORMAT_VERSION);
    let dir = dir.as_path();
    let _ = std::fs::remove_dir_all(dir);
    {
        let g = Gallery::create(dir, config()).unwrap();
        g.insert_batch((0..12).map(row).collect()).unwrap();
        g.delete(&row(2).reference_id).unwrap();
        g.seal().unwrap();
        g.insert_batch((12..16).map(row).collect()).unwrap();
        g.insert(row(16)).unwrap();
        g.set_state(&row(5).reference_id, b"adjudicated".to_vec())
            .unwrap();
        g.set_searchable(&row(13).reference_id, false).unwrap();
    }
    std::fs::remove_file(dir.join(LOCK_FILE)).unwrap();
}

/// `got` is `want` within the precision of record format 1 (quarter
/// pixels, 1/65536 turn), which the version-1 sample holds.
fn assert_within_v1_precision(
    got: &hoviyat_models::EnrollmentRecord,
    want: &hoviyat_models::EnrollmentRecord,
) {
    let tau = std::f32::consts::TAU;
    let (px, angle) = (0.125, 1e-4);
    assert_eq!(got.reference_id, want.reference_id);
    assert_eq!(got.fingers.len(), want.fingers.len());
    for (a, b) in got.fingers.iter().zip(&want.fingers) {
        assert_eq!(
            (a.position, a.minutiae.len()),
            (b.position, b.minutiae.len())
        );
        for (m, n) in a.minutiae.iter().zip(&b.minutiae) {
            assert!((m.x_px - n.x_px).abs() <= px && (m.y_px - n.y_px).abs() <= px);
            let d = (m.angle_rad - n.angle_rad).rem_euclid(tau);
            assert!(d.min(tau - d) <= angle);
            assert_eq!((m.kind, m.quality), (n.kind, n.quality));
        }
    }
    assert_eq!(got.face.is_some(), want.face.is_some());
}

/// Checks the rows of a committed sample gallery (or a copy that took
/// `identities - 16` more rows). Rows of a version-1 gallery have no
/// screening codes; those of a later one have them.
fn check_sample(g: &Gallery, identities: u64, sample_version: u32) {
    let s = g.snapshot();
    let c = s.counts();
    assert_eq!((c.identities, c.deleted), (identities, 1));
    for i in (0..17).filter(|&i| i != 2) {
        let want = row(i);
        let r = s.get(&want.reference_id).unwrap();
        if sample_version == 1 {
            let stored = hoviyat_models::binary::decode_record(r.record_bytes()).unwrap();
            let original = record(i);
            assert_within_v1_precision(&stored, &original);
        } else {
            // Written in the current record format: the very bytes.
            assert_eq!(r.record_bytes(), want.record_bytes.as_slice(), "row {i}");
        }
        assert_eq!(r.face_code().is_some(), want.face.is_some());
        let blobs = FingerPosition::TEN
            .iter()
            .filter(|&&p| r.finger_blob(p).is_some())
            .count();
        assert_eq!(blobs, want.fingers.len());
        for p in FingerPosition::TEN {
            let want_code = want
                .screens
                .iter()
                .find(|(q, _)| *q == p)
                .map(|(_, c)| c)
                .filter(|_| sample_version > 1);
            assert_eq!(r.screen_code(p), want_code, "row {i} at {p:?}");
        }
        assert_eq!(r.is_live(), want.searchable && i != 13, "row {i}");
    }
    assert!(s.get(&row(2).reference_id).unwrap().is_deleted());
    assert_eq!(s.state(&row(5).reference_id), Some(&b"adjudicated"[..]));
    assert_eq!(s.state(&row(6).reference_id), Some(&b"{\"n\":6}"[..]));
}

/// Opens the committed sample of `version` read-only, then a copy for
/// writing that takes a new row and compacts.
fn sample_opens_and_takes_writes(version: u32) {
    let dir = compat_dir(version);
    let g = Gallery::open_read_only(&dir).unwrap();
    g.verify().unwrap();
    check_sample(&g, 16, version);
    assert_eq!(g.stats().unwrap().format_version, version);
    let tmp = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, tmp.path().join(p.file_name().unwrap())).unwrap();
    }
    let g = Gallery::open(tmp.path()).unwrap();
    check_sample(&g, 16, version);
    // Opening changes nothing; the first write moves an older log into
    // a current-format segment.
    assert_eq!(g.stats().unwrap().format_version, version);
    g.insert(row(17)).unwrap();
    assert_eq!(g.stats().unwrap().format_version, GALLERY_FORMAT_VERSION);
    check_sample(&g, 17, version);
    drop(g);
    let g = Gallery::open(tmp.path()).unwrap();
    g.compact().unwrap();
    check_sample(&g, 17, version);
    assert_row(&g.snapshot(), &row(17));
}

#[test]
fn the_committed_version_1_gallery_still_opens() {
    sample_opens_and_takes_writes(1);
}

#[test]
fn the_committed_version_2_gallery_opens() {
    sample_opens_and_takes_writes(2);
}
