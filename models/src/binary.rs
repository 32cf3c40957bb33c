//! Compact, versioned binary encoding of an [`EnrollmentRecord`]: the form in
//! which galleries and population files store records.
//!
//! # Stored precision
//! The encoding quantises, finer than the interchange formats do (ISO/IEC
//! 19794-2 keeps whole pixels and 1/256 of a turn): minutia coordinates to
//! 1/2 pixel, minutia angles to 1/512 of a turn, face values to IEEE half
//! precision (f16, relative error below 2^-11). Everything else is exact.
//! `decode(encode(r))` is the *canonical* form of `r`, and encoding a
//! canonical record gives the same bytes again, so stored records can be
//! compared byte for byte.
//!
//! # Layout (version 2, little-endian)
//! ```text
//! "HVR" version:u8
//! ref_len:u8 ref:[u8]
//! flags:u8 (bit 0: captured_at, bit 1: face)
//! [seconds:i64 nanos:i32]                      if captured_at
//! meta_count:u16 { key_len:u16 key value_len:u16 value }
//! missing_count:u8 { position:u8 reason:u8 }
//! finger_count:u8 { position:u8 width:u16 height:u16 dpi:u16 quality:u8
//!                   n:u8 { minutia:u48 } }
//! [model_len:u16 model dim:u16 values:[f16; dim]]   if face
//! ```
//! A minutia is one 48-bit little-endian word: x in half pixels (bits 0-14),
//! y in half pixels (15-29), angle in 1/512 turns (30-38), kind (39-40),
//! quality (41-47). Six bytes a minutia keeps a ten-print record of ~40
//! minutiae a finger near 2.5 KB, which the gallery's per-identity budget
//! needs.
//!
//! Version 3 is version 2 with one more field per finger, after its
//! minutiae: `has_map:u8` (0 or 1), then if 1 `cell_px:u8 cols:u16 rows:u16
//! cells:[u8; cols * rows]`, the finger's [`RidgeMap`]. It is written only
//! when some finger has a ridge map, so minutiae-only records keep the
//! version 2 bytes.
//!
//! Version 1 (still decoded, never written) stored a minutia in eight bytes:
//! `x_q:u16 y_q:u16` in quarter pixels, `angle_q:u16` in 1/65536 turns,
//! `kind:u8 quality:u8`.
//!
//! The decoder checks every length against the bytes present before it
//! allocates, and rejects trailing bytes.

use std::collections::BTreeMap;

use half::f16;

use crate::{
    EnrollmentRecord, FaceTemplate, FingerPosition, FingerTemplate, Minutia, MinutiaKind,
    MissingFinger, MissingReason, ModelError, Result, RidgeMap,
};

/// Version byte written by [`encode_record`] for a record with a ridge map.
pub const RECORD_FORMAT_VERSION: u8 = 3;
/// Version byte written for a record without ridge maps (the version 3
/// layout without the map fields).
const RECORD_FORMAT_V2: u8 = 2;
/// The older layout [`decode_record`] still reads.
const RECORD_FORMAT_V1: u8 = 1;
const MAGIC: &[u8; 3] = b"HVR";
const FORMAT: &str = "binary record";
const COORD_STEPS_PER_PX: f32 = 2.0;
const COORD_BITS: u32 = 15;
const ANGLE_BITS: u32 = 9;
const ANGLE_STEPS: f32 = (1u32 << ANGLE_BITS) as f32;
const MINUTIA_BYTES: usize = 6;
const V1_COORD_STEPS_PER_PX: f32 = 4.0;
const V1_ANGLE_STEPS: f32 = 65_536.0;
const V1_MINUTIA_BYTES: usize = 8;
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
        64 + record.reference_id.len()
            + 12 * record.fingers.len()
            + MINUTIA_BYTES * minutiae
            + face_len,
    );
    let with_maps = record.fingers.iter().any(|f| f.ridge_map.is_some());
    out.extend_from_slice(MAGIC);
    out.push(if with_maps {
        RECORD_FORMAT_VERSION
    } else {
        RECORD_FORMAT_V2
    });
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
        let side = (finger.width_px, finger.height_px);
        for m in &finger.minutiae {
            let word = pack_minutia(m, side)?;
            out.extend_from_slice(&word.to_le_bytes()[..MINUTIA_BYTES]);
        }
        if with_maps {
            match &finger.ridge_map {
                Some(map) => {
                    map.validate(finger.position, finger.width_px, finger.height_px)?;
                    out.push(1);
                    out.push(map.cell_px);
                    out.extend_from_slice(&map.cols.to_le_bytes());
                    out.extend_from_slice(&map.rows.to_le_bytes());
                    out.extend_from_slice(&map.cells);
                }
                None => out.push(0),
            }
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
    decode(bytes, true)
}

