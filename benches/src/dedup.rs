//! The dedup benchmark: a gallery of N synthetic identities, then a stream of
//! enrollments, half of them re-enrollments of people already enrolled
//! (mated: must be held as potential duplicates) and half new people
//! (non-mated: must be cleared), each decided by [`Abis::enroll`] exactly as
//! the service does. Reports decision latency and the decisions' FNIR and
//! FPIR.

use std::path::Path;
use std::time::Instant;

use hoviyat_datasets::synth::{Population, PopulationConfig};
use hoviyat_engine::abis::{Abis, AbisConfig, DecisionLog, Status, Unrecorded};
use rayon::prelude::*;
use serde::Serialize;

/// What to run.
#[derive(Debug, Clone)]
pub struct DedupBenchConfig {
    /// Identities in the gallery before the timed enrollments.
    pub identities: u64,
    /// Timed enrollments (half mated, half non-mated).
    pub enrollments: usize,
    pub seed: u64,
}

/// What `hoviyat bench dedup` prints.
#[derive(Debug, Clone, Serialize)]
pub struct DedupBenchReport {
    pub identities: u64,
    pub face_dim: Option<usize>,
    /// Seconds to generate and import the gallery (group commit).
    pub import_s: f64,
    pub import_identities_per_s: f64,
    pub mated: usize,
    pub non_mated: usize,
    /// Mated enrollments that were cleared (missed duplicates).
    pub missed_duplicates: usize,
    /// Non-mated enrollments held as potential duplicates.
    pub false_holds: usize,
    pub fnir: f64,
    pub fpir: f64,
    /// Mated enrollments whose true mate was not the first candidate.
    pub mate_not_rank1: usize,
    pub latency_ms_p50: f64,
    pub latency_ms_p99: f64,
    pub latency_ms_max: f64,
    /// Sequential decisions per second (1 / mean latency).
    pub dedups_per_s: f64,
    pub bytes_on_disk: u64,
    pub bytes_per_identity: f64,
    pub threads: usize,
    pub simsimd_target: &'static str,
}

/// Imports identities `from..population.len()` into `abis` as cleared (group
/// commit, records generated in parallel, 4,096 a batch), then seals;
/// `progress` hears the size of each batch.
pub fn import_population(
    abis: &Abis,
    population: &Population,
    from: u64,
    mut progress: impl FnMut(u64),
) -> anyhow::Result<()> {
    const BATCH: u64 = 4096;
    let n = population.len();
    let mut next = from;
    while next < n {
        let end = (next + BATCH).min(n);
        let records: Vec<_> = (next..end)
            .into_par_iter()
            .map(|i| population.identity(i))
            .collect();
        abis.import_batch(&records)?;
        progress(end - next);
        next = end;
    }
    abis.seal()?;
    Ok(())
}

/// Opens (or creates) the gallery in `dir` with the population's face
/// dimension and the default configuration otherwise.
pub fn open_for(population: &Population, dir: &Path) -> anyhow::Result<Abis> {
    Ok(Abis::open(
        dir,
        &AbisConfig {
            face_dim: population.config().face.map(|f| f.dim),
            ..AbisConfig::default()
        },
    )?)
}

/// Builds the gallery in `dir` (which must be empty) and runs the stream.
pub fn run(config: &DedupBenchConfig, dir: &Path) -> anyhow::Result<DedupBenchReport> {
    run_recorded(config, dir, &Unrecorded)
}

