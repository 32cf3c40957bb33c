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

#[cfg(test)]
mod tests {
    use hoviyat_models::{EnrollmentRecord, FaceTemplate, FingerTemplate, Minutia, MinutiaKind};

    use super::*;
    use crate::abis::{AbisConfig, Verdict};

    fn record(id: &str, face: [f32; 3], minutiae: usize) -> EnrollmentRecord {
        let finger = FingerTemplate {
            position: FingerPosition::LeftIndex,
            width_px: 300,
            height_px: 400,
            dpi: 500,
            quality: 60,
            minutiae: (0..minutiae)
                .map(|i| {
                    let i = i as f32;
                    Minutia::new(
                        20.0 + 13.0 * i,
                        30.0 + 17.0 * i,
                        0.1 * i,
                        MinutiaKind::Ending,
                        50,
                    )
                })
                .collect(),
            ridge_map: None,
        };
        EnrollmentRecord::new(
            id,
            vec![finger],
            Some(FaceTemplate::new("m", face.to_vec())),
        )
    }

    #[test]
    fn held_enrollments_come_oldest_first_and_fingers_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let config = AbisConfig {
            face_dim: Some(3),
            ..AbisConfig::default()
        };
        let abis = Abis::open(dir.path(), &config).unwrap();
        let face = [1.0, 0.2, 0.1];
        abis.enroll(record("first", face, 9)).unwrap();
        for id in ["held-b", "held-a", "held-c"] {
            let outcome = abis.enroll(record(id, face, 9)).unwrap();
            assert_eq!(outcome.enrollment.status, Status::PotentialDuplicate);
        }
        abis.adjudicate("held-c", Verdict::Duplicate, "adam", "")
            .unwrap();
        let held: Vec<_> = abis
            .held_enrollments()
            .unwrap()
            .into_iter()
            .map(|e| e.reference_id)
            .collect();
        assert_eq!(held, ["held-b", "held-a"]);

        let fingers = abis.stored_fingers("first").unwrap().unwrap();
        assert_eq!(
            fingers,
            [StoredFinger {
                position: FingerPosition::LeftIndex,
                minutiae_count: 9
            }]
        );
        assert_eq!(abis.stored_fingers("nobody").unwrap(), None);
        abis.delete("first").unwrap();
        assert_eq!(abis.stored_fingers("first").unwrap(), Some(Vec::new()));
    }
}
