//! Committed sample records that the decoders must keep reading.
//!
//! `data/sample-iso2005.fmr` was written by this crate's ISO/IEC
//! 19794-2:2005 encoder from [`sample_finger`]. If this test fails, the codec
//! no longer reads (or writes) records it wrote before.

use hoviyat_models::codec::{self, TemplateFormat};
use hoviyat_models::{FingerPosition, FingerTemplate, Minutia, MinutiaKind};

const SAMPLE_ISO2005: &[u8] = include_bytes!("data/sample-iso2005.fmr");

/// A right index finger, 416x560 px at 500 dpi, with eight minutiae whose
/// coordinates are whole pixels and angles whole multiples of 360/256 deg,
/// so that the record holds them exactly.
fn sample_finger() -> FingerTemplate {
    // The f32 nearest to code x 2π/256.
    let angle = |code: u8| (f64::from(code) * std::f64::consts::TAU / 256.0) as f32;
    let m =
        |x: f32, y: f32, code: u8, kind, quality| Minutia::new(x, y, angle(code), kind, quality);
    FingerTemplate {
        position: FingerPosition::RightIndex,
        width_px: 416,
        height_px: 560,
        dpi: 500,
        quality: 82,
        minutiae: vec![
            m(102.0, 140.0, 12, MinutiaKind::Ending, 90),
            m(215.0, 98.0, 70, MinutiaKind::Bifurcation, 85),
            m(301.0, 177.0, 133, MinutiaKind::Ending, 77),
            m(88.0, 302.0, 201, MinutiaKind::Bifurcation, 64),
            m(190.0, 288.0, 255, MinutiaKind::Ending, 58),
            m(262.0, 351.0, 0, MinutiaKind::Other, 40),
            m(140.0, 446.0, 96, MinutiaKind::Bifurcation, 71),
            m(333.0, 470.0, 160, MinutiaKind::Ending, 66),
        ],
        ridge_map: None,
    }
}

#[test]
fn the_committed_iso2005_sample_still_decodes_to_its_template() {
    let decoded = codec::decode(SAMPLE_ISO2005).expect("sample decodes");
    assert_eq!(decoded.format, TemplateFormat::Iso19794_2_2005);
    assert_eq!(decoded.fingers, vec![sample_finger()]);
}

#[test]
fn the_encoder_still_writes_the_committed_bytes() {
    let bytes = codec::encode(&[sample_finger()], TemplateFormat::Iso19794_2_2005).unwrap();
    assert_eq!(bytes, SAMPLE_ISO2005);
}
