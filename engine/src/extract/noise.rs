//! Pixel noise of a capture, and the smoothing a noisy one gets before
//! extraction.
//!
//! Capacitive sensors and worn optics add grain of a few grey levels per
//! pixel. On a noisy capture, whether a faint ridge gap or bridge survives
//! binarisation depends on that grain, so two captures of one finger (or
//! one capture, resampled) disagree on minutiae the finger does not have:
//! on FVC2002 DB3_B (capacitive) the extractor found again only 85 % of an
//! image's interior minutiae after a mere rotation of the image, against
//! 90-94 % on the optical and synthetic sets
//! (`robustness_extraction` example, BENCHMARKS.md session 14). A light
//! Gaussian smoothing, in proportion to the grain measured, removes most
//! of it while leaving ridges (8-12 px apart at 500 dpi) intact; clean
//! captures are not touched.
//!
//! The grain is estimated with Immerkær's operator (Fast Noise Variance
//! Estimation, CVIU 64(2), 1996): the mean absolute response to a 3 x 3
//! mask that cancels locally linear image structure, scaled to a standard
//! deviation of white Gaussian noise. Ridges leak into it a little (about
//! 1-2 grey levels on clean 500 dpi prints), so it is read relative to the
//! image's contrast.

use image::GrayImage;

/// Noise-to-contrast ratio (estimated noise standard deviation over the
/// grey-level standard deviation of the image) below which a capture is
/// left as it is, and from which it gets the full smoothing. Clean optical
/// and synthetic captures measure 0.02-0.07 (FVC2002 DB1_B, DB2_B, DB4_B,
/// 10th-90th percentile), pyfnprint 0.08-0.15, FVC2002 DB3_B 0.14-0.22.
pub const NOISE_FROM: f32 = 0.05;
pub const NOISE_FULL: f32 = 0.15;
/// Gaussian smoothing (sigma, pixels at 500 dpi) of a capture at or above
/// [`NOISE_FULL`]. Measured on FVC2002 (own extraction, all pairs): 0.5 /
/// 0.6 / 0.75 gave DB3_B 2.85 / 1.78 / 2.85 % EER (3.89 % without); a
/// sigma of 0.9 for every image cost DB2_B and DB4_B (1.07 -> 1.78 %, 0.72
/// -> 3.57 %), which is why the smoothing follows the measured noise.
pub const SMOOTHING_SIGMA_PX: f32 = 0.6;
/// Smoothing under this sigma is skipped: it would move grey levels by
/// less than rounding does.
const MIN_SIGMA_PX: f32 = 0.05;

/// Estimated standard deviation of the pixel noise, grey levels; 0 for
/// images under 3 px on a side.
pub fn noise_sigma(image: &GrayImage) -> f32 {
    let (w, h) = (image.width() as usize, image.height() as usize);
    if w < 3 || h < 3 {
        return 0.0;
    }
    // [1 -2 1; -2 4 -2; 1 -2 1] is the second difference across rows of
    // the rows' second differences along them: each row's is computed
    // once, three rows kept at a time.
    // In i16 (at most 4 x 255 and 16 x 255 in magnitude) so that the
    // compiler vectorises the slices.
    let along = |y: usize, out: &mut Vec<i16>| {
        let row = &image.as_raw()[y * w..(y + 1) * w];
        out.clear();
        out.extend(
            row.iter()
                .zip(&row[1..])
                .zip(&row[2..])
                .map(|((&a, &b), &c)| i16::from(a) - 2 * i16::from(b) + i16::from(c)),
        );
    };
    let (mut above, mut here, mut below) = (Vec::new(), Vec::new(), Vec::new());
    along(0, &mut above);
    along(1, &mut here);
    let mut sum = 0u64;
    for y in 2..h {
        along(y, &mut below);
        let row_sum: u32 = above
            .iter()
            .zip(&here)
            .zip(&below)
            .map(|((&a, &b), &c)| u32::from((a - 2 * b + c).unsigned_abs()))
            .sum();
        sum += u64::from(row_sum);
        std::mem::swap(&mut above, &mut here);
        std::mem::swap(&mut here, &mut below);
    }
    let n = ((w - 2) * (h - 2)) as f64;
    ((std::f64::consts::FRAC_PI_2).sqrt() * sum as f64 / (6.0 * n)) as f32
}

