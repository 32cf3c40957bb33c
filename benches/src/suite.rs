//! `hoviyat eval suite`: every dataset folder under a root, three rows each
//! measured in the same run: our extraction and matching (`hoviyat`), our
//! matcher on another extractor's minutiae from `iso/` (`hoviyat-on-iso`),
//! and the NBIS peer (`nbis`).

use std::collections::BTreeMap;
use std::path::Path;

use hoviyat_engine::metrics::{DetPoint, VerificationReport};
use serde::Serialize;

use crate::fingers::{EvalScores, Protocol, evaluate, fte_share, median};
use crate::fvc::FvcDataset;
use crate::interval::{Interval, Intervals, Replicates};
use hoviyat_datasets::fvc::find_datasets;

/// Row kind: our extractor and matcher.
pub const HOVIYAT: &str = "hoviyat";
/// Row kind: our matcher on the `iso/` records.
pub const HOVIYAT_ON_ISO: &str = "hoviyat-on-iso";
/// Row kind: NBIS mindtct + bozorth3 (Rust ports).
pub const NBIS: &str = "nbis";

/// One system's figures on one dataset.
#[derive(Debug, Clone, Serialize)]
pub struct SuiteRow {
    pub kind: &'static str,
    pub eer: f64,
    /// 95 % interval of the EER over resamplings of the fingers
    /// ([`crate::interval`]).
    pub eer_interval: Interval,
    pub fmr100: f64,
    pub fmr1000: f64,
    pub fmr1000_interval: Interval,
    pub zero_fmr: f64,
    pub fte: f64,
    pub n_genuine: usize,
    pub n_impostor: usize,
    /// Median extraction time per image, ms; `None` where nothing was
    /// extracted (`hoviyat-on-iso`).
    pub extract_ms_median: Option<f64>,
    /// Mean minutiae per template (`None` for `nbis`).
    pub mean_minutiae: Option<f64>,
    #[serde(skip)]
    pub det: Vec<DetPoint>,
    #[serde(skip)]
    pub replicates: Replicates,
}

/// One dataset's rows.
#[derive(Debug, Clone, Serialize)]
pub struct SuiteDataset {
    pub name: String,
    pub dpi: u16,
    pub images: usize,
    pub rows: Vec<SuiteRow>,
    /// The `hoviyat` row's EER and FMR1000 minus each other row's, 95 %
    /// intervals over the same resamplings of the fingers (a paired
    /// comparison: below zero where `hoviyat` is better).
    pub hoviyat_minus: BTreeMap<&'static str, Intervals>,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct SuiteReport {
    pub protocol: Protocol,
    pub datasets: Vec<SuiteDataset>,
    /// Mean EER per row kind over the datasets that have that row.
    pub mean_eer: BTreeMap<&'static str, f64>,
    /// Mean FMR1000 per row kind, likewise.
    pub mean_fmr1000: BTreeMap<&'static str, f64>,
    /// 95 % interval of each mean EER: the datasets' fingers resampled
    /// independently, the mean taken replicate by replicate.
    pub mean_eer_interval: BTreeMap<&'static str, Interval>,
    /// 95 % interval of each mean FMR1000, likewise.
    pub mean_fmr1000_interval: BTreeMap<&'static str, Interval>,
    /// The mean over datasets of each dataset's `hoviyat_minus`, 95 %
    /// intervals.
    pub mean_hoviyat_minus: BTreeMap<&'static str, Intervals>,
}

/// Which rows to compute.
#[derive(Debug, Clone, Copy)]
pub struct SuiteOptions {
    pub protocol: Protocol,
    /// Run the NBIS peer (needs the `bozorth3` feature).
    pub nbis: bool,
}

