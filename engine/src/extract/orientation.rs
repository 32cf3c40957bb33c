//! Gradient-based ridge orientation field with reliability (coherence), at
//! block level.
//!
//! Orientation angles here are in pixel coordinates (x right, y down) and
//! modulo π: a ridge direction θ means the unit vector `(cos θ, sin θ)`.

use std::f32::consts::PI;

/// Side of the square blocks the fields are computed on, in pixels.
pub const BLOCK_PX: usize = 8;
/// Rounds of a [1 2 1] / 4 blur before the gradients (about σ = 1 px).
const GRADIENT_BLUR_PASSES: usize = 2;

/// Per-block statistics and the smoothed orientation field.
#[derive(Debug, Clone)]
pub struct BlockField {
    /// Blocks per row and per column.
    pub bw: usize,
    pub bh: usize,
    /// Ridge orientation of each block in `[0, π)`, pixel coordinates.
    pub theta: Vec<f32>,
    /// Coherence of the gradients around the block, 0 (isotropic) to 1 (one
    /// clean direction).
    pub coherence: Vec<f32>,
    /// Coherence over a 3 x 3 block window: finer, used for quality.
    pub local_coherence: Vec<f32>,
    /// Root-mean-square gradient magnitude inside the block (grey levels per
    /// pixel): the block's ridge contrast.
    pub contrast: Vec<f32>,
    /// Doubled-angle vector of the smoothed orientation (cos 2θ, sin 2θ) scaled
    /// by its strength, used for interpolation between block centres.
    pub vec2: Vec<(f32, f32)>,
}

impl BlockField {
    /// Computes the field of a `width` x `height` grey image stored row-major.
    pub fn compute(pixels: &[f32], width: usize, height: usize) -> Self {
        let bw = width.div_ceil(BLOCK_PX);
        let bh = height.div_ceil(BLOCK_PX);
        let n = bw * bh;
        let mut gxx = vec![0f32; n];
        let mut gyy = vec![0f32; n];
        let mut gxy = vec![0f32; n];
        let mut count = vec![0u32; n];
        // Pores, sensor noise and the dots of a dry print put most of the
        // raw gradient energy above the ridge frequency; a small binomial
        // blur first leaves the ridges' gradients (period >= 4 px) intact.
        let blurred = binomial_blur(pixels, width, height, GRADIENT_BLUR_PASSES);
        let pixels = &blurred[..];
        // Sobel gradients on interior pixels, summed per block.
        for y in 1..height.saturating_sub(1) {
            let row_up = &pixels[(y - 1) * width..y * width];
            let row = &pixels[y * width..(y + 1) * width];
            let row_dn = &pixels[(y + 1) * width..(y + 2) * width];
            let brow = (y / BLOCK_PX) * bw;
            for x in 1..width - 1 {
                let gx = (row_up[x + 1] + 2.0 * row[x + 1] + row_dn[x + 1])
                    - (row_up[x - 1] + 2.0 * row[x - 1] + row_dn[x - 1]);
                let gy = (row_dn[x - 1] + 2.0 * row_dn[x] + row_dn[x + 1])
                    - (row_up[x - 1] + 2.0 * row_up[x] + row_up[x + 1]);
                let b = brow + x / BLOCK_PX;
                gxx[b] += gx * gx;
                gyy[b] += gy * gy;
                gxy[b] += gx * gy;
                count[b] += 1;
            }
        }
        // Sobel gains 8 on a unit ramp; contrast in grey levels per pixel.
        let contrast = (0..n)
            .map(|b| {
                if count[b] == 0 {
                    0.0
                } else {
                    ((gxx[b] + gyy[b]) / count[b] as f32).sqrt() / 8.0
                }
            })
            .collect();
        // Doubled-angle vectors of the *gradient*; the ridge is perpendicular,
        // which negates the doubled-angle vector.
        let raw: Vec<(f32, f32, f32)> = (0..n)
            .map(|b| (-(gxx[b] - gyy[b]), -2.0 * gxy[b], gxx[b] + gyy[b]))
            .collect();
        let vec2_smooth = smooth(&raw, bw, bh, 2);
        let local_coherence = smooth(&raw, bw, bh, 1)
            .iter()
            .map(|&(u, v, e)| {
                if e > 1e-6 {
                    ((u * u + v * v).sqrt() / e).min(1.0)
                } else {
                    0.0
                }
            })
            .collect();
        let mut theta = vec![0f32; n];
        let mut coherence = vec![0f32; n];
        let mut vec2 = vec![(0f32, 0f32); n];
        for b in 0..n {
            let (u, v, e) = vec2_smooth[b];
            let mag = (u * u + v * v).sqrt();
            coherence[b] = if e > 1e-6 { (mag / e).min(1.0) } else { 0.0 };
            let mut t = 0.5 * v.atan2(u);
            if t < 0.0 {
                t += PI;
            }
            theta[b] = t;
            vec2[b] = if mag > 1e-12 {
                (u / mag, v / mag)
            } else {
                (1.0, 0.0)
            };
        }
        Self {
            bw,
            bh,
            theta,
            coherence,
            local_coherence,
            contrast,
            vec2,
        }
    }

    /// Block index of pixel `(x, y)`.
    #[inline]
    pub fn block_of(&self, x: usize, y: usize) -> usize {
        (y / BLOCK_PX) * self.bw + x / BLOCK_PX
    }

