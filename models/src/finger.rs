//! Finger positions, finger templates and missing-finger markers.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Minutia, ModelError, Result, RidgeMap};

/// Finger position, coded as in ISO/IEC 19794-2 and ANSI/NIST-ITL.
///
/// Serialised as its numeric code; deserialised from the code or from the
/// snake_case name (`"right_thumb"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum FingerPosition {
    Unknown = 0,
    RightThumb = 1,
    RightIndex = 2,
    RightMiddle = 3,
    RightRing = 4,
    RightLittle = 5,
    LeftThumb = 6,
    LeftIndex = 7,
    LeftMiddle = 8,
    LeftRing = 9,
    LeftLittle = 10,
}

impl FingerPosition {
    /// The ten named positions, right thumb first.
    pub const TEN: [FingerPosition; 10] = [
        Self::RightThumb,
        Self::RightIndex,
        Self::RightMiddle,
        Self::RightRing,
        Self::RightLittle,
        Self::LeftThumb,
        Self::LeftIndex,
        Self::LeftMiddle,
        Self::LeftRing,
        Self::LeftLittle,
    ];

    /// The ISO code of the position.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The position with ISO code `code`.
    pub fn from_code(code: u8) -> Result<Self> {
        Ok(match code {
            0 => Self::Unknown,
            1 => Self::RightThumb,
            2 => Self::RightIndex,
            3 => Self::RightMiddle,
            4 => Self::RightRing,
            5 => Self::RightLittle,
            6 => Self::LeftThumb,
            7 => Self::LeftIndex,
            8 => Self::LeftMiddle,
            9 => Self::LeftRing,
            10 => Self::LeftLittle,
            _ => return Err(ModelError::InvalidFingerPosition { code }),
        })
    }

    /// The snake_case name, e.g. `right_thumb`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::RightThumb => "right_thumb",
            Self::RightIndex => "right_index",
            Self::RightMiddle => "right_middle",
            Self::RightRing => "right_ring",
            Self::RightLittle => "right_little",
            Self::LeftThumb => "left_thumb",
            Self::LeftIndex => "left_index",
            Self::LeftMiddle => "left_middle",
            Self::LeftRing => "left_ring",
            Self::LeftLittle => "left_little",
        }
    }

    /// The position named `name` (snake_case, as [`FingerPosition::name`]).
    pub fn from_name(name: &str) -> Option<Self> {
        (0..=10u8)
            .filter_map(|c| Self::from_code(c).ok())
            .find(|p| p.name() == name)
    }
}

impl fmt::Display for FingerPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.name())
    }
}

impl Serialize for FingerPosition {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_u8(self.code())
    }
}

impl<'de> Deserialize<'de> for FingerPosition {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Code(u64),
            Name(String),
        }
        match Repr::deserialize(d)? {
            Repr::Code(code) => u8::try_from(code)
                .ok()
                .and_then(|c| Self::from_code(c).ok())
                .ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "finger position code {code} is not an ISO/IEC 19794 code (0..=10)"
                    ))
                }),
            Repr::Name(name) => Self::from_name(&name).ok_or_else(|| {
                serde::de::Error::custom(format!("unknown finger position name {name:?}"))
            }),
        }
    }
}

/// Why a finger could not be captured, as national enrollment forms record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingReason {
    Amputated,
    Bandaged,
    Damaged,
}

/// A finger that was not captured, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MissingFinger {
    pub position: FingerPosition,
    pub reason: MissingReason,
}

/// Lowest and highest scan resolution accepted, in dots per inch.
pub const DPI_RANGE: (u16, u16) = (100, 2000);

/// Largest image side accepted, in pixels (83 cm at 500 dpi: no finger is
/// that large; the bound lets stored coordinates use 15-bit half pixels).
pub const MAX_IMAGE_SIDE_PX: u16 = 16_383;

/// Most minutiae a template may hold (the ISO record counts them in one byte).
pub const MAX_MINUTIAE: usize = 255;

/// One finger's minutiae, with the geometry of the image they came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FingerTemplate {
    pub position: FingerPosition,
    pub width_px: u16,
    pub height_px: u16,
    /// Scan resolution in dots per inch (500 for most livescan sensors).
    pub dpi: u16,
    /// Finger image quality, 0 (worst) to 100 (best).
    pub quality: u8,
    pub minutiae: Vec<Minutia>,
    /// Ridge flow and spacing of the image, when the template was extracted
    /// from one (minutiae-only interchange records carry none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ridge_map: Option<RidgeMap>,
}

