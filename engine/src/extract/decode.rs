//! Image decoding with size limits checked on the header, before any pixel
//! buffer is allocated.

use std::io::Cursor;

use image::{GrayImage, ImageFormat, ImageReader};

use crate::{EngineError, Result};

/// Size limits applied when decoding an image.
///
/// The width and height limits are checked against the image header before
/// decoding; `max_alloc_bytes` bounds what the decoder may allocate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    pub max_width_px: u32,
    pub max_height_px: u32,
    pub max_alloc_bytes: u64,
}

/// Largest fingerprint image side accepted at 500 dpi (about 10 cm).
pub const MAX_SIDE_PX_AT_500_DPI: u32 = 2048;

impl DecodeLimits {
    /// Limits for a fingerprint scanned at `dpi`: at most 2048 x 2048 px once
    /// rescaled to 500 dpi, and memory for one RGBA16 frame of that size.
    pub fn for_dpi(dpi: u16) -> Self {
        let side = (u64::from(MAX_SIDE_PX_AT_500_DPI) * u64::from(dpi.max(1)) / 500).max(1);
        let side = u32::try_from(side).unwrap_or(u32::MAX);
        // RGBA 16-bit is the largest decoded frame `image` produces.
        let frame = u64::from(side) * u64::from(side) * 8;
        Self {
            max_width_px: side,
            max_height_px: side,
            max_alloc_bytes: frame.max(1 << 20),
        }
    }
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self::for_dpi(500)
    }
}

/// Decodes PNG, TIFF, BMP or JPEG bytes into an 8-bit grey image (colour is
/// converted to luma).
///
/// The format is sniffed from the bytes, never from a file name. The header
/// dimensions are checked against `limits` before decoding.
pub fn decode_image(bytes: &[u8], limits: &DecodeLimits) -> Result<GrayImage> {
    let format = image::guess_format(bytes).map_err(|_| EngineError::ImageFormatUnknown)?;
    if !matches!(
        format,
        ImageFormat::Png | ImageFormat::Tiff | ImageFormat::Bmp | ImageFormat::Jpeg
    ) {
        return Err(EngineError::ImageFormatUnknown);
    }
    let mut image_limits = image::Limits::default();
    image_limits.max_image_width = Some(limits.max_width_px);
    image_limits.max_image_height = Some(limits.max_height_px);
    image_limits.max_alloc = Some(limits.max_alloc_bytes);

    let reader = |limits: image::Limits| {
        let mut r = ImageReader::with_format(Cursor::new(bytes), format);
        r.limits(limits);
        r
    };
    // The header alone gives the size; reading it allocates nothing large.
    let (width_px, height_px) = reader(image::Limits::no_limits())
        .into_dimensions()
        .map_err(|source| EngineError::ImageDecode { source })?;
    if width_px > limits.max_width_px || height_px > limits.max_height_px {
        return Err(EngineError::ImageTooLarge {
            width_px,
            height_px,
            max_width_px: limits.max_width_px,
            max_height_px: limits.max_height_px,
        });
    }
    let decoded = reader(image_limits)
        .decode()
        .map_err(|source| match source {
            image::ImageError::Limits(_) => EngineError::ImageTooManyBytes {
                width_px,
                height_px,
                max_bytes: limits.max_alloc_bytes,
            },
            source => EngineError::ImageDecode { source },
        })?;
    Ok(decoded.into_luma8())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_bytes(width: u32, height: u32) -> Vec<u8> {
        let img = GrayImage::from_fn(width, height, |x, y| {
            image::Luma([((x * 7 + y * 3) % 256) as u8])
        });
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .expect("encoding to memory");
        out
    }

    #[test]
    fn decodes_png_and_bmp_to_gray_with_the_right_size() {
        let bytes = png_bytes(40, 30);
        let img = decode_image(&bytes, &DecodeLimits::default()).expect("valid png");
        assert_eq!(img.dimensions(), (40, 30));
        assert_eq!(img.get_pixel(3, 2).0[0], (3 * 7 + 2 * 3) as u8);

        let rgb = image::RgbImage::from_pixel(20, 10, image::Rgb([200, 10, 10]));
        let mut bmp = Vec::new();
        rgb.write_to(&mut Cursor::new(&mut bmp), ImageFormat::Bmp)
            .expect("encoding to memory");
        let gray = decode_image(&bmp, &DecodeLimits::default()).expect("valid bmp");
        assert_eq!(gray.dimensions(), (20, 10));
    }

    #[test]
    fn oversized_header_is_rejected_before_decoding() {
        let bytes = png_bytes(300, 200);
        let limits = DecodeLimits {
            max_width_px: 256,
            max_height_px: 256,
            max_alloc_bytes: 1 << 30,
        };
        assert!(matches!(
            decode_image(&bytes, &limits),
            Err(EngineError::ImageTooLarge {
                width_px: 300,
                height_px: 200,
                ..
            })
        ));
    }

    #[test]
    fn a_header_claiming_a_huge_image_is_rejected_without_allocating() {
        // A small PNG whose IHDR is patched to claim 60000 x 60000 px.
        let mut bytes = png_bytes(8, 8);
        // IHDR width/height sit at bytes 16..24; the CRC no longer matches,
        // so patch it too.
        bytes[16..20].copy_from_slice(&60_000u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&60_000u32.to_be_bytes());
        let crc = crc32fast::hash(&bytes[12..29]);
        bytes[29..33].copy_from_slice(&crc.to_be_bytes());
        let r = decode_image(&bytes, &DecodeLimits::default());
        assert!(
            matches!(
                r,
                Err(EngineError::ImageTooLarge {
                    width_px: 60_000,
                    ..
                })
            ),
            "{r:?}"
        );
    }

    #[test]
    fn truncated_and_garbage_bytes_are_typed_errors() {
        let bytes = png_bytes(64, 64);
        let truncated = &bytes[..bytes.len() / 2];
        assert!(matches!(
            decode_image(truncated, &DecodeLimits::default()),
            Err(EngineError::ImageDecode { .. })
        ));
        assert!(matches!(
            decode_image(b"definitely not an image", &DecodeLimits::default()),
            Err(EngineError::ImageFormatUnknown)
        ));
        assert!(matches!(
            decode_image(&[], &DecodeLimits::default()),
            Err(EngineError::ImageFormatUnknown)
        ));
    }

    #[test]
    fn a_pixel_count_beyond_the_memory_budget_is_refused() {
        let bytes = png_bytes(200, 200);
        let limits = DecodeLimits {
            max_width_px: 2048,
            max_height_px: 2048,
            max_alloc_bytes: 10_000,
        };
        assert!(matches!(
            decode_image(&bytes, &limits),
            Err(EngineError::ImageTooManyBytes {
                width_px: 200,
                height_px: 200,
                ..
            })
        ));
    }

    #[test]
    fn limits_scale_with_resolution() {
        assert_eq!(DecodeLimits::for_dpi(500).max_width_px, 2048);
        assert_eq!(DecodeLimits::for_dpi(1000).max_width_px, 4096);
        assert_eq!(DecodeLimits::for_dpi(250).max_height_px, 1024);
    }
}
