//! Seeded changes of real impressions, by family, for robustness
//! evaluations: what capture does to a finger between two sessions —
//! rotation, a resolution or pressure change (scale), a shift, a partial
//! contact, non-linear skin stretch, sensor noise — each applied alike to an
//! image or to its minutiae — and the lossy compression an enrolment image
//! may go through on its way to the gallery (images only).
//!
//! A [`Change`] is one draw of a [`Family`]. It maps the original picture
//! plane onto the changed one: first the rigid part (rotation about the
//! image centre, scale, shift), then a smooth displacement field (skin
//! distortion), then a crop (partial contact). [`Change::apply_image`]
//! resamples an image through that map (the background filled with the
//! image's own border tone) and [`Change::apply_template`] moves the
//! minutiae through the same map, dropping those that leave the picture.
//!
//! ```
//! use hoviyat_datasets::robustness::Family;
//! use rand::SeedableRng;
//!
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
//! let change = Family::Rotation.draw(300, 400, &mut rng);
//! assert!(change.rotation_rad.abs() <= 60f32.to_radians());
//! let image = image::GrayImage::from_pixel(300, 400, image::Luma([200]));
//! assert_eq!(change.apply_image(&image).dimensions(), (300, 400));
//! ```

use std::f32::consts::{PI, TAU};

use hoviyat_models::{FingerTemplate, Minutia};
use image::GrayImage;
use rand::Rng;
use rand_distr::{Distribution, Normal};
use serde::Serialize;

/// A kind of change between two captures of a finger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// Rotation up to ±60°.
    Rotation,
    /// Scale 0.85-1.15 (resolution mismatch, pressure).
    Scale,
    /// Shift of up to a fifth of each image side, with a small rotation.
    Shift,
    /// Only 40-70 % of the area kept, anywhere in the image.
    Partial,
    /// Non-linear skin stretch of up to ~10 px (0.5 mm) at 500 dpi.
    Distortion,
    /// Sensor noise and lost contrast (images); jitter, missed and spurious
    /// minutiae (templates).
    Noise,
    /// All of the above at once (not compression).
    Combined,
    /// Lossy compression of the image, JPEG at quality 40-80: stored and
    /// transmitted prints are often compressed (WSQ, JPEG, JPEG 2000), which
    /// takes the finest grain and detail and leaves blocks and ringing.
    /// Minutiae are left as they are: on templates this family changes
    /// nothing.
    Compression,
}

impl Family {
    /// Every family, in the order of the enum.
    pub const ALL: [Family; 8] = [
        Family::Rotation,
        Family::Scale,
        Family::Shift,
        Family::Partial,
        Family::Distortion,
        Family::Noise,
        Family::Combined,
        Family::Compression,
    ];

    /// The kebab-case name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Family::Rotation => "rotation",
            Family::Scale => "scale",
            Family::Shift => "shift",
            Family::Partial => "partial",
            Family::Distortion => "distortion",
            Family::Noise => "noise",
            Family::Combined => "combined",
            Family::Compression => "compression",
        }
    }

    /// Draws one change of this family for a `width` x `height` picture.
    pub fn draw(self, width: u32, height: u32, rng: &mut impl Rng) -> Change {
        let (w, h) = (width as f32, height as f32);
        let mut change = Change::identity(width, height);
        let rotation = |rng: &mut dyn rand::RngCore, max_deg: f32| {
            rng.random_range(-max_deg..=max_deg).to_radians()
        };
        let shift = |rng: &mut dyn rand::RngCore| {
            (
                rng.random_range(-0.2..=0.2) * w,
                rng.random_range(-0.2..=0.2) * h,
            )
        };
        match self {
            Family::Rotation => change.rotation_rad = rotation(rng, 60.0),
            Family::Scale => change.scale = rng.random_range(0.85..=1.15),
            Family::Shift => {
                change.shift_px = shift(rng);
                change.rotation_rad = rotation(rng, 10.0);
            }
            Family::Partial => change.crop = Some(Crop::draw(width, height, rng)),
            Family::Distortion => change.distortion = Some(Distortion::draw(rng)),
            Family::Noise => change.noise = Some(Noise::draw(rng)),
            Family::Combined => {
                change.rotation_rad = rotation(rng, 60.0);
                change.scale = rng.random_range(0.85..=1.15);
                change.shift_px = shift(rng);
                change.crop = Some(Crop::draw(width, height, rng));
                change.distortion = Some(Distortion::draw(rng));
                change.noise = Some(Noise::draw(rng));
            }
            Family::Compression => change.jpeg_quality = Some(rng.random_range(40..=80)),
        }
        change
    }
}

