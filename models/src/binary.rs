//! Compact, versioned binary encoding of an [`EnrollmentRecord`]: the form in
//! which galleries and population files store records.
//!
//! # Stored precision
//! The encoding quantises, finer than any interchange format does:
//! minutia coordinates to 1/4 pixel, minutia angles to 1/65536 of a turn, face
//! values to IEEE half precision (f16, relative error below 2^-11). Everything
//! else is exact. `decode(encode(r))` is the *canonical* form of `r`, and
//! encoding a canonical record gives the same bytes again, so stored records
//! can be compared byte for byte.
//!
//! # Layout (version 1, little-endian)
//! ```text
//! "HVR" version:u8
//! ref_len:u8 ref:[u8]
//! flags:u8 (bit 0: captured_at, bit 1: face)
//! [seconds:i64 nanos:i32]                      if captured_at
//! meta_count:u16 { key_len:u16 key value_len:u16 value }
//! missing_count:u8 { position:u8 reason:u8 }
//! finger_count:u8 { position:u8 width:u16 height:u16 dpi:u16 quality:u8
//!                   n:u8 { x_q:u16 y_q:u16 angle_q:u16 kind:u8 quality:u8 } }
//! [model_len:u16 model dim:u16 values:[f16; dim]]   if face
//! ```
//! The decoder checks every length against the bytes present before it
//! allocates, and rejects trailing bytes.

use std::collections::BTreeMap;

use half::f16;

use crate::{
    EnrollmentRecord, FaceTemplate, FingerPosition, FingerTemplate, Minutia, MinutiaKind,
    MissingFinger, MissingReason, ModelError, Result,
};

/// Version byte written by [`encode_record`].
pub const RECORD_FORMAT_VERSION: u8 = 1;
const MAGIC: &[u8; 3] = b"HVR";
const FORMAT: &str = "binary record";
const COORD_STEPS_PER_PX: f32 = 4.0;
const ANGLE_STEPS: f32 = 65_536.0;
const FLAG_CAPTURED_AT: u8 = 1;
const FLAG_FACE: u8 = 2;

/// Encodes a record. The record should have passed
/// [`EnrollmentRecord::validate`]; fields that do not fit the layout (a key
/// over 65,535 bytes, a face value beyond f16's range) are refused.
pub fn encode_record(record: &EnrollmentRecord) -> Result<Vec<u8>> {
    let minutiae: usize = record.fingers.iter().map(|f| f.minutiae.len()).sum();
    let face_len = record
        .face
        .as_ref()
        .map_or(0, |f| 4 + f.model.len() + 2 * f.values.len());
    let mut out = Vec::with_capacity(
        64 + record.reference_id.len() + 12 * record.fingers.len() + 8 * minutiae + face_len,
    );
    out.extend_from_slice(MAGIC);
    out.push(RECORD_FORMAT_VERSION);
    put_len_u8(&mut out, "reference_id", record.reference_id.as_bytes())?;
    let mut flags = 0;
    if record.captured_at.is_some() {
        flags |= FLAG_CAPTURED_AT;
    }
    if record.face.is_some() {
        flags |= FLAG_FACE;
    }
    out.push(flags);
    if let Some(ts) = record.captured_at {
        out.extend_from_slice(&ts.as_second().to_le_bytes());
        out.extend_from_slice(&ts.subsec_nanosecond().to_le_bytes());
    }
    put_count_u16(&mut out, "metadata", record.metadata.len())?;
    for (key, value) in &record.metadata {
        put_len_u16(&mut out, "metadata key", key.as_bytes())?;
        put_len_u16(&mut out, "metadata value", value.as_bytes())?;
    }
    put_count_u8(&mut out, "missing", record.missing.len())?;
    for marker in &record.missing {
        out.push(marker.position.code());
        out.push(reason_code(marker.reason));
    }
    put_count_u8(&mut out, "fingers", record.fingers.len())?;
    for finger in &record.fingers {
        out.push(finger.position.code());
        out.extend_from_slice(&finger.width_px.to_le_bytes());
        out.extend_from_slice(&finger.height_px.to_le_bytes());
        out.extend_from_slice(&finger.dpi.to_le_bytes());
        out.push(finger.quality);
        put_count_u8(&mut out, "minutiae", finger.minutiae.len())?;
        for m in &finger.minutiae {
            out.extend_from_slice(&quantise_coord(m.x_px, "minutia x_px")?.to_le_bytes());
            out.extend_from_slice(&quantise_coord(m.y_px, "minutia y_px")?.to_le_bytes());
            out.extend_from_slice(&quantise_angle(m.angle_rad)?.to_le_bytes());
            out.push(kind_code(m.kind));
            out.push(m.quality);
        }
    }
    if let Some(face) = &record.face {
        put_len_u16(&mut out, "face model", face.model.as_bytes())?;
        put_count_u16(&mut out, "face values", face.values.len())?;
        for &v in &face.values {
            let h = f16::from_f32(v);
            if !h.is_finite() {
                return Err(invalid("face value", 0, u64::from(v.to_bits())));
            }
            out.extend_from_slice(&h.to_bits().to_le_bytes());
        }
    }
    Ok(out)
}

