//! Seeded synthetic fingers at minutia level: a master finger with minutiae
//! that follow a ridge-flow field, and impressions of it as a sensor would
//! give them (moved, rotated, distorted, cropped, with minutiae lost and
//! spurious ones added).
//!
//! Masters draw their ridge flow from a zero-pole model (arch, loop or whorl)
//! so that unrelated fingers share the directional regularity of real prints;
//! impostor scores on these templates are therefore not trivially low.
//!
//! ```
//! use hoviyat_datasets::minutiae_impressions::{Master, Perturbation};
//! use rand::SeedableRng;
//!
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
//! let master = Master::generate(&mut rng);
//! let a = master.impression(&Perturbation::default(), &mut rng);
//! let b = master.impression(&Perturbation::default(), &mut rng);
//! assert!(a.validate().is_ok() && b.validate().is_ok());
//! ```

use std::f32::consts::{PI, TAU};

use hoviyat_models::{FingerPosition, FingerTemplate, Minutia, MinutiaKind};
use rand::Rng;
use rand_distr::{Distribution, Normal};

/// Side of the square canvas masters live on, in pixels at 500 dpi.
const CANVAS_PX: f32 = 560.0;

/// A synthetic finger: minutiae on a canvas, before any sensor sees them.
#[derive(Debug, Clone)]
pub struct Master {
    /// Minutiae in canvas pixels (y down), directions per the models' ISO
    /// convention.
    pub minutiae: Vec<Minutia>,
}

/// How an impression departs from its master.
#[derive(Debug, Clone, PartialEq)]
pub struct Perturbation {
    /// Largest rotation either way, radians.
    pub max_rotation_rad: f32,
    /// Largest translation of the finger on the sensor, pixels.
    pub max_shift_px: f32,
    /// Amplitude of the smooth elastic distortion, pixels.
    pub distortion_px: f32,
    /// Standard deviation of position noise per minutia, pixels.
    pub position_noise_px: f32,
    /// Standard deviation of direction noise per minutia, radians.
    pub angle_noise_rad: f32,
    /// Share of the master's minutiae the extractor misses.
    pub missing: f32,
    /// Spurious minutiae added, as a share of the master's count.
    pub spurious: f32,
    /// Sensor window size `(width, height)` in pixels.
    pub window_px: (u16, u16),
}

impl Default for Perturbation {
    /// A plausible touch impression on a 500 dpi sensor.
    fn default() -> Self {
        Self {
            max_rotation_rad: 0.35,
            max_shift_px: 30.0,
            distortion_px: 4.0,
            position_noise_px: 1.5,
            angle_noise_rad: 0.1,
            missing: 0.12,
            spurious: 0.1,
            window_px: (300, 400),
        }
    }
}

impl Perturbation {
    /// A partial print: the default impression through a window of half
    /// the height (300 x 200 px).
    pub fn partial() -> Self {
        Self {
            window_px: (300, 200),
            ..Self::default()
        }
    }

    /// The default impression with twice the elastic distortion (8 px).
    pub fn distorted() -> Self {
        Self {
            distortion_px: 8.0,
            ..Self::default()
        }
    }
}

/// The ridge-flow model of one master: direction of the ridges at a point.
#[derive(Debug, Clone)]
struct Flow {
    base_rad: f32,
    cores: Vec<(f32, f32)>,
    deltas: Vec<(f32, f32)>,
    /// Arches: a gentle wave instead of singular points.
    wave: f32,
}

impl Flow {
    fn random(rng: &mut impl Rng) -> Self {
        let c = CANVAS_PX / 2.0;
        let jitter = |rng: &mut dyn rand::RngCore, s: f32| rng.random_range(-s..s);
        let class = rng.random_range(0..10);
        let (cores, deltas, wave) = match class {
            // Arch.
            0 => (vec![], vec![], rng.random_range(0.3..0.8)),
            // Whorl.
            1..=3 => {
                let (x, y) = (c + jitter(rng, 30.0), c + jitter(rng, 30.0));
                (
                    vec![(x - 10.0, y - 12.0), (x + 10.0, y + 12.0)],
                    vec![(x - 140.0, y + 150.0), (x + 140.0, y + 150.0)],
                    0.0,
                )
            }
            // Loop, left or right.
            _ => {
                let (x, y) = (c + jitter(rng, 40.0), c - 30.0 + jitter(rng, 30.0));
                let side = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
                (vec![(x, y)], vec![(x + side * 120.0, y + 160.0)], 0.0)
            }
        };
        Self {
            base_rad: rng.random_range(-0.2..0.2),
            cores,
            deltas,
            wave,
        }
    }

    /// Ridge orientation (mod π) at `(x, y)`, radians, as seen on the image.
    fn orientation(&self, x: f32, y: f32) -> f32 {
        let mut o = self.base_rad;
        // Image y points down; orientations are counter-clockwise as seen.
        for &(cx, cy) in &self.cores {
            o += 0.5 * (-(y - cy)).atan2(x - cx);
        }
        for &(dx, dy) in &self.deltas {
            o -= 0.5 * (-(y - dy)).atan2(x - dx);
        }
        if self.wave > 0.0 {
            o += self.wave * ((x - CANVAS_PX / 2.0) / 150.0).tanh() * (-(y / 250.0)).exp();
        }
        o
    }
}

