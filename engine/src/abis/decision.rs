//! Decisions and the log they are recorded in before they take effect.
//!
//! A gallery change that decides about a person (an enrollment's dedup
//! decision, an adjudication, a delete) is handed to a [`DecisionLog`] under
//! the decision lock, after it is taken and before it is stored. If the log
//! refuses it, nothing is stored; if storing fails after the log took it,
//! the log is told. So every stored decision has its record, in the order
//! the decisions took effect, and at most the last recorded decision may be
//! missing from the gallery after a crash (see [`took_effect`]).

use super::types::{Enrollment, Status};

/// What a decision does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionKind {
    /// A new enrollment's dedup decision (cleared or held).
    Enroll,
    /// An adjudicator's verdict on a held enrollment.
    Adjudicate,
    /// An enrollment removed from the gallery.
    Delete,
}

/// A decision about to be stored: what it does and the enrollment's state
/// once it is stored.
#[derive(Debug, Clone, Copy)]
pub struct Decision<'a> {
    pub kind: DecisionKind,
    pub enrollment: &'a Enrollment,
}

/// Why a [`DecisionLog`] could not record a decision.
pub type DecisionLogError = Box<dyn std::error::Error + Send + Sync>;

/// Where decisions are recorded before they take effect (an audit log).
pub trait DecisionLog {
    /// Records `decision` durably. Called under the decision lock, so
    /// decisions reach the log one at a time, in the order they take effect.
    /// An error leaves the gallery unchanged and fails the call with
    /// [`crate::EngineError::DecisionNotRecorded`].
    fn record(&self, decision: Decision<'_>) -> Result<(), DecisionLogError>;

    /// Storing a decision that [`DecisionLog::record`] took failed: it did
    /// not take effect. Best effort (the gallery write failed, the log may
    /// well fail too); still under the decision lock.
    fn not_stored(&self, decision: Decision<'_>);
}

/// A log that records nothing: for batch jobs, benchmarks and tests that
/// keep no audit trail.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unrecorded;

impl DecisionLog for Unrecorded {
    fn record(&self, _: Decision<'_>) -> Result<(), DecisionLogError> {
        Ok(())
    }
    fn not_stored(&self, _: Decision<'_>) {}
}

/// Whether the gallery's state of an enrollment, `stored`, shows that a
/// decision of `kind` about it took effect. Decisions are taken one at a
/// time, so for the last recorded decision this tells whether it was stored.
pub fn took_effect(kind: DecisionKind, stored: Option<&Enrollment>) -> bool {
    match (kind, stored) {
        (_, None) => false,
        (DecisionKind::Enroll, Some(_)) => true,
        (DecisionKind::Adjudicate, Some(e)) => e.adjudication.is_some(),
        (DecisionKind::Delete, Some(e)) => e.status == Status::Deleted,
    }
}
