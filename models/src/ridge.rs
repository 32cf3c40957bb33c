//! A coarse ridge map of a finger image: the ridge flow's orientation and
//! the ridge period, one byte per square cell.
//!
//! Minutiae say little where a print shows few of them (a dry or a wet
//! impression, a small overlap); the flow and spacing of the ridges between
//! them are still there. A matcher that has aligned two prints by their
//! minutiae can read both maps under that alignment and see whether the
//! ridges agree. Minutiae-only records (ISO/IEC 19794-2, ANSI 378) carry no
//! map; extraction from an image makes one.
//!
//! # Cell byte
//! `0xFF` marks a cell outside the finger. Otherwise the high nibble is the
//! orientation in sixteenths of a half turn (0 = along x, counted
//! counter-clockwise as seen on the image, the convention of minutia
//! angles, modulo pi) and the low nibble the ridge period: 0 unknown,
//! `k` in 1..=14 means [`PERIOD_BASE_PX`] x [`PERIOD_RATIO`]^(k-1) pixels
//! of the template's image (5.0 to 12.0 px at 7 % steps).

use std::f32::consts::PI;

use serde::{Deserialize, Serialize};

use crate::{FingerPosition, ModelError, Result};

/// The byte of a cell outside the finger.
pub const CELL_BACKGROUND: u8 = 0xFF;
/// Shortest ridge period a cell codes, pixels.
pub const PERIOD_BASE_PX: f32 = 5.0;
/// Ratio of consecutive period codes.
pub const PERIOD_RATIO: f32 = 1.07;
/// Highest period code written.
const PERIOD_CODES: u8 = 14;
/// Orientation steps in a half turn.
const ORIENTATION_STEPS: f32 = 16.0;
/// Accepted cell sides, pixels.
pub const CELL_PX_RANGE: (u8, u8) = (4, 64);

/// Orientation and ridge period per square cell of the image, row-major.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RidgeMap {
    /// Side of a cell in pixels of the template's image.
    pub cell_px: u8,
    /// Cells per row (covering the image width) and per column.
    pub cols: u16,
    pub rows: u16,
    /// One byte per cell, see the module documentation.
    pub cells: Vec<u8>,
}

/// What one cell says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RidgeCell {
    /// Ridge orientation in `[0, pi)`, counter-clockwise as seen.
    pub orientation_rad: f32,
    /// Ridge period in pixels, when it was measured.
    pub period_px: Option<f32>,
}

impl RidgeCell {
    /// The byte that codes this cell (orientation and period rounded to
    /// their steps, the period clamped to the coded range).
    pub fn encode(&self) -> u8 {
        let step = PI / ORIENTATION_STEPS;
        let o = (self.orientation_rad.rem_euclid(PI) / step).round() as u8 % 16;
        let p = match self.period_px {
            Some(p) if p.is_finite() && p > 0.0 => {
                let k = ((p / PERIOD_BASE_PX).ln() / PERIOD_RATIO.ln()).round();
                k.clamp(0.0, f32::from(PERIOD_CODES - 1)) as u8 + 1
            }
            _ => 0,
        };
        (o << 4) | p
    }

    /// The cell a byte codes; `None` for the background.
    pub fn decode(byte: u8) -> Option<Self> {
        if byte == CELL_BACKGROUND {
            return None;
        }
        let p = byte & 0x0F;
        Some(Self {
            orientation_rad: f32::from(byte >> 4) * PI / ORIENTATION_STEPS,
            period_px: (p > 0).then(|| PERIOD_BASE_PX * PERIOD_RATIO.powi(i32::from(p) - 1)),
        })
    }
}

impl RidgeMap {
    /// The cell at column `col`, row `row`; `None` outside the grid or the
    /// finger.
    pub fn cell(&self, col: usize, row: usize) -> Option<RidgeCell> {
        if col >= usize::from(self.cols) || row >= usize::from(self.rows) {
            return None;
        }
        RidgeCell::decode(*self.cells.get(row * usize::from(self.cols) + col)?)
    }

    /// Checks that the grid covers an image of `width_px` x `height_px`
    /// exactly and that every byte is a valid cell.
    pub fn validate(&self, position: FingerPosition, width_px: u16, height_px: u16) -> Result<()> {
        let invalid = |reason: String| ModelError::InvalidRidgeMap { position, reason };
        if !(CELL_PX_RANGE.0..=CELL_PX_RANGE.1).contains(&self.cell_px) {
            return Err(invalid(format!(
                "cell side {} px is out of range ({}..={})",
                self.cell_px, CELL_PX_RANGE.0, CELL_PX_RANGE.1
            )));
        }
        let cell = u16::from(self.cell_px);
        let (cols, rows) = (width_px.div_ceil(cell), height_px.div_ceil(cell));
        if (self.cols, self.rows) != (cols, rows) {
            return Err(invalid(format!(
                "grid {}x{} does not cover the {width_px}x{height_px} image in {cell} px cells ({cols}x{rows})",
                self.cols, self.rows
            )));
        }
        let expected = usize::from(cols) * usize::from(rows);
        if self.cells.len() != expected {
            return Err(invalid(format!(
                "{} cells for a {cols}x{rows} grid",
                self.cells.len()
            )));
        }
        if let Some(at) = self
            .cells
            .iter()
            .position(|&c| c != CELL_BACKGROUND && (c & 0x0F) > PERIOD_CODES)
        {
            return Err(invalid(format!(
                "cell {at} holds the unused period code {}",
                self.cells[at] & 0x0F
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_round_trip_within_their_steps() {
        for i in 0..200 {
            let orientation_rad = i as f32 * 0.0157;
            let period_px = 5.2 + (i % 60) as f32 * 0.11;
            let c = RidgeCell {
                orientation_rad,
                period_px: Some(period_px),
            };
            let back = RidgeCell::decode(c.encode()).expect("a finger cell");
            let d = (back.orientation_rad - orientation_rad).rem_euclid(PI);
            assert!(
                d.min(PI - d) <= PI / 32.0 + 1e-5,
                "{orientation_rad} -> {back:?}"
            );
            let p = back.period_px.expect("a period");
            assert!((p / period_px).ln().abs() <= PERIOD_RATIO.ln() / 2.0 + 1e-5);
        }
        let unknown = RidgeCell {
            orientation_rad: 1.0,
            period_px: None,
        };
        assert_eq!(RidgeCell::decode(unknown.encode()).unwrap().period_px, None);
        assert_eq!(RidgeCell::decode(CELL_BACKGROUND), None);
    }

    #[test]
    fn a_grid_must_cover_the_image_and_hold_valid_cells() {
        let map = RidgeMap {
            cell_px: 16,
            cols: 3,
            rows: 2,
            cells: vec![CELL_BACKGROUND, 0x12, 0x3E, 0x40, CELL_BACKGROUND, 0x00],
        };
        map.validate(FingerPosition::RightThumb, 40, 20).unwrap();
        let inside = map.cells.iter().filter(|&&c| c != CELL_BACKGROUND).count();
        assert_eq!(inside, 4);
        assert!(map.validate(FingerPosition::RightThumb, 60, 20).is_err());
        let short = RidgeMap {
            cells: vec![0x12; 5],
            ..map.clone()
        };
        assert!(short.validate(FingerPosition::RightThumb, 40, 20).is_err());
        let unused = RidgeMap {
            cells: vec![0x1F; 6],
            ..map
        };
        assert!(unused.validate(FingerPosition::RightThumb, 40, 20).is_err());
    }
}
