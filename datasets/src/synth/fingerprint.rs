//! Synthetic fingerprint images with ground-truth minutiae: the public face
//! of the master and impression generators.

use image::GrayImage;
use serde::{Deserialize, Serialize};

use hoviyat_models::{FingerPosition, Minutia, MinutiaKind};

use super::impression::{self, ImpressionConfig, Placement};
use super::master::{self, Master, MasterConfig};
use super::orientation::FingerClass;
use super::seed;
use super::skeleton::{self, MasterMinutia};

/// Seed path tags: keep the streams of masters and impressions apart.
const TAG_MASTER: u64 = 0x4D41_5354;
const TAG_IMPRESSION: u64 = 0x494D_5052;

/// Everything that shapes a synthetic fingerprint image.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FingerprintConfig {
    pub master: MasterConfig,
    pub impression: ImpressionConfig,
}

impl FingerprintConfig {
    /// Resolution the images are rendered at.
    pub const DPI: u16 = 500;
}

/// One rendered impression and its ground truth.
#[derive(Debug, Clone)]
pub struct SyntheticImpression {
    /// 8-bit grey image, dark ridges on a light background, 500 dpi.
    pub image: GrayImage,
    /// Ground-truth minutiae in image coordinates, following the conventions
    /// of [`hoviyat_models::Minutia`] (y down, angle counter-clockwise as
    /// seen, ending directions pointing into the ridge).
    pub minutiae: Vec<Minutia>,
    /// The finger's other minutiae on the inked area: near the image
    /// border, the contact edge or in a dry patch, where they may be drawn
    /// faintly or cut off. The truth does not vouch for them either way: an
    /// evaluation counts an extracted minutia that matches one of these as
    /// neither true nor false (a don't-care region).
    pub uncertain_minutiae: Vec<Minutia>,
    pub class: FingerClass,
    /// FVC-style finger number (1-based).
    pub finger: u32,
    /// FVC-style impression number (1-based).
    pub impression: u32,
}

/// The ground-truth file written next to each synthetic image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    pub generator: String,
    pub seed: u64,
    pub finger: u32,
    pub impression: u32,
    pub class: FingerClass,
    pub width_px: u32,
    pub height_px: u32,
    pub dpi: u16,
    pub minutiae: Vec<Minutia>,
    /// See [`SyntheticImpression::uncertain_minutiae`].
    #[serde(default)]
    pub uncertain_minutiae: Vec<Minutia>,
}

impl SyntheticImpression {
    /// The ground truth of this impression, for its JSON file.
    pub fn ground_truth(&self, seed: u64) -> GroundTruth {
        GroundTruth {
            generator: format!("hoviyat-synth/{}", env!("CARGO_PKG_VERSION")),
            seed,
            finger: self.finger,
            impression: self.impression,
            class: self.class,
            width_px: self.image.width(),
            height_px: self.image.height(),
            dpi: FingerprintConfig::DPI,
            minutiae: self.minutiae.clone(),
            uncertain_minutiae: self.uncertain_minutiae.clone(),
        }
    }
}

/// A master fingerprint with its minutiae, from which any number of
/// impressions can be taken.
#[derive(Debug, Clone)]
pub struct SyntheticFinger {
    seed: u64,
    finger: u32,
    master: Master,
    minutiae: Vec<MasterMinutia>,
}

impl SyntheticFinger {
    /// The master of finger `finger` under `seed`; the class follows the
    /// natural class frequencies.
    pub fn new(seed: u64, finger: u32, cfg: &FingerprintConfig) -> Self {
        let mut rng = seed::rng(seed, &[TAG_MASTER, u64::from(finger)]);
        let class = FingerClass::sample(FingerPosition::Unknown, &mut rng);
        Self::with_class(seed, finger, class, cfg)
    }

    /// As [`SyntheticFinger::new`], with the class imposed.
    pub fn with_class(seed: u64, finger: u32, class: FingerClass, cfg: &FingerprintConfig) -> Self {
        let mut rng = seed::rng(seed, &[TAG_MASTER, u64::from(finger), 1]);
        let master = master::grow(class, &cfg.master, &mut rng);
        let minutiae = skeleton::minutiae(&master);
        Self {
            seed,
            finger,
            master,
            minutiae,
        }
    }

    pub fn class(&self) -> FingerClass {
        self.master.class()
    }

    /// Number of minutiae on the whole master.
    pub fn master_minutiae_count(&self) -> usize {
        self.minutiae.len()
    }

    /// The minutiae of the whole master, in master image coordinates.
    pub fn master_minutiae(&self) -> Vec<Minutia> {
        self.minutiae
            .iter()
            .map(|m| {
                let kind = if m.bifurcation {
                    MinutiaKind::Bifurcation
                } else {
                    MinutiaKind::Ending
                };
                Minutia::new(m.x_px, m.y_px, -m.dir_rad, kind, 100)
            })
            .collect()
    }

    /// The noise-free master as an image (dark ridges), for illustration.
    pub fn master_image(&self) -> GrayImage {
        let m = &self.master;
        GrayImage::from_fn(m.width_px as u32, m.height_px as u32, |x, y| {
            let i = y as usize * m.width_px + x as usize;
            let inside = m.silhouette.inside(x as f32, y as f32) > 0.0;
            let v = if inside { m.ridges[i] } else { -1.0 };
            image::Luma([(127.5 - 127.5 * v).round() as u8])
        })
    }

