//! Local ridge period (inverse frequency) per block, from the grey-level
//! signature across the ridges (after Hong, Wan and Jain, 1998).

use super::enhance::{ORIENT_BINS, PAD, Padded, orient_bin};
use super::orientation::{BLOCK_PX, BlockField};

/// Shortest and longest ridge period kept, in pixels at 500 dpi.
pub const PERIOD_MIN_PX: f32 = 4.0;
pub const PERIOD_MAX_PX: f32 = 16.0;
/// Ridge period assumed where no block gives an estimate (typical adult
/// finger at 500 dpi).
pub const DEFAULT_PERIOD_PX: f32 = 9.0;

/// Half-length of the signature across the ridges, in pixels.
const HALF_SPAN: i32 = 16;
const SPAN: usize = (2 * HALF_SPAN + 1) as usize;
/// Offsets along the ridge summed into each signature sample.
const ALONG_PX: [f32; 3] = [-4.0, 0.0, 4.0];

/// Per orientation bin, per signature sample, the buffer offsets of the
/// pixels summed into it (block centre rounded down to a pixel).
fn signature_offsets(stride: usize) -> Vec<[[isize; 3]; SPAN]> {
    (0..ORIENT_BINS)
        .map(|o| {
            let theta = o as f32 * std::f32::consts::PI / ORIENT_BINS as f32;
            let (s, c) = theta.sin_cos();
            let (tx, ty, nx, ny) = (c, s, -s, c);
            std::array::from_fn(|k| {
                let kk = k as f32 - HALF_SPAN as f32;
                ALONG_PX.map(|j| {
                    let dx = (0.5 + kk * nx + j * tx).floor() as isize;
                    let dy = (0.5 + kk * ny + j * ty).floor() as isize;
                    dy * stride as isize + dx
                })
            })
        })
        .collect()
}

/// Ridge periods of the foreground blocks.
#[derive(Debug, Clone)]
pub struct PeriodMap {
    /// Smoothed period per block (pixels), defined on every block.
    pub period_px: Vec<f32>,
    /// Share of foreground blocks whose own signature gave a valid period.
    pub valid_share: f32,
}

/// Estimates ridge periods of the foreground blocks of `img`.
pub fn estimate(img: &Padded, field: &BlockField, mask: &[bool]) -> PeriodMap {
    let (bw, bh) = (field.bw, field.bh);
    let mut raw = vec![f32::NAN; bw * bh];
    let mut signature = [0f32; SPAN];
    let tables = signature_offsets(img.stride);
    let mut fg = 0usize;
    let mut valid = 0usize;
    for by in 0..bh {
        for bx in 0..bw {
            let b = by * bw + bx;
            if !mask[b] {
                continue;
            }
            fg += 1;
            let cx = (bx * BLOCK_PX) as f32 + 3.5;
            let cy = (by * BLOCK_PX) as f32 + 3.5;
            let taps = &tables[orient_bin(field.theta[b])];
            let (ix, iy) = (cx as usize, cy as usize);
            if ix + PAD >= HALF_SPAN as usize + 5
                && iy + PAD >= HALF_SPAN as usize + 5
                && ix + HALF_SPAN as usize + 5 < img.width + PAD
                && iy + HALF_SPAN as usize + 5 < img.height + PAD
            {
                // The whole signature lies inside the padded buffer.
                let centre = img.index(ix, iy) as isize;
                for (slot, offs) in signature.iter_mut().zip(taps) {
                    *slot = offs.iter().map(|&o| img.data[(centre + o) as usize]).sum();
                }
            } else {
                sample_across(img, field.theta[b], (cx, cy), &ALONG_PX, &mut signature);
            }
            if let Some(p) = period_of(&signature) {
                raw[b] = p;
                valid += 1;
            }
        }
    }
    let mut valid_periods: Vec<f32> = raw.iter().copied().filter(|p| p.is_finite()).collect();
    valid_periods.sort_by(f32::total_cmp);
    let fallback = valid_periods
        .get(valid_periods.len() / 2)
        .copied()
        .unwrap_or(DEFAULT_PERIOD_PX);
    let mut period_px = vec![fallback; bw * bh];
    for by in 0..bh {
        for bx in 0..bw {
            let mut acc = 0.0;
            let mut wsum = 0.0;
            for yy in by.saturating_sub(2)..(by + 3).min(bh) {
                for xx in bx.saturating_sub(2)..(bx + 3).min(bw) {
                    let p = raw[yy * bw + xx];
                    if p.is_finite() {
                        let w = 3.0 - (xx.abs_diff(bx).max(yy.abs_diff(by))) as f32;
                        acc += w * p;
                        wsum += w;
                    }
                }
            }
            if wsum > 0.0 {
                period_px[by * bw + bx] = (acc / wsum).clamp(PERIOD_MIN_PX, PERIOD_MAX_PX);
            }
        }
    }
    PeriodMap {
        period_px,
        valid_share: if fg == 0 {
            0.0
        } else {
            valid as f32 / fg as f32
        },
    }
}

