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
    } else if ansi_len == len {
        TemplateFormat::Ansi378_2004
    } else if first_half >= 26 || (first_half == 0 && second_half < 24) {
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
