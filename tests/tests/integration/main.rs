//! Cross-crate integration tests: one binary, a module per topic.

mod layering;
mod template_codec;
