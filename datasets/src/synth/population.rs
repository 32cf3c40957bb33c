//! Template-level synthetic populations: N identities with ten finger
//! templates and a face each, plus fresh re-enrollment samples of any
//! identity (the mated probes of dedup tests). No images are made, so a
//! million identities take about a minute.
//!
//! Each identity owns ten "true fingers": minutiae spread over the finger pad
//! with a minimum spacing, directed along a class-based ridge flow. Every
//! capture (the enrollment, and each re-enrollment) is a noisy impression of
//! them: placement on the sensor, skin distortion, jitter, missed and
//! spurious minutiae, and for re-enrollments sometimes a partial print.

use std::f32::consts::{PI, TAU};

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use hoviyat_models::{
    EnrollmentRecord, FaceTemplate, FingerPosition, FingerTemplate, Minutia, MinutiaKind,
    MissingFinger, MissingReason,
};

use super::face::{FaceConfig, FaceModel};
use super::impression::Distortion;
use super::orientation::{FingerClass, Point, RidgeFlow};
use super::seed;
use crate::Result;

const TAG_IDENTITY: u64 = 0x4944_454E;
const TAG_CAPTURE: u64 = 0x4341_5054;

/// How much one capture of a finger differs from the true finger.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CaptureConfig {
    /// Largest rotation on the sensor, degrees either way.
    pub max_rotation_deg: f32,
    /// Largest displacement of the pad centre, pixels.
    pub max_translation_px: f32,
    /// Strength of non-linear skin distortion (1 = typical livescan).
    pub distortion: f32,
    /// Standard deviation of minutia position noise, pixels.
    pub jitter_px: f32,
    /// Standard deviation of minutia direction noise, degrees.
    pub jitter_deg: f32,
    /// Range of the share of true minutiae the capture misses.
    pub drop_rate: (f32, f32),
    /// Range of spurious minutiae added, as a share of the true count.
    pub spurious_rate: (f32, f32),
    /// Chance that a finger is captured only partly (a random half-plane of
    /// the print is lost).
    pub partial_probability: f32,
}

impl CaptureConfig {
    /// A supervised enrollment capture: full prints, little loss.
    pub const ENROLLMENT: Self = Self {
        max_rotation_deg: 10.0,
        max_translation_px: 15.0,
        distortion: 0.6,
        jitter_px: 1.5,
        jitter_deg: 4.0,
        drop_rate: (0.03, 0.10),
        spurious_rate: (0.02, 0.06),
        partial_probability: 0.0,
    };

    /// A later capture of the same person elsewhere (the dedup probe).
    pub const REENROLLMENT: Self = Self {
        max_rotation_deg: 20.0,
        max_translation_px: 30.0,
        distortion: 1.0,
        jitter_px: 2.0,
        jitter_deg: 6.0,
        drop_rate: (0.10, 0.25),
        spurious_rate: (0.05, 0.15),
        partial_probability: 0.15,
    };
}

/// Everything that shapes a synthetic population.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PopulationConfig {
    pub seed: u64,
    pub identities: u64,
    /// Face template settings; `None` makes finger-only records.
    pub face: Option<FaceConfig>,
    /// Template image size (500 dpi).
    pub width_px: u16,
    pub height_px: u16,
    /// Range of minutiae counts of a full enrollment print.
    pub minutiae: (u16, u16),
    /// Minimum distance between true minutiae, pixels.
    pub min_spacing_px: f32,
    /// Chance that a finger is missing (amputated, bandaged or damaged).
    pub missing_finger_rate: f32,
    /// Half-width and half-height of the finger pad, as shares of the frame.
    pub pad: (f32, f32),
    /// Share of true minutiae born next to another one, as ridge breaks
    /// and short ridges make them (6-14 px apart along the flow).
    pub close_pair_share: f32,
    pub enrollment: CaptureConfig,
    pub reenrollment: CaptureConfig,
}

