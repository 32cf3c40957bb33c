//! Per-minutia quality and an NFIQ-like image quality score, both 0-100.
//!
//! The image score multiplies four factors, each in [0, 1], so that any one
//! failing (a smudge, a dry print, a partial or empty image) pulls it down:
//! ridge clarity (local orientation coherence of the foreground), area,
//! share of blocks with a measurable ridge period, and minutiae count.

/// Foreground area at which the area factor saturates: about 11 x 11 mm at
/// 500 dpi, the size of a small flat capture.
const FULL_AREA_PX: f32 = 48_000.0;
/// Minutiae count at which that factor saturates.
const FULL_MINUTIAE: f32 = 25.0;

/// Quality of one minutia from the clarity of its neighbourhood and its
/// distance to the foreground border.
pub fn minutia_quality(local_coherence: f32, border_dist_blocks: u8) -> u8 {
    let clarity = ((local_coherence - 0.3) / 0.6).clamp(0.0, 1.0);
    let inside = (f32::from(border_dist_blocks) / 5.0).min(1.0);
    (100.0 * (0.7 * clarity + 0.3 * inside)).round() as u8
}

/// What the image score is computed from.
#[derive(Debug, Clone, Copy)]
pub struct ImageQualityInputs {
    pub foreground_px: f32,
    /// Mean local coherence over the foreground blocks.
    pub mean_coherence: f32,
    /// Share of foreground blocks with a valid ridge-period estimate.
    pub period_valid_share: f32,
    pub minutiae: usize,
}

/// The image quality score, 0 (unusable) to 100 (excellent).
pub fn image_quality(q: &ImageQualityInputs) -> u8 {
    let clarity = ((q.mean_coherence - 0.25) / 0.5).clamp(0.0, 1.0);
    let area = (q.foreground_px / FULL_AREA_PX).clamp(0.0, 1.0);
    let period = q.period_valid_share.clamp(0.0, 1.0);
    let minutiae = (q.minutiae as f32 / FULL_MINUTIAE).clamp(0.0, 1.0);
    let score = clarity * area.sqrt() * period.sqrt() * minutiae.powf(0.25);
    (100.0 * score).round().clamp(0.0, 100.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_factor_lowers_the_image_score() {
        let good = ImageQualityInputs {
            foreground_px: 60_000.0,
            mean_coherence: 0.8,
            period_valid_share: 0.95,
            minutiae: 40,
        };
        let g = image_quality(&good);
        assert!(g > 85, "good {g}");
        let smudged = ImageQualityInputs {
            mean_coherence: 0.4,
            ..good
        };
        let partial = ImageQualityInputs {
            foreground_px: 8_000.0,
            minutiae: 6,
            ..good
        };
        let empty = ImageQualityInputs {
            foreground_px: 0.0,
            minutiae: 0,
            ..good
        };
        assert!(image_quality(&smudged) < g / 2);
        assert!(image_quality(&partial) < g / 2);
        assert_eq!(image_quality(&empty), 0);
        assert!(minutia_quality(0.9, 6) > minutia_quality(0.4, 1));
    }
}
