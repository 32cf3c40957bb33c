//! Shared helpers of Hoviyat's criterion benches (fixture sizes and seeds).
#![forbid(unsafe_code)]

pub mod dedup;
pub mod finger_bench;
pub mod fingers;
