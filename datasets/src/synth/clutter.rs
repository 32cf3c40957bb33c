//! Seeded procedural images that are not fingerprints: what a fingerprint
//! extractor must refuse (a photo-like scene, a face-like drawing, a blank
//! frame, noise).

use image::GrayImage;
use rand::Rng;
use rand_distr::{Distribution, Normal};

use super::seed;

const TAG_CLUTTER: u64 = 0x434C_5554;

/// Kinds of non-fingerprint images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clutter {
    /// A landscape-like scene: sky and ground gradients, a horizon, boxy
    /// buildings with windows, round trees, grass texture, sensor noise.
    Scene,
    /// A face-like drawing: shaded head, hair, eyes, brows, nose and mouth
    /// on a gradient background.
    Face,
    /// A uniform frame with faint sensor noise.
    Blank,
    /// Independent uniform grey levels.
    Noise,
}

impl Clutter {
    pub const ALL: [Clutter; 4] = [
        Clutter::Scene,
        Clutter::Face,
        Clutter::Blank,
        Clutter::Noise,
    ];
}

/// Renders a `width` x `height` image of `kind` from `seed`.
pub fn render(kind: Clutter, width: u32, height: u32, seed: u64) -> GrayImage {
    let mut rng = seed::rng(seed, &[TAG_CLUTTER, kind as u64]);
    let (w, h) = (width as f32, height as f32);
    let mut px = vec![0f32; (width * height) as usize];
    let idx = |x: u32, y: u32| (y * width + x) as usize;
    match kind {
        Clutter::Blank => {
            let level = rng.random_range(60.0..230.0);
            px.fill(level);
        }
        Clutter::Noise => {
            for p in &mut px {
                *p = rng.random_range(0.0..255.0);
            }
        }
        Clutter::Scene => {
            let horizon = h * rng.random_range(0.35..0.6);
            let (sky_top, sky_low) = (
                rng.random_range(150.0..200.0),
                rng.random_range(200.0..250.0),
            );
            let ground = rng.random_range(60.0..130.0);
            // Grass: value noise at two scales.
            let cells: Vec<f32> = (0..64 * 64).map(|_| rng.random_range(-1.0..1.0)).collect();
            let grass = |x: f32, y: f32, cell: f32| {
                let (gx, gy) = (x / cell, y / cell);
                let (x0, y0) = (gx.floor() as usize % 63, gy.floor() as usize % 63);
                let (fx, fy) = (gx.fract(), gy.fract());
                let v = |c: usize, r: usize| cells[r * 64 + c];
                let top = v(x0, y0) * (1.0 - fx) + v(x0 + 1, y0) * fx;
                let bot = v(x0, y0 + 1) * (1.0 - fx) + v(x0 + 1, y0 + 1) * fx;
                top * (1.0 - fy) + bot * fy
            };
            for y in 0..height {
                for x in 0..width {
                    let (xf, yf) = (x as f32, y as f32);
                    px[idx(x, y)] = if yf < horizon {
                        sky_top + (sky_low - sky_top) * yf / horizon
                    } else {
                        ground
                            + 25.0 * grass(xf, yf, 3.0)
                            + 15.0 * grass(xf + 50.0, yf, 11.0)
                            + 10.0 * (yf - horizon) / h
                    };
                }
            }
            // Buildings with rows of windows.
            for _ in 0..rng.random_range(2..5) {
                let bw = rng.random_range(0.1..0.25) * w;
                let bh = rng.random_range(0.15..0.4) * h;
                let x0 = rng.random_range(0.0..w - bw);
                let shade = rng.random_range(40.0..200.0);
                let win = rng.random_range(8.0..16.0);
                for y in (horizon - bh).max(0.0) as u32..horizon as u32 {
                    for x in x0 as u32..(x0 + bw) as u32 {
                        let (lx, ly) = (x as f32 - x0, y as f32 - (horizon - bh));
                        let window = (lx % win) > win * 0.5 && (ly % win) > win * 0.5;
                        px[idx(x, y)] = if window { shade * 0.5 } else { shade };
                    }
                }
            }
            // Round trees.
            for _ in 0..rng.random_range(2..6) {
                let (cx, cy) = (
                    rng.random_range(0.0..w),
                    horizon + rng.random_range(-30.0..10.0),
                );
                let r = rng.random_range(10.0..35.0);
                let shade = rng.random_range(30.0..90.0);
                for y in 0..height {
                    for x in 0..width {
                        let d = (x as f32 - cx).hypot(y as f32 - cy);
                        if d < r {
                            px[idx(x, y)] = shade + 12.0 * grass(x as f32, y as f32, 2.0);
                        }
                    }
                }
            }
        }
        Clutter::Face => {
            let bg0 = rng.random_range(80.0..200.0);
            let bg1 = rng.random_range(80.0..200.0);
            let (cx, cy) = (
                w * rng.random_range(0.4..0.6),
                h * rng.random_range(0.45..0.55),
            );
            let (ax, ay) = (
                w * rng.random_range(0.25..0.32),
                h * rng.random_range(0.32..0.4),
            );
            let skin = rng.random_range(120.0..210.0);
            let hair = rng.random_range(20.0..70.0);
            for y in 0..height {
                for x in 0..width {
                    let (xf, yf) = (x as f32, y as f32);
                    let (u, v) = ((xf - cx) / ax, (yf - cy) / ay);
                    let r = u.hypot(v);
                    let mut g = bg0 + (bg1 - bg0) * xf / w;
                    if r < 1.0 {
                        // Shaded like a sphere lit from the upper left.
                        let light = 0.75 + 0.25 * (-0.5 * u - 0.4 * v).clamp(-1.0, 1.0);
                        g = skin * light;
                        if v < -0.55 {
                            g = hair;
                        }
                    }
                    let blob = |bx: f32, by: f32, rx: f32, ry: f32| {
                        ((u - bx) / rx).hypot((v - by) / ry) < 1.0
                    };
                    if blob(-0.38, -0.15, 0.16, 0.08) || blob(0.38, -0.15, 0.16, 0.08) {
                        g = 245.0;
                    }
                    if blob(-0.38, -0.15, 0.06, 0.07) || blob(0.38, -0.15, 0.06, 0.07) {
                        g = 25.0;
                    }
                    if blob(-0.38, -0.33, 0.2, 0.035) || blob(0.38, -0.33, 0.2, 0.035) {
                        g = hair;
                    }
                    if blob(0.0, 0.15, 0.07, 0.2) {
                        g *= 0.85;
                    }
                    if blob(0.0, 0.5, 0.3, 0.06) {
                        g = 0.55 * skin;
                    }
                    px[idx(x, y)] = g;
                }
            }
        }
    }
    let sensor = Normal::new(0.0f32, 3.0).ok();
    GrayImage::from_fn(width, height, |x, y| {
        let n = sensor.as_ref().map_or(0.0, |d| d.sample(&mut rng));
        image::Luma([(px[idx(x, y)] + n).round().clamp(0.0, 255.0) as u8])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clutter_is_seeded_and_varied() {
        for kind in Clutter::ALL {
            let a = render(kind, 120, 100, 7);
            assert_eq!(a.as_raw(), render(kind, 120, 100, 7).as_raw());
            assert_ne!(a.as_raw(), render(kind, 120, 100, 8).as_raw());
        }
    }
}
