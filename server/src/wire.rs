//! The JSON shapes of the API, apart from the engine's types so that the
//! wire format is a decision of the service (and documented by OpenAPI).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::engine;

/// One captured finger: its ISO position and exactly one of `image`,
/// `template` or `minutiae`.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FingerInput {
    /// ISO/IEC 19794 position code 0..=10 (1 = right thumb) or its
    /// snake_case name (`"right_thumb"`).
    #[schema(value_type = u8, minimum = 0, maximum = 10)]
    pub position: hoviyat_models::FingerPosition,
    pub image: Option<ImageInput>,
    pub template: Option<TemplateInput>,
    pub minutiae: Option<MinutiaeInput>,
}

/// A fingerprint image (PNG, JPEG, TIFF or BMP; grey or colour).
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageInput {
    /// The encoded image file, standard base64.
    pub data: String,
    /// Scan resolution in dots per inch.
    pub dpi: u16,
}

/// Which interchange format a template follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum TemplateFormat {
    /// Decide from the record's header.
    #[serde(rename = "auto")]
    Auto,
    /// ISO/IEC 19794-2:2005.
    #[serde(rename = "iso19794-2-2005")]
    Iso19794_2_2005,
    /// ISO/IEC 19794-2:2011.
    #[serde(rename = "iso19794-2-2011")]
    Iso19794_2_2011,
    /// ANSI/INCITS 378-2004.
    #[serde(rename = "ansi378-2004")]
    Ansi378_2004,
}

/// An ISO/IEC 19794-2 or ANSI/INCITS 378 finger minutiae record.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    /// The binary record, standard base64.
    pub data: String,
    /// Defaults to `auto` (detected from the header).
    #[serde(default)]
    pub format: Option<TemplateFormat>,
}

/// Minutiae as JSON, with the geometry of the image they came from.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MinutiaeInput {
    pub width_px: u16,
    pub height_px: u16,
    pub dpi: u16,
    /// Finger image quality 0..=100.
    #[serde(default)]
    pub quality: u8,
    pub minutiae: Vec<MinutiaJson>,
}

/// One minutia (ISO conventions: origin top-left, y down, angle
/// counter-clockwise as seen on the image, in radians).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MinutiaJson {
    pub x_px: f32,
    pub y_px: f32,
    pub angle_rad: f32,
    /// `ending`, `bifurcation` or `other`.
    #[schema(value_type = String)]
    pub kind: hoviyat_models::MinutiaKind,
    #[serde(default)]
    pub quality: u8,
}

/// A finger that could not be captured.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MissingFingerInput {
    #[schema(value_type = u8)]
    pub position: hoviyat_models::FingerPosition,
    /// `amputated`, `bandaged` or `damaged`.
    #[schema(value_type = String)]
    pub reason: hoviyat_models::MissingReason,
}

/// A face embedding and the model that produced it.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FaceInput {
    /// Identifier of the face model, e.g. `arcface-r100`.
    pub model: String,
    pub values: Vec<f32>,
}

/// `POST /v1/enrollments`.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentRequest {
    /// The enrollment's id in the issuing system (MOSIP's referenceId).
    pub reference_id: String,
    #[serde(default)]
    pub fingers: Vec<FingerInput>,
    #[serde(default)]
    pub missing: Vec<MissingFingerInput>,
    #[serde(default)]
    pub face: Option<FaceInput>,
    /// RFC 3339 capture time.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub captured_at: Option<jiff::Timestamp>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

/// One finger's contribution to a candidate's score.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FingerScoreJson {
    /// ISO finger position code.
    pub position: u8,
    /// The matcher's raw similarity.
    pub raw: f32,
    /// Calibrated evidence, -log10 of the estimated false-match rate.
    pub evidence: f64,
    /// What the score rests on, when the request asked with `"explain": true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explain: Option<FingerExplainJson>,
}

/// The face's contribution to a candidate's score.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FaceScoreJson {
    pub cosine: f32,
    /// Calibrated evidence, -log10 of the estimated false-match rate.
    pub evidence: f64,
}

/// A gallery identity returned by a search, best first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CandidateJson {
    pub rank: u32,
    pub reference_id: String,
    /// Fused evidence over fingers and face: -log10 of the estimated
    /// false-match rate of the whole comparison. Higher is stronger.
    pub score: f64,
    pub fingers: Vec<FingerScoreJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub face: Option<FaceScoreJson>,
}

