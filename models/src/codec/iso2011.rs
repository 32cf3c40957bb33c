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
    BlockLength, Geometry, ImageSize, MAX_VIEWS_PER_POSITION, Resolution, ViewNumbers,
    read_minutiae, skip_extended_data, validate_all, write_minutia,
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
    let view_at = r.offset();
    let view = r.u8()?;
    // Representation numbers go 0..=15, as the view numbers of 2005.
    if usize::from(view) >= MAX_VIEWS_PER_POSITION {
        return Err(r.invalid("representation number", view_at, u64::from(view)));
    }
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
        ridge_map: None,
    };
    geometry.finger(finger, AngleUnit::Iso256)
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

#[cfg(test)]
mod tests {
    use std::f32::consts::FRAC_PI_2;

    use super::*;
    use crate::{Minutia, MinutiaKind};

    /// One right-index representation with two quality blocks, one
    /// certification block, 5-byte minutiae and no extended data.
    #[rustfmt::skip]
    const RECORD: [u8; 73] = [
        b'F', b'M', b'R', 0, b'0', b'3', b'0', 0,
        0, 0, 0, 73,            // record length
        0, 1,                   // one representation
        1,                      // certification blocks present
        0, 0, 0, 58,            // representation length
        0x07, 0xea, 11, 25, 10, 0, 0, 0, 0, // captured 2026-11-25 10:00:00.000
        1,                      // device technology
        0x00, 0x0f, 0x00, 0x02, // device vendor and type
        2,                      // two quality blocks
        50, 0x00, 0x01, 0x00, 0x02,
        90, 0x00, 0x01, 0x00, 0x03,
        1, 0x00, 0x01, 2,       // one certification block
        2, 0,                   // right index, representation 0
        0x00, 0xc5, 0x00, 0xc5, // 197 px/cm both ways
        0,                      // live-scan plain
        0x01, 0x2c, 0x01, 0x90, // 300 x 400 px
        0x51,                   // 5-byte minutiae, ridge ending type 1
        2,
        0x40, 100, 0x00, 200, 64,
        0x80, 10, 0x01, 0x8f, 0,
        0, 0,                   // no extended data
    ];

    fn expected() -> FingerTemplate {
        FingerTemplate {
            position: FingerPosition::RightIndex,
            width_px: 300,
            height_px: 400,
            dpi: 500,
            quality: 50,
            minutiae: vec![
                Minutia::new(100.0, 200.0, FRAC_PI_2, MinutiaKind::Ending, 0),
                Minutia::new(10.0, 399.0, 0.0, MinutiaKind::Bifurcation, 0),
            ],
            ridge_map: None,
        }
    }

    #[test]
    fn decodes_a_hand_built_record_with_quality_and_certification_blocks() {
        assert_eq!(decode(&RECORD).unwrap(), vec![expected()]);
    }

    #[test]
    fn encode_then_decode_gives_the_template_back() {
        let mut finger = expected();
        finger.minutiae[1].quality = 77;
        let bytes = encode(&[finger.clone(), finger.clone()]).unwrap();
        assert_eq!(&bytes[4..8], b"030\0");
        assert_eq!(decode(&bytes).unwrap(), vec![finger.clone(), finger]);
    }

    #[test]
    fn special_quality_values_decode_as_zero_and_others_past_100_fail() {
        let mut unreported = RECORD.to_vec();
        unreported[34] = 254;
        assert_eq!(decode(&unreported).unwrap()[0].quality, 0);
        let mut invalid = RECORD.to_vec();
        invalid[34] = 101;
        assert_eq!(
            decode(&invalid),
            Err(ModelError::InvalidField {
                format: FORMAT,
                field: "quality score",
                offset: 34,
                value: 101
            })
        );
    }

    #[test]
    fn nested_lengths_and_counts_are_checked_before_reading() {
        // Representation length longer than the record.
        let mut rep_too_long = RECORD.to_vec();
        rep_too_long[18] = 59;
        assert!(matches!(
            decode(&rep_too_long),
            Err(ModelError::Truncated {
                offset: 19,
                needed: 55,
                available: 54,
                ..
            })
        ));
        // Representation length shorter than its content.
        let mut rep_too_short = RECORD.to_vec();
        rep_too_short[18] = 57;
        assert!(decode(&rep_too_short).is_err());
        // Representation length below its own 4 bytes.
        let mut rep_tiny = RECORD.to_vec();
        rep_tiny[18] = 3;
        assert!(matches!(
            decode(&rep_tiny),
            Err(ModelError::InvalidField {
                field: "representation length",
                value: 3,
                ..
            })
        ));
        // 255 quality blocks do not fit.
        let mut many_quality = RECORD.to_vec();
        many_quality[33] = 255;
        assert!(matches!(
            decode(&many_quality),
            Err(ModelError::Truncated { needed: 1275, .. })
        ));
        // 255 certification blocks do not fit.
        let mut many_certs = RECORD.to_vec();
        many_certs[44] = 255;
        assert!(matches!(
            decode(&many_certs),
            Err(ModelError::Truncated { needed: 765, .. })
        ));
        // 65,535 representations do not fit.
        let mut many_reps = RECORD.to_vec();
        many_reps[12] = 0xff;
        many_reps[13] = 0xff;
        assert!(matches!(
            decode(&many_reps),
            Err(ModelError::Truncated { needed, .. }) if needed == 65_535 * 34
        ));
    }

    #[test]
    fn field_codes_outside_the_standard_are_refused() {
        let mut flag = RECORD.to_vec();
        flag[14] = 2;
        assert!(matches!(
            decode(&flag),
            Err(ModelError::InvalidField {
                field: "certification flag",
                value: 2,
                ..
            })
        ));
        let mut minutia_size = RECORD.to_vec();
        minutia_size[59] = 0x71;
        assert!(matches!(
            decode(&minutia_size),
            Err(ModelError::InvalidField {
                field: "minutia field length",
                value: 7,
                ..
            })
        ));
        let mut ending_type = RECORD.to_vec();
        ending_type[59] = 0x52;
        assert!(matches!(
            decode(&ending_type),
            Err(ModelError::InvalidField {
                field: "ridge ending type",
                value: 2,
                ..
            })
        ));
        let mut position = RECORD.to_vec();
        position[48] = 11;
        assert_eq!(
            decode(&position),
            Err(ModelError::InvalidFingerPosition { code: 11 })
        );
        let mut zero_width = RECORD.to_vec();
        zero_width[55] = 0;
        zero_width[56] = 0;
        assert!(matches!(
            decode(&zero_width),
            Err(ModelError::InvalidField {
                field: "image width",
                offset: 55,
                ..
            })
        ));
    }

    #[test]
    fn duplicate_position_and_view_is_refused() {
        let finger = expected();
        let mut bytes = encode(&[finger.clone(), finger]).unwrap();
        // Renumber the second representation's view from 1 to 0.
        let second = HEADER_LEN + ENCODED_REPRESENTATION_LEN + 2 * 6;
        let view_at = second + 4 + 9 + 5 + 1 + 5 + 1;
        assert_eq!(bytes[view_at], 1);
        bytes[view_at] = 0;
        assert_eq!(
            decode(&bytes),
            Err(ModelError::DuplicateView {
                format: FORMAT,
                position: FingerPosition::RightIndex,
                view: 0
            })
        );
    }
}