/// Evaluates every dataset folder under `root` (see [`find_datasets`]);
/// `progress` is told each step as it starts.
pub fn run_suite(
    root: &Path,
    options: SuiteOptions,
    mut progress: impl FnMut(&str, &str),
) -> anyhow::Result<SuiteReport> {
    let mut datasets = Vec::new();
    // Each peer's paired difference from `hoviyat`, per dataset.
    let mut differences: BTreeMap<&'static str, Vec<Replicates>> = BTreeMap::new();
    for dir in find_datasets(root)? {
        let ds = FvcDataset::open(&dir, None)?;
        let mut rows = Vec::new();

        progress(&ds.name, HOVIYAT);
        let mut extracted = ds.extract_samples()?;
        let (report, scores) = evaluate(&extracted.samples, options.protocol)?;
        rows.push(row(
            HOVIYAT,
            report.verification(),
            report.fte,
            Some(median(&mut extracted.extract_ms)),
            Some(report.mean_minutiae),
            &scores,
        ));

        if ds.has_iso() {
            progress(&ds.name, HOVIYAT_ON_ISO);
            let samples = ds.iso_samples()?;
            let (report, scores) = evaluate(&samples, options.protocol)?;
            rows.push(row(
                HOVIYAT_ON_ISO,
                report.verification(),
                fte_share(&samples),
                None,
                Some(report.mean_minutiae),
                &scores,
            ));
        }

        if options.nbis {
            progress(&ds.name, NBIS);
            if let Some(row) = nbis_row(&ds, options.protocol)? {
                rows.push(row);
            }
        }
        let mut hoviyat_minus = BTreeMap::new();
        for (kind, d) in paired_differences(&rows) {
            hoviyat_minus.insert(kind, d.intervals());
            differences.entry(kind).or_default().push(d);
        }
        datasets.push(SuiteDataset {
            name: ds.name.clone(),
            dpi: ds.dpi,
            images: ds.images.len(),
            rows,
            hoviyat_minus,
        });
    }
    let mean_of = |figure: fn(&SuiteRow) -> f64| {
        let mut sums: BTreeMap<&'static str, (f64, usize)> = BTreeMap::new();
        for row in datasets.iter().flat_map(|d| &d.rows) {
            let entry = sums.entry(row.kind).or_default();
            entry.0 += figure(row);
            entry.1 += 1;
        }
        sums.into_iter()
            .map(|(k, (sum, n))| (k, sum / n as f64))
            .collect()
    };
    let mut replicates: BTreeMap<&'static str, Vec<&Replicates>> = BTreeMap::new();
    for row in datasets.iter().flat_map(|d| &d.rows) {
        replicates
            .entry(row.kind)
            .or_default()
            .push(&row.replicates);
    }
    let means: BTreeMap<&'static str, Replicates> = replicates
        .into_iter()
        .map(|(kind, sets)| (kind, Replicates::mean_of(&sets)))
        .collect();
    let mean_hoviyat_minus = differences
        .into_iter()
        .map(|(kind, sets)| {
            let sets: Vec<&Replicates> = sets.iter().collect();
            (kind, Replicates::mean_of(&sets).intervals())
        })
        .collect();
    Ok(SuiteReport {
        protocol: options.protocol,
        mean_hoviyat_minus,
        mean_eer: mean_of(|r| r.eer),
        mean_fmr1000: mean_of(|r| r.fmr1000),
        mean_eer_interval: means.iter().map(|(k, r)| (*k, r.eer_interval())).collect(),
        mean_fmr1000_interval: means
            .iter()
            .map(|(k, r)| (*k, r.fmr1000_interval()))
            .collect(),
        datasets,
    })
}

/// Each other row's replicates subtracted from the `hoviyat` row's.
fn paired_differences(rows: &[SuiteRow]) -> impl Iterator<Item = (&'static str, Replicates)> + '_ {
    let ours = rows.iter().find(|r| r.kind == HOVIYAT);
    rows.iter()
        .filter(|r| r.kind != HOVIYAT)
        .filter_map(move |r| Some((r.kind, ours?.replicates.minus(&r.replicates))))
}

fn row(
    kind: &'static str,
    v: VerificationReport,
    fte: f64,
    extract_ms_median: Option<f64>,
    mean_minutiae: Option<f64>,
    scores: &EvalScores,
) -> SuiteRow {
    SuiteRow {
        kind,
        eer: v.eer,
        eer_interval: scores.replicates.eer_interval(),
        fmr100: v.fmr100,
        fmr1000: v.fmr1000,
        fmr1000_interval: scores.replicates.fmr1000_interval(),
        zero_fmr: v.zero_fmr,
        fte,
        n_genuine: v.n_genuine,
        n_impostor: v.n_impostor,
        extract_ms_median,
        mean_minutiae,
        det: scores.det(),
        replicates: scores.replicates.clone(),
    }
}

#[cfg(feature = "bozorth3")]
fn nbis_row(ds: &FvcDataset, protocol: Protocol) -> anyhow::Result<Option<SuiteRow>> {
    let mut run = crate::nbis::evaluate_nbis(ds, protocol)?;
    Ok(Some(row(
        NBIS,
        run.report.clone(),
        run.fte,
        Some(median(&mut run.extract_ms)),
        None,
        &run.scores,
    )))
}

#[cfg(not(feature = "bozorth3"))]
fn nbis_row(_: &FvcDataset, _: Protocol) -> anyhow::Result<Option<SuiteRow>> {
    Ok(None)
}
