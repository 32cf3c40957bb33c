//! Interchange codecs for finger minutiae records: ISO/IEC 19794-2:2005,
//! ANSI/INCITS 378-2004, ISO/IEC 19794-2:2011, and a JSON form.
//!
//! [`detect`] tells the format from the bytes (never from a file name),
//! [`decode`] reads any of them into [`FingerTemplate`]s, [`encode`] writes
//! them.
//!
//! ```
//! use hoviyat_models::codec::{self, TemplateFormat};
//! use hoviyat_models::{FingerPosition, FingerTemplate, Minutia, MinutiaKind};
//!
//! let finger = FingerTemplate {
//!     position: FingerPosition::RightIndex,
//!     width_px: 400,
//!     height_px: 500,
//!     dpi: 500,
//!     quality: 80,
//!     minutiae: vec![Minutia::new(120.0, 200.0, 1.2, MinutiaKind::Ending, 70)],
//!     ridge_map: None,
//! };
//! let bytes = codec::encode(&[finger], TemplateFormat::Ansi378_2004).unwrap();
//! let decoded = codec::decode(&bytes).unwrap();
//! assert_eq!(decoded.format, TemplateFormat::Ansi378_2004);
//! assert_eq!(decoded.fingers[0].minutiae[0].x_px, 120.0);
//! ```
//!
//! # What survives a round trip
//! The records store integers, so `decode(encode(t))` equals `t` up to the
//! format's quantisation:
//! - coordinates are rounded to whole pixels (and kept inside the image), so
//!   they move by at most half a pixel (a coordinate within half a pixel of
//!   the right or bottom border moves onto the last pixel instead);
//! - angles are rounded to the nearest step: 360/256 degrees for ISO (2005
//!   and 2011), 2 degrees for ANSI 378, so they move by at most half a step;
//! - resolution is stored in pixels per centimetre (197 px/cm = 500 dpi):
//!   every dpi divisible by 5 comes back exactly, others within 2.54 dpi;
//!   a record whose vertical resolution differs from its horizontal one is
//!   read onto square pixels of the horizontal resolution (its height and
//!   every y coordinate scaled by their ratio, directions turned to match,
//!   then rounded to the record's grid), since a template has one
//!   resolution;
//! - position, image size, finger and minutia quality (0-100) and kind are
//!   exact. View numbers, impression type, capture device and extended data
//!   (ridge counts, cores, deltas) are not carried: extended data blocks are
//!   length-checked and skipped.
//!
//! # Angle convention
//! All three standards measure a minutia's direction counter-clockwise from
//! the horizontal axis pointing right, as seen on the image (y grows
//! downwards), which is exactly [`crate::Minutia::angle_rad`]'s convention.
//! The codecs therefore only change units: `angle_rad = code * 2π / 256`
//! (ISO) or `code * 2π / 180` (ANSI), and back with rounding, wrapped into
//! one turn. Where on the ridge a standard places the minutia (ISO 2005 and
//! ANSI: valley bifurcation for ridge endings; ISO 2011 records it in its
//! ridge-ending-type field) is not converted: positions are taken as stored.
//!
//! # Malformed input
//! Every decoder checks each length field against the bytes actually present
//! before it reads or allocates, requires the record length to equal the
//! data length, and checks that nested blocks add up to their parent's
//! length. It returns a typed [`ModelError`] (`Truncated`, `BadMagic`,
//! `UnsupportedVersion`, `LengthMismatch`, `InvalidField`, ...) and never
//! panics. Decoded fingers have passed [`FingerTemplate::validate`].

mod ansi378;
mod bytes;
mod iso2005;
mod iso2011;
mod json;
mod units;
mod views;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use json::TemplateDocument;

use crate::{FingerTemplate, ModelError, Result};

const FMR_MAGIC: &[u8; 4] = b"FMR\0";
/// Version field of ISO/IEC 19794-2:2005 and ANSI/INCITS 378-2004.
const VERSION_20: &[u8; 4] = b" 20\0";
/// Version field of ISO/IEC 19794-2:2011.
const VERSION_30: &[u8; 4] = b"030\0";

/// A finger template interchange format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TemplateFormat {
    /// ISO/IEC 19794-2:2005 finger minutiae record.
    #[serde(rename = "iso19794-2-2005")]
    Iso19794_2_2005,
    /// ANSI/INCITS 378-2004 finger minutiae record.
    #[serde(rename = "ansi378-2004")]
    Ansi378_2004,
    /// ISO/IEC 19794-2:2011 finger minutiae record.
    #[serde(rename = "iso19794-2-2011")]
    Iso19794_2_2011,
    /// [`TemplateDocument`] as JSON.
    #[serde(rename = "json")]
    Json,
}

