//! The one error type of the models crate.

use crate::FingerPosition;

/// Why a record, template or encoded byte string was rejected.
///
/// Each variant names the offending field or location so that a service can
/// report it to its caller without guessing.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("reference id is empty")]
    EmptyReferenceId,
    #[error("reference id is {len} bytes long; at most {max} allowed")]
    ReferenceIdTooLong { len: usize, max: usize },
    #[error("reference id contains a control character at byte {at}")]
    ReferenceIdControlChar { at: usize },
    #[error("reference id contains an invisible format character U+{code_point:04X} at byte {at}")]
    ReferenceIdFormatChar { at: usize, code_point: u32 },
    #[error("reference id starts or ends with a space")]
    ReferenceIdSpace,
    #[error("reference id is not in Unicode normal form C")]
    ReferenceIdNotNfc,
    #[error("record holds neither fingers nor a face")]
    EmptyRecord,
    #[error("record holds {count} fingers; at most {max} allowed")]
    TooManyFingers { count: usize, max: usize },
    #[error("finger position {position} appears more than once")]
    DuplicateFingerPosition { position: FingerPosition },
    #[error("finger position {position} is both captured and marked missing")]
    MissingAndCaptured { position: FingerPosition },
    #[error("finger position code {code} is not an ISO/IEC 19794 code (0..=10)")]
    InvalidFingerPosition { code: u8 },
    #[error("finger {position}: image size {width_px}x{height_px} is empty")]
    EmptyImage {
        position: FingerPosition,
        width_px: u16,
        height_px: u16,
    },
    #[error("finger {position}: image size {width_px}x{height_px} exceeds {max_px} px per side")]
    ImageTooLarge {
        position: FingerPosition,
        width_px: u16,
        height_px: u16,
        max_px: u16,
    },
    #[error("finger {position}: resolution {dpi} dpi is out of range ({min}..={max})")]
    ResolutionOutOfRange {
        position: FingerPosition,
        dpi: u16,
        min: u16,
        max: u16,
    },
    #[error(
        "finger {position}: minutia {index} at ({x_px}, {y_px}) lies outside the {width_px}x{height_px} image"
    )]
    MinutiaOutsideImage {
        position: FingerPosition,
        index: usize,
        x_px: f32,
        y_px: f32,
        width_px: u16,
        height_px: u16,
    },
    #[error("{field} is not a finite number")]
    NonFinite { field: String },
    #[error("{field} = {value} is above the maximum {max}")]
    QualityOutOfRange { field: String, value: u8, max: u8 },
    #[error("face template declares dimension {declared} but holds {got} values")]
    FaceDimensionInconsistent { declared: usize, got: usize },
    #[error("face template has dimension {got}; the gallery expects {expected}")]
    FaceDimensionMismatch { expected: usize, got: usize },
    #[error("face template is the zero vector")]
    FaceZeroVector,
    #[error("face template dimension {got} is out of range (1..={max})")]
    FaceDimensionOutOfRange { got: usize, max: usize },
    #[error("face model name is {len} bytes long; it must be 1..={max}")]
    FaceModelName { len: usize, max: usize },
    #[error("face value {index} is {value}; stored values lie within -{max}..={max}")]
    FaceValueOutOfRange { index: usize, value: f32, max: f32 },
    #[error("{field} is {len} long; at most {max}")]
    MetadataTooLarge {
        /// `metadata` (the number of entries, or a key's length in bytes),
        /// or `metadata.KEY` (that value's length in bytes).
        field: String,
        len: usize,
        max: usize,
    },
    #[error("{format}: needs {needed} bytes at offset {offset}, only {available} left")]
    Truncated {
        format: &'static str,
        offset: usize,
        needed: usize,
        available: usize,
    },
    #[error("{format}: wrong magic {found:02x?}")]
    BadMagic {
        format: &'static str,
        found: Vec<u8>,
    },
    #[error("{format}: unsupported version {version:?}")]
    UnsupportedVersion {
        format: &'static str,
        version: String,
    },
    #[error("{format}: {field} declares {declared} bytes but {actual} are present")]
    LengthMismatch {
        format: &'static str,
        field: &'static str,
        declared: usize,
        actual: usize,
    },
    #[error("{format}: field {field} at offset {offset} holds invalid value {value}")]
    InvalidField {
        format: &'static str,
        field: &'static str,
        offset: usize,
        value: u64,
    },
    #[error("{format}: finger position {position} has view number {view} more than once")]
    DuplicateView {
        format: &'static str,
        position: FingerPosition,
        view: u8,
    },
    #[error("{format}: finger position {position} has more than {max} views")]
    TooManyViews {
        format: &'static str,
        position: FingerPosition,
        max: usize,
    },
    #[error(
        "{format}: finger {index} has a different image size or resolution than finger 0, \
         but the record stores one for all"
    )]
    MixedImageGeometry { format: &'static str, index: usize },
    #[error("{format}: no finger to encode or decode")]
    NoFingers { format: &'static str },
    #[error("template JSON is invalid: {reason}")]
    InvalidJson { reason: String },
    #[error("template data is neither an FMR record nor JSON: starts with {found:02x?}")]
    UnknownTemplateFormat { found: Vec<u8> },
    #[error("finger {position}: ridge map: {reason}")]
    InvalidRidgeMap {
        position: FingerPosition,
        reason: String,
    },
    #[error("finger {position}: {count} minutiae; at most {max} allowed")]
    TooManyMinutiae {
        position: FingerPosition,
        count: usize,
        max: usize,
    },
}

/// Result alias of the models crate.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
