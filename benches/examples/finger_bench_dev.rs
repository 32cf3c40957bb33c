//! Development helper: runs the finger throughput benchmark.
fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let r = hoviyat_benches::finger_bench::run(n, 20, 1)?;
    println!("{}", serde_json::to_string(&r)?);
    Ok(())
}
