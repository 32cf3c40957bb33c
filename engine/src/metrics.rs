//! Accuracy metrics of biometric comparison and search (ISO/IEC 19795-1
//! vocabulary): EER, FNMR at fixed FMR, ZeroFMR, DET curves, FNIR at FPIR,
//! and a DET plot as SVG.
//!
//! Scores are similarities: a comparison *matches* at threshold `t` when its
//! score is `>= t`. FMR(t) is the share of impostor scores `>= t`, FNMR(t) the
//! share of genuine scores `< t`.

use serde::Serialize;

/// The headline figures of a verification experiment. Rates are fractions
/// (0.0025 means 0.25 %).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerificationReport {
    pub n_genuine: usize,
    pub n_impostor: usize,
    pub eer: f64,
    /// FNMR at the lowest threshold whose FMR is at most 1 %.
    pub fmr100: f64,
    /// FNMR at the lowest threshold whose FMR is at most 0.1 %.
    pub fmr1000: f64,
    /// FNMR at the lowest threshold whose FMR is at most 0.01 %.
    pub fmr10000: f64,
    /// FNMR at the lowest threshold with no false match.
    pub zero_fmr: f64,
}

impl VerificationReport {
    /// Computes every figure from the two score sets. Non-finite scores are
    /// not expected; NaN sorts as the lowest score.
    pub fn new(genuine: &[f64], impostor: &[f64]) -> Self {
        let scores = Scores::new(genuine, impostor);
        Self {
            n_genuine: genuine.len(),
            n_impostor: impostor.len(),
            eer: scores.eer(),
            fmr100: scores.fnmr_at_fmr(0.01),
            fmr1000: scores.fnmr_at_fmr(0.001),
            fmr10000: scores.fnmr_at_fmr(0.0001),
            zero_fmr: scores.fnmr_at_fmr(0.0),
        }
    }
}

/// One point of a DET curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DetPoint {
    pub threshold: f64,
    pub fmr: f64,
    pub fnmr: f64,
}

/// Genuine and impostor scores, sorted once for all the figures.
#[derive(Debug, Clone)]
pub struct Scores {
    genuine: Vec<f64>,
    impostor: Vec<f64>,
}

impl Scores {
    pub fn new(genuine: &[f64], impostor: &[f64]) -> Self {
        let mut genuine = genuine.to_vec();
        let mut impostor = impostor.to_vec();
        genuine.sort_by(f64::total_cmp);
        impostor.sort_by(f64::total_cmp);
        Self { genuine, impostor }
    }

    /// Share of impostor scores `>= t`.
    pub fn fmr(&self, t: f64) -> f64 {
        share(
            self.impostor.len() - below(&self.impostor, t),
            self.impostor.len(),
        )
    }

    /// Share of genuine scores `< t`.
    pub fn fnmr(&self, t: f64) -> f64 {
        share(below(&self.genuine, t), self.genuine.len())
    }

    /// FNMR at the lowest threshold whose FMR is at most `max_fmr`.
    ///
    /// With `k = floor(max_fmr * n_impostor)` false matches allowed, that
    /// threshold lies just above the (k+1)-th highest impostor score `v`, so
    /// every genuine score `<= v` is a false non-match.
    pub fn fnmr_at_fmr(&self, max_fmr: f64) -> f64 {
        let n = self.impostor.len();
        let allowed = (max_fmr * n as f64 + 1e-9).floor() as usize;
        if allowed >= n {
            return 0.0;
        }
        let v = self.impostor[n - 1 - allowed];
        share(at_or_below(&self.genuine, v), self.genuine.len())
    }

    /// Equal error rate: where the FMR and FNMR curves cross. Evaluated at
    /// every distinct score; at the crossing, the mean of the two rates on
    /// the side where they are closest (FVC's convention for step curves).
    pub fn eer(&self) -> f64 {
        let det = self.det();
        let mut best = f64::INFINITY;
        let mut eer = 0.0;
        for p in &det {
            let gap = (p.fmr - p.fnmr).abs();
            if gap < best {
                best = gap;
                eer = (p.fmr + p.fnmr) / 2.0;
            }
        }
        eer
    }

    /// The DET curve at every distinct score (plus one threshold above all),
    /// thresholds ascending, so FMR descends and FNMR ascends.
    pub fn det(&self) -> Vec<DetPoint> {
        let mut thresholds: Vec<f64> = self.genuine.iter().chain(&self.impostor).copied().collect();
        thresholds.sort_by(f64::total_cmp);
        thresholds.dedup();
        if let Some(&top) = thresholds.last() {
            thresholds.push(next_up(top));
        }
        thresholds
            .into_iter()
            .map(|t| DetPoint {
                threshold: t,
                fmr: self.fmr(t),
                fnmr: self.fnmr(t),
            })
            .collect()
    }
}