impl CandidateJson {
    pub fn list(candidates: &[engine::Candidate]) -> Vec<Self> {
        candidates
            .iter()
            .enumerate()
            .map(|(i, c)| Self {
                rank: u32::try_from(i + 1).unwrap_or(u32::MAX),
                reference_id: c.reference_id.clone(),
                score: c.score,
                fingers: fingers_json(&c.fingers),
                face: c.face.as_ref().map(face_json),
            })
            .collect()
    }
}

fn fingers_json(scores: &[engine::FingerScore]) -> Vec<FingerScoreJson> {
    scores
        .iter()
        .map(|f| FingerScoreJson {
            position: f.position.code(),
            raw: f.raw,
            evidence: f.evidence,
            explain: None,
        })
        .collect()
}

fn face_json(f: &engine::FaceScore) -> FaceScoreJson {
    FaceScoreJson {
        cosine: f.cosine,
        evidence: f.evidence,
    }
}

/// Where an enrollment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusJson {
    /// Inserted into the searchable gallery.
    Cleared,
    /// Held for adjudication; not searchable as a distinct person.
    PotentialDuplicate,
    /// An adjudicator confirmed the duplicate; kept for investigation only.
    ConfirmedDuplicate,
    Deleted,
}

impl From<engine::Status> for StatusJson {
    fn from(s: engine::Status) -> Self {
        match s {
            engine::Status::Cleared => Self::Cleared,
            engine::Status::PotentialDuplicate => Self::PotentialDuplicate,
            engine::Status::ConfirmedDuplicate => Self::ConfirmedDuplicate,
            engine::Status::Deleted => Self::Deleted,
        }
    }
}

/// An adjudicator's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerdictJson {
    /// Not the same person: insert the enrollment (now cleared).
    Distinct,
    /// The same person: confirmed duplicate, never issued.
    Duplicate,
}

impl From<VerdictJson> for engine::Verdict {
    fn from(v: VerdictJson) -> Self {
        match v {
            VerdictJson::Distinct => Self::Distinct,
            VerdictJson::Duplicate => Self::Duplicate,
        }
    }
}

impl From<engine::Verdict> for VerdictJson {
    fn from(v: engine::Verdict) -> Self {
        match v {
            engine::Verdict::Distinct => Self::Distinct,
            engine::Verdict::Duplicate => Self::Duplicate,
        }
    }
}

/// The verdict recorded on an enrollment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AdjudicationJson {
    pub verdict: VerdictJson,
    /// Name of the adjudicator's API key.
    pub by: String,
    pub comment: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: jiff::Timestamp,
}

/// An enrollment's decision and status.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnrollmentResponse {
    pub reference_id: String,
    pub status: StatusJson,
    #[schema(value_type = String, format = DateTime)]
    pub decided_at: jiff::Timestamp,
    /// Identities the dedup search covered.
    pub gallery_size: u64,
    /// The fused-evidence threshold of the decision.
    pub threshold: f64,
    /// How many gallery identities matched (0 when cleared): what a caller
    /// without a role that may read candidates is told.
    pub candidate_count: u64,
    /// The gallery identities that matched (for a potential duplicate).
    /// Omitted for callers without a role that may read candidates (an
    /// enroller), so that enrolling is not a way to search the gallery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidates: Option<Vec<CandidateJson>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adjudication: Option<AdjudicationJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub deleted_at: Option<jiff::Timestamp>,
    /// The fingers stored with the enrollment (empty once deleted). Given by
    /// `GET /v1/enrollments/{reference_id}` and the adjudication queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingers: Option<Vec<EnrollmentFingerJson>>,
}

impl EnrollmentResponse {
    pub fn new(e: &engine::Enrollment, show_candidates: bool) -> Self {
        Self {
            reference_id: e.reference_id.clone(),
            status: e.status.into(),
            decided_at: e.decided_at,
            gallery_size: e.gallery_size as u64,
            threshold: e.threshold,
            candidate_count: e.candidates.len() as u64,
            candidates: show_candidates.then(|| CandidateJson::list(&e.candidates)),
            adjudication: e.adjudication.as_ref().map(|a| AdjudicationJson {
                verdict: a.verdict.into(),
                by: a.by.clone(),
                comment: a.comment.clone(),
                at: a.at,
            }),
            deleted_at: e.deleted_at,
            fingers: None,
        }
    }
}

/// `POST /v1/enrollments/{ref}/adjudication`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjudicationRequest {
    pub verdict: VerdictJson,
    #[serde(default)]
    pub comment: String,
}