impl PopulationConfig {
    /// Defaults for `identities` people under `seed`: 512-d faces, 14-56
    /// minutiae per enrollment print (mean about 35) on a pad of about 170 x
    /// 265 px, three in ten of them born beside a neighbour.
    ///
    /// These values make impostor scores resemble real ones: against 19,200
    /// real impostor pairs (FVC2002 set B ISO records and pyfnprint), raw
    /// score p50 / p90 / p99 / p99.9 0.64 / 1.19 / 2.18 / 3.07, this
    /// population gives 0.66 / 1.15 / 1.92-1.97 / 2.72-2.86 over seeds 11-13
    /// (the previous 25-60 minutiae on a 250 x 370 px pad: 0.60 / 0.96 / 1.56
    /// / 2.20). See `population_realism` and BENCHMARKS.md.
    pub fn new(seed: u64, identities: u64) -> Self {
        Self {
            seed,
            identities,
            face: Some(FaceConfig::default()),
            width_px: 300,
            height_px: 400,
            minutiae: (14, 56),
            min_spacing_px: 9.0,
            missing_finger_rate: 0.004,
            pad: (0.28, 0.33),
            close_pair_share: 0.3,
            enrollment: CaptureConfig::ENROLLMENT,
            reenrollment: CaptureConfig::REENROLLMENT,
        }
    }
}

/// A true minutia in the finger's own frame (pixel-frame direction).
#[derive(Debug, Clone, Copy)]
struct TrueMinutia {
    x: f32,
    y: f32,
    dir: f32,
    bifurcation: bool,
    quality: u8,
}

#[derive(Debug, Clone)]
struct TrueFinger {
    position: FingerPosition,
    missing: Option<MissingReason>,
    minutiae: Vec<TrueMinutia>,
    flow: RidgeFlow,
    quality: u8,
}

#[derive(Debug, Clone)]
struct TrueIdentity {
    fingers: Vec<TrueFinger>,
    face_centre: Option<Vec<f32>>,
}

/// A seeded population with O(1) random access to any identity.
#[derive(Debug, Clone)]
pub struct Population {
    cfg: PopulationConfig,
    face: Option<FaceModel>,
}

impl Population {
    pub fn new(cfg: PopulationConfig) -> Result<Self> {
        let face = cfg.face.map(FaceModel::new).transpose()?;
        Ok(Self { cfg, face })
    }

    pub fn config(&self) -> &PopulationConfig {
        &self.cfg
    }

    pub fn len(&self) -> u64 {
        self.cfg.identities
    }

    pub fn is_empty(&self) -> bool {
        self.cfg.identities == 0
    }

    /// The reference id of identity `i`'s enrollment.
    pub fn reference_id(&self, i: u64) -> String {
        format!("synth-{}-{i:08}", self.cfg.seed)
    }

    /// The reference id of re-enrollment `sample` (1-based) of identity `i`.
    pub fn reenrollment_id(&self, i: u64, sample: u32) -> String {
        format!("synth-{}-{i:08}-r{sample}", self.cfg.seed)
    }

    /// The identity index a reference id of this population names, if any.
    pub fn identity_of(&self, reference_id: &str) -> Option<u64> {
        let rest = reference_id.strip_prefix(&format!("synth-{}-", self.cfg.seed))?;
        let digits = rest.split('-').next()?;
        digits.parse().ok()
    }

    /// The enrollment record of identity `i`. Identities beyond
    /// [`Population::len`] exist too: they are people outside the gallery,
    /// the non-mated probes of identification tests.
    pub fn identity(&self, i: u64) -> EnrollmentRecord {
        let truth = self.truth(i);
        let mut rng = seed::rng(self.cfg.seed, &[TAG_CAPTURE, i, 0]);
        self.capture(&truth, self.reference_id(i), &self.cfg.enrollment, &mut rng)
    }

    /// A fresh re-enrollment of identity `i`: new impressions of the same ten
    /// fingers and a new face capture. `sample` 0 is the enrollment itself.
    pub fn reenrollment(&self, i: u64, sample: u32) -> EnrollmentRecord {
        if sample == 0 {
            return self.identity(i);
        }
        let truth = self.truth(i);
        let mut rng = seed::rng(self.cfg.seed, &[TAG_CAPTURE, i, u64::from(sample)]);
        self.capture(
            &truth,
            self.reenrollment_id(i, sample),
            &self.cfg.reenrollment,
            &mut rng,
        )
    }

    fn truth(&self, i: u64) -> TrueIdentity {
        let mut rng = seed::rng(self.cfg.seed, &[TAG_IDENTITY, i]);
        let fingers = FingerPosition::TEN
            .iter()
            .map(|&position| self.true_finger(position, &mut rng))
            .collect();
        let face_centre = self.face.as_ref().map(|f| f.centre(&mut rng));
        TrueIdentity {
            fingers,
            face_centre,
        }
    }

