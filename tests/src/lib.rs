//! Cross-crate integration tests of Hoviyat live in `tests/integration/`.