/// Decodes a record written by [`encode_record`].
pub fn decode_record(bytes: &[u8]) -> Result<EnrollmentRecord> {
    let mut r = Reader { bytes, at: 0 };
    let magic = r.take(3)?;
    if magic != MAGIC {
        return Err(ModelError::BadMagic {
            format: FORMAT,
            found: magic.to_vec(),
        });
    }
    let version = r.u8()?;
    if version != RECORD_FORMAT_VERSION {
        return Err(ModelError::UnsupportedVersion {
            format: FORMAT,
            version: version.to_string(),
        });
    }
    let len = usize::from(r.u8()?);
    let reference_id = r.string(len, "reference_id")?;
    let flags_at = r.at;
    let flags = r.u8()?;
    if flags & !(FLAG_CAPTURED_AT | FLAG_FACE) != 0 {
        return Err(invalid("flags", flags_at, u64::from(flags)));
    }
    let captured_at = if flags & FLAG_CAPTURED_AT != 0 {
        let at = r.at;
        let seconds = i64::from_le_bytes(r.array()?);
        let nanos = i32::from_le_bytes(r.array()?);
        Some(
            jiff::Timestamp::new(seconds, nanos)
                .map_err(|_| invalid("captured_at", at, seconds as u64))?,
        )
    } else {
        None
    };
    let meta_count = usize::from(r.u16()?);
    let mut metadata = BTreeMap::new();
    for _ in 0..meta_count {
        let key_len = usize::from(r.u16()?);
        let key = r.string(key_len, "metadata key")?;
        let value_len = usize::from(r.u16()?);
        let value = r.string(value_len, "metadata value")?;
        metadata.insert(key, value);
    }
    let missing_count = usize::from(r.u8()?);
    r.ensure(missing_count * 2)?;
    let mut missing = Vec::with_capacity(missing_count);
    for _ in 0..missing_count {
        let position = r.position()?;
        let at = r.at;
        let reason = match r.u8()? {
            0 => MissingReason::Amputated,
            1 => MissingReason::Bandaged,
            2 => MissingReason::Damaged,
            other => return Err(invalid("missing reason", at, u64::from(other))),
        };
        missing.push(MissingFinger { position, reason });
    }
    let finger_count = usize::from(r.u8()?);
    r.ensure(finger_count * 10)?;
    let mut fingers = Vec::with_capacity(finger_count);
    for _ in 0..finger_count {
        let position = r.position()?;
        let width_px = r.u16()?;
        let height_px = r.u16()?;
        let dpi = r.u16()?;
        let quality = r.u8()?;
        let n = usize::from(r.u8()?);
        r.ensure(n * 8)?;
        let mut minutiae = Vec::with_capacity(n);
        for _ in 0..n {
            let x_px = f32::from(r.u16()?) / COORD_STEPS_PER_PX;
            let y_px = f32::from(r.u16()?) / COORD_STEPS_PER_PX;
            let angle_rad = f32::from(r.u16()?) / ANGLE_STEPS * std::f32::consts::TAU;
            let at = r.at;
            let kind = match r.u8()? {
                0 => MinutiaKind::Other,
                1 => MinutiaKind::Ending,
                2 => MinutiaKind::Bifurcation,
                other => return Err(invalid("minutia kind", at, u64::from(other))),
            };
            let quality = r.u8()?;
            minutiae.push(Minutia {
                x_px,
                y_px,
                angle_rad,
                kind,
                quality,
            });
        }
        fingers.push(FingerTemplate {
            position,
            width_px,
            height_px,
            dpi,
            quality,
            minutiae,
        });
    }
    let face = if flags & FLAG_FACE != 0 {
        let model_len = usize::from(r.u16()?);
        let model = r.string(model_len, "face model")?;
        let dim = usize::from(r.u16()?);
        let raw = r.take(dim * 2)?;
        let values = raw
            .chunks_exact(2)
            .map(|c| f16::from_bits(u16::from_le_bytes([c[0], c[1]])).to_f32())
            .collect();
        Some(FaceTemplate { model, dim, values })
    } else {
        None
    };
    if r.at != bytes.len() {
        return Err(ModelError::LengthMismatch {
            format: FORMAT,
            field: "record",
            declared: r.at,
            actual: bytes.len(),
        });
    }
    Ok(EnrollmentRecord {
        reference_id,
        fingers,
        missing,
        face,
        captured_at,
        metadata,
    })
}

