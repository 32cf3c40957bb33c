//! Synthetic face templates: an identity centre plus per-capture noise, with
//! genuine and impostor cosine distributions set by two numbers.
//!
//! Centres are Gaussian vectors with a decaying per-dimension scale: the
//! faster the decay, the fewer effective dimensions and the wider the
//! impostor cosine distribution (its standard deviation is about
//! `1/sqrt(effective rank)`), as in real embeddings whose variance sits in a
//! few principal directions. Each capture adds isotropic noise of norm
//! `sigma`, so two captures of one person have cosine about `1/(1+sigma^2)`.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::{DatasetError, Result};

/// Shape of the synthetic face distributions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceConfig {
    /// Template dimension (ArcFace-style models emit 512).
    pub dim: usize,
    /// Mean cosine between two captures of one person, in `(0, 1)`.
    pub genuine_cosine: f32,
    /// Standard deviation of the cosine between captures of two different
    /// people (mean zero); at least `1/sqrt(dim)`.
    pub impostor_cosine_std: f32,
    /// Model name written into each template.
    pub model: &'static str,
}

impl Default for FaceConfig {
    fn default() -> Self {
        Self {
            dim: 512,
            genuine_cosine: 0.7,
            impostor_cosine_std: 0.07,
            model: "synth-face-v1",
        }
    }
}

/// A configured face generator.
#[derive(Debug, Clone)]
pub struct FaceModel {
    cfg: FaceConfig,
    /// Per-dimension scale of identity centres.
    scale: Vec<f32>,
    noise_per_dim: f32,
}

/// `sum s^4 / (sum s^2)^2` for the spectrum `s_j^2 = exp(-j / tau)`: the
/// variance of the cosine of two independent centres.
fn cosine_variance(dim: usize, tau: f64) -> f64 {
    let (mut s2, mut s4) = (0.0, 0.0);
    for j in 0..dim {
        let v = (-(j as f64) / tau).exp();
        s2 += v;
        s4 += v * v;
    }
    s4 / (s2 * s2)
}

impl FaceModel {
    pub fn new(cfg: FaceConfig) -> Result<Self> {
        if cfg.dim == 0 || cfg.dim > hoviyat_models::MAX_FACE_DIM {
            return Err(DatasetError::InvalidConfig {
                field: "face.dim",
                value: cfg.dim as f64,
                reason: "must be 1..=4096",
            });
        }
        if !(cfg.genuine_cosine > 0.0 && cfg.genuine_cosine < 1.0) {
            return Err(DatasetError::InvalidConfig {
                field: "face.genuine_cosine",
                value: f64::from(cfg.genuine_cosine),
                reason: "must lie in (0, 1)",
            });
        }
        if !(cfg.impostor_cosine_std >= 0.0 && cfg.impostor_cosine_std < 1.0) {
            return Err(DatasetError::InvalidConfig {
                field: "face.impostor_cosine_std",
                value: f64::from(cfg.impostor_cosine_std),
                reason: "must lie in [0, 1)",
            });
        }
        let g = f64::from(cfg.genuine_cosine);
        // Capture noise shrinks every cosine between two captures by about
        // g, so the centres must be spread by std / g.
        let target = (f64::from(cfg.impostor_cosine_std) / g).powi(2);
        let floor = 1.0 / cfg.dim as f64;
        let scale = if target <= floor {
            vec![1.0; cfg.dim]
        } else {
            // Bisection on tau (variance falls as tau grows).
            let (mut lo, mut hi) = (1e-3f64, 1e7f64);
            for _ in 0..100 {
                let mid = (lo * hi).sqrt();
                if cosine_variance(cfg.dim, mid) > target {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let tau = (lo * hi).sqrt();
            (0..cfg.dim)
                .map(|j| (-(j as f64) / (2.0 * tau)).exp() as f32)
                .collect()
        };
        let norm = scale.iter().map(|s| s * s).sum::<f32>().sqrt();
        let scale = scale.into_iter().map(|s| s / norm).collect();
        let sigma = (1.0 / g - 1.0).sqrt() as f32;
        Ok(Self {
            cfg,
            scale,
            noise_per_dim: sigma / (cfg.dim as f32).sqrt(),
        })
    }

    pub fn config(&self) -> &FaceConfig {
        &self.cfg
    }

    /// A person's identity centre, of unit expected norm.
    pub fn centre<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<f32> {
        self.scale
            .iter()
            .map(|s| s * Distribution::<f32>::sample(&StandardNormal, rng))
            .collect::<Vec<f32>>()
    }

    /// One capture of the person with identity centre `centre`, unit norm.
    pub fn capture<R: Rng + ?Sized>(&self, centre: &[f32], rng: &mut R) -> Vec<f32> {
        let mut v: Vec<f32> = centre
            .iter()
            .map(|c| c + self.noise_per_dim * Distribution::<f32>::sample(&StandardNormal, rng))
            .collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            for x in &mut v {
                *x /= norm;
            }
        } else if let Some(first) = v.first_mut() {
            // Practically impossible; keep the template non-zero anyway.
            *first = 1.0;
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    fn stats(v: &[f32]) -> (f32, f32) {
        let m = v.iter().sum::<f32>() / v.len() as f32;
        let var = v.iter().map(|x| (x - m).powi(2)).sum::<f32>() / v.len() as f32;
        (m, var.sqrt())
    }

    #[test]
    fn genuine_and_impostor_cosines_follow_the_configuration() {
        for (g, s) in [(0.7f32, 0.07f32), (0.5, 0.15)] {
            let model = FaceModel::new(FaceConfig {
                genuine_cosine: g,
                impostor_cosine_std: s,
                ..FaceConfig::default()
            })
            .unwrap();
            let mut rng = ChaCha8Rng::seed_from_u64(9);
            let people: Vec<Vec<f32>> = (0..200).map(|_| model.centre(&mut rng)).collect();
            let caps: Vec<(Vec<f32>, Vec<f32>)> = people
                .iter()
                .map(|c| (model.capture(c, &mut rng), model.capture(c, &mut rng)))
                .collect();
            let genuine: Vec<f32> = caps.iter().map(|(a, b)| cosine(a, b)).collect();
            let impostor: Vec<f32> = caps.windows(2).map(|w| cosine(&w[0].0, &w[1].1)).collect();
            let (gm, _) = stats(&genuine);
            let (im, is) = stats(&impostor);
            assert!((gm - g).abs() < 0.05, "genuine mean {gm} for target {g}");
            assert!(im.abs() < 0.04, "impostor mean {im}");
            assert!(
                (is - s).abs() < 0.35 * s,
                "impostor std {is} for target {s}"
            );
        }
    }

    #[test]
    fn impossible_settings_are_refused() {
        let bad = FaceConfig {
            genuine_cosine: 1.5,
            ..FaceConfig::default()
        };
        assert!(matches!(
            FaceModel::new(bad),
            Err(DatasetError::InvalidConfig {
                field: "face.genuine_cosine",
                ..
            })
        ));
        let bad = FaceConfig {
            dim: 0,
            ..FaceConfig::default()
        };
        assert!(FaceModel::new(bad).is_err());
        for std in [-1.0, f32::NAN, 1.0] {
            let bad = FaceConfig {
                impostor_cosine_std: std,
                ..FaceConfig::default()
            };
            assert!(
                matches!(
                    FaceModel::new(bad),
                    Err(DatasetError::InvalidConfig {
                        field: "face.impostor_cosine_std",
                        ..
                    })
                ),
                "{std}"
            );
        }
    }
}
