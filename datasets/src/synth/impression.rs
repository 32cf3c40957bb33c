//! Impressions of a master: placement, partial contact, non-linear skin
//! distortion, pressure and dryness, noise, and sensor-like 8-bit rendering.
//! Ground-truth minutiae go through the very mapping the pixels go through.

use std::f32::consts::{PI, TAU};

use image::GrayImage;
use rand::Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;

use super::master::Master;
use super::orientation::Point;
use super::skeleton::MasterMinutia;

/// How far impressions of one master differ from each other.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImpressionConfig {
    pub width_px: u32,
    pub height_px: u32,
    /// Largest rotation of the finger on the sensor, degrees either way.
    pub max_rotation_deg: f32,
    /// Largest displacement of the pad centre from the image centre, pixels.
    pub max_translation_px: f32,
    /// Scale of the non-linear skin distortion (1 = typical livescan).
    pub distortion: f32,
    /// Standard deviation of the sensor noise, grey levels.
    pub noise_sigma: f32,
    /// Minutiae closer than this to the image border or to the edge of the
    /// inked contact area are left out of the ground truth.
    pub gt_margin_px: f32,
    /// Skin and capture condition imposed on every impression; `Random`
    /// draws one per impression, as a real capture session does.
    pub skin: Skin,
}

/// A capture condition that an impression can be forced into, for tests of
/// the extractor on hard prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Skin {
    /// Pressure, moisture and contrast drawn at random per impression.
    #[default]
    Random,
    /// Dry skin: thin ridges broken into dots and dashes, light patches.
    Dry,
    /// Wet skin or heavy pressure: thick ridges, valleys partly filled.
    Wet,
    /// Faint print: ridges only some 30 grey levels darker than the valleys.
    LowContrast,
    /// Partial contact: a small pad area, pushed towards the image edge.
    Partial,
}

impl Default for ImpressionConfig {
    fn default() -> Self {
        Self {
            width_px: 300,
            height_px: 400,
            max_rotation_deg: 15.0,
            max_translation_px: 30.0,
            distortion: 1.0,
            noise_sigma: 8.0,
            gt_margin_px: 12.0,
            skin: Skin::Random,
        }
    }
}

/// Cappelli-style distortion: the pad's centre of contact stays put, the
/// periphery follows a small rotation and translation, with a smooth
/// transition in between, plus a faint random warp.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Distortion {
    centre: Point,
    inner_px: f32,
    outer_px: f32,
    rot_rad: f32,
    shift: Point,
    waves: [(f32, f32, f32, f32, f32); 2],
}

impl Distortion {
    pub(crate) fn random<R: Rng + ?Sized>(centre: Point, strength: f32, rng: &mut R) -> Self {
        let mut wave = || {
            let dir: f32 = rng.random_range(0.0..TAU);
            let k = TAU / rng.random_range(180.0..400.0);
            (
                strength * rng.random_range(0.5..2.0),
                k * dir.cos(),
                k * dir.sin(),
                rng.random_range(0.0..TAU),
                rng.random_range(0.0..TAU),
            )
        };
        let waves = [wave(), wave()];
        Self {
            centre,
            inner_px: rng.random_range(40.0..70.0),
            outer_px: rng.random_range(130.0..180.0),
            rot_rad: strength * rng.random_range(-3.0f32..3.0).to_radians(),
            shift: Point {
                x_px: strength * rng.random_range(-7.0..7.0),
                y_px: strength * rng.random_range(-7.0..7.0),
            },
            waves,
        }
    }

    /// Displacement at `u` (distorted frame) back to the master frame.
    pub(crate) fn displacement(&self, x: f32, y: f32) -> (f32, f32) {
        let (dx, dy) = (x - self.centre.x_px, y - self.centre.y_px);
        let r = dx.hypot(dy);
        let t = ((r - self.inner_px) / (self.outer_px - self.inner_px)).clamp(0.0, 1.0);
        let weight = t * t * (3.0 - 2.0 * t);
        let (s, c) = self.rot_rad.sin_cos();
        let rx = c * dx - s * dy - dx + self.shift.x_px;
        let ry = s * dx + c * dy - dy + self.shift.y_px;
        let mut ox = weight * rx;
        let mut oy = weight * ry;
        for &(amp, kx, ky, px, py) in &self.waves {
            let phase = kx * x + ky * y;
            ox += amp * (phase + px).sin();
            oy += amp * (phase + py).sin();
        }
        (ox, oy)
    }
}

