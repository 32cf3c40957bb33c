//! ISO/IEC 19794-2:2005 finger minutiae records.
//!
//! ```text
//! "FMR\0" " 20\0" record_length:u32 capture_equipment:u16
//! width:u16 height:u16 h_res:u16 v_res:u16 (px/cm) view_count:u8 reserved:u8
//! view_count x { position:u8 view:4|impression:4 quality:u8 n:u8
//!                n x { type:2|x:14 reserved:2|y:14 angle:u8 quality:u8 }
//!                ext_len:u16 ext_len bytes of { type:u16 data_len:u16 data } }
//! ```
//! All integers big-endian. The angle byte counts 256 steps per turn,
//! counter-clockwise from the x axis as seen on the image.

use super::bytes::{PutBe, Reader};
use super::units::AngleUnit;
use super::views::{
    BlockLength, Geometry, finger_views_len, read_finger_views, validate_all, write_finger_views,
};
use super::{FMR_MAGIC, VERSION_20};
use crate::{FingerTemplate, ModelError, Result};

pub(crate) const FORMAT: &str = "ISO/IEC 19794-2:2005";
const HEADER_LEN: usize = 24;

/// Decodes a whole ISO/IEC 19794-2:2005 record.
pub(crate) fn decode(bytes: &[u8]) -> Result<Vec<FingerTemplate>> {
    let mut r = Reader::new(FORMAT, bytes);
    super::expect_magic(&mut r, VERSION_20)?;
    let declared = r.u32()?;
    if declared as usize != bytes.len() {
        return Err(ModelError::LengthMismatch {
            format: FORMAT,
            field: "record length",
            declared: declared as usize,
            actual: bytes.len(),
        });
    }
    let _capture_equipment = r.u16()?;
    let geometry = Geometry::read(&mut r)?;
    let count = usize::from(r.u8()?);
    let _reserved = r.u8()?;
    let fingers = read_finger_views(
        &mut r,
        count,
        geometry,
        AngleUnit::Iso256,
        BlockLength::DataOnly,
    )?;
    r.finish("record length")?;
    Ok(fingers)
}

