//! Fingerprint classes, singular points and the ridge orientation and
//! frequency fields derived from them.
//!
//! Loops, tented arches and whorls use the zero-pole model of Sherlock and
//! Monro: the ridge orientation at `z` is half the sum of the arguments of
//! `z - core` minus half the sum of the arguments of `z - delta`. Plain arches
//! have no singular point and use an analytic bump field. Both get a smooth
//! random perturbation so that no two fingers of a class look alike.
//!
//! Angles here are *pixel-frame* angles: a ridge tangent `t` has the unit
//! vector `(cos t, sin t)` in pixel coordinates (x right, y down).

use std::f32::consts::{PI, TAU};

use rand::Rng;
use serde::{Deserialize, Serialize};

use hoviyat_models::FingerPosition;

/// Henry-style fingerprint class, as SFinGe generates them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FingerClass {
    Arch,
    TentedArch,
    LeftLoop,
    RightLoop,
    Whorl,
}

impl FingerClass {
    /// All classes, in the order of [`FingerClass::prior`].
    pub const ALL: [FingerClass; 5] = [
        Self::Arch,
        Self::TentedArch,
        Self::LeftLoop,
        Self::RightLoop,
        Self::Whorl,
    ];

    /// Class frequencies for a finger (sums to one). Natural proportions are
    /// about 3.7 % arches, 2.9 % tented arches, 33.8 % left loops, 31.7 %
    /// right loops and 27.9 % whorls; loops open towards the little finger
    /// (ulnar loops) far more often, so right hands carry mostly right loops.
    pub fn prior(position: FingerPosition) -> [f32; 5] {
        let code = position.code();
        match code {
            1..=5 => [0.037, 0.029, 0.08, 0.575, 0.279],
            6..=10 => [0.037, 0.029, 0.575, 0.08, 0.279],
            _ => [0.037, 0.029, 0.338, 0.317, 0.279],
        }
    }

    /// Draws a class for `position` according to [`FingerClass::prior`].
    pub fn sample<R: Rng + ?Sized>(position: FingerPosition, rng: &mut R) -> Self {
        let prior = Self::prior(position);
        let mut u: f32 = rng.random();
        for (class, p) in Self::ALL.iter().zip(prior) {
            if u < p {
                return *class;
            }
            u -= p;
        }
        Self::Whorl
    }
}

/// A point in pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub x_px: f32,
    pub y_px: f32,
}

/// One low-frequency sinusoid of the orientation perturbation.
#[derive(Debug, Clone, Copy)]
struct Wave {
    amp_rad: f32,
    kx: f32,
    ky: f32,
    phase: f32,
}

impl Wave {
    fn random<R: Rng + ?Sized>(rng: &mut R, amp_rad: f32, min_wavelength_px: f32) -> Self {
        let wavelength = rng.random_range(min_wavelength_px..min_wavelength_px * 2.5);
        let dir: f32 = rng.random_range(0.0..TAU);
        let k = TAU / wavelength;
        Self {
            amp_rad: rng.random_range(0.3 * amp_rad..amp_rad),
            kx: k * dir.cos(),
            ky: k * dir.sin(),
            phase: rng.random_range(0.0..TAU),
        }
    }

    fn at(&self, x: f32, y: f32) -> f32 {
        self.amp_rad * (self.kx * x + self.ky * y + self.phase).sin()
    }
}

/// The ridge flow of one finger: class, singular points, orientation and
/// ridge period, on a canvas whose finger pad is centred at `centre`.
#[derive(Debug, Clone)]
pub struct RidgeFlow {
    pub class: FingerClass,
    pub cores: Vec<Point>,
    pub deltas: Vec<Point>,
    centre: Point,
    arch_amp_px: f32,
    arch_width_px: f32,
    arch_height_px: f32,
    waves: Vec<Wave>,
    base_period_px: f32,
    period_waves: Vec<Wave>,
}

impl RidgeFlow {
    /// Draws singular points for `class` around a finger pad centred at
    /// `centre`, whose half-width is `half_width_px`.
    pub fn sample<R: Rng + ?Sized>(
        class: FingerClass,
        centre: Point,
        half_width_px: f32,
        base_period_px: f32,
        rng: &mut R,
    ) -> Self {
        let s = half_width_px / 130.0;
        let core = Point {
            x_px: centre.x_px + rng.random_range(-20.0..20.0) * s,
            y_px: centre.y_px + rng.random_range(-50.0..0.0) * s,
        };
        let (cores, deltas) = match class {
            FingerClass::Arch => (vec![], vec![]),
            FingerClass::TentedArch => {
                let d = Point {
                    x_px: core.x_px + rng.random_range(-6.0..6.0) * s,
                    y_px: core.y_px + rng.random_range(45.0..75.0) * s,
                };
                (vec![core], vec![d])
            }
            FingerClass::LeftLoop | FingerClass::RightLoop => {
                let side = if class == FingerClass::LeftLoop {
                    1.0
                } else {
                    -1.0
                };
                let d = Point {
                    x_px: core.x_px + side * rng.random_range(55.0..100.0) * s,
                    y_px: core.y_px + rng.random_range(75.0..125.0) * s,
                };
                (vec![core], vec![d])
            }
            FingerClass::Whorl => {
                let sep = rng.random_range(14.0..36.0) * s;
                let tilt: f32 = rng.random_range(-0.6..0.6);
                let c1 = Point {
                    x_px: core.x_px - 0.5 * sep * tilt.sin(),
                    y_px: core.y_px + 10.0 * s - 0.5 * sep * tilt.cos(),
                };
                let c2 = Point {
                    x_px: core.x_px + 0.5 * sep * tilt.sin(),
                    y_px: core.y_px + 10.0 * s + 0.5 * sep * tilt.cos(),
                };
                let dy = rng.random_range(85.0..125.0) * s;
                let d1 = Point {
                    x_px: core.x_px - rng.random_range(75.0..110.0) * s,
                    y_px: core.y_px + dy + rng.random_range(-15.0..15.0) * s,
                };
                let d2 = Point {
                    x_px: core.x_px + rng.random_range(75.0..110.0) * s,
                    y_px: core.y_px + dy + rng.random_range(-15.0..15.0) * s,
                };
                (vec![c1, c2], vec![d1, d2])
            }
        };
        let waves = (0..3).map(|_| Wave::random(rng, 0.12, 140.0 * s)).collect();
        // Local changes of ridge spacing force ridges to fork or end: the
        // main source of minutiae away from singular points.
        let period_waves = (0..3).map(|_| Wave::random(rng, 0.09, 60.0 * s)).collect();
        Self {
            class,
            cores,
            deltas,
            centre: Point {
                x_px: centre.x_px + rng.random_range(-15.0..15.0) * s,
                y_px: centre.y_px + rng.random_range(-20.0..20.0) * s,
            },
            arch_amp_px: rng.random_range(25.0..55.0) * s,
            arch_width_px: rng.random_range(45.0..75.0) * s,
            arch_height_px: rng.random_range(110.0..150.0) * s,
            waves,
            base_period_px,
            period_waves,
        }
    }

