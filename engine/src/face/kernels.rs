//! Integer dot-product kernels of the face scan: int8 codes against int8
//! probes, exact in i32, with a scalar twin for every SIMD path.
//!
//! Two shapes are computed:
//! - *rows*: one probe against a run of gallery rows (single-probe search);
//! - *tile*: up to [`TILE_PROBES`] probes against a run of rows at once (batch
//!   search), so each gallery row is read from memory once per tile.
//!
//! The kernel is chosen once per process ([`Kernel::selected`]) and reported
//! by [`kernel_report`]. Every kernel returns the exact integer dot product,
//! so all kernels agree bit for bit and the property tests assert equality.

use std::sync::OnceLock;

use serde::Serialize;

use crate::kernels::{dot_i8, dot_i8_scalar};

/// Probes handled by one tile (the last of the 32 lanes carries the row sum).
pub const TILE_PROBES: usize = 31;
/// i32 lanes of one tile row: [`TILE_PROBES`] dots plus the row's code sum.
pub const TILE_LANES: usize = TILE_PROBES + 1;
/// Environment variable that forces a (supported) kernel: `scalar`,
/// `simsimd` or `avx512-vnni`.
pub const KERNEL_ENV: &str = "HOVIYAT_FACE_KERNEL";

/// A dot-product implementation of the face scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kernel {
    /// Plain Rust loops: the reference every other kernel is tested against.
    Scalar,
    /// simsimd's int8 inner product, one (probe, row) pair per call, with
    /// simsimd's own run-time dispatch.
    Simsimd,
    /// Hand-tiled AVX-512 VNNI (`vpdpbusd`): 64 bytes per instruction for a
    /// single probe, 16 probes per instruction for a tile.
    Avx512Vnni,
}

impl Kernel {
    /// Every kernel this CPU can run, best first.
    pub fn available() -> Vec<Kernel> {
        let mut out = Vec::with_capacity(3);
        if avx512_vnni_supported() {
            out.push(Kernel::Avx512Vnni);
        }
        out.push(Kernel::Simsimd);
        out.push(Kernel::Scalar);
        out
    }

    /// The kernel used by searches: the best available, unless
    /// [`KERNEL_ENV`] names another available one. Chosen once per process.
    pub fn selected() -> Kernel {
        static SELECTED: OnceLock<Kernel> = OnceLock::new();
        *SELECTED.get_or_init(|| {
            let available = Kernel::available();
            let forced = std::env::var(KERNEL_ENV).ok();
            let chosen = forced
                .as_deref()
                .and_then(Kernel::from_name)
                .filter(|k| available.contains(k));
            if let (Some(name), None) = (forced.as_deref(), chosen) {
                tracing::warn!(%name, "{KERNEL_ENV} names no kernel available here; using the best");
            }
            let kernel = chosen.unwrap_or(available[0]);
            tracing::debug!(kernel = kernel.name(), "face scan kernel selected");
            kernel
        })
    }

