//! Master fingerprints: the finger silhouette and its ridge pattern, grown
//! SFinGe-style by iterated orientation- and frequency-tuned Gabor filtering
//! from random seeds.

use std::f32::consts::{PI, TAU};

use rand::Rng;
use rayon::prelude::*;

use super::orientation::{FingerClass, Point, RidgeFlow};

/// Orientation bins of the Gabor filter bank over `[0, π)`.
const ORIENTATION_BINS: usize = 32;
/// Shortest ridge period of the filter bank, pixels.
const MIN_PERIOD_PX: f32 = 6.0;
/// Period step between filter bank entries, pixels.
const PERIOD_STEP_PX: f32 = 0.5;
/// Number of period bins (6.0 .. 13.5 px).
const PERIOD_BINS: usize = 16;
/// Filter half-size: kernels are (2R+1)^2.
const RADIUS: usize = 6;
const SIDE: usize = 2 * RADIUS + 1;

/// The finger pad as a super-ellipse `|dx/a|^p + |dy/b|^p <= 1`.
#[derive(Debug, Clone, Copy)]
pub struct Silhouette {
    pub centre: Point,
    pub half_width_px: f32,
    pub half_height_px: f32,
    pub exponent: f32,
}

impl Silhouette {
    /// 0 outside the pad, growing to 1 at `margin_px` inside its edge (an
    /// approximate distance, good enough to fade ink and keep margins).
    pub fn inside(&self, x: f32, y: f32) -> f32 {
        let u = ((x - self.centre.x_px) / self.half_width_px).abs();
        let v = ((y - self.centre.y_px) / self.half_height_px).abs();
        let r = (u.powf(self.exponent) + v.powf(self.exponent)).powf(1.0 / self.exponent);
        // Distance to the edge scaled by the smaller half axis.
        (1.0 - r) * self.half_width_px.min(self.half_height_px)
    }
}

/// A generated master fingerprint: the ideal, noise-free ridge pattern of a
/// finger before any impression is taken.
#[derive(Debug, Clone)]
pub struct Master {
    pub width_px: usize,
    pub height_px: usize,
    /// Ridge map in `[-1, 1]`, row-major: ridges positive, valleys negative.
    pub ridges: Vec<f32>,
    pub silhouette: Silhouette,
    pub flow: RidgeFlow,
}

impl Master {
    /// The class of the master's ridge flow.
    pub fn class(&self) -> FingerClass {
        self.flow.class
    }

    /// Bilinear sample of the ridge map; `-1` (valley) outside.
    pub fn sample(&self, x: f32, y: f32) -> f32 {
        if !(x >= 0.0 && y >= 0.0) {
            return -1.0;
        }
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        if x0 + 1 >= self.width_px || y0 + 1 >= self.height_px {
            return -1.0;
        }
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let i = y0 * self.width_px + x0;
        let r = &self.ridges;
        let top = r[i] * (1.0 - fx) + r[i + 1] * fx;
        let bottom = r[i + self.width_px] * (1.0 - fx) + r[i + self.width_px + 1] * fx;
        top * (1.0 - fy) + bottom * fy
    }
}

/// The precomputed bank of even-symmetric Gabor kernels.
struct FilterBank {
    kernels: Vec<[f32; SIDE * SIDE]>,
}

impl FilterBank {
    fn new() -> Self {
        let mut kernels = Vec::with_capacity(ORIENTATION_BINS * PERIOD_BINS);
        for o in 0..ORIENTATION_BINS {
            let theta = PI * o as f32 / ORIENTATION_BINS as f32;
            // Unit normal to the ridges: the pattern varies along it.
            let (nx, ny) = (-theta.sin(), theta.cos());
            for p in 0..PERIOD_BINS {
                let period = MIN_PERIOD_PX + PERIOD_STEP_PX * p as f32;
                let sigma = 0.45 * period;
                let mut k = [0.0f32; SIDE * SIDE];
                let mut gain = 0.0;
                let mut mean = 0.0;
                for (j, row) in k.chunks_exact_mut(SIDE).enumerate() {
                    for (i, v) in row.iter_mut().enumerate() {
                        let dx = i as f32 - RADIUS as f32;
                        let dy = j as f32 - RADIUS as f32;
                        let across = dx * nx + dy * ny;
                        let env = (-(dx * dx + dy * dy) / (2.0 * sigma * sigma)).exp();
                        *v = env * (TAU * across / period).cos();
                        mean += *v;
                    }
                }
                mean /= (SIDE * SIDE) as f32;
                for (idx, v) in k.iter_mut().enumerate() {
                    *v -= mean;
                    let dx = (idx % SIDE) as f32 - RADIUS as f32;
                    let dy = (idx / SIDE) as f32 - RADIUS as f32;
                    gain += *v * (TAU * (dx * nx + dy * ny) / period).cos();
                }
                // Unit response to an ideal sinusoidal ridge pattern.
                for v in &mut k {
                    *v /= gain;
                }
                kernels.push(k);
            }
        }
        Self { kernels }
    }