    fn true_finger(&self, position: FingerPosition, rng: &mut ChaCha8Rng) -> TrueFinger {
        let cfg = &self.cfg;
        let missing =
            (rng.random::<f32>() < cfg.missing_finger_rate).then(|| match rng.random_range(0..3) {
                0 => MissingReason::Amputated,
                1 => MissingReason::Bandaged,
                _ => MissingReason::Damaged,
            });
        let class = FingerClass::sample(position, rng);
        let (w, h) = (f32::from(cfg.width_px), f32::from(cfg.height_px));
        let centre = Point {
            x_px: w / 2.0,
            y_px: h / 2.0,
        };
        // Thumbs are wider and carry more minutiae.
        let thumb = matches!(
            position,
            FingerPosition::RightThumb | FingerPosition::LeftThumb
        );
        let half_w = w * cfg.pad.0 * if thumb { 1.12 } else { 1.0 };
        let half_h = h * cfg.pad.1;
        let flow = RidgeFlow::sample(class, centre, half_w, 9.0, rng);
        let (lo, hi) = (
            f32::from(cfg.minutiae.0),
            f32::from(cfg.minutiae.1.max(cfg.minutiae.0)),
        );
        // Triangular-ish: mean of two uniforms, thumbs towards the top.
        let u = 0.5 * (rng.random::<f32>() + rng.random::<f32>());
        let u = if thumb { 0.3 + 0.7 * u } else { u };
        let want = (lo + (hi - lo) * u).round() as usize;
        let mut minutiae: Vec<TrueMinutia> = Vec::with_capacity(want);
        let min2 = cfg.min_spacing_px * cfg.min_spacing_px;
        let mut attempts = 0;
        while minutiae.len() < want && attempts < want * 40 {
            attempts += 1;
            // Uniform in the elliptic pad.
            let r = rng.random::<f32>().sqrt();
            let a = rng.random_range(0.0..TAU);
            let x = centre.x_px + half_w * r * a.cos();
            let y = centre.y_px + half_h * r * a.sin();
            if minutiae
                .iter()
                .any(|m| (m.x - x).powi(2) + (m.y - y).powi(2) < min2)
            {
                continue;
            }
            let t = flow.orientation_rad(x, y);
            let dir = if rng.random::<bool>() { t } else { t + PI };
            minutiae.push(TrueMinutia {
                x,
                y,
                dir,
                bifurcation: rng.random::<f32>() < 0.45,
                quality: rng.random_range(40..=100),
            });
            if minutiae.len() < want && rng.random::<f32>() < cfg.close_pair_share {
                // A ridge break (two endings facing each other) or a short
                // ridge (two endings back to back) along the flow.
                let gap = rng.random_range(6.0f32..14.0);
                let sense = if rng.random::<bool>() { 1.0 } else { -1.0 };
                let (x2, y2) = (x + sense * gap * t.cos(), y + sense * gap * t.sin());
                let dx = (x2 - centre.x_px) / half_w;
                let dy = (y2 - centre.y_px) / half_h;
                if dx * dx + dy * dy <= 1.0 {
                    minutiae.push(TrueMinutia {
                        x: x2,
                        y: y2,
                        dir: dir + PI,
                        bifurcation: false,
                        quality: rng.random_range(40..=100),
                    });
                }
            }
        }
        TrueFinger {
            position,
            missing,
            minutiae,
            flow,
            quality: rng.random_range(45..=95),
        }
    }

    fn capture(
        &self,
        truth: &TrueIdentity,
        reference_id: String,
        cc: &CaptureConfig,
        rng: &mut ChaCha8Rng,
    ) -> EnrollmentRecord {
        let mut fingers = Vec::with_capacity(10);
        let mut missing = Vec::new();
        for f in &truth.fingers {
            match f.missing {
                Some(reason) => missing.push(MissingFinger {
                    position: f.position,
                    reason,
                }),
                None => fingers.push(self.capture_finger(f, cc, rng)),
            }
        }
        let face = match (&self.face, &truth.face_centre) {
            (Some(model), Some(centre)) => Some(FaceTemplate::new(
                model.config().model,
                model.capture(centre, rng),
            )),
            _ => None,
        };
        let mut record = EnrollmentRecord::new(reference_id, fingers, face);
        record.missing = missing;
        record
    }

