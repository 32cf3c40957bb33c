//! Profiling aid for the dedup search: builds (once) a synthetic gallery in
//! DIR, then runs the dedup bench's probe mix (re-enrollments and new people)
//! as read-only searches, reporting wall and process CPU time per search.
//!
//! `cargo run --release -p hoviyat-benches --example dedup_search -- DIR [IDENTITIES] [SEARCHES] [SEED]`

use std::time::Instant;

use anyhow::Context;
use hoviyat_datasets::synth::{Population, PopulationConfig};
use hoviyat_engine::abis::{Abis, AbisConfig, IdentifyOptions, Mode, Probe};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().context("usage: DIR [N] [SEARCHES] [SEED]")?);
    let n: u64 = args.next().map_or(Ok(100_000), |s| s.parse())?;
    let searches: usize = args.next().map_or(Ok(100), |s| s.parse())?;
    let seed: u64 = args.next().map_or(Ok(1), |s| s.parse())?;
    let population = Population::new(PopulationConfig::new(seed, n))?;
    let fresh = !dir.exists();
    let abis = Abis::open(
        &dir,
        &AbisConfig {
            face_dim: population.config().face.map(|f| f.dim),
            ..AbisConfig::default()
        },
    )?;
    if fresh {
        let started = Instant::now();
        hoviyat_benches::dedup::import_population(&abis, &population, 0, |_| {})?;
        eprintln!("imported {n} in {:.1} s", started.elapsed().as_secs_f64());
    }
    let stride = (n / (searches as u64 / 2 + 1)).max(1);
    let probes: Vec<(Probe, bool)> = (0..searches)
        .map(|k| {
            let mated = k % 2 == 0;
            let r = if mated {
                population.reenrollment((k as u64 / 2 * stride) % n, 1)
            } else {
                population.identity(n + k as u64)
            };
            (
                Probe {
                    fingers: r.fingers,
                    face: r.face,
                },
                mated,
            )
        })
        .collect();
    let options = IdentifyOptions {
        mode: Mode::Investigation { max_candidates: 20 },
        restrict_to: None,
    };
    // Warm-up: derived data (screening means, face calibration).
    abis.identify(&probes[0].0, &options)?;
    let cpu0 = process_cpu_s()?;
    let started = Instant::now();
    let mut lat = Vec::with_capacity(searches);
    for (probe, _) in &probes {
        let t = Instant::now();
        abis.identify(probe, &options)?;
        lat.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu = process_cpu_s()? - cpu0;
    lat.sort_by(f64::total_cmp);
    println!(
        "{{\"searches\":{searches},\"wall_ms_mean\":{:.2},\"cpu_ms_mean\":{:.2},\"p50_ms\":{:.2},\"p99_ms\":{:.2},\"threads\":{}}}",
        wall * 1e3 / searches as f64,
        cpu * 1e3 / searches as f64,
        lat[lat.len() / 2],
        lat[(lat.len() - 1) * 99 / 100],
        rayon::current_num_threads()
    );
    Ok(())
}

/// User + system CPU seconds of this process (from /proc/self/stat).
fn process_cpu_s() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    let after = stat.rsplit_once(')').context("/proc/self/stat")?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
    Ok(ticks / 100.0)
}