/// [`noise_sigma`] over the image's grey-level standard deviation (its
/// contrast); 0 for a flat image.
pub fn noise_to_contrast(image: &GrayImage) -> f32 {
    let px = image.as_raw();
    if px.is_empty() {
        return 0.0;
    }
    let n = px.len() as f64;
    let mean = px.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = px
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    let sd = var.sqrt() as f32;
    if sd < 1.0 {
        return 0.0;
    }
    noise_sigma(image) / sd
}

/// Smoothing sigma (pixels) for a capture with this noise-to-contrast
/// ratio: none up to [`NOISE_FROM`], rising linearly to
/// [`SMOOTHING_SIGMA_PX`] at [`NOISE_FULL`].
pub fn smoothing_sigma(noise_to_contrast: f32) -> f32 {
    let t = ((noise_to_contrast - NOISE_FROM) / (NOISE_FULL - NOISE_FROM)).clamp(0.0, 1.0);
    SMOOTHING_SIGMA_PX * t
}

/// `image` smoothed as much as its measured noise calls for, or `None`
/// when it is clean enough to extract from as it is.
pub fn denoised(image: &GrayImage) -> Option<GrayImage> {
    let sigma = smoothing_sigma(noise_to_contrast(image));
    (sigma >= MIN_SIGMA_PX).then(|| imageproc::filter::gaussian_blur_f32(image, sigma))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Seeded Gaussian samples of standard deviation `sigma` (Box-Muller).
    pub(crate) fn gaussian(sigma: f32, seed: u64) -> impl FnMut() -> f32 {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        move || {
            let (u, v): (f32, f32) = (rng.random_range(f32::EPSILON..1.0), rng.random());
            sigma * (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
        }
    }

    /// A smooth ramp with seeded Gaussian noise of `sigma` grey levels.
    fn noisy_ramp(sigma: f32, seed: u64) -> GrayImage {
        let mut noise = gaussian(sigma, seed);
        GrayImage::from_fn(200, 150, |x, y| {
            let v = 60.0 + 0.5 * x as f32 + 0.3 * y as f32 + noise();
            image::Luma([v.round().clamp(0.0, 255.0) as u8])
        })
    }

    #[test]
    fn the_estimate_recovers_added_noise_and_ignores_smooth_structure() {
        assert!(noise_sigma(&noisy_ramp(0.0, 1)) < 0.5);
        for (sigma, seed) in [(4.0, 2), (8.0, 3), (12.0, 4)] {
            let estimate = noise_sigma(&noisy_ramp(sigma, seed));
            assert!(
                (estimate - sigma).abs() < 0.15 * sigma,
                "added {sigma}, estimated {estimate}"
            );
        }
    }

    #[test]
    fn clean_captures_are_left_alone_and_noisy_ones_smoothed() {
        assert_eq!(smoothing_sigma(0.03), 0.0);
        assert_eq!(smoothing_sigma(NOISE_FROM), 0.0);
        assert_eq!(smoothing_sigma(0.3), SMOOTHING_SIGMA_PX);
        assert!(smoothing_sigma(0.1) > 0.0 && smoothing_sigma(0.1) < SMOOTHING_SIGMA_PX);
        // Ridges 9 px apart, full contrast, no grain: untouched.
        let ridges = GrayImage::from_fn(200, 200, |x, _| {
            let phase = std::f32::consts::TAU * x as f32 / 9.0;
            image::Luma([(128.0 + 100.0 * phase.cos()) as u8])
        });
        assert!(
            denoised(&ridges).is_none(),
            "{}",
            noise_to_contrast(&ridges)
        );
        // The same ridges under heavy grain: smoothed, and the grain falls.
        let mut noise = gaussian(25.0, 5);
        let grainy = GrayImage::from_fn(200, 200, |x, y| {
            let v = f32::from(ridges.get_pixel(x, y).0[0]) + noise();
            image::Luma([v.round().clamp(0.0, 255.0) as u8])
        });
        let smoothed = denoised(&grainy).expect("a grainy capture is smoothed");
        assert!(noise_sigma(&smoothed) < 0.6 * noise_sigma(&grainy));
    }
}
