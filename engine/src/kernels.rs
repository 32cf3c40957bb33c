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
/// `Σ even[k]·(codes[k] & 15) + odd[k]·(codes[k] >> 4)`. The three slices
/// have equal lengths. Runs on AVX2 where the CPU has it (checked once).
pub fn dot_u4_i8(even: &[i8], odd: &[i8], codes: &[u8]) -> i32 {
    debug_assert!(even.len() == codes.len() && odd.len() == codes.len());
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 (checked at run time).
        return unsafe { dot_u4_i8_avx2(even, odd, codes) };
    }
    dot_u4_i8_scalar(even, odd, codes)
}

/// Scalar twin of [`dot_u4_i8`].
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

/// AVX2 form of [`dot_u4_i8`]: 32 packed bytes (64 values) a step (see
/// [`u4_steps_avx2`]), the rest as 16-byte windows whose weights are built
/// here; a slice shorter than 16 bytes runs scalar.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dot_u4_i8_avx2(even: &[i8], odd: &[i8], codes: &[u8]) -> i32 {
    let n = codes.len().min(even.len()).min(odd.len());
    if n < 16 {
        return dot_u4_i8_scalar(&even[..n], &odd[..n], &codes[..n]);
    }
    let body = n / 32 * 32;
    // SAFETY: AVX2 is enabled in this function; `body <= n` for all three slices.
    let mut total = unsafe { u4_steps_avx2(even, odd, codes, body) };
    for (from, e16, o16) in u4_windows(&even[..n], &odd[..n], body) {
        // SAFETY: `from + 16 <= n` (see `u4_windows`).
        total += unsafe { u4_window_avx2(codes, from, &e16, &o16) };
    }
    total
}

#[cfg(target_arch = "x86_64")]
/// The 16-byte windows that cover `body..n` after the 32-byte steps: each
/// ends at most at `n` and starts at `end - 16 >= 0`, which needs `n >= 16`;
/// weights of bytes an earlier step or window already counted are zero.
fn u4_windows(even: &[i8], odd: &[i8], body: usize) -> Vec<(usize, [i8; 16], [i8; 16])> {
    let n = even.len().min(odd.len());
    let mut out = Vec::new();
    let mut start = body;
    while start < n {
        let len = (n - start).min(16);
        let (mut e16, mut o16) = ([0i8; 16], [0i8; 16]);
        e16[16 - len..].copy_from_slice(&even[start..start + len]);
        o16[16 - len..].copy_from_slice(&odd[start..start + len]);
        out.push((start + len - 16, e16, o16));
        start += len;
    }
    out
}

/// `Σ` over the first `body` bytes (a multiple of 32), as 32-byte steps:
/// nibbles split with a mask and a shift, multiplied by `vpmaddubsw`
/// (unsigned levels times signed weights; two products of at most 15·128
/// each fit an i16) and widened by `vpmaddwd`.
///
/// # Safety
/// The CPU must support AVX2 and `body` must not exceed any slice's length.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn u4_steps_avx2(even: &[i8], odd: &[i8], codes: &[u8], body: usize) -> i32 {
    use std::arch::x86_64::*;
    let mask = _mm256_set1_epi8(0x0f);
    let ones = _mm256_set1_epi16(1);
    let mut acc = _mm256_setzero_si256();
    let mut k = 0;
    while k + 32 <= body {
        // SAFETY: k + 32 <= body <= each slice's length (the caller's
        // contract), so each 32-byte unaligned load stays inside its slice.
        let (c, e, o) = unsafe {
            (
                _mm256_loadu_si256(codes.as_ptr().add(k).cast()),
                _mm256_loadu_si256(even.as_ptr().add(k).cast()),
                _mm256_loadu_si256(odd.as_ptr().add(k).cast()),
            )
        };
        let lo = _mm256_and_si256(c, mask);
        let hi = _mm256_and_si256(_mm256_srli_epi16(c, 4), mask);
        let pairs = _mm256_add_epi16(_mm256_maddubs_epi16(lo, e), _mm256_maddubs_epi16(hi, o));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, ones));
        k += 32;
    }
    let mut lanes = [0i32; 8];
    // SAFETY: `lanes` is 32 bytes, the size of the store.
    unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), acc) };
    lanes.iter().sum()
}

/// One 16-byte window of codes starting at `from`, with its weights.
///
/// # Safety
/// The CPU must support AVX2 and `from + 16 <= codes.len()`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn u4_window_avx2(codes: &[u8], from: usize, e16: &[i8; 16], o16: &[i8; 16]) -> i32 {
    use std::arch::x86_64::*;
    // SAFETY: `from + 16 <= codes.len()` (the caller's contract); the weight
    // arrays are 16 bytes each.
    let (c, e, o) = unsafe {
        (
            _mm_loadu_si128(codes.as_ptr().add(from).cast()),
            _mm_loadu_si128(e16.as_ptr().cast()),
            _mm_loadu_si128(o16.as_ptr().cast()),
        )
    };
    let mask = _mm_set1_epi8(0x0f);
    let lo = _mm_and_si128(c, mask);
    let hi = _mm_and_si128(_mm_srli_epi16(c, 4), mask);
    let pairs = _mm_add_epi16(_mm_maddubs_epi16(lo, e), _mm_maddubs_epi16(hi, o));
    let wide = _mm_madd_epi16(pairs, _mm_set1_epi16(1));
    let mut four = [0i32; 4];
    // SAFETY: `four` is 16 bytes, the size of the store.
    unsafe { _mm_storeu_si128(four.as_mut_ptr().cast(), wide) };
    four.iter().sum()
}

/// Weights of [`dot_u4_i8`] prepared once for many codes of their length
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

    /// [`dot_u4_i8`] of these weights with `codes` (of [`Self::len`] bytes;
    /// other lengths take the scalar path over the common prefix).
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

    proptest! {
        #[test]
        fn simd_dot_u4_i8_agrees_with_scalar(
            rows in proptest::collection::vec((any::<i8>(), any::<i8>(), any::<u8>()), 0..300),
        ) {
            let even: Vec<i8> = rows.iter().map(|r| r.0).collect();
            let odd: Vec<i8> = rows.iter().map(|r| r.1).collect();
            let codes: Vec<u8> = rows.iter().map(|r| r.2).collect();
            prop_assert_eq!(dot_u4_i8(&even, &odd, &codes), dot_u4_i8_scalar(&even, &odd, &codes));
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
            assert_eq!(dot_u4_i8(&weights, &weights, &codes), want);
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