/// Coarse random field, bilinearly interpolated: blotches of dryness and
/// uneven pressure.
#[derive(Debug, Clone)]
struct ValueNoise {
    cell_px: f32,
    cols: usize,
    values: Vec<f32>,
}

impl ValueNoise {
    fn random<R: Rng + ?Sized>(w: u32, h: u32, cell_px: f32, rng: &mut R) -> Self {
        let cols = (w as f32 / cell_px) as usize + 2;
        let rows = (h as f32 / cell_px) as usize + 2;
        Self {
            cell_px,
            cols,
            values: (0..cols * rows).map(|_| rng.random::<f32>()).collect(),
        }
    }

    fn at(&self, x: f32, y: f32) -> f32 {
        let gx = (x / self.cell_px).max(0.0);
        let gy = (y / self.cell_px).max(0.0);
        let rows = self.values.len() / self.cols;
        let (x0, y0) = (
            (gx as usize).min(self.cols - 2),
            (gy as usize).min(rows - 2),
        );
        let (fx, fy) = ((gx - x0 as f32).min(1.0), (gy - y0 as f32).min(1.0));
        let (fx, fy) = (fx * fx * (3.0 - 2.0 * fx), fy * fy * (3.0 - 2.0 * fy));
        let v = |c: usize, r: usize| self.values[r * self.cols + c];
        let top = v(x0, y0) * (1.0 - fx) + v(x0 + 1, y0) * fx;
        let bottom = v(x0, y0 + 1) * (1.0 - fx) + v(x0 + 1, y0 + 1) * fx;
        top * (1.0 - fy) + bottom * fy
    }
}

/// Where one impression puts the master, and how it inks it.
#[derive(Debug, Clone)]
pub(crate) struct Placement {
    master_centre: Point,
    image_centre: Point,
    rot_rad: f32,
    distortion: Distortion,
    /// Contact ellipse in master coordinates.
    contact: (Point, f32, f32),
    /// Ridge thickness bias: negative is dry/light, positive is wet/heavy.
    bias: f32,
    dryness: f32,
    blotches: ValueNoise,
    background: f32,
    ink: f32,
}

impl Placement {
    pub(crate) fn random<R: Rng + ?Sized>(
        master: &Master,
        cfg: &ImpressionConfig,
        rng: &mut R,
    ) -> Self {
        let sil = master.silhouette;
        let contact_centre = Point {
            x_px: sil.centre.x_px + rng.random_range(-0.12..0.12) * sil.half_width_px,
            y_px: sil.centre.y_px + rng.random_range(-0.05..0.2) * sil.half_height_px,
        };
        let pressure: f32 = rng.random_range(0.0..1.0);
        let contact = (
            contact_centre,
            sil.half_width_px * (0.85 + 0.25 * pressure),
            sil.half_height_px * (0.72 + 0.3 * pressure),
        );
        let rot_rad = rng
            .random_range(-cfg.max_rotation_deg..=cfg.max_rotation_deg)
            .to_radians();
        let angle: f32 = rng.random_range(0.0..TAU);
        let dist = cfg.max_translation_px * rng.random::<f32>().sqrt();
        let image_centre = Point {
            x_px: cfg.width_px as f32 / 2.0 + dist * angle.cos(),
            y_px: cfg.height_px as f32 / 2.0 + dist * angle.sin(),
        };
        let mut placement = Self {
            master_centre: sil.centre,
            image_centre,
            rot_rad,
            distortion: Distortion::random(contact_centre, cfg.distortion, rng),
            contact,
            bias: rng.random_range(-0.35..0.3) + 0.2 * (pressure - 0.5),
            dryness: rng.random_range(0.0..0.6),
            blotches: ValueNoise::random(cfg.width_px, cfg.height_px, 24.0, rng),
            background: rng.random_range(205.0..245.0),
            ink: rng.random_range(20.0..80.0),
        };
        // Imposed conditions draw after the random ones, so that `Random`
        // keeps the stream (and every earlier image) unchanged.
        match cfg.skin {
            Skin::Random => {}
            Skin::Dry => {
                placement.bias = rng.random_range(-0.5..-0.4);
                placement.dryness = rng.random_range(0.7..0.9);
                placement.blotches = ValueNoise::random(cfg.width_px, cfg.height_px, 10.0, rng);
            }
            Skin::Wet => {
                placement.bias = rng.random_range(0.4..0.5);
                placement.dryness = 0.0;
            }
            Skin::LowContrast => {
                placement.background = rng.random_range(150.0..200.0);
                placement.ink = placement.background - rng.random_range(28.0..36.0);
            }
            Skin::Partial => {
                // A fingertip touching with a third of its pad, off centre.
                let (c, a, b) = placement.contact;
                let side: f32 = if rng.random::<bool>() { 1.0 } else { -1.0 };
                placement.contact = (
                    Point {
                        x_px: c.x_px + side * 0.45 * a,
                        y_px: c.y_px - 0.35 * b,
                    },
                    0.5 * a,
                    0.45 * b,
                );
            }
        }
        placement
    }

