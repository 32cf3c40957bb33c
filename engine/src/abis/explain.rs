//! Stored fingers and the explanation of search results: which minutiae
//! each finger score of a returned candidate rests on. Explanations are made
//! for the candidates a search returned only, after it.

use hoviyat_models::{FingerPosition, FingerTemplate};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::types::{Candidate, FingerScore, Probe};
use super::{Abis, validate_probe};
use crate::finger::{Explanation, PreparedProbe, explain, explain_prepared};
use crate::{EngineError, Result};

/// The explanation of one finger score of a candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FingerExplanation {
    /// Index of the probe finger the score came from, in `Probe::fingers`.
    pub probe_finger: usize,
    /// The stored finger it was compared with.
    pub gallery: FingerTemplate,
    /// Pairs and alignment, from the probe's side: of the probe's direction
    /// for a search result scored by the candidate stage, of the full 1:1
    /// comparison for a verification or an investigation's shortlist.
    pub explanation: Explanation,
}

impl Abis {
    /// One stored finger of an enrollment, as enrolled (held and confirmed
    /// duplicates included, deleted ones not).
    pub fn stored_finger(
        &self,
        reference_id: &str,
        position: FingerPosition,
    ) -> Result<FingerTemplate> {
        super::live_record(&self.gallery.snapshot(), reference_id)?
            .fingers
            .into_iter()
            .find(|f| f.position == position)
            .ok_or_else(|| EngineError::UnknownFinger {
                reference_id: reference_id.to_string(),
                position,
            })
    }

    /// Explains every finger score of `candidates`, as [`Abis::identify`] or
    /// [`Abis::verify`] returned them for `probe`: one entry per candidate,
    /// one per finger score in its order. An entry is `None` when the
    /// comparison cannot be made again as scored (the enrollment was
    /// deleted since, say): an explanation always carries the score shown.
    pub fn explain_candidates(
        &self,
        probe: &Probe,
        candidates: &[Candidate],
    ) -> Result<Vec<Vec<Option<FingerExplanation>>>> {
        validate_probe(probe, self.face_dim())?;
        let prepared = probe
            .fingers
            .iter()
            .map(PreparedProbe::new)
            .collect::<Result<Vec<_>>>()?;
        let snapshot = self.gallery.snapshot();
        candidates
            .par_iter()
            .map(|candidate| {
                let Some(row) = super::live_row(&snapshot, &candidate.reference_id) else {
                    return Ok(vec![None; candidate.fingers.len()]);
                };
                let record = row.record()?;
                candidate
                    .fingers
                    .iter()
                    .map(|score| explain_score(probe, &prepared, &record.fingers, score))
                    .collect()
            })
            .collect()
    }
}