impl TemplateFormat {
    /// Every format, in the order of the enum.
    pub const ALL: [TemplateFormat; 4] = [
        Self::Iso19794_2_2005,
        Self::Ansi378_2004,
        Self::Iso19794_2_2011,
        Self::Json,
    ];

    /// The short name used on the command line and in JSON, e.g.
    /// `iso19794-2-2005`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Iso19794_2_2005 => "iso19794-2-2005",
            Self::Ansi378_2004 => "ansi378-2004",
            Self::Iso19794_2_2011 => "iso19794-2-2011",
            Self::Json => "json",
        }
    }
}

impl fmt::Display for TemplateFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error of [`TemplateFormat::from_str`]: the name is not one of
/// [`TemplateFormat::name`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown template format {0:?}")]
pub struct UnknownFormatName(pub String);

impl FromStr for TemplateFormat {
    type Err = UnknownFormatName;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| UnknownFormatName(s.to_owned()))
    }
}

/// Fingers decoded from a record, and the format it was in.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedTemplates {
    pub format: TemplateFormat,
    pub fingers: Vec<FingerTemplate>,
}

/// Tells the format of `bytes` from their content.
///
/// JSON starts (after white space) with `{` or `[`. The FMR records start
/// with `FMR\0`; version `030\0` is ISO 2011. ISO 2005 and ANSI 378 share
/// version ` 20\0` and are told apart by the record length field: 4 bytes
/// at offset 8 in ISO, 2 bytes (or 0x0000 and 4 bytes) in ANSI. Whichever
/// reading equals the data length wins (both cannot); if neither does, the
/// record is damaged and the header decides: a non-zero first length half
/// of at least 26 can only be an ANSI short length, a smaller one an ISO
/// record over 64 KiB; a zero first half followed by at least 24 an ISO
/// length, else an ANSI 6-byte length. The decoder then reports the damage.
pub fn detect(bytes: &[u8]) -> Result<TemplateFormat> {
    let trimmed = bytes.trim_ascii_start();
    if let Some(b'{' | b'[') = trimmed.first() {
        return Ok(TemplateFormat::Json);
    }
    if !bytes.starts_with(FMR_MAGIC) {
        return Err(ModelError::UnknownTemplateFormat {
            found: bytes.iter().take(4).copied().collect(),
        });
    }
    let mut r = bytes::Reader::new("FMR record", bytes);
    r.take(4)?;
    let version = r.take(4)?;
    if version == VERSION_30 {
        return Ok(TemplateFormat::Iso19794_2_2011);
    }
    if version != VERSION_20 {
        return Err(unsupported_version("FMR record", version));
    }
    let first_half = r.u16()?;
    let second_half = r.u16()?;
    let iso_len = (u64::from(first_half) << 16) | u64::from(second_half);
    let ansi_len = if first_half == 0 {
        // The 6-byte form: 0x0000, then 4 bytes of which we have read 2.
        match r.u16() {
            Ok(low) => (u64::from(second_half) << 16) | u64::from(low),
            Err(_) => 0,
        }
    } else {
        u64::from(first_half)
    };
    let len = bytes.len() as u64;
    let format = if iso_len == len {
        TemplateFormat::Iso19794_2_2005
    } else if ansi_len == len || first_half >= 26 || (first_half == 0 && second_half < 24) {
        TemplateFormat::Ansi378_2004
    } else {
        TemplateFormat::Iso19794_2_2005
    };
    Ok(format)
}

/// Detects the format of `bytes` and decodes every finger in them.
pub fn decode(bytes: &[u8]) -> Result<DecodedTemplates> {
    let format = detect(bytes)?;
    Ok(DecodedTemplates {
        format,
        fingers: decode_as(bytes, format)?,
    })
}

/// Decodes `bytes` as `format`, without detection.
pub fn decode_as(bytes: &[u8], format: TemplateFormat) -> Result<Vec<FingerTemplate>> {
    match format {
        TemplateFormat::Iso19794_2_2005 => iso2005::decode(bytes),
        TemplateFormat::Ansi378_2004 => ansi378::decode(bytes),
        TemplateFormat::Iso19794_2_2011 => iso2011::decode(bytes),
        TemplateFormat::Json => json::decode(bytes),
    }
}