/// Identification error rates at a threshold, from mated searches (the score
/// the mate got within the candidate list, `None` when it was not returned)
/// and non-mated searches (the best score any candidate got).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct IdentificationPoint {
    pub threshold: f64,
    /// Share of non-mated searches returning a candidate at or above threshold.
    pub fpir: f64,
    /// Share of mated searches whose mate is absent or below threshold.
    pub fnir: f64,
}

/// FNIR at the lowest threshold whose FPIR is at most `max_fpir`.
pub fn fnir_at_fpir(
    mated: &[Option<f64>],
    non_mated_best: &[f64],
    max_fpir: f64,
) -> IdentificationPoint {
    let mated_scores: Vec<f64> = mated
        .iter()
        .map(|s| s.unwrap_or(f64::NEG_INFINITY))
        .collect();
    let scores = Scores::new(&mated_scores, non_mated_best);
    let n = scores.impostor.len();
    let allowed = (max_fpir * n as f64 + 1e-9).floor() as usize;
    let threshold = if allowed >= n {
        f64::NEG_INFINITY
    } else {
        next_up(scores.impostor[n - 1 - allowed])
    };
    IdentificationPoint {
        threshold,
        fpir: scores.fmr(threshold),
        fnir: share(
            mated
                .iter()
                .filter(|s| s.is_none_or(|v| v < threshold))
                .count(),
            mated.len(),
        ),
    }
}

/// A DET plot (FNMR against FMR, both axes logarithmic) as a standalone SVG
/// document, one polyline per named curve.
pub fn det_svg(title: &str, curves: &[(&str, &[DetPoint])]) -> String {
    const W: f64 = 640.0;
    const H: f64 = 560.0;
    const LEFT: f64 = 80.0;
    const RIGHT: f64 = 20.0;
    const TOP: f64 = 50.0;
    const BOTTOM: f64 = 70.0;
    const DECADES: f64 = 5.0; // 1e-5 .. 1
    let x_of = |rate: f64| LEFT + (rate.max(1e-5).log10() + DECADES) / DECADES * (W - LEFT - RIGHT);
    let y_of =
        |rate: f64| TOP + (1.0 - (rate.max(1e-5).log10() + DECADES) / DECADES) * (H - TOP - BOTTOM);
    let colours = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"];
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" font-family=\"sans-serif\" font-size=\"13\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">{}</text>\n",
        W / 2.0,
        xml_escape(title)
    );
    for decade in 0..=5 {
        let rate = 10f64.powi(-decade);
        let label = match decade {
            0 => "100%".to_string(),
            1 => "10%".to_string(),
            2 => "1%".to_string(),
            d => format!("{}%", 10f64.powi(2 - d)),
        };
        let (x, y) = (x_of(rate), y_of(rate));
        svg += &format!(
            "<line x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/>\n\
             <line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>\n\
             <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{label}</text>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text>\n",
            H - BOTTOM,
            W - RIGHT,
            H - BOTTOM + 18.0,
            LEFT - 6.0,
            y + 4.0
        );
    }
    svg += &format!(
        "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"black\"/>\n\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">False match rate (FMR)</text>\n\
         <text transform=\"translate(20 {:.1}) rotate(-90)\" text-anchor=\"middle\">False non-match rate (FNMR)</text>\n",
        W - LEFT - RIGHT,
        H - TOP - BOTTOM,
        LEFT + (W - LEFT - RIGHT) / 2.0,
        H - 20.0,
        TOP + (H - TOP - BOTTOM) / 2.0
    );
    for (i, (name, points)) in curves.iter().enumerate() {
        let colour = colours[i % colours.len()];
        let path: Vec<String> = points
            .iter()
            .map(|p| format!("{:.1},{:.1}", x_of(p.fmr), y_of(p.fnmr)))
            .collect();
        svg += &format!(
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"{colour}\">{}</text>\n",
            path.join(" "),
            W - RIGHT - 10.0,
            TOP + 20.0 + 18.0 * i as f64,
            xml_escape(name)
        )
        .replace("<text x", "<text text-anchor=\"end\" x");
    }
    svg += "</svg>\n";
    svg
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn share(count: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        count as f64 / total as f64
    }
}

