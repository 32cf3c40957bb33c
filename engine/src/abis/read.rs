//! Read-only views of stored enrollments that a reviewing console needs:
//! the fingers an enrollment holds and the enrollments held for
//! adjudication.

use hoviyat_models::FingerPosition;

use super::{Abis, Enrollment, Status, read_state};
use crate::Result;

/// One finger stored with an enrollment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredFinger {
    pub position: FingerPosition,
    /// Minutiae of the stored template.
    pub minutiae_count: usize,
}

impl Abis {
    /// The fingers stored for `reference_id`, in the record's order: `None`
    /// if the id was never enrolled, empty once it is deleted.
    pub fn stored_fingers(&self, reference_id: &str) -> Result<Option<Vec<StoredFinger>>> {
        let snapshot = self.gallery.snapshot();
        let Some(row) = snapshot.get(reference_id) else {
            return Ok(None);
        };
        if row.is_deleted() {
            return Ok(Some(Vec::new()));
        }
        let record = row.record()?;
        Ok(Some(
            record
                .fingers
                .iter()
                .map(|f| StoredFinger {
                    position: f.position,
                    minutiae_count: f.minutiae.len(),
                })
                .collect(),
        ))
    }

    /// Every enrollment held as a potential duplicate, oldest decision
    /// first (ties by reference id).
    pub fn held_enrollments(&self) -> Result<Vec<Enrollment>> {
        let snapshot = self.gallery.snapshot();
        let mut held = Vec::new();
        for block in snapshot.blocks() {
            for i in (0..block.len()).filter(|&i| !block.is_deleted(i) && !block.is_searchable(i)) {
                if let Some(e) = read_state(&snapshot, block.reference_id(i))?
                    && e.status == Status::PotentialDuplicate
                {
                    held.push(e);
                }
            }
        }
        held.sort_by(|a, b| {
            a.decided_at
                .cmp(&b.decided_at)
                .then_with(|| a.reference_id.cmp(&b.reference_id))
        });
        Ok(held)
    }
}
