//! Turning an [`EnrollmentRecord`] into a gallery row ([`PreparedRecord`]):
//! the canonical record bytes, a quantised face code and finger blobs.

use hoviyat_models::binary::{decode_record, encode_record};
use hoviyat_models::{EnrollmentRecord, MinutiaKind, ModelError};

use crate::store::{FaceCode, GalleryConfig, PreparedRecord};
use crate::{EngineError, Result};

/// Builds the gallery row of `record`.
///
/// The face code is made from the record's canonical (f16) face values, so
/// re-preparing a stored record gives the same code. A face is coded only
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
        (Some(face), Some(_)) => Some(quantise_face(&face.values, config.face_mean.as_deref())?),
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
        fingers.push((finger.position, pack_minutiae(&finger.minutiae)));
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

// PROVISIONAL: a stand-in face quantiser (mean-subtract, L2-normalise,
// symmetric int8, aux = [scale, 1]) until the face module's encoder is
// glued in by the lead.
fn quantise_face(values: &[f32], mean: Option<&[f32]>) -> Result<FaceCode> {
    let centred: Vec<f32> = match mean {
        Some(m) => values.iter().zip(m).map(|(v, m)| v - m).collect(),
        None => values.to_vec(),
    };
    let norm = centred.iter().map(|v| v * v).sum::<f32>().sqrt();
    if !(norm > 0.0 && norm.is_finite()) {
        return Err(ModelError::FaceZeroVector.into());
    }
    let max_abs = centred.iter().fold(0.0f32, |m, v| m.max(v.abs())) / norm;
    let scale = max_abs / 127.0;
    let codes = centred
        .iter()
        .map(|v| ((v / norm) / scale).round().clamp(-127.0, 127.0) as i8)
        .collect();
    Ok(FaceCode {
        codes,
        aux: [scale, 1.0],
    })
}

// PROVISIONAL: a stand-in finger blob (each minutia packed in 6 bytes:
// x and y in quarter pixels as u16, angle in 1/256 turn, kind in the top two
// bits and quality scaled to 0..=63 in the low six) until the fingerprint
// matcher's packed form is glued in by the lead.
fn pack_minutiae(minutiae: &[hoviyat_models::Minutia]) -> Vec<u8> {
    let mut out = Vec::with_capacity(6 * minutiae.len());
    for m in minutiae {
        let q = |v: f32| (v * 4.0).round().clamp(0.0, f32::from(u16::MAX)) as u16;
        out.extend_from_slice(&q(m.x_px).to_le_bytes());
        out.extend_from_slice(&q(m.y_px).to_le_bytes());
        let turns = m.angle_rad.rem_euclid(std::f32::consts::TAU) / std::f32::consts::TAU;
        out.push(((turns * 256.0).round() as u32 % 256) as u8);
        let kind = match m.kind {
            MinutiaKind::Other => 0u8,
            MinutiaKind::Ending => 1,
            MinutiaKind::Bifurcation => 2,
        };
        out.push(kind << 6 | ((u32::from(m.quality.min(100)) * 63 / 100) as u8));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hoviyat_models::{FaceTemplate, FingerPosition, FingerTemplate, Minutia};

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
    fn face_codes_are_unit_scaled_int8_and_blobs_six_bytes_a_minutia() {
        let config = GalleryConfig {
            face_dim: Some(4),
            ..Default::default()
        };
        let p = prepare_record(&record(), &config, true, vec![]).unwrap();
        let face = p.face.unwrap();
        // Normalised (0.6, -0.8): the largest magnitude maps to 127.
        assert_eq!(face.codes, vec![95, -127, 0, 0]);
        assert!((face.aux[0] - 0.8 / 127.0).abs() < 1e-7);
        let (pos, blob) = &p.fingers[0];
        assert_eq!(*pos, FingerPosition::RightIndex);
        assert_eq!(blob.len(), 12);
        assert_eq!(&blob[..4], &[41, 0, 82, 0]);
        assert_eq!(blob[5], 1 << 6 | 63);
        assert_eq!(blob[11], 2 << 6);
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
