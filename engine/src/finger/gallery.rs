//! The gallery form of a finger template: a compact, versioned, checksummed
//! byte string that the gallery store keeps per finger and 1:N search scores.
//!
//! # Layout (version 1, little-endian)
//! ```text
//! version:u8  n:u8 (<= 64)
//! n x u32   minutia: x_px:11 | y_px:11 | angle:8 (1/256 turn) | kind:2
//!           (500 dpi pixels, y down as on the image, clamped to 0..=2047)
//! n x 3 B   neighbours: 4 x 6-bit indices of the nearest other minutiae at
//!           6..=128 px, nearest first; a minutia's own index marks "none"
//! crc32:u32 of everything before it
//! ```
//! 2 + 7 n + 4 bytes: 286 bytes at 40 minutiae.

use std::f32::consts::TAU;

use hoviyat_models::{FingerTemplate, MinutiaKind};

use super::geometry::{MAX_EDGE_PX, MIN_EDGE_PX, Point, select_minutiae};
use crate::{EngineError, Result};

/// Version byte written by [`encode_gallery`].
pub const GALLERY_FORMAT_VERSION: u8 = 1;
/// Most minutiae a gallery form keeps (the best by quality).
pub const MAX_GALLERY_MINUTIAE: usize = 64;
/// Neighbour indices stored per minutia.
pub const NEIGHBOURS: usize = 4;

const HEADER_BYTES: usize = 2;
const MINUTIA_BYTES: usize = 4;
const NEIGHBOUR_BYTES: usize = 3;
const CRC_BYTES: usize = 4;
const COORD_MAX: f32 = 2047.0;
const ANGLE_STEPS: f32 = 256.0;

/// A decoded gallery form, in the matcher's frame (500 dpi, y up), held in
/// fixed arrays so that decoding in the 1:N loop does not allocate.
#[derive(Debug, Clone)]
pub struct GalleryTemplate {
    pub(crate) len: usize,
    pub(crate) points: [Point; MAX_GALLERY_MINUTIAE],
    pub(crate) neighbours: [[u8; NEIGHBOURS]; MAX_GALLERY_MINUTIAE],
}

impl GalleryTemplate {
    /// An empty template, to be filled by [`decode_gallery`].
    pub fn new() -> Self {
        Self {
            len: 0,
            points: [Point {
                x: 0.0,
                y: 0.0,
                angle_rad: 0.0,
            }; MAX_GALLERY_MINUTIAE],
            neighbours: [[0; NEIGHBOURS]; MAX_GALLERY_MINUTIAE],
        }
    }

    /// Number of minutiae held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the template holds no minutiae.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Default for GalleryTemplate {
    fn default() -> Self {
        Self::new()
    }
}