    /// Image pixel to master coordinates.
    fn to_master(&self, x: f32, y: f32) -> (f32, f32) {
        let (s, c) = self.rot_rad.sin_cos();
        let (dx, dy) = (x - self.image_centre.x_px, y - self.image_centre.y_px);
        // Undo the rotation by rot_rad.
        let ux = c * dx + s * dy + self.master_centre.x_px;
        let uy = -s * dx + c * dy + self.master_centre.y_px;
        let (ox, oy) = self.distortion.displacement(ux, uy);
        (ux + ox, uy + oy)
    }

    /// Master coordinates to image pixel: the inverse of [`Self::to_master`].
    fn to_image(&self, mx: f32, my: f32) -> (f32, f32) {
        // Fixed point of u = m - d(u); d is smooth with a small gradient.
        let (mut ux, mut uy) = (mx, my);
        for _ in 0..12 {
            let (ox, oy) = self.distortion.displacement(ux, uy);
            ux = mx - ox;
            uy = my - oy;
        }
        let (s, c) = self.rot_rad.sin_cos();
        let (dx, dy) = (ux - self.master_centre.x_px, uy - self.master_centre.y_px);
        (
            c * dx - s * dy + self.image_centre.x_px,
            s * dx + c * dy + self.image_centre.y_px,
        )
    }

    /// Pressure at a master point: 1 well inside the contact ellipse,
    /// falling to 0 at its edge.
    fn contact(&self, mx: f32, my: f32) -> f32 {
        let (c, a, b) = self.contact;
        let r = ((mx - c.x_px) / a).hypot((my - c.y_px) / b);
        ((1.0 - r) * 6.0).clamp(0.0, 1.0)
    }

    /// Share of ink left by dryness at an image pixel (1 = all).
    fn wetness(&self, x: f32, y: f32) -> f32 {
        let v = self.blotches.at(x, y);
        (1.0 - self.dryness * (1.6 * v - 0.3).clamp(0.0, 1.0)).clamp(0.0, 1.0)
    }
}

