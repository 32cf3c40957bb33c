//! Face templates: the JSON-lines loader of labelled embeddings and a seeded
//! synthetic gallery with mated and non-mated probes.

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{DatasetError, Result};

/// One labelled face embedding, one per line of a `.jsonl` file:
/// `{"identity": "person-01", "image": "a.jpg", "embedding": [..]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelledFace {
    pub identity: String,
    #[serde(default)]
    pub image: String,
    pub embedding: Vec<f32>,
}

/// Reads a JSON-lines file of [`LabelledFace`]s (blank lines skipped). Every
/// embedding must have the dimension of the first.
pub fn load_faces_jsonl(path: &Path) -> Result<Vec<LabelledFace>> {
    let text = std::fs::read_to_string(path).map_err(|source| DatasetError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut faces: Vec<LabelledFace> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let face: LabelledFace =
            serde_json::from_str(line).map_err(|source| DatasetError::Json {
                path: path.to_owned(),
                line: index + 1,
                source,
            })?;
        if let Some(first) = faces.first()
            && first.embedding.len() != face.embedding.len()
        {
            return Err(DatasetError::DimensionMismatch {
                path: path.to_owned(),
                line: index + 1,
                expected: first.embedding.len(),
                got: face.embedding.len(),
            });
        }
        faces.push(face);
    }
    Ok(faces)
}

/// Rows generated per RNG stream, so generation is parallel and the result
/// does not depend on the number of threads.
const ROWS_PER_STREAM: usize = 4096;

/// `n` unit-length templates of `dim` values, row-major, each an isotropic
/// Gaussian direction (the impostor scores of such a gallery are about
/// `N(0, 1/dim)`). Deterministic in `seed`.
pub fn synthetic_face_gallery(n: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut out = vec![0.0f32; n * dim];
    if dim == 0 {
        return out;
    }
    out.par_chunks_mut(ROWS_PER_STREAM * dim)
        .enumerate()
        .for_each(|(stream, chunk)| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(stream as u64);
            for row in chunk.chunks_exact_mut(dim) {
                random_unit(&mut rng, row);
            }
        });
    out
}

/// Probes against a gallery from [`synthetic_face_gallery`]: even-numbered
/// probes are mated (a noisy copy of a random gallery row with cosine about
/// `genuine_cos` to it), odd-numbered ones are fresh directions. Returns the
/// probes (row-major) and each probe's mate row.
pub fn synthetic_face_probes(
    gallery: &[f32],
    dim: usize,
    count: usize,
    genuine_cos: f32,
    seed: u64,
) -> (Vec<f32>, Vec<Option<u64>>) {
    let n = gallery.len().checked_div(dim).unwrap_or(0);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_face);
    let mut probes = vec![0.0f32; count * dim];
    let mut mates = Vec::with_capacity(count);
    let rho = genuine_cos.clamp(-1.0, 1.0);
    let spread = (1.0 - rho * rho).sqrt();
    for (i, probe) in probes.chunks_exact_mut(dim.max(1)).enumerate() {
        random_unit(&mut rng, probe);
        if i % 2 == 0 && n > 0 {
            let mate = rng.random_range(0..n);
            let row = &gallery[mate * dim..(mate + 1) * dim];
            for (p, &g) in probe.iter_mut().zip(row) {
                *p = rho * g + spread * *p;
            }
            mates.push(Some(mate as u64));
        } else {
            mates.push(None);
        }
    }
    (probes, mates)
}

fn random_unit(rng: &mut ChaCha8Rng, out: &mut [f32]) {
    let mut norm_sq = 0.0f64;
    for v in out.iter_mut() {
        *v = rng.sample(StandardNormal);
        norm_sq += f64::from(*v) * f64::from(*v);
    }
    let inv = if norm_sq > 0.0 {
        (1.0 / norm_sq.sqrt()) as f32
    } else {
        0.0
    };
    for v in out.iter_mut() {
        *v *= inv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dot(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn the_gallery_is_seeded_and_unit_length() {
        let a = synthetic_face_gallery(5000, 32, 7);
        assert_eq!(a, synthetic_face_gallery(5000, 32, 7));
        assert_ne!(a, synthetic_face_gallery(5000, 32, 8));
        for row in a.chunks_exact(32) {
            assert!((dot(row, row) - 1.0).abs() < 1e-4);
        }
        // Rows from different RNG streams differ.
        assert_ne!(&a[..32], &a[4096 * 32..4097 * 32]);
    }

    #[test]
    fn mated_probes_resemble_their_mate_and_others_do_not() {
        let dim = 256;
        let gallery = synthetic_face_gallery(100, dim, 1);
        let (probes, mates) = synthetic_face_probes(&gallery, dim, 20, 0.7, 2);
        for (probe, mate) in probes.chunks_exact(dim).zip(&mates) {
            let best = gallery
                .chunks_exact(dim)
                .map(|g| dot(probe, g))
                .fold(f32::MIN, f32::max);
            match mate {
                Some(m) => {
                    let m = *m as usize;
                    let s = dot(probe, &gallery[m * dim..(m + 1) * dim]);
                    assert!(s > 0.5 && s == best);
                }
                None => assert!(best < 0.4),
            }
        }
    }

    #[test]
    fn the_loader_reports_bad_lines_with_their_number() {
        let dir = std::env::temp_dir().join(format!("hoviyat-faces-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("faces.jsonl");
        std::fs::write(
            &path,
            "{\"identity\":\"a\",\"image\":\"x\",\"embedding\":[1.0,2.0]}\n\n{\"identity\":\"b\",\"embedding\":[3.0,4.0]}\n",
        )
        .unwrap();
        let faces = load_faces_jsonl(&path).unwrap();
        assert_eq!(faces.len(), 2);
        assert_eq!(faces[1].identity, "b");
        std::fs::write(
            &path,
            "{\"identity\":\"a\",\"embedding\":[1.0]}\nnot json\n",
        )
        .unwrap();
        assert!(matches!(
            load_faces_jsonl(&path),
            Err(DatasetError::Json { line: 2, .. })
        ));
        std::fs::write(
            &path,
            "{\"identity\":\"a\",\"embedding\":[1.0]}\n{\"identity\":\"b\",\"embedding\":[1.0,2.0]}\n",
        )
        .unwrap();
        assert!(matches!(
            load_faces_jsonl(&path),
            Err(DatasetError::DimensionMismatch {
                line: 2,
                expected: 1,
                got: 2,
                ..
            })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