impl FingerTemplate {
    /// The same minutiae in the pixel frame of a `width_px` x `height_px`
    /// image of the same area: each axis is stretched on its own (its
    /// factor the new side over the old), directions turn with the
    /// stretch, and `dpi` is left to the caller.
    ///
    /// A record written from a resampled copy of the capture (an extractor
    /// that takes a fixed image size, say) holds its minutiae in the copy's
    /// pixels; this puts them back on the capture. A ridge map, whose cells
    /// are squares of the old frame's pixels, is kept only when the frame
    /// does not change.
    pub fn stretched_to(&self, width_px: u16, height_px: u16) -> FingerTemplate {
        let sx = f32::from(width_px) / f32::from(self.width_px.max(1));
        let sy = f32::from(height_px) / f32::from(self.height_px.max(1));
        let last_x = f32::from(width_px.saturating_sub(1));
        let last_y = f32::from(height_px.saturating_sub(1));
        let minutiae = self
            .minutiae
            .iter()
            .map(|m| {
                // The direction's pixel vector is (cos a, -sin a); each of
                // its components stretches with its axis.
                let angle = (sy * m.angle_rad.sin()).atan2(sx * m.angle_rad.cos());
                Minutia::new(
                    (m.x_px * sx).min(last_x),
                    (m.y_px * sy).min(last_y),
                    angle,
                    m.kind,
                    m.quality,
                )
            })
            .collect();
        let unchanged = width_px == self.width_px && height_px == self.height_px;
        FingerTemplate {
            width_px,
            height_px,
            minutiae,
            ridge_map: if unchanged {
                self.ridge_map.clone()
            } else {
                None
            },
            ..self.clone()
        }
    }

    /// Checks geometry, numbers and quality ranges.
    pub fn validate(&self) -> Result<()> {
        let position = self.position;
        if self.width_px == 0 || self.height_px == 0 {
            return Err(ModelError::EmptyImage {
                position,
                width_px: self.width_px,
                height_px: self.height_px,
            });
        }
        if self.width_px > MAX_IMAGE_SIDE_PX || self.height_px > MAX_IMAGE_SIDE_PX {
            return Err(ModelError::ImageTooLarge {
                position,
                width_px: self.width_px,
                height_px: self.height_px,
                max_px: MAX_IMAGE_SIDE_PX,
            });
        }
        if !(DPI_RANGE.0..=DPI_RANGE.1).contains(&self.dpi) {
            return Err(ModelError::ResolutionOutOfRange {
                position,
                dpi: self.dpi,
                min: DPI_RANGE.0,
                max: DPI_RANGE.1,
            });
        }
        check_quality(|| format!("finger {position}: quality"), self.quality)?;
        if self.minutiae.len() > MAX_MINUTIAE {
            return Err(ModelError::TooManyMinutiae {
                position,
                count: self.minutiae.len(),
                max: MAX_MINUTIAE,
            });
        }
        for (index, m) in self.minutiae.iter().enumerate() {
            for (name, v) in [
                ("x_px", m.x_px),
                ("y_px", m.y_px),
                ("angle_rad", m.angle_rad),
            ] {
                if !v.is_finite() {
                    return Err(ModelError::NonFinite {
                        field: format!("finger {position}: minutiae[{index}].{name}"),
                    });
                }
            }
            let inside = m.x_px >= 0.0
                && m.y_px >= 0.0
                && m.x_px < f32::from(self.width_px)
                && m.y_px < f32::from(self.height_px);
            if !inside {
                return Err(ModelError::MinutiaOutsideImage {
                    position,
                    index,
                    x_px: m.x_px,
                    y_px: m.y_px,
                    width_px: self.width_px,
                    height_px: self.height_px,
                });
            }
            check_quality(
                || format!("finger {position}: minutiae[{index}].quality"),
                m.quality,
            )?;
        }
        if let Some(map) = &self.ridge_map {
            map.validate(position, self.width_px, self.height_px)?;
        }
        Ok(())
    }
}

