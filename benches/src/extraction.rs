//! Extraction timing over a folder of real images, and a procedural
//! fingerprint-like image for the criterion bench.

use std::path::{Path, PathBuf};
use std::time::Instant;

use hoviyat_engine::extract::{self, DecodeLimits, ExtractConfig};
use image::GrayImage;
use serde::Serialize;

/// A 500 dpi fingerprint-like image: a loop-like ridge flow of period ~9 px
/// with phase singularities (minutiae) placed by `seed`.
pub fn procedural_print(width: u32, height: u32, seed: u64) -> GrayImage {
    let mut state = seed | 1;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f32 / (1u64 << 53) as f32
    };
    let singular: Vec<(f32, f32, f32)> = (0..24)
        .map(|_| {
            let x = 20.0 + next() * (width as f32 - 40.0);
            let y = 20.0 + next() * (height as f32 - 40.0);
            let turn = if next() < 0.5 { 1.0 } else { -1.0 };
            (x, y, turn)
        })
        .collect();
    let (cx, cy) = (width as f32 * 0.45, height as f32 * 0.55);
    GrayImage::from_fn(width, height, |x, y| {
        let (dx, dy) = (x as f32 - cx, (y as f32 - cy) * 0.8);
        let mut phase = 2.0 * std::f32::consts::PI * (dx * dx + dy * dy).sqrt() / 9.0;
        for &(sx, sy, turn) in &singular {
            phase += turn * (y as f32 - sy).atan2(x as f32 - sx);
        }
        image::Luma([(128.0 + 90.0 * phase.cos()).round() as u8])
    })
}

/// Timing of one image.
#[derive(Debug, Clone, Serialize)]
pub struct ImageTiming {
    pub image: String,
    /// Median of the timed runs, milliseconds (extraction only, no decoding).
    pub median_ms: f64,
    pub minutiae: usize,
    pub quality: u8,
    /// Why the image failed (read, decode or failure to extract).
    pub failure: Option<String>,
}

/// Timing of a whole folder on the calling thread.
#[derive(Debug, Clone, Serialize)]
pub struct ExtractionReport {
    pub images: usize,
    pub failures: usize,
    pub repeats: usize,
    /// Median and 90th percentile over images of the per-image medians.
    pub median_ms: f64,
    pub p90_ms: f64,
    pub mean_ms: f64,
    pub median_minutiae: usize,
    pub per_image: Vec<ImageTiming>,
}

/// The image files (png, tif, tiff, bmp, jpg, jpeg) of `dir`, sorted.
pub fn image_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                matches!(
                    e.to_ascii_lowercase().as_str(),
                    "png" | "tif" | "tiff" | "bmp" | "jpg" | "jpeg"
                )
            })
        })
        .collect();
    out.sort();
    Ok(out)
}

/// Extracts every image `repeats` times (after one warm-up run) on the
/// calling thread and reports per-image medians.
pub fn time_extraction(
    paths: &[PathBuf],
    repeats: usize,
    config: &ExtractConfig,
) -> ExtractionReport {
    let repeats = repeats.max(1);
    let mut per_image = Vec::with_capacity(paths.len());
    for path in paths {
        let name = path.to_string_lossy().into_owned();
        let gray = std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|b| {
                extract::decode_image(&b, &DecodeLimits::for_dpi(config.dpi))
                    .map_err(|e| e.to_string())
            });
        let gray = match gray {
            Ok(g) => g,
            Err(failure) => {
                per_image.push(ImageTiming {
                    image: name,
                    median_ms: 0.0,
                    minutiae: 0,
                    quality: 0,
                    failure: Some(failure),
                });
                continue;
            }
        };
        let first = extract::extract(&gray, config);
        let mut times: Vec<f64> = (0..repeats)
            .map(|_| {
                let start = Instant::now();
                let r = extract::extract(&gray, config);
                let t = start.elapsed().as_secs_f64() * 1e3;
                drop(r);
                t
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let median_ms = times[times.len() / 2];
        per_image.push(match first {
            Ok(ex) => ImageTiming {
                image: name,
                median_ms,
                minutiae: ex.template.minutiae.len(),
                quality: ex.quality,
                failure: None,
            },
            Err(e) => ImageTiming {
                image: name,
                median_ms,
                minutiae: 0,
                quality: 0,
                failure: Some(e.to_string()),
            },
        });
    }
    let mut times: Vec<f64> = per_image
        .iter()
        .filter(|t| t.median_ms > 0.0)
        .map(|t| t.median_ms)
        .collect();
    times.sort_by(f64::total_cmp);
    let pick = |q: f64| {
        if times.is_empty() {
            0.0
        } else {
            times[((times.len() - 1) as f64 * q).round() as usize]
        }
    };
    let mut counts: Vec<usize> = per_image.iter().map(|t| t.minutiae).collect();
    counts.sort_unstable();
    ExtractionReport {
        images: per_image.len(),
        failures: per_image.iter().filter(|t| t.failure.is_some()).count(),
        repeats,
        median_ms: pick(0.5),
        p90_ms: pick(0.9),
        mean_ms: times.iter().sum::<f64>() / times.len().max(1) as f64,
        median_minutiae: counts.get(counts.len() / 2).copied().unwrap_or(0),
        per_image,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_procedural_print_extracts() {
        let img = procedural_print(248, 338, 7);
        let ex = extract::extract(&img, &ExtractConfig::default()).expect("procedural print");
        assert!(
            ex.template.minutiae.len() >= 10,
            "{}",
            ex.template.minutiae.len()
        );
    }
}
