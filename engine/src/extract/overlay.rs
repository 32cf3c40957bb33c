//! Drawing minutiae over the fingerprint so that a person can judge the
//! extraction: endings in red, bifurcations in blue, other kinds in yellow,
//! each a circle at the position with a tick along its direction.

use hoviyat_models::{FingerTemplate, MinutiaKind};
use image::{GrayImage, Rgb, RgbImage};
use imageproc::drawing::{draw_hollow_circle_mut, draw_line_segment_mut};

/// Renders `template` over `image` (the 500 dpi image the template was
/// extracted from), magnified `scale` times (1 to 4). Skeleton pixels, if
/// given (non-zero = ridge), are tinted green.
pub fn draw(
    image: &GrayImage,
    template: &FingerTemplate,
    skeleton: Option<&GrayImage>,
    scale: u32,
) -> RgbImage {
    let scale = scale.clamp(1, 4);
    let (w, h) = image.dimensions();
    let mut out = RgbImage::from_fn(w * scale, h * scale, |x, y| {
        let (sx, sy) = (x / scale, y / scale);
        // Lighten the print so that the marks stand out, and keep 16 grey
        // levels so that the PNG stays small.
        let v = 110 + (u32::from(image.get_pixel(sx, sy).0[0] & 0xf0) * 145 / 255) as u8;
        match skeleton {
            Some(s) if s.get_pixel_checked(sx, sy).is_some_and(|p| p.0[0] != 0) => {
                Rgb([v / 3, 170, v / 3])
            }
            _ => Rgb([v, v, v]),
        }
    });
    let s = scale as f32;
    for m in &template.minutiae {
        let colour = match m.kind {
            MinutiaKind::Ending => Rgb([220, 20, 20]),
            MinutiaKind::Bifurcation => Rgb([20, 60, 230]),
            MinutiaKind::Other => Rgb([230, 190, 0]),
        };
        let (cx, cy) = ((m.x_px + 0.5) * s, (m.y_px + 0.5) * s);
        let (dx, dy) = m.direction();
        let radius = (3.0 * s).round() as i32;
        let tick = 9.0 * s;
        draw_hollow_circle_mut(&mut out, (cx as i32, cy as i32), radius, colour);
        if scale > 1 {
            draw_hollow_circle_mut(&mut out, (cx as i32, cy as i32), radius + 1, colour);
        }
        let start = (cx + dx * radius as f32, cy + dy * radius as f32);
        let end = (cx + dx * tick, cy + dy * tick);
        draw_line_segment_mut(&mut out, start, end, colour);
        if scale > 1 {
            draw_line_segment_mut(
                &mut out,
                (start.0 + 1.0, start.1),
                (end.0 + 1.0, end.1),
                colour,
            );
        }
    }
    out
}

/// Adds reference minutiae (e.g. ground truth) to an overlay made by
/// [`draw`] with the same `scale`: an orange square with a tick along the
/// direction, so that misses and false minutiae stand out.
pub fn draw_reference(canvas: &mut RgbImage, minutiae: &[hoviyat_models::Minutia], scale: u32) {
    let s = scale.clamp(1, 4) as f32;
    let colour = Rgb([255, 140, 0]);
    for m in minutiae {
        let (cx, cy) = ((m.x_px + 0.5) * s, (m.y_px + 0.5) * s);
        let r = 5.0 * s;
        let corners = [(-r, -r), (r, -r), (r, r), (-r, r), (-r, -r)];
        for w in corners.windows(2) {
            draw_line_segment_mut(
                canvas,
                (cx + w[0].0, cy + w[0].1),
                (cx + w[1].0, cy + w[1].1),
                colour,
            );
        }
        let (dx, dy) = m.direction();
        draw_line_segment_mut(
            canvas,
            (cx, cy),
            (cx + dx * 2.5 * r, cy + dy * 2.5 * r),
            colour,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hoviyat_models::{FingerPosition, Minutia};

    #[test]
    fn marks_are_drawn_in_the_colour_of_their_kind() {
        let img = GrayImage::from_pixel(60, 60, image::Luma([255]));
        let t = FingerTemplate {
            position: FingerPosition::Unknown,
            width_px: 60,
            height_px: 60,
            dpi: 500,
            quality: 50,
            minutiae: vec![
                Minutia::new(20.0, 20.0, 0.0, MinutiaKind::Ending, 50),
                Minutia::new(
                    40.0,
                    40.0,
                    std::f32::consts::FRAC_PI_2,
                    MinutiaKind::Bifurcation,
                    50,
                ),
            ],
            ridge_map: None,
        };
        let out = draw(&img, &t, None, 1);
        // The ending's tick points right (+x), the bifurcation's up (-y).
        assert_eq!(out.get_pixel(27, 20).0, [220, 20, 20]);
        assert_eq!(out.get_pixel(40, 33).0, [20, 60, 230]);
        assert_eq!(out.get_pixel(5, 5).0, [246, 246, 246]);
    }
}
