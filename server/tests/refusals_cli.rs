//! Commands given something to report on that is not there fail with a
//! one-line reason instead of reporting on nothing; a start that cannot
//! listen shows no bootstrap key.
use std::process::Output;

#[path = "support/cli.rs"]
mod cli;
use cli::{hoviyat, path_str};

/// The command failed, with one line on stderr saying `expected`, and
/// printed nothing on stdout.
fn refused(out: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "succeeded: {stderr}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains(expected), "{stderr}");
}

#[test]
fn a_missing_data_directory_is_not_an_intact_audit_log_or_an_empty_key_list() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    let missing = path_str(&missing);
    for args in [
        vec!["audit", "verify", "--data", missing, "--json"],
        vec!["audit", "head", "--data", missing],
        vec!["audit", "reanchor", "--data", missing, "--by", "ada"],
    ] {
        refused(&hoviyat(&args), "no data directory");
    }
    refused(
        &hoviyat(&["keys", "list", "--data", missing, "--json"]),
        "no data directory",
    );
    // A directory without a log is not a log.
    refused(
        &hoviyat(&["audit", "verify", "--data", path_str(dir.path())]),
        "no audit log",
    );
}

#[test]
fn an_intact_log_is_not_reanchored() {
    let dir = tempfile::tempdir().unwrap();
    let data = path_str(dir.path());
    let log = hoviyat_server::audit::AuditLog::open(dir.path()).unwrap();
    log.append(hoviyat_server::audit::AuditEvent::default())
        .unwrap();
    drop(log);
    refused(
        &hoviyat(&["audit", "reanchor", "--data", data, "--by", "ada"]),
        "nothing to reanchor",
    );
}

#[test]
fn a_start_that_cannot_listen_shows_no_key() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = hoviyat(&["serve", "--data", path_str(&data), "--listen", &addr]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("listening on"), "{stderr}");
    assert!(!stderr.contains("hvy_"), "a key was shown: {stderr}");
}

#[test]
fn figures_over_no_pairs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    // One finger, one impression: no pair at all.
    let image = image::GrayImage::from_pixel(300, 300, image::Luma([128]));
    image.save(dir.path().join("1_1.png")).unwrap();
    refused(
        &hoviyat(&[
            "eval",
            "fingerprints",
            "--dataset",
            path_str(dir.path()),
            "--json",
        ]),
        "no genuine pairs",
    );
}

#[test]
fn a_failure_is_one_line_that_names_its_cause_once_and_bad_counts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    // The output path is a directory.
    let out = hoviyat(&[
        "synth",
        "population",
        "--identities",
        "2",
        "--out",
        path_str(dir.path()),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    let last = stderr.trim_end().lines().last().unwrap_or_default();
    assert!(last.starts_with("error: "), "{stderr}");
    assert_eq!(last.matches("os error").count(), 1, "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "colour codes in a pipe: {stderr}"
    );
    for args in [
        vec!["serve", "--workers", "0"],
        vec!["serve", "--max-pending", "0"],
        vec!["serve", "--timeout-s", "0"],
        vec!["bench", "service", "--concurrency", "0"],
        vec!["bench", "chaos", "--duration-s", "0"],
        vec!["bench", "dedup", "--enrollments", "0"],
        vec!["no-such-command"],
    ] {
        let out = hoviyat(&args);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(out.stdout.is_empty(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    }
}

#[test]
fn runs_that_build_their_own_gallery_refuse_a_directory_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let used = dir.path().join("used");
    std::fs::create_dir_all(&used).unwrap();
    std::fs::write(used.join("something"), b"x").unwrap();
    let used = path_str(&used);
    refused(
        &hoviyat(&[
            "eval",
            "one-to-many",
            "--root",
            path_str(dir.path()),
            "--identities",
            "5",
            "--data",
            used,
            "--json",
        ]),
        "not empty",
    );
    refused(
        &hoviyat(&[
            "bench",
            "dedup",
            "--identities",
            "5",
            "--data",
            used,
            "--json",
        ]),
        "not empty",
    );
}