/// The kept window of a partial print, in the changed (pre-crop) plane.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Crop {
    pub x0: u32,
    pub y0: u32,
    pub width: u32,
    pub height: u32,
}

impl Crop {
    /// 40-70 % of the area, aspect ratio 0.8-1.25 of the picture's, placed
    /// uniformly at random.
    fn draw(width: u32, height: u32, rng: &mut impl Rng) -> Self {
        let area: f32 = rng.random_range(0.4..=0.7);
        let aspect: f32 = rng.random_range(0.8f32..=1.25);
        let cw = ((width as f32 * (area * aspect).sqrt()).round() as u32).clamp(1, width);
        let ch = ((height as f32 * (area / aspect).sqrt()).round() as u32).clamp(1, height);
        Self {
            x0: rng.random_range(0..=width - cw),
            y0: rng.random_range(0..=height - ch),
            width: cw,
            height: ch,
        }
    }
}

/// A smooth displacement field: a sum of a few long-wavelength waves, the
/// way skin stretches under lateral pressure (smooth over a few mm,
/// displacements of a few tenths of a mm).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Distortion {
    /// `(amplitude x, amplitude y, wave vector x, wave vector y, phase)`.
    waves: Vec<[f32; 5]>,
}

impl Distortion {
    fn draw(rng: &mut impl Rng) -> Self {
        let waves = (0..3)
            .map(|_| {
                let wavelength: f32 = rng.random_range(300.0..=600.0);
                let dir: f32 = rng.random_range(0.0..TAU);
                let amp: f32 = rng.random_range(2.0..=4.0);
                let amp_dir: f32 = rng.random_range(0.0..TAU);
                [
                    amp * amp_dir.cos(),
                    amp * amp_dir.sin(),
                    TAU / wavelength * dir.cos(),
                    TAU / wavelength * dir.sin(),
                    rng.random_range(0.0..TAU),
                ]
            })
            .collect();
        Self { waves }
    }

    /// The displacement at `(x, y)`, pixels.
    pub fn displacement(&self, x: f32, y: f32) -> (f32, f32) {
        self.waves.iter().fold((0.0, 0.0), |(dx, dy), w| {
            let s = (w[2] * x + w[3] * y + w[4]).sin();
            (dx + w[0] * s, dy + w[1] * s)
        })
    }
}

/// Noise of a capture: pixel noise and lost contrast for images; position
/// and direction jitter, missed and spurious minutiae for templates. The
/// ranges are those of a worse capture on the same sensor (Gaussian noise
/// of 5-12 grey levels, 60-100 % of the contrast; 1-2 px and 4-8° jitter,
/// 5-15 % of the minutiae missed and as many spurious ones), on top of
/// whatever the original capture already has.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Noise {
    /// Standard deviation of Gaussian pixel noise, grey levels.
    pub pixel_sigma: f32,
    /// Contrast kept around mid-grey, 0 to 1.
    pub contrast: f32,
    /// Standard deviation of position jitter per minutia, pixels.
    pub position_sigma_px: f32,
    /// Standard deviation of direction jitter per minutia, radians.
    pub angle_sigma_rad: f32,
    /// Share of minutiae lost.
    pub missing: f32,
    /// Spurious minutiae added, as a share of the count.
    pub spurious: f32,
    /// Seed of the per-pixel and per-minutia draws.
    pub seed: u64,
}

