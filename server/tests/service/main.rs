//! Integration tests of the HTTP service: one binary, a module per topic.
#![expect(
    clippy::unwrap_used,
    reason = "fixtures and helpers outside #[test] fns fail the test loudly"
)]

mod audit;
mod browser;
mod common;
mod compare;
mod concurrency;
mod console;
mod console_api;
mod crash;
mod evidence;
mod flow;
mod fuzz;
mod images;
mod router;
mod security;
