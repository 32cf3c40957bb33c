//! Fingerprint evaluation on FVC-named folders: genuine and impostor
//! comparisons by protocol, accuracy figures and comparison timing.

use std::path::Path;
use std::time::Instant;

use hoviyat_engine::finger::{PreparedProbe, compare, encode_gallery};
use hoviyat_engine::metrics::{DetPoint, Scores, VerificationReport};
use hoviyat_models::FingerTemplate;
use serde::Serialize;

use crate::interval::{Interval, LabelledScore, REPLICATES, Replicates, SEED, SubsetBootstrap};

/// Which pairs are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// Every unordered pair: same finger genuine, different finger impostor.
    AllPairs,
    /// FVC: genuine as all-pairs; impostors are first impressions only.
    Fvc,
}

/// One impression of an FVC-named dataset (`{finger}_{impression}.ext`).
#[derive(Debug, Clone)]
pub struct Sample {
    pub finger: u32,
    pub impression: u32,
    /// `None` when extraction failed (counts towards FTE).
    pub template: Option<FingerTemplate>,
}

/// Finger and impression of an FVC file name such as `12_3.png`.
pub fn parse_fvc_name(path: &Path) -> Option<(u32, u32)> {
    let stem = path.file_stem()?.to_str()?;
    let (finger, impression) = stem.split_once('_')?;
    Some((finger.parse().ok()?, impression.parse().ok()?))
}

/// The figures `hoviyat eval fingerprints` reports.
#[derive(Debug, Clone, Serialize)]
pub struct FingerEvalReport {
    pub protocol: Protocol,
    pub n_samples: usize,
    pub n_genuine: usize,
    pub n_impostor: usize,
    pub eer: f64,
    pub fmr100: f64,
    pub fmr1000: f64,
    pub fmr10000: f64,
    pub zero_fmr: f64,
    /// 95 % interval of the EER over resamplings of the fingers
    /// ([`crate::interval`]).
    pub eer_interval: Interval,
    /// 95 % interval of the FMR1000, likewise.
    pub fmr1000_interval: Interval,
    /// Share of samples with no usable template.
    pub fte: f64,
    /// Median time of one 1:1 comparison: probe preparation plus scoring a
    /// gallery blob, microseconds.
    pub match_us_median: f64,
    /// Median time to score one gallery blob against a prepared probe, µs.
    pub score_us_median: f64,
    pub mean_minutiae: f64,
    pub mean_gallery_bytes: f64,
    /// Distribution of the genuine scores (calibrated -log10 FMR).
    pub genuine_scores: ScoreSummary,
    /// Distribution of the impostor scores (calibrated -log10 FMR).
    pub impostor_scores: ScoreSummary,
}

/// Quantiles and mean of a set of scores, to set two datasets' score
/// distributions side by side.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ScoreSummary {
    pub count: usize,
    pub mean: f64,
    pub p5: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p95: f64,
    pub max: f64,
}

impl FingerEvalReport {
    /// The verification figures alone.
    pub fn verification(&self) -> VerificationReport {
        VerificationReport {
            n_genuine: self.n_genuine,
            n_impostor: self.n_impostor,
            eer: self.eer,
            fmr100: self.fmr100,
            fmr1000: self.fmr1000,
            fmr10000: self.fmr10000,
            zero_fmr: self.zero_fmr,
        }
    }
}

impl ScoreSummary {
    pub fn of(scores: &[f64]) -> Self {
        if scores.is_empty() {
            return Self::default();
        }
        let mut v = scores.to_vec();
        v.sort_by(f64::total_cmp);
        let q = |f: f64| crate::quantile(&v, f).unwrap_or(0.0);
        Self {
            count: v.len(),
            mean: v.iter().sum::<f64>() / v.len() as f64,
            p5: q(0.05),
            p25: q(0.25),
            p50: q(0.5),
            p75: q(0.75),
            p95: q(0.95),
            max: v[v.len() - 1],
        }
    }
}

/// Scores of one evaluation, for DET plots and diagnostics.
#[derive(Debug, Clone)]
pub struct EvalScores {
    pub genuine: Vec<f64>,
    pub impostor: Vec<f64>,
    /// The EER and FMR1000 of each resampling of the fingers.
    pub replicates: Replicates,
}

impl EvalScores {
    /// Splits labelled comparisons into genuine (same finger) and impostor
    /// scores, in their order, and resamples the fingers for intervals.
    pub fn from_labelled(labelled: &[LabelledScore]) -> Self {
        let (genuine, impostor): (Vec<&LabelledScore>, Vec<&LabelledScore>) =
            labelled.iter().partition(|s| s.finger_a == s.finger_b);
        Self {
            genuine: genuine.iter().map(|s| s.score).collect(),
            impostor: impostor.iter().map(|s| s.score).collect(),
            replicates: SubsetBootstrap::new(labelled).replicates(REPLICATES, SEED),
        }
    }

    pub fn verification(&self) -> VerificationReport {
        VerificationReport::new(&self.genuine, &self.impostor)
    }

