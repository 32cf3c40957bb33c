//! The NIST NBIS peer, as pure-Rust ports (fprint-mindtct extraction,
//! fprint-bozorth3 matching): benchmark code only, never the engine's.
//!
//! MINDTCT runs on the same 500 dpi image our extractor gets (rescaled from
//! the scan resolution like ours), and BOZORTH3 takes MINDTCT's `xyt` output
//! as the NBIS tools pass it on. The comparison score is symmetric: the
//! larger of the two directions.

use std::time::Instant;

use fprint_bozorth3::{MIN_COMPUTABLE_BOZORTH_MINUTIAE, Minutia as BozMinutia, match_score};
use fprint_mindtct::{GrayImage as MindtctImage, detect_minutiae};
use hoviyat_engine::extract::{WORK_DPI, to_work_resolution};
use hoviyat_engine::metrics::VerificationReport;
use rayon::prelude::*;

use crate::fingers::{EvalScores, Protocol, protocol_pairs};
use crate::fvc::FvcDataset;
use crate::interval::LabelledScore;

/// NBIS's result on one dataset.
#[derive(Debug, Clone)]
pub struct NbisRun {
    pub report: VerificationReport,
    pub scores: EvalScores,
    /// Share of images with fewer minutiae than BOZORTH3 can compare.
    pub fte: f64,
    /// MINDTCT's wall time per image (rescaling excluded), milliseconds.
    pub extract_ms: Vec<f64>,
}

/// Extracts every image with MINDTCT and compares the protocol's pairs
/// with BOZORTH3.
pub fn evaluate_nbis(dataset: &FvcDataset, protocol: Protocol) -> anyhow::Result<NbisRun> {
    let extracted: Vec<(Option<Vec<BozMinutia>>, f64)> = (0..dataset.images.len())
        .into_par_iter()
        .map(|i| -> anyhow::Result<_> {
            let image = dataset.load_image(i)?;
            let work = to_work_resolution(&image, dataset.dpi)?;
            let (w, h) = (work.width() as usize, work.height() as usize);
            let Ok(input) = MindtctImage::new(work.as_raw(), w, h, WORK_DPI) else {
                return Ok((None, 0.0));
            };
            let started = Instant::now();
            let minutiae = detect_minutiae(input);
            let ms = started.elapsed().as_secs_f64() * 1e3;
            let xyt: Vec<BozMinutia> = minutiae
                .iter()
                .map(|m| BozMinutia {
                    x: m.x,
                    y: m.y,
                    theta: m.theta,
                })
                .collect();
            let usable = xyt.len() >= MIN_COMPUTABLE_BOZORTH_MINUTIAE;
            Ok((usable.then_some(xyt), ms))
        })
        .collect::<anyhow::Result<_>>()?;
    let (templates, extract_ms): (Vec<_>, Vec<f64>) = extracted.into_iter().unzip();
    // Only the finger and impression of the samples matter to the protocol.
    let samples: Vec<crate::fingers::Sample> = dataset
        .images
        .iter()
        .map(|img| crate::fingers::Sample {
            finger: img.finger,
            impression: img.impression,
            template: None,
        })
        .collect();
    let pairs = protocol_pairs(&samples, protocol);
    let labelled: Vec<LabelledScore> = pairs
        .par_iter()
        .map(|&(a, b, _)| {
            let score = match (&templates[a], &templates[b]) {
                (Some(x), Some(y)) => match_score(x, y).max(match_score(y, x)),
                _ => 0,
            };
            LabelledScore {
                finger_a: samples[a].finger,
                finger_b: samples[b].finger,
                score: f64::from(score),
            }
        })
        .collect();
    let scores = EvalScores::from_labelled(&labelled);
    let failed = templates.iter().filter(|t| t.is_none()).count();
    Ok(NbisRun {
        report: scores.verification(),
        scores,
        fte: failed as f64 / templates.len().max(1) as f64,
        extract_ms,
    })
}
