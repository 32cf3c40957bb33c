//! Helpers of the tests that run the `hoviyat` binary (included with
//! `#[path]` by each such test file: every file under tests/ is its own
//! crate).

use std::path::Path;
use std::process::{Command, Output};

/// Runs `hoviyat` with `args`, logs at warn.
pub fn hoviyat(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hoviyat"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the hoviyat binary runs")
}

/// A temp path as an argument.
pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}
