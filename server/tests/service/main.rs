//! Integration tests of the HTTP service: one binary, a module per topic.

mod common;
mod concurrency;
mod crash;
mod flow;
mod fuzz;
mod router;