impl Noise {
    fn draw(rng: &mut impl Rng) -> Self {
        Self {
            pixel_sigma: rng.random_range(5.0..=12.0),
            contrast: rng.random_range(0.6..=1.0),
            position_sigma_px: rng.random_range(1.0..=2.0),
            angle_sigma_rad: rng.random_range(4f32..=8.0).to_radians(),
            missing: rng.random_range(0.05..=0.15),
            spurious: rng.random_range(0.05..=0.15),
            seed: rng.random(),
        }
    }
}

/// One change of a picture: see the module documentation for the order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// Size of the original picture.
    pub width: u32,
    pub height: u32,
    /// Rotation about the picture centre, counter-clockwise as seen.
    pub rotation_rad: f32,
    pub scale: f32,
    pub shift_px: (f32, f32),
    pub distortion: Option<Distortion>,
    pub crop: Option<Crop>,
    pub noise: Option<Noise>,
    /// JPEG quality (1-100) the changed image is compressed at, last.
    pub jpeg_quality: Option<u8>,
}

impl Change {
    /// The change that changes nothing.
    pub fn identity(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            rotation_rad: 0.0,
            scale: 1.0,
            shift_px: (0.0, 0.0),
            distortion: None,
            crop: None,
            noise: None,
            jpeg_quality: None,
        }
    }

    /// Size of the changed picture.
    pub fn output_size(&self) -> (u32, u32) {
        self.crop
            .map_or((self.width, self.height), |c| (c.width, c.height))
    }

    fn centre(&self) -> (f32, f32) {
        (self.width as f32 / 2.0, self.height as f32 / 2.0)
    }

    /// Rigid part, original -> changed plane (pixel coordinates, y down;
    /// a counter-clockwise turn as seen is clockwise in these axes).
    fn rigid(&self, x: f32, y: f32) -> (f32, f32) {
        let (cx, cy) = self.centre();
        let (s, c) = self.rotation_rad.sin_cos();
        let (dx, dy) = (x - cx, y - cy);
        let (rx, ry) = (c * dx + s * dy, -s * dx + c * dy);
        (
            cx + self.scale * rx + self.shift_px.0,
            cy + self.scale * ry + self.shift_px.1,
        )
    }

    fn rigid_inverse(&self, x: f32, y: f32) -> (f32, f32) {
        let (cx, cy) = self.centre();
        let (s, c) = self.rotation_rad.sin_cos();
        let (rx, ry) = (
            (x - cx - self.shift_px.0) / self.scale,
            (y - cy - self.shift_px.1) / self.scale,
        );
        (cx + c * rx - s * ry, cy + s * rx + c * ry)
    }

    /// Original point -> output point (before the crop is subtracted the
    /// distortion is solved by fixed-point iteration: the field is smooth
    /// and small, so a few steps converge far below a pixel).
    pub fn forward(&self, x: f32, y: f32) -> (f32, f32) {
        let (mut qx, mut qy) = self.rigid(x, y);
        if let Some(d) = &self.distortion {
            let (px, py) = (qx, qy);
            for _ in 0..6 {
                let (dx, dy) = d.displacement(qx, qy);
                qx = px + dx;
                qy = py + dy;
            }
        }
        match self.crop {
            Some(c) => (qx - c.x0 as f32, qy - c.y0 as f32),
            None => (qx, qy),
        }
    }

    /// Output point -> original point.
    pub fn backward(&self, x: f32, y: f32) -> (f32, f32) {
        let (mut qx, mut qy) = (x, y);
        if let Some(c) = self.crop {
            qx += c.x0 as f32;
            qy += c.y0 as f32;
        }
        if let Some(d) = &self.distortion {
            let (dx, dy) = d.displacement(qx, qy);
            qx -= dx;
            qy -= dy;
        }
        self.rigid_inverse(qx, qy)
    }

    /// Resamples `image` (which must have the change's size) through the
    /// change; pixels mapped from outside the original take the median tone
    /// of its border, then noise is added, then the image is compressed.
    pub fn apply_image(&self, image: &GrayImage) -> GrayImage {
        let background = border_median(image);
        let (ow, oh) = self.output_size();
        let mut out = GrayImage::from_fn(ow, oh, |x, y| {
            let (sx, sy) = self.backward(x as f32 + 0.5, y as f32 + 0.5);
            image::Luma([bilinear(image, sx - 0.5, sy - 0.5).unwrap_or(background)])
        });
        if let Some(noise) = self.noise {
            let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(noise.seed);
            let normal = Normal::new(0.0f32, noise.pixel_sigma.max(1e-3))
                .unwrap_or_else(|_| unreachable_normal());
            for p in out.pixels_mut() {
                let v =
                    128.0 + (f32::from(p.0[0]) - 128.0) * noise.contrast + normal.sample(&mut rng);
                p.0[0] = v.round().clamp(0.0, 255.0) as u8;
            }
        }
        match self.jpeg_quality {
            Some(quality) => jpeg_round_trip(&out, quality).unwrap_or(out),
            None => out,
        }
    }

    /// Moves `template`'s minutiae through the change (directions follow the
    /// local map), drops those that leave the picture, and applies the
    /// template part of the noise. The template must have the change's size.
    pub fn apply_template(&self, template: &FingerTemplate) -> FingerTemplate {
        let (ow, oh) = self.output_size();
        let inside = |x: f32, y: f32| x >= 0.0 && y >= 0.0 && x < ow as f32 && y < oh as f32;
        let mut minutiae: Vec<Minutia> = template
            .minutiae
            .iter()
            .filter_map(|m| {
                let (x, y) = self.forward(m.x_px, m.y_px);
                let (dx, dy) = m.direction();
                let (ax, ay) = self.forward(m.x_px + 4.0 * dx, m.y_px + 4.0 * dy);
                let angle = (-(ay - y)).atan2(ax - x);
                inside(x, y).then(|| Minutia::new(x, y, angle, m.kind, m.quality))
            })
            .collect();
        if let Some(noise) = self.noise {
            let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(noise.seed);
            let pos = Normal::new(0.0f32, noise.position_sigma_px.max(1e-3))
                .unwrap_or_else(|_| unreachable_normal());
            let ang = Normal::new(0.0f32, noise.angle_sigma_rad.max(1e-4))
                .unwrap_or_else(|_| unreachable_normal());
            let original = minutiae.len();
            minutiae.retain(|_| rng.random::<f32>() >= noise.missing);
            for m in &mut minutiae {
                let x = (m.x_px + pos.sample(&mut rng)).clamp(0.0, ow as f32 - 1.0);
                let y = (m.y_px + pos.sample(&mut rng)).clamp(0.0, oh as f32 - 1.0);
                *m = Minutia::new(x, y, m.angle_rad + ang.sample(&mut rng), m.kind, m.quality);
            }
            let spurious = (original as f32 * noise.spurious).round() as usize;
            for _ in 0..spurious {
                let kind = if rng.random() {
                    hoviyat_models::MinutiaKind::Ending
                } else {
                    hoviyat_models::MinutiaKind::Bifurcation
                };
                minutiae.push(Minutia::new(
                    rng.random_range(0.0..ow as f32),
                    rng.random_range(0.0..oh as f32),
                    rng.random_range(0.0..2.0 * PI),
                    kind,
                    30,
                ));
            }
            minutiae.truncate(hoviyat_models::MAX_MINUTIAE);
        }
        FingerTemplate {
            width_px: ow.min(u32::from(u16::MAX)) as u16,
            height_px: oh.min(u32::from(u16::MAX)) as u16,
            minutiae,
            ..template.clone()
        }
    }
}

