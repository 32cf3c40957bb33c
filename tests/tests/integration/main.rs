//! Cross-crate integration tests: one binary, a module per topic.

mod layering;
