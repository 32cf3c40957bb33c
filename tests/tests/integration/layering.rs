//! The engine is a library: it must not pull in a web stack.

use std::process::Command;

#[test]
fn engine_does_not_depend_on_axum_hyper_or_tokio() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "-p",
            "hoviyat-engine",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(tree.contains("hoviyat-models"), "tree looks wrong:\n{tree}");
    for banned in ["axum ", "hyper ", "tokio "] {
        assert!(
            !tree.lines().any(|l| l.starts_with(banned)),
            "hoviyat-engine depends on {banned}:\n{tree}"
        );
    }
}
