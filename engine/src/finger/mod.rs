//! Fingerprint minutiae matching: the gallery form, the prepared probe, 1:1
//! and 1:N comparison, score calibration and multi-finger fusion.
//!
//! # How a comparison works
//! 1. **Gallery form** ([`encode_gallery`]): each finger is stored as at most
//!    [`MAX_GALLERY_MINUTIAE`] minutiae in 500 dpi pixels (4 bytes each) plus
//!    the indices of each minutia's nearest neighbours (3 bytes), a version
//!    byte and a CRC-32: 286 bytes at 40 minutiae.
//! 2. **Probe preparation** ([`PreparedProbe::new`]): every probe edge (an
//!    ordered minutia pair up to [`MAX_EDGE_PX`] apart) is described by
//!    rotation- and translation-invariant features (length, the two minutia
//!    directions relative to the edge) and filed in a quantised lookup table;
//!    the probe's minutiae are also filed in a spatial grid.
//! 3. **Root search**: each gallery neighbour edge looks up its bucket; probe
//!    edges that agree within tolerance become candidate correspondences,
//!    which vote for minutia pairs.
//! 4. **Consolidation** ([`pairing`]): the best-supported correspondences
//!    each fix a rotation and translation; gallery minutiae are mapped into
//!    the probe and paired one-to-one within distance and direction
//!    tolerances that widen with the distance from the root (skin
//!    distortion). The best alignment is refined by least squares.
//! 5. **Score** ([`Score`]): the raw score grows with the number of paired
//!    minutiae relative to the minutiae both prints show in their common
//!    area; [`Calibration`] maps it to an estimated `-log10 FMR`, the scale on
//!    which fingers ([`fuse_fingers`]) and faces are fused.

mod calibration;
mod edges;
mod fusion;
mod gallery;
mod geometry;
pub mod kernels;
pub mod pairing;
mod probe;
mod score;

pub use calibration::Calibration;
pub use fusion::{FingerEvidence, FusedScore, compare_records, fuse_fingers};
pub use gallery::{
    GALLERY_FORMAT_VERSION, GalleryTemplate, MAX_GALLERY_MINUTIAE, NEIGHBOURS, decode_gallery,
    encode_gallery,
};
pub use geometry::MAX_EDGE_PX;
pub use probe::PreparedProbe;
pub use score::Score;

/// Compares two finger templates 1:1 (prepares `probe`, encodes `gallery`).
///
/// For many comparisons against one probe, prepare it once with
/// [`PreparedProbe::new`] and score encoded gallery blobs.
pub fn compare(
    probe: &hoviyat_models::FingerTemplate,
    gallery: &hoviyat_models::FingerTemplate,
) -> crate::Result<Score> {
    let prepared = PreparedProbe::new(probe)?;
    let blob = encode_gallery(gallery)?;
    prepared.score(&blob)
}
