//! The one error type of the engine crate.

use std::path::PathBuf;

use hoviyat_models::{FingerPosition, ModelError};

/// The kinds of file a gallery directory holds, named in file errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GalleryFileKind {
    /// `manifest.hvm`: the list of segments, row flags and the current log.
    Manifest,
    /// `seg-*.hvs`: an immutable, memory-mapped segment of rows.
    Segment,
    /// `wal-*.hvl`: the write-ahead log of acknowledged operations.
    Wal,
}

impl std::fmt::Display for GalleryFileKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Manifest => "manifest",
            Self::Segment => "segment",
            Self::Wal => "write-ahead log",
        })
    }
}

/// Why an engine operation failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The input record or template is invalid.
    #[error(transparent)]
    Model(#[from] ModelError),

    // --- gallery store: files ---
    /// Reading or writing a gallery file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file the gallery needs is not there.
    #[error("{}: {kind} file is missing", path.display())]
    MissingFile {
        path: PathBuf,
        kind: GalleryFileKind,
    },
    /// A file does not start with the magic of its kind.
    #[error("{}: not a gallery {kind} file (magic {found:02x?})", path.display())]
    BadMagic {
        path: PathBuf,
        kind: GalleryFileKind,
        found: Vec<u8>,
    },
    /// A file was written by a format version this build does not read.
    #[error("{}: {kind} format version {found} is not supported (this build reads {supported})", path.display())]
    UnsupportedFormatVersion {
        path: PathBuf,
        kind: GalleryFileKind,
        found: u32,
        supported: u32,
    },
    /// A file ends before a structure it declares.
    #[error("{}: truncated {kind} file: {what} needs {needed} bytes at offset {offset}, the file holds {available}", path.display())]
    TruncatedFile {
        path: PathBuf,
        kind: GalleryFileKind,
        what: &'static str,
        offset: u64,
        needed: u64,
        available: u64,
    },
    /// A checksum or a structural check failed: the file was altered.
    #[error("{}: corrupt {kind} file: bad {what} at offset {offset}", path.display())]
    CorruptFile {
        path: PathBuf,
        kind: GalleryFileKind,
        what: &'static str,
        offset: u64,
    },

    // --- gallery store: usage ---
    /// `Gallery::create` was pointed at a directory that already holds one.
    #[error("{}: already holds a gallery", path.display())]
    GalleryExists { path: PathBuf },
    /// Another process has the gallery open for writing.
    #[error("{}: gallery is open for writing by another process", path.display())]
    GalleryLocked { path: PathBuf },
    /// A write was attempted on a gallery opened read-only.
    #[error("gallery was opened read-only")]
    ReadOnlyGallery,
    /// An earlier I/O failure left the log in an unknown state; reopen.
    #[error("gallery stopped accepting writes after an I/O error; reopen it")]
    GalleryPoisoned,
    /// An enrollment's stored state cannot be decoded: the gallery is
    /// damaged (never answered as "not enrolled").
    #[error("the stored state of {reference_id:?} cannot be read: {reason}")]
    CorruptState {
        reference_id: String,
        reason: String,
    },
    /// The decision log (the service's audit log) refused a decision, so it
    /// was not stored.
    #[error("the decision could not be recorded, so it was not stored: {source}")]
    DecisionNotRecorded {
        #[source]
        source: crate::abis::DecisionLogError,
    },
    /// An insert names a reference id the gallery already holds (or held).
    #[error("reference id {reference_id:?} is already in the gallery")]
    DuplicateReference { reference_id: String },
    /// An operation names a reference id the gallery never held.
    #[error("reference id {reference_id:?} is not in the gallery")]
    UnknownReference { reference_id: String },
    /// A stored enrollment has no finger at the position asked for.
    #[error("enrollment {reference_id:?} holds no finger at position {position}")]
    UnknownFinger {
        reference_id: String,
        position: hoviyat_models::FingerPosition,
    },
    /// An operation needs a live row but the reference was deleted.
    #[error("reference id {reference_id:?} has been deleted")]
    DeletedReference { reference_id: String },
    /// The record bytes of a prepared record carry another reference id.
    #[error("record bytes carry reference id {found:?}, the row says {expected:?}")]
    ReferenceIdMismatch { expected: String, found: String },
    /// A face code does not fit the gallery's face dimension.
    #[error("face code has {got} values; the gallery's face dimension is {expected:?}")]
    FaceCodeDimension { expected: Option<usize>, got: usize },
    /// A face code's auxiliary values are NaN or infinite.
    #[error("face code aux values must be finite")]
    NonFiniteFaceAux,
    /// A finger blob is empty or too long.
    #[error("finger blob at position {position}: {len} bytes, must be 1..={max}")]
    FingerBlobSize {
        position: FingerPosition,
        len: usize,
        max: usize,
    },
    /// Two finger blobs of one row share a position.
    #[error("finger blob position {position} appears twice in one row")]
    DuplicateFingerBlob { position: FingerPosition },
    /// A screening code at an unknown position, or two at one position.
    #[error("screening code at position {position}: one per known finger position")]
    ScreenSlot { position: FingerPosition },
    /// A per-reference state blob is too long.
    #[error("state blob is {len} bytes; at most {max} allowed")]
    StateTooLarge { len: usize, max: usize },
    /// A bulk import stopped on a gallery error.
    #[error("import stopped at line {line} after storing {stored} records: {source}")]
    ImportAborted {
        stored: u64,
        line: u64,
        #[source]
        source: Box<EngineError>,
    },

    // Dedup facade.
    /// An enrollment with this reference id exists and holds another record.
    #[error("reference id {reference_id:?} is already enrolled with a different record")]
    ReferenceExists { reference_id: String },
    /// An adjudication names an enrollment that is not held for one.
    #[error("enrollment {reference_id:?} is {status:?}, not held for adjudication")]
    NotHeld {
        reference_id: String,
        status: crate::abis::Status,
    },
    /// An enrollment state could not be serialised.
    #[error("enrollment state could not be encoded: {reason}")]
    StateEncoding { reason: String },
    /// A stored finger blob is damaged.
    #[error("stored finger blob is damaged: {what}")]
    BadFingerBlob { what: &'static str },

    // Face search.
    #[error("face gallery mean has {got} values; the gallery dimension is {expected}")]
    FaceMeanLength { expected: usize, got: usize },
    #[error("face template equals the gallery mean: it has no direction to compare")]
    FaceEqualsMean,
    #[error("face segment {segment}: {codes} code bytes for {rows} rows of dimension {dim}")]
    FaceRowsInconsistent {
        segment: usize,
        codes: usize,
        rows: usize,
        dim: usize,
    },
    #[error("face segment {segment} starts before the previous one ends")]
    FaceSegmentsOverlap { segment: usize },
    #[error("face row {row} is not in the gallery")]
    FaceRowOutOfRange { row: u64 },
    #[error("face row {row} has a code but no stored template to rescore")]
    FaceVectorMissing { row: u64 },
    #[error("face search threshold {threshold} is not a finite number")]
    FaceThresholdNotFinite { threshold: f32 },
    /// A finger gallery blob is shorter than its fixed header and checksum.
    #[error("finger gallery blob: needs at least {needed} bytes, got {available}")]
    GalleryTruncated { needed: usize, available: usize },
    /// A finger gallery blob has a version this build does not read.
    #[error("finger gallery blob: unsupported version {version}")]
    GalleryVersion { version: u8 },
    /// A finger gallery blob's length disagrees with its minutia count.
    #[error("finger gallery blob: expected {expected} bytes, got {actual}")]
    GalleryLength { expected: usize, actual: usize },
    /// A finger gallery blob's checksum does not match its contents.
    #[error("finger gallery blob: checksum {stored:08x} stored, {computed:08x} computed")]
    GalleryChecksum { stored: u32, computed: u32 },
    /// A finger gallery blob holds a value out of range.
    #[error("finger gallery blob: {field} {value} is out of range")]
    GalleryField { field: &'static str, value: u64 },
    /// A calibration table is unusable (too few scores, not increasing).
    #[error("finger score calibration: {reason}")]
    Calibration { reason: &'static str },

    // --- extraction ---
    /// The bytes are not an image in a supported format (PNG, TIFF, BMP, JPEG).
    #[error("image format not recognised (supported: PNG, TIFF, BMP, JPEG)")]
    ImageFormatUnknown,
    /// The image header declares a size above the caller's limits; nothing
    /// was decoded.
    #[error(
        "image is {width_px}x{height_px} px; at most {max_width_px}x{max_height_px} px accepted"
    )]
    ImageTooLarge {
        width_px: u32,
        height_px: u32,
        max_width_px: u32,
        max_height_px: u32,
    },
    /// Decoding the image would need more memory than the caller allows.
    #[error("image of {width_px}x{height_px} px needs more than the {max_bytes} bytes allowed")]
    ImageTooManyBytes {
        width_px: u32,
        height_px: u32,
        max_bytes: u64,
    },
    /// The image is corrupt or truncated.
    #[error("image could not be decoded: {source}")]
    ImageDecode {
        #[source]
        source: image::ImageError,
    },
    /// The scan resolution is outside what the extractor accepts.
    #[error("resolution {dpi} dpi is out of range ({min}..={max})")]
    ResolutionOutOfRange { dpi: u16, min: u16, max: u16 },

    /// Failure to extract: the image is far too small to hold a usable print.
    #[error(
        "failure to extract: image is {width_px}x{height_px} px at 500 dpi; at least {min_px}x{min_px} needed"
    )]
    FteImageTooSmall {
        width_px: u32,
        height_px: u32,
        min_px: u32,
    },
    /// Failure to extract: no area of the image has ridge contrast (blank or
    /// nearly uniform image).
    #[error(
        "failure to extract: no fingerprint area found ({foreground_px} px of contrast, {min_px} needed)"
    )]
    FteBlank { foreground_px: u32, min_px: u32 },
    /// Failure to extract: the image has contrast but too little of it shows
    /// a ridge pattern (coherent flow with one ridge-band frequency): noise,
    /// text, a scene, a face.
    #[error(
        "failure to extract: no ridge pattern (only {ridge_px} of {contrast_px} px examined show ridges, {min_px} needed)"
    )]
    FteNoRidges {
        ridge_px: u32,
        contrast_px: u32,
        min_px: u32,
    },
    /// Failure to extract: too few reliable minutiae were found.
    #[error("failure to extract: only {found} reliable minutiae, at least {min} needed")]
    FteTooFewMinutiae { found: usize, min: usize },
}

/// Result alias of the engine crate.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

impl EngineError {
    /// `true` for failures to extract: a readable image without a usable
    /// fingerprint, as opposed to an unreadable or refused file.
    pub fn is_failure_to_extract(&self) -> bool {
        matches!(
            self,
            Self::FteImageTooSmall { .. }
                | Self::FteBlank { .. }
                | Self::FteNoRidges { .. }
                | Self::FteTooFewMinutiae { .. }
        )
    }
}
