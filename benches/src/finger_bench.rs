//! The 1:N finger throughput benchmark: impostor comparisons per second per
//! core of a prepared probe against gallery blobs, beside the NBIS bozorth3
//! port on the same templates in the same run.

use std::time::Instant;

use hoviyat_datasets::minutiae_impressions::{Master, Perturbation};
use hoviyat_engine::finger::{PreparedProbe, encode_gallery};
use hoviyat_models::FingerTemplate;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// What `hoviyat bench fingers` reports.
#[derive(Debug, Clone, Serialize)]
pub struct FingerBenchReport {
    pub gallery: usize,
    pub seed: u64,
    pub probes: usize,
    pub impostor_comparisons: u64,
    pub impostor_cmp_per_s_per_core: f64,
    /// `None` when built without the `bozorth3` feature.
    pub bozorth3_cmp_per_s_per_core: Option<f64>,
    pub bozorth3_comparisons: u64,
    pub speedup: Option<f64>,
    /// Mean gallery-form bytes per finger over the gallery.
    pub bytes_per_finger: f64,
    /// Gallery-form bytes of a 40-minutia finger.
    pub bytes_per_finger_at_40_minutiae: usize,
    pub mean_minutiae: f64,
    /// Mean probe preparation time, microseconds of CPU.
    pub probe_prepare_us: f64,
    /// `thread-cpu` (per-thread CPU time, robust to other load) or `wall`.
    pub clock: &'static str,
}

/// Synthetic gallery and impostor probes of one seed: `gallery` impressions
/// of distinct masters, and `probes` impressions of further masters.
pub fn synthetic_population(
    gallery: usize,
    probes: usize,
    seed: u64,
) -> (Vec<FingerTemplate>, Vec<FingerTemplate>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let p = Perturbation::default();
    let mut make = |n: usize| -> Vec<FingerTemplate> {
        (0..n)
            .map(|_| Master::generate(&mut rng).impression(&p, &mut rng))
            .collect()
    };
    let g = make(gallery);
    let q = make(probes);
    (g, q)
}

/// Runs the benchmark on one thread.
pub fn run(gallery: usize, probes: usize, seed: u64) -> anyhow::Result<FingerBenchReport> {
    let (gallery_templates, probe_templates) = synthetic_population(gallery, probes, seed);
    let blobs: Vec<Vec<u8>> = gallery_templates
        .iter()
        .map(encode_gallery)
        .collect::<Result<_, _>>()?;
    let clock = Clock::new();
    let mut comparisons = 0u64;
    let mut prepare_ns = 0u64;
    let mut score_ns = 0u64;
    let mut checksum = 0.0f64;
    for probe in &probe_templates {
        let t0 = clock.now_ns();
        let prepared = PreparedProbe::new(probe)?;
        let t1 = clock.now_ns();
        for blob in &blobs {
            checksum += f64::from(prepared.score(blob)?.raw);
        }
        let t2 = clock.now_ns();
        prepare_ns += t1 - t0;
        score_ns += t2 - t1;
        comparisons += blobs.len() as u64;
    }
    // Keeps the scores observable so the loop cannot be optimised away.
    tracing::debug!(checksum, "finger bench scores");
    let per_s = comparisons as f64 / (score_ns.max(1) as f64 * 1e-9);
    let (bozorth, bozorth_n) = bozorth3_rate(&gallery_templates, &probe_templates, &clock);
    let forty = FingerTemplate {
        minutiae: gallery_templates
            .iter()
            .find(|t| t.minutiae.len() >= 40)
            .map(|t| t.minutiae[..40].to_vec())
            .unwrap_or_default(),
        ..gallery_templates
            .first()
            .cloned()
            .unwrap_or_else(|| probe_templates[0].clone())
    };
    Ok(FingerBenchReport {
        gallery,
        seed,
        probes,
        impostor_comparisons: comparisons,
        impostor_cmp_per_s_per_core: per_s,
        bozorth3_cmp_per_s_per_core: bozorth,
        bozorth3_comparisons: bozorth_n,
        speedup: bozorth.map(|b| per_s / b),
        bytes_per_finger: blobs.iter().map(|b| b.len() as f64).sum::<f64>()
            / blobs.len().max(1) as f64,
        bytes_per_finger_at_40_minutiae: encode_gallery(&forty)?.len(),
        mean_minutiae: gallery_templates
            .iter()
            .map(|t| t.minutiae.len() as f64)
            .sum::<f64>()
            / gallery_templates.len().max(1) as f64,
        probe_prepare_us: prepare_ns as f64 / 1e3 / probe_templates.len().max(1) as f64,
        clock: clock.name(),
    })
}

