//! The one error type of the engine crate.

use hoviyat_models::ModelError;

/// Why an engine operation failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The input record or template is invalid.
    #[error(transparent)]
    Model(#[from] ModelError),

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
    /// Failure to extract: the image has contrast but no coherent ridge flow
    /// (noise, text, a smudge).
    #[error(
        "failure to extract: no ridge structure ({ridge_px} px with coherent ridges of {contrast_px} px with contrast, {min_px} needed)"
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