/// Renders one impression of `master`.
pub(crate) fn render<R: Rng + ?Sized>(
    master: &Master,
    placement: &Placement,
    cfg: &ImpressionConfig,
    rng: &mut R,
) -> GrayImage {
    let (w, h) = (cfg.width_px, cfg.height_px);
    let mut ink = vec![0.0f32; (w * h) as usize];
    ink.par_chunks_mut(w as usize)
        .enumerate()
        .for_each(|(y, row)| {
            for (x, out) in row.iter_mut().enumerate() {
                let (xf, yf) = (x as f32, y as f32);
                let (mx, my) = placement.to_master(xf, yf);
                let inside = (master.silhouette.inside(mx, my) / 4.0).clamp(0.0, 1.0);
                let contact = placement.contact(mx, my) * inside;
                if contact <= 0.0 {
                    continue;
                }
                let ridge = master.sample(mx, my);
                let wet = placement.wetness(xf, yf);
                // Soft threshold: the bias thickens or thins every ridge.
                let level = ridge + placement.bias - 0.8 * (1.0 - wet) - 0.6 * (1.0 - contact);
                let v = (level * 3.0).clamp(-1.0, 1.0);
                *out = 0.5 * (v + 1.0) * contact.sqrt();
            }
        });
    let noise = Normal::new(0.0f32, cfg.noise_sigma.max(0.0)).ok();
    let mut img = GrayImage::new(w, h);
    for y in 0..h {
        for x in 0..w {
            // A 3x3 binomial blur: the optics of a livescan sensor.
            let mut acc = 0.0;
            for (dy, wy) in [(-1i64, 1.0f32), (0, 2.0), (1, 1.0)] {
                for (dx, wx) in [(-1i64, 1.0f32), (0, 2.0), (1, 1.0)] {
                    let xx = (i64::from(x) + dx).clamp(0, i64::from(w) - 1) as u32;
                    let yy = (i64::from(y) + dy).clamp(0, i64::from(h) - 1) as u32;
                    acc += wx * wy * ink[(yy * w + xx) as usize];
                }
            }
            let k = acc / 16.0;
            let n = noise.as_ref().map_or(0.0, |d| d.sample(rng));
            let g = placement.background - (placement.background - placement.ink) * k + n;
            img.put_pixel(x, y, image::Luma([g.round().clamp(0.0, 255.0) as u8]));
        }
    }
    img
}

/// A master minutia as seen in one impression: image coordinates, the
/// pixel-frame direction, whether it is a bifurcation, and whether the
/// ground truth vouches for it.
pub(crate) struct SeenMinutia {
    pub x: f32,
    pub y: f32,
    pub dir: f32,
    pub bifurcation: bool,
    /// Visibly inked and away from the borders, the contact edge and dry
    /// patches. Otherwise the minutia is inked somewhere in the image but
    /// may be drawn faintly or cut off: neither a detection there nor a
    /// miss says much about an extractor.
    pub certain: bool,
}

/// The master minutiae that fall on the impression's inked area, in image
/// coordinates; those away from borders, the contact edge and dry patches
/// are certain (the ground truth).
pub(crate) fn transform_minutiae(
    master: &Master,
    placement: &Placement,
    cfg: &ImpressionConfig,
    minutiae: &[MasterMinutia],
) -> Vec<SeenMinutia> {
    let margin = cfg.gt_margin_px;
    let (w, h) = (cfg.width_px as f32, cfg.height_px as f32);
    minutiae
        .iter()
        .filter_map(|m| {
            let (x, y) = placement.to_image(m.x_px, m.y_px);
            let inked = x >= 0.0
                && y >= 0.0
                && x < w
                && y < h
                && placement.contact(m.x_px, m.y_px) > 0.0
                && master.silhouette.inside(m.x_px, m.y_px) > 0.0
                && placement.wetness(x, y) > 0.0;
            if !inked {
                return None;
            }
            let inside =
                !(x < margin || y < margin || x > w - 1.0 - margin || y > h - 1.0 - margin);
            // Contact must reach `margin` pixels around the point.
            let contact = (0..8).all(|k| {
                let a = k as f32 * PI / 4.0;
                let (mx, my) = (m.x_px + margin * a.cos(), m.y_px + margin * a.sin());
                placement.contact(mx, my) >= 0.5 && master.silhouette.inside(mx, my) > 4.0
            });
            let certain = inside && contact && placement.wetness(x, y) >= 0.5;
            let step = 4.0;
            let (x2, y2) = placement.to_image(
                m.x_px + step * m.dir_rad.cos(),
                m.y_px + step * m.dir_rad.sin(),
            );
            let dir = (y2 - y).atan2(x2 - x);
            Some(SeenMinutia {
                x,
                y,
                dir,
                bifurcation: m.bifurcation,
                certain,
            })
        })
        .collect()
}
