//! Builds a large synthetic gallery and prints one JSON object: bytes per
//! identity, open time, insert throughput (fsync per insert, group commit)
//! and a full scan pass. Needs ~10 KB of disk per row; removes it after.
//!
//! `cargo run --release -p hoviyat-benches --example gallery_scale -- DIR ROWS [BATCH] [--compact]`

use std::path::PathBuf;

use hoviyat_benches::gallery::{ScaleOptions, run_scale};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(args.first().map_or("gallery-scale", String::as_str));
    let rows = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let batch = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let report = run_scale(&ScaleOptions {
        dir,
        rows,
        batch,
        fsync_rows: 300,
        compact: args.iter().any(|a| a == "--compact"),
        opens: 5,
    })?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
