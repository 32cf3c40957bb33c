//! Pieces shared by the record codecs: the image block of the 2004/2005
//! headers, finger views, minutiae and extended data blocks.

use std::collections::BTreeSet;

use super::bytes::{PutBe, Reader};
use super::units::{AngleUnit, dpi_to_ppcm, ppcm_to_dpi, quantise_coordinate};
use crate::finger::MAX_IMAGE_SIDE_PX;
use crate::{FingerPosition, FingerTemplate, Minutia, MinutiaKind, ModelError, Result};

/// Most views of one finger position a record can number (4-bit view field).
pub(crate) const MAX_VIEWS_PER_POSITION: usize = 16;

/// Image size and resolution, which ISO 2005 and ANSI 378 store once per
/// record and ISO 2011 once per representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub(crate) width_px: u16,
    pub(crate) height_px: u16,
    /// The horizontal resolution.
    pub(crate) dpi: u16,
    /// The image height in pixels of the horizontal resolution: `height_px`
    /// unless the record states a different vertical resolution.
    pub(crate) square_height_px: u16,
}

impl Geometry {
    pub(crate) fn of(finger: &FingerTemplate) -> Self {
        Self {
            width_px: finger.width_px,
            height_px: finger.height_px,
            dpi: finger.dpi,
            square_height_px: finger.height_px,
        }
    }

    /// A finger read in the record's pixels, moved onto square pixels of
    /// the horizontal resolution when the vertical one differs. Moved
    /// minutiae are put back on the record's grid (whole pixels, `angle`'s
    /// steps), so the finger encodes and decodes again unchanged.
    pub(crate) fn finger(self, finger: FingerTemplate, angle: AngleUnit) -> Result<FingerTemplate> {
        finger.validate()?;
        if self.square_height_px == self.height_px {
            return Ok(finger);
        }
        let mut square = finger.stretched_to(self.width_px, self.square_height_px);
        for m in &mut square.minutiae {
            let code = angle.encode(m.angle_rad);
            *m = Minutia::new(
                f32::from(quantise_coordinate(m.x_px, self.width_px)),
                f32::from(quantise_coordinate(m.y_px, self.square_height_px)),
                angle.decode(code).unwrap_or(0.0),
                m.kind,
                m.quality,
            );
        }
        Ok(square)
    }

    /// The one geometry all `fingers` share, for formats with a single image
    /// header; fails on an empty list or on a finger that differs.
    pub(crate) fn shared(format: &'static str, fingers: &[FingerTemplate]) -> Result<Self> {
        let first = fingers.first().ok_or(ModelError::NoFingers { format })?;
        let geometry = Self::of(first);
        if let Some(index) = fingers.iter().position(|f| Self::of(f) != geometry) {
            return Err(ModelError::MixedImageGeometry { format, index });
        }
        Ok(geometry)
    }

    /// Reads width, height, horizontal and vertical resolution (px/cm),
    /// two bytes each, in that order (ISO 2005 and ANSI 378).
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self> {
        let size = ImageSize::read(r)?;
        let resolution = Resolution::read(r)?;
        Self::checked(r, size, resolution)
    }

    /// Checks fields read separately (ISO 2011 stores them apart).
    pub(crate) fn checked(r: &Reader<'_>, size: ImageSize, resolution: Resolution) -> Result<Self> {
        if size.width_px == 0 {
            return Err(r.invalid("image width", size.at, 0));
        }
        if size.height_px == 0 {
            return Err(r.invalid("image height", size.at + 2, 0));
        }
        let dpi = ppcm_to_dpi(resolution.horizontal_ppcm).ok_or_else(|| {
            r.invalid(
                "horizontal resolution",
                resolution.at,
                u64::from(resolution.horizontal_ppcm),
            )
        })?;
        // A vertical resolution of its own (ISO allows one) is honoured by
        // reading the image onto square pixels: its height is what it
        // would be at the horizontal resolution.
        let vertical_at = resolution.at + 2;
        let vertical = resolution.vertical_ppcm;
        if ppcm_to_dpi(vertical).is_none() {
            return Err(r.invalid("vertical resolution", vertical_at, u64::from(vertical)));
        }
        let square_height = (f64::from(size.height_px) * f64::from(resolution.horizontal_ppcm)
            / f64::from(vertical))
        .round();
        if !(1.0..=f64::from(MAX_IMAGE_SIDE_PX)).contains(&square_height) {
            return Err(r.invalid("vertical resolution", vertical_at, u64::from(vertical)));
        }
        Ok(Self {
            width_px: size.width_px,
            height_px: size.height_px,
            dpi,
            square_height_px: square_height as u16,
        })
    }