    /// The kernel's stable name, as reported.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Scalar => "scalar",
            Kernel::Simsimd => "simsimd",
            Kernel::Avx512Vnni => "avx512-vnni",
        }
    }

    /// Parses a name returned by [`Kernel::name`].
    pub fn from_name(name: &str) -> Option<Kernel> {
        match name {
            "scalar" => Some(Kernel::Scalar),
            "simsimd" => Some(Kernel::Simsimd),
            "avx512-vnni" => Some(Kernel::Avx512Vnni),
            _ => None,
        }
    }

    /// Exact dots of `probe` with each of the `out.len()` rows stored
    /// row-major in `rows` (`rows.len() == out.len() * probe.len()`).
    ///
    /// # Panics
    /// If the lengths disagree (a caller bug, never input-dependent), or if
    /// the kernel is not available on this CPU.
    pub fn dots_rows(self, probe: &ProbeCode, rows: &[i8], out: &mut [i32]) {
        let dim = probe.codes.len();
        assert_eq!(rows.len(), out.len() * dim, "rows/out length mismatch");
        match self {
            Kernel::Scalar => dots_rows_scalar(&probe.codes, rows, out),
            Kernel::Simsimd => dots_rows_simsimd(&probe.codes, rows, out),
            Kernel::Avx512Vnni => {
                assert!(avx512_vnni_supported(), "AVX-512 VNNI not available");
                #[cfg(target_arch = "x86_64")]
                // SAFETY: the CPU supports the required features (checked
                // above) and the lengths were checked against `out`.
                unsafe {
                    x86::dots_rows_vnni(&probe.codes, probe.code_sum, rows, out);
                }
            }
        }
    }

    /// Exact dots of every probe of `tile` with each row of `rows`:
    /// `out[r * TILE_LANES + p]` for probe `p < tile.len()`. Lanes of absent
    /// probes and the last lane hold unspecified values.
    ///
    /// # Panics
    /// As [`Kernel::dots_rows`].
    pub fn dots_tile(self, tile: &ProbeTile, rows: &[i8], out: &mut [i32]) {
        let dim = tile.dim;
        let n_rows = out.len() / TILE_LANES;
        assert_eq!(out.len(), n_rows * TILE_LANES, "out is not whole tile rows");
        assert_eq!(rows.len(), n_rows * dim, "rows/out length mismatch");
        match self {
            Kernel::Scalar => dots_tile_scalar(tile, rows, out),
            Kernel::Simsimd => dots_tile_simsimd(tile, rows, out),
            Kernel::Avx512Vnni if dim.is_multiple_of(4) => {
                assert!(avx512_vnni_supported(), "AVX-512 VNNI not available");
                #[cfg(target_arch = "x86_64")]
                // SAFETY: features checked above; `tile.interleaved` holds
                // dim/4 groups of `tile.vectors` 64-byte vectors (built by
                // `ProbeTile::new`), and the lengths were checked.
                unsafe {
                    x86::dots_tile_vnni(tile, rows, out);
                }
            }
            // An odd dimension has no 4-byte groups: fall back to the pair
            // kernel, which is still exact.
            Kernel::Avx512Vnni => {
                let mut one = [0i32; 1];
                for (r, row) in rows.chunks_exact(dim).enumerate() {
                    for (p, probe) in tile.probes.iter().enumerate() {
                        Kernel::Avx512Vnni.dots_rows(probe, row, &mut one);
                        out[r * TILE_LANES + p] = one[0];
                    }
                }
            }
        }
    }
}

/// What the face scan runs on: the chosen kernel and the CPU capabilities
/// behind the choice. Shown by the health endpoint and benchmark output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KernelReport {
    /// Name of the kernel in use (see [`Kernel::name`]).
    pub kernel: &'static str,
    /// Every kernel this CPU supports, best first.
    pub available: Vec<&'static str>,
    /// simsimd's best x86/Arm capability level on this CPU (`sapphire`,
    /// `ice`, `skylake`, `haswell`, `neon`, `sve` or `serial`).
    pub simsimd_capability: &'static str,
}

/// The face scan kernel in use and why.
pub fn kernel_report() -> KernelReport {
    KernelReport {
        kernel: Kernel::selected().name(),
        available: Kernel::available().into_iter().map(Kernel::name).collect(),
        simsimd_capability: simsimd_capability(),
    }
}

fn simsimd_capability() -> &'static str {
    use simsimd::capabilities as c;
    // Ordered from the most to the least capable level simsimd knows.
    type Level = (&'static str, fn() -> bool);
    let levels: [Level; 10] = [
        ("turin", c::uses_turin),
        ("sapphire", c::uses_sapphire),
        ("genoa", c::uses_genoa),
        ("ice", c::uses_ice),
        ("skylake", c::uses_skylake),
        ("haswell", c::uses_haswell),
        ("sve", c::uses_sve),
        ("neon", c::uses_neon),
        ("sierra", c::uses_sierra),
        ("serial", || true),
    ];
    levels
        .iter()
        .find(|(_, check)| check())
        .map_or("serial", |(name, _)| name)
}

/// Whether the CPU runs the AVX-512 VNNI kernels.
pub fn avx512_vnni_supported() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// One probe's int8 code with what the kernels precompute from it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeCode {
    /// The int8 code, in `-127..=127`.
    pub codes: Vec<i8>,
    /// Sum of `codes` (the AVX-512 row kernel's offset correction).
    pub code_sum: i32,
}

impl ProbeCode {
    pub fn new(codes: Vec<i8>) -> Self {
        let code_sum = codes.iter().map(|&c| i32::from(c)).sum();
        Self { codes, code_sum }
    }
}

