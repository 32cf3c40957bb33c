//! Exact 1:N face search over int8-quantised templates.
//!
//! - [`FaceCodec`] centres (optional gallery mean), L2-normalises and
//!   quantises templates to `dim` int8 codes plus a [`FaceAux`]
//!   (dequantisation scale, residual bound), and prepares probes.
//! - [`FaceSearcher`] scans [`FaceRows`] views with the kernel chosen once
//!   per process ([`kernel_report`]), rescoring only the rows whose bound
//!   says they might rank with the full-precision copy ([`FaceVectors`]):
//!   results equal an exhaustive f32 cosine scan.
//! - Two modes ([`FaceSearchMode`]): investigation (top K) and
//!   identification (all at or above a threshold), optionally restricted
//!   ([`FaceScope::Rows`]) and filtered by an exclusion predicate; many
//!   probes at once with [`FaceSearcher::search_batch`].
//!
//! ```
//! use hoviyat_engine::face::{DenseVectors, FaceCodec, FaceRows, FaceScope, FaceSearchMode, FaceSearcher};
//!
//! let codec = FaceCodec::new(4, None).unwrap();
//! let templates = [[1.0, 0.0, 0.0, 0.0], [0.6, 0.8, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]];
//! let (mut codes, mut aux) = (Vec::new(), Vec::new());
//! for t in &templates {
//!     let (c, a) = codec.encode(t).unwrap();
//!     codes.extend(c);
//!     aux.push(a);
//! }
//! let flat: Vec<f32> = templates.concat();
//! let segments = [FaceRows { first_row: 0, codes: &codes, aux: &aux }];
//! let vectors = DenseVectors { first_row: 0, dim: 4, values: &flat };
//! let searcher = FaceSearcher::new(&codec, &segments, &vectors).unwrap();
//! let probe = codec.prepare(&[1.0, 0.1, 0.0, 0.0]).unwrap();
//! let found = searcher
//!     .search(&probe, FaceSearchMode::Identification { threshold: 0.5 }, FaceScope::All)
//!     .unwrap();
//! assert_eq!(found.hits.iter().map(|h| h.row).collect::<Vec<_>>(), [0, 1]);
//! ```

mod codec;
pub mod kernels;
mod search;

pub use codec::{FaceAux, FaceCodec, FaceProbe, NO_FACE};
pub use kernels::{Kernel, KernelReport, kernel_report};
pub use search::{
    DenseVectors, FaceHit, FaceRows, FaceScope, FaceSearchMode, FaceSearchOutcome, FaceSearcher,
    FaceVectors,
};
