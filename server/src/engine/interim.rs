//! A stand-in for `hoviyat_engine::abis` with the planned API, so that the
//! service can be built and tested before the engine lands. Deleted then.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

pub use hoviyat_engine::abis::{
    Adjudication, Candidate, EnrollOutcome, Enrollment, FaceScore, FingerScore, Identification,
    IdentifyOptions, Mode, Probe, Stats, Status, Verdict, Verification,
};
use hoviyat_models::{EnrollmentRecord, ModelError};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("reference {reference_id} exists with a different record")]
    ReferenceExists { reference_id: String },
    #[error("reference {reference_id} not found")]
    ReferenceNotFound { reference_id: String },
    #[error("reference {reference_id} is {status:?}, not held for adjudication")]
    NotHeld {
        reference_id: String,
        status: Status,
    },
    #[error("probe holds neither fingers nor a face")]
    EmptyProbe,
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Default)]
pub struct AbisConfig {}

#[derive(Debug, Clone, Serialize)]
pub struct KernelReport {
    pub finger: String,
    pub face: String,
}

const THRESHOLD: f64 = 0.8;

struct Entry {
    record: EnrollmentRecord,
    enrollment: Enrollment,
}

#[derive(Debug)]
pub struct Abis {
    state: Mutex<HashMap<String, EntryBox>>,
}

struct EntryBox(Entry);
impl std::fmt::Debug for EntryBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Entry")
    }
}

fn cosine(a: &[f32], b: &[f32]) -> Option<f32> {
    if a.len() != b.len() {
        return None;
    }
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    Some(dot / (na * nb).max(1e-12))
}

fn compare(probe: &Probe, record: &EnrollmentRecord, reference_id: &str) -> Candidate {
    let mut fingers = Vec::new();
    for f in &probe.fingers {
        if let Some(g) = record.finger(f.position) {
            let same = f.minutiae == g.minutiae;
            let raw = if same { 1.0 } else { 0.0 };
            fingers.push(FingerScore {
                position: f.position,
                raw,
                evidence: f64::from(raw),
            });
        }
    }
    let face = match (&probe.face, &record.face) {
        (Some(p), Some(g)) => cosine(&p.values, &g.values).map(|c| FaceScore {
            cosine: c,
            evidence: f64::from(c),
        }),
        _ => None,
    };
    let best = fingers.iter().map(|f| f.evidence).fold(0.0f64, f64::max);
    Candidate {
        reference_id: reference_id.to_owned(),
        score: best.max(face.map_or(0.0, |f| f.evidence)),
        fingers,
        face,
    }
}

