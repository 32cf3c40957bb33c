//! Unit conversions shared by the record codecs: resolution, angles,
//! coordinates and quality codes.

use std::f64::consts::TAU;

use crate::DPI_RANGE;

const CM_PER_INCH: f64 = 2.54;

/// Pixels per centimetre stored for a resolution in dots per inch, rounded
/// to the nearest integer (500 dpi -> 197 px/cm).
pub(crate) fn dpi_to_ppcm(dpi: u16) -> u16 {
    // dpi <= 65535 so the quotient fits in u16.
    (f64::from(dpi) / CM_PER_INCH).round() as u16
}

/// Dots per inch for a stored pixels-per-centimetre value, or `None` when it
/// lies outside [`DPI_RANGE`].
///
/// Several dpi values encode to the same px/cm (499, 500 and 501 all give
/// 197). Of those, this picks the "roundest": the one divisible by the
/// highest of 100, 50, 10, 5, ties broken by closeness to `ppcm * 2.54`. So
/// every dpi that is a multiple of 5 (250, 500, 1000, ...) survives the
/// round trip exactly, and any other within 2.54 dpi.
pub(crate) fn ppcm_to_dpi(ppcm: u16) -> Option<u16> {
    let centre = f64::from(ppcm) * CM_PER_INCH;
    let lo = (centre - CM_PER_INCH).floor().max(0.0) as u32;
    let hi = (centre + CM_PER_INCH).ceil() as u32;
    let roundness = |d: u32| match d {
        _ if d.is_multiple_of(100) => 4,
        _ if d.is_multiple_of(50) => 3,
        _ if d.is_multiple_of(10) => 2,
        _ if d.is_multiple_of(5) => 1,
        _ => 0,
    };
    let best = (lo..=hi)
        .filter_map(|d| u16::try_from(d).ok())
        .filter(|&d| dpi_to_ppcm(d) == ppcm)
        .max_by(|&a, &b| {
            roundness(u32::from(a))
                .cmp(&roundness(u32::from(b)))
                .then_with(|| {
                    let da = (f64::from(a) - centre).abs();
                    let db = (f64::from(b) - centre).abs();
                    db.total_cmp(&da)
                })
        })?;
    (DPI_RANGE.0..=DPI_RANGE.1).contains(&best).then_some(best)
}

/// How a record codes a minutia direction in its one angle byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AngleUnit {
    /// ISO/IEC 19794-2 (2005 and 2011): 256 steps per turn, 0..=255.
    Iso256,
    /// ANSI/INCITS 378: 2-degree steps, 0..=179.
    AnsiTwoDegrees,
}

impl AngleUnit {
    /// Steps in one full turn.
    pub(crate) fn steps(self) -> u16 {
        match self {
            Self::Iso256 => 256,
            Self::AnsiTwoDegrees => 180,
        }
    }

    /// The nearest step to `angle_rad`, wrapped into one turn.
    pub(crate) fn encode(self, angle_rad: f32) -> u8 {
        let steps = f64::from(self.steps());
        let code = (f64::from(angle_rad) * steps / TAU)
            .round()
            .rem_euclid(steps);
        // rem_euclid keeps the code in 0..steps <= 256; 256 itself cannot occur.
        code as u8
    }

    /// The angle of step `code`, or `None` when the code is out of range.
    pub(crate) fn decode(self, code: u8) -> Option<f32> {
        (u16::from(code) < self.steps())
            .then(|| (f64::from(code) * TAU / f64::from(self.steps())) as f32)
    }
}

/// Rounds a pixel coordinate to the integer the records store, kept inside
/// `0..side_px` (a coordinate just below `side_px` would otherwise round onto
/// the image border, which the records do not allow).
pub(crate) fn quantise_coordinate(v_px: f32, side_px: u16) -> u16 {
    let max = f64::from(side_px.saturating_sub(1));
    f64::from(v_px).round().clamp(0.0, max) as u16
}

/// Maps an ISO/IEC 19794-2:2011 quality byte to our 0-100 scale: 0-100 as
/// is, 254 ("not reported") and 255 ("could not be computed") to 0, anything
/// else is invalid.
pub(crate) fn quality_2011(code: u8) -> Option<u8> {
    match code {
        0..=100 => Some(code),
        254 | 255 => Some(0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_resolutions_round_trip_exactly_and_all_within_one_px_per_cm() {
        assert_eq!(dpi_to_ppcm(500), 197);
        assert_eq!(ppcm_to_dpi(197), Some(500));
        assert_eq!(dpi_to_ppcm(1000), 394);
        assert_eq!(ppcm_to_dpi(394), Some(1000));
        for dpi in DPI_RANGE.0..=DPI_RANGE.1 {
            let back = ppcm_to_dpi(dpi_to_ppcm(dpi)).expect("in range");
            assert_eq!(dpi_to_ppcm(back), dpi_to_ppcm(dpi), "{dpi}");
            if dpi % 5 == 0 {
                assert_eq!(back, dpi);
            } else {
                assert!(back.abs_diff(dpi) <= 2, "{dpi} -> {back}");
            }
        }
        assert_eq!(ppcm_to_dpi(0), None);
        assert_eq!(ppcm_to_dpi(u16::MAX), None);
    }

    #[test]
    fn angle_steps_follow_each_standard() {
        use std::f32::consts::{FRAC_PI_2, PI};
        assert_eq!(AngleUnit::Iso256.encode(FRAC_PI_2), 64);
        assert_eq!(AngleUnit::AnsiTwoDegrees.encode(FRAC_PI_2), 45);
        assert_eq!(AngleUnit::AnsiTwoDegrees.encode(PI), 90);
        // Just below a full turn rounds to step 0, not to an invalid 180/256.
        assert_eq!(AngleUnit::AnsiTwoDegrees.encode(2.0 * PI - 0.001), 0);
        assert_eq!(AngleUnit::Iso256.encode(2.0 * PI - 0.001), 0);
        assert_eq!(AngleUnit::AnsiTwoDegrees.decode(180), None);
        assert_eq!(
            AngleUnit::AnsiTwoDegrees.decode(179),
            Some(358f32.to_radians())
        );
        for code in 0..=255u8 {
            let a = AngleUnit::Iso256.decode(code).expect("all bytes valid");
            assert_eq!(AngleUnit::Iso256.encode(a), code);
        }
    }

    #[test]
    fn coordinates_round_and_stay_inside_the_image() {
        assert_eq!(quantise_coordinate(10.49, 100), 10);
        assert_eq!(quantise_coordinate(10.5, 100), 11);
        assert_eq!(quantise_coordinate(99.7, 100), 99);
        assert_eq!(quantise_coordinate(0.2, 1), 0);
    }
}
