//! The face encoder: mean-centring, L2 normalisation and int8 quantisation
//! of templates, with the error bound that makes the int8 scan exact.

use serde::{Deserialize, Serialize};

use super::kernels::ProbeCode;
use crate::models::{MAX_FACE_DIM, ModelError};
use crate::{EngineError, Result};

/// Largest int8 code magnitude (symmetric range, so negation is exact).
const CODE_MAX: f32 = 127.0;

/// The per-row side data of a stored face code.
///
/// - `aux[0]`: dequantisation scale `s` (the unit vector is about `s * code`);
///   `0.0` means the row holds no face.
/// - `aux[1]`: `e`, an upper bound on the L2 norm of the quantisation
///   residual `unit - s * code`.
///
/// With `q` and `x` two unit vectors, `|q . x - s_q s_x (c_q . c_x)| <=
/// e_q + e_x + 3 e_q e_x`, which lets the search prove which rows it need
/// not rescore.
pub type FaceAux = [f32; 2];

/// The `aux` of a row without a face.
pub const NO_FACE: FaceAux = [0.0, 0.0];

/// A probe prepared once for any number of scans.
#[derive(Debug, Clone)]
pub struct FaceProbe {
    /// Mean-centred, L2-normalised probe (rescoring side).
    pub(crate) unit: Vec<f32>,
    pub(crate) code: ProbeCode,
    pub(crate) aux: FaceAux,
}

impl FaceProbe {
    /// The template dimension.
    pub fn dim(&self) -> usize {
        self.unit.len()
    }

    /// The normalised (mean-centred) probe vector.
    pub fn unit(&self) -> &[f32] {
        &self.unit
    }
}

/// Encodes face templates of one gallery: fixed dimension, optional mean.
///
/// Scores are the cosine similarity of `v - mean` (or `v`) vectors: the dot
/// product of their L2-normalised forms, in `[-1, 1]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceCodec {
    dim: usize,
    mean: Option<Vec<f32>>,
}

impl FaceCodec {
    /// A codec for templates of `dim` values. `mean`, when given, is
    /// subtracted before normalising (for non-centred embeddings such as
    /// dlib's).
    pub fn new(dim: usize, mean: Option<Vec<f32>>) -> Result<Self> {
        if dim == 0 || dim > MAX_FACE_DIM {
            return Err(ModelError::FaceDimensionOutOfRange {
                got: dim,
                max: MAX_FACE_DIM,
            }
            .into());
        }
        if let Some(mean) = &mean {
            if mean.len() != dim {
                return Err(EngineError::FaceMeanLength {
                    expected: dim,
                    got: mean.len(),
                });
            }
            if let Some(index) = mean.iter().position(|v| !v.is_finite()) {
                return Err(ModelError::NonFinite {
                    field: format!("face mean[{index}]"),
                }
                .into());
            }
        }
        Ok(Self { dim, mean })
    }

    /// The template dimension of the gallery.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The subtracted mean, if any.
    pub fn mean(&self) -> Option<&[f32]> {
        self.mean.as_deref()
    }

    /// The mean-centred, L2-normalised form of a template: the vector whose
    /// dot products are the scores. Rejects a wrong dimension, non-finite
    /// values, the zero vector and a template equal to the mean.
    pub fn unit(&self, values: &[f32]) -> Result<Vec<f32>> {
        let mut out = vec![0.0; self.dim];
        self.unit_into(values, &mut out)?;
        Ok(out)
    }

    /// [`FaceCodec::unit`] into a caller's buffer of length `dim`.
    pub fn unit_into(&self, values: &[f32], out: &mut [f32]) -> Result<()> {
        if values.len() != self.dim || out.len() != self.dim {
            return Err(ModelError::FaceDimensionMismatch {
                expected: self.dim,
                got: values.len(),
            }
            .into());
        }
        if let Some(index) = values.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite {
                field: format!("face.values[{index}]"),
            }
            .into());
        }
        if values.iter().all(|&v| v == 0.0) {
            return Err(ModelError::FaceZeroVector.into());
        }
        match &self.mean {
            Some(mean) => {
                for ((o, &v), &m) in out.iter_mut().zip(values).zip(mean) {
                    *o = v - m;
                }
            }
            None => out.copy_from_slice(values),
        }
        // Accumulate in f64: a large template's norm must not overflow f32.
        let norm = out
            .iter()
            .map(|&v| f64::from(v) * f64::from(v))
            .sum::<f64>()
            .sqrt();
        if norm == 0.0 {
            return Err(EngineError::FaceEqualsMean);
        }
        for o in out.iter_mut() {
            *o = (f64::from(*o) / norm) as f32;
        }
        Ok(())
    }

    /// Encodes a template for storage: `dim` int8 codes and the row's
    /// [`FaceAux`]. Pass the stored (f16-rounded) values so that rescoring
    /// sees the very vector that was quantised.
    pub fn encode(&self, values: &[f32]) -> Result<(Vec<i8>, FaceAux)> {
        let unit = self.unit(values)?;
        Ok(quantise(&unit))
    }

    /// Prepares a probe once for any number of scans against this gallery.
    pub fn prepare(&self, values: &[f32]) -> Result<FaceProbe> {
        let unit = self.unit(values)?;
        let (codes, aux) = quantise(&unit);
        Ok(FaceProbe {
            unit,
            code: ProbeCode::new(codes),
            aux,
        })
    }

    /// The exact score of a prepared probe against a template (the value
    /// search returns for that row).
    pub fn score(&self, probe: &FaceProbe, values: &[f32]) -> Result<f32> {
        let unit = self.unit(values)?;
        Ok(dot_f32(&probe.unit, &unit))
    }
}

