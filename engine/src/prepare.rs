//! Turning an [`EnrollmentRecord`] into a gallery row ([`PreparedRecord`]):
//! the canonical record bytes, the face code, the finger blobs and the
//! fingers' screening codes.
//!
//! # Finger blob
//! Each finger's blob holds the matcher's form of that finger:
//! ```text
//! version:u8 (= 3)
//! matcher gallery form               (crate::finger::encode_gallery), rest of the blob
//! ```
//! The screening code ([`crate::screen`]) is not in the blob: the store
//! keeps it in a fixed-width column that a screening pass streams through.

use hoviyat_models::binary::{decode_record, encode_record};
use hoviyat_models::{EnrollmentRecord, FingerPosition, FingerTemplate};

use crate::face::FaceCodec;
use crate::screen::{self, ScreenCode};
use crate::store::{FaceCode, GalleryConfig, PreparedRecord};
use crate::{EngineError, Result, finger};

/// Version 2 carried the screening code inside the blob and version 1 an
/// int8 one; neither is read: blobs are derived data, re-made by
/// re-preparing the stored record.
const BLOB_VERSION: u8 = 3;

/// Builds the gallery row of `record`.
///
/// Everything is derived from the record's canonical form (what
/// `decode_record(encode_record(record))` gives back), so re-preparing a
/// stored record gives the same row. A face is coded only when the gallery
/// has a face dimension; fingers without minutiae get no blob (the record
/// bytes still hold them); a finger of known position with enough minutiae
/// gets a screening code.
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
    let mut screens: Vec<(FingerPosition, ScreenCode)> = Vec::new();
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
        if template.position != FingerPosition::Unknown
            && let Some(code) = screen::encode(template)
        {
            screens.push((template.position, code));
        }
    }
    Ok(PreparedRecord {
        reference_id: record.reference_id.clone(),
        record_bytes,
        face,
        fingers,
        screens,
        searchable,
        state,
    })
}

/// The blob stored for one finger (see the module docs).
pub fn finger_blob(template: &FingerTemplate) -> Result<Vec<u8>> {
    let form = finger::encode_gallery(template)?;
    let mut out = Vec::with_capacity(1 + form.len());
    out.push(BLOB_VERSION);
    out.extend_from_slice(&form);
    Ok(out)
}

/// The matcher form inside a stored finger blob; a blob of another version
/// or an empty one is a typed error.
pub fn blob_form(blob: &[u8]) -> Result<&[u8]> {
    match blob.split_first() {
        Some((&BLOB_VERSION, form)) if !form.is_empty() => Ok(form),
        Some((&BLOB_VERSION, _)) => Err(EngineError::BadFingerBlob {
            what: "missing matcher form",
        }),
        Some(_) => Err(EngineError::BadFingerBlob {
            what: "blob layout of another release: re-import the records into a new gallery",
        }),
        None => Err(EngineError::BadFingerBlob { what: "empty blob" }),
    }
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
            ridge_map: None,
        };
        EnrollmentRecord::new(
            "r-1",
            vec![thumb],
            Some(FaceTemplate::new("m", vec![0.3, -0.2, 0.9, 0.1])),
        )
    }

    #[test]
    fn rows_hold_the_canonical_record_a_face_code_blobs_and_screening_codes() {
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
        assert!(!blob_form(blob).unwrap().is_empty());
        assert_eq!(row.screens.len(), 1);
        assert_eq!(row.screens[0].0, FingerPosition::RightThumb);
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
        assert!(blob_form(&[]).is_err());
        assert!(blob_form(&[2, 1, 7]).is_err());
        assert!(blob_form(&[BLOB_VERSION]).is_err());
        assert_eq!(blob_form(&[BLOB_VERSION, 7]).unwrap(), &[7]);
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