/// Encodes `fingers` as one record of `format`.
///
/// Every finger must pass [`FingerTemplate::validate`] and the list must not
/// be empty. ISO 2005 and ANSI 378 store one image size and resolution per
/// record, so all fingers must share them ([`ModelError::MixedImageGeometry`]
/// otherwise). A position may appear at most 16 times (4-bit view number).
pub fn encode(fingers: &[FingerTemplate], format: TemplateFormat) -> Result<Vec<u8>> {
    match format {
        TemplateFormat::Iso19794_2_2005 => iso2005::encode(fingers),
        TemplateFormat::Ansi378_2004 => ansi378::encode(fingers),
        TemplateFormat::Iso19794_2_2011 => iso2011::encode(fingers),
        TemplateFormat::Json => json::encode(fingers),
    }
}

/// Reads and checks the magic and the 4-byte version field.
fn expect_magic(r: &mut bytes::Reader<'_>, version: &[u8; 4]) -> Result<()> {
    let magic = r.take(4)?;
    if magic != FMR_MAGIC {
        return Err(ModelError::BadMagic {
            format: r.format(),
            found: magic.to_vec(),
        });
    }
    let found = r.take(4)?;
    if found != version {
        return Err(unsupported_version(r.format(), found));
    }
    Ok(())
}