/// Periods searched by the spectral ridge test, pixels: wider than the
/// ridge band so that a step edge or a slow shading (which peak at the long
/// end) is told apart from ridges.
const SPECTRUM_PERIOD_MIN_PX: f32 = 3.0;
const SPECTRUM_PERIOD_MAX_PX: f32 = 25.0;
const SPECTRUM_BINS: usize = 32;
/// Offsets along the ridge summed into each sample of the evidence signature.
const EVIDENCE_ALONG_PX: [f32; 5] = [-6.0, -3.0, 0.0, 3.0, 6.0];

/// Per-block spectral evidence of ridges, computed before segmentation.
#[derive(Debug, Clone)]
pub struct RidgeEvidence {
    /// Share of the windowed signature energy across the ridges that one
    /// frequency explains, 0 to 1 (about 0.1 for noise, 1 for a clean
    /// sinusoid); 0 for blocks not examined.
    pub purity: Vec<f32>,
    /// Period of that frequency, pixels.
    pub period_px: Vec<f32>,
}

impl RidgeEvidence {
    /// Whether block `b` shows a ridge spectrum: one dominant frequency
    /// inside the ridge band.
    #[inline]
    pub fn is_ridge(&self, b: usize, min_purity: f32) -> bool {
        self.purity[b] >= min_purity && (PERIOD_MIN_PX..=PERIOD_MAX_PX).contains(&self.period_px[b])
    }
}

struct SpectrumTables {
    window: [f32; SPAN],
    /// Per bin: period and window-weighted cos / sin.
    periods: [f32; SPECTRUM_BINS],
    cos: Vec<[f32; SPAN]>,
    sin: Vec<[f32; SPAN]>,
    window_sum: f32,
}

fn spectrum_tables() -> &'static SpectrumTables {
    static T: std::sync::OnceLock<SpectrumTables> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        let window: [f32; SPAN] = std::array::from_fn(|k| {
            let t = (k as f32 + 1.0) / (SPAN as f32 + 1.0);
            0.5 - 0.5 * (std::f32::consts::TAU * t).cos()
        });
        let (fmin, fmax) = (1.0 / SPECTRUM_PERIOD_MAX_PX, 1.0 / SPECTRUM_PERIOD_MIN_PX);
        let periods: [f32; SPECTRUM_BINS] = std::array::from_fn(|i| {
            1.0 / (fmin + (fmax - fmin) * i as f32 / (SPECTRUM_BINS - 1) as f32)
        });
        let cos = periods
            .iter()
            .map(|&p| {
                std::array::from_fn(|k| window[k] * (std::f32::consts::TAU * k as f32 / p).cos())
            })
            .collect();
        let sin = periods
            .iter()
            .map(|&p| {
                std::array::from_fn(|k| window[k] * (std::f32::consts::TAU * k as f32 / p).sin())
            })
            .collect();
        SpectrumTables {
            window,
            periods,
            cos,
            sin,
            window_sum: window.iter().sum(),
        }
    })
}

/// Spectral purity and period of one signature across the ridges.
fn spectrum_of(sig: &[f32; SPAN]) -> (f32, f32) {
    let t = spectrum_tables();
    let mean = sig.iter().zip(&t.window).map(|(s, w)| s * w).sum::<f32>() / t.window_sum;
    let centred: [f32; SPAN] = std::array::from_fn(|k| sig[k] - mean);
    let energy: f32 = centred.iter().zip(&t.window).map(|(c, w)| w * c * c).sum();
    if energy <= 1e-3 {
        return (0.0, 0.0);
    }
    let (mut best, mut best_p) = (0f32, 0f32);
    for ((cos, sin), &period) in t.cos.iter().zip(&t.sin).zip(&t.periods) {
        let (mut re, mut im) = (0f32, 0f32);
        for ((c, ck), sk) in centred.iter().zip(cos).zip(sin) {
            re += c * ck;
            im += c * sk;
        }
        let power = re * re + im * im;
        if power > best {
            best = power;
            best_p = period;
        }
    }
    // A sinusoid of amplitude A gives |X| = A W / 2 and energy A^2 W / 2.
    ((best / (energy * t.window_sum / 2.0)).min(1.0), best_p)
}