/// Up to [`TILE_PROBES`] probes of one dimension, laid out for the tile
/// kernels.
#[derive(Debug, Clone)]
pub struct ProbeTile {
    dim: usize,
    probes: Vec<ProbeCode>,
    /// 64-byte vectors per 4-byte group: 1 when 15 probes or fewer fit in 16
    /// lanes with the sum lane, else 2.
    vectors: usize,
    /// For group `g` and vector `v`, 64 bytes at `(g * vectors + v) * 64`:
    /// lane `l` (4 bytes) holds probe `16 v + l`'s codes `4g..4g+4` shifted
    /// to u8 (`c + 128`); the last lane of the last vector holds `1`s (so
    /// the kernel also sums the row's codes), unused lanes `0`.
    interleaved: Vec<u8>,
}

impl ProbeTile {
    /// Lays out `probes` (1 to [`TILE_PROBES`] codes of length `dim`).
    ///
    /// # Panics
    /// On an empty or oversized tile, or codes of another length (caller bugs).
    pub fn new(dim: usize, probes: Vec<ProbeCode>) -> Self {
        assert!(!probes.is_empty() && probes.len() <= TILE_PROBES);
        assert!(probes.iter().all(|p| p.codes.len() == dim));
        let vectors = if probes.len() < 16 { 1 } else { 2 };
        let groups = dim / 4;
        let mut interleaved = vec![0u8; groups * vectors * 64];
        for g in 0..groups {
            for v in 0..vectors {
                let base = (g * vectors + v) * 64;
                for l in 0..16 {
                    let lane = &mut interleaved[base + 4 * l..base + 4 * l + 4];
                    let p = 16 * v + l;
                    if v == vectors - 1 && l == 15 {
                        lane.fill(1);
                    } else if let Some(probe) = probes.get(p) {
                        for (dst, &c) in lane.iter_mut().zip(&probe.codes[4 * g..4 * g + 4]) {
                            *dst = shift_u8(c);
                        }
                    }
                }
            }
        }
        Self {
            dim,
            probes,
            vectors,
            interleaved,
        }
    }

    /// Number of probes in the tile.
    pub fn len(&self) -> usize {
        self.probes.len()
    }

    /// Always false: a tile holds at least one probe.
    pub fn is_empty(&self) -> bool {
        self.probes.is_empty()
    }
}

/// `c + 128` as u8 (flips the sign bit).
fn shift_u8(c: i8) -> u8 {
    (c as u8) ^ 0x80
}

/// Scalar twin of [`Kernel::dots_rows`].
pub fn dots_rows_scalar(probe: &[i8], rows: &[i8], out: &mut [i32]) {
    for (o, row) in out.iter_mut().zip(rows.chunks_exact(probe.len())) {
        *o = dot_i8_scalar(probe, row);
    }
}

fn dots_rows_simsimd(probe: &[i8], rows: &[i8], out: &mut [i32]) {
    for (o, row) in out.iter_mut().zip(rows.chunks_exact(probe.len())) {
        *o = dot_i8(probe, row);
    }
}

/// Scalar twin of [`Kernel::dots_tile`].
pub fn dots_tile_scalar(tile: &ProbeTile, rows: &[i8], out: &mut [i32]) {
    for (r, row) in rows.chunks_exact(tile.dim).enumerate() {
        for (p, probe) in tile.probes.iter().enumerate() {
            out[r * TILE_LANES + p] = dot_i8_scalar(&probe.codes, row);
        }
    }
}

