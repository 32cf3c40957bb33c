//! Fuzzing the template decoders: random bytes and mutated valid records
//! must never panic, and whatever decodes must re-encode to a stable result.
//!
//! The default run is short. The bounded run (`.ci/fuzz`) is
//! `FUZZ_SECONDS=60 cargo test --release -p hoviyat-models --test codec_fuzz -- --ignored`.

use std::f32::consts::TAU;
use std::time::{Duration, Instant};

use hoviyat_models::codec::{self, TemplateFormat};
use hoviyat_models::{FingerPosition, FingerTemplate, Minutia, MinutiaKind};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

const BINARY: [TemplateFormat; 3] = [
    TemplateFormat::Iso19794_2_2005,
    TemplateFormat::Ansi378_2004,
    TemplateFormat::Iso19794_2_2011,
];

/// One change to a record.
#[derive(Debug, Clone)]
enum Mutation {
    FlipBit {
        at: usize,
        bit: u8,
    },
    SetByte {
        at: usize,
        value: u8,
    },
    /// Overwrite two bytes with a big-endian value: hits counts and lengths.
    SetU16 {
        at: usize,
        value: u16,
    },
    Truncate {
        at: usize,
    },
    Insert {
        at: usize,
        value: u8,
    },
    Delete {
        at: usize,
    },
}

impl Mutation {
    fn apply(&self, bytes: &mut Vec<u8>) {
        let n = bytes.len();
        if n == 0 {
            return;
        }
        match *self {
            Self::FlipBit { at, bit } => bytes[at % n] ^= 1 << (bit % 8),
            Self::SetByte { at, value } => bytes[at % n] = value,
            Self::SetU16 { at, value } => {
                let at = at % n;
                for (i, b) in value.to_be_bytes().into_iter().enumerate() {
                    if let Some(slot) = bytes.get_mut(at + i) {
                        *slot = b;
                    }
                }
            }
            Self::Truncate { at } => bytes.truncate(at % n),
            Self::Insert { at, value } => bytes.insert(at % (n + 1), value),
            Self::Delete { at } => {
                bytes.remove(at % n);
            }
        }
    }
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, value)| Mutation::SetByte { at, value }),
        (any::<usize>(), any::<u16>()).prop_map(|(at, value)| Mutation::SetU16 { at, value }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, value)| Mutation::Insert { at, value }),
        any::<usize>().prop_map(|at| Mutation::Delete { at }),
    ]
}

/// Rewrites the record length field so that it matches the data again, so
/// that mutations get past the first check and reach the nested ones.
fn fix_record_length(bytes: &mut [u8], format: TemplateFormat) {
    let len = bytes.len();
    match format {
        TemplateFormat::Iso19794_2_2005 | TemplateFormat::Iso19794_2_2011 if len >= 12 => {
            bytes[8..12].copy_from_slice(&(len as u32).to_be_bytes());
        }
        TemplateFormat::Ansi378_2004 if len >= 10 && len <= usize::from(u16::MAX) => {
            bytes[8..10].copy_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {}
    }
}

fn arb_fingers() -> impl Strategy<Value = Vec<FingerTemplate>> {
    (
        1..=600u16,
        1..=600u16,
        prop::sample::select(vec![250u16, 500, 1000]),
    )
        .prop_flat_map(|(width_px, height_px, dpi)| {
            let minutia = (
                0.0..f32::from(width_px),
                0.0..f32::from(height_px),
                0.0..TAU,
                0..3usize,
                0..=100u8,
            )
                .prop_map(|(x, y, a, k, q)| {
                    let kind = [
                        MinutiaKind::Ending,
                        MinutiaKind::Bifurcation,
                        MinutiaKind::Other,
                    ][k];
                    Minutia::new(x, y, a, kind, q)
                });
            let finger = (0..=10u8, 0..=100u8, prop::collection::vec(minutia, 0..12)).prop_map(
                move |(code, quality, minutiae)| FingerTemplate {
                    position: FingerPosition::from_code(code).unwrap_or(FingerPosition::Unknown),
                    width_px,
                    height_px,
                    dpi,
                    quality,
                    minutiae,
                    ridge_map: None,
                },
            );
            prop::collection::vec(finger, 1..3)
        })
}

/// A valid record of a random format, then 1 to 4 mutations, then (half the
/// time) an honest record length.
fn arb_mutated_record() -> impl Strategy<Value = Vec<u8>> {
    (
        arb_fingers(),
        prop::sample::select(TemplateFormat::ALL.to_vec()),
        prop::collection::vec(arb_mutation(), 1..5),
        any::<bool>(),
    )
        .prop_map(|(fingers, format, mutations, fix)| {
            let mut bytes = codec::encode(&fingers, format).unwrap_or_default();
            for m in &mutations {
                m.apply(&mut bytes);
            }
            if fix {
                fix_record_length(&mut bytes, format);
            }
            bytes
        })
}

/// Random bytes, half of them behind a valid magic and version so that the
/// decoders' bodies see them.
fn arb_random_bytes() -> impl Strategy<Value = Vec<u8>> {
    let prefix = prop::sample::select(vec![
        &b""[..],
        &b"FMR\0 20\0"[..],
        &b"FMR\x00030\0"[..],
        &b"{\"fingers\":"[..],
    ]);
    (
        prefix,
        prop::collection::vec(any::<u8>(), 0..400),
        any::<bool>(),
    )
        .prop_map(|(prefix, tail, fix)| {
            let mut bytes = prefix.to_vec();
            bytes.extend_from_slice(&tail);
            if fix {
                for format in BINARY {
                    if codec::detect(&bytes) == Ok(format) {
                        fix_record_length(&mut bytes, format);
                    }
                }
            }
            bytes
        })
}

fn arb_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![arb_random_bytes(), arb_mutated_record()]
}

/// The property: decoding returns (no panic); when it succeeds, encoding the
/// result in the same format succeeds and decodes to the same fingers.
fn decode_is_total_and_stable(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(decoded) = codec::decode(bytes) {
        let again = codec::encode(&decoded.fingers, decoded.format)
            .map_err(|e| TestCaseError::fail(format!("re-encode failed: {e}")))?;
        let back = codec::decode(&again)
            .map_err(|e| TestCaseError::fail(format!("re-decode failed: {e}")))?;
        prop_assert_eq!(back.format, decoded.format);
        prop_assert_eq!(back.fingers, decoded.fingers);
    }
    Ok(())
}

proptest! {
    #![proptest_config(Config::with_cases(512))]

    #[test]
    fn decoding_random_or_mutated_bytes_never_panics_and_is_stable(bytes in arb_input()) {
        decode_is_total_and_stable(&bytes)?;
    }
}

#[test]
#[ignore = "bounded fuzz run, see .ci/fuzz"]
fn bounded_fuzz_run() {
    let seconds = std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let strategy = arb_input();
    let mut cases = 0u64;
    let decoded = std::cell::Cell::new(0u64);
    // Fresh runners, each with a random seed, until the time is up.
    while Instant::now() < deadline {
        let batch = 5_000;
        let mut runner = TestRunner::new(Config {
            cases: batch,
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&strategy, |bytes| {
            if codec::decode(&bytes).is_ok() {
                decoded.set(decoded.get() + 1);
            }
            decode_is_total_and_stable(&bytes)
        });
        if let Err(err) = result {
            panic!("{err}");
        }
        cases += u64::from(batch);
    }
    eprintln!(
        "bounded fuzz: {cases} inputs in {seconds} s, {} of them decoded",
        decoded.get()
    );
}
