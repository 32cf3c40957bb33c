//! Numeric kernels shared by the matchers, each beside its scalar twin.
//!
//! The SIMD paths come from simsimd, which picks the best implementation for
//! the running CPU once (dynamic dispatch); [`report`] says which it chose.
//! Property tests check that every SIMD path agrees with its scalar twin.

use serde::Serialize;
use simsimd::SpatialSimilarity;

/// Dot product of two int8 vectors of equal length, exact.
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    debug_assert_eq!(a.len(), b.len());
    match <i8 as SpatialSimilarity>::dot(a, b) {
        // simsimd accumulates in i32 and returns it as f64: the conversion is exact.
        Some(d) => d as i32,
        None => dot_i8_scalar(a, b),
    }
}

/// Scalar twin of [`dot_i8`].
pub fn dot_i8_scalar(a: &[i8], b: &[i8]) -> i32 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| i32::from(x) * i32::from(y))
        .sum()
}

/// The instruction sets the kernels run on, for health endpoints and
/// benchmark output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KernelReport {
    /// The most capable simsimd target this CPU supports.
    pub simsimd_target: &'static str,
    pub dynamic_dispatch: bool,
}

/// Which kernels run on this machine (decided once, cached).
pub fn report() -> KernelReport {
    static REPORT: std::sync::OnceLock<KernelReport> = std::sync::OnceLock::new();
    REPORT
        .get_or_init(|| {
            use simsimd::capabilities as caps;
            let target = [
                (caps::uses_sapphire(), "sapphire (AVX-512 FP16/VNNI)"),
                (caps::uses_turin(), "turin (AVX-512 VP2INTERSECT)"),
                (caps::uses_genoa(), "genoa (AVX-512 BF16)"),
                (caps::uses_ice(), "ice (AVX-512 VNNI/VPOPCNTDQ)"),
                (caps::uses_skylake(), "skylake (AVX-512)"),
                (caps::uses_haswell(), "haswell (AVX2 FMA)"),
                (caps::uses_sve(), "sve"),
                (caps::uses_neon(), "neon"),
            ]
            .into_iter()
            .find_map(|(yes, name)| yes.then_some(name))
            .unwrap_or("serial");
            KernelReport {
                simsimd_target: target,
                dynamic_dispatch: caps::uses_dynamic_dispatch(),
            }
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn simd_dot_i8_agrees_with_scalar(pairs in proptest::collection::vec((any::<i8>(), any::<i8>()), 0..1100)) {
            let (a, b): (Vec<i8>, Vec<i8>) = pairs.into_iter().unzip();
            prop_assert_eq!(dot_i8(&a, &b), dot_i8_scalar(&a, &b));
        }
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        let a = vec![-128i8; 4096];
        assert_eq!(dot_i8(&a, &a), 128 * 128 * 4096);
        let report = report();
        assert!(!report.simsimd_target.is_empty());
    }
}
