//! Turns request bodies into engine inputs: base64 and image decoding under
//! the service's limits, templates through the interchange codecs, minutiae
//! JSON as is. Every failure names the offending field.

use base64::Engine as _;
use hoviyat_models::{
    EnrollmentRecord, FaceTemplate, FingerTemplate, MAX_FINGERS, Minutia, MissingFinger,
};

use crate::engine::Probe;
use crate::error::ApiError;
use crate::limits::Limits;
use crate::wire::{
    EnrollmentRequest, FaceInput, FingerInput, ImageInput, MinutiaeInput, TemplateInput,
};

/// The record of an enrollment request, validated.
pub fn enrollment_record(
    req: &EnrollmentRequest,
    limits: &Limits,
) -> Result<EnrollmentRecord, ApiError> {
    let fingers = fingers(&req.fingers, limits)?;
    let record = EnrollmentRecord {
        reference_id: req.reference_id.clone(),
        fingers,
        missing: req
            .missing
            .iter()
            .map(|m| MissingFinger {
                position: m.position,
                reason: m.reason,
            })
            .collect(),
        face: req.face.as_ref().map(face),
        captured_at: req.captured_at,
        metadata: req.metadata.clone(),
    };
    record.validate(None)?;
    Ok(record)
}

/// The probe of a search or verification request, validated.
pub fn probe(
    fingers_in: &[FingerInput],
    face_in: Option<&FaceInput>,
    limits: &Limits,
) -> Result<Probe, ApiError> {
    let fingers = fingers(fingers_in, limits)?;
    if fingers.is_empty() && face_in.is_none() {
        return Err(
            ApiError::invalid("empty_probe", "the probe holds neither fingers nor a face")
                .at("fingers"),
        );
    }
    for (i, f) in fingers.iter().enumerate() {
        f.validate()
            .map_err(|e| ApiError::from(e).at(format!("fingers[{i}]")))?;
    }
    let face = face_in.map(face);
    if let Some(f) = &face {
        f.validate(None).map_err(|e| ApiError::from(e).at("face"))?;
    }
    Ok(Probe { fingers, face })
}

/// One finger given as in enrollments, validated; error fields are
/// relative to the finger object (`image.data`, `minutiae.dpi`, ...).
pub fn finger_sample(f: &FingerInput, limits: &Limits) -> Result<FingerTemplate, ApiError> {
    let template = finger(f, limits)?;
    template.validate()?;
    Ok(template)
}

fn face(f: &FaceInput) -> FaceTemplate {
    FaceTemplate::new(f.model.clone(), f.values.clone())
}

fn fingers(inputs: &[FingerInput], limits: &Limits) -> Result<Vec<FingerTemplate>, ApiError> {
    // Checked before any decoding so a 10k-finger array costs nothing.
    if inputs.len() > MAX_FINGERS {
        return Err(ApiError::invalid(
            "too_many_fingers",
            format!("{} fingers given; at most {MAX_FINGERS}", inputs.len()),
        )
        .at("fingers"));
    }
    inputs
        .iter()
        .enumerate()
        .map(|(i, f)| finger(f, limits).map_err(|e| e.within(&format!("fingers[{i}]"))))
        .collect()
}

fn finger(f: &FingerInput, limits: &Limits) -> Result<FingerTemplate, ApiError> {
    match (&f.image, &f.template, &f.minutiae) {
        (Some(image), None, None) => from_image(f, image, limits),
        (None, Some(template), None) => from_template(f, template),
        (None, None, Some(m)) => from_minutiae(f, m),
        _ => Err(ApiError::invalid(
            "finger_source",
            "give exactly one of image, template or minutiae",
        )
        .at("")),
    }
}

/// Largest accepted `angle_rad` magnitude: one turn either way covers every
/// convention ([0, 2pi), (-pi, pi], ...); beyond it a value is a unit or
/// encoding mistake, not a direction.
pub const MAX_ANGLE_RAD: f32 = std::f32::consts::TAU;

fn from_minutiae(f: &FingerInput, m: &MinutiaeInput) -> Result<FingerTemplate, ApiError> {
    if let Some(j) = m
        .minutiae
        .iter()
        .position(|m| m.angle_rad.is_finite() && m.angle_rad.abs() > MAX_ANGLE_RAD)
    {
        return Err(ApiError::invalid(
            "out_of_range",
            format!(
                "angle_rad is {}; it must be within -2pi..=2pi radians",
                m.minutiae[j].angle_rad
            ),
        )
        .at(format!("minutiae.minutiae[{j}].angle_rad")));
    }
    Ok(FingerTemplate {
        position: f.position,
        width_px: m.width_px,
        height_px: m.height_px,
        dpi: m.dpi,
        quality: m.quality,
        minutiae: m
            .minutiae
            .iter()
            .map(|m| Minutia::new(m.x_px, m.y_px, m.angle_rad, m.kind, m.quality))
            .collect(),
        ridge_map: None,
    })
}

fn decode_base64(data: &str, field: &str) -> Result<Vec<u8>, ApiError> {
    base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| ApiError::invalid("bad_base64", format!("not standard base64: {e}")).at(field))
}

fn from_template(f: &FingerInput, t: &TemplateInput) -> Result<FingerTemplate, ApiError> {
    let bytes = decode_base64(&t.data, "template.data")?;
    crate::engine::decode_template(&bytes, t.format, f.position).map_err(|e| e.within("template"))
}

fn from_image(
    f: &FingerInput,
    img: &ImageInput,
    limits: &Limits,
) -> Result<FingerTemplate, ApiError> {
    let bytes = decode_base64(&img.data, "image.data")?;
    let gray = decode_image(&bytes, limits).map_err(|e| e.within("image"))?;
    crate::engine::extract_image(&gray, img.dpi, f.position).map_err(|e| e.within("image"))
}

/// Decodes an image file to 8-bit grey under the configured dimension and
/// memory limits, so that a decompression bomb is refused before it allocates.
pub fn decode_image(bytes: &[u8], limits: &Limits) -> Result<image::GrayImage, ApiError> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ApiError::invalid("bad_image", format!("unreadable image: {e}")).at("data"))?;
    if reader.format().is_none() {
        return Err(ApiError::invalid(
            "bad_image",
            "unknown image format (PNG, JPEG, TIFF or BMP expected)",
        )
        .at("data"));
    }
    let mut image_limits = image::Limits::default();
    image_limits.max_image_width = Some(limits.max_image_side_px);
    image_limits.max_image_height = Some(limits.max_image_side_px);
    image_limits.max_alloc = Some(limits.max_image_alloc_bytes);
    reader.limits(image_limits);
    let decoded = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(l) => ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "image_too_large",
            format!(
                "image exceeds the limits ({} px per side): {l}",
                limits.max_image_side_px
            ),
        )
        .at("data"),
        other => ApiError::invalid("bad_image", format!("undecodable image: {other}")).at("data"),
    })?;
    Ok(decoded.into_luma8())
}

impl ApiError {
    /// Prefixes the error's field path with `prefix` (`fingers[2]` +
    /// `image.data` = `fingers[2].image.data`).
    pub fn within(mut self, prefix: &str) -> Self {
        self.field = Some(match self.field.take() {
            None => prefix.to_owned(),
            Some(f) if f.is_empty() => prefix.to_owned(),
            Some(f) if prefix.is_empty() => f,
            Some(f) if f.starts_with('[') => format!("{prefix}{f}"),
            Some(f) => format!("{prefix}.{f}"),
        });
        self
    }
}
