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

/// Dot product of packed unsigned 4-bit values with int8 weights, exact:
/// `Σ even[k]·(codes[k] & 15) + odd[k]·(codes[k] >> 4)` over the common
/// length; the scalar twin of [`U4Weights::dot`].
pub fn dot_u4_i8_scalar(even: &[i8], odd: &[i8], codes: &[u8]) -> i32 {
    even.iter()
        .zip(odd)
        .zip(codes)
        .map(|((&e, &o), &c)| i32::from(e) * i32::from(c & 0x0f) + i32::from(o) * i32::from(c >> 4))
        .sum()
}

#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    static AVX2: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVX2.get_or_init(|| std::arch::is_x86_feature_detected!("avx2"))
}

/// Weights of [`dot_u4_i8_scalar`] prepared once for many codes of their length
/// (a probe screened against a whole gallery): laid out as 32-byte windows
/// (the last one ending at the codes' end, its weights zero where an
/// earlier window already counted a byte), so a dot product is whole-vector
/// steps over the codes in place, reduced once.
#[derive(Debug, Clone)]
pub struct U4Weights {
    even: Vec<i8>,
    odd: Vec<i8>,
    /// Start of each window in the codes, and its even and odd weights.
    windows: Vec<(usize, [i8; 32], [i8; 32])>,
}

impl U4Weights {
    /// Weights `even[k]` for the low nibble of byte `k`, `odd[k]` for its
    /// high one (the shorter slice sets the length).
    pub fn new(even: &[i8], odd: &[i8]) -> Self {
        let n = even.len().min(odd.len());
        let mut windows = Vec::new();
        if n >= 32 {
            let mut start = 0;
            while start < n {
                let from = start.min(n - 32);
                let (mut e, mut o) = ([0i8; 32], [0i8; 32]);
                let skip = start - from;
                e[skip..].copy_from_slice(&even[start..from + 32]);
                o[skip..].copy_from_slice(&odd[start..from + 32]);
                windows.push((from, e, o));
                start = from + 32;
            }
        }
        Self {
            even: even[..n].to_vec(),
            odd: odd[..n].to_vec(),
            windows,
        }
    }

    /// Codes length the weights are for, in bytes.
    pub fn len(&self) -> usize {
        self.even.len()
    }

    pub fn is_empty(&self) -> bool {
        self.even.is_empty()
    }

    /// [`dot_u4_i8_scalar`] of these weights with `codes`, on AVX2 where the
    /// CPU has it (checked once) and the codes are [`Self::len`] bytes long;
    /// other lengths take the scalar path over the common prefix.
    pub fn dot(&self, codes: &[u8]) -> i32 {
        #[cfg(target_arch = "x86_64")]
        if codes.len() == self.len() && !self.windows.is_empty() && has_avx2() {
            // SAFETY: AVX2 is present (checked at run time); the codes have
            // the weights' length, inside which every window lies.
            return unsafe { self.dot_avx2(codes) };
        }
        let n = codes.len().min(self.len());
        dot_u4_i8_scalar(&self.even[..n], &self.odd[..n], &codes[..n])
    }

    /// # Safety
    /// AVX2 must be present and `codes.len() == self.len()`.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn dot_avx2(&self, codes: &[u8]) -> i32 {
        use std::arch::x86_64::*;
        let mask = _mm256_set1_epi8(0x0f);
        let ones = _mm256_set1_epi16(1);
        let mut acc = _mm256_setzero_si256();
        for (from, e, o) in &self.windows {
            // SAFETY: every window satisfies `from + 32 <= len()`, and
            // `codes.len() == len()` (the caller's contract); the weight
            // arrays are 32 bytes each.
            let (c, e, o) = unsafe {
                (
                    _mm256_loadu_si256(codes.as_ptr().add(*from).cast()),
                    _mm256_loadu_si256(e.as_ptr().cast()),
                    _mm256_loadu_si256(o.as_ptr().cast()),
                )
            };
            let lo = _mm256_and_si256(c, mask);
            let hi = _mm256_and_si256(_mm256_srli_epi16(c, 4), mask);
            let pairs = _mm256_add_epi16(_mm256_maddubs_epi16(lo, e), _mm256_maddubs_epi16(hi, o));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, ones));
        }
        // Horizontal sum in registers: 8 lanes -> 4 -> 2 -> 1.
        let four = _mm_add_epi32(
            _mm256_castsi256_si128(acc),
            _mm256_extracti128_si256(acc, 1),
        );
        let two = _mm_add_epi32(four, _mm_shuffle_epi32(four, 0b01_00_11_10));
        let one = _mm_add_epi32(two, _mm_shuffle_epi32(two, 0b10_11_00_01));
        _mm_cvtsi128_si32(one)
    }
}

/// Asks the CPU to start loading `data` into the caches. A hint only: it
/// never faults and has no effect on any result.
pub(crate) fn prefetch<T>(data: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let start = data.as_ptr().cast::<i8>();
        for offset in (0..std::mem::size_of_val(data)).step_by(64) {
            // SAFETY: SSE is part of the x86_64 baseline, and a prefetch
            // does not dereference its address (it cannot fault).
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(offset)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = data;
}

/// The instruction sets the kernels run on, for health endpoints and
/// benchmark output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KernelReport {
    /// The most capable simsimd target this CPU supports.
    pub simsimd_target: &'static str,
    pub dynamic_dispatch: bool,
    /// The instruction set of the finger matcher's own kernels
    /// ([`crate::finger::kernels`]): `avx2`, or `scalar` (their twins).
    pub finger_kernels: &'static str,
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
            #[cfg(target_arch = "x86_64")]
            let finger_kernels = if has_avx2() { "avx2" } else { "scalar" };
            #[cfg(not(target_arch = "x86_64"))]
            let finger_kernels = "scalar";
            KernelReport {
                simsimd_target: target,
                dynamic_dispatch: caps::uses_dynamic_dispatch(),
                finger_kernels,
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

    proptest! {
        #[test]
        fn prepared_u4_weights_agree_with_scalar(
            rows in proptest::collection::vec((any::<i8>(), any::<i8>(), any::<u8>()), 0..300),
        ) {
            let even: Vec<i8> = rows.iter().map(|r| r.0).collect();
            let odd: Vec<i8> = rows.iter().map(|r| r.1).collect();
            let codes: Vec<u8> = rows.iter().map(|r| r.2).collect();
            let weights = U4Weights::new(&even, &odd);
            prop_assert_eq!(weights.dot(&codes), dot_u4_i8_scalar(&even, &odd, &codes));
        }
    }

    #[test]
    fn u4_extremes_do_not_overflow() {
        let codes = vec![0xffu8; 108];
        for w in [-128i8, 127] {
            let weights = vec![w; 108];
            let want = i32::from(w) * 15 * 216;
            assert_eq!(dot_u4_i8_scalar(&weights, &weights, &codes), want);
            assert_eq!(U4Weights::new(&weights, &weights).dot(&codes), want);
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
