//! One applicant's enrollment: up to ten fingers, an optional face, markers
//! for fingers that could not be captured.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{FaceTemplate, FingerPosition, FingerTemplate, MissingFinger, ModelError, Result};

/// Most fingers an enrollment record may carry.
pub const MAX_FINGERS: usize = 10;
/// Longest reference id accepted, in UTF-8 bytes.
pub const MAX_REFERENCE_ID_BYTES: usize = 128;

/// The biometric data of one enrollment, as the enrollment pipeline sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollmentRecord {
    /// The enrollment's identifier in the issuing system (MOSIP's referenceId).
    pub reference_id: String,
    /// Captured fingers, each at a distinct position.
    #[serde(default)]
    pub fingers: Vec<FingerTemplate>,
    /// Fingers that could not be captured, and why.
    #[serde(default)]
    pub missing: Vec<MissingFinger>,
    #[serde(default)]
    pub face: Option<FaceTemplate>,
    /// When the biometrics were captured.
    #[serde(default)]
    pub captured_at: Option<jiff::Timestamp>,
    /// Free key/value metadata carried along with the record (never matched on).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

impl EnrollmentRecord {
    /// A record with no markers, capture time or metadata.
    pub fn new(
        reference_id: impl Into<String>,
        fingers: Vec<FingerTemplate>,
        face: Option<FaceTemplate>,
    ) -> Self {
        Self {
            reference_id: reference_id.into(),
            fingers,
            missing: Vec::new(),
            face,
            captured_at: None,
            metadata: BTreeMap::new(),
        }
    }

    /// Checks the whole record; `face_dim` is the gallery's face dimension,
    /// when it has one.
    pub fn validate(&self, face_dim: Option<usize>) -> Result<()> {
        validate_reference_id(&self.reference_id)?;
        if self.fingers.is_empty() && self.face.is_none() {
            return Err(ModelError::EmptyRecord);
        }
        if self.fingers.len() > MAX_FINGERS {
            return Err(ModelError::TooManyFingers {
                count: self.fingers.len(),
                max: MAX_FINGERS,
            });
        }
        let mut seen = [false; 11];
        for finger in &self.fingers {
            let slot = &mut seen[usize::from(finger.position.code())];
            // Several prints of unknown position are legitimate (latents).
            if *slot && finger.position != FingerPosition::Unknown {
                return Err(ModelError::DuplicateFingerPosition {
                    position: finger.position,
                });
            }
            *slot = true;
            finger.validate()?;
        }
        let mut missing_seen = [false; 11];
        for marker in &self.missing {
            let code = usize::from(marker.position.code());
            if seen[code] && marker.position != FingerPosition::Unknown {
                return Err(ModelError::MissingAndCaptured {
                    position: marker.position,
                });
            }
            if missing_seen[code] {
                return Err(ModelError::DuplicateFingerPosition {
                    position: marker.position,
                });
            }
            missing_seen[code] = true;
        }
        if let Some(face) = &self.face {
            face.validate(face_dim)?;
        }
        // The stored form counts entries and bytes in 16 bits.
        let max = usize::from(u16::MAX);
        let too_large =
            |field: String, len: usize| ModelError::MetadataTooLarge { field, len, max };
        if self.metadata.len() > max {
            return Err(too_large("metadata".into(), self.metadata.len()));
        }
        for (key, value) in &self.metadata {
            if key.len() > max {
                return Err(too_large("metadata".into(), key.len()));
            }
            if value.len() > max {
                return Err(too_large(format!("metadata.{key}"), value.len()));
            }
        }
        Ok(())
    }

    /// The finger at `position`, if captured.
    pub fn finger(&self, position: FingerPosition) -> Option<&FingerTemplate> {
        self.fingers.iter().find(|f| f.position == position)
    }
}

/// Checks a reference id: non-empty, at most [`MAX_REFERENCE_ID_BYTES`] bytes,
/// in Unicode normal form C, no control or invisible format characters
/// (zero-width, bidirectional overrides, ...), no space at either end. Two
/// ids that look alike are then the same id or are refused.
pub fn validate_reference_id(id: &str) -> Result<()> {
    if id.is_empty() {
        return Err(ModelError::EmptyReferenceId);
    }
    if id.len() > MAX_REFERENCE_ID_BYTES {
        return Err(ModelError::ReferenceIdTooLong {
            len: id.len(),
            max: MAX_REFERENCE_ID_BYTES,
        });
    }
    if let Some((at, _)) = id
        .char_indices()
        .find(|(_, c)| c.is_control() || is_line_separator(*c))
    {
        return Err(ModelError::ReferenceIdControlChar { at });
    }
    if let Some((at, c)) = id.char_indices().find(|(_, c)| is_format_char(*c)) {
        return Err(ModelError::ReferenceIdFormatChar {
            at,
            code_point: u32::from(c),
        });
    }
    if id.starts_with(char::is_whitespace) || id.ends_with(char::is_whitespace) {
        return Err(ModelError::ReferenceIdSpace);
    }
    if !unicode_normalization::is_nfc(id) {
        return Err(ModelError::ReferenceIdNotNfc);
    }
    Ok(())
}

/// `id` in Unicode normal form C, then checked by [`validate_reference_id`]:
/// what a service applies to the ids it is sent.
pub fn normalize_reference_id(id: &str) -> Result<String> {
    use unicode_normalization::UnicodeNormalization as _;
    let nfc: String = id.nfc().collect();
    validate_reference_id(&nfc)?;
    Ok(nfc)
}

/// U+2028 and U+2029 break lines like control characters do.
fn is_line_separator(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}')
}

