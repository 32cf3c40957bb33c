//! Template interchange: the committed ISO 2005 sample converted through
//! every format keeps its fingers within the coarsest format's quantisation.

use hoviyat_models::codec::{self, TemplateFormat};

const SAMPLE: &[u8] = include_bytes!("../../../models/tests/data/sample-iso2005.fmr");

#[test]
fn a_record_passed_through_every_format_keeps_its_minutiae() {
    let original = codec::decode(SAMPLE).expect("sample decodes");
    let mut current = original.fingers.clone();
    for format in [
        TemplateFormat::Ansi378_2004,
        TemplateFormat::Iso19794_2_2011,
        TemplateFormat::Json,
        TemplateFormat::Iso19794_2_2005,
    ] {
        let bytes = codec::encode(&current, format).expect("encodes");
        let decoded = codec::decode(&bytes).expect("decodes");
        assert_eq!(decoded.format, format);
        current = decoded.fingers;
    }
    assert_eq!(current.len(), original.fingers.len());
    for (got, want) in current.iter().zip(&original.fingers) {
        assert_eq!(
            (
                got.position,
                got.width_px,
                got.height_px,
                got.dpi,
                got.quality
            ),
            (
                want.position,
                want.width_px,
                want.height_px,
                want.dpi,
                want.quality
            )
        );
        assert_eq!(got.minutiae.len(), want.minutiae.len());
        for (g, w) in got.minutiae.iter().zip(&want.minutiae) {
            assert_eq!(
                (g.x_px, g.y_px, g.kind, g.quality),
                (w.x_px, w.y_px, w.kind, w.quality)
            );
            // Through ANSI (2-degree steps) and back to ISO (360/256-degree
            // steps) an angle moves by at most 1 + 0.703 degrees.
            let d = (g.angle_rad - w.angle_rad).rem_euclid(std::f32::consts::TAU);
            let d = d.min(std::f32::consts::TAU - d).to_degrees();
            assert!(d <= 1.0 + 360.0 / 512.0 + 1e-3, "{d} degrees");
        }
    }
}
