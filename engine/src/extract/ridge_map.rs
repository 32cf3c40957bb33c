//! The template's coarse ridge map ([`RidgeMap`]): the orientation field
//! and the ridge periods the extractor measured, summarised per cell of
//! [`CELL_PX`] pixels.

use std::f32::consts::PI;

use hoviyat_models::{RidgeCell, RidgeMap};

use super::orientation::{BLOCK_PX, BlockField};

/// Side of a ridge-map cell at 500 dpi: two orientation blocks. Measured
/// against 8, 24 and 32 px on FVC2002 (BENCHMARKS.md, session 10); 16 px
/// keeps what the finer grid gives at a quarter of its bytes.
pub const CELL_PX: usize = 2 * BLOCK_PX;

/// Summarises the block field of a `width` x `height` image: a cell is in
/// the finger when more than half of its blocks are foreground, its
/// orientation is the mean of their doubled-angle vectors and its period
/// the mean of their periods.
pub fn build(
    field: &BlockField,
    foreground: &[bool],
    period_px: &[f32],
    width: usize,
    height: usize,
) -> RidgeMap {
    let k = CELL_PX / BLOCK_PX;
    let cols = width.div_ceil(CELL_PX);
    let rows = height.div_ceil(CELL_PX);
    let mut cells = Vec::with_capacity(cols * rows);
    for row in 0..rows {
        for col in 0..cols {
            let (mut c2, mut s2, mut periods, mut measured) = (0f32, 0f32, 0f32, 0u32);
            let (mut inside, mut blocks) = (0u32, 0u32);
            for by in row * k..((row + 1) * k).min(field.bh) {
                for bx in col * k..((col + 1) * k).min(field.bw) {
                    let b = by * field.bw + bx;
                    blocks += 1;
                    if !foreground[b] {
                        continue;
                    }
                    inside += 1;
                    c2 += field.vec2[b].0;
                    s2 += field.vec2[b].1;
                    if period_px[b].is_finite() && period_px[b] > 0.0 {
                        periods += period_px[b];
                        measured += 1;
                    }
                }
            }
            if 2 * inside <= blocks {
                cells.push(hoviyat_models::ridge::CELL_BACKGROUND);
                continue;
            }
            // The field's angle is in pixel coordinates (y down); the map's
            // is counter-clockwise as seen, like minutia angles.
            let pixel = 0.5 * s2.atan2(c2);
            let cell = RidgeCell {
                orientation_rad: (PI - pixel).rem_euclid(PI),
                period_px: (measured > 0).then(|| periods / measured as f32),
            };
            cells.push(cell.encode());
        }
    }
    RidgeMap {
        cell_px: CELL_PX as u8,
        cols: cols as u16,
        rows: rows as u16,
        cells,
    }
}