    /// Impression number `impression` (1-based) of this finger.
    pub fn impression(&self, impression: u32, cfg: &FingerprintConfig) -> SyntheticImpression {
        let mut rng = seed::rng(
            self.seed,
            &[
                TAG_IMPRESSION,
                u64::from(self.finger),
                u64::from(impression),
            ],
        );
        let placement = Placement::random(&self.master, &cfg.impression, &mut rng);
        let image = impression::render(&self.master, &placement, &cfg.impression, &mut rng);
        let seen = impression::transform_minutiae(
            &self.master,
            &placement,
            &cfg.impression,
            &self.minutiae,
        );
        let to_record = |m: &impression::SeenMinutia| {
            let kind = if m.bifurcation {
                MinutiaKind::Bifurcation
            } else {
                MinutiaKind::Ending
            };
            // Pixel-frame angles run clockwise as seen (y down); the record
            // convention runs counter-clockwise.
            Minutia::new(m.x, m.y, -m.dir, kind, 100)
        };
        let (certain, uncertain): (Vec<_>, Vec<_>) = seen.iter().partition(|m| m.certain);
        let minutiae = certain.into_iter().map(to_record).collect();
        let uncertain_minutiae = uncertain.into_iter().map(to_record).collect();
        SyntheticImpression {
            image,
            minutiae,
            uncertain_minutiae,
            class: self.class(),
            finger: self.finger,
            impression,
        }
    }
}

/// Impression `impression` of finger `finger` under `seed` (both 1-based, as
/// in FVC file names). Generating several impressions of one finger is
/// cheaper through [`SyntheticFinger`], which grows the master once.
pub fn generate(
    seed: u64,
    finger: u32,
    impression: u32,
    cfg: &FingerprintConfig,
) -> SyntheticImpression {
    SyntheticFinger::new(seed, finger, cfg).impression(impression, cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ridge orientation (pixel frame, mod π) around `(x, y)` from the
    /// image's structure tensor: ridges run across the dominant gradient.
    fn ridge_orientation(img: &GrayImage, x: f32, y: f32) -> f32 {
        let (mut gxx, mut gyy, mut gxy) = (0.0f32, 0.0f32, 0.0f32);
        let (cx, cy) = (x.round() as i64, y.round() as i64);
        for j in cy - 7..=cy + 7 {
            for i in cx - 7..=cx + 7 {
                let p = |a: i64, b: i64| f32::from(img.get_pixel(a as u32, b as u32).0[0]);
                let gx = p(i + 1, j) - p(i - 1, j);
                let gy = p(i, j + 1) - p(i, j - 1);
                gxx += gx * gx;
                gyy += gy * gy;
                gxy += gx * gy;
            }
        }
        let gradient = 0.5 * (2.0 * gxy).atan2(gxx - gyy);
        (gradient + std::f32::consts::FRAC_PI_2).rem_euclid(std::f32::consts::PI)
    }

    #[test]
    fn same_seed_gives_the_same_image_and_ground_truth() {
        let cfg = FingerprintConfig::default();
        let a = generate(11, 2, 1, &cfg);
        let b = generate(11, 2, 1, &cfg);
        assert_eq!(a.image.as_raw(), b.image.as_raw());
        assert_eq!(a.minutiae, b.minutiae);
        let finger = SyntheticFinger::new(11, 2, &cfg);
        let c = finger.impression(2, &cfg);
        assert_ne!(a.image.as_raw(), c.image.as_raw());
        assert_eq!(a.class, c.class);
    }

    #[test]
    fn dont_care_minutiae_are_the_finger_s_other_minutiae_inside_the_image() {
        let cfg = FingerprintConfig::default();
        let finger = SyntheticFinger::new(5, 1, &cfg);
        let imp = finger.impression(1, &cfg);
        assert!(!imp.uncertain_minutiae.is_empty());
        assert!(imp.minutiae.len() + imp.uncertain_minutiae.len() <= finger.minutiae.len());
        for m in &imp.uncertain_minutiae {
            assert!(m.x_px >= 0.0 && m.y_px >= 0.0 && m.x_px < 300.0 && m.y_px < 400.0);
            assert!(!imp.minutiae.contains(m), "a minutia both certain and not");
        }
    }

    #[test]
    fn ground_truth_minutiae_lie_on_the_rendered_ridges_and_follow_them() {
        let cfg = FingerprintConfig::default();
        let (mut errors, mut count) = (Vec::new(), 0);
        for finger in 1..=3 {
            let imp = generate(5, finger, 1, &cfg);
            assert_eq!(imp.image.dimensions(), (300, 400));
            count += imp.minutiae.len();
            for m in &imp.minutiae {
                assert!(m.x_px >= 12.0 && m.y_px >= 12.0 && m.x_px < 288.0 && m.y_px < 388.0);
                // Ink (dark ridge pixels) must be within a ridge period.
                let dark = (-4..=4)
                    .flat_map(|dy| (-4..=4).map(move |dx| (dx, dy)))
                    .filter(|&(dx, dy)| {
                        let p = imp.image.get_pixel(
                            (m.x_px.round() as i64 + dx) as u32,
                            (m.y_px.round() as i64 + dy) as u32,
                        );
                        p.0[0] < 140
                    })
                    .count();
                assert!(
                    dark > 5,
                    "no ink near the minutia at ({}, {})",
                    m.x_px,
                    m.y_px
                );
                // The record angle is counter-clockwise as seen; the pixel
                // frame angle is its negation.
                let along = (-m.angle_rad).rem_euclid(std::f32::consts::PI);
                let ridge = ridge_orientation(&imp.image, m.x_px, m.y_px);
                let d = (along - ridge).abs();
                errors.push(d.min(std::f32::consts::PI - d).to_degrees());
            }
        }
        assert!(count >= 30, "only {count} minutiae in three impressions");
        errors.sort_by(f32::total_cmp);
        let median = errors[errors.len() / 2];
        assert!(median < 15.0, "median orientation error {median} degrees");
    }
}
