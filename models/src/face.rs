//! Face templates: fixed-length embeddings from a face recognition model.

use serde::{Deserialize, Serialize};

use crate::{ModelError, Result};

/// Largest face template dimension accepted (ArcFace-style models emit 512).
pub const MAX_FACE_DIM: usize = 4096;

/// Longest face model name accepted, in bytes.
pub const MAX_FACE_MODEL_BYTES: usize = 256;

/// Largest face value magnitude stored: records keep face values in IEEE
/// half precision (embeddings are unit-scale; this bounds a unit mistake).
pub const MAX_FACE_VALUE: f32 = 65504.0;

/// A face embedding as emitted by a face recognition model.
///
/// Templates are compared by cosine similarity, so only the direction of
/// `values` matters; they need not be normalised. Templates of different
/// models are not comparable: `model` names the model that made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceTemplate {
    /// Identifier of the model that produced the embedding, e.g. `dlib-resnet-v1`.
    pub model: String,
    /// Number of values; must equal `values.len()`.
    pub dim: usize,
    pub values: Vec<f32>,
}

impl FaceTemplate {
    /// Builds a template whose `dim` matches `values`.
    pub fn new(model: impl Into<String>, values: Vec<f32>) -> Self {
        Self {
            model: model.into(),
            dim: values.len(),
            values,
        }
    }

    /// Checks the template on its own, and against the gallery's dimension
    /// when `expected_dim` is given.
    pub fn validate(&self, expected_dim: Option<usize>) -> Result<()> {
        if self.model.is_empty() || self.model.len() > MAX_FACE_MODEL_BYTES {
            return Err(ModelError::FaceModelName {
                len: self.model.len(),
                max: MAX_FACE_MODEL_BYTES,
            });
        }
        if self.dim != self.values.len() {
            return Err(ModelError::FaceDimensionInconsistent {
                declared: self.dim,
                got: self.values.len(),
            });
        }
        if self.dim == 0 || self.dim > MAX_FACE_DIM {
            return Err(ModelError::FaceDimensionOutOfRange {
                got: self.dim,
                max: MAX_FACE_DIM,
            });
        }
        if let Some(expected) = expected_dim
            && expected != self.dim
        {
            return Err(ModelError::FaceDimensionMismatch {
                expected,
                got: self.dim,
            });
        }
        if let Some(index) = self.values.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite {
                field: format!("face.values[{index}]"),
            });
        }
        if let Some(index) = self.values.iter().position(|v| v.abs() > MAX_FACE_VALUE) {
            return Err(ModelError::FaceValueOutOfRange {
                index,
                value: self.values[index],
                max: MAX_FACE_VALUE,
            });
        }
        if self.values.iter().all(|&v| v == 0.0) {
            return Err(ModelError::FaceZeroVector);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_inconsistent_mismatched_non_finite_and_zero_templates() {
        let ok = FaceTemplate::new("m", vec![0.5, -0.5, 1.0]);
        assert!(ok.validate(Some(3)).is_ok());
        assert_eq!(
            ok.validate(Some(512)),
            Err(ModelError::FaceDimensionMismatch {
                expected: 512,
                got: 3
            })
        );
        let mut lying = ok.clone();
        lying.dim = 4;
        assert!(matches!(
            lying.validate(None),
            Err(ModelError::FaceDimensionInconsistent {
                declared: 4,
                got: 3
            })
        ));
        let nan = FaceTemplate::new("m", vec![0.5, f32::NAN, 1.0]);
        assert_eq!(
            nan.validate(None),
            Err(ModelError::NonFinite {
                field: "face.values[1]".into()
            })
        );
        let zero = FaceTemplate::new("m", vec![0.0; 8]);
        assert_eq!(zero.validate(None), Err(ModelError::FaceZeroVector));
        // What the stored form cannot hold is refused here, not when stored.
        let unnamed = FaceTemplate::new("", vec![0.5, 1.0]);
        assert!(matches!(
            unnamed.validate(None),
            Err(ModelError::FaceModelName { len: 0, .. })
        ));
        let beyond_half = FaceTemplate::new("m", vec![0.5, 1e38]);
        assert!(matches!(
            beyond_half.validate(None),
            Err(ModelError::FaceValueOutOfRange { index: 1, .. })
        ));
        let empty = FaceTemplate::new("m", vec![]);
        assert!(matches!(
            empty.validate(None),
            Err(ModelError::FaceDimensionOutOfRange { .. })
        ));
    }
}
