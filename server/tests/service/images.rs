//! Fingers sent as images: extracted by the engine, then deduplicated like
//! any other finger.

use axum::http::StatusCode;
use hoviyat_datasets::synth::fingerprint::{FingerprintConfig, SyntheticFinger};
use serde_json::{Value, json};

use crate::common::{png_base64, service};

fn body(reference_id: &str, image: &image::GrayImage) -> Value {
    json!({
        "reference_id": reference_id,
        "fingers": [{ "position": 2, "image": { "data": png_base64(image), "dpi": 500 } }],
    })
}

#[tokio::test]
async fn a_second_impression_of_an_enrolled_finger_is_held() {
    let s = service();
    let k = s.keys.clone();
    let cfg = FingerprintConfig::default();
    let first = SyntheticFinger::new(11, 1, &cfg);
    let other = SyntheticFinger::new(11, 2, &cfg);

    let (status, answer) = s
        .call(
            "POST",
            "/v1/enrollments",
            Some(&k.enroller),
            Some(&body("img-a", &first.impression(1, &cfg).image)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (status, answer) = s
        .call(
            "POST",
            "/v1/enrollments",
            Some(&k.enroller),
            Some(&body("img-b", &other.impression(1, &cfg).image)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");

    let (status, answer) = s
        .call(
            "POST",
            "/v1/enrollments",
            Some(&k.enroller),
            Some(&body("img-a-again", &first.impression(2, &cfg).image)),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["status"], "potential_duplicate", "{answer}");
    let (status, answer) = s
        .call(
            "GET",
            "/v1/enrollments/img-a-again",
            Some(&k.investigator),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["candidates"][0]["reference_id"], "img-a", "{answer}");
}

#[tokio::test]
async fn an_image_without_a_fingerprint_is_a_failure_to_extract() {
    let s = service();
    let blank = image::GrayImage::from_pixel(300, 400, image::Luma([255]));
    let (status, answer) = s
        .call(
            "POST",
            "/v1/enrollments",
            Some(&s.keys.enroller),
            Some(&body("blank", &blank)),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["error"], "failure_to_extract", "{answer}");
}