fn unsupported_version(format: &'static str, version: &[u8]) -> ModelError {
    ModelError::UnsupportedVersion {
        format,
        version: String::from_utf8_lossy(version).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::f32::consts::{PI, TAU};

    use proptest::prelude::*;

    use super::*;
    use crate::{FingerPosition, Minutia, MinutiaKind};

    const BINARY: [TemplateFormat; 3] = [
        TemplateFormat::Iso19794_2_2005,
        TemplateFormat::Ansi378_2004,
        TemplateFormat::Iso19794_2_2011,
    ];

    fn finger(position: FingerPosition, n: usize) -> FingerTemplate {
        FingerTemplate {
            position,
            width_px: 320,
            height_px: 480,
            dpi: 500,
            quality: 70,
            minutiae: (0..n)
                .map(|i| {
                    let i = i as f32;
                    Minutia::new(
                        (i * 37.3) % 320.0,
                        (i * 53.9) % 480.0,
                        i * 0.7,
                        [
                            MinutiaKind::Ending,
                            MinutiaKind::Bifurcation,
                            MinutiaKind::Other,
                        ][i as usize % 3],
                        (i as u8 * 7) % 101,
                    )
                })
                .collect(),
            ridge_map: None,
        }
    }

    fn two_fingers() -> Vec<FingerTemplate> {
        vec![
            finger(FingerPosition::RightThumb, 12),
            finger(FingerPosition::LeftThumb, 9),
        ]
    }

    /// Angle distance on the circle.
    fn angle_diff(a: f32, b: f32) -> f32 {
        let d = (a - b).rem_euclid(TAU);
        d.min(TAU - d)
    }

    fn half_step(format: TemplateFormat) -> f32 {
        match format {
            TemplateFormat::Ansi378_2004 => TAU / 360.0,
            _ => TAU / 512.0,
        }
    }

    #[test]
    fn detect_tells_every_format_from_content() {
        for format in TemplateFormat::ALL {
            let bytes = encode(&two_fingers(), format).unwrap();
            assert_eq!(detect(&bytes).unwrap(), format, "{format}");
        }
        assert_eq!(detect(b"  \n[]").unwrap(), TemplateFormat::Json);
        assert_eq!(
            detect(b"GIF89a"),
            Err(ModelError::UnknownTemplateFormat {
                found: b"GIF8".to_vec()
            })
        );
        assert!(matches!(
            detect(b"FMR\0 21\0\0\0\0\0"),
            Err(ModelError::UnsupportedVersion { version, .. }) if version == " 21\0"
        ));
        assert!(matches!(
            detect(b"FMR\0 20"),
            Err(ModelError::Truncated { .. })
        ));
    }

    #[test]
    fn a_lying_length_still_reaches_the_right_decoder_and_is_reported() {
        // ISO record whose length claims two more bytes than present.
        let mut iso = encode(&two_fingers(), TemplateFormat::Iso19794_2_2005).unwrap();
        let actual = iso.len();
        iso[11] = iso[11].wrapping_add(2);
        assert_eq!(detect(&iso).unwrap(), TemplateFormat::Iso19794_2_2005);
        assert!(matches!(
            decode(&iso),
            Err(ModelError::LengthMismatch { field: "record length", actual: a, .. }) if a == actual
        ));
        // ANSI record whose length claims fewer bytes than present.
        let mut ansi = encode(&two_fingers(), TemplateFormat::Ansi378_2004).unwrap();
        ansi[9] = ansi[9].wrapping_sub(6);
        assert_eq!(detect(&ansi).unwrap(), TemplateFormat::Ansi378_2004);
        assert!(matches!(
            decode(&ansi),
            Err(ModelError::LengthMismatch {
                field: "record length",
                ..
            })
        ));
    }

    #[test]
    fn every_truncation_of_every_format_is_a_typed_error() {
        for format in TemplateFormat::ALL {
            let bytes = encode(&two_fingers(), format).unwrap();
            // JSON without its final newline is still whole.
            let whole = bytes.trim_ascii_end().len();
            for len in 0..whole {
                let cut = &bytes[..len];
                // Also with the length fields rewritten to match the cut, so
                // that the decoder has to find the missing data itself.
                let mut patched = cut.to_vec();
                if patched.len() >= 12 && format != TemplateFormat::Json {
                    patched[8..12].copy_from_slice(&(len as u32).to_be_bytes());
                }
                for input in [cut, &patched[..]] {
                    let result = decode_as(input, format);
                    assert!(result.is_err(), "{format}: prefix of {len} bytes decoded");
                }
            }
        }
    }

    #[test]
    fn wrong_magic_and_version_are_refused_by_each_decoder() {
        for format in BINARY {
            let mut bytes = encode(&two_fingers(), format).unwrap();
            bytes[0] = b'X';
            assert!(matches!(
                decode_as(&bytes, format),
                Err(ModelError::BadMagic { found, .. }) if found == b"XMR\0"
            ));
            bytes[0] = b'F';
            bytes[5] = b'9';
            assert!(matches!(
                decode_as(&bytes, format),
                Err(ModelError::UnsupportedVersion { .. })
            ));
        }
    }

    #[test]
    fn minutiae_counts_beyond_the_data_are_refused_before_allocating() {
        let fingers = vec![finger(FingerPosition::RightIndex, 3)];
        for (format, count_at) in [
            (TemplateFormat::Iso19794_2_2005, 24 + 3),
            (TemplateFormat::Ansi378_2004, 26 + 3),
            (
                TemplateFormat::Iso19794_2_2011,
                15 + 4 + 9 + 5 + 1 + 5 + 1 + 1 + 4 + 1 + 4 + 1,
            ),
        ] {
            let mut bytes = encode(&fingers, format).unwrap();
            assert_eq!(bytes[count_at], 3, "{format}");
            bytes[count_at] = 255;
            assert!(
                matches!(
                    decode_as(&bytes, format),
                    Err(ModelError::Truncated { needed: 1530, .. })
                ),
                "{format}: {:?}",
                decode_as(&bytes, format)
            );
            // One more minutia than present, with every length kept honest,
            // would need bytes the record does not have.
            bytes[count_at] = 4;
            assert!(decode_as(&bytes, format).is_err(), "{format}");
        }
    }

    #[test]
    fn absurd_view_counts_and_extended_lengths_are_refused() {
        for (format, views_at) in [
            (TemplateFormat::Iso19794_2_2005, 22),
            (TemplateFormat::Ansi378_2004, 24),
        ] {
            let mut bytes = encode(&two_fingers(), format).unwrap();
            assert_eq!(bytes[views_at], 2);
            bytes[views_at] = 255;
            assert!(matches!(
                decode_as(&bytes, format),
                Err(ModelError::Truncated { .. })
            ));
            bytes[views_at] = 0;
            assert_eq!(
                decode_as(&bytes, format),
                Err(ModelError::NoFingers {
                    format: format_name(format)
                })
            );
            // The last two bytes are the last view's extended data length.
            let mut ext = encode(&two_fingers(), format).unwrap();
            let n = ext.len();
            ext[n - 2] = 0xff;
            ext[n - 1] = 0xff;
            assert!(matches!(
                decode_as(&ext, format),
                Err(ModelError::Truncated {
                    needed: 65_535,
                    available: 0,
                    ..
                })
            ));
        }
    }

    #[test]
    fn zero_size_images_are_refused_by_every_decoder() {
        for (format, width_at) in [
            (TemplateFormat::Iso19794_2_2005, 14),
            (TemplateFormat::Ansi378_2004, 16),
            (TemplateFormat::Iso19794_2_2011, 46),
        ] {
            let bytes = encode(&two_fingers(), format).unwrap();
            assert_eq!(&bytes[width_at..width_at + 4], &[0x01, 0x40, 0x01, 0xe0]);
            for (field, at) in [("image width", width_at), ("image height", width_at + 2)] {
                let mut zero = bytes.clone();
                zero[at] = 0;
                zero[at + 1] = 0;
                assert_eq!(
                    decode_as(&zero, format),
                    Err(ModelError::InvalidField {
                        format: format_name(format),
                        field,
                        offset: at,
                        value: 0
                    })
                );
            }
        }
    }

    #[test]
    fn json_angles_are_wrapped_into_one_turn() {
        let mut f = finger(FingerPosition::RightIndex, 1);
        f.minutiae[0].angle_rad = -PI / 2.0;
        let json = serde_json::to_vec(&f).unwrap();
        let back = decode(&json).unwrap();
        assert!((back.fingers[0].minutiae[0].angle_rad - 1.5 * PI).abs() < 1e-6);
    }

    fn format_name(format: TemplateFormat) -> &'static str {
        match format {
            TemplateFormat::Iso19794_2_2005 => iso2005::FORMAT,
            TemplateFormat::Ansi378_2004 => ansi378::FORMAT,
            TemplateFormat::Iso19794_2_2011 => iso2011::FORMAT,
            TemplateFormat::Json => "JSON",
        }
    }

    #[test]
    fn encoding_refuses_empty_mixed_invalid_and_over_numbered_input() {
        for format in TemplateFormat::ALL {
            assert!(matches!(
                encode(&[], format),
                Err(ModelError::NoFingers { .. })
            ));
            let mut nan = finger(FingerPosition::RightIndex, 2);
            nan.minutiae[1].angle_rad = f32::NAN;
            assert!(matches!(
                encode(&[nan], format),
                Err(ModelError::NonFinite { .. })
            ));
        }
        let mut mixed = two_fingers();
        mixed[1].dpi = 1000;
        for format in [
            TemplateFormat::Iso19794_2_2005,
            TemplateFormat::Ansi378_2004,
        ] {
            assert!(matches!(
                encode(&mixed, format),
                Err(ModelError::MixedImageGeometry { index: 1, .. })
            ));
        }
        // ISO 2011 has a header per representation, so mixed is fine there.
        let back = decode(&encode(&mixed, TemplateFormat::Iso19794_2_2011).unwrap()).unwrap();
        assert_eq!(back.fingers[1].dpi, 1000);
        let seventeen = vec![finger(FingerPosition::Unknown, 1); 17];
        for format in BINARY {
            assert!(matches!(
                encode(&seventeen, format),
                Err(ModelError::TooManyViews { max: 16, .. })
            ));
            assert!(encode(&seventeen[..16], format).is_ok());
        }
    }

    #[test]
    fn json_accepts_a_document_an_array_or_a_single_template() {
        let fingers = two_fingers();
        let doc = encode(&fingers, TemplateFormat::Json).unwrap();
        assert_eq!(decode(&doc).unwrap().fingers, fingers);
        let array = serde_json::to_vec(&fingers).unwrap();
        assert_eq!(decode(&array).unwrap().fingers, fingers);
        let single = serde_json::to_vec(&fingers[0]).unwrap();
        assert_eq!(decode(&single).unwrap().fingers, vec![fingers[0].clone()]);
        let shown = serde_json::to_vec(&TemplateDocument {
            format: Some(TemplateFormat::Ansi378_2004),
            fingers: fingers.clone(),
        })
        .unwrap();
        assert!(String::from_utf8_lossy(&shown).contains(r#""format":"ansi378-2004""#));
        assert_eq!(decode(&shown).unwrap().fingers, fingers);
        assert!(matches!(
            decode(b"{\"fingers\": [}"),
            Err(ModelError::InvalidJson { .. })
        ));
        assert!(matches!(decode(b"[]"), Err(ModelError::NoFingers { .. })));
        let mut outside = fingers[0].clone();
        outside.minutiae[0].x_px = 1000.0;
        let bad = serde_json::to_vec(&outside).unwrap();
        assert!(matches!(
            decode(&bad),
            Err(ModelError::MinutiaOutsideImage { .. })
        ));
    }

    #[test]
    fn format_names_parse_back() {
        for format in TemplateFormat::ALL {
            assert_eq!(format.name().parse::<TemplateFormat>().unwrap(), format);
        }
        assert!("iso".parse::<TemplateFormat>().is_err());
    }

    #[test]
    fn angles_near_a_full_turn_wrap_to_zero() {
        let mut f = finger(FingerPosition::RightIndex, 1);
        f.minutiae[0].angle_rad = TAU - 0.001;
        for format in BINARY {
            let back = decode(&encode(&[f.clone()], format).unwrap()).unwrap();
            assert_eq!(back.fingers[0].minutiae[0].angle_rad, 0.0, "{format}");
        }
        f.minutiae[0].angle_rad = PI;
        for format in BINARY {
            let back = decode(&encode(&[f.clone()], format).unwrap()).unwrap();
            assert!((back.fingers[0].minutiae[0].angle_rad - PI).abs() < 1e-6);
        }
    }

    fn arb_finger(
        width_px: u16,
        height_px: u16,
        dpi: u16,
    ) -> impl Strategy<Value = FingerTemplate> {
        let minutia = (
            0.0..f32::from(width_px),
            0.0..f32::from(height_px),
            0.0..TAU,
            prop_oneof![
                Just(MinutiaKind::Ending),
                Just(MinutiaKind::Bifurcation),
                Just(MinutiaKind::Other)
            ],
            0..=100u8,
        )
            .prop_map(|(x, y, a, k, q)| Minutia::new(x, y, a, k, q));
        (
            0..=10u8,
            0..=100u8,
            proptest::collection::vec(minutia, 0..60),
        )
            .prop_map(move |(code, quality, minutiae)| FingerTemplate {
                position: FingerPosition::from_code(code).unwrap_or(FingerPosition::Unknown),
                width_px,
                height_px,
                dpi,
                quality,
                minutiae,
                ridge_map: None,
            })
    }

    fn arb_fingers() -> impl Strategy<Value = Vec<FingerTemplate>> {
        (1..=2000u16, 1..=2000u16, 100..=2000u16)
            .prop_flat_map(|(w, h, dpi)| proptest::collection::vec(arb_finger(w, h, dpi), 1..4))
    }

    proptest! {
        #[test]
        fn round_trips_stay_within_each_formats_quantisation(
            fingers in arb_fingers(),
            format in prop::sample::select(BINARY.to_vec()),
        ) {
            let bytes = encode(&fingers, format).unwrap();
            let back = decode(&bytes).unwrap();
            prop_assert_eq!(back.format, format);
            prop_assert_eq!(back.fingers.len(), fingers.len());
            for (got, want) in back.fingers.iter().zip(&fingers) {
                prop_assert_eq!(got.position, want.position);
                prop_assert_eq!((got.width_px, got.height_px), (want.width_px, want.height_px));
                prop_assert_eq!(got.quality, want.quality);
                prop_assert!(got.dpi.abs_diff(want.dpi) <= 2);
                if want.dpi % 5 == 0 {
                    prop_assert_eq!(got.dpi, want.dpi);
                }
                prop_assert_eq!(got.minutiae.len(), want.minutiae.len());
                for (g, w) in got.minutiae.iter().zip(&want.minutiae) {
                    prop_assert_eq!((g.kind, g.quality), (w.kind, w.quality));
                    // Half a pixel, or onto the last pixel near the border.
                    let last_x = f32::from(want.width_px - 1);
                    let last_y = f32::from(want.height_px - 1);
                    prop_assert!((g.x_px - w.x_px).abs() <= 0.5 || g.x_px == last_x);
                    prop_assert!((g.y_px - w.y_px).abs() <= 0.5 || g.y_px == last_y);
                    prop_assert!(
                        angle_diff(g.angle_rad, w.angle_rad) <= half_step(format) + 1e-5,
                        "{} vs {}", g.angle_rad, w.angle_rad
                    );
                }
            }
            // Decoded templates are on the grid: encoding them again is exact.
            let again = encode(&back.fingers, format).unwrap();
            prop_assert_eq!(again, bytes);
        }

        #[test]
        fn json_round_trips_exactly(fingers in arb_fingers()) {
            let bytes = encode(&fingers, TemplateFormat::Json).unwrap();
            prop_assert_eq!(decode(&bytes).unwrap().fingers, fingers);
        }
    }
}
