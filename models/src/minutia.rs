//! A single minutia: where a ridge ends or forks.

use serde::{Deserialize, Serialize};

/// The kind of a minutia, as the ISO/ANSI records code it in two bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MinutiaKind {
    /// A ridge ends (ISO code 01).
    Ending,
    /// A ridge splits in two (ISO code 10).
    Bifurcation,
    /// Anything else, or not known (ISO code 00).
    Other,
}

/// One minutia of a finger template.
///
/// # Conventions
/// - `x_px`, `y_px`: pixel coordinates in the template's image, origin at the
///   top-left corner, x to the right, y **down**, pixel centres at integers.
/// - `angle_rad`: the minutia's direction in `[0, 2π)`, measured
///   counter-clockwise *as seen on the image* from the x axis, as ISO/IEC
///   19794-2 does. The unit vector of the direction in pixel coordinates is
///   therefore `(cos a, -sin a)`.
/// - For a ridge ending the direction points from the end point into the ridge
///   it terminates; for a bifurcation it points from the fork into the two
///   branches. A ridge ending and the valley bifurcation it becomes when the
///   print is inverted so have the same direction.
/// - `quality`: 0 (unknown or worst) to 100 (best).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Minutia {
    pub x_px: f32,
    pub y_px: f32,
    pub angle_rad: f32,
    pub kind: MinutiaKind,
    pub quality: u8,
}

impl Minutia {
    /// Builds a minutia, wrapping `angle_rad` into `[0, 2π)`.
    pub fn new(x_px: f32, y_px: f32, angle_rad: f32, kind: MinutiaKind, quality: u8) -> Self {
        Self {
            x_px,
            y_px,
            angle_rad: wrap_angle(angle_rad),
            kind,
            quality,
        }
    }

    /// The direction as a unit vector in pixel coordinates (y down).
    pub fn direction(&self) -> (f32, f32) {
        (self.angle_rad.cos(), -self.angle_rad.sin())
    }
}

/// Wraps an angle into `[0, 2π)`; non-finite input is returned unchanged so
/// that validation can reject it.
pub(crate) fn wrap_angle(angle_rad: f32) -> f32 {
    if !angle_rad.is_finite() {
        return angle_rad;
    }
    let tau = std::f32::consts::TAU;
    let wrapped = angle_rad.rem_euclid(tau);
    // rem_euclid can return exactly tau for tiny negative inputs.
    if wrapped >= tau { 0.0 } else { wrapped }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn angles_wrap_into_one_turn() {
        let m = Minutia::new(
            0.0,
            0.0,
            -std::f32::consts::FRAC_PI_2,
            MinutiaKind::Ending,
            0,
        );
        assert!((m.angle_rad - 1.5 * std::f32::consts::PI).abs() < 1e-6);
        assert_eq!(wrap_angle(-1e-9), 0.0);
        assert!(wrap_angle(7.0) < std::f32::consts::TAU);
    }

    #[test]
    fn direction_points_up_the_image_at_ninety_degrees() {
        let m = Minutia::new(
            10.0,
            10.0,
            std::f32::consts::FRAC_PI_2,
            MinutiaKind::Bifurcation,
            0,
        );
        let (dx, dy) = m.direction();
        assert!(dx.abs() < 1e-6);
        assert!(
            (dy + 1.0).abs() < 1e-6,
            "y grows downwards, so 90° points to -y"
        );
    }
}