    fn index(orientation_rad: f32, period_px: f32) -> u16 {
        let o =
            ((orientation_rad / PI * ORIENTATION_BINS as f32).round() as usize) % ORIENTATION_BINS;
        let p = ((period_px - MIN_PERIOD_PX) / PERIOD_STEP_PX)
            .round()
            .clamp(0.0, (PERIOD_BINS - 1) as f32) as usize;
        (o * PERIOD_BINS + p) as u16
    }
}

fn filter_bank() -> &'static FilterBank {
    static BANK: std::sync::OnceLock<FilterBank> = std::sync::OnceLock::new();
    BANK.get_or_init(FilterBank::new)
}

/// Parameters of master generation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MasterConfig {
    pub width_px: usize,
    pub height_px: usize,
    /// Mean ridge period of the finger, pixels (about 9 at 500 dpi).
    pub mean_period_px: f32,
    /// Number of random seeds the pattern grows from.
    pub seeds: usize,
    /// Most growth iterations; growth stops earlier once the whole pad is
    /// covered with ridges.
    pub iterations: usize,
}

impl Default for MasterConfig {
    fn default() -> Self {
        Self {
            width_px: 320,
            height_px: 448,
            mean_period_px: 8.6,
            seeds: 200,
            iterations: 40,
        }
    }
}

/// Grows a master fingerprint of class `class`.
pub fn grow<R: Rng + ?Sized>(class: FingerClass, cfg: &MasterConfig, rng: &mut R) -> Master {
    let (w, h) = (cfg.width_px, cfg.height_px);
    let silhouette = Silhouette {
        centre: Point {
            x_px: w as f32 / 2.0 + rng.random_range(-6.0..6.0),
            y_px: h as f32 / 2.0 + rng.random_range(-6.0..6.0),
        },
        half_width_px: (w as f32 / 2.0 - 12.0) * rng.random_range(0.82..0.97),
        half_height_px: (h as f32 / 2.0 - 12.0) * rng.random_range(0.86..0.98),
        exponent: rng.random_range(2.2..3.0),
    };
    let period = cfg.mean_period_px * rng.random_range(0.92..1.1);
    let flow = RidgeFlow::sample(
        class,
        Point {
            x_px: silhouette.centre.x_px,
            y_px: silhouette.centre.y_px + 0.1 * silhouette.half_height_px,
        },
        silhouette.half_width_px,
        period,
        rng,
    );
    // Kernel choice per pixel; pixels outside the pad (plus a small rim) are
    // not filtered at all.
    let kernel_of: Vec<Option<u16>> = (0..w * h)
        .map(|i| {
            let (x, y) = ((i % w) as f32, (i / w) as f32);
            (silhouette.inside(x, y) > -8.0)
                .then(|| FilterBank::index(flow.orientation_rad(x, y), flow.period_px(x, y)))
        })
        .collect();

    let mut field = vec![0.0f32; w * h];
    for _ in 0..cfg.seeds {
        let x = rng.random_range(RADIUS..w - RADIUS);
        let y = rng.random_range(RADIUS..h - RADIUS);
        if silhouette.inside(x as f32, y as f32) > 0.0 {
            field[y * w + x] = if rng.random::<bool>() { 1.0 } else { -1.0 };
        }
    }
    let bank = filter_bank();
    let mut next = vec![0.0f32; w * h];
    let pad: Vec<usize> = (0..w * h)
        .filter(|&i| silhouette.inside((i % w) as f32, (i / w) as f32) > 0.0)
        .collect();
    let mut settled = 0;
    for _ in 0..cfg.iterations {
        filter(&field, &mut next, &kernel_of, bank, w, h, |g| {
            (4.0 * g).clamp(-1.0, 1.0)
        });
        std::mem::swap(&mut field, &mut next);
        // A few extra rounds after full coverage let the fronts settle.
        if pad.iter().all(|&i| field[i].abs() > 0.5) {
            settled += 1;
            if settled > 4 {
                break;
            }
        }
    }
    // One last pass with a softer clip leaves a rounded ridge profile, which
    // impressions threshold to vary ridge width, while phase defects
    // (where minutiae sit) stay as sharp as the binary map they are read on.
    filter(&field, &mut next, &kernel_of, bank, w, h, |g| {
        (2.0 * g).clamp(-1.0, 1.0)
    });
    Master {
        width_px: w,
        height_px: h,
        ridges: next,
        silhouette,
        flow,
    }
}

fn filter(
    src: &[f32],
    dst: &mut [f32],
    kernel_of: &[Option<u16>],
    bank: &FilterBank,
    w: usize,
    h: usize,
    squash: impl Fn(f32) -> f32 + Sync,
) {
    dst.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
        for (x, out) in row.iter_mut().enumerate() {
            let Some(k) = kernel_of[y * w + x] else {
                *out = 0.0;
                continue;
            };
            if x < RADIUS || y < RADIUS || x + RADIUS >= w || y + RADIUS >= h {
                *out = 0.0;
                continue;
            }
            let kernel = &bank.kernels[usize::from(k)];
            let mut acc = 0.0f32;
            for (j, krow) in kernel.chunks_exact(SIDE).enumerate() {
                let start = (y + j - RADIUS) * w + x - RADIUS;
                let srow = &src[start..start + SIDE];
                acc += krow.iter().zip(srow).map(|(a, b)| a * b).sum::<f32>();
            }
            *out = squash(acc);
        }
    });
}
