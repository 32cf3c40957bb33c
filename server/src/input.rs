//! Turns request bodies into engine inputs: base64 and image decoding under
//! the service's limits, templates through the interchange codecs, minutiae
//! JSON as is. Every failure names the offending field.

use base64::Engine as _;
use hoviyat_models::{
    EnrollmentRecord, FaceTemplate, FingerPosition, FingerTemplate, MAX_FINGERS, Minutia,
    MissingFinger, ModelError,
};

use crate::engine::Probe;
use crate::error::ApiError;
use crate::limits::Limits;
use crate::wire::{
    EnrollmentRequest, FaceInput, FingerInput, ImageInput, MinutiaeInput, MissingFingerInput,
    TemplateInput,
};

/// The record of an enrollment request, validated.
pub fn enrollment_record(
    req: &EnrollmentRequest,
    limits: &Limits,
) -> Result<EnrollmentRecord, ApiError> {
    let fingers = fingers(&req.fingers, limits)?;
    positions_once(&fingers, &req.missing)?;
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
        face: req.face.as_ref().map(face).transpose()?,
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
    positions_once(&fingers, &[])?;
    let face = face_in.map(face).transpose()?;
    Ok(Probe { fingers, face })
}

/// One finger given as in enrollments, validated; error fields are
/// relative to the finger object (`image.data`, `minutiae.dpi`, ...).
pub fn finger_sample(f: &FingerInput, limits: &Limits) -> Result<FingerTemplate, ApiError> {
    let template = finger(f, limits)?;
    template.validate().map_err(|e| finger_error(e, f))?;
    Ok(template)
}

fn face(f: &FaceInput) -> Result<FaceTemplate, ApiError> {
    let face = FaceTemplate::new(f.model.clone(), f.values.clone());
    // The gallery's dimension is checked where it is known (the engine).
    face.validate(None)?;
    Ok(face)
}

/// Each finger position at most once among the captured fingers (but for
/// `unknown`, which latents share) and never both captured and marked
/// missing; the error names the later occurrence.
fn positions_once(
    fingers: &[FingerTemplate],
    missing: &[MissingFingerInput],
) -> Result<(), ApiError> {
    let repeated = |position: FingerPosition| {
        ApiError::invalid(
            "duplicate_position",
            format!("finger position {position} appears more than once"),
        )
    };
    for (i, f) in fingers.iter().enumerate() {
        if f.position != FingerPosition::Unknown
            && fingers[..i].iter().any(|g| g.position == f.position)
        {
            return Err(repeated(f.position).at(format!("fingers[{i}].position")));
        }
    }
    for (i, m) in missing.iter().enumerate() {
        if m.position == FingerPosition::Unknown {
            continue;
        }
        if fingers.iter().any(|f| f.position == m.position) {
            return Err(ApiError::invalid(
                "missing_and_captured",
                format!(
                    "finger position {} is both captured and marked missing",
                    m.position
                ),
            )
            .at(format!("missing[{i}].position")));
        }
        if missing[..i].iter().any(|n| n.position == m.position) {
            return Err(repeated(m.position).at(format!("missing[{i}].position")));
        }
    }
    Ok(())
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
        .map(|(i, f)| finger_sample(f, limits).map_err(|e| e.within(&format!("fingers[{i}]"))))
        .collect()
}

/// A finger's validation error with the path of the offending value,
/// relative to the finger object: within `minutiae` for minutiae given as
/// JSON, else the template or image the finger came from.
fn finger_error(e: ModelError, input: &FingerInput) -> ApiError {
    let path = if input.minutiae.is_some() {
        let within = |rest: &str| format!("minutiae.{rest}");
        match &e {
            ModelError::EmptyImage { width_px, .. } => within(if *width_px == 0 {
                "width_px"
            } else {
                "height_px"
            }),
            ModelError::ImageTooLarge {
                width_px, max_px, ..
            } => within(if width_px > max_px {
                "width_px"
            } else {
                "height_px"
            }),
            ModelError::ResolutionOutOfRange { .. } => within("dpi"),
            ModelError::TooManyMinutiae { .. } => within("minutiae"),
            ModelError::MinutiaOutsideImage { index, .. } => within(&format!("minutiae[{index}]")),
            // Their `field` reads `finger N (name): minutiae[3].quality`.
            ModelError::NonFinite { field } | ModelError::QualityOutOfRange { field, .. } => {
                within(field.rsplit(": ").next().unwrap_or(field))
            }
            _ => "minutiae".to_owned(),
        }
    } else if input.template.is_some() {
        "template".to_owned()
    } else {
        "image".to_owned()
    };
    let mut api = ApiError::from(e);
    api.field = Some(path);
    api
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