/// Characters of Unicode general category Cf (format: invisible, and some
/// reorder the text around them) plus the invisible fillers (U+115F,
/// U+1160, U+3164, U+FFA0) and variation selectors.
fn is_format_char(c: char) -> bool {
    matches!(u32::from(c),
        0x00AD
        | 0x034F
        | 0x0600..=0x0605
        | 0x061C
        | 0x06DD
        | 0x070F
        | 0x0890..=0x0891
        | 0x08E2
        | 0x115F..=0x1160
        | 0x17B4..=0x17B5
        | 0x180B..=0x180F
        | 0x200B..=0x200F
        | 0x202A..=0x202E
        | 0x2060..=0x206F
        | 0x3164
        | 0xFE00..=0xFE0F
        | 0xFEFF
        | 0xFFA0
        | 0xFFF9..=0xFFFB
        | 0x110BD
        | 0x110CD
        | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A
        | 0xE0000..=0xE0FFF)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Minutia, MinutiaKind, MissingReason};

    #[test]
    fn look_alike_reference_ids_are_refused_or_made_equal() {
        assert_eq!(normalize_reference_id("app-0001").unwrap(), "app-0001");
        // Zero-width space, bidi override, BOM, leading/trailing spaces.
        for bad in [
            "app-0001\u{200B}",
            "\u{202E}1000-ppa",
            "\u{FEFF}app-0001",
            " app-0001",
            "app-0001 ",
            "app\u{2028}0001",
        ] {
            assert!(normalize_reference_id(bad).is_err(), "{bad:?} accepted");
        }
        // Decomposed and composed e-acute are one id.
        let composed = normalize_reference_id("ren\u{E9}").unwrap();
        assert_eq!(normalize_reference_id("rene\u{301}").unwrap(), composed);
        assert!(validate_reference_id("rene\u{301}").is_err());
        // Inner spaces and non-Latin scripts stay fine.
        assert!(validate_reference_id("Ali Rezaei 0001").is_ok());
        assert!(validate_reference_id("هویت-۰۰۱").is_ok());
    }

    fn finger(position: FingerPosition) -> FingerTemplate {
        FingerTemplate {
            position,
            width_px: 256,
            height_px: 360,
            dpi: 500,
            quality: 70,
            minutiae: vec![Minutia::new(
                100.0,
                100.0,
                1.0,
                MinutiaKind::Bifurcation,
                80,
            )],
            ridge_map: None,
        }
    }

    fn record() -> EnrollmentRecord {
        EnrollmentRecord::new(
            "ref-1",
            vec![
                finger(FingerPosition::RightThumb),
                finger(FingerPosition::LeftThumb),
            ],
            Some(FaceTemplate::new("m", vec![1.0, 2.0])),
        )
    }

    #[test]
    fn a_well_formed_record_validates_and_round_trips_through_json() {
        let mut r = record();
        r.captured_at = Some("2026-11-25T10:00:00Z".parse().unwrap());
        r.metadata.insert("station".into(), "kiosk-7".into());
        r.missing.push(MissingFinger {
            position: FingerPosition::RightLittle,
            reason: MissingReason::Amputated,
        });
        r.validate(Some(2)).unwrap();
        let back: EnrollmentRecord =
            serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn reference_ids_are_checked() {
        let mut r = record();
        r.reference_id = String::new();
        assert_eq!(r.validate(None), Err(ModelError::EmptyReferenceId));
        r.reference_id = "x".repeat(129);
        assert!(matches!(
            r.validate(None),
            Err(ModelError::ReferenceIdTooLong { len: 129, .. })
        ));
        r.reference_id = "x".repeat(128);
        assert!(r.validate(None).is_ok());
        r.reference_id = "ab\ncd".into();
        assert_eq!(
            r.validate(None),
            Err(ModelError::ReferenceIdControlChar { at: 2 })
        );
    }

    #[test]
    fn structural_errors_are_typed() {
        let mut r = record();
        r.fingers.push(finger(FingerPosition::RightThumb));
        assert_eq!(
            r.validate(None),
            Err(ModelError::DuplicateFingerPosition {
                position: FingerPosition::RightThumb
            })
        );

        let mut r = record();
        r.fingers = (0..11).map(|_| finger(FingerPosition::Unknown)).collect();
        assert!(matches!(
            r.validate(None),
            Err(ModelError::TooManyFingers { count: 11, .. })
        ));

        let empty = EnrollmentRecord::new("ref", vec![], None);
        assert_eq!(empty.validate(None), Err(ModelError::EmptyRecord));

        let mut r = record();
        r.missing.push(MissingFinger {
            position: FingerPosition::LeftThumb,
            reason: MissingReason::Bandaged,
        });
        assert!(matches!(
            r.validate(None),
            Err(ModelError::MissingAndCaptured { .. })
        ));

        assert!(matches!(
            record().validate(Some(128)),
            Err(ModelError::FaceDimensionMismatch {
                expected: 128,
                got: 2
            })
        ));

        // Metadata up to the stored form's 16-bit lengths validates and
        // stores; a longer value is refused by validation, naming its key.
        let mut r = record();
        r.metadata.insert("note".into(), "x".repeat(65_535));
        assert!(r.validate(None).is_ok());
        assert!(crate::binary::encode_record(&r).is_ok());
        r.metadata.insert("note".into(), "x".repeat(65_536));
        assert_eq!(
            r.validate(None),
            Err(ModelError::MetadataTooLarge {
                field: "metadata.note".into(),
                len: 65_536,
                max: 65_535
            })
        );
    }

    #[test]
    fn json_with_unknown_position_code_is_refused() {
        let json = r#"{"reference_id":"r","fingers":[{"position":12,"width_px":10,"height_px":10,"dpi":500,"quality":1,"minutiae":[]}]}"#;
        assert!(serde_json::from_str::<EnrollmentRecord>(json).is_err());
    }
}