impl Abis {
    pub fn open(_dir: &Path, _cfg: AbisConfig) -> Result<Self> {
        Ok(Self {
            state: Mutex::new(HashMap::new()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, EntryBox>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn enroll(&self, record: EnrollmentRecord) -> Result<EnrollOutcome> {
        record.validate(None)?;
        let mut state = self.lock();
        if let Some(e) = state.get(&record.reference_id) {
            if e.0.record == record {
                return Ok(EnrollOutcome {
                    enrollment: e.0.enrollment.clone(),
                    replayed: true,
                });
            }
            return Err(EngineError::ReferenceExists {
                reference_id: record.reference_id,
            });
        }
        let probe = Probe {
            fingers: record.fingers.clone(),
            face: record.face.clone(),
        };
        let mut candidates: Vec<Candidate> = state
            .iter()
            .filter(|(_, e)| e.0.enrollment.status == Status::Cleared)
            .map(|(id, e)| compare(&probe, &e.0.record, id))
            .filter(|c| c.score >= THRESHOLD)
            .collect();
        candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
        let status = if candidates.is_empty() {
            Status::Cleared
        } else {
            Status::PotentialDuplicate
        };
        let gallery_size = state
            .values()
            .filter(|e| e.0.enrollment.status == Status::Cleared)
            .count();
        let enrollment = Enrollment {
            reference_id: record.reference_id.clone(),
            status,
            decided_at: jiff::Timestamp::now(),
            candidates,
            threshold: THRESHOLD,
            gallery_size,
            adjudication: None,
            deleted_at: None,
        };
        state.insert(
            record.reference_id.clone(),
            EntryBox(Entry {
                record,
                enrollment: enrollment.clone(),
            }),
        );
        Ok(EnrollOutcome {
            enrollment,
            replayed: false,
        })
    }

    pub fn enrollment(&self, reference_id: &str) -> Result<Option<Enrollment>> {
        Ok(self
            .lock()
            .get(reference_id)
            .map(|e| e.0.enrollment.clone()))
    }

    pub fn adjudicate(
        &self,
        reference_id: &str,
        verdict: Verdict,
        by: &str,
        comment: &str,
    ) -> Result<Enrollment> {
        let mut state = self.lock();
        let e = state
            .get_mut(reference_id)
            .ok_or_else(|| EngineError::ReferenceNotFound {
                reference_id: reference_id.to_owned(),
            })?;
        if e.0.enrollment.status != Status::PotentialDuplicate {
            return Err(EngineError::NotHeld {
                reference_id: reference_id.to_owned(),
                status: e.0.enrollment.status,
            });
        }
        e.0.enrollment.status = match verdict {
            Verdict::Distinct => Status::Cleared,
            Verdict::Duplicate => Status::ConfirmedDuplicate,
        };
        e.0.enrollment.adjudication = Some(Adjudication {
            verdict,
            by: by.to_owned(),
            comment: comment.to_owned(),
            at: jiff::Timestamp::now(),
        });
        Ok(e.0.enrollment.clone())
    }

    pub fn identify(&self, probe: &Probe, options: &IdentifyOptions) -> Result<Identification> {
        if probe.fingers.is_empty() && probe.face.is_none() {
            return Err(EngineError::EmptyProbe);
        }
        let state = self.lock();
        let gallery: Vec<_> = state
            .iter()
            .filter(|(_, e)| e.0.enrollment.status == Status::Cleared)
            .filter(|(id, _)| {
                options
                    .restrict_to
                    .as_ref()
                    .is_none_or(|r| r.iter().any(|x| x == *id))
            })
            .collect();
        let gallery_size = gallery.len();
        let mut candidates: Vec<Candidate> = gallery
            .into_iter()
            .map(|(id, e)| compare(probe, &e.0.record, id))
            .collect();
        candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
        match options.mode {
            Mode::Investigation { max_candidates } => candidates.truncate(max_candidates),
            Mode::Identification {
                threshold,
                max_candidates,
                ..
            } => {
                let t = threshold.unwrap_or(THRESHOLD);
                candidates.retain(|c| c.score >= t);
                candidates.truncate(max_candidates.unwrap_or(usize::MAX));
            }
        }
        Ok(Identification {
            candidates,
            gallery_size,
            threshold: Some(THRESHOLD),
        })
    }

    pub fn verify(&self, probe: &Probe, reference_id: &str) -> Result<Verification> {
        let state = self.lock();
        let e = state
            .get(reference_id)
            .ok_or_else(|| EngineError::ReferenceNotFound {
                reference_id: reference_id.to_owned(),
            })?;
        let c = compare(probe, &e.0.record, reference_id);
        Ok(Verification {
            reference_id: reference_id.to_owned(),
            score: c.score,
            fingers: c.fingers,
            face: c.face,
            threshold: THRESHOLD,
            is_match: c.score >= THRESHOLD,
        })
    }

    pub fn delete(&self, reference_id: &str) -> Result<Enrollment> {
        let mut state = self.lock();
        let e = state
            .get_mut(reference_id)
            .ok_or_else(|| EngineError::ReferenceNotFound {
                reference_id: reference_id.to_owned(),
            })?;
        e.0.enrollment.status = Status::Deleted;
        e.0.enrollment.deleted_at = Some(jiff::Timestamp::now());
        Ok(e.0.enrollment.clone())
    }

    pub fn stats(&self) -> Stats {
        let state = self.lock();
        let count = |s| {
            state
                .values()
                .filter(|e| e.0.enrollment.status == s)
                .count()
        };
        Stats {
            identities: count(Status::Cleared),
            held: count(Status::PotentialDuplicate),
            confirmed_duplicates: count(Status::ConfirmedDuplicate),
            deleted: count(Status::Deleted),
            bytes_on_disk: 0,
            pending: 0,
        }
    }

    pub fn kernels(&self) -> KernelReport {
        KernelReport {
            finger: "scalar".into(),
            face: "scalar".into(),
        }
    }
}
