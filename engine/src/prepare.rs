//! Turning an [`EnrollmentRecord`] into a gallery row ([`PreparedRecord`]):
//! the canonical record bytes, the face code and the finger blobs.
//!
//! # Finger blob
//! Each finger's blob holds what 1:N search reads for that finger:
//! ```text
//! version:u8 (= 2)  flags:u8 (bit 0: screening vector present)
//! [screen: u8; SCREEN_BYTES]        if flag bit 0 (crate::screen::ScreenCode)
//! matcher gallery form               (crate::finger::encode_gallery), rest of the blob
//! ```

use hoviyat_models::binary::{decode_record, encode_record};
use hoviyat_models::{EnrollmentRecord, FingerPosition, FingerTemplate};

use crate::face::FaceCodec;
use crate::screen::{self, SCREEN_BYTES, ScreenCode};
use crate::store::{FaceCode, GalleryConfig, PreparedRecord};
use crate::{EngineError, Result, finger};

/// Version 1 (216-byte int8 screening vectors) is no longer read: blobs are
/// derived data, re-made from the record bytes by re-preparing the record.
const BLOB_VERSION: u8 = 2;
const FLAG_SCREEN: u8 = 1;

/// Builds the gallery row of `record`.
///
/// Everything is derived from the record's canonical form (what
/// `decode_record(encode_record(record))` gives back), so re-preparing a
/// stored record gives the same row. A face is coded only when the gallery
/// has a face dimension; fingers without minutiae get no blob (the record
/// bytes still hold them).
pub fn prepare_record(
    record: &EnrollmentRecord,
    config: &GalleryConfig,
    face_codec: Option<&FaceCodec>,
    searchable: bool,
    state: Vec<u8>,
) -> Result<PreparedRecord> {
    record.validate(config.face_dim)?;
    let record_bytes = encode_record(record)?;
    let canonical = decode_record(&record_bytes)?;
    let face = match (&canonical.face, face_codec) {
        (Some(face), Some(codec)) => {
            let (codes, aux) = codec.encode(&face.values)?;
            Some(FaceCode { codes, aux })
        }
        _ => None,
    };
    let mut fingers: Vec<(FingerPosition, Vec<u8>)> = Vec::new();
    for template in &canonical.fingers {
        if template.minutiae.is_empty() {
            continue;
        }
        if fingers.iter().any(|(p, _)| *p == template.position) {
            return Err(EngineError::DuplicateFingerBlob {
                position: template.position,
            });
        }
        fingers.push((template.position, finger_blob(template)?));
    }
    Ok(PreparedRecord {
        reference_id: record.reference_id.clone(),
        record_bytes,
        face,
        fingers,
        searchable,
        state,
    })
}

/// The blob stored for one finger (see the module docs).
pub fn finger_blob(template: &FingerTemplate) -> Result<Vec<u8>> {
    let form = finger::encode_gallery(template)?;
    let screen = screen::encode(template);
    let mut out = Vec::with_capacity(2 + SCREEN_BYTES + form.len());
    out.push(BLOB_VERSION);
    out.push(if screen.is_some() { FLAG_SCREEN } else { 0 });
    if let Some(code) = screen {
        out.extend_from_slice(&code);
    }
    out.extend_from_slice(&form);
    Ok(out)
}

/// The parts of a stored finger blob.
#[derive(Debug, Clone, Copy)]
pub struct FingerBlob<'a> {
    /// The screening vector, when the finger had enough minutiae.
    pub screen: Option<&'a ScreenCode>,
    /// The matcher's gallery form.
    pub form: &'a [u8],
}

/// Splits a stored finger blob; a blob of another version or too short is
/// a typed error.
pub fn split_finger_blob(blob: &[u8]) -> Result<FingerBlob<'_>> {
    let bad = |what| EngineError::BadFingerBlob { what };
    let (&version, rest) = blob.split_first().ok_or(bad("empty blob"))?;
    if version != BLOB_VERSION {
        return Err(bad(
            "blob layout of another release: re-import the records into a new gallery",
        ));
    }
    let (&flags, rest) = rest.split_first().ok_or(bad("missing flags"))?;
    if flags & FLAG_SCREEN == 0 {
        return Ok(FingerBlob {
            screen: None,
            form: rest,
        });
    }
    let (screen, form) = rest
        .split_at_checked(SCREEN_BYTES)
        .ok_or(bad("truncated screening vector"))?;
    let screen: &ScreenCode = screen
        .try_into()
        .map_err(|_| bad("truncated screening vector"))?;
    Ok(FingerBlob {
        screen: Some(screen),
        form,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hoviyat_models::{FaceTemplate, Minutia, MinutiaKind};

    fn record() -> EnrollmentRecord {
        let minutiae = (0..30)
            .map(|i| {
                let t = i as f32;
                Minutia::new(
                    30.0 + (t * 37.0) % 200.0,
                    40.0 + (t * 53.0) % 260.0,
                    t * 0.7,
                    MinutiaKind::Ending,
                    50,
                )
            })
            .collect();
        let thumb = FingerTemplate {
            position: FingerPosition::RightThumb,
            width_px: 300,
            height_px: 360,
            dpi: 500,
            quality: 60,
            minutiae,
        };
        EnrollmentRecord::new(
            "r-1",
            vec![thumb],
            Some(FaceTemplate::new("m", vec![0.3, -0.2, 0.9, 0.1])),
        )
    }

    #[test]
    fn rows_hold_the_canonical_record_a_face_code_and_split_able_blobs() {
        let config = GalleryConfig {
            face_dim: Some(4),
            ..Default::default()
        };
        let codec = FaceCodec::new(4, None).unwrap();
        let row = prepare_record(&record(), &config, Some(&codec), true, vec![]).unwrap();
        assert_eq!(
            decode_record(&row.record_bytes).unwrap(),
            hoviyat_models::binary::canonicalize(&record()).unwrap()
        );
        assert_eq!(row.face.as_ref().map(|f| f.codes.len()), Some(4));
        let (position, blob) = &row.fingers[0];
        assert_eq!(*position, FingerPosition::RightThumb);
        let parts = split_finger_blob(blob).unwrap();
        assert!(parts.screen.is_some());
        assert!(!parts.form.is_empty());
        // Preparing the stored record again gives the same row.
        let again = prepare_record(
            &decode_record(&row.record_bytes).unwrap(),
            &config,
            Some(&codec),
            true,
            vec![],
        )
        .unwrap();
        assert_eq!(again, row);
    }

    #[test]
    fn damaged_blobs_are_typed_errors() {
        assert!(split_finger_blob(&[]).is_err());
        assert!(split_finger_blob(&[9, 0]).is_err());
        assert!(split_finger_blob(&[BLOB_VERSION, FLAG_SCREEN, 1, 2]).is_err());
        assert!(split_finger_blob(&[BLOB_VERSION, 0, 7]).is_ok());
    }

    #[test]
    fn a_face_of_the_wrong_dimension_is_refused() {
        let config = GalleryConfig {
            face_dim: Some(8),
            ..Default::default()
        };
        let codec = FaceCodec::new(8, None).unwrap();
        assert!(prepare_record(&record(), &config, Some(&codec), true, vec![]).is_err());
    }
}