/// The face of an encoded record, without decoding its minutiae (what a
/// face rescoring pass over stored records wants): each finger's header
/// (position, size, resolution, quality, count) is read and checked as
/// [`decode_record`] does, its minutiae only skipped, so a record damaged
/// only inside minutiae still gives its face. Everything else is checked
/// as [`decode_record`] does.
pub fn decode_face(bytes: &[u8]) -> Result<Option<FaceTemplate>> {
    Ok(decode(bytes, false)?.face)
}

/// Decodes a record; without `want_fingers` its fingers are skipped and
/// the result has none.
fn decode(bytes: &[u8], want_fingers: bool) -> Result<EnrollmentRecord> {
    let mut r = Reader { bytes, at: 0 };
    let magic = r.take(3)?;
    if magic != MAGIC {
        return Err(ModelError::BadMagic {
            format: FORMAT,
            found: magic.to_vec(),
        });
    }
    let version = r.u8()?;
    if ![RECORD_FORMAT_V1, RECORD_FORMAT_V2, RECORD_FORMAT_VERSION].contains(&version) {
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
    // Checked before allocating: a finger takes at least its header
    // (position, size, resolution, quality, count: 9 bytes), and in version
    // 3 its ridge-map flag; a finger may hold no minutiae.
    let least_finger_bytes = if version == RECORD_FORMAT_VERSION {
        10
    } else {
        9
    };
    r.ensure(finger_count * least_finger_bytes)?;
    let mut fingers = Vec::with_capacity(finger_count);
    for _ in 0..finger_count {
        let position = r.position()?;
        let width_px = r.u16()?;
        let height_px = r.u16()?;
        let dpi = r.u16()?;
        let quality = r.u8()?;
        let n = usize::from(r.u8()?);
        let minutia_bytes = if version == RECORD_FORMAT_V1 {
            V1_MINUTIA_BYTES
        } else {
            MINUTIA_BYTES
        };
        r.ensure(n * minutia_bytes)?;
        if !want_fingers {
            r.take(n * minutia_bytes)?;
            if version == RECORD_FORMAT_VERSION {
                ridge_map_field(&mut r)?;
            }
            continue;
        }
        let mut minutiae = Vec::with_capacity(n);
        for _ in 0..n {
            let at = r.at;
            let m = if version == RECORD_FORMAT_V1 {
                unpack_minutia_v1(r.array()?, at)?
            } else {
                let mut word = [0u8; 8];
                word[..MINUTIA_BYTES].copy_from_slice(r.take(MINUTIA_BYTES)?);
                let m = unpack_minutia(u64::from_le_bytes(word), at)?;
                // The encoder keeps minutiae inside the image; one outside
                // is damage, not a record.
                if m.x_px >= f32::from(width_px) || m.y_px >= f32::from(height_px) {
                    return Err(invalid("minutia position", at, u64::from(m.x_px.to_bits())));
                }
                m
            };
            minutiae.push(m);
        }
        let ridge_map = if version == RECORD_FORMAT_VERSION {
            read_ridge_map(&mut r, position, width_px, height_px)?
        } else {
            None
        };
        fingers.push(FingerTemplate {
            position,
            width_px,
            height_px,
            dpi,
            quality,
            minutiae,
            ridge_map,
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

/// Reads a version 3 finger's map field; the map must fit the image.
fn read_ridge_map(
    r: &mut Reader<'_>,
    position: FingerPosition,
    width_px: u16,
    height_px: u16,
) -> Result<Option<RidgeMap>> {
    let Some(field) = ridge_map_field(r)? else {
        return Ok(None);
    };
    let map = RidgeMap {
        cell_px: field.cell_px,
        cols: field.cols,
        rows: field.rows,
        cells: field.cells.to_vec(),
    };
    map.validate(position, width_px, height_px)?;
    Ok(Some(map))
}

/// A version 3 map field as stored, its cells borrowed.
struct RidgeMapField<'a> {
    cell_px: u8,
    cols: u16,
    rows: u16,
    cells: &'a [u8],
}

/// Reads a finger's map field without copying or checking the cells: all
/// that skipping a finger needs.
fn ridge_map_field<'a>(r: &mut Reader<'a>) -> Result<Option<RidgeMapField<'a>>> {
    let at = r.at;
    match r.u8()? {
        0 => Ok(None),
        1 => {
            let cell_px = r.u8()?;
            let cols = r.u16()?;
            let rows = r.u16()?;
            let cells = r.take(usize::from(cols) * usize::from(rows))?;
            Ok(Some(RidgeMapField {
                cell_px,
                cols,
                rows,
                cells,
            }))
        }
        other => Err(invalid("has_map", at, u64::from(other))),
    }
}

/// The canonical form of a record: what a store gives back after storing it.
pub fn canonicalize(record: &EnrollmentRecord) -> Result<EnrollmentRecord> {
    decode_record(&encode_record(record)?)
}

/// Packs one minutia into the low 48 bits of a word (see the module docs).
fn pack_minutia(m: &Minutia, (width_px, height_px): (u16, u16)) -> Result<u64> {
    let x = quantise_coord(m.x_px, width_px, "minutia x_px")?;
    let y = quantise_coord(m.y_px, height_px, "minutia y_px")?;
    let angle = quantise_angle(m.angle_rad)?;
    if m.quality > 127 {
        return Err(invalid("minutia quality", 0, u64::from(m.quality)));
    }
    Ok(x | y << COORD_BITS
        | angle << (2 * COORD_BITS)
        | u64::from(kind_code(m.kind)) << (2 * COORD_BITS + ANGLE_BITS)
        | u64::from(m.quality) << (2 * COORD_BITS + ANGLE_BITS + 2))
}

fn unpack_minutia(word: u64, at: usize) -> Result<Minutia> {
    let field = |shift: u32, bits: u32| (word >> shift) & ((1u64 << bits) - 1);
    let kind_shift = 2 * COORD_BITS + ANGLE_BITS;
    Ok(Minutia {
        x_px: field(0, COORD_BITS) as f32 / COORD_STEPS_PER_PX,
        y_px: field(COORD_BITS, COORD_BITS) as f32 / COORD_STEPS_PER_PX,
        angle_rad: field(2 * COORD_BITS, ANGLE_BITS) as f32 / ANGLE_STEPS * std::f32::consts::TAU,
        kind: kind_from_code(field(kind_shift, 2) as u8, at)?,
        quality: field(kind_shift + 2, 7) as u8,
    })
}

fn unpack_minutia_v1(b: [u8; V1_MINUTIA_BYTES], at: usize) -> Result<Minutia> {
    let u16_at = |i: usize| f32::from(u16::from_le_bytes([b[i], b[i + 1]]));
    Ok(Minutia {
        x_px: u16_at(0) / V1_COORD_STEPS_PER_PX,
        y_px: u16_at(2) / V1_COORD_STEPS_PER_PX,
        angle_rad: u16_at(4) / V1_ANGLE_STEPS * std::f32::consts::TAU,
        kind: kind_from_code(b[6], at + 6)?,
        quality: b[7],
    })
}

/// Quantises a coordinate inside an image side of `side_px` pixels; a value
/// that would round onto the far edge stays half a pixel inside it, so the
/// canonical record still places the minutia in the image.
fn quantise_coord(v: f32, side_px: u16, field: &'static str) -> Result<u64> {
    let q = (v * COORD_STEPS_PER_PX).round();
    if !(0.0..(1u32 << COORD_BITS) as f32).contains(&q) {
        return Err(invalid(field, 0, u64::from(v.to_bits())));
    }
    let last = (u64::from(side_px) * COORD_STEPS_PER_PX as u64).saturating_sub(1);
    Ok((q as u64).min(last))
}

fn quantise_angle(angle_rad: f32) -> Result<u64> {
    if !angle_rad.is_finite() {
        return Err(invalid(
            "minutia angle_rad",
            0,
            u64::from(angle_rad.to_bits()),
        ));
    }
    let turns = angle_rad.rem_euclid(std::f32::consts::TAU) / std::f32::consts::TAU;
    // Rounding up to a full turn wraps to zero.
    Ok((turns * ANGLE_STEPS).round() as u64 % (1u64 << ANGLE_BITS))
}

fn kind_from_code(code: u8, at: usize) -> Result<MinutiaKind> {
    match code {
        0 => Ok(MinutiaKind::Other),
        1 => Ok(MinutiaKind::Ending),
        2 => Ok(MinutiaKind::Bifurcation),
        other => Err(invalid("minutia kind", at, u64::from(other))),
    }
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
            ridge_map: None,
        };
        // The thumb comes from an image (it has a ridge map), the little
        // finger from a minutiae-only record.
        let mut thumb = finger(FingerPosition::RightThumb, 40);
        thumb.ridge_map = Some(RidgeMap {
            cell_px: 16,
            cols: 25,
            rows: 32,
            cells: (0..25 * 32)
                .map(|i| {
                    if i % 7 == 0 {
                        0xFF
                    } else {
                        (i % 239) as u8 & 0xFE
                    }
                })
                .collect(),
        });
        let mut r = EnrollmentRecord::new(
            "person-42",
            vec![thumb, finger(FingerPosition::LeftLittle, 3)],
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

    /// A captured finger may hold no minutiae (the extractor found none);
    /// such a record decodes as it was encoded, even when its fingers'
    /// headers are all it holds.
    #[test]
    fn fingers_without_minutiae_round_trip() {
        let empty = |position| FingerTemplate {
            position,
            width_px: 300,
            height_px: 400,
            dpi: 500,
            quality: 0,
            minutiae: Vec::new(),
            ridge_map: None,
        };
        for fingers in [
            vec![empty(FingerPosition::RightIndex)],
            vec![
                empty(FingerPosition::RightIndex),
                empty(FingerPosition::LeftIndex),
            ],
        ] {
            let r = EnrollmentRecord::new("z", fingers, None);
            let back = decode_record(&encode_record(&r).unwrap()).unwrap();
            assert_eq!(back.fingers, r.fingers);
        }
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
            assert_eq!(a.ridge_map, b.ridge_map);
            for (m, n) in a.minutiae.iter().zip(&b.minutiae) {
                assert!((m.x_px - n.x_px).abs() <= 0.25 && (m.y_px - n.y_px).abs() <= 0.25);
                let d = (m.angle_rad - n.angle_rad).abs();
                assert!(d.min(std::f32::consts::TAU - d) <= std::f32::consts::TAU / 1024.0);
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
    fn the_face_alone_decodes_as_in_the_whole_record() {
        let bytes = encode_record(&sample()).unwrap();
        assert_eq!(
            decode_face(&bytes).unwrap(),
            decode_record(&bytes).unwrap().face
        );
        let mut no_face = sample();
        no_face.face = None;
        assert_eq!(
            decode_face(&encode_record(&no_face).unwrap()).unwrap(),
            None
        );
        for cut in 0..bytes.len() {
            assert!(decode_face(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }

    /// Records without ridge maps keep the version 2 bytes, which every
    /// earlier release reads; a map makes the record version 3.
    #[test]
    fn only_a_ridge_map_changes_the_version() {
        let mut r = sample();
        assert_eq!(encode_record(&r).unwrap()[3], RECORD_FORMAT_VERSION);
        r.fingers[0].ridge_map = None;
        let bytes = encode_record(&r).unwrap();
        assert_eq!(bytes[3], RECORD_FORMAT_V2);
        assert_eq!(decode_record(&bytes).unwrap().fingers[0].ridge_map, None);
    }

    #[test]
    fn a_ridge_map_that_does_not_fit_its_image_is_refused() {
        let mut r = sample();
        let bytes = encode_record(&r).unwrap();
        // The thumb's map is its only one; its `cols` follows `has_map` and
        // `cell_px`, right after the 40 minutiae.
        let at = bytes
            .windows(5)
            .position(|w| w == [1, 16, 25, 0, 32])
            .unwrap();
        let mut damaged = bytes.clone();
        damaged[at + 2] = 24;
        assert!(matches!(
            decode_record(&damaged),
            Err(ModelError::InvalidRidgeMap { .. })
        ));
        r.fingers[0].ridge_map.as_mut().unwrap().cells.pop();
        assert!(matches!(
            encode_record(&r),
            Err(ModelError::InvalidRidgeMap { .. })
        ));
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
        r.fingers[0].ridge_map = None;
        r.face = None;
        let mut bytes = encode_record(&r).unwrap();
        // Point the count at 255 minutiae while only 40 are present.
        let count_at = bytes.len() - 40 * MINUTIA_BYTES - 1;
        assert_eq!(bytes[count_at], 40);
        bytes[count_at] = 255;
        assert!(matches!(
            decode_record(&bytes),
            Err(ModelError::Truncated { .. })
        ));
    }

    #[test]
    fn a_ten_print_record_of_forty_minutiae_stays_small() {
        let mut r = sample();
        r.fingers = FingerPosition::TEN
            .iter()
            .map(|&p| {
                let mut f = r.fingers[0].clone();
                f.position = p;
                f.ridge_map = None;
                f
            })
            .collect();
        r.face = None;
        let bytes = encode_record(&r).unwrap();
        // 10 x (10 header + 40 x 6) plus the record's own header.
        assert!(bytes.len() <= 2_600, "{} bytes", bytes.len());
    }

    /// A version-1 record written by hand: one finger of two minutiae.
    fn v1_bytes() -> Vec<u8> {
        let mut b = b"HVR\x01".to_vec();
        b.push(2);
        b.extend_from_slice(b"p1");
        b.push(0); // flags
        b.extend_from_slice(&0u16.to_le_bytes()); // metadata
        b.push(0); // missing
        b.push(1); // fingers
        b.push(2); // right index
        for v in [400u16, 500, 500] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.push(80);
        b.push(2);
        // (10.25, 20.5) at a quarter turn, ending, quality 60.
        for v in [41u16, 82, 16_384] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&[1, 60]);
        // (399.75, 0) at angle 0, bifurcation, quality 100.
        for v in [1_599u16, 0, 0] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&[2, 100]);
        b
    }

    #[test]
    fn version_one_records_still_decode() {
        let r = decode_record(&v1_bytes()).unwrap();
        assert_eq!(r.reference_id, "p1");
        let f = &r.fingers[0];
        assert_eq!(
            (f.position, f.width_px, f.height_px, f.dpi),
            (FingerPosition::RightIndex, 400, 500, 500)
        );
        let m = &f.minutiae;
        assert_eq!(
            (m[0].x_px, m[0].y_px, m[0].kind, m[0].quality),
            (10.25, 20.5, MinutiaKind::Ending, 60)
        );
        assert!((m[0].angle_rad - std::f32::consts::FRAC_PI_2).abs() < 1e-6);
        assert_eq!(
            (m[1].x_px, m[1].kind, m[1].quality),
            (399.75, MinutiaKind::Bifurcation, 100)
        );
        // Re-encoding writes the current version, within its precision.
        let again = decode_record(&encode_record(&r).unwrap()).unwrap();
        assert!((again.fingers[0].minutiae[1].x_px - 399.75).abs() <= 0.25);
        let cut = v1_bytes();
        for n in 0..cut.len() {
            assert!(decode_record(&cut[..n]).is_err());
        }
        // The face reader skips version-1 minutiae at their own size.
        let mut with_face = v1_bytes();
        with_face[7] = FLAG_FACE; // the flags byte after "HVR", version, "p1"
        with_face.extend_from_slice(&1u16.to_le_bytes());
        with_face.push(b'm');
        with_face.extend_from_slice(&2u16.to_le_bytes());
        for v in [0.5f32, -1.0] {
            with_face.extend_from_slice(&f16::from_f32(v).to_bits().to_le_bytes());
        }
        let face = decode_face(&with_face).unwrap().unwrap();
        assert_eq!(
            (face.model.as_str(), face.values.as_slice()),
            ("m", &[0.5, -1.0][..])
        );
        assert_eq!(decode_record(&with_face).unwrap().face, Some(face));
    }

    #[test]
    fn the_largest_coordinates_and_qualities_round_trip() {
        let mut r = sample();
        r.fingers.truncate(1);
        let f = &mut r.fingers[0];
        f.ridge_map = None;
        f.width_px = crate::finger::MAX_IMAGE_SIDE_PX;
        f.height_px = crate::finger::MAX_IMAGE_SIDE_PX;
        f.minutiae[0] = Minutia::new(16_382.9, 16_382.6, 6.2825, MinutiaKind::Other, 100);
        r.validate(Some(512)).unwrap();
        let back = decode_record(&encode_record(&r).unwrap()).unwrap();
        let m = back.fingers[0].minutiae[0];
        // Rounding would put x on the far edge; it stays inside the image.
        assert_eq!(
            (m.x_px, m.y_px, m.kind, m.quality),
            (16_382.5, 16_382.5, MinutiaKind::Other, 100)
        );
        assert_eq!(m.angle_rad, 0.0);
        back.validate(Some(512)).unwrap();
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