fn dots_tile_simsimd(tile: &ProbeTile, rows: &[i8], out: &mut [i32]) {
    for (r, row) in rows.chunks_exact(tile.dim).enumerate() {
        for (p, probe) in tile.probes.iter().enumerate() {
            out[r * TILE_LANES + p] = dot_i8(&probe.codes, row);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! AVX-512 VNNI kernels. `vpdpbusd` multiplies unsigned by signed bytes,
    //! so one side is shifted by +128 and the excess is subtracted again.
    use std::arch::x86_64::*;

    use super::{ProbeTile, TILE_LANES};

    /// Rows processed together by the tile kernel (accumulators: rows x
    /// vectors <= 24 of the 32 zmm registers).
    const TILE_ROWS: usize = 12;

    /// Bytes ahead of the current row that the row kernel asks the CPU to
    /// fetch (into L2). The hardware prefetchers stop at 4 KiB page
    /// boundaries; a software hint two pages ahead keeps a single core's
    /// stream of requests full across them.
    const PREFETCH_BYTES: usize = 8192;

    /// Dots of one probe with consecutive rows. The row is the unsigned
    /// operand (`g + 128`), so `sum((g + 128) q) - 128 sum(q) = g . q`.
    ///
    /// Rows are read strictly in memory order (each row's chunks in turn,
    /// then the next row), which is what the hardware prefetchers follow
    /// best; four rows share one horizontal reduction.
    ///
    /// # Safety
    /// The CPU must support avx512f, avx512bw and avx512vnni, and
    /// `rows.len() == out.len() * probe.len()`.
    #[target_feature(enable = "avx2,avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn dots_rows_vnni(
        probe: &[i8],
        probe_sum: i32,
        rows: &[i8],
        out: &mut [i32],
    ) {
        let dim = probe.len();
        let correction = probe_sum.wrapping_mul(128);
        let n = out.len();
        let mut r = 0;
        while r + 4 <= n {
            let mut acc = [_mm512_setzero_si512(); 4];
            for (i, a) in acc.iter_mut().enumerate() {
                // SAFETY: row r + i < n exists (loop bound and the
                // caller's length contract).
                *a = unsafe { row_acc(probe, &rows[(r + i) * dim..(r + i + 1) * dim]) };
            }
            let dots = _mm_sub_epi32(reduce4(acc), _mm_set1_epi32(correction));
            // SAFETY: out[r..r + 4] exists (r + 4 <= n).
            unsafe { _mm_storeu_si128(out.as_mut_ptr().add(r).cast(), dots) };
            r += 4;
        }
        for (o, row) in out[r..].iter_mut().zip(rows[r * dim..].chunks_exact(dim)) {
            // SAFETY: `row` has the probe's length.
            let acc = unsafe { row_acc(probe, row) };
            *o = _mm512_reduce_add_epi32(acc).wrapping_sub(correction);
        }
    }

    /// The 16 lane partial sums of `sum((row + 128) * probe)`.
    ///
    /// # Safety
    /// As [`dots_rows_vnni`], with `row.len() == probe.len()`.
    #[target_feature(enable = "avx2,avx512f,avx512bw,avx512vnni")]
    #[inline]
    unsafe fn row_acc(probe: &[i8], row: &[i8]) -> __m512i {
        debug_assert_eq!(row.len(), probe.len());
        let dim = probe.len();
        let full = dim / 64;
        let tail = dim % 64;
        let flip = _mm512_set1_epi8(-128);
        let q = probe.as_ptr();
        let g = row.as_ptr();
        // Two chains so consecutive `vpdpbusd`s do not wait on each other.
        let mut acc = [_mm512_setzero_si512(); 2];
        for c in 0..full {
            // A hint only: it never faults, so running past the end of the
            // rows is harmless (wrapping_add keeps the address arithmetic
            // defined).
            _mm_prefetch::<_MM_HINT_T1>(g.wrapping_add(64 * c + PREFETCH_BYTES).cast());
            // SAFETY: chunk c < dim / 64 lies within the row and the probe.
            unsafe {
                let gc = _mm512_xor_si512(_mm512_loadu_si512(g.add(64 * c).cast()), flip);
                let qc = _mm512_loadu_si512(q.add(64 * c).cast());
                acc[c % 2] = _mm512_dpbusd_epi32(acc[c % 2], gc, qc);
            }
        }
        if tail != 0 {
            let mask: __mmask64 = (1u64 << tail) - 1;
            // SAFETY: the masked loads touch only the `tail` bytes left in
            // the row and the probe. Masked-off probe bytes are zero, so
            // the flipped zeros of the row contribute 0.
            unsafe {
                let gt = _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, g.add(64 * full)), flip);
                let qt = _mm512_maskz_loadu_epi8(mask, q.add(64 * full));
                acc[0] = _mm512_dpbusd_epi32(acc[0], gt, qt);
            }
        }
        _mm512_add_epi32(acc[0], acc[1])
    }

    /// The lane sums of four accumulators, as `[sum(a0), .., sum(a3)]`.
    #[target_feature(enable = "avx2,avx512f")]
    fn reduce4(a: [__m512i; 4]) -> __m128i {
        // Within each 128-bit lane: pairwise interleave-and-add twice leaves
        // [a0, a1, a2, a3] partial sums; then add the four 128-bit lanes.
        let s01 = _mm512_add_epi32(
            _mm512_unpacklo_epi32(a[0], a[1]),
            _mm512_unpackhi_epi32(a[0], a[1]),
        );
        let s23 = _mm512_add_epi32(
            _mm512_unpacklo_epi32(a[2], a[3]),
            _mm512_unpackhi_epi32(a[2], a[3]),
        );
        let t = _mm512_add_epi32(
            _mm512_unpacklo_epi64(s01, s23),
            _mm512_unpackhi_epi64(s01, s23),
        );
        let halves = _mm256_add_epi32(_mm512_castsi512_si256(t), _mm512_extracti64x4_epi64::<1>(t));
        _mm_add_epi32(
            _mm256_castsi256_si128(halves),
            _mm256_extracti128_si256::<1>(halves),
        )
    }

    /// Dots of a tile of probes with consecutive rows. Each 4-byte group of
    /// a row is broadcast to all 16 lanes and multiplied with 16 probes'
    /// matching groups, so no horizontal sum is needed; the sum lane gives
    /// `sum(g)`, which removes the probes' +128 shift.
    ///
    /// # Safety
    /// As [`dots_rows_vnni`], plus `tile.dim % 4 == 0` and
    /// `rows.len() * TILE_LANES == out.len() * tile.dim`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn dots_tile_vnni(tile: &ProbeTile, rows: &[i8], out: &mut [i32]) {
        let dim = tile.dim;
        let n_rows = out.len() / TILE_LANES;
        let mut r = 0;
        while r + TILE_ROWS <= n_rows {
            // SAFETY: rows r..r+TILE_ROWS exist (loop bound) and the
            // caller's contract covers the rest.
            unsafe {
                if tile.vectors == 1 {
                    block::<1, TILE_ROWS>(tile, &rows[r * dim..], &mut out[r * TILE_LANES..]);
                } else {
                    block::<2, TILE_ROWS>(tile, &rows[r * dim..], &mut out[r * TILE_LANES..]);
                }
            }
            r += TILE_ROWS;
        }
        while r < n_rows {
            // SAFETY: row r exists.
            unsafe {
                if tile.vectors == 1 {
                    block::<1, 1>(tile, &rows[r * dim..], &mut out[r * TILE_LANES..]);
                } else {
                    block::<2, 1>(tile, &rows[r * dim..], &mut out[r * TILE_LANES..]);
                }
            }
            r += 1;
        }
    }

    /// `R` rows against a tile of `V` vectors (16 V lanes).
    ///
    /// # Safety
    /// As [`dots_tile_vnni`], with at least `R` rows in `rows` and
    /// `R * TILE_LANES` values in `out`; `tile.vectors == V`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    #[inline]
    unsafe fn block<const V: usize, const R: usize>(
        tile: &ProbeTile,
        rows: &[i8],
        out: &mut [i32],
    ) {
        let dim = tile.dim;
        debug_assert!(rows.len() >= R * dim && out.len() >= R * TILE_LANES);
        debug_assert_eq!(tile.vectors, V);
        let mut acc = [[_mm512_setzero_si512(); V]; R];
        let p = tile.interleaved.as_ptr();
        let g = rows.as_ptr();
        for k in 0..dim / 4 {
            let mut pv = [_mm512_setzero_si512(); V];
            for (v, slot) in pv.iter_mut().enumerate() {
                // SAFETY: group k < dim/4 and v < V = tile.vectors, inside
                // the interleaved buffer of dim/4 * V * 64 bytes.
                *slot = unsafe { _mm512_loadu_si512(p.add((k * V + v) * 64).cast()) };
            }
            for (i, acc_row) in acc.iter_mut().enumerate() {
                // SAFETY: bytes 4k..4k+4 of row i < R lie within `rows`;
                // an unaligned 4-byte read.
                let word = unsafe { g.add(i * dim + 4 * k).cast::<i32>().read_unaligned() };
                let b = _mm512_set1_epi32(word);
                for v in 0..V {
                    acc_row[v] = _mm512_dpbusd_epi32(acc_row[v], pv[v], b);
                }
            }
        }
        let sum_lane = _mm512_set1_epi32(15);
        for (i, acc_row) in acc.iter().enumerate() {
            // Lane 15 of the last vector is sum(g); dot = acc - 128 sum(g).
            let sums = _mm512_permutexvar_epi32(sum_lane, acc_row[V - 1]);
            let excess = _mm512_slli_epi32::<7>(sums);
            for (v, &acc_v) in acc_row.iter().enumerate() {
                let dots = _mm512_sub_epi32(acc_v, excess);
                // SAFETY: lanes 16v..16v+16 of row i lie within `out`.
                unsafe {
                    _mm512_storeu_si512(out.as_mut_ptr().add(i * TILE_LANES + 16 * v).cast(), dots);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn codes(len: usize) -> impl Strategy<Value = Vec<i8>> {
        prop::collection::vec(-127i8..=127, len)
    }

    fn rows_and_probes() -> impl Strategy<Value = (usize, Vec<i8>, Vec<Vec<i8>>)> {
        (1usize..200, 1usize..30, 1usize..=TILE_PROBES).prop_flat_map(|(dim, n, p)| {
            (
                Just(dim),
                codes(dim * n),
                prop::collection::vec(codes(dim), p),
            )
        })
    }

    /// Every available row kernel gives the scalar twin's dot products.
    fn row_kernels_agree(probe: &ProbeCode, rows: &[i8], dim: usize) -> Result<(), TestCaseError> {
        let n = rows.len() / dim;
        let mut want = vec![0; n];
        dots_rows_scalar(&probe.codes, rows, &mut want);
        for kernel in Kernel::available() {
            let mut got = vec![0; n];
            kernel.dots_rows(probe, rows, &mut got);
            prop_assert_eq!(&got, &want, "kernel {}", kernel.name());
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn row_kernels_agree_with_the_scalar_twin((dim, rows, probes) in rows_and_probes()) {
            row_kernels_agree(&ProbeCode::new(probes[0].clone()), &rows, dim)?;
        }

        #[test]
        fn tile_kernels_agree_with_the_scalar_twin((dim, rows, probes) in rows_and_probes()) {
            let tile = ProbeTile::new(dim, probes.into_iter().map(ProbeCode::new).collect());
            let n = rows.len() / dim;
            let mut want = vec![0; n * TILE_LANES];
            dots_tile_scalar(&tile, &rows, &mut want);
            for kernel in Kernel::available() {
                let mut got = vec![0; n * TILE_LANES];
                kernel.dots_tile(&tile, &rows, &mut got);
                for r in 0..n {
                    prop_assert_eq!(
                        &got[r * TILE_LANES..r * TILE_LANES + tile.len()],
                        &want[r * TILE_LANES..r * TILE_LANES + tile.len()],
                        "kernel {}", kernel.name()
                    );
                }
            }
        }

        #[test]
        fn row_kernels_agree_at_embedding_dimensions(
            (dim, rows, probe) in (200usize..1100, 1usize..10).prop_flat_map(|(dim, n)| {
                (Just(dim), codes(dim * n), codes(dim))
            })
        ) {
            row_kernels_agree(&ProbeCode::new(probe), &rows, dim)?;
        }
    }

    #[test]
    fn extreme_codes_do_not_overflow_at_the_largest_dimension() {
        let dim = hoviyat_models::MAX_FACE_DIM;
        let probe = ProbeCode::new(vec![-127; dim]);
        let rows = vec![-127i8; 2 * dim];
        let want = 127 * 127 * dim as i32;
        for kernel in Kernel::available() {
            let mut got = [0; 2];
            kernel.dots_rows(&probe, &rows, &mut got);
            assert_eq!(got, [want, want], "kernel {}", kernel.name());
            let tile = ProbeTile::new(dim, vec![probe.clone(); TILE_PROBES]);
            let mut got = vec![0; 2 * TILE_LANES];
            kernel.dots_tile(&tile, &rows, &mut got);
            assert!(got[..TILE_PROBES].iter().all(|&d| d == want));
        }
    }

    #[test]
    fn the_selected_kernel_is_available_and_reported() {
        let report = kernel_report();
        assert!(report.available.contains(&report.kernel));
        assert_eq!(Kernel::from_name(report.kernel), Some(Kernel::selected()));
    }
}
