//! The request and answer types of the dedup facade.

use hoviyat_models::{FaceTemplate, FingerPosition, FingerTemplate};
use serde::{Deserialize, Serialize};

/// Where an enrollment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// No mate found (or an adjudicator said distinct): searchable, may be issued.
    Cleared,
    /// A mate was found: held for adjudication, not searchable as a person.
    PotentialDuplicate,
    /// An adjudicator confirmed the duplicate: kept for investigation, never issued.
    ConfirmedDuplicate,
    /// Removed from the gallery; its status stays readable.
    Deleted,
}

/// An adjudicator's verdict on a held enrollment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Not the same person as any candidate: insert it, now cleared.
    Distinct,
    /// The same person as a candidate: confirmed duplicate.
    Duplicate,
}

/// A recorded adjudication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adjudication {
    pub verdict: Verdict,
    /// Who decided (the adjudicator's key name).
    pub by: String,
    pub comment: String,
    pub at: jiff::Timestamp,
}

/// One finger's contribution to a candidate's score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FingerScore {
    pub position: FingerPosition,
    /// The matcher's raw similarity.
    pub raw: f32,
    /// Calibrated evidence, `-log10` of the estimated false-match rate.
    pub evidence: f64,
}

/// The face's contribution to a candidate's score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FaceScore {
    /// Cosine similarity of the (mean-centred) templates.
    pub cosine: f32,
    /// Calibrated evidence, `-log10` of the estimated false-match rate.
    pub evidence: f64,
}

/// A gallery identity returned by a search, with the evidence for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub reference_id: String,
    /// Fused evidence over fingers and face, `-log10` of the estimated
    /// false-match rate of the whole comparison. Higher is stronger.
    pub score: f64,
    /// Per-finger scores, for the positions both sides have.
    pub fingers: Vec<FingerScore>,
    pub face: Option<FaceScore>,
}

/// The state of one enrollment: what the enrollment pipeline tracks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enrollment {
    pub reference_id: String,
    pub status: Status,
    /// When the dedup decision was taken.
    pub decided_at: jiff::Timestamp,
    /// The identities the dedup search found at or above the threshold.
    pub candidates: Vec<Candidate>,
    /// The fused-evidence threshold the decision used.
    pub threshold: f64,
    /// How many identities the dedup search covered.
    pub gallery_size: usize,
    pub adjudication: Option<Adjudication>,
    /// When the enrollment was deleted, if it was.
    pub deleted_at: Option<jiff::Timestamp>,
}

/// What [`super::Abis::enroll`] answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollOutcome {
    pub enrollment: Enrollment,
    /// True when this was an identical retry of an earlier enrollment, whose
    /// original answer is returned unchanged.
    pub replayed: bool,
}

/// A search probe: any subset of fingers (partial prints too) and/or a face.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Probe {
    #[serde(default)]
    pub fingers: Vec<FingerTemplate>,
    #[serde(default)]
    pub face: Option<FaceTemplate>,
}

/// How a search chooses its candidates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Mode {
    /// The `max_candidates` best identities, whatever their score (T = 0).
    Investigation { max_candidates: usize },
    /// Every identity at or above a threshold: an explicit fused-evidence
    /// `threshold`, or the one derived from `target_fpir` and the gallery
    /// size; with neither, the gallery's dedup threshold.
    Identification {
        threshold: Option<f64>,
        target_fpir: Option<f64>,
        /// At most this many candidates (highest first).
        max_candidates: Option<usize>,
    },
}

impl Default for Mode {
    fn default() -> Self {
        Mode::Investigation { max_candidates: 20 }
    }
}

/// Options of an investigator's search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct IdentifyOptions {
    #[serde(flatten)]
    pub mode: Mode,
    /// Search only these reference ids.
    #[serde(default)]
    pub restrict_to: Option<Vec<String>>,
}

/// The answer to a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identification {
    /// Best first.
    pub candidates: Vec<Candidate>,
    /// Identities searched (after any restriction).
    pub gallery_size: usize,
    /// The fused-evidence threshold applied, in identification mode.
    pub threshold: Option<f64>,
}

/// The answer to a 1:1 comparison against one stored reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    pub reference_id: String,
    /// Fused evidence (`-log10` FMR).
    pub score: f64,
    pub fingers: Vec<FingerScore>,
    pub face: Option<FaceScore>,
    /// The evidence needed to call it a match (1:1 at FMR 1 in 10,000 unless configured).
    pub threshold: f64,
    pub is_match: bool,
}

/// Counts and sizes of a gallery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Searchable identities (cleared enrollments).
    pub identities: usize,
    /// Enrollments held as potential duplicates.
    pub held: usize,
    pub confirmed_duplicates: usize,
    pub deleted: usize,
    pub bytes_on_disk: u64,
    /// Enrollments received but not yet decided.
    pub pending: usize,
}