/// Quantises a unit vector with a per-row scale that maps its largest
/// magnitude to 127 (no clipping), and bounds the residual norm.
fn quantise(unit: &[f32]) -> (Vec<i8>, FaceAux) {
    let max = unit.iter().fold(0.0f32, |m, &v| m.max(v.abs()));
    // A unit vector has max >= 1/sqrt(dim) > 0.
    let scale = max / CODE_MAX;
    let codes: Vec<i8> = unit
        .iter()
        .map(|&v| (v / scale).round().clamp(-CODE_MAX, CODE_MAX) as i8)
        .collect();
    let residual_sq: f64 = unit
        .iter()
        .zip(&codes)
        .map(|(&v, &c)| {
            let e = f64::from(v) - f64::from(scale) * f64::from(c);
            e * e
        })
        .sum();
    // Round the bound up: it must hold for the f32 arithmetic of the scan.
    let residual = (residual_sq.sqrt() * (1.0 + 1e-6) + 1e-7) as f32;
    (codes, [scale, residual])
}

/// Dot product in f32 with several accumulators (vectorises).
pub(crate) fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 16];
    let mut ca = a.chunks_exact(16);
    let mut cb = b.chunks_exact(16);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for i in 0..16 {
            acc[i] = x[i].mul_add(y[i], acc[i]);
        }
    }
    let mut tail = 0.0f32;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail = x.mul_add(*y, tail);
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::dot_i8_scalar;
    use proptest::prelude::*;

    #[test]
    fn bad_templates_are_typed_errors() {
        let codec = FaceCodec::new(4, None).unwrap();
        assert!(matches!(
            codec.encode(&[1.0, 2.0, 3.0]),
            Err(EngineError::Model(ModelError::FaceDimensionMismatch {
                expected: 4,
                got: 3
            }))
        ));
        assert!(matches!(
            codec.encode(&[1.0, f32::NAN, 3.0, 4.0]),
            Err(EngineError::Model(ModelError::NonFinite { .. }))
        ));
        assert!(matches!(
            codec.prepare(&[1.0, f32::INFINITY, 3.0, 4.0]),
            Err(EngineError::Model(ModelError::NonFinite { .. }))
        ));
        assert!(matches!(
            codec.encode(&[0.0; 4]),
            Err(EngineError::Model(ModelError::FaceZeroVector))
        ));
        let centred = FaceCodec::new(2, Some(vec![1.0, 2.0])).unwrap();
        assert!(matches!(
            centred.encode(&[1.0, 2.0]),
            Err(EngineError::FaceEqualsMean)
        ));
        assert!(matches!(
            FaceCodec::new(3, Some(vec![0.0; 2])),
            Err(EngineError::FaceMeanLength {
                expected: 3,
                got: 2
            })
        ));
        assert!(FaceCodec::new(0, None).is_err());
        assert!(FaceCodec::new(MAX_FACE_DIM + 1, None).is_err());
    }

    #[test]
    fn the_mean_is_subtracted_before_normalising() {
        let codec = FaceCodec::new(2, Some(vec![10.0, 10.0])).unwrap();
        let unit = codec.unit(&[13.0, 14.0]).unwrap();
        assert!((unit[0] - 0.6).abs() < 1e-6 && (unit[1] - 0.8).abs() < 1e-6);
    }

    proptest! {
        #[test]
        fn the_stored_bound_covers_the_int8_score_error(
            a in prop::collection::vec(-3.0f32..3.0, 1..300),
            seed in any::<u64>(),
        ) {
            prop_assume!(a.iter().any(|&v| v != 0.0));
            // A second vector of the same length, derived from the seed.
            let b: Vec<f32> = a
                .iter()
                .enumerate()
                .map(|(i, &v)| v * 0.3 + (((seed >> (i % 61)) & 7) as f32 - 3.5))
                .collect();
            prop_assume!(b.iter().any(|&v| v != 0.0));
            let codec = FaceCodec::new(a.len(), None).unwrap();
            let probe = codec.prepare(&a).unwrap();
            let (codes, aux) = codec.encode(&b).unwrap();
            let approx = dot_i8_scalar(&probe.code.codes, &codes) as f32 * probe.aux[0] * aux[0];
            let exact = codec.score(&probe, &b).unwrap();
            let bound = probe.aux[1] + aux[1] + 3.0 * probe.aux[1] * aux[1];
            prop_assert!((approx - exact).abs() <= bound + 1e-5,
                "approx {approx} exact {exact} bound {bound}");
            prop_assert!(aux[0] > 0.0);
        }
    }
}
