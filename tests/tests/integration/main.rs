//! Cross-crate integration tests: one binary, a module per topic.

mod gallery_crash;
mod layering;
mod template_codec;