    pub fn det(&self) -> Vec<DetPoint> {
        Scores::new(&self.genuine, &self.impostor).det()
    }
}

/// The pairs a protocol compares, as `(a, b, genuine)` with `a < b`.
pub fn protocol_pairs(samples: &[Sample], protocol: Protocol) -> Vec<(usize, usize, bool)> {
    let first_impression = samples.iter().map(|s| s.impression).min().unwrap_or(1);
    let mut pairs = Vec::new();
    for a in 0..samples.len() {
        for b in a + 1..samples.len() {
            let same = samples[a].finger == samples[b].finger;
            let wanted = same
                || match protocol {
                    Protocol::AllPairs => true,
                    Protocol::Fvc => {
                        samples[a].impression == first_impression
                            && samples[b].impression == first_impression
                    }
                };
            if wanted {
                pairs.push((a, b, same));
            }
        }
    }
    pairs
}

/// Runs the protocol over `samples`. Comparisons with a failed template score
/// zero (they stay in the counts, as FVC does). The score is that of the
/// engine's symmetric 1:1 comparison ([`compare`]): the calibrated
/// `-log10 FMR`, ties broken by the raw score.
pub fn evaluate(
    samples: &[Sample],
    protocol: Protocol,
) -> anyhow::Result<(FingerEvalReport, EvalScores)> {
    let mut probes = Vec::with_capacity(samples.len());
    let mut blobs = Vec::with_capacity(samples.len());
    for s in samples {
        match &s.template {
            Some(t) => {
                probes.push(Some(PreparedProbe::new(t)?));
                blobs.push(Some(encode_gallery(t)?));
            }
            None => {
                probes.push(None);
                blobs.push(None);
            }
        }
    }
    let pairs = protocol_pairs(samples, protocol);
    // An error rate over no pairs would read as a perfect 0.
    let genuine = pairs.iter().filter(|p| p.2).count();
    anyhow::ensure!(
        genuine > 0,
        "no genuine pairs: the folder needs two impressions of at least one finger ({{finger}}_{{impression}}.png)"
    );
    anyhow::ensure!(
        genuine < pairs.len(),
        "no impostor pairs: the folder needs impressions of at least two fingers"
    );
    let mut labelled = Vec::new();
    let mut match_us = Vec::new();
    let mut score_us = Vec::new();
    for (a, b, _) in pairs {
        let score = match (
            &probes[a],
            &blobs[b],
            &samples[a].template,
            &samples[b].template,
        ) {
            (Some(probe), Some(blob), Some(template), Some(other)) => {
                // Timing of the 1:N path: a prepared probe against a blob,
                // and preparation plus scoring.
                let started = Instant::now();
                let s = probe.score(blob)?;
                score_us.push(started.elapsed().as_secs_f64() * 1e6);
                let started = Instant::now();
                let fresh = PreparedProbe::new(template)?;
                let again = fresh.score(blob)?;
                match_us.push(started.elapsed().as_secs_f64() * 1e6);
                debug_assert_eq!(s, again);
                // The figures use the engine's 1:1 comparison (symmetric,
                // as verification uses it): calibrated evidence, with the
                // raw score as a tiny tie breaker where the calibration
                // saturates at 0.
                let s = compare(template, other)?;
                f64::from(s.log10_fmr) + 1e-6 * f64::from(s.raw)
            }
            _ => 0.0,
        };
        labelled.push(LabelledScore {
            finger_a: samples[a].finger,
            finger_b: samples[b].finger,
            score,
        });
    }
    let scores = EvalScores::from_labelled(&labelled);
    let v = scores.verification();
    let enrolled: Vec<&FingerTemplate> =
        samples.iter().filter_map(|s| s.template.as_ref()).collect();
    let report = FingerEvalReport {
        protocol,
        n_samples: samples.len(),
        n_genuine: v.n_genuine,
        n_impostor: v.n_impostor,
        eer: v.eer,
        fmr100: v.fmr100,
        fmr1000: v.fmr1000,
        fmr10000: v.fmr10000,
        zero_fmr: v.zero_fmr,
        eer_interval: scores.replicates.eer_interval(),
        fmr1000_interval: scores.replicates.fmr1000_interval(),
        fte: fte_share(samples),
        match_us_median: median(&mut match_us),
        score_us_median: median(&mut score_us),
        mean_minutiae: mean(enrolled.iter().map(|t| t.minutiae.len() as f64)),
        mean_gallery_bytes: mean(blobs.iter().flatten().map(|b| b.len() as f64)),
        genuine_scores: ScoreSummary::of(&scores.genuine),
        impostor_scores: ScoreSummary::of(&scores.impostor),
    };
    Ok((report, scores))
}

/// Share of samples without a template: the extractor's failures to
/// extract, counted exactly as `hoviyat extract` reports them.
pub fn fte_share(samples: &[Sample]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.iter().filter(|s| s.template.is_none()).count() as f64 / samples.len() as f64
}

pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}