/// Encodes `template` in the gallery form (see the module docs).
///
/// Fails only if the template does not validate. Templates with more than
/// [`MAX_GALLERY_MINUTIAE`] minutiae keep the best by quality.
pub fn encode_gallery(template: &FingerTemplate) -> Result<Vec<u8>> {
    template.validate()?;
    let minutiae = select_minutiae(template, MAX_GALLERY_MINUTIAE);
    let n = minutiae.len();
    let mut out =
        Vec::with_capacity(HEADER_BYTES + n * (MINUTIA_BYTES + NEIGHBOUR_BYTES) + CRC_BYTES);
    out.push(GALLERY_FORMAT_VERSION);
    // n <= 64 by selection.
    out.push(n as u8);
    let mut quantised = Vec::with_capacity(n);
    for m in &minutiae {
        let x = m.x_px.round().clamp(0.0, COORD_MAX) as u32;
        let y = m.y_px.round().clamp(0.0, COORD_MAX) as u32;
        let a = ((m.angle_rad / TAU * ANGLE_STEPS).round() as u32) & 0xff;
        let kind = match m.kind {
            MinutiaKind::Other => 0,
            MinutiaKind::Ending => 1,
            MinutiaKind::Bifurcation => 2,
        };
        out.extend_from_slice(&(x | y << 11 | a << 22 | kind << 30).to_le_bytes());
        quantised.push((x as f32, y as f32));
    }
    for (i, &(xi, yi)) in quantised.iter().enumerate() {
        let mut best: Vec<(f32, usize)> = quantised
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(j, &(xj, yj))| ((xj - xi).powi(2) + (yj - yi).powi(2), j))
            .filter(|&(d2, _)| {
                (MIN_EDGE_PX * MIN_EDGE_PX..=MAX_EDGE_PX * MAX_EDGE_PX).contains(&d2)
            })
            .collect();
        best.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut packed = 0u32;
        for k in 0..NEIGHBOURS {
            let index = best.get(k).map_or(i, |&(_, j)| j) as u32;
            packed |= index << (6 * k);
        }
        out.extend_from_slice(&packed.to_le_bytes()[..NEIGHBOUR_BYTES]);
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// Decodes a gallery form into `out`, checking version, length, checksum and
/// every index. Never panics on any input.
pub fn decode_gallery(bytes: &[u8], out: &mut GalleryTemplate) -> Result<()> {
    if bytes.len() < HEADER_BYTES + CRC_BYTES {
        return Err(EngineError::GalleryTruncated {
            needed: HEADER_BYTES + CRC_BYTES,
            available: bytes.len(),
        });
    }
    let version = bytes[0];
    if version != GALLERY_FORMAT_VERSION {
        return Err(EngineError::GalleryVersion { version });
    }
    let n = usize::from(bytes[1]);
    if n > MAX_GALLERY_MINUTIAE {
        return Err(EngineError::GalleryField {
            field: "minutia count",
            value: n as u64,
        });
    }
    let expected = HEADER_BYTES + n * (MINUTIA_BYTES + NEIGHBOUR_BYTES) + CRC_BYTES;
    if bytes.len() != expected {
        return Err(EngineError::GalleryLength {
            expected,
            actual: bytes.len(),
        });
    }
    let (body, crc) = bytes.split_at(expected - CRC_BYTES);
    let stored = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
    let computed = crc32fast::hash(body);
    if stored != computed {
        return Err(EngineError::GalleryChecksum { stored, computed });
    }
    let (minutiae, neighbours) = body[HEADER_BYTES..].split_at(n * MINUTIA_BYTES);
    for (i, chunk) in minutiae.chunks_exact(MINUTIA_BYTES).enumerate() {
        let v = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        let x = (v & 0x7ff) as f32;
        let y = ((v >> 11) & 0x7ff) as f32;
        let a = ((v >> 22) & 0xff) as f32;
        // Kind bits are carried for later use; the matcher ignores them
        // because extractors confuse endings and bifurcations often.
        out.points[i] = Point {
            x,
            y: -y,
            angle_rad: a * (TAU / ANGLE_STEPS),
        };
    }
    for (i, chunk) in neighbours.chunks_exact(NEIGHBOUR_BYTES).enumerate() {
        let v = u32::from(chunk[0]) | u32::from(chunk[1]) << 8 | u32::from(chunk[2]) << 16;
        for k in 0..NEIGHBOURS {
            let j = ((v >> (6 * k)) & 0x3f) as usize;
            if j >= n {
                return Err(EngineError::GalleryField {
                    field: "neighbour index",
                    value: j as u64,
                });
            }
            out.neighbours[i][k] = j as u8;
        }
    }
    out.len = n;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hoviyat_models::{FingerPosition, Minutia};
    use proptest::prelude::*;

    fn template(n: usize) -> FingerTemplate {
        FingerTemplate {
            position: FingerPosition::RightThumb,
            width_px: 400,
            height_px: 500,
            dpi: 500,
            quality: 60,
            minutiae: (0..n)
                .map(|i| {
                    let f = i as f32;
                    Minutia::new(
                        (37.0 * f) % 390.0,
                        (53.0 * f) % 490.0,
                        f * 0.7,
                        MinutiaKind::Ending,
                        (i % 100) as u8,
                    )
                })
                .collect(),
            ridge_map: None,
        }
    }

    #[test]
    fn forty_minutiae_fit_the_size_budget() {
        let blob = encode_gallery(&template(40)).unwrap();
        assert_eq!(blob.len(), 286);
        assert!(blob.len() <= 300);
    }

    #[test]
    fn round_trip_keeps_positions_to_a_pixel_and_angles_to_a_step() {
        let t = template(30);
        let blob = encode_gallery(&t).unwrap();
        let mut g = GalleryTemplate::new();
        decode_gallery(&blob, &mut g).unwrap();
        assert_eq!(g.len(), 30);
        for (m, p) in t.minutiae.iter().zip(&g.points) {
            assert!((m.x_px - p.x).abs() <= 0.5);
            assert!((m.y_px + p.y).abs() <= 0.5);
            let d = super::super::geometry::angle_diff(m.angle_rad, p.angle_rad).abs();
            assert!(d <= TAU / 512.0 + 1e-5);
        }
        // Neighbours are other minutiae within the edge range, nearest
        // first; a minutia's own index only pads the end of its list.
        let mut with_neighbours = 0;
        for i in 0..g.len() {
            let nb = g.neighbours[i];
            let real: Vec<u8> = nb
                .iter()
                .copied()
                .take_while(|&j| usize::from(j) != i)
                .collect();
            assert!(nb[real.len()..].iter().all(|&j| usize::from(j) == i));
            let d = |j: u8| {
                let (a, b) = (g.points[i], g.points[usize::from(j)]);
                (a.x - b.x).hypot(a.y - b.y)
            };
            assert!(real.windows(2).all(|w| d(w[0]) <= d(w[1])));
            assert!(
                real.iter()
                    .all(|&j| (MIN_EDGE_PX - 1.0..=MAX_EDGE_PX + 1.0).contains(&d(j)))
            );
            with_neighbours += usize::from(!real.is_empty());
        }
        assert!(with_neighbours > g.len() / 2);
    }

    #[test]
    fn too_many_minutiae_keep_the_best_quality() {
        let t = template(100);
        let blob = encode_gallery(&t).unwrap();
        let mut g = GalleryTemplate::new();
        decode_gallery(&blob, &mut g).unwrap();
        assert_eq!(g.len(), MAX_GALLERY_MINUTIAE);
    }

    #[test]
    fn bad_blobs_give_typed_errors() {
        let blob = encode_gallery(&template(20)).unwrap();
        let mut g = GalleryTemplate::new();
        assert!(matches!(
            decode_gallery(&blob[..3], &mut g),
            Err(EngineError::GalleryTruncated { .. })
        ));
        assert!(matches!(
            decode_gallery(&blob[..blob.len() - 1], &mut g),
            Err(EngineError::GalleryLength { .. })
        ));
        let mut bad = blob.clone();
        bad[0] = 9;
        assert!(matches!(
            decode_gallery(&bad, &mut g),
            Err(EngineError::GalleryVersion { version: 9 })
        ));
        let mut bad = blob.clone();
        bad[5] ^= 0x10;
        assert!(matches!(
            decode_gallery(&bad, &mut g),
            Err(EngineError::GalleryChecksum { .. })
        ));
        let mut bad = blob;
        bad[1] = 200;
        assert!(matches!(
            decode_gallery(&bad, &mut g),
            Err(EngineError::GalleryField { .. })
        ));
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut g = GalleryTemplate::new();
            let _ = decode_gallery(&bytes, &mut g);
        }

        #[test]
        fn a_valid_body_with_a_fixed_checksum_decodes_or_is_rejected_cleanly(
            n in 0usize..=64, seed in any::<u64>()
        ) {
            // Random body bytes under a correct checksum reach the field
            // checks rather than the checksum check.
            let mut bytes = vec![GALLERY_FORMAT_VERSION, n as u8];
            let mut s = seed;
            for _ in 0..n * 7 {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                bytes.push((s >> 56) as u8);
            }
            let crc = crc32fast::hash(&bytes);
            bytes.extend_from_slice(&crc.to_le_bytes());
            let mut g = GalleryTemplate::new();
            match decode_gallery(&bytes, &mut g) {
                Ok(()) => prop_assert_eq!(g.len(), n),
                Err(e) => {
                    let field_error = matches!(e, EngineError::GalleryField { .. });
                    prop_assert!(field_error, "unexpected error {:?}", e);
                }
            }
        }
    }
}
