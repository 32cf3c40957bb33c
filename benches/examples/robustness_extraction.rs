//! Does the extractor find the same minutiae after a robustness family's
//! change? Separates what the extractor loses from what the matcher loses
//! in `hoviyat eval robustness`.
//!
//! For every changed impression (impressions 2..N, as the suite changes
//! them), the minutiae extracted from the unchanged image are moved through
//! the change. Those that land inside the changed picture, at least 16 px
//! from its edge (the extractor drops minutiae next to an image edge by
//! design) and on the changed print's foreground are the ones it could find
//! again; `found_again` is the share of them with a minutia of the changed
//! image's extraction within 10 px; `found_again_interior` the same for
//! those at least two ridge-map cells (32 px) inside the foreground, where
//! the extractor's border rule does not reach. `near_moved` is the share of the
//! changed extraction's minutiae that lie within 10 px of a moved one
//! (the rest are new, or sit near the edge). Position only: directions are
//! not compared.
//!
//! ```text
//! cargo run --release -p hoviyat-benches --example robustness_extraction -- \
//!     ../shared/data/fingerprints/fvc2002-b/DB1_B 1
//! ```
//!
//! A last row, `pixel_shift`, cuts the first 1-7 columns and rows off each
//! image (seeded per image): the same print, every block and filter cell
//! boundary moved over it.
//!
//! One JSON object per family on stdout.

use std::path::PathBuf;

use hoviyat_benches::fvc::FvcDataset;
use hoviyat_benches::robustness::{
    changes_of_later_impressions, extract_with_changes, image_changes,
};
use hoviyat_datasets::robustness::{Change, Crop, Family};
use hoviyat_engine::extract::WORK_DPI;
use hoviyat_models::FingerTemplate;

/// Distance (template pixels) within which a minutia counts as found again.
const SAME_PX: f32 = 10.0;
/// Minutiae moved closer than this to the changed picture's edge are not
/// expected back.
const EDGE_PX: f32 = 16.0;
/// Ridge-map cells (16 px) between a minutia and the background for it to
/// count as interior: the extractor drops minutiae next to the background
/// by design, and where that edge runs moves with every change.
const INTERIOR_CELLS: i64 = 2;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .expect("usage: robustness_extraction DIR [SEED]"),
    );
    let seed: u64 = args.next().map_or(Ok(1), |s| s.parse())?;
    let ds = FvcDataset::open(&dir, None)?;
    // Templates are at the extractor's working resolution, changes move
    // image pixels.
    let image_px = f32::from(ds.dpi) / f32::from(WORK_DPI);
    let unchanged = ds.extract_samples()?.samples;
    let families = Family::ALL
        .iter()
        .map(|f| (f.name(), image_changes(&ds, *f, seed)));
    for (name, changes) in families.chain([("pixel_shift", pixel_shifts(&ds, seed))]) {
        let changes = changes?;
        let changed = extract_with_changes(&ds, &changes)?;
        let mut counts = Counts::default();
        for ((change, before), after) in changes.iter().zip(&unchanged).zip(&changed) {
            if let (Some(c), Some(b), Some(a)) = (change, &before.template, &after.template) {
                counts.add(c, b, a, image_px);
            }
        }
        println!(
            "{}",
            serde_json::json!({
                "dataset": ds.name,
                "seed": seed,
                "family": name,
                "expected": counts.expected,
                "found_again": counts.found as f64 / counts.expected.max(1) as f64,
                "expected_interior": counts.expected_interior,
                "found_again_interior": counts.found_interior as f64 / counts.expected_interior.max(1) as f64,
                "changed_minutiae": counts.changed,
                "near_moved": counts.near_moved as f64 / counts.changed.max(1) as f64,
            })
        );
    }
    Ok(())
}

/// The same images with their first 1-7 columns and rows cut off (seeded
/// per image): the print does not change, but every block and filter cell
/// boundary moves over it. What the extraction loses here it loses to its
/// own grid, which every capture meets at a random offset.
fn pixel_shifts(ds: &FvcDataset, seed: u64) -> anyhow::Result<Vec<Option<Change>>> {
    changes_of_later_impressions(ds, |img, w, h| {
        let mix = u64::from(img.finger) * 31 + u64::from(img.impression) * 7 + seed * 13;
        let (dx, dy) = (1 + (mix % 7) as u32, 1 + (mix / 7 % 7) as u32);
        Change {
            crop: Some(Crop {
                x0: dx,
                y0: dy,
                width: w - dx,
                height: h - dy,
            }),
            ..Change::identity(w, h)
        }
    })
}

#[derive(Default)]
struct Counts {
    /// Moved minutiae the changed extraction could find.
    expected: usize,
    /// Of those, found within [`SAME_PX`].
    found: usize,
    /// The same, for minutiae at least [`INTERIOR_CELLS`] ridge-map cells
    /// inside the changed print's foreground.
    expected_interior: usize,
    found_interior: usize,
    /// Minutiae of the changed extractions...
    changed: usize,
    /// ... and of those, within [`SAME_PX`] of a moved one.
    near_moved: usize,
}

impl Counts {
    fn add(
        &mut self,
        change: &Change,
        before: &FingerTemplate,
        after: &FingerTemplate,
        image_px: f32,
    ) {
        let (w, h) = change.output_size();
        let moved: Vec<(f32, f32)> = before
            .minutiae
            .iter()
            .filter_map(|m| {
                let (x, y) = change.forward(m.x_px * image_px, m.y_px * image_px);
                let inside = x >= EDGE_PX
                    && y >= EDGE_PX
                    && x < w as f32 - EDGE_PX
                    && y < h as f32 - EDGE_PX;
                inside.then_some((x / image_px, y / image_px))
            })
            .collect();
        let found: Vec<(f32, f32)> = after.minutiae.iter().map(|m| (m.x_px, m.y_px)).collect();
        let near = |(x, y): (f32, f32), points: &[(f32, f32)]| {
            points
                .iter()
                .any(|&(px, py)| (px - x).hypot(py - y) < SAME_PX)
        };
        for &(x, y) in &moved {
            // Foreground cells of the changed print within `reach` cells.
            let on_print = |reach: i64| {
                after.ridge_map.as_ref().is_none_or(|map| {
                    let cell = f32::from(map.cell_px);
                    let (col, row) = ((x / cell) as i64, (y / cell) as i64);
                    (-reach..=reach).all(|dr| {
                        (-reach..=reach).all(|dc| {
                            let (c, r) = (col + dc, row + dr);
                            c >= 0 && r >= 0 && map.cell(c as usize, r as usize).is_some()
                        })
                    })
                })
            };
            if !on_print(0) {
                continue;
            }
            let again = near((x, y), &found);
            self.expected += 1;
            self.found += usize::from(again);
            if on_print(INTERIOR_CELLS) {
                self.expected_interior += 1;
                self.found_interior += usize::from(again);
            }
        }
        self.changed += found.len();
        self.near_moved += found.iter().filter(|&&p| near(p, &moved)).count();
    }
}