/// Search mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModeJson {
    /// A fixed-length ranked list (`max_candidates`, default 20), no threshold.
    #[default]
    Investigation,
    /// Only candidates at or above `threshold` (or the threshold for
    /// `target_fpir` at the current gallery size).
    Identification,
}

/// `POST /v1/identify`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentifyRequest {
    #[serde(default)]
    pub fingers: Vec<FingerInput>,
    #[serde(default)]
    pub face: Option<FaceInput>,
    #[serde(default)]
    pub mode: ModeJson,
    /// List length (1..=1000); investigation defaults to 20,
    /// identification to no limit.
    #[serde(default)]
    pub max_candidates: Option<u32>,
    /// Identification: fused-evidence threshold (-log10 FMR).
    #[serde(default)]
    pub threshold: Option<f64>,
    /// Identification: target false positive identification rate (0..1).
    #[serde(default)]
    pub target_fpir: Option<f64>,
    /// Search only these reference ids.
    #[serde(default)]
    pub restrict_to: Option<Vec<String>>,
    /// Add to every finger score of every candidate the paired minutiae and
    /// the alignment it rests on (`explain`).
    #[serde(default)]
    pub explain: bool,
}

/// Ranked candidates of a search.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IdentifyResponse {
    /// Number of gallery identities searched.
    pub gallery_size: u64,
    /// The fused-evidence threshold applied (identification mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// SHA-256 of the probe, as written to the audit log.
    pub probe_sha256: String,
    pub candidates: Vec<CandidateJson>,
}

/// `POST /v1/verify`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    pub reference_id: String,
    #[serde(default)]
    pub fingers: Vec<FingerInput>,
    #[serde(default)]
    pub face: Option<FaceInput>,
    /// Add to every finger score the paired minutiae and the alignment it
    /// rests on (`explain`).
    #[serde(default)]
    pub explain: bool,
}

/// A 1:1 comparison.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VerifyResponse {
    pub reference_id: String,
    /// Fused evidence (-log10 FMR).
    pub score: f64,
    pub is_match: bool,
    /// The evidence needed to call it a match.
    pub threshold: f64,
    pub fingers: Vec<FingerScoreJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub face: Option<FaceScoreJson>,
    pub probe_sha256: String,
}

impl VerifyResponse {
    pub fn new(v: &engine::Verification, probe_sha256: String) -> Self {
        Self {
            reference_id: v.reference_id.clone(),
            score: v.score,
            is_match: v.is_match,
            threshold: v.threshold,
            fingers: fingers_json(&v.fingers),
            face: v.face.as_ref().map(face_json),
            probe_sha256,
        }
    }
}

/// `GET /v1/stats`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatsResponse {
    /// Cleared, searchable identities.
    pub identities: u64,
    /// Enrollments held for adjudication.
    pub held_enrollments: u64,
    pub confirmed_duplicates: u64,
    pub deleted: u64,
    /// Bytes of the gallery on disk.
    pub gallery_bytes: u64,
    /// Matching requests queued or running now.
    pub pending_work: u64,
    /// Finger images kept in the evidence store.
    pub evidence_images: u64,
    /// Bytes of those images.
    pub evidence_bytes: u64,
}

/// `GET /v1/health`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HealthResponse {
    pub status: String,
    pub version: String,
    /// The matching kernels picked at start-up.
    #[schema(value_type = Object)]
    pub kernels: serde_json::Value,
}

/// `POST /v1/compare`: two fingers compared 1:1.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareRequest {
    pub probe: SampleInput,
    pub gallery: SampleInput,
}

/// One side of a comparison: a finger as in enrollments (`position` and
/// exactly one of `image`, `template` or `minutiae`), or a stored finger
/// (`reference_id` and `position`; held enrollments included).
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SampleInput {
    /// ISO/IEC 19794 position code 0..=10 or its snake_case name; required.
    #[schema(value_type = u8, minimum = 0, maximum = 10)]
    #[serde(default)]
    pub position: Option<hoviyat_models::FingerPosition>,
    /// A stored enrollment whose finger at `position` is compared.
    #[serde(default)]
    pub reference_id: Option<String>,
    #[serde(default)]
    pub image: Option<ImageInput>,
    #[serde(default)]
    pub template: Option<TemplateInput>,
    #[serde(default)]
    pub minutiae: Option<MinutiaeInput>,
}

