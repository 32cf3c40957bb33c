//! Turning an [`EnrollmentRecord`] into a gallery row ([`PreparedRecord`]):
//! the canonical record bytes, a quantised face code and finger blobs.

use hoviyat_models::EnrollmentRecord;
use hoviyat_models::binary::{decode_record, encode_record};

use crate::face::FaceCodec;
use crate::finger::encode_gallery;
use crate::store::{FaceCode, GalleryConfig, PreparedRecord};
use crate::{EngineError, Result};

/// Builds the gallery row of `record`: face code by [`FaceCodec::encode`],
/// finger blobs by [`encode_gallery`].
///
/// Both are made from the record's canonical form (f16 face values,
/// quarter-pixel minutiae), so re-preparing a stored record gives the same
/// row. A face is coded only
/// when the gallery has a face dimension. Fingers without minutiae get no
/// blob (the record bytes still hold them).
pub fn prepare_record(
    record: &EnrollmentRecord,
    config: &GalleryConfig,
    searchable: bool,
    state: Vec<u8>,
) -> Result<PreparedRecord> {
    record.validate(config.face_dim)?;
    let record_bytes = encode_record(record)?;
    let canonical = decode_record(&record_bytes)?;
    let face = match (&canonical.face, config.face_dim) {
        (Some(face), Some(dim)) => {
            // The face module's codec, fed the stored (f16-rounded) values so
            // that rescoring sees the very vector that was quantised.
            let codec = FaceCodec::new(dim, config.face_mean.clone())?;
            let (codes, aux) = codec.encode(&face.values)?;
            Some(FaceCode { codes, aux })
        }
        _ => None,
    };
    let mut fingers: Vec<(hoviyat_models::FingerPosition, Vec<u8>)> = Vec::new();
    for finger in &canonical.fingers {
        if finger.minutiae.is_empty() {
            continue;
        }
        if fingers.iter().any(|(p, _)| *p == finger.position) {
            return Err(EngineError::DuplicateFingerBlob {
                position: finger.position,
            });
        }
        fingers.push((finger.position, encode_gallery(finger)?));
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

#[cfg(test)]
mod tests {
    use super::*;
    use hoviyat_models::{FaceTemplate, FingerPosition, FingerTemplate, Minutia, MinutiaKind};

    fn record() -> EnrollmentRecord {
        EnrollmentRecord::new(
            "r-1",
            vec![FingerTemplate {
                position: FingerPosition::RightIndex,
                width_px: 300,
                height_px: 400,
                dpi: 500,
                quality: 60,
                minutiae: vec![
                    Minutia::new(10.25, 20.5, 1.0, MinutiaKind::Ending, 100),
                    Minutia::new(110.0, 220.0, 4.0, MinutiaKind::Bifurcation, 0),
                ],
            }],
            Some(FaceTemplate::new("m", vec![3.0, -4.0, 0.0, 0.0])),
        )
    }

    #[test]
    fn rows_carry_the_face_code_and_the_finger_gallery_forms() {
        let config = GalleryConfig {
            face_dim: Some(4),
            ..Default::default()
        };
        let p = prepare_record(&record(), &config, true, vec![]).unwrap();
        let face = p.face.unwrap();
        // Normalised (0.6, -0.8), quantised by the face codec.
        let back: Vec<f32> = face
            .codes
            .iter()
            .map(|&c| f32::from(c) * face.aux[0])
            .collect();
        assert!(
            (back[0] - 0.6).abs() < 0.01 && (back[1] + 0.8).abs() < 0.01,
            "{back:?}"
        );
        assert_eq!(&back[2..], &[0.0, 0.0]);
        let (pos, blob) = &p.fingers[0];
        assert_eq!(*pos, FingerPosition::RightIndex);
        let mut t = crate::finger::GalleryTemplate::new();
        crate::finger::decode_gallery(blob, &mut t).unwrap();
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn wrong_face_dimension_is_refused() {
        let config = GalleryConfig {
            face_dim: Some(8),
            ..Default::default()
        };
        assert!(prepare_record(&record(), &config, true, vec![]).is_err());
    }
}