/// The canonical form of a record: what a store gives back after storing it.
pub fn canonicalize(record: &EnrollmentRecord) -> Result<EnrollmentRecord> {
    decode_record(&encode_record(record)?)
}

fn quantise_coord(v: f32, field: &'static str) -> Result<u16> {
    let q = (v * COORD_STEPS_PER_PX).round();
    if !(0.0..=f32::from(u16::MAX)).contains(&q) {
        return Err(invalid(field, 0, u64::from(v.to_bits())));
    }
    Ok(q as u16)
}

fn quantise_angle(angle_rad: f32) -> Result<u16> {
    if !angle_rad.is_finite() {
        return Err(invalid(
            "minutia angle_rad",
            0,
            u64::from(angle_rad.to_bits()),
        ));
    }
    let turns = angle_rad.rem_euclid(std::f32::consts::TAU) / std::f32::consts::TAU;
    // Rounding up to a full turn wraps to zero.
    Ok(((turns * ANGLE_STEPS).round() as u32 % 65_536) as u16)
}

fn kind_code(kind: MinutiaKind) -> u8 {
    match kind {
        MinutiaKind::Other => 0,
        MinutiaKind::Ending => 1,
        MinutiaKind::Bifurcation => 2,
    }
}

fn reason_code(reason: MissingReason) -> u8 {
    match reason {
        MissingReason::Amputated => 0,
        MissingReason::Bandaged => 1,
        MissingReason::Damaged => 2,
    }
}

fn invalid(field: &'static str, offset: usize, value: u64) -> ModelError {
    ModelError::InvalidField {
        format: FORMAT,
        field,
        offset,
        value,
    }
}

fn put_count_u8(out: &mut Vec<u8>, field: &'static str, n: usize) -> Result<()> {
    let n = u8::try_from(n).map_err(|_| invalid(field, out.len(), n as u64))?;
    out.push(n);
    Ok(())
}

fn put_count_u16(out: &mut Vec<u8>, field: &'static str, n: usize) -> Result<()> {
    let n = u16::try_from(n).map_err(|_| invalid(field, out.len(), n as u64))?;
    out.extend_from_slice(&n.to_le_bytes());
    Ok(())
}

fn put_len_u8(out: &mut Vec<u8>, field: &'static str, bytes: &[u8]) -> Result<()> {
    put_count_u8(out, field, bytes.len())?;
    out.extend_from_slice(bytes);
    Ok(())
}

fn put_len_u16(out: &mut Vec<u8>, field: &'static str, bytes: &[u8]) -> Result<()> {
    put_count_u16(out, field, bytes.len())?;
    out.extend_from_slice(bytes);
    Ok(())
}

