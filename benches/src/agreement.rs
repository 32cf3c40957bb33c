//! 1:N against 1:1 on real prints: a gallery of N synthetic identities plus
//! one identity per real finger (its first impression, one finger each),
//! searched with every other impression in investigation mode. Each search
//! reports where the mate ranked; beside it, the mate's full 1:1 score
//! ([`hoviyat_engine::abis::Abis::verify`], which also gives the
//! verification decision) says whether it beats every non-mate the search
//! returned (whose best few carry the same full score), and the mate's
//! score by the search's own first comparison (the prepared probe against
//! the mate's stored finger) whether the candidate stage should have kept
//! it, so a mate the screening dropped shows as a disagreement.
//!
//! Each impression is also searched as a dedup decision would search it
//! (threshold mode at the service's default target FPIR): whether the mate
//! is held, beside whether the mate's full 1:1 score, and its score by the
//! search's first comparison, reach that threshold.

use std::path::Path;
use std::time::Instant;

use hoviyat_datasets::synth::{Population, PopulationConfig};
use hoviyat_engine::abis::{IdentifyOptions, Mode, Probe};
use hoviyat_engine::finger::{PreparedProbe, encode_gallery};
use hoviyat_engine::fusion::fuse_evidence;
use hoviyat_models::{EnrollmentRecord, FingerPosition, FingerTemplate};
use serde::Serialize;

use crate::fvc::FvcDataset;

/// What to run.
#[derive(Debug, Clone)]
pub struct AgreementConfig {
    /// Synthetic identities in the gallery besides the real fingers.
    pub identities: u64,
    pub seed: u64,
    /// Candidates an investigation returns.
    pub max_candidates: usize,
}

/// Figures of one real dataset (or of all, in the totals).
#[derive(Debug, Clone, Default, Serialize)]
pub struct AgreementRow {
    pub name: String,
    /// Real fingers enrolled (those whose first impression extracted).
    pub enrolled_fingers: usize,
    /// Searches made (other impressions that extracted, of enrolled fingers).
    pub searches: usize,
    /// Searches whose first candidate was the mate.
    pub rank1_hits: usize,
    pub rank1_hit_rate: f64,
    /// Searches whose mate was among the candidates.
    pub in_list: usize,
    /// Searches where the mate's full 1:1 score (`Abis::verify`) was above
    /// every non-mate candidate's: the rank-1 hits an exhaustive search
    /// that compared everyone in full would give.
    pub one_to_one_rank1: usize,
    pub one_to_one_rank1_rate: f64,
    /// Mates left out of the list although the search's first comparison
    /// of them beat a candidate in it (the screening dropped them).
    pub screening_losses: usize,
    /// Searches whose mate verification (`Abis::verify`, the full 1:1
    /// comparison, at the verification threshold) accepted.
    pub verified: usize,
    pub verified_rate: f64,
    /// Threshold searches (dedup mode, the default target FPIR) that
    /// returned the mate.
    pub dedup_found: usize,
    /// Searches whose mate's full 1:1 score reaches the dedup threshold:
    /// what a verification at that threshold would decide.
    pub dedup_full: usize,
    /// Searches whose mate's score by the search's first comparison (one
    /// direction) reaches it: what deciding on that score would give.
    pub dedup_one_way: usize,
    /// Non-mate candidates the threshold searches returned.
    pub dedup_non_mates: usize,
}

/// What `hoviyat eval one-to-many` prints.
#[derive(Debug, Clone, Serialize)]
pub struct AgreementReport {
    pub synthetic_identities: u64,
    pub gallery_size: usize,
    pub max_candidates: usize,
    pub datasets: Vec<AgreementRow>,
    pub total: AgreementRow,
    pub search_ms_p50: f64,
    pub search_ms_p99: f64,
    /// The dedup searches' threshold (evidence, decades of FMR).
    pub dedup_threshold: f64,
    pub dedup_ms_p50: f64,
    pub dedup_ms_p99: f64,
}