/// bozorth3 comparisons per second on the same templates: every probe
/// against the first gallery templates, about two seconds of work.
#[cfg(feature = "bozorth3")]
fn bozorth3_rate(
    gallery: &[FingerTemplate],
    probes: &[FingerTemplate],
    clock: &Clock,
) -> (Option<f64>, u64) {
    use fprint_bozorth3::{Minutia, match_score};
    // bozorth3 takes integer pixels (y down) and integer degrees counter-
    // clockwise, the same convention as ours.
    let convert = |t: &FingerTemplate| -> Vec<Minutia> {
        t.minutiae
            .iter()
            .map(|m| Minutia {
                x: m.x_px.round() as i32,
                y: m.y_px.round() as i32,
                theta: (m.angle_rad.to_degrees().round() as i32).rem_euclid(360),
            })
            .collect()
    };
    let g: Vec<Vec<Minutia>> = gallery.iter().take(200).map(convert).collect();
    let p: Vec<Vec<Minutia>> = probes.iter().take(6).map(convert).collect();
    let mut n = 0u64;
    let mut total = 0u64;
    let start = clock.now_ns();
    for probe in &p {
        for candidate in &g {
            total += u64::from(match_score(probe, candidate));
            n += 1;
        }
    }
    let elapsed = clock.now_ns() - start;
    tracing::debug!(total, "bozorth3 scores");
    (Some(n as f64 / (elapsed.max(1) as f64 * 1e-9)), n)
}

#[cfg(not(feature = "bozorth3"))]
fn bozorth3_rate(_: &[FingerTemplate], _: &[FingerTemplate], _: &Clock) -> (Option<f64>, u64) {
    (None, 0)
}

/// Per-thread CPU time where Linux offers it (other processes sharing the
/// machine then do not count), wall time otherwise.
#[derive(Debug)]
struct Clock {
    wall: Instant,
    thread_cpu: bool,
}

impl Clock {
    fn new() -> Self {
        Self {
            wall: Instant::now(),
            thread_cpu: thread_cpu_ns().is_some(),
        }
    }

    fn name(&self) -> &'static str {
        if self.thread_cpu {
            "thread-cpu"
        } else {
            "wall"
        }
    }

    fn now_ns(&self) -> u64 {
        if self.thread_cpu
            && let Some(ns) = thread_cpu_ns()
        {
            return ns;
        }
        self.wall.elapsed().as_nanos() as u64
    }
}

/// CPU time of the calling thread from `/proc/thread-self/schedstat`.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Learns the finger score calibration from impostor comparisons among
/// `masters` synthetic fingers (one impression each, every unordered pair in
/// one direction). Returns the calibration and the number of impostor scores.
pub fn learn_calibration(
    masters: usize,
    seed: u64,
) -> anyhow::Result<(hoviyat_engine::finger::Calibration, usize)> {
    use rayon::prelude::*;
    let (prints, _) = synthetic_population(masters, 0, seed);
    let blobs: Vec<Vec<u8>> = prints
        .iter()
        .map(encode_gallery)
        .collect::<Result<_, _>>()?;
    let scores: Vec<f32> = prints
        .par_iter()
        .enumerate()
        .map(|(i, t)| -> anyhow::Result<Vec<f32>> {
            let probe = PreparedProbe::new(t)?;
            blobs[i + 1..]
                .iter()
                .map(|b| Ok(probe.score(b)?.raw))
                .collect()
        })
        .collect::<anyhow::Result<Vec<Vec<f32>>>>()?
        .into_iter()
        .flatten()
        .collect();
    let calibration = hoviyat_engine::finger::Calibration::from_impostor_scores(&scores)?;
    Ok((calibration, scores.len()))
}