    /// Ridge orientation at a pixel position, interpolated between block
    /// centres on the doubled-angle vectors, in `[0, π)`.
    pub fn theta_at(&self, x: f32, y: f32) -> f32 {
        let (u, v) = interpolate(&self.vec2, self.bw, self.bh, x, y);
        let mut t = 0.5 * v.atan2(u);
        if t < 0.0 {
            t += PI;
        }
        t
    }
}

/// `passes` rounds of the separable [1 2 1] / 4 blur (edges replicated).
fn binomial_blur(pixels: &[f32], width: usize, height: usize, passes: usize) -> Vec<f32> {
    let mut a = pixels.to_vec();
    let mut b = vec![0f32; a.len()];
    for _ in 0..passes {
        for y in 0..height {
            let row = &a[y * width..(y + 1) * width];
            let out = &mut b[y * width..(y + 1) * width];
            for x in 0..width {
                let l = row[x.saturating_sub(1)];
                let r = row[(x + 1).min(width - 1)];
                out[x] = 0.25 * (l + r) + 0.5 * row[x];
            }
        }
        for y in 0..height {
            let up = y.saturating_sub(1) * width;
            let dn = (y + 1).min(height - 1) * width;
            let me = y * width;
            for x in 0..width {
                a[me + x] = 0.25 * (b[up + x] + b[dn + x]) + 0.5 * b[me + x];
            }
        }
    }
    a
}

/// Bilinear interpolation of a block field at pixel position `(x, y)`.
pub fn interpolate(field: &[(f32, f32)], bw: usize, bh: usize, x: f32, y: f32) -> (f32, f32) {
    let half = BLOCK_PX as f32 / 2.0;
    let fx = ((x - half) / BLOCK_PX as f32).clamp(0.0, (bw - 1) as f32);
    let fy = ((y - half) / BLOCK_PX as f32).clamp(0.0, (bh - 1) as f32);
    let x0 = fx.floor() as usize;
    let y0 = fy.floor() as usize;
    let x1 = (x0 + 1).min(bw - 1);
    let y1 = (y0 + 1).min(bh - 1);
    let ax = fx - x0 as f32;
    let ay = fy - y0 as f32;
    let p = |bx: usize, by: usize| field[by * bw + bx];
    let (a, b, c, d) = (p(x0, y0), p(x1, y0), p(x0, y1), p(x1, y1));
    let u = (a.0 * (1.0 - ax) + b.0 * ax) * (1.0 - ay) + (c.0 * (1.0 - ax) + d.0 * ax) * ay;
    let v = (a.1 * (1.0 - ax) + b.1 * ax) * (1.0 - ay) + (c.1 * (1.0 - ax) + d.1 * ax) * ay;
    (u, v)
}

/// Sums each component over a `(2r+1)^2` block window with binomial-like
/// weights (separable triangle), clamped at the field border.
fn smooth(field: &[(f32, f32, f32)], bw: usize, bh: usize, r: usize) -> Vec<(f32, f32, f32)> {
    let weights: Vec<f32> = (0..=2 * r)
        .map(|i| (r + 1) as f32 - (i as f32 - r as f32).abs())
        .collect();
    let mut tmp = vec![(0f32, 0f32, 0f32); field.len()];
    for y in 0..bh {
        for x in 0..bw {
            let mut acc = (0f32, 0f32, 0f32);
            for (i, w) in weights.iter().enumerate() {
                let xx = (x + i).saturating_sub(r).min(bw - 1);
                let f = field[y * bw + xx];
                acc.0 += w * f.0;
                acc.1 += w * f.1;
                acc.2 += w * f.2;
            }
            tmp[y * bw + x] = acc;
        }
    }
    let mut out = vec![(0f32, 0f32, 0f32); field.len()];
    for y in 0..bh {
        for x in 0..bw {
            let mut acc = (0f32, 0f32, 0f32);
            for (i, w) in weights.iter().enumerate() {
                let yy = (y + i).saturating_sub(r).min(bh - 1);
                let f = tmp[yy * bw + x];
                acc.0 += w * f.0;
                acc.1 += w * f.1;
                acc.2 += w * f.2;
            }
            out[y * bw + x] = acc;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vertical_ridges_give_vertical_orientation_and_high_coherence() {
        let (w, h) = (96, 96);
        // Intensity varies along x only: ridges run along y.
        let pixels: Vec<f32> = (0..w * h)
            .map(|i| 128.0 + 80.0 * (2.0 * PI * (i % w) as f32 / 9.0).cos())
            .collect();
        let f = BlockField::compute(&pixels, w, h);
        let b = f.block_of(48, 48);
        assert!((f.theta[b] - PI / 2.0).abs() < 0.05, "theta {}", f.theta[b]);
        assert!(f.coherence[b] > 0.9);
        assert!(f.contrast[b] > 20.0);
    }

    #[test]
    fn diagonal_ridges_are_oriented_along_the_diagonal() {
        let (w, h) = (96, 96);
        // Intensity varies along (1, 1): ridges run along (1, -1), i.e. 135°
        // in pixel coordinates (y down).
        let pixels: Vec<f32> = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32, (i / w) as f32);
                128.0 + 80.0 * (2.0 * PI * (x + y) / (9.0 * 2f32.sqrt())).cos()
            })
            .collect();
        let f = BlockField::compute(&pixels, w, h);
        let t = f.theta_at(48.0, 48.0);
        assert!((t - 0.75 * PI).abs() < 0.05, "theta {t}");
    }
}
