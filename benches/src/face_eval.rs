//! `eval faces`: leave-one-out rank-1 and genuine/impostor statistics on a
//! file of labelled face templates, through the engine's own search.

use std::collections::BTreeMap;
use std::path::Path;

use hoviyat_datasets::faces::{LabelledFace, load_faces_jsonl};
use hoviyat_engine::face::{
    DenseVectors, FaceAux, FaceCodec, FaceRows, FaceScope, FaceSearchMode, FaceSearcher,
    kernel_report,
};
use hoviyat_engine::metrics::VerificationReport;
use serde::Serialize;

use crate::{BenchError, Result};

/// Which mean is subtracted before the cosine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MeanChoice {
    /// Raw cosine of the templates.
    None,
    /// The mean of every template in the file.
    Whole,
    /// The mean of every template except those being compared (the probe,
    /// and for a pair both members): no template sees its own contribution.
    LeaveOneOut,
}

/// Count, mean, standard deviation and range of a score set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScoreStats {
    pub count: usize,
    pub mean: f64,
    pub sd: f64,
    pub min: f64,
    pub max: f64,
}

impl ScoreStats {
    fn of(scores: &[f64]) -> Self {
        let count = scores.len();
        let mean = scores.iter().sum::<f64>() / count.max(1) as f64;
        let var = scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>()
            / count.saturating_sub(1).max(1) as f64;
        Self {
            count,
            mean,
            sd: var.sqrt(),
            min: scores.iter().copied().fold(f64::INFINITY, f64::min),
            max: scores.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// What `eval faces` reports.
#[derive(Debug, Clone, Serialize)]
pub struct FaceEvalReport {
    pub dataset: String,
    pub templates: usize,
    pub identities: usize,
    pub dim: usize,
    pub mean: MeanChoice,
    /// Leave-one-out searches: every template whose identity has another.
    pub searches: usize,
    /// Searches whose best candidate (the probe itself excluded) shares the
    /// probe's identity.
    pub rank1_hits: usize,
    pub rank1: f64,
    /// Every unordered pair of the same identity.
    pub genuine: ScoreStats,
    /// Every unordered pair of different identities.
    pub impostor: ScoreStats,
    /// EER, FMR100, FMR1000, ... over the same pairs.
    pub verification: VerificationReport,
    pub kernel: &'static str,
}

/// Evaluates the face templates of a `.jsonl` file (see
/// [`hoviyat_datasets::faces::LabelledFace`]).
pub fn evaluate_faces(path: &Path, mean: MeanChoice) -> Result<FaceEvalReport> {
    let faces = load_faces_jsonl(path)?;
    let mut report = evaluate_face_set(&faces, mean)?;
    report.dataset = path.display().to_string();
    Ok(report)
}

/// [`evaluate_faces`] on templates already loaded.
pub fn evaluate_face_set(faces: &[LabelledFace], mean: MeanChoice) -> Result<FaceEvalReport> {
    let mut per_identity: BTreeMap<&str, usize> = BTreeMap::new();
    for f in faces {
        *per_identity.entry(&f.identity).or_default() += 1;
    }
    if per_identity.len() < 2 || per_identity.values().all(|&c| c < 2) {
        return Err(BenchError::DatasetTooSmall {
            templates: faces.len(),
            identities: per_identity.len(),
        });
    }
    let dim = faces[0].embedding.len();
    let all: Vec<usize> = (0..faces.len()).collect();
    let whole = match mean {
        MeanChoice::None => None,
        _ => Some(mean_of(faces, &all, dim)),
    };
    let codec_without = |skip: &[usize]| -> Result<FaceCodec> {
        let m = match mean {
            MeanChoice::None => None,
            MeanChoice::Whole => whole.clone(),
            MeanChoice::LeaveOneOut => {
                let keep: Vec<usize> = all.iter().copied().filter(|i| !skip.contains(i)).collect();
                Some(mean_of(faces, &keep, dim))
            }
        };
        Ok(FaceCodec::new(dim, m)?)
    };

    // Leave-one-out rank-1 through the engine's search.
    let values: Vec<f32> = faces.iter().flat_map(|f| f.embedding.clone()).collect();
    let vectors = DenseVectors {
        first_row: 0,
        dim,
        values: &values,
    };
    let mut searches = 0;
    let mut rank1_hits = 0;
    for (p, probe_face) in faces.iter().enumerate() {
        if per_identity[probe_face.identity.as_str()] < 2 {
            continue;
        }
        let codec = codec_without(&[p])?;
        let mut codes = Vec::with_capacity(faces.len() * dim);
        let mut aux: Vec<FaceAux> = Vec::with_capacity(faces.len());
        for f in faces {
            let (c, a) = codec.encode(&f.embedding)?;
            codes.extend(c);
            aux.push(a);
        }
        let segments = [FaceRows {
            first_row: 0,
            codes: &codes,
            aux: &aux,
        }];
        let itself = move |row: u64| row == p as u64;
        let searcher = FaceSearcher::new(&codec, &segments, &vectors)?.excluding(&itself);
        let probe = codec.prepare(&probe_face.embedding)?;
        let found = searcher.search(
            &probe,
            FaceSearchMode::Investigation { k: 1 },
            FaceScope::All,
        )?;
        searches += 1;
        if let Some(hit) = found.hits.first()
            && faces[hit.row as usize].identity == probe_face.identity
        {
            rank1_hits += 1;
        }
    }

    // Every unordered pair.
    let mut genuine = Vec::new();
    let mut impostor = Vec::new();
    let shared = codec_without(&[])?;
    for i in 0..faces.len() {
        for j in i + 1..faces.len() {
            let codec = match mean {
                MeanChoice::LeaveOneOut => codec_without(&[i, j])?,
                _ => shared.clone(),
            };
            let probe = codec.prepare(&faces[i].embedding)?;
            let score = f64::from(codec.score(&probe, &faces[j].embedding)?);
            if faces[i].identity == faces[j].identity {
                genuine.push(score);
            } else {
                impostor.push(score);
            }
        }
    }
    Ok(FaceEvalReport {
        dataset: String::new(),
        templates: faces.len(),
        identities: per_identity.len(),
        dim,
        mean,
        searches,
        rank1_hits,
        rank1: rank1_hits as f64 / searches.max(1) as f64,
        genuine: ScoreStats::of(&genuine),
        impostor: ScoreStats::of(&impostor),
        verification: VerificationReport::new(&genuine, &impostor),
        kernel: kernel_report().kernel,
    })
}

fn mean_of(faces: &[LabelledFace], rows: &[usize], dim: usize) -> Vec<f32> {
    let mut sum = vec![0.0f64; dim];
    for &r in rows {
        for (s, &v) in sum.iter_mut().zip(&faces[r].embedding) {
            *s += f64::from(v);
        }
    }
    let n = rows.len().max(1) as f64;
    sum.iter().map(|s| (s / n) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hoviyat_datasets::faces::synthetic_face_gallery;

    /// Identities as noisy copies of random centres, plus a common offset.
    fn people(ids: usize, per_id: usize, dim: usize, cos: f32) -> Vec<LabelledFace> {
        let centres = synthetic_face_gallery(ids, dim, 9);
        let noise = synthetic_face_gallery(ids * per_id, dim, 10);
        let spread = (1.0 - cos * cos).sqrt();
        (0..ids * per_id)
            .map(|i| {
                let id = i % ids;
                let centre = &centres[id * dim..(id + 1) * dim];
                let n = &noise[i * dim..(i + 1) * dim];
                LabelledFace {
                    identity: format!("id-{id}"),
                    image: String::new(),
                    embedding: centre
                        .iter()
                        .zip(n)
                        .map(|(c, e)| cos * c + spread * e + 0.3)
                        .collect(),
                }
            })
            .collect()
    }

    #[test]
    fn separable_identities_give_perfect_rank1_and_zero_eer() {
        let faces = people(10, 3, 64, 0.9);
        for mean in [MeanChoice::Whole, MeanChoice::LeaveOneOut] {
            let r = evaluate_face_set(&faces, mean).unwrap();
            assert_eq!(r.searches, r.templates);
            assert_eq!(r.rank1, 1.0);
            assert_eq!(r.verification.eer, 0.0);
            assert!(r.genuine.mean > 0.7 && r.impostor.mean.abs() < 0.2);
            let n = r.templates;
            assert_eq!(r.genuine.count + r.impostor.count, n * (n - 1) / 2);
        }
    }

    #[test]
    fn the_common_offset_hides_identity_unless_the_mean_is_removed() {
        let faces = people(10, 3, 64, 0.9);
        let raw = evaluate_face_set(&faces, MeanChoice::None).unwrap();
        let centred = evaluate_face_set(&faces, MeanChoice::Whole).unwrap();
        assert!(raw.impostor.mean > centred.impostor.mean + 0.3);
    }

    #[test]
    fn a_single_identity_is_refused() {
        let mut faces = people(2, 2, 8, 0.9);
        let first = faces[0].identity.clone();
        faces.retain(|f| f.identity == first);
        assert!(matches!(
            evaluate_face_set(&faces, MeanChoice::Whole),
            Err(BenchError::DatasetTooSmall { .. })
        ));
    }
}