/// [`run`], each decision recorded in `log` under the decision lock, as the
/// service records it in its audit log.
pub fn run_recorded(
    config: &DedupBenchConfig,
    dir: &Path,
    log: &dyn DecisionLog,
) -> anyhow::Result<DedupBenchReport> {
    let population = Population::new(PopulationConfig::new(config.seed, config.identities))?;
    let face_dim = population.config().face.map(|f| f.dim);
    let abis = open_for(&population, dir)?;

    let started = Instant::now();
    import_population(&abis, &population, 0, |_| {})?;
    let import_s = started.elapsed().as_secs_f64();
    // As the service does before it takes requests.
    abis.warm_up();

    let mut latencies_ms = Vec::with_capacity(config.enrollments);
    let (mut mated, mut non_mated, mut missed, mut false_holds, mut not_rank1) = (0, 0, 0, 0, 0);
    let stride = (config.identities / (config.enrollments as u64 / 2 + 1)).max(1);
    for k in 0..config.enrollments {
        let is_mated = k % 2 == 0 && config.identities > 0;
        let (record, mate) = if is_mated {
            let i = (k as u64 / 2 * stride) % config.identities;
            let mut r = population.reenrollment(i, 1);
            r.reference_id = population.reenrollment_id(i, 1);
            (r, Some(population.reference_id(i)))
        } else {
            // People beyond the gallery's size are not in it.
            (population.identity(config.identities + k as u64), None)
        };
        let t = Instant::now();
        let outcome = abis.enroll_recorded(record, log)?;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        tracing::debug!(k, ms, mated = is_mated, "decision");
        latencies_ms.push(ms);
        let held = outcome.enrollment.status == Status::PotentialDuplicate;
        match mate {
            Some(mate) => {
                mated += 1;
                if !held {
                    missed += 1;
                }
                if outcome
                    .enrollment
                    .candidates
                    .first()
                    .map(|c| &c.reference_id)
                    != Some(&mate)
                {
                    not_rank1 += 1;
                }
            }
            None => {
                non_mated += 1;
                if held {
                    false_holds += 1;
                    if let Some(c) = outcome.enrollment.candidates.first() {
                        let fingers: Vec<String> = c
                            .fingers
                            .iter()
                            .map(|f| format!("{}:{:.1}", f.position.code(), f.evidence))
                            .collect();
                        tracing::warn!(
                            enrollment = %outcome.enrollment.reference_id,
                            candidate = %c.reference_id,
                            score = c.score,
                            fingers = %fingers.join(" "),
                            face = ?c.face.map(|f| (f.cosine, f.evidence)),
                            "false hold"
                        );
                    }
                }
            }
        }
    }
    latencies_ms.sort_by(f64::total_cmp);
    let pick = |q: f64| crate::quantile(&latencies_ms, q).unwrap_or(0.0);
    let mean_ms = latencies_ms.iter().sum::<f64>() / latencies_ms.len().max(1) as f64;
    let stats = abis.gallery_stats()?;
    Ok(DedupBenchReport {
        identities: config.identities,
        face_dim,
        import_s,
        import_identities_per_s: config.identities as f64 / import_s.max(1e-9),
        mated,
        non_mated,
        missed_duplicates: missed,
        false_holds,
        fnir: missed as f64 / mated.max(1) as f64,
        fpir: false_holds as f64 / non_mated.max(1) as f64,
        mate_not_rank1: not_rank1,
        latency_ms_p50: pick(0.5),
        latency_ms_p99: pick(0.99),
        latency_ms_max: pick(1.0),
        dedups_per_s: if mean_ms > 0.0 { 1e3 / mean_ms } else { 0.0 },
        bytes_on_disk: stats.bytes_on_disk,
        bytes_per_identity: stats.bytes_per_identity,
        threads: rayon::current_num_threads(),
        simsimd_target: hoviyat_engine::kernels::report().simsimd_target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_run_holds_every_re_enrollment_and_clears_new_people() {
        let dir = tempfile::tempdir().unwrap();
        let report = run(
            &DedupBenchConfig {
                identities: 200,
                enrollments: 20,
                seed: 7,
            },
            dir.path(),
        )
        .unwrap();
        assert_eq!((report.mated, report.non_mated), (10, 10));
        assert_eq!(report.missed_duplicates, 0, "{report:?}");
        assert_eq!(report.false_holds, 0, "{report:?}");
    }
}