/// A similarity taking gallery pixel coordinates into the probe's image
/// (origin top-left, y down): `x' = scale (cos r x + sin r y) + dx_px`,
/// `y' = scale (-sin r x + cos r y) + dy_px` with `r = rotation_rad`,
/// counter-clockwise as seen (a gallery minutia's `angle_rad + rotation_rad`
/// is its direction in the probe). Pairs may deviate from it by the skin's
/// distortion.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AlignmentJson {
    pub rotation_rad: f32,
    pub dx_px: f32,
    pub dy_px: f32,
    /// Probe pixels per gallery pixel.
    pub scale: f32,
}

impl From<engine::Similarity> for AlignmentJson {
    fn from(a: engine::Similarity) -> Self {
        Self {
            rotation_rad: a.rotation_rad,
            dx_px: a.dx_px,
            dy_px: a.dy_px,
            scale: a.scale,
        }
    }
}

/// A point in one image's pixels (origin top-left, y down).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PointJson {
    pub x_px: f32,
    pub y_px: f32,
}

/// A paired minutia: where it lies in the probe and in the gallery image.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PairJson {
    pub probe: PointJson,
    pub gallery: PointJson,
}

/// The probe finger of a comparison, as the matcher saw it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProbeFingerJson {
    pub width_px: u16,
    pub height_px: u16,
    pub dpi: u16,
    pub minutiae: Vec<MinutiaJson>,
}

impl ProbeFingerJson {
    pub fn new(t: &hoviyat_models::FingerTemplate) -> Self {
        Self {
            width_px: t.width_px,
            height_px: t.height_px,
            dpi: t.dpi,
            minutiae: minutiae_json(t),
        }
    }
}

/// The gallery finger of a comparison.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GalleryFingerJson {
    pub width_px: u16,
    pub height_px: u16,
    pub dpi: u16,
    pub minutiae: Vec<MinutiaJson>,
    /// The stored enrollment it belongs to (absent for a submitted finger).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_id: Option<String>,
    /// ISO finger position code.
    pub position: u8,
    /// Whether the finger's image was kept and can be fetched.
    pub has_image: bool,
}

impl GalleryFingerJson {
    pub fn new(
        t: &hoviyat_models::FingerTemplate,
        reference_id: Option<String>,
        has_image: bool,
    ) -> Self {
        Self {
            width_px: t.width_px,
            height_px: t.height_px,
            dpi: t.dpi,
            minutiae: minutiae_json(t),
            reference_id,
            position: t.position.code(),
            has_image,
        }
    }
}

fn minutiae_json(t: &hoviyat_models::FingerTemplate) -> Vec<MinutiaJson> {
    t.minutiae
        .iter()
        .map(|m| MinutiaJson {
            x_px: m.x_px,
            y_px: m.y_px,
            angle_rad: m.angle_rad,
            kind: m.kind,
            quality: m.quality,
        })
        .collect()
}

/// The pairs of `e` as points of `probe` and `gallery`.
fn pairs_json(
    e: &engine::Explanation,
    probe: &hoviyat_models::FingerTemplate,
    gallery: &hoviyat_models::FingerTemplate,
) -> Vec<PairJson> {
    e.pairs
        .iter()
        .filter_map(|pair| {
            let (p, g) = (
                probe.minutiae.get(pair.probe)?,
                gallery.minutiae.get(pair.gallery)?,
            );
            Some(PairJson {
                probe: PointJson {
                    x_px: p.x_px,
                    y_px: p.y_px,
                },
                gallery: PointJson {
                    x_px: g.x_px,
                    y_px: g.y_px,
                },
            })
        })
        .collect()
}

/// A 1:1 finger comparison with what its score rests on.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CompareResponse {
    /// The full 1:1 comparison's raw similarity: the stronger direction's
    /// alignment score plus the minutiae neighbourhoods' local similarity
    /// (symmetric; not on the scale of search scores: compare `log10_fmr`).
    pub score: f32,
    /// Calibrated evidence, -log10 of the estimated false-match rate.
    pub log10_fmr: f32,
    /// Estimated false-match rate of a score this high: 10^-log10_fmr.
    pub fmr_estimate: f64,
    /// Minutiae paired one-to-one.
    pub paired: u32,
    /// Gallery to probe coordinates; null when nothing paired.
    pub alignment: Option<AlignmentJson>,
    pub pairs: Vec<PairJson>,
    pub probe: ProbeFingerJson,
    pub gallery: GalleryFingerJson,
}