    /// Writes width, height and both resolutions (size first).
    pub(crate) fn write_size_then_resolution(self, out: &mut Vec<u8>) {
        out.put_u16(self.width_px);
        out.put_u16(self.height_px);
        let ppcm = dpi_to_ppcm(self.dpi);
        out.put_u16(ppcm);
        out.put_u16(ppcm);
    }
}

/// Image width and height as read, with the offset of the width.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ImageSize {
    at: usize,
    width_px: u16,
    height_px: u16,
}

impl ImageSize {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            at: r.offset(),
            width_px: r.u16()?,
            height_px: r.u16()?,
        })
    }
}

/// Horizontal and vertical resolution in px/cm as read, with their offset.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resolution {
    at: usize,
    horizontal_ppcm: u16,
    vertical_ppcm: u16,
}

impl Resolution {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            at: r.offset(),
            horizontal_ppcm: r.u16()?,
            vertical_ppcm: r.u16()?,
        })
    }
}

/// Hands out view numbers per finger position on encode, and checks that
/// decoded (position, view) pairs are unique.
#[derive(Debug, Default)]
pub(crate) struct ViewNumbers {
    seen: BTreeSet<(u8, u8)>,
    next: [u8; 11],
}

impl ViewNumbers {
    pub(crate) fn next(&mut self, format: &'static str, position: FingerPosition) -> Result<u8> {
        let slot = &mut self.next[usize::from(position.code())];
        if usize::from(*slot) >= MAX_VIEWS_PER_POSITION {
            return Err(ModelError::TooManyViews {
                format,
                position,
                max: MAX_VIEWS_PER_POSITION,
            });
        }
        let view = *slot;
        *slot += 1;
        Ok(view)
    }

    pub(crate) fn record(
        &mut self,
        format: &'static str,
        position: FingerPosition,
        view: u8,
    ) -> Result<()> {
        if !self.seen.insert((position.code(), view)) {
            return Err(ModelError::DuplicateView {
                format,
                position,
                view,
            });
        }
        Ok(())
    }
}

/// How an extended data block states its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlockLength {
    /// ISO/IEC 19794-2:2005: the length counts the data only.
    DataOnly,
    /// ANSI 378 and ISO/IEC 19794-2:2011: the length counts the 4-byte block
    /// header too.
    WithHeader,
}

/// Reads a 2-byte extended data length and skips that many bytes, checking
/// that the blocks inside (type:2, length:2, data) add up to exactly it.
pub(crate) fn skip_extended_data(r: &mut Reader<'_>, lengths: BlockLength) -> Result<()> {
    let total = usize::from(r.u16()?);
    let mut area = r.sub(total)?;
    while area.remaining() > 0 {
        let _block_type = area.u16()?;
        let len_at = area.offset();
        let len = usize::from(area.u16()?);
        let data_len = match lengths {
            BlockLength::DataOnly => len,
            BlockLength::WithHeader => len
                .checked_sub(4)
                .ok_or_else(|| area.invalid("extended data block length", len_at, len as u64))?,
        };
        if data_len > area.remaining() {
            return Err(ModelError::LengthMismatch {
                format: area.format(),
                field: "extended data block length",
                declared: data_len,
                actual: area.remaining(),
            });
        }
        area.take(data_len)?;
    }
    Ok(())
}

/// Reads `count` minutiae of `size` bytes (6, or 5 without quality).
/// `quality` maps the stored quality byte onto 0-100, `None` if invalid.
pub(crate) fn read_minutiae(
    r: &mut Reader<'_>,
    count: usize,
    size: usize,
    angle: AngleUnit,
    quality: fn(u8) -> Option<u8>,
) -> Result<Vec<Minutia>> {
    r.ensure_items(count, size)?;
    let mut minutiae = Vec::with_capacity(count);
    for _ in 0..count {
        let type_at = r.offset();
        let type_x = r.u16()?;
        // The top two bits of the y word are reserved; they carry nothing.
        let y = r.u16()? & 0x3fff;
        let kind = match type_x >> 14 {
            0b01 => MinutiaKind::Ending,
            0b10 => MinutiaKind::Bifurcation,
            0b00 => MinutiaKind::Other,
            other => return Err(r.invalid("minutia type", type_at, u64::from(other))),
        };
        let x = type_x & 0x3fff;
        let angle_at = r.offset();
        let angle_code = r.u8()?;
        let angle_rad = angle
            .decode(angle_code)
            .ok_or_else(|| r.invalid("minutia angle", angle_at, u64::from(angle_code)))?;
        let q = if size == 6 {
            let q_at = r.offset();
            let code = r.u8()?;
            quality(code).ok_or_else(|| r.invalid("minutia quality", q_at, u64::from(code)))?
        } else {
            0
        };
        minutiae.push(Minutia::new(f32::from(x), f32::from(y), angle_rad, kind, q));
    }
    Ok(minutiae)
}

