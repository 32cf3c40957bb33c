//! `hoviyat gallery import|compact`, run as a binary on a data directory: an
//! offline import is audited under the rules the service follows.
#![expect(
    clippy::unwrap_used,
    reason = "fixtures and helpers outside #[test] fns fail the test loudly"
)]

use std::io::Write;
use std::path::Path;
use std::process::Output;

use hoviyat_datasets::synth::{Population, PopulationConfig};

#[path = "support/cli.rs"]
mod cli;
use cli::{hoviyat, path_str};

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// JSON lines of identities `from..to` of a small seeded population, and
/// one line that is not a record after them.
fn records_file(dir: &Path, name: &str, from: u64, to: u64) -> std::path::PathBuf {
    let mut config = PopulationConfig::new(5, 100);
    config.face = None;
    let population = Population::new(config).unwrap();
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    for i in from..to {
        serde_json::to_writer(&mut f, &population.identity(i)).unwrap();
        writeln!(f).unwrap();
    }
    writeln!(f, "{{\"not\": \"a record\"}}").unwrap();
    path
}

fn identities(gallery: &Path) -> u64 {
    let out = ok(&hoviyat(&[
        "gallery",
        "stats",
        "--data",
        path_str(gallery),
        "--json",
    ]));
    serde_json::from_str::<serde_json::Value>(&out).unwrap()["identities"]
        .as_u64()
        .unwrap()
}

fn audit_lines(data: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(data.join("audit.log"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn an_import_into_a_data_directory_is_audited_and_refused_after_a_cut_log() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let gallery = data.join("gallery");
    let first = records_file(tmp.path(), "first.jsonl", 0, 3);

    let out = ok(&hoviyat(&[
        "gallery",
        "import",
        "--data",
        path_str(&gallery),
        "--by",
        "registrar-7",
        "--json",
        path_str(&first),
    ]));
    let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["imported"], 3);
    // An entry opens the import before anything is stored; its outcome
    // refers to it.
    assert_eq!(summary["audit_seq"], 2);
    let entries = audit_lines(&data);
    assert_eq!(entries.len(), 2);
    let opened = &entries[0];
    assert_eq!(opened["outcome"], "import_started");
    assert_eq!(opened["actor_name"], "registrar-7");
    assert!(
        opened["comment"].as_str().unwrap().contains("first.jsonl"),
        "{opened}"
    );
    let e = &entries[1];
    assert_eq!(e["refers_to"], opened["seq"]);
    assert_eq!(e["endpoint"], "hoviyat gallery import");
    assert_eq!(e["actor_name"], "registrar-7");
    assert_eq!(e["outcome"], "imported");
    assert_eq!(e["gallery_size"], 3);
    let comment = e["comment"].as_str().unwrap();
    for part in [
        "first.jsonl",
        "lines 1..=4",
        "read 4, imported 3, skipped 1",
    ] {
        assert!(comment.contains(part), "{comment:?} lacks {part:?}");
    }
    ok(&hoviyat(&["audit", "verify", "--data", path_str(&data)]));

    // A second import continues the chain.
    let second = records_file(tmp.path(), "second.jsonl", 3, 5);
    ok(&hoviyat(&[
        "gallery",
        "import",
        "--data",
        path_str(&gallery),
        path_str(&second),
    ]));
    assert_eq!(identities(&gallery), 5);
    assert_eq!(audit_lines(&data).len(), 4);
    ok(&hoviyat(&["audit", "verify", "--data", path_str(&data)]));

    // Cut the last entry off: the head no longer matches and the next
    // import is refused before it stores anything, as `serve` refuses to
    // start.
    let log = std::fs::read_to_string(data.join("audit.log")).unwrap();
    let kept: String = log.lines().take(3).map(|l| format!("{l}\n")).collect();
    std::fs::write(data.join("audit.log"), kept).unwrap();
    let third = records_file(tmp.path(), "third.jsonl", 5, 8);
    let out = hoviyat(&[
        "gallery",
        "import",
        "--data",
        path_str(&gallery),
        path_str(&third),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("audit.head"), "{stderr}");
    assert_eq!(identities(&gallery), 5);
    assert_eq!(audit_lines(&data).len(), 3);
}

#[test]
fn compaction_goes_through_the_facade_and_keeps_everyone() {
    let tmp = tempfile::tempdir().unwrap();
    let gallery = tmp.path().join("standalone");
    let file = records_file(tmp.path(), "people.jsonl", 0, 4);
    ok(&hoviyat(&[
        "gallery",
        "import",
        "--data",
        path_str(&gallery),
        path_str(&file),
    ]));
    // Not a data directory's gallery/: no audit log appears beside it.
    assert!(!tmp.path().join("audit.log").exists());
    ok(&hoviyat(&[
        "gallery",
        "compact",
        "--data",
        path_str(&gallery),
    ]));
    assert_eq!(identities(&gallery), 4);
    // A directory without a gallery is an error, and none is created.
    let empty = tmp.path().join("empty");
    assert!(
        !hoviyat(&["gallery", "compact", "--data", path_str(&empty)])
            .status
            .success()
    );
    assert!(!empty.join("manifest.hvm").exists());
}

/// A population file cut short is imported up to the cut, and the command
/// fails saying so (a skipped bad record alone does not fail it).
#[test]
fn a_cut_population_file_fails_the_import_after_what_could_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pop.hvp");
    ok(&hoviyat(&[
        "synth",
        "population",
        "--identities",
        "6",
        "--face-dim",
        "0",
        "--out",
        path_str(&file),
    ]));
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let gallery = dir.path().join("data").join("gallery");
    let out = hoviyat(&[
        "gallery",
        "import",
        "--data",
        path_str(&gallery),
        path_str(&file),
        "--json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    let last = stderr.trim_end().lines().last().unwrap();
    assert!(last.contains("damaged after"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let imported = report["imported"].as_u64().unwrap();
    assert!((1..6).contains(&imported), "{report}");
    assert_eq!(identities(&gallery), imported);
}
