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

/// AVX2 form of [`dot_u4_i8`]: 32 packed bytes (64 values) a step, nibbles
/// split with a mask and a shift, multiplied by `vpmaddubsw` (unsigned levels
/// times signed weights; two products of at most 15·128 each fit an i16)
/// and widened by `vpmaddwd`; the tail shorter than 32 bytes runs scalar.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dot_u4_i8_avx2(even: &[i8], odd: &[i8], codes: &[u8]) -> i32 {
    use std::arch::x86_64::*;
    let n = codes.len().min(even.len()).min(odd.len());
    let body = n / 32 * 32;
    let mask = _mm256_set1_epi8(0x0f);
    let ones = _mm256_set1_epi16(1);
    let mut acc = _mm256_setzero_si256();
    let mut k = 0;
    while k < body {
        // SAFETY: k + 32 <= n, so each 32-byte unaligned load stays inside
        // its slice.
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
    let tail = n - body;
    if tail == 0 || n < 16 {
        return lanes.iter().sum::<i32>()
            + dot_u4_i8_scalar(&even[body..n], &odd[body..n], &codes[body..n]);
    }
    // The tail as one 16-byte step over the slice's last 16 bytes: the bytes
    // before `body` that it overlaps get zero weights.
    let (mut e16, mut o16) = ([0i8; 16], [0i8; 16]);
    let mut total = lanes.iter().sum::<i32>();
    let mut start = body;
    while start < n {
        let len = (n - start).min(16);
        e16.fill(0);
        o16.fill(0);
        e16[16 - len..].copy_from_slice(&even[start..start + len]);
        o16[16 - len..].copy_from_slice(&odd[start..start + len]);
        let from = start + len - 16;
        // SAFETY: `from + 16 = start + len <= n` and `from >= 0` because
        // `n >= 16` and `start + len` is at least 16 past zero (either
        // `len == 16` or `start + len == n >= 16`); the weight buffers are
        // 16 bytes each.
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
        total += four.iter().sum::<i32>();
        start += len;
    }
    total
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

    #[test]
    fn u4_extremes_do_not_overflow() {
        let codes = vec![0xffu8; 108];
        for w in [-128i8, 127] {
            let weights = vec![w; 108];
            let want = i32::from(w) * 15 * 216;
            assert_eq!(dot_u4_i8(&weights, &weights, &codes), want);
            assert_eq!(dot_u4_i8_scalar(&weights, &weights, &codes), want);
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