/// Builds the gallery in `dir` (empty) and runs every search.
pub fn run(
    config: &AgreementConfig,
    datasets: &[FvcDataset],
    dir: &Path,
    mut progress: impl FnMut(&str),
) -> anyhow::Result<AgreementReport> {
    let population = Population::new(PopulationConfig::new(config.seed, config.identities))?;
    let abis = crate::dedup::open_for(&population, dir)?;
    progress("importing the synthetic population");
    crate::dedup::import_population(&abis, &population, 0, |_| {})?;

    // Every real dataset's templates, by our extractor.
    let mut extracted = Vec::new();
    for ds in datasets {
        progress(&format!("extracting {}", ds.name));
        extracted.push(ds.extract_samples()?.samples);
    }
    let first_of = |ds: &FvcDataset| ds.images.iter().map(|i| i.impression).min().unwrap_or(1);
    let reference = |ds: &FvcDataset, finger: u32| format!("real-{}-{finger}", ds.name);
    let as_index_finger = |t: &FingerTemplate| FingerTemplate {
        position: FingerPosition::RightIndex,
        ..t.clone()
    };
    let mut records = Vec::new();
    for (ds, samples) in datasets.iter().zip(&extracted) {
        let first = first_of(ds);
        for s in samples.iter().filter(|s| s.impression == first) {
            if let Some(t) = &s.template {
                records.push(EnrollmentRecord::new(
                    reference(ds, s.finger),
                    vec![as_index_finger(t)],
                    None,
                ));
            }
        }
    }
    abis.import_batch(&records)?;
    abis.seal()?;
    abis.warm_up();

    let options = IdentifyOptions {
        mode: Mode::Investigation {
            max_candidates: config.max_candidates,
        },
        restrict_to: None,
    };
    let dedup = IdentifyOptions {
        mode: Mode::Identification {
            threshold: None,
            target_fpir: None,
            max_candidates: None,
        },
        restrict_to: None,
    };
    let mut rows = Vec::new();
    let mut search_ms = Vec::new();
    let mut dedup_ms = Vec::new();
    let mut dedup_threshold = f64::NAN;
    let mut gallery_size = 0;
    for (ds, samples) in datasets.iter().zip(&extracted) {
        progress(&format!("searching {}", ds.name));
        let first = first_of(ds);
        let mut row = AgreementRow {
            name: ds.name.clone(),
            ..AgreementRow::default()
        };
        let enrolled: std::collections::HashSet<u32> = samples
            .iter()
            .filter(|s| s.impression == first && s.template.is_some())
            .map(|s| s.finger)
            .collect();
        row.enrolled_fingers = enrolled.len();
        for s in samples.iter().filter(|s| s.impression != first) {
            let (Some(t), true) = (&s.template, enrolled.contains(&s.finger)) else {
                continue;
            };
            let mate = reference(ds, s.finger);
            let probe = Probe {
                fingers: vec![as_index_finger(t)],
                face: None,
            };
            let started = Instant::now();
            let found = abis.identify(&probe, &options)?;
            search_ms.push(started.elapsed().as_secs_f64() * 1e3);
            gallery_size = found.gallery_size;
            // The search's comparison against the finger as the gallery
            // holds it (stored at 500 dpi, so not bit for bit the extracted
            // template); one finger, so the candidate's score is its
            // evidence.
            let stored = abis.stored_finger(&mate, FingerPosition::RightIndex)?;
            let exhaustive =
                PreparedProbe::new(&probe.fingers[0])?.score(&encode_gallery(&stored)?)?;
            let first_comparison = fuse_evidence(&[f64::from(exhaustive.log10_fmr)]);
            let verification = abis.verify(&probe, &mate)?;
            row.verified += usize::from(verification.is_match);
            row.searches += 1;
            let candidates = &found.candidates;
            if candidates.first().is_some_and(|c| c.reference_id == mate) {
                row.rank1_hits += 1;
            }
            let in_list = candidates.iter().any(|c| c.reference_id == mate);
            row.in_list += usize::from(in_list);
            let best_other = candidates
                .iter()
                .filter(|c| c.reference_id != mate)
                .map(|c| c.score)
                .fold(f64::NEG_INFINITY, f64::max);
            row.one_to_one_rank1 += usize::from(verification.score > best_other);
            let started = Instant::now();
            let held = abis.identify(&probe, &dedup)?;
            dedup_ms.push(started.elapsed().as_secs_f64() * 1e3);
            let threshold = held.threshold.unwrap_or(f64::INFINITY);
            dedup_threshold = threshold;
            row.dedup_found += usize::from(held.candidates.iter().any(|c| c.reference_id == mate));
            row.dedup_non_mates += held
                .candidates
                .iter()
                .filter(|c| c.reference_id != mate)
                .count();
            row.dedup_full += usize::from(verification.score >= threshold);
            row.dedup_one_way += usize::from(first_comparison >= threshold);
            // The list's tail is in the order of the first comparison.
            let last = candidates.last().map_or(f64::NEG_INFINITY, |c| c.score);
            let list_full = candidates.len() >= config.max_candidates;
            if !in_list && (!list_full || first_comparison > last) && first_comparison > 0.0 {
                row.screening_losses += 1;
            }
        }
        rows.push(finish(row));
    }
    let mut total = AgreementRow {
        name: "total".to_string(),
        ..AgreementRow::default()
    };
    for r in &rows {
        total.enrolled_fingers += r.enrolled_fingers;
        total.searches += r.searches;
        total.rank1_hits += r.rank1_hits;
        total.in_list += r.in_list;
        total.one_to_one_rank1 += r.one_to_one_rank1;
        total.screening_losses += r.screening_losses;
        total.verified += r.verified;
        total.dedup_found += r.dedup_found;
        total.dedup_full += r.dedup_full;
        total.dedup_one_way += r.dedup_one_way;
        total.dedup_non_mates += r.dedup_non_mates;
    }
    search_ms.sort_by(f64::total_cmp);
    dedup_ms.sort_by(f64::total_cmp);
    Ok(AgreementReport {
        synthetic_identities: config.identities,
        gallery_size,
        max_candidates: config.max_candidates,
        datasets: rows,
        total: finish(total),
        search_ms_p50: crate::quantile(&search_ms, 0.5).unwrap_or(0.0),
        search_ms_p99: crate::quantile(&search_ms, 0.99).unwrap_or(0.0),
        dedup_threshold,
        dedup_ms_p50: crate::quantile(&dedup_ms, 0.5).unwrap_or(0.0),
        dedup_ms_p99: crate::quantile(&dedup_ms, 0.99).unwrap_or(0.0),
    })
}

fn finish(mut row: AgreementRow) -> AgreementRow {
    let n = row.searches.max(1) as f64;
    row.rank1_hit_rate = row.rank1_hits as f64 / n;
    row.one_to_one_rank1_rate = row.one_to_one_rank1 as f64 / n;
    row.verified_rate = row.verified as f64 / n;
    row
}