/// Writes one 6-byte minutia (type+x, y, angle, quality).
pub(crate) fn write_minutia(out: &mut Vec<u8>, m: &Minutia, geometry: Geometry, angle: AngleUnit) {
    let kind_bits: u16 = match m.kind {
        MinutiaKind::Ending => 0b01,
        MinutiaKind::Bifurcation => 0b10,
        MinutiaKind::Other => 0b00,
    };
    // validate() caps image sides at 16,383 px, so coordinates fit 14 bits.
    let x = quantise_coordinate(m.x_px, geometry.width_px) & 0x3fff;
    let y = quantise_coordinate(m.y_px, geometry.height_px) & 0x3fff;
    out.put_u16(kind_bits << 14 | x);
    out.put_u16(y);
    out.put_u8(angle.encode(m.angle_rad));
    out.put_u8(m.quality);
}

/// Minimum bytes of one ISO 2005 / ANSI 378 finger view: 4-byte header and
/// the 2-byte extended data length.
const MIN_VIEW_LEN: usize = 6;

/// Reads `count` ISO 2005 / ANSI 378 finger views sharing `geometry`.
pub(crate) fn read_finger_views(
    r: &mut Reader<'_>,
    count: usize,
    geometry: Geometry,
    angle: AngleUnit,
    blocks: BlockLength,
) -> Result<Vec<FingerTemplate>> {
    if count == 0 {
        return Err(ModelError::NoFingers { format: r.format() });
    }
    r.ensure_items(count, MIN_VIEW_LEN)?;
    let mut fingers = Vec::with_capacity(count);
    let mut views = ViewNumbers::default();
    for _ in 0..count {
        let position = FingerPosition::from_code(r.u8()?)?;
        // View number (high nibble) and impression type (low nibble); the
        // impression type is not carried by FingerTemplate.
        let view = r.u8()? >> 4;
        views.record(r.format(), position, view)?;
        let quality = r.u8()?;
        let n = usize::from(r.u8()?);
        let minutiae = read_minutiae(r, n, 6, angle, |q| (q <= 100).then_some(q))?;
        skip_extended_data(r, blocks)?;
        let finger = FingerTemplate {
            position,
            width_px: geometry.width_px,
            height_px: geometry.height_px,
            dpi: geometry.dpi,
            quality,
            minutiae,
            ridge_map: None,
        };
        fingers.push(geometry.finger(finger, angle)?);
    }
    Ok(fingers)
}

/// Bytes the finger views of `fingers` take in ISO 2005 / ANSI 378.
pub(crate) fn finger_views_len(fingers: &[FingerTemplate]) -> usize {
    fingers
        .iter()
        .map(|f| MIN_VIEW_LEN + 6 * f.minutiae.len())
        .sum()
}

/// Writes ISO 2005 / ANSI 378 finger views (impression type 0, live-scan
/// plain; no extended data). The fingers must have been validated.
pub(crate) fn write_finger_views(
    out: &mut Vec<u8>,
    format: &'static str,
    fingers: &[FingerTemplate],
    geometry: Geometry,
    angle: AngleUnit,
) -> Result<()> {
    let mut views = ViewNumbers::default();
    for f in fingers {
        let view = views.next(format, f.position)?;
        out.put_u8(f.position.code());
        out.put_u8(view << 4);
        out.put_u8(f.quality);
        // validate() caps minutiae at 255.
        out.put_u8(f.minutiae.len() as u8);
        for m in &f.minutiae {
            write_minutia(out, m, geometry, angle);
        }
        out.put_u16(0);
    }
    Ok(())
}

/// Validates every finger before encoding, and refuses an empty list.
pub(crate) fn validate_all(format: &'static str, fingers: &[FingerTemplate]) -> Result<()> {
    if fingers.is_empty() {
        return Err(ModelError::NoFingers { format });
    }
    fingers.iter().try_for_each(FingerTemplate::validate)
}