/// `Normal::new` fails only for a non-finite or negative sigma, which the
/// callers rule out by construction.
fn unreachable_normal() -> Normal<f32> {
    Normal::new(0.0, 1.0).unwrap_or_else(|_| unreachable!("a unit normal is valid"))
}

/// `image` encoded as a JPEG at `quality` and decoded again; `None` if the
/// codec refuses it (an empty image).
pub fn jpeg_round_trip(image: &GrayImage, quality: u8) -> Option<GrayImage> {
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality.clamp(1, 100))
        .encode_image(image)
        .ok()?;
    let decoded = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg).ok()?;
    Some(decoded.into_luma8())
}

fn border_median(image: &GrayImage) -> u8 {
    let (w, h) = image.dimensions();
    if w == 0 || h == 0 {
        return 255;
    }
    let mut tones: Vec<u8> = (0..w)
        .flat_map(|x| [image.get_pixel(x, 0).0[0], image.get_pixel(x, h - 1).0[0]])
        .chain((0..h).flat_map(|y| [image.get_pixel(0, y).0[0], image.get_pixel(w - 1, y).0[0]]))
        .collect();
    tones.sort_unstable();
    tones[tones.len() / 2]
}

/// Bilinear sample at pixel-centre coordinates; `None` outside.
fn bilinear(image: &GrayImage, x: f32, y: f32) -> Option<u8> {
    let (w, h) = image.dimensions();
    if !(x >= 0.0 && y >= 0.0 && x <= (w - 1) as f32 && y <= (h - 1) as f32) {
        return None;
    }
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let p = |x: u32, y: u32| f32::from(image.get_pixel(x, y).0[0]);
    let top = p(x0, y0) * (1.0 - fx) + p(x1, y0) * fx;
    let bottom = p(x0, y1) * (1.0 - fx) + p(x1, y1) * fx;
    Some((top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hoviyat_models::{FingerPosition, MinutiaKind};
    use rand::SeedableRng;

    fn template(w: u16, h: u16) -> FingerTemplate {
        FingerTemplate {
            position: FingerPosition::Unknown,
            width_px: w,
            height_px: h,
            dpi: 500,
            quality: 60,
            minutiae: (0..30)
                .map(|i| {
                    let x = 30.0 + (i * 37 % 240) as f32;
                    let y = 30.0 + (i * 53 % 340) as f32;
                    Minutia::new(x, y, i as f32 * 0.7, MinutiaKind::Ending, 50)
                })
                .collect(),
            ridge_map: None,
        }
    }

    #[test]
    fn forward_and_backward_are_inverse() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for family in Family::ALL {
            for _ in 0..20 {
                let change = family.draw(300, 400, &mut rng);
                for (x, y) in [(10.0, 20.0), (150.0, 200.0), (290.0, 390.0)] {
                    let (u, v) = change.forward(x, y);
                    let (bx, by) = change.backward(u, v);
                    assert!(
                        (bx - x).abs() < 0.05 && (by - y).abs() < 0.05,
                        "{family:?}: ({x}, {y}) -> ({u}, {v}) -> ({bx}, {by})"
                    );
                }
            }
        }
    }

    #[test]
    fn draws_stay_within_each_familys_range() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        for _ in 0..200 {
            let r = Family::Rotation.draw(300, 400, &mut rng);
            assert!(r.rotation_rad.abs() <= 60f32.to_radians() + 1e-6);
            let s = Family::Scale.draw(300, 400, &mut rng);
            assert!((0.85..=1.15).contains(&s.scale));
            let p = Family::Partial.draw(300, 400, &mut rng);
            let c = p.crop.expect("partial crops");
            let share = (c.width * c.height) as f32 / (300.0 * 400.0);
            assert!((0.35..=0.75).contains(&share), "area share {share}");
            assert!(c.x0 + c.width <= 300 && c.y0 + c.height <= 400);
            let d = Family::Distortion.draw(300, 400, &mut rng);
            let field = d.distortion.expect("distortion");
            let (dx, dy) = field.displacement(150.0, 200.0);
            assert!(dx.hypot(dy) <= 12.0 * 1.5);
        }
    }

    #[test]
    fn a_rotated_template_keeps_its_geometry() {
        // Distances between minutiae and relative directions survive a
        // rotation: what a matcher relies on.
        let t = template(300, 400);
        let change = Change {
            rotation_rad: 30f32.to_radians(),
            ..Change::identity(300, 400)
        };
        let moved = change.apply_template(&t);
        let pairs: Vec<(usize, usize)> = t
            .minutiae
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                let (x, y) = change.forward(a.x_px, a.y_px);
                moved
                    .minutiae
                    .iter()
                    .position(|b| (b.x_px - x).abs() < 1e-3 && (b.y_px - y).abs() < 1e-3)
                    .map(|j| (i, j))
            })
            .collect();
        assert!(pairs.len() >= 20, "most minutiae stay inside");
        for &(i, j) in &pairs {
            let turn = (moved.minutiae[j].angle_rad - t.minutiae[i].angle_rad).rem_euclid(TAU);
            assert!((turn - 30f32.to_radians()).abs() < 1e-3, "turned by {turn}");
        }
        let (a, b) = (pairs[0], pairs[1]);
        let d0 = (t.minutiae[a.0].x_px - t.minutiae[b.0].x_px)
            .hypot(t.minutiae[a.0].y_px - t.minutiae[b.0].y_px);
        let d1 = (moved.minutiae[a.1].x_px - moved.minutiae[b.1].x_px)
            .hypot(moved.minutiae[a.1].y_px - moved.minutiae[b.1].y_px);
        assert!((d0 - d1).abs() < 1e-2);
        assert!(moved.validate().is_ok());
    }

    #[test]
    fn an_image_and_its_minutiae_move_together() {
        // A dark dot at a minutia's place lands where the minutia lands.
        let mut image = GrayImage::from_pixel(300, 400, image::Luma([230]));
        for dy in 0..5 {
            for dx in 0..5 {
                image.put_pixel(118 + dx, 198 + dy, image::Luma([0]));
            }
        }
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut checked = 0;
        for _ in 0..30 {
            let mut change = Family::Combined.draw(300, 400, &mut rng);
            change.noise = None;
            let (x, y) = change.forward(120.5, 200.5);
            let (w, h) = change.output_size();
            if !(3.0..w as f32 - 3.0).contains(&x) || !(3.0..h as f32 - 3.0).contains(&y) {
                continue;
            }
            let out = change.apply_image(&image);
            assert_eq!(out.dimensions(), (w, h));
            assert!(out.get_pixel(x as u32, y as u32).0[0] < 100, "{change:?}");
            checked += 1;
        }
        assert!(checked >= 5);
    }

    #[test]
    fn compression_loses_fine_detail_and_nothing_else() {
        // A grainy picture: compression keeps its size and overall tone
        // but not its pixel-level grain; minutiae are left alone.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let image = GrayImage::from_fn(300, 400, |x, y| {
            let ridge = 128.0 + 60.0 * (x as f32 * TAU / 9.0).sin();
            let grain: f32 = rng.random_range(-20.0..20.0);
            image::Luma([(ridge + grain + (y % 2) as f32).clamp(0.0, 255.0) as u8])
        });
        let change = Family::Compression.draw(300, 400, &mut rng);
        let q = change.jpeg_quality.expect("compression draws a quality");
        assert!((40..=80).contains(&q));
        let out = change.apply_image(&image);
        assert_eq!(out.dimensions(), (300, 400));
        let mean = |i: &GrayImage| i.pixels().map(|p| f64::from(p.0[0])).sum::<f64>() / 120_000.0;
        assert!((mean(&image) - mean(&out)).abs() < 2.0);
        // Horizontal neighbours along a column of constant ridge phase
        // differ by the grain alone; compression smooths most of it.
        let roughness = |i: &GrayImage| {
            (1..400)
                .map(|y| {
                    (f64::from(i.get_pixel(100, y).0[0]) - f64::from(i.get_pixel(100, y - 1).0[0]))
                        .abs()
                })
                .sum::<f64>()
        };
        assert!(roughness(&out) < 0.8 * roughness(&image));
        let t = template(300, 400);
        assert_eq!(
            change.apply_template(&t),
            Change::identity(300, 400).apply_template(&t)
        );
    }

    #[test]
    fn partial_templates_fit_their_window_and_noise_is_seeded() {
        let t = template(300, 400);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        for _ in 0..20 {
            let change = Family::Combined.draw(300, 400, &mut rng);
            let a = change.apply_template(&t);
            assert!(a.validate().is_ok());
            assert_eq!(
                (u32::from(a.width_px), u32::from(a.height_px)),
                change.output_size()
            );
            assert_eq!(a, change.apply_template(&t), "same change, same result");
        }
    }
}
