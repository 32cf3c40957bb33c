//! `hoviyat`: the Hoviyat ABIS command-line tool and service.
#![forbid(unsafe_code)]

use clap::Parser;

/// Hoviyat: automated biometric identification (fingerprints and faces).
#[derive(Debug, Parser)]
#[command(name = "hoviyat", version, about)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
