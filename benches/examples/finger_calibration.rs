//! Prints the finger calibration learnt from synthetic impostors as the Rust
//! table `engine/src/finger/calibration.rs` embeds.
fn main() -> anyhow::Result<()> {
    let masters: usize = std::env::args()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(900);
    let seed: u64 = std::env::args()
        .nth(2)
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    let (cal, n) = hoviyat_benches::finger_bench::learn_calibration(masters, seed)?;
    println!("// {n} impostor scores, {masters} synthetic masters, seed {seed}");
    println!("const DEFAULT_POINTS: &[(f32, f32)] = &[");
    for (raw, e) in cal.points() {
        println!("    ({raw:.4}, {e:.4}),");
    }
    println!("];");
    println!("const DEFAULT_TAIL_SLOPE: f32 = {:.4};", cal.tail_slope());
    Ok(())
}