/// A cursor that checks every read against the bytes present.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn ensure(&self, needed: usize) -> Result<()> {
        let available = self.bytes.len() - self.at;
        if needed > available {
            return Err(ModelError::Truncated {
                format: FORMAT,
                offset: self.at,
                needed,
                available,
            });
        }
        Ok(())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        self.ensure(n)?;
        let slice = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    fn string(&mut self, len: usize, field: &'static str) -> Result<String> {
        let at = self.at;
        let raw = self.take(len)?;
        String::from_utf8(raw.to_vec()).map_err(|_| invalid(field, at, len as u64))
    }

    fn position(&mut self) -> Result<FingerPosition> {
        FingerPosition::from_code(self.u8()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> EnrollmentRecord {
        let finger = |position, n: usize| FingerTemplate {
            position,
            width_px: 400,
            height_px: 500,
            dpi: 500,
            quality: 77,
            minutiae: (0..n)
                .map(|i| {
                    let kind = if i % 2 == 0 {
                        MinutiaKind::Ending
                    } else {
                        MinutiaKind::Bifurcation
                    };
                    Minutia::new(
                        10.3 + i as f32 * 7.1,
                        20.9 + i as f32 * 9.3,
                        i as f32 * 0.37,
                        kind,
                        (i * 3 % 101) as u8,
                    )
                })
                .collect(),
        };
        let mut r = EnrollmentRecord::new(
            "person-42",
            vec![
                finger(FingerPosition::RightThumb, 40),
                finger(FingerPosition::LeftLittle, 3),
            ],
            Some(FaceTemplate::new(
                "arcface-r100",
                (0..512).map(|i| (i as f32 * 0.013).sin()).collect(),
            )),
        );
        r.captured_at = Some(jiff::Timestamp::new(1_764_000_000, 123_456_789).unwrap());
        r.metadata.insert("station".into(), "K-07".into());
        r.missing.push(MissingFinger {
            position: FingerPosition::RightRing,
            reason: MissingReason::Bandaged,
        });
        r
    }

    #[test]
    fn round_trip_keeps_everything_within_the_stated_precision() {
        let r = sample();
        let bytes = encode_record(&r).unwrap();
        let back = decode_record(&bytes).unwrap();
        assert_eq!(back.reference_id, r.reference_id);
        assert_eq!(back.captured_at, r.captured_at);
        assert_eq!(back.metadata, r.metadata);
        assert_eq!(back.missing, r.missing);
        assert_eq!(back.fingers.len(), 2);
        for (a, b) in r.fingers.iter().zip(&back.fingers) {
            assert_eq!(
                (a.position, a.width_px, a.height_px, a.dpi, a.quality),
                (b.position, b.width_px, b.height_px, b.dpi, b.quality)
            );
            for (m, n) in a.minutiae.iter().zip(&b.minutiae) {
                assert!((m.x_px - n.x_px).abs() <= 0.125 && (m.y_px - n.y_px).abs() <= 0.125);
                let d = (m.angle_rad - n.angle_rad).abs();
                assert!(d.min(std::f32::consts::TAU - d) <= std::f32::consts::TAU / 65_536.0);
                assert_eq!((m.kind, m.quality), (n.kind, n.quality));
            }
        }
        let (fa, fb) = (r.face.as_ref().unwrap(), back.face.as_ref().unwrap());
        assert_eq!(fb.dim, 512);
        for (x, y) in fa.values.iter().zip(&fb.values) {
            assert!((x - y).abs() <= x.abs() / 1024.0 + 1e-7);
        }
        // Canonical records re-encode to the same bytes.
        assert_eq!(encode_record(&back).unwrap(), bytes);
        back.validate(Some(512)).unwrap();
    }

    #[test]
    fn every_truncation_is_a_typed_error() {
        let bytes = encode_record(&sample()).unwrap();
        for cut in 0..bytes.len() {
            assert!(
                decode_record(&bytes[..cut]).is_err(),
                "decoded a record cut at {cut}"
            );
        }
    }

    #[test]
    fn wrong_magic_version_and_trailing_bytes_are_refused() {
        let mut bytes = encode_record(&sample()).unwrap();
        bytes.push(0);
        assert!(matches!(
            decode_record(&bytes),
            Err(ModelError::LengthMismatch { .. })
        ));
        bytes.pop();
        bytes[3] = 9;
        assert!(matches!(
            decode_record(&bytes),
            Err(ModelError::UnsupportedVersion { .. })
        ));
        bytes[0] = b'X';
        assert!(matches!(
            decode_record(&bytes),
            Err(ModelError::BadMagic { .. })
        ));
    }

    #[test]
    fn a_lying_minutiae_count_does_not_allocate_or_panic() {
        let mut r = sample();
        r.fingers.truncate(1);
        r.face = None;
        let mut bytes = encode_record(&r).unwrap();
        // Point the count at 255 minutiae while only 40 are present.
        let count_at = bytes.len() - 40 * 8 - 1;
        assert_eq!(bytes[count_at], 40);
        bytes[count_at] = 255;
        assert!(matches!(
            decode_record(&bytes),
            Err(ModelError::Truncated { .. })
        ));
    }

    proptest! {
        #[test]
        fn random_and_mutated_bytes_never_panic(
            noise in proptest::collection::vec(any::<u8>(), 0..600),
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        ) {
            let _ = decode_record(&noise);
            let mut bytes = encode_record(&sample()).unwrap();
            for (at, value) in flips {
                let i = at % bytes.len();
                bytes[i] = value;
            }
            if let Ok(record) = decode_record(&bytes) {
                // Whatever decodes re-encodes to something that decodes the same.
                if let Ok(again) = encode_record(&record) {
                    prop_assert_eq!(decode_record(&again).unwrap(), record);
                }
            }
        }
    }
}