impl Master {
    /// A random master finger: 40 to 75 minutiae at least 12 px apart in an
    /// elliptical finger area, directions along a random ridge flow.
    pub fn generate(rng: &mut impl Rng) -> Self {
        let flow = Flow::random(rng);
        let target = rng.random_range(40..=75);
        let (cx, cy) = (CANVAS_PX / 2.0, CANVAS_PX / 2.0);
        let (rx, ry) = (
            rng.random_range(150.0..190.0),
            rng.random_range(200.0..240.0),
        );
        let mut minutiae: Vec<Minutia> = Vec::with_capacity(target);
        let mut attempts = 0;
        while minutiae.len() < target && attempts < 20 * target {
            attempts += 1;
            let x = rng.random_range(cx - rx..cx + rx);
            let y = rng.random_range(cy - ry..cy + ry);
            if ((x - cx) / rx).powi(2) + ((y - cy) / ry).powi(2) > 1.0 {
                continue;
            }
            if minutiae
                .iter()
                .any(|m| (m.x_px - x).powi(2) + (m.y_px - y).powi(2) < 144.0)
            {
                continue;
            }
            let flip = if rng.random_bool(0.5) { PI } else { 0.0 };
            let kind = if rng.random_bool(0.55) {
                MinutiaKind::Ending
            } else {
                MinutiaKind::Bifurcation
            };
            let quality = rng.random_range(30..=95);
            minutiae.push(Minutia::new(
                x,
                y,
                flow.orientation(x, y) + flip,
                kind,
                quality,
            ));
        }
        Self { minutiae }
    }

    /// One impression of this finger under `p`, as a template at 500 dpi.
    pub fn impression(&self, p: &Perturbation, rng: &mut impl Rng) -> FingerTemplate {
        let (w, h) = (f32::from(p.window_px.0), f32::from(p.window_px.1));
        let rotation = if p.max_rotation_rad > 0.0 {
            rng.random_range(-p.max_rotation_rad..=p.max_rotation_rad)
        } else {
            0.0
        };
        let shift = |rng: &mut dyn rand::RngCore| {
            if p.max_shift_px > 0.0 {
                rng.random_range(-p.max_shift_px..=p.max_shift_px)
            } else {
                0.0
            }
        };
        let (sx, sy) = (shift(rng), shift(rng));
        // Smooth distortion: two low-frequency waves per axis.
        let phases: [f32; 4] = std::array::from_fn(|_| rng.random_range(0.0..TAU));
        let wavelength = rng.random_range(250.0..400.0);
        let pos_noise = Normal::new(0.0, p.position_noise_px.max(1e-6)).ok();
        let ang_noise = Normal::new(0.0, p.angle_noise_rad.max(1e-6)).ok();
        let (sin, cos) = rotation.sin_cos();
        let centre = CANVAS_PX / 2.0;
        let mut minutiae = Vec::new();
        let mut place = |x: f32, y: f32, angle: f32, kind, quality, rng: &mut dyn rand::RngCore| {
            let k = TAU / wavelength;
            let x = x
                + p.distortion_px * (k * y + phases[0]).sin()
                + p.distortion_px * 0.5 * (k * x + phases[1]).sin();
            let y = y
                + p.distortion_px * (k * x + phases[2]).sin()
                + p.distortion_px * 0.5 * (k * y + phases[3]).sin();
            let (dx, dy) = (x - centre, y - centre);
            // Rotation counter-clockwise as seen on the image (y down).
            let rx = cos * dx + sin * dy + w / 2.0 + sx;
            let ry = -sin * dx + cos * dy + h / 2.0 + sy;
            let nx = pos_noise.map_or(0.0, |n| n.sample(rng));
            let ny = pos_noise.map_or(0.0, |n| n.sample(rng));
            let na = ang_noise.map_or(0.0, |n| n.sample(rng));
            let (x, y) = (rx + nx, ry + ny);
            if x >= 0.0 && y >= 0.0 && x < w && y < h {
                minutiae.push(Minutia::new(x, y, angle + rotation + na, kind, quality));
            }
        };
        for m in &self.minutiae {
            if rng.random_bool(f64::from(p.missing.clamp(0.0, 1.0))) {
                continue;
            }
            place(m.x_px, m.y_px, m.angle_rad, m.kind, m.quality, rng);
        }
        let spurious = (self.minutiae.len() as f32 * p.spurious.max(0.0)).round() as usize;
        for _ in 0..spurious {
            let x = rng.random_range(centre - 170.0..centre + 170.0);
            let y = rng.random_range(centre - 220.0..centre + 220.0);
            let a = rng.random_range(0.0..TAU);
            let q = rng.random_range(5..=40);
            place(x, y, a, MinutiaKind::Other, q, rng);
        }
        minutiae.truncate(hoviyat_models::MAX_MINUTIAE);
        FingerTemplate {
            position: FingerPosition::Unknown,
            width_px: p.window_px.0,
            height_px: p.window_px.1,
            dpi: 500,
            quality: 70,
            minutiae,
            ridge_map: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn impressions_are_valid_and_seeded() {
        let mut a = ChaCha8Rng::seed_from_u64(1);
        let mut b = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..20 {
            let (ma, mb) = (Master::generate(&mut a), Master::generate(&mut b));
            let ia = ma.impression(&Perturbation::default(), &mut a);
            let ib = mb.impression(&Perturbation::default(), &mut b);
            assert_eq!(ia, ib);
            ia.validate().unwrap();
            assert!(ia.minutiae.len() >= 15, "{}", ia.minutiae.len());
        }
    }
}