    /// Ridge orientation at `(x, y)` as a pixel-frame angle in `[0, π)`.
    pub fn orientation_rad(&self, x: f32, y: f32) -> f32 {
        let base = if self.class == FingerClass::Arch {
            self.arch_orientation(x, y)
        } else {
            let mut sum = 0.0;
            for c in &self.cores {
                sum += (y - c.y_px).atan2(x - c.x_px);
            }
            for d in &self.deltas {
                sum -= (y - d.y_px).atan2(x - d.x_px);
            }
            0.5 * sum
        };
        // Perturbations fade near singular points so that their topology
        // (and so the class) is kept.
        let mut damp = 1.0f32;
        for p in self.cores.iter().chain(&self.deltas) {
            let d2 = (x - p.x_px).powi(2) + (y - p.y_px).powi(2);
            damp = damp.min(1.0 - (-d2 / (2.0 * 30.0 * 30.0)).exp());
        }
        let wobble: f32 = self.waves.iter().map(|w| w.at(x, y)).sum();
        (base + damp * wobble).rem_euclid(PI)
    }

    fn arch_orientation(&self, x: f32, y: f32) -> f32 {
        // Ridges y = y0 - A(y0) exp(-(x - xc)^2 / 2w^2): the slope of that
        // curve is the tangent of the orientation.
        let dx = x - self.centre.x_px;
        let dy = (y - self.centre.y_px) / self.arch_height_px;
        let amp = self.arch_amp_px * (-dy * dy).exp();
        let w2 = self.arch_width_px * self.arch_width_px;
        let slope = amp * dx / w2 * (-dx * dx / (2.0 * w2)).exp();
        slope.atan()
    }

    /// Ridge period (pixels from one ridge to the next) at `(x, y)`; a little
    /// wider near singular points and at the tip, as in real fingers.
    pub fn period_px(&self, x: f32, y: f32) -> f32 {
        let mut near = 0.0f32;
        for p in self.cores.iter().chain(&self.deltas) {
            let d2 = (x - p.x_px).powi(2) + (y - p.y_px).powi(2);
            near = near.max((-d2 / (2.0 * 45.0 * 45.0)).exp());
        }
        let wave: f32 = self.period_waves.iter().map(|w| w.at(x, y)).sum();
        let tip = ((self.centre.y_px - y) / 200.0).clamp(0.0, 1.0);
        self.base_period_px * (1.0 + 0.08 * near + 0.06 * tip + wave)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn loop_orientation_turns_half_a_revolution_around_the_core() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let flow = RidgeFlow::sample(
            FingerClass::LeftLoop,
            Point {
                x_px: 160.0,
                y_px: 220.0,
            },
            130.0,
            9.0,
            &mut rng,
        );
        let c = flow.cores[0];
        // Poincaré index of a core: the doubled orientation turns by -2π
        // (one half turn of the orientation) along a small circle around it.
        let mut total = 0.0f32;
        let n = 64;
        let at = |k: usize| {
            let a = TAU * k as f32 / n as f32;
            2.0 * flow.orientation_rad(c.x_px + 12.0 * a.cos(), c.y_px + 12.0 * a.sin())
        };
        for k in 0..n {
            let mut d = at(k + 1) - at(k);
            while d > PI {
                d -= TAU;
            }
            while d < -PI {
                d += TAU;
            }
            total += d;
        }
        assert!((total.abs() - TAU).abs() < 0.3, "index sum {total}");
    }

    #[test]
    fn sampled_classes_follow_the_prior() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut counts = [0usize; 5];
        let n = 4000;
        for _ in 0..n {
            let c = FingerClass::sample(FingerPosition::Unknown, &mut rng);
            counts[FingerClass::ALL.iter().position(|&k| k == c).unwrap()] += 1;
        }
        for (count, p) in counts
            .iter()
            .zip(FingerClass::prior(FingerPosition::Unknown))
        {
            let share = *count as f32 / n as f32;
            assert!((share - p).abs() < 0.03, "{counts:?}");
        }
    }

    #[test]
    fn class_priors_sum_to_one_and_favour_ulnar_loops() {
        for p in FingerPosition::TEN {
            let s: f32 = FingerClass::prior(p).iter().sum();
            assert!((s - 1.0).abs() < 1e-4);
        }
        let right = FingerClass::prior(FingerPosition::RightIndex);
        assert!(right[3] > right[2]);
    }
}