/// Encodes fingers sharing one image size and resolution.
pub(crate) fn encode(fingers: &[FingerTemplate]) -> Result<Vec<u8>> {
    validate_all(FORMAT, fingers)?;
    let geometry = Geometry::shared(FORMAT, fingers)?;
    let len = HEADER_LEN + finger_views_len(fingers);
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(FMR_MAGIC);
    out.extend_from_slice(VERSION_20);
    // At most 176 views of 1,536 bytes each: far below u32::MAX.
    out.put_u32(len as u32);
    out.put_u16(0); // capture equipment: not reported
    geometry.write_size_then_resolution(&mut out);
    // ViewNumbers caps views at 16 per position, 176 in all.
    out.put_u8(fingers.len().min(255) as u8);
    out.put_u8(0);
    write_finger_views(&mut out, FORMAT, fingers, geometry, AngleUnit::Iso256)?;
    debug_assert_eq!(out.len(), len);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::f32::consts::FRAC_PI_2;

    use super::*;
    use crate::{FingerPosition, Minutia, MinutiaKind};

    /// One left-index view, 300x400 px at 197 px/cm, two minutiae.
    #[rustfmt::skip]
    const RECORD: [u8; 42] = [
        b'F', b'M', b'R', 0, b' ', b'2', b'0', 0,
        0, 0, 0, 42,            // record length
        0, 0,                   // capture equipment
        0x01, 0x2c, 0x01, 0x90, // 300 x 400 px
        0x00, 0xc5, 0x00, 0xc5, // 197 px/cm both ways
        1, 0,                   // one view, reserved
        7, 0x00, 60, 2,         // left index, view 0 / live plain, quality 60, 2 minutiae
        0x40, 100, 0x00, 200, 64, 80, // ending at (100, 200), 64/256 turn, quality 80
        0x80, 10, 0x01, 0x8f, 0, 0,   // bifurcation at (10, 399), 0, quality 0
        0, 0,                   // no extended data
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
                Minutia::new(10.0, 399.0, 0.0, MinutiaKind::Bifurcation, 0),
            ],
            ridge_map: None,
        }
    }

    #[test]
    fn decodes_a_hand_built_record_and_encodes_it_back_byte_for_byte() {
        assert_eq!(decode(&RECORD).unwrap(), vec![expected()]);
        assert_eq!(encode(&[expected()]).unwrap(), RECORD.to_vec());
    }

    #[test]
    fn extended_data_lengths_count_data_only_and_must_add_up() {
        // Replace the empty extended data with one 2-byte block.
        let mut bytes = RECORD[..40].to_vec();
        bytes.extend_from_slice(&[0, 6, 0x00, 0x02, 0, 2, 0xaa, 0xbb]);
        bytes[11] = bytes.len() as u8;
        assert_eq!(decode(&bytes).unwrap(), vec![expected()]);
        // A block length that counts its header (ANSI style) overruns the area.
        bytes[45] = 6;
        assert!(matches!(
            decode(&bytes),
            Err(ModelError::LengthMismatch {
                field: "extended data block length",
                declared: 6,
                actual: 2,
                ..
            })
        ));
        // Blocks that leave a stray byte in the area are refused too.
        bytes[45] = 1;
        assert!(matches!(decode(&bytes), Err(ModelError::Truncated { .. })));
    }

    #[test]
    fn a_vertical_resolution_of_its_own_is_read_onto_square_pixels() {
        // 148 px/cm (about 375 dpi) down the image, 197 across: the 400
        // rows span what 532 rows would at the horizontal resolution.
        let mut bytes = RECORD.to_vec();
        bytes[21] = 148;
        let finger = &decode(&bytes).unwrap()[0];
        assert_eq!(
            (finger.width_px, finger.height_px, finger.dpi),
            (300, 532, 500)
        );
        let k = 532.0 / 400.0;
        let m = finger.minutiae[0];
        assert_eq!(m.x_px, 100.0);
        assert!((m.y_px - 200.0 * k).abs() < 1e-3, "{}", m.y_px);
        // Straight up and straight across keep their directions.
        assert!((m.angle_rad - FRAC_PI_2).abs() < 1e-5);
        assert_eq!(finger.minutiae[1].angle_rad, 0.0);
        finger.validate().expect("inside the squared image");
        // A resolution a hair apart moves nothing by more than two pixels.
        bytes[21] = 198;
        let finger = &decode(&bytes).unwrap()[0];
        assert_eq!(finger.height_px, 398);
        assert!((finger.minutiae[1].y_px - 399.0).abs() < 2.1);
    }

    #[test]
    fn length_and_geometry_faults_are_typed() {
        let mut longer = RECORD.to_vec();
        longer[11] = 43;
        assert_eq!(
            decode(&longer),
            Err(ModelError::LengthMismatch {
                format: FORMAT,
                field: "record length",
                declared: 43,
                actual: 42
            })
        );
        let mut zero_width = RECORD.to_vec();
        zero_width[14] = 0;
        zero_width[15] = 0;
        assert_eq!(
            decode(&zero_width),
            Err(ModelError::InvalidField {
                format: FORMAT,
                field: "image width",
                offset: 14,
                value: 0
            })
        );
        let mut zero_height = RECORD.to_vec();
        zero_height[16] = 0;
        zero_height[17] = 0;
        assert!(matches!(
            decode(&zero_height),
            Err(ModelError::InvalidField {
                field: "image height",
                offset: 16,
                ..
            })
        ));
        let mut no_vertical = RECORD.to_vec();
        no_vertical[20] = 0;
        no_vertical[21] = 0;
        assert!(matches!(
            decode(&no_vertical),
            Err(ModelError::InvalidField {
                field: "vertical resolution",
                offset: 20,
                ..
            })
        ));
        let mut no_resolution = RECORD.to_vec();
        no_resolution[19] = 0;
        no_resolution[21] = 0;
        assert!(matches!(
            decode(&no_resolution),
            Err(ModelError::InvalidField {
                field: "horizontal resolution",
                value: 0,
                ..
            })
        ));
    }

    #[test]
    fn minutiae_outside_the_image_or_of_reserved_type_are_refused() {
        let mut outside = RECORD.to_vec();
        outside[37] = 0x90; // y = 400 = height
        assert!(matches!(
            decode(&outside),
            Err(ModelError::MinutiaOutsideImage { index: 1, .. })
        ));
        let mut reserved_type = RECORD.to_vec();
        reserved_type[28] = 0xc0;
        assert_eq!(
            decode(&reserved_type),
            Err(ModelError::InvalidField {
                format: FORMAT,
                field: "minutia type",
                offset: 28,
                value: 3
            })
        );
        let mut bad_quality = RECORD.to_vec();
        bad_quality[33] = 101;
        assert!(matches!(
            decode(&bad_quality),
            Err(ModelError::InvalidField {
                field: "minutia quality",
                value: 101,
                ..
            })
        ));
    }
}
