//! The Hoviyat ABIS HTTP service: an axum [`app::router`] over the engine's
//! `Abis`, with bearer-key [`auth`], a hash-chained [`audit`] log, request
//! [`limits`], Prometheus [`metrics`] and a generated [`openapi`] document.
//!
//! The `hoviyat` binary (`serve`, `keys`, `audit`, `bench service`) is a thin
//! CLI over this library.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! use std::sync::Arc;
//! use hoviyat_server::{app, engine::AbisConfig, limits::Limits};
//!
//! let dir = std::path::Path::new("hoviyat-data");
//! let state = Arc::new(app::AppState::open(dir, Limits::default(), &AbisConfig::default())?);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app::router(state)).await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub mod app;
pub mod audit;
pub mod auth;
pub mod console;
pub mod engine;
pub mod error;
pub mod evidence;
pub mod fsutil;
pub mod input;
pub mod keys;
pub mod limits;
pub mod loadgen;
pub mod metrics;
pub mod openapi;
pub mod routes;
pub mod wire;