/// Number of sorted values strictly below `t`.
fn below(sorted: &[f64], t: f64) -> usize {
    sorted.partition_point(|&v| v < t)
}

/// Number of sorted values at or below `t`.
fn at_or_below(sorted: &[f64], t: f64) -> usize {
    sorted.partition_point(|&v| v <= t)
}

/// The smallest f64 greater than `x` (for finite `x`).
fn next_up(x: f64) -> f64 {
    if x.is_nan() || x == f64::INFINITY {
        return x;
    }
    if x == 0.0 {
        return f64::from_bits(1);
    }
    let bits = x.to_bits();
    f64::from_bits(if x > 0.0 { bits + 1 } else { bits - 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfectly_separated_scores_have_no_error() {
        let r = VerificationReport::new(&[0.9, 0.8, 0.95], &[0.1, 0.2, 0.3, 0.4]);
        assert_eq!(
            (r.eer, r.fmr100, r.fmr1000, r.zero_fmr),
            (0.0, 0.0, 0.0, 0.0)
        );
        assert_eq!((r.n_genuine, r.n_impostor), (3, 4));
    }

    #[test]
    fn zero_fmr_counts_genuines_at_or_below_the_best_impostor() {
        // Best impostor 0.6: genuine 0.5 and 0.6 fail at any threshold with FMR = 0.
        let s = Scores::new(&[0.5, 0.6, 0.7, 0.9], &[0.1, 0.6, 0.2, 0.3]);
        assert_eq!(s.fnmr_at_fmr(0.0), 0.5);
        // Allowing one false match in four (25 %) moves the threshold above 0.3.
        assert_eq!(s.fnmr_at_fmr(0.25), 0.0);
        assert_eq!(s.fmr(0.6), 0.25);
        assert_eq!(s.fnmr(0.6), 0.25);
    }

    #[test]
    fn fnmr_at_fmr_uses_the_allowed_number_of_false_matches() {
        // 1000 impostors spread uniformly on [0, 1); FMR 1 % allows 10 of them.
        let impostor: Vec<f64> = (0..1000).map(|i| i as f64 / 1000.0).collect();
        let genuine: Vec<f64> = (0..100).map(|i| 0.95 + i as f64 / 2000.0).collect();
        let s = Scores::new(&genuine, &impostor);
        // Threshold just above 0.989: genuine scores <= 0.989 are lost (0.95..0.989 -> 79 of 100).
        assert!((s.fnmr_at_fmr(0.01) - 0.79).abs() < 1e-12);
        assert_eq!(s.fnmr_at_fmr(1.0), 0.0);
    }

    #[test]
    fn eer_of_overlapping_distributions_is_where_rates_cross() {
        // Genuine 0.4..1.4, impostor 0..1: symmetric overlap, EER 30 %.
        let genuine: Vec<f64> = (0..1000).map(|i| 0.4 + i as f64 / 1000.0).collect();
        let impostor: Vec<f64> = (0..1000).map(|i| i as f64 / 1000.0).collect();
        let eer = Scores::new(&genuine, &impostor).eer();
        assert!((eer - 0.3).abs() < 0.002, "eer {eer}");
    }

    #[test]
    fn det_is_monotone() {
        let s = Scores::new(&[0.3, 0.5, 0.9, 0.7], &[0.1, 0.4, 0.6, 0.2]);
        let det = s.det();
        assert!(
            det.windows(2)
                .all(|w| w[0].fmr >= w[1].fmr && w[0].fnmr <= w[1].fnmr)
        );
        assert_eq!(det.first().map(|p| p.fmr), Some(1.0));
        assert_eq!(det.last().map(|p| (p.fmr, p.fnmr)), Some((0.0, 1.0)));
    }

    #[test]
    fn fnir_counts_missing_mates_and_mates_below_threshold() {
        let mated = [Some(0.9), None, Some(0.5), Some(0.8)];
        let non_mated = [0.1, 0.2, 0.6, 0.3];
        let p = fnir_at_fpir(&mated, &non_mated, 0.0);
        assert_eq!(p.fpir, 0.0);
        // Threshold just above 0.6: the missing mate and the 0.5 mate are lost.
        assert_eq!(p.fnir, 0.5);
    }

    #[test]
    fn det_svg_is_a_document_with_one_curve_per_input() {
        let s = Scores::new(&[0.3, 0.9], &[0.1, 0.4]);
        let det = s.det();
        let svg = det_svg("test <plot>", &[("ours", &det), ("peer", &det)]);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("test &lt;plot&gt;"));
    }
}
