//! ISO/IEC 19794-2:2011 finger minutiae records.
//!
//! ```text
//! "FMR\0" "030\0" record_length:u32 representation_count:u16 certification_flag:u8
//! representation_count x {
//!   representation_length:u32 (counts these 4 bytes)
//!   capture year:u16 month:u8 day:u8 hour:u8 minute:u8 second:u8 millisecond:u16
//!   device_technology:u8 device_vendor:u16 device_type:u16
//!   quality_count:u8 x { score:u8 algorithm_vendor:u16 algorithm:u16 }
//!   [certification_count:u8 x { authority:u16 scheme:u8 }]   if certification_flag
//!   position:u8 representation_number:u8 h_res:u16 v_res:u16 (px/cm)
//!   impression_type:u8 width:u16 height:u16
//!   minutia_size:4 (5 or 6)|ridge_ending_type:4 n:u8
//!   n x { type:2|x:14 reserved:2|y:14 angle:u8 [quality:u8 if size 6] }
//!   ext_len:u16 ext_len bytes of { type:u16 block_len:u16 (counts its header) data }
//! }
//! ```
//! Every block is length-checked against its enclosing length before it is
//! read. The finger quality is taken from the first quality block (none: 0).
//! Quality bytes 254 (not reported) and 255 (failed) decode as 0.

use super::bytes::{PutBe, Reader};
use super::units::{AngleUnit, quality_2011};
use super::views::{
    BlockLength, Geometry, ImageSize, Resolution, ViewNumbers, read_minutiae, skip_extended_data,
    validate_all, write_minutia,
};
use super::{FMR_MAGIC, VERSION_30};
use crate::{FingerPosition, FingerTemplate, ModelError, Result};

pub(crate) const FORMAT: &str = "ISO/IEC 19794-2:2011";
const HEADER_LEN: usize = 15;
/// Smallest representation: no quality or certification blocks, no minutiae.
const MIN_REPRESENTATION_LEN: usize = 34;
/// Representation length as [`encode`] writes it, before the minutiae.
const ENCODED_REPRESENTATION_LEN: usize = 39;
const QUALITY_BLOCK_LEN: usize = 5;
const CERTIFICATION_BLOCK_LEN: usize = 3;

/// Decodes a whole ISO/IEC 19794-2:2011 record.
pub(crate) fn decode(bytes: &[u8]) -> Result<Vec<FingerTemplate>> {
    let mut r = Reader::new(FORMAT, bytes);
    super::expect_magic(&mut r, VERSION_30)?;
    let declared = r.u32()? as usize;
    if declared != bytes.len() {
        return Err(ModelError::LengthMismatch {
            format: FORMAT,
            field: "record length",
            declared,
            actual: bytes.len(),
        });
    }
    let count = usize::from(r.u16()?);
    let flag_at = r.offset();
    let certified = match r.u8()? {
        0 => false,
        1 => true,
        other => return Err(r.invalid("certification flag", flag_at, u64::from(other))),
    };
    if count == 0 {
        return Err(ModelError::NoFingers { format: FORMAT });
    }
    r.ensure_items(count, MIN_REPRESENTATION_LEN)?;
    let mut fingers = Vec::with_capacity(count);
    let mut views = ViewNumbers::default();
    for _ in 0..count {
        let len_at = r.offset();
        let len = r.u32()? as usize;
        let body_len = len
            .checked_sub(4)
            .ok_or_else(|| r.invalid("representation length", len_at, len as u64))?;
        let mut rep = r.sub(body_len)?;
        fingers.push(decode_representation(&mut rep, certified, &mut views)?);
        rep.finish("representation length")?;
    }
    r.finish("record length")?;
    Ok(fingers)
}

