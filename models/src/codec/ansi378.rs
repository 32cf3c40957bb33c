//! ANSI/INCITS 378-2004 finger minutiae records.
//!
//! ```text
//! "FMR\0" " 20\0" record_length:u16 (or 0x0000 then record_length:u32)
//! cbeff_product_owner:u16 cbeff_product_type:u16 capture_equipment:u16
//! width:u16 height:u16 h_res:u16 v_res:u16 (px/cm) view_count:u8 reserved:u8
//! view_count x { position:u8 view:4|impression:4 quality:u8 n:u8
//!                n x { type:2|x:14 reserved:2|y:14 angle:u8 quality:u8 }
//!                ext_len:u16 ext_len bytes of { type:u16 block_len:u16 data } }
//! ```
//! All integers big-endian. The angle byte counts 2-degree steps (0..=179),
//! counter-clockwise from the x axis as seen on the image; `block_len`
//! includes its 4-byte block header.

use super::bytes::{PutBe, Reader};
use super::units::AngleUnit;
use super::views::{
    BlockLength, Geometry, finger_views_len, read_finger_views, validate_all, write_finger_views,
};
use super::{FMR_MAGIC, VERSION_20};
use crate::{FingerTemplate, ModelError, Result};

pub(crate) const FORMAT: &str = "ANSI/INCITS 378-2004";
/// Header length with the 2-byte record length; the 6-byte form adds 4.
const SHORT_HEADER_LEN: usize = 26;

/// Decodes a whole ANSI/INCITS 378-2004 record.
pub(crate) fn decode(bytes: &[u8]) -> Result<Vec<FingerTemplate>> {
    let mut r = Reader::new(FORMAT, bytes);
    super::expect_magic(&mut r, VERSION_20)?;
    let declared = match r.u16()? {
        0 => r.u32()? as usize,
        short => usize::from(short),
    };
    if declared != bytes.len() {
        return Err(ModelError::LengthMismatch {
            format: FORMAT,
            field: "record length",
            declared,
            actual: bytes.len(),
        });
    }
    let _cbeff_product_id = r.u32()?;
    let _capture_equipment = r.u16()?;
    let geometry = Geometry::read(&mut r)?;
    let count = usize::from(r.u8()?);
    let _reserved = r.u8()?;
    let fingers = read_finger_views(
        &mut r,
        count,
        geometry,
        AngleUnit::AnsiTwoDegrees,
        BlockLength::WithHeader,
    )?;
    r.finish("record length")?;
    Ok(fingers)
}