/// Spectral ridge evidence of the blocks in `examine`, from the signature
/// across the local orientation on the unprocessed image.
pub fn ridge_evidence(img: &Padded, field: &BlockField, examine: &[bool]) -> RidgeEvidence {
    let (bw, bh) = (field.bw, field.bh);
    let mut purity = vec![0f32; bw * bh];
    let mut period_px = vec![0f32; bw * bh];
    let mut signature = [0f32; SPAN];
    for by in 0..bh {
        for bx in 0..bw {
            let b = by * bw + bx;
            if !examine[b] {
                continue;
            }
            let cx = (bx * BLOCK_PX) as f32 + 3.5;
            let cy = (by * BLOCK_PX) as f32 + 3.5;
            sample_across(
                img,
                field.theta[b],
                (cx, cy),
                &EVIDENCE_ALONG_PX,
                &mut signature,
            );
            let (p, per) = spectrum_of(&signature);
            purity[b] = p;
            period_px[b] = per;
        }
    }
    RidgeEvidence { purity, period_px }
}

/// The signature across the ridges through `centre` (ridge orientation
/// `theta`): sample `k` sums the image, by nearest neighbour, at the offsets
/// `along` the ridge from the point `k - HALF_SPAN` pixels across it.
fn sample_across(
    img: &Padded,
    theta: f32,
    (cx, cy): (f32, f32),
    along: &[f32],
    signature: &mut [f32; SPAN],
) {
    let (s, c) = theta.sin_cos();
    // t along the ridge, n across it.
    let (tx, ty, nx, ny) = (c, s, -s, c);
    for (k, slot) in signature.iter_mut().enumerate() {
        let kk = k as f32 - HALF_SPAN as f32;
        *slot = along
            .iter()
            .map(|&j| img.sample_nearest(cx + kk * nx + j * tx, cy + kk * ny + j * ty))
            .sum();
    }
}

/// The ridge period of a signature: mean distance between consecutive peaks
/// (and between consecutive troughs), if the signature is periodic enough.
fn period_of(sig: &[f32]) -> Option<f32> {
    let n = sig.len();
    let mut sm = vec![0f32; n];
    for k in 0..n {
        let a = sig[k.saturating_sub(1)];
        let b = sig[(k + 1).min(n - 1)];
        sm[k] = 0.25 * a + 0.5 * sig[k] + 0.25 * b;
    }
    let (lo, hi) = sm
        .iter()
        .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    // Three samples are summed per position: 6 grey levels of swing.
    if hi - lo < 6.0 {
        return None;
    }
    let mut estimates = Vec::with_capacity(2);
    for sign in [1.0f32, -1.0] {
        let mut first = None;
        let mut last = 0usize;
        let mut count = 0usize;
        for k in 1..n - 1 {
            let (a, v, b) = (sign * sm[k - 1], sign * sm[k], sign * sm[k + 1]);
            if v > a && v >= b {
                first.get_or_insert(k);
                last = k;
                count += 1;
            }
        }
        if let Some(first) = first
            && count >= 2
        {
            estimates.push((last - first) as f32 / (count - 1) as f32);
        }
    }
    if estimates.is_empty() {
        return None;
    }
    let p = estimates.iter().sum::<f32>() / estimates.len() as f32;
    (3.0..=20.0).contains(&p).then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ridge_spectrum_is_pure_for_ridges_and_not_for_edges_or_noise() {
        let sine: [f32; SPAN] =
            std::array::from_fn(|k| 300.0 + 100.0 * (std::f32::consts::TAU * k as f32 / 9.0).cos());
        let (purity, period) = spectrum_of(&sine);
        assert!(purity > 0.8, "purity {purity}");
        assert!((period - 9.0).abs() < 1.0, "period {period}");
        // A step edge peaks at the long end of the band, outside the ridge
        // periods.
        let step: [f32; SPAN] = std::array::from_fn(|k| if k < SPAN / 2 { 100.0 } else { 400.0 });
        let (_, period) = spectrum_of(&step);
        assert!(period > PERIOD_MAX_PX, "edge period {period}");
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let noise: [f32; SPAN] = std::array::from_fn(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32
        });
        let (purity, _) = spectrum_of(&noise);
        assert!(purity < 0.5, "noise purity {purity}");
    }

    #[test]
    fn period_of_a_sinusoid_is_recovered() {
        let sig: Vec<f32> = (0..33)
            .map(|k| 300.0 + 100.0 * (2.0 * std::f32::consts::PI * k as f32 / 8.0).cos())
            .collect();
        let p = period_of(&sig).expect("periodic");
        assert!((p - 8.0).abs() < 0.3, "period {p}");
        assert_eq!(period_of(&[5.0; 33]), None);
    }
}