    fn capture_finger(
        &self,
        f: &TrueFinger,
        cc: &CaptureConfig,
        rng: &mut ChaCha8Rng,
    ) -> FingerTemplate {
        let (w, h) = (f32::from(self.cfg.width_px), f32::from(self.cfg.height_px));
        let centre = Point {
            x_px: w / 2.0,
            y_px: h / 2.0,
        };
        let rot = rng
            .random_range(-cc.max_rotation_deg..=cc.max_rotation_deg)
            .to_radians();
        let (s, c) = rot.sin_cos();
        let a: f32 = rng.random_range(0.0..TAU);
        let d = cc.max_translation_px * rng.random::<f32>().sqrt();
        let (tx, ty) = (d * a.cos(), d * a.sin());
        let distortion = Distortion::random(centre, cc.distortion, rng);
        let drop = rng.random_range(cc.drop_rate.0..=cc.drop_rate.1);
        let pos_noise = Normal::new(0.0f32, cc.jitter_px.max(0.0)).ok();
        let dir_noise = Normal::new(0.0f32, cc.jitter_deg.max(0.0).to_radians()).ok();
        // A partial print keeps one side of a random line through the pad.
        let partial = (rng.random::<f32>() < cc.partial_probability).then(|| {
            let a: f32 = rng.random_range(0.0..TAU);
            let offset = rng.random_range(-0.4f32..0.2) * h * 0.5;
            (a.cos(), a.sin(), offset)
        });
        let margin = 4.0;
        let keep = |x: f32, y: f32| {
            let inside = x >= margin && y >= margin && x < w - margin && y < h - margin;
            let side = partial
                .is_none_or(|(nx, ny, off)| (x - centre.x_px) * nx + (y - centre.y_px) * ny >= off);
            inside && side
        };
        let map = |x: f32, y: f32| {
            let (ox, oy) = distortion.displacement(x, y);
            let (dx, dy) = (x + ox - centre.x_px, y + oy - centre.y_px);
            (
                c * dx - s * dy + centre.x_px + tx,
                s * dx + c * dy + centre.y_px + ty,
            )
        };
        let mut out: Vec<Minutia> = Vec::with_capacity(f.minutiae.len() + 8);
        for m in &f.minutiae {
            if rng.random::<f32>() < drop {
                continue;
            }
            let (x, y) = map(m.x, m.y);
            let (x2, y2) = map(m.x + 4.0 * m.dir.cos(), m.y + 4.0 * m.dir.sin());
            let jx = pos_noise.as_ref().map_or(0.0, |n| n.sample(rng));
            let jy = pos_noise.as_ref().map_or(0.0, |n| n.sample(rng));
            let ja = dir_noise.as_ref().map_or(0.0, |n| n.sample(rng));
            let (x, y) = (x + jx, y + jy);
            if !keep(x, y) {
                continue;
            }
            // Now and then a capture reads an ending as a bifurcation.
            let flip = rng.random::<f32>() < 0.05;
            let kind = if m.bifurcation != flip {
                MinutiaKind::Bifurcation
            } else {
                MinutiaKind::Ending
            };
            let dir = (y2 - y + jy).atan2(x2 - x + jx) + ja;
            out.push(Minutia::new(x, y, -dir, kind, m.quality));
        }
        let spurious = rng.random_range(cc.spurious_rate.0..=cc.spurious_rate.1);
        let extra = (spurious * f.minutiae.len() as f32).round() as usize;
        for _ in 0..extra {
            let x = rng.random_range(margin..w - margin);
            let y = rng.random_range(margin..h - margin);
            if !keep(x, y) {
                continue;
            }
            // Spurious minutiae still sit on ridges, so they follow the flow.
            let t = f.flow.orientation_rad(x, y) + rot;
            let dir = if rng.random::<bool>() { t } else { t + PI };
            let kind = if rng.random::<bool>() {
                MinutiaKind::Bifurcation
            } else {
                MinutiaKind::Ending
            };
            out.push(Minutia::new(x, y, -dir, kind, rng.random_range(10..=60)));
        }
        // Template order carries no identity information.
        out.sort_by(|a, b| a.y_px.total_cmp(&b.y_px).then(a.x_px.total_cmp(&b.x_px)));
        out.truncate(hoviyat_models::MAX_MINUTIAE);
        FingerTemplate {
            position: f.position,
            width_px: self.cfg.width_px,
            height_px: self.cfg.height_px,
            dpi: 500,
            quality: f.quality,
            minutiae: out,
            ridge_map: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Population {
        Population::new(PopulationConfig::new(42, 50)).unwrap()
    }

    #[test]
    fn identities_are_valid_deterministic_and_randomly_accessible() {
        let pop = small();
        let a = pop.identity(17);
        a.validate(Some(512)).unwrap();
        assert_eq!(a.reference_id, "synth-42-00000017");
        assert_eq!(pop.identity_of(&a.reference_id), Some(17));
        assert_eq!(a, pop.identity(17));
        // Random access does not depend on what was generated before.
        let fresh = small();
        assert_eq!(fresh.identity(17), a);
        assert_ne!(pop.identity(18).fingers, a.fingers);
        let other_seed = Population::new(PopulationConfig::new(43, 50)).unwrap();
        assert_ne!(other_seed.identity(17).fingers, a.fingers);
    }

    #[test]
    fn enrollments_carry_ten_fingers_with_realistic_minutiae() {
        let pop = small();
        let mut counts = Vec::new();
        for i in 0..50 {
            let r = pop.identity(i);
            r.validate(Some(512)).unwrap();
            assert_eq!(r.fingers.len() + r.missing.len(), 10);
            for f in &r.fingers {
                counts.push(f.minutiae.len());
                // Minimum spacing, up to jitter and spurious additions.
                let close = f
                    .minutiae
                    .iter()
                    .enumerate()
                    .flat_map(|(a, m)| f.minutiae[a + 1..].iter().map(move |o| (m, o)))
                    .filter(|(m, o)| (m.x_px - o.x_px).hypot(m.y_px - o.y_px) < 4.0)
                    .count();
                assert!(close <= 3, "{close} minutiae pairs closer than 4 px");
            }
        }
        let mean = counts.iter().sum::<usize>() as f32 / counts.len() as f32;
        assert!((28.0..55.0).contains(&mean), "mean minutiae {mean}");
        assert!(counts.iter().all(|&c| c >= 12), "{counts:?}");
    }

    #[test]
    fn noiseless_captures_of_one_identity_agree_and_noisy_ones_differ() {
        let mut cfg = PopulationConfig::new(5, 10);
        let still = CaptureConfig {
            max_rotation_deg: 0.0,
            max_translation_px: 0.0,
            distortion: 0.0,
            jitter_px: 0.0,
            jitter_deg: 0.0,
            drop_rate: (0.0, 0.0),
            spurious_rate: (0.0, 0.0),
            partial_probability: 0.0,
        };
        cfg.enrollment = still;
        cfg.reenrollment = still;
        let pop = Population::new(cfg).unwrap();
        let (e, r) = (pop.identity(3), pop.reenrollment(3, 1));
        assert_eq!(e.fingers.len(), r.fingers.len());
        for (a, b) in e.fingers.iter().zip(&r.fingers) {
            assert_eq!(a.minutiae.len(), b.minutiae.len());
            for (m, n) in a.minutiae.iter().zip(&b.minutiae) {
                assert!((m.x_px - n.x_px).abs() < 1e-3 && (m.y_px - n.y_px).abs() < 1e-3);
            }
        }
        let noisy = small();
        let (e, r) = (noisy.identity(3), noisy.reenrollment(3, 1));
        assert_ne!(e.fingers, r.fingers);
    }

    #[test]
    fn reenrollments_carry_a_new_capture_of_the_same_face() {
        let pop = small();
        let cos = |a: &EnrollmentRecord, b: &EnrollmentRecord| -> f32 {
            let (Some(x), Some(y)) = (&a.face, &b.face) else {
                return f32::NAN;
            };
            x.values.iter().zip(&y.values).map(|(p, q)| p * q).sum()
        };
        let (mut genuine, mut impostor) = (0.0, 0.0);
        for i in 0..20 {
            let e = pop.identity(i);
            let r = pop.reenrollment(i, 1);
            assert_eq!(r.reference_id, format!("synth-42-{i:08}-r1"));
            assert_eq!(pop.identity_of(&r.reference_id), Some(i));
            r.validate(Some(512)).unwrap();
            assert_ne!(r, pop.reenrollment(i, 2));
            genuine += cos(&e, &r) / 20.0;
            impostor += cos(&e, &pop.reenrollment(i + 1, 1)).abs() / 20.0;
        }
        assert!(genuine > 0.6, "genuine face cosine {genuine}");
        assert!(impostor < 0.15, "impostor face cosine {impostor}");
    }
}