/// `field` names the value in the error; it is only formatted on failure,
/// so validating a template allocates nothing.
pub(crate) fn check_quality(field: impl FnOnce() -> String, value: u8) -> Result<()> {
    if value > 100 {
        return Err(ModelError::QualityOutOfRange {
            field: field(),
            value,
            max: 100,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MinutiaKind;

    fn template() -> FingerTemplate {
        FingerTemplate {
            position: FingerPosition::LeftIndex,
            width_px: 300,
            height_px: 400,
            dpi: 500,
            quality: 60,
            minutiae: vec![Minutia::new(10.0, 20.0, 0.5, MinutiaKind::Ending, 50)],
            ridge_map: None,
        }
    }

    #[test]
    fn positions_round_trip_through_code_and_name() {
        for code in 0..=10 {
            let p = FingerPosition::from_code(code).unwrap();
            assert_eq!(p.code(), code);
            assert_eq!(FingerPosition::from_name(p.name()), Some(p));
        }
        assert_eq!(
            FingerPosition::from_code(11),
            Err(ModelError::InvalidFingerPosition { code: 11 })
        );
    }

    #[test]
    fn positions_deserialise_from_code_or_name() {
        let by_code: FingerPosition = serde_json::from_str("7").unwrap();
        let by_name: FingerPosition = serde_json::from_str("\"left_index\"").unwrap();
        assert_eq!(by_code, FingerPosition::LeftIndex);
        assert_eq!(by_name, FingerPosition::LeftIndex);
        assert_eq!(serde_json::to_string(&by_name).unwrap(), "7");
        assert!(serde_json::from_str::<FingerPosition>("11").is_err());
        assert!(serde_json::from_str::<FingerPosition>("300").is_err());
        assert!(serde_json::from_str::<FingerPosition>("\"left_toe\"").is_err());
    }

    #[test]
    fn a_stretched_template_keeps_its_minutiae_on_the_same_ridges() {
        let mut t = template();
        t.minutiae = vec![
            Minutia::new(10.0, 20.0, 0.5, MinutiaKind::Ending, 50),
            Minutia::new(299.0, 399.0, 2.0, MinutiaKind::Bifurcation, 70),
        ];
        let wide = t.stretched_to(600, 400);
        assert_eq!((wide.width_px, wide.height_px, wide.dpi), (600, 400, 500));
        assert_eq!((wide.minutiae[0].x_px, wide.minutiae[0].y_px), (20.0, 20.0));
        // Doubling x halves the slope of a direction.
        let expected = (0.5f32.sin()).atan2(2.0 * 0.5f32.cos());
        assert!((wide.minutiae[0].angle_rad - expected).abs() < 1e-5);
        wide.validate().expect("inside the wider image");
        let back = wide.stretched_to(300, 400);
        for (a, b) in back.minutiae.iter().zip(&t.minutiae) {
            assert!((a.x_px - b.x_px).abs() < 1e-3 && (a.y_px - b.y_px).abs() < 1e-3);
            assert!((a.angle_rad - b.angle_rad).abs() < 1e-5);
            assert_eq!((a.kind, a.quality), (b.kind, b.quality));
        }
        let narrow = t.stretched_to(97, 131);
        narrow.validate().expect("the last pixel stays inside");
    }

    #[test]
    fn minutia_outside_the_image_is_rejected() {
        let mut t = template();
        t.minutiae[0].x_px = 300.0;
        assert!(matches!(
            t.validate(),
            Err(ModelError::MinutiaOutsideImage { index: 0, .. })
        ));
        t.minutiae[0].x_px = -0.5;
        assert!(t.validate().is_err());
    }

    #[test]
    fn non_finite_numbers_are_rejected_with_the_field_named() {
        let mut t = template();
        t.minutiae[0].angle_rad = f32::NAN;
        match t.validate() {
            Err(ModelError::NonFinite { field }) => {
                assert!(field.ends_with("minutiae[0].angle_rad"))
            }
            other => panic!("expected NonFinite, got {other:?}"),
        }
        let mut t = template();
        t.minutiae[0].y_px = f32::INFINITY;
        assert!(matches!(t.validate(), Err(ModelError::NonFinite { .. })));
    }

    #[test]
    fn empty_images_bad_resolution_and_quality_are_rejected() {
        let mut t = template();
        t.width_px = 0;
        assert!(matches!(t.validate(), Err(ModelError::EmptyImage { .. })));
        let mut t = template();
        t.dpi = 0;
        assert!(matches!(
            t.validate(),
            Err(ModelError::ResolutionOutOfRange { .. })
        ));
        let mut t = template();
        t.quality = 101;
        assert!(matches!(
            t.validate(),
            Err(ModelError::QualityOutOfRange { .. })
        ));
        assert!(template().validate().is_ok());
    }
}