/// Encodes fingers sharing one image size and resolution; records longer
/// than 65,535 bytes use the 6-byte length form.
pub(crate) fn encode(fingers: &[FingerTemplate]) -> Result<Vec<u8>> {
    validate_all(FORMAT, fingers)?;
    let geometry = Geometry::shared(FORMAT, fingers)?;
    let short_len = SHORT_HEADER_LEN + finger_views_len(fingers);
    let len = if short_len > usize::from(u16::MAX) {
        short_len + 4
    } else {
        short_len
    };
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(FMR_MAGIC);
    out.extend_from_slice(VERSION_20);
    match u16::try_from(len) {
        Ok(short) => out.put_u16(short),
        Err(_) => {
            out.put_u16(0);
            // At most 176 views of 1,536 bytes each: far below u32::MAX.
            out.put_u32(len as u32);
        }
    }
    out.put_u32(0); // CBEFF product identifier: not reported
    out.put_u16(0); // capture equipment: not reported
    geometry.write_size_then_resolution(&mut out);
    out.put_u8(fingers.len().min(255) as u8);
    out.put_u8(0);
    write_finger_views(
        &mut out,
        FORMAT,
        fingers,
        geometry,
        AngleUnit::AnsiTwoDegrees,
    )?;
    debug_assert_eq!(out.len(), len);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::f32::consts::FRAC_PI_2;

    use super::*;
    use crate::{FingerPosition, Minutia, MinutiaKind};

    /// One left-index view, 300x400 px at 197 px/cm, two minutiae, one
    /// extended data block.
    #[rustfmt::skip]
    const RECORD: [u8; 50] = [
        b'F', b'M', b'R', 0, b' ', b'2', b'0', 0,
        0, 50,                  // record length, 2-byte form
        0x00, 0x33, 0x00, 0x01, // CBEFF product owner and type
        0x80, 0x05,             // capture equipment: certified, id 5
        0x01, 0x2c, 0x01, 0x90, // 300 x 400 px
        0x00, 0xc5, 0x00, 0xc5, // 197 px/cm both ways
        1, 0,                   // one view, reserved
        7, 0x01, 60, 2,         // left index, view 0 / live rolled, quality 60, 2 minutiae
        0x40, 100, 0x00, 200, 45, 80, // ending at (100, 200), 45 x 2 degrees, quality 80
        0x80, 10, 0x01, 0x8f, 179, 0, // bifurcation at (10, 399), 358 degrees, quality 0
        0, 6,                   // extended data: 6 bytes
        0x00, 0x01, 0, 6, 0xaa, 0xbb, // ridge count block, length counts its header
    ];

    fn expected() -> FingerTemplate {
        FingerTemplate {
            position: FingerPosition::LeftIndex,
            width_px: 300,
            height_px: 400,
            dpi: 500,
            quality: 60,
            minutiae: vec![
                Minutia::new(100.0, 200.0, FRAC_PI_2, MinutiaKind::Ending, 80),
                Minutia::new(
                    10.0,
                    399.0,
                    358f32.to_radians(),
                    MinutiaKind::Bifurcation,
                    0,
                ),
            ],
            ridge_map: None,
        }
    }

    fn assert_matches_expected(decoded: &[FingerTemplate]) {
        let want = expected();
        assert_eq!(decoded.len(), 1);
        let got = &decoded[0];
        assert_eq!(
            (
                got.position,
                got.width_px,
                got.height_px,
                got.dpi,
                got.quality
            ),
            (
                want.position,
                want.width_px,
                want.height_px,
                want.dpi,
                want.quality
            )
        );
        for (g, w) in got.minutiae.iter().zip(&want.minutiae) {
            assert_eq!(
                (g.x_px, g.y_px, g.kind, g.quality),
                (w.x_px, w.y_px, w.kind, w.quality)
            );
            assert!((g.angle_rad - w.angle_rad).abs() < 1e-6, "{g:?} vs {w:?}");
        }
        assert_eq!(got.minutiae.len(), want.minutiae.len());
    }

    #[test]
    fn decodes_a_hand_built_record_with_an_extended_data_block() {
        assert_matches_expected(&decode(&RECORD).unwrap());
    }

    #[test]
    fn the_six_byte_length_form_is_read_and_checked() {
        let mut long = RECORD[..8].to_vec();
        long.extend_from_slice(&[0, 0, 0, 0, 0, 54]);
        long.extend_from_slice(&RECORD[10..]);
        assert_eq!(long.len(), 54);
        assert_matches_expected(&decode(&long).unwrap());
        long[13] = 55;
        assert!(matches!(
            decode(&long),
            Err(ModelError::LengthMismatch {
                field: "record length",
                declared: 55,
                actual: 54,
                ..
            })
        ));
    }

    #[test]
    fn encodes_the_ansi_header_and_two_degree_angles() {
        let bytes = encode(&[expected()]).unwrap();
        // Same as the hand-built record without product id, equipment,
        // impression type and extended data.
        let mut want = RECORD[..42].to_vec();
        want[9] = 44;
        want[10..16].fill(0);
        want[27] = 0x00;
        want.extend_from_slice(&[0, 0]);
        assert_eq!(bytes, want);
        assert_matches_expected(&decode(&bytes).unwrap());
    }

    #[test]
    fn angle_codes_past_179_and_short_block_lengths_are_refused() {
        let mut bad_angle = RECORD.to_vec();
        bad_angle[40] = 180;
        assert_eq!(
            decode(&bad_angle),
            Err(ModelError::InvalidField {
                format: FORMAT,
                field: "minutia angle",
                offset: 40,
                value: 180
            })
        );
        let mut short_block = RECORD.to_vec();
        short_block[47] = 3;
        assert!(matches!(
            decode(&short_block),
            Err(ModelError::InvalidField {
                field: "extended data block length",
                value: 3,
                ..
            })
        ));
        let mut overlong_area = RECORD.to_vec();
        overlong_area[43] = 7;
        assert!(matches!(
            decode(&overlong_area),
            Err(ModelError::Truncated {
                needed: 7,
                available: 6,
                ..
            })
        ));
    }
}