fn decode_representation(
    r: &mut Reader<'_>,
    certified: bool,
    views: &mut ViewNumbers,
) -> Result<FingerTemplate> {
    let _capture_date_time = r.take(9)?;
    let _device_technology = r.u8()?;
    let _device_vendor = r.u16()?;
    let _device_type = r.u16()?;
    let quality_count = usize::from(r.u8()?);
    r.ensure_items(quality_count, QUALITY_BLOCK_LEN)?;
    let mut quality = 0;
    for i in 0..quality_count {
        let at = r.offset();
        let score = r.u8()?;
        let _algorithm_vendor = r.u16()?;
        let _algorithm = r.u16()?;
        let mapped =
            quality_2011(score).ok_or_else(|| r.invalid("quality score", at, u64::from(score)))?;
        if i == 0 {
            quality = mapped;
        }
    }
    if certified {
        let certification_count = usize::from(r.u8()?);
        r.ensure_items(certification_count, CERTIFICATION_BLOCK_LEN)?;
        r.take(certification_count * CERTIFICATION_BLOCK_LEN)?;
    }
    let position = FingerPosition::from_code(r.u8()?)?;
    let view = r.u8()?;
    views.record(FORMAT, position, view)?;
    let resolution = Resolution::read(r)?;
    let _impression_type = r.u8()?;
    let size = ImageSize::read(r)?;
    let geometry = Geometry::checked(r, size, resolution)?;
    let sizes_at = r.offset();
    let sizes = r.u8()?;
    let minutia_size = usize::from(sizes >> 4);
    if minutia_size != 5 && minutia_size != 6 {
        return Err(r.invalid("minutia field length", sizes_at, u64::from(sizes >> 4)));
    }
    // Ridge ending type: 0 valley skeleton bifurcation, 1 ridge skeleton end.
    if sizes & 0x0f > 1 {
        return Err(r.invalid("ridge ending type", sizes_at, u64::from(sizes & 0x0f)));
    }
    let n = usize::from(r.u8()?);
    let minutiae = read_minutiae(r, n, minutia_size, AngleUnit::Iso256, quality_2011)?;
    skip_extended_data(r, BlockLength::WithHeader)?;
    let finger = FingerTemplate {
        position,
        width_px: geometry.width_px,
        height_px: geometry.height_px,
        dpi: geometry.dpi,
        quality,
        minutiae,
    };
    finger.validate()?;
    Ok(finger)
}

/// Encodes fingers, each as its own representation. Fields the templates do
/// not carry are written as "unknown": capture time all 0xFF, device
/// technology, vendor and type 0, impression type 0 (live-scan plain), one
/// quality block holding the finger quality with vendor and algorithm 0, no
/// certification blocks, 6-byte minutiae, ridge ending type 0, no extended
/// data.
pub(crate) fn encode(fingers: &[FingerTemplate]) -> Result<Vec<u8>> {
    validate_all(FORMAT, fingers)?;
    let len = HEADER_LEN
        + fingers
            .iter()
            .map(|f| ENCODED_REPRESENTATION_LEN + 6 * f.minutiae.len())
            .sum::<usize>();
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(FMR_MAGIC);
    out.extend_from_slice(VERSION_30);
    // At most 176 representations of 1,569 bytes: far below u32::MAX.
    out.put_u32(len as u32);
    out.put_u16(fingers.len().min(usize::from(u16::MAX)) as u16);
    out.put_u8(0);
    let mut views = ViewNumbers::default();
    for f in fingers {
        let view = views.next(FORMAT, f.position)?;
        let geometry = Geometry::of(f);
        out.put_u32((ENCODED_REPRESENTATION_LEN + 6 * f.minutiae.len()) as u32);
        out.extend_from_slice(&[0xff; 9]);
        out.put_u8(0);
        out.put_u16(0);
        out.put_u16(0);
        out.put_u8(1);
        out.put_u8(f.quality);
        out.put_u16(0);
        out.put_u16(0);
        out.put_u8(f.position.code());
        out.put_u8(view);
        let ppcm = super::units::dpi_to_ppcm(f.dpi);
        out.put_u16(ppcm);
        out.put_u16(ppcm);
        out.put_u8(0);
        out.put_u16(f.width_px);
        out.put_u16(f.height_px);
        out.put_u8(6 << 4);
        // validate() caps minutiae at 255.
        out.put_u8(f.minutiae.len() as u8);
        for m in &f.minutiae {
            write_minutia(&mut out, m, geometry, AngleUnit::Iso256);
        }
        out.put_u16(0);
    }
    debug_assert_eq!(out.len(), len);
    Ok(out)
}