impl CompareResponse {
    pub fn new(
        e: &engine::Explanation,
        probe: &hoviyat_models::FingerTemplate,
        gallery: &hoviyat_models::FingerTemplate,
        gallery_view: GalleryFingerJson,
    ) -> Self {
        Self {
            score: e.score.raw,
            log10_fmr: e.score.log10_fmr,
            fmr_estimate: 10f64.powf(-f64::from(e.score.log10_fmr)),
            paired: e.score.paired,
            alignment: e.alignment.map(AlignmentJson::from),
            pairs: pairs_json(e, probe, gallery),
            probe: ProbeFingerJson::new(probe),
            gallery: gallery_view,
        }
    }
}

/// What one finger score of a search rests on (`"explain": true`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FingerExplainJson {
    /// Gallery to probe coordinates; null when nothing paired.
    pub alignment: Option<AlignmentJson>,
    pub pairs: Vec<PairJson>,
    /// The stored finger compared.
    pub gallery: GalleryFingerJson,
}

impl FingerExplainJson {
    pub fn new(
        e: &engine::FingerExplanation,
        probe: &engine::Probe,
        reference_id: &str,
        has_image: bool,
    ) -> Option<Self> {
        let probe_finger = probe.fingers.get(e.probe_finger)?;
        Some(Self {
            alignment: e.explanation.alignment.map(AlignmentJson::from),
            pairs: pairs_json(&e.explanation, probe_finger, &e.gallery),
            gallery: GalleryFingerJson::new(&e.gallery, Some(reference_id.to_owned()), has_image),
        })
    }
}

/// Puts the explanations of `candidate`'s finger scores (in their order,
/// as the engine made them) beside the scores; `with_image` lists the
/// candidate's fingers whose image the evidence store keeps.
pub fn attach_explanations(
    fingers: &mut [FingerScoreJson],
    explained: &[Option<engine::FingerExplanation>],
    probe: &engine::Probe,
    reference_id: &str,
    with_image: &[hoviyat_models::FingerPosition],
) {
    for (score, e) in fingers.iter_mut().zip(explained) {
        score.explain = e.as_ref().and_then(|e| {
            let has_image = with_image.contains(&e.gallery.position);
            FingerExplainJson::new(e, probe, reference_id, has_image)
        });
    }
}

/// A finger stored with an enrollment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnrollmentFingerJson {
    /// ISO finger position code.
    pub position: u8,
    /// Whether the submitted image is kept (read it at
    /// `GET /v1/enrollments/{reference_id}/fingers/{position}/image`);
    /// false for a finger sent as a template or minutiae.
    pub has_image: bool,
    /// Minutiae of the stored template.
    pub minutiae_count: u32,
}

impl EnrollmentFingerJson {
    /// The stored fingers, marked with the positions that have an image.
    pub fn list(
        fingers: &[engine::StoredFinger],
        with_image: &[hoviyat_models::FingerPosition],
    ) -> Vec<Self> {
        fingers
            .iter()
            .map(|f| Self {
                position: f.position.code(),
                has_image: with_image.contains(&f.position),
                minutiae_count: u32::try_from(f.minutiae_count).unwrap_or(u32::MAX),
            })
            .collect()
    }
}

/// `GET /v1/enrollments?status=potential_duplicate`: one page of the
/// adjudication queue, oldest decision first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnrollmentQueueResponse {
    pub enrollments: Vec<EnrollmentResponse>,
    /// Pass as `after` for the next page; null on the last page.
    pub next: Option<String>,
}

/// `GET /v1/whoami`: the caller's key.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WhoamiResponse {
    pub key_id: String,
    /// Who holds the key (its name in the key store).
    pub name: String,
    pub roles: Vec<crate::keys::Role>,
}

/// One API key as `GET /v1/keys` lists it: never its secret or hash.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KeyJson {
    pub key_id: String,
    pub name: String,
    pub roles: Vec<crate::keys::Role>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    /// When the key was revoked (null while it is active).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<jiff::Timestamp>,
}

/// `GET /v1/audit/state`: whether the audit log's hash chain verifies.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditStateResponse {
    pub intact: bool,
    /// Entries in the log.
    pub entries: u64,
    /// SHA-256 (hex) of the last entry's line: the chain's head.
    pub head: String,
    /// Where and how the chain breaks (null when intact).
    pub problem: Option<String>,
}

/// `GET /v1/eval/det`: the DET plots available.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DetPlotsResponse {
    /// File names, to read at `GET /v1/eval/det/{name}`.
    pub plots: Vec<String>,
}