/// Finds the probe finger and stored finger behind `score` by making the
/// comparisons it may have come from again (a probe finger of its position
/// or of unknown position against the stored finger at its position) and
/// keeping the one that gives the very same raw score.
fn explain_score(
    probe: &Probe,
    prepared: &[PreparedProbe],
    stored: &[FingerTemplate],
    score: &FingerScore,
) -> Result<Option<FingerExplanation>> {
    let Some(gallery) = stored.iter().find(|g| g.position == score.position) else {
        return Ok(None);
    };
    let tried = probe
        .fingers
        .iter()
        .zip(prepared)
        .enumerate()
        .filter(|(_, (t, _))| {
            t.position == score.position || t.position == FingerPosition::Unknown
        });
    for (i, (template, prepared)) in tried {
        // Searches score the probe's direction by alignment; verification
        // scores with the full comparison.
        let one_way = explain_prepared(prepared, template, gallery)?;
        let explanation = if one_way.score.raw.to_bits() == score.raw.to_bits() {
            one_way
        } else {
            let full = explain(template, gallery)?;
            if full.score.raw.to_bits() != score.raw.to_bits() {
                continue;
            }
            full
        };
        return Ok(Some(FingerExplanation {
            probe_finger: i,
            gallery: gallery.clone(),
            explanation,
        }));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abis::{AbisConfig, IdentifyOptions, Status};
    use hoviyat_datasets::minutiae_impressions::{Master, Perturbation};
    use hoviyat_models::EnrollmentRecord;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    const POSITIONS: [FingerPosition; 2] = [FingerPosition::RightThumb, FingerPosition::RightIndex];

    fn record(reference_id: &str, masters: &[Master], rng: &mut ChaCha8Rng) -> EnrollmentRecord {
        let fingers = masters
            .iter()
            .zip(POSITIONS)
            .map(|(m, position)| FingerTemplate {
                position,
                ..m.impression(&Perturbation::default(), rng)
            })
            .collect();
        EnrollmentRecord::new(reference_id, fingers, None)
    }

    #[test]
    fn stored_fingers_of_held_enrollments_are_readable_and_search_scores_explained() {
        let dir = tempfile::tempdir().unwrap();
        let config = AbisConfig {
            face_dim: None,
            ..AbisConfig::default()
        };
        let abis = Abis::open(dir.path(), &config).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let people: Vec<Vec<Master>> = (0..6)
            .map(|_| (0..2).map(|_| Master::generate(&mut rng)).collect())
            .collect();
        for (i, masters) in people.iter().enumerate() {
            let outcome = abis
                .enroll(record(&format!("p-{i}"), masters, &mut rng))
                .unwrap();
            assert_eq!(outcome.enrollment.status, Status::Cleared);
        }
        let again = record("p-0-again", &people[0], &mut rng);
        let held = abis.enroll(again.clone()).unwrap();
        assert_eq!(held.enrollment.status, Status::PotentialDuplicate);

        // A held enrollment's finger reads back as enrolled.
        let thumb = abis
            .stored_finger("p-0-again", FingerPosition::RightThumb)
            .unwrap();
        assert_eq!(thumb.minutiae.len(), again.fingers[0].minutiae.len());
        assert!(matches!(
            abis.stored_finger("p-0-again", FingerPosition::LeftLittle),
            Err(EngineError::UnknownFinger { .. })
        ));
        assert!(matches!(
            abis.stored_finger("nobody", FingerPosition::RightThumb),
            Err(EngineError::UnknownReference { .. })
        ));

        // A search: the second finger's position unknown (a latent).
        let mut probe_record = record("probe", &people[0], &mut rng);
        probe_record.fingers[1].position = FingerPosition::Unknown;
        let probe = Probe {
            fingers: probe_record.fingers,
            face: None,
        };
        let found = abis.identify(&probe, &IdentifyOptions::default()).unwrap();
        assert_eq!(found.candidates[0].reference_id, "p-0");
        let explained = abis.explain_candidates(&probe, &found.candidates).unwrap();
        assert_eq!(explained.len(), found.candidates.len());
        for (candidate, fingers) in found.candidates.iter().zip(&explained) {
            assert_eq!(fingers.len(), candidate.fingers.len());
            for (score, e) in candidate.fingers.iter().zip(fingers) {
                let e = e.as_ref().expect("every shown score is explained");
                assert_eq!(e.explanation.score.raw, score.raw);
                assert_eq!(e.gallery.position, score.position);
                assert_eq!(e.explanation.pairs.len() as u32, e.explanation.score.paired);
            }
        }
        // The mate's thumb came from probe finger 0, its index finger from
        // the latent (probe finger 1), each with many pairs.
        let mate = &explained[0];
        let by_position = |p: FingerPosition| {
            mate.iter()
                .flatten()
                .find(|e| e.gallery.position == p)
                .unwrap()
        };
        assert_eq!(by_position(FingerPosition::RightThumb).probe_finger, 0);
        assert_eq!(by_position(FingerPosition::RightIndex).probe_finger, 1);
        assert!(
            by_position(FingerPosition::RightThumb)
                .explanation
                .pairs
                .len()
                >= 10
        );

        // Verification scores each finger with the full 1:1 comparison,
        // the score `POST /v1/compare` shows, and explains that score.
        let verified = abis.verify(&probe, "p-0").unwrap();
        assert!(verified.is_match);
        let stored_thumb = abis
            .stored_finger("p-0", FingerPosition::RightThumb)
            .unwrap();
        let full = crate::finger::compare(&probe.fingers[0], &stored_thumb).unwrap();
        let thumb = verified
            .fingers
            .iter()
            .find(|f| f.position == FingerPosition::RightThumb)
            .unwrap();
        assert_eq!(thumb.raw, full.raw);
        assert_eq!(thumb.evidence, f64::from(full.log10_fmr));
        let as_candidate = crate::abis::Candidate {
            reference_id: verified.reference_id.clone(),
            score: verified.score,
            fingers: verified.fingers.clone(),
            face: verified.face,
        };
        let explained = abis.explain_candidates(&probe, &[as_candidate]).unwrap();
        for (score, e) in verified.fingers.iter().zip(&explained[0]) {
            let e = e.as_ref().expect("every verified score is explained");
            assert_eq!(e.explanation.score.raw, score.raw);
        }
    }
}
