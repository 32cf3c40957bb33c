//! Exact 1:N face search: an int8 scan with a proven error bound picks the
//! rows that could rank, and only those are rescored in full precision.
//!
//! Every returned score is the f32 cosine over the stored vectors, and no
//! row is lost to quantisation: a row is skipped only when its score's upper
//! bound (int8 estimate plus the bound of [`FaceAux`]) is below the
//! threshold, or below a proven lower bound of the K-th best score.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::codec::{FaceAux, FaceCodec, FaceProbe, dot_f32};
use super::kernels::{Kernel, ProbeTile, TILE_LANES, TILE_PROBES};
use crate::kernels::prefetch;
use crate::models::ModelError;
use crate::{EngineError, Result};

/// Rows scored per kernel call: the codes of a block stay in L1/L2 while
/// every probe tile of a batch passes over them.
const BLOCK_ROWS: usize = 256;
/// Slack added to every bound for f32 rounding in the scan and rescoring.
const ROUNDING_SLACK: f32 = 1e-4;

/// A borrowed run of stored face codes: row `first_row + i` has codes
/// `codes[i * dim..(i + 1) * dim]` and side data `aux[i]`.
#[derive(Debug, Clone, Copy)]
pub struct FaceRows<'a> {
    /// Global id of the first row (row ids are what hits report).
    pub first_row: u64,
    pub codes: &'a [i8],
    pub aux: &'a [FaceAux],
}

impl FaceRows<'_> {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.aux.len()
    }

    /// Whether the run holds no row.
    pub fn is_empty(&self) -> bool {
        self.aux.is_empty()
    }
}

/// The full-precision copy used for rescoring.
pub trait FaceVectors: Sync {
    /// Writes the stored template of `row` (as stored: before centring and
    /// normalisation) into `out` (length `dim`). Returns false when the row
    /// holds no face.
    fn vector(&self, row: u64, out: &mut [f32]) -> bool;
}

impl<F: Fn(u64, &mut [f32]) -> bool + Sync> FaceVectors for F {
    fn vector(&self, row: u64, out: &mut [f32]) -> bool {
        self(row, out)
    }
}

/// Templates stored densely, row-major (e.g. `half::f16` or `f32`), with
/// global row ids starting at `first_row`.
#[derive(Debug, Clone, Copy)]
pub struct DenseVectors<'a, T> {
    pub first_row: u64,
    pub dim: usize,
    pub values: &'a [T],
}

impl<T: Copy + Into<f32> + Sync> FaceVectors for DenseVectors<'_, T> {
    fn vector(&self, row: u64, out: &mut [f32]) -> bool {
        let Some(local) = row.checked_sub(self.first_row) else {
            return false;
        };
        let Ok(local) = usize::try_from(local) else {
            return false;
        };
        let start = local.saturating_mul(self.dim);
        let Some(src) = self.values.get(start..start.saturating_add(self.dim)) else {
            return false;
        };
        for (o, &v) in out.iter_mut().zip(src) {
            *o = v.into();
        }
        true
    }
}

/// What a search returns.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum FaceSearchMode {
    /// The `k` best candidates, best first (a ranked list for an examiner).
    Investigation { k: usize },
    /// Every candidate scoring at or above `threshold`, best first (dedup).
    Identification { threshold: f32 },
}

/// Which rows a search considers (before the exclusion predicate).
#[derive(Debug, Clone, Copy)]
pub enum FaceScope<'a> {
    /// Every row of every segment.
    All,
    /// Only these global row ids (a restriction to a set of references);
    /// duplicates are ignored.
    Rows(&'a [u64]),
}

/// One candidate: a row and its exact score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FaceHit {
    pub row: u64,
    /// Cosine similarity of the mean-centred templates, in `[-1, 1]`.
    pub score: f32,
}

/// Hits of one probe, best first, with the work it took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceSearchOutcome {
    pub hits: Vec<FaceHit>,
    /// Rows whose int8 code was scored.
    pub rows_scanned: u64,
    /// Rows rescored in full precision.
    pub rescored: u64,
}

/// Searches face codes held in one or more segments.
pub struct FaceSearcher<'a> {
    codec: &'a FaceCodec,
    segments: &'a [FaceRows<'a>],
    vectors: &'a dyn FaceVectors,
    exclude: Option<&'a (dyn Fn(u64) -> bool + Sync)>,
    kernel: Kernel,
}

impl std::fmt::Debug for FaceSearcher<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceSearcher")
            .field("dim", &self.codec.dim())
            .field("segments", &self.segments.len())
            .field("kernel", &self.kernel)
            .finish_non_exhaustive()
    }
}

impl<'a> FaceSearcher<'a> {
    /// A searcher over `segments` (ascending, non-overlapping row ids, codes
    /// of the codec's dimension), rescoring with `vectors`.
    pub fn new(
        codec: &'a FaceCodec,
        segments: &'a [FaceRows<'a>],
        vectors: &'a dyn FaceVectors,
    ) -> Result<Self> {
        let dim = codec.dim();
        let mut next_free = 0u64;
        for (index, seg) in segments.iter().enumerate() {
            if seg.codes.len() != seg.aux.len().saturating_mul(dim) {
                return Err(EngineError::FaceRowsInconsistent {
                    segment: index,
                    codes: seg.codes.len(),
                    rows: seg.aux.len(),
                    dim,
                });
            }
            if seg.first_row < next_free {
                return Err(EngineError::FaceSegmentsOverlap { segment: index });
            }
            next_free = seg.first_row.saturating_add(seg.len() as u64);
        }
        Ok(Self {
            codec,
            segments,
            vectors,
            exclude: None,
            kernel: Kernel::selected(),
        })
    }

    /// Skips every row for which `exclude(row)` is true (deleted, not
    /// searchable, outside a restriction). Called only for rows that could
    /// rank, not for every row scanned.
    pub fn excluding(mut self, exclude: &'a (dyn Fn(u64) -> bool + Sync)) -> Self {
        self.exclude = Some(exclude);
        self
    }

    /// Uses `kernel` instead of the process-wide choice (for comparisons).
    ///
    /// # Panics
    /// Searches panic if the kernel is not available on this CPU.
    pub fn with_kernel(mut self, kernel: Kernel) -> Self {
        self.kernel = kernel;
        self
    }

    /// Total rows in all segments.
    pub fn rows(&self) -> u64 {
        self.segments.iter().map(|s| s.len() as u64).sum()
    }

    /// Searches one probe; the scan is split across rayon's threads.
    pub fn search(
        &self,
        probe: &FaceProbe,
        mode: FaceSearchMode,
        scope: FaceScope<'_>,
    ) -> Result<FaceSearchOutcome> {
        let mut out = self.search_batch(std::slice::from_ref(probe), mode, scope)?;
        Ok(out.pop().unwrap_or(FaceSearchOutcome {
            hits: Vec::new(),
            rows_scanned: 0,
            rescored: 0,
        }))
    }

    /// Searches many probes in one pass: each block of gallery rows is read
    /// once and scored against up to [`TILE_PROBES`] probes per kernel
    /// call. Outcomes are in probe order and equal those of
    /// [`FaceSearcher::search`].
    pub fn search_batch(
        &self,
        probes: &[FaceProbe],
        mode: FaceSearchMode,
        scope: FaceScope<'_>,
    ) -> Result<Vec<FaceSearchOutcome>> {
        let dim = self.codec.dim();
        if let Some(p) = probes.iter().find(|p| p.dim() != dim) {
            return Err(ModelError::FaceDimensionMismatch {
                expected: dim,
                got: p.dim(),
            }
            .into());
        }
        if let FaceSearchMode::Identification { threshold } = mode
            && !threshold.is_finite()
        {
            return Err(EngineError::FaceThresholdNotFinite { threshold });
        }
        if probes.is_empty() {
            return Ok(Vec::new());
        }
        let states = match scope {
            FaceScope::All => self.scan_all(probes, mode),
            FaceScope::Rows(rows) => self.scan_listed(probes, mode, rows)?,
        };
        // Rescore each probe's surviving candidates (in parallel).
        probes
            .par_iter()
            .zip(states)
            .map(|(probe, parts)| self.finish(probe, mode, parts))
            .collect()
    }

    /// Splits the gallery into chunks scanned in parallel; each chunk keeps
    /// one state per probe.
    fn scan_all(&self, probes: &[FaceProbe], mode: FaceSearchMode) -> Vec<Vec<ScanState>> {
        let total = self.rows() as usize;
        let threads = rayon::current_num_threads().max(1);
        // Chunks per thread: enough that a thread left idle at the end
        // (or slowed by other load) costs little, few enough that the
        // per-chunk states stay cheap. A single probe's chunks hold one
        // small state each, so they can be finer than a batch's.
        let per_thread = if probes.len() == 1 { 32 } else { 8 };
        let chunk_rows = total
            .div_ceil(threads * per_thread)
            .next_multiple_of(BLOCK_ROWS)
            .clamp(BLOCK_ROWS * 4, 1 << 17);
        let mut chunks = Vec::new();
        for (s, seg) in self.segments.iter().enumerate() {
            let mut start = 0;
            while start < seg.len() {
                let end = (start + chunk_rows).min(seg.len());
                chunks.push((s, start, end));
                start = end;
            }
        }
        let tiles: Vec<(usize, ProbeTile)> = if probes.len() > 1 {
            probes
                .chunks(TILE_PROBES)
                .enumerate()
                .map(|(t, group)| {
                    let codes = group.iter().map(|p| p.code.clone()).collect();
                    (t * TILE_PROBES, ProbeTile::new(self.codec.dim(), codes))
                })
                .collect()
        } else {
            Vec::new()
        };
        let per_chunk: Vec<Vec<ScanState>> = chunks
            .par_iter()
            .map(|&(s, start, end)| {
                let seg = &self.segments[s];
                let mut states: Vec<ScanState> =
                    probes.iter().map(|p| ScanState::new(p, mode)).collect();
                self.scan_range(probes, &tiles, seg, start, end, &mut states);
                states
            })
            .collect();
        transpose(per_chunk, probes.len())
    }

    fn scan_range(
        &self,
        probes: &[FaceProbe],
        tiles: &[(usize, ProbeTile)],
        seg: &FaceRows<'_>,
        start: usize,
        end: usize,
        states: &mut [ScanState],
    ) {
        let dim = self.codec.dim();
        let mut dots = vec![0i32; BLOCK_ROWS * TILE_LANES];
        let mut block = start;
        while block < end {
            let stop = (block + BLOCK_ROWS).min(end);
            let n = stop - block;
            let codes = &seg.codes[block * dim..stop * dim];
            let aux = &seg.aux[block..stop];
            let first = seg.first_row + block as u64;
            // The side data is a second, much thinner stream: without the
            // hint, the filter below waits on it once per block.
            prefetch(aux);
            if tiles.is_empty() {
                let out = &mut dots[..n];
                self.kernel.dots_rows(&probes[0].code, codes, out);
                states[0].offer_block(first, out, 1, aux, self.exclude);
            } else {
                let out = &mut dots[..n * TILE_LANES];
                for (offset, tile) in tiles {
                    self.kernel.dots_tile(tile, codes, out);
                    let tile_states = &mut states[*offset..offset + tile.len()];
                    let mut filter = TileFilter::new(tile_states);
                    for (i, (row_dots, a)) in out.chunks_exact(TILE_LANES).zip(aux).enumerate() {
                        if filter.passing(row_dots, a) == 0 {
                            continue;
                        }
                        let row = first + i as u64;
                        for (p, state) in tile_states.iter_mut().enumerate() {
                            state.offer(row, row_dots[p], a, self.exclude);
                            filter.floor[p] = state.floor;
                        }
                    }
                    for state in tile_states.iter_mut() {
                        state.scanned += n as u64;
                    }
                }
            }
            block = stop;
        }
    }

    /// Scans an explicit list of rows (a restricted search).
    fn scan_listed(
        &self,
        probes: &[FaceProbe],
        mode: FaceSearchMode,
        rows: &[u64],
    ) -> Result<Vec<Vec<ScanState>>> {
        let dim = self.codec.dim();
        let mut rows = rows.to_vec();
        rows.sort_unstable();
        rows.dedup();
        let mut located = Vec::with_capacity(rows.len());
        for &row in &rows {
            located.push(
                self.locate(row)
                    .ok_or(EngineError::FaceRowOutOfRange { row })?,
            );
        }
        let per_chunk: Vec<Vec<ScanState>> = located
            .par_chunks(4096)
            .map(|chunk| {
                let mut states: Vec<ScanState> =
                    probes.iter().map(|p| ScanState::new(p, mode)).collect();
                let mut dot = [0i32; 1];
                for &(s, local) in chunk {
                    let seg = &self.segments[s];
                    let codes = &seg.codes[local * dim..(local + 1) * dim];
                    let aux = &seg.aux[local..=local];
                    for (state, probe) in states.iter_mut().zip(probes) {
                        self.kernel.dots_rows(&probe.code, codes, &mut dot);
                        state.offer_block(seg.first_row + local as u64, &dot, 1, aux, self.exclude);
                    }
                }
                states
            })
            .collect();
        Ok(transpose(per_chunk, probes.len()))
    }

    /// The segment and local index of a global row id.
    fn locate(&self, row: u64) -> Option<(usize, usize)> {
        let after = self.segments.partition_point(|s| s.first_row <= row);
        let s = after.checked_sub(1)?;
        let local = usize::try_from(row - self.segments[s].first_row).ok()?;
        (local < self.segments[s].len()).then_some((s, local))
    }

    /// Merges one probe's chunk states, rescores the rows that may rank and
    /// orders the hits.
    fn finish(
        &self,
        probe: &FaceProbe,
        mode: FaceSearchMode,
        parts: Vec<ScanState>,
    ) -> Result<FaceSearchOutcome> {
        let rows_scanned = parts.iter().map(|p| p.scanned).sum();
        let floor = match mode {
            FaceSearchMode::Identification { threshold } => threshold,
            FaceSearchMode::Investigation { k } => {
                let mut lowers: Vec<f32> = parts
                    .iter()
                    .flat_map(|p| p.best_lower.iter().map(|Reverse(l)| l.0))
                    .collect();
                if k == 0 {
                    f32::INFINITY
                } else if lowers.len() >= k {
                    lowers.sort_unstable_by(|a, b| b.total_cmp(a));
                    lowers[k - 1]
                } else {
                    f32::NEG_INFINITY
                }
            }
        };
        let candidates: Vec<u64> = parts
            .into_iter()
            .flat_map(|p| p.candidates)
            .filter(|&(_, upper)| upper >= floor)
            .map(|(row, _)| row)
            .collect();
        let dim = self.codec.dim();
        let rescored = candidates.len() as u64;
        let mut hits: Vec<FaceHit> = candidates
            .par_iter()
            .map_init(
                || (vec![0.0f32; dim], vec![0.0f32; dim]),
                |(raw, unit), &row| {
                    if !self.vectors.vector(row, raw) {
                        return Err(EngineError::FaceVectorMissing { row });
                    }
                    self.codec.unit_into(raw, unit)?;
                    Ok(FaceHit {
                        row,
                        score: dot_f32(&probe.unit, unit),
                    })
                },
            )
            .collect::<Result<_>>()?;
        hits.sort_unstable_by(|a, b| b.score.total_cmp(&a.score).then(a.row.cmp(&b.row)));
        match mode {
            FaceSearchMode::Investigation { k } => hits.truncate(k),
            FaceSearchMode::Identification { threshold } => hits.retain(|h| h.score >= threshold),
        }
        Ok(FaceSearchOutcome {
            hits,
            rows_scanned,
            rescored,
        })
    }
}

/// Regroups `[chunk][probe]` into `[probe][chunk]`.
fn transpose(per_chunk: Vec<Vec<ScanState>>, probes: usize) -> Vec<Vec<ScanState>> {
    let mut out: Vec<Vec<ScanState>> = (0..probes)
        .map(|_| Vec::with_capacity(per_chunk.len()))
        .collect();
    for states in per_chunk {
        for (p, state) in states.into_iter().enumerate() {
            out[p].push(state);
        }
    }
    out
}

/// f32 ordered by `total_cmp` (scores are finite).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Score(f32);

impl Eq for Score {}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Score {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// A tile's probe parameters lane by lane, so that the test "may any probe
/// rank this row?" over a row's dots vectorises; the exact decision is
/// [`ScanState::offer`]'s.
struct TileFilter {
    scale: [f32; TILE_LANES],
    margin_base: [f32; TILE_LANES],
    margin_per_row: [f32; TILE_LANES],
    floor: [f32; TILE_LANES],
}

impl TileFilter {
    fn new(states: &[ScanState]) -> Self {
        let mut f = Self {
            scale: [0.0; TILE_LANES],
            margin_base: [0.0; TILE_LANES],
            margin_per_row: [0.0; TILE_LANES],
            // Lanes without a probe never pass.
            floor: [f32::INFINITY; TILE_LANES],
        };
        for (p, s) in states.iter().enumerate() {
            f.scale[p] = s.scale;
            f.margin_base[p] = s.margin_base;
            f.margin_per_row[p] = s.margin_per_row;
            f.floor[p] = s.floor;
        }
        f
    }

    /// How many lanes' upper bounds reach their floor (same arithmetic as
    /// [`ScanState::offer`]).
    #[inline(always)]
    fn passing(&self, dots: &[i32], a: &FaceAux) -> u32 {
        let mut count = 0u32;
        let lanes = dots
            .iter()
            .zip(&self.scale)
            .zip(&self.margin_base)
            .zip(&self.margin_per_row)
            .zip(&self.floor);
        for ((((&dot, &scale), &base), &per_row), &floor) in lanes {
            let approx = dot as f32 * (scale * a[0]);
            let upper = approx + base + a[1] * per_row;
            count += u32::from(upper >= floor);
        }
        count
    }
}

/// One probe's progress over one chunk of rows.
#[derive(Debug)]
struct ScanState {
    /// `s_q`: the probe's dequantisation scale.
    scale: f32,
    /// Bound of `|exact - approx|` for row residual `e_x`:
    /// `margin_base + e_x * margin_per_row`.
    margin_base: f32,
    margin_per_row: f32,
    /// Rows with an upper bound below `floor` cannot rank.
    floor: f32,
    /// Investigation: the `k` best lower bounds seen (min-heap); empty for
    /// identification.
    k: usize,
    best_lower: BinaryHeap<Reverse<Score>>,
    /// Rows that may rank, with their upper bounds.
    candidates: Vec<(u64, f32)>,
    prune_at: usize,
    scanned: u64,
}

impl ScanState {
    fn new(probe: &FaceProbe, mode: FaceSearchMode) -> Self {
        let e_q = probe.aux[1];
        let (floor, k) = match mode {
            FaceSearchMode::Identification { threshold } => (threshold, 0),
            FaceSearchMode::Investigation { k: 0 } => (f32::INFINITY, 0),
            FaceSearchMode::Investigation { k } => (f32::NEG_INFINITY, k),
        };
        Self {
            scale: probe.aux[0],
            margin_base: e_q + ROUNDING_SLACK,
            margin_per_row: 1.0 + 3.0 * e_q,
            floor,
            k,
            best_lower: BinaryHeap::with_capacity(k.min(1024) + 1),
            candidates: Vec::new(),
            prune_at: 4096 + 2 * k.min(1 << 20),
            scanned: 0,
        }
    }

    /// Offers rows `first..first + aux.len()` whose dots are
    /// `dots[i * stride]`.
    #[inline]
    fn offer_block(
        &mut self,
        first: u64,
        dots: &[i32],
        stride: usize,
        aux: &[FaceAux],
        exclude: Option<&(dyn Fn(u64) -> bool + Sync)>,
    ) {
        self.scanned += aux.len() as u64;
        for (i, a) in aux.iter().enumerate() {
            self.offer(first + i as u64, dots[i * stride], a, exclude);
        }
    }

    /// Offers one row with its exact int8 dot.
    #[inline(always)]
    fn offer(
        &mut self,
        row: u64,
        dot: i32,
        a: &FaceAux,
        exclude: Option<&(dyn Fn(u64) -> bool + Sync)>,
    ) {
        let approx = dot as f32 * (self.scale * a[0]);
        let upper = approx + self.margin_base + a[1] * self.margin_per_row;
        if upper >= self.floor {
            self.admit(row, approx, upper, a, exclude);
        }
    }

    #[cold]
    fn admit(
        &mut self,
        row: u64,
        approx: f32,
        upper: f32,
        aux: &FaceAux,
        exclude: Option<&(dyn Fn(u64) -> bool + Sync)>,
    ) {
        if aux[0] == 0.0 || exclude.is_some_and(|f| f(row)) {
            return;
        }
        self.candidates.push((row, upper));
        if self.k == 0 {
            return;
        }
        let lower = 2.0 * approx - upper;
        if self.best_lower.len() < self.k {
            self.best_lower.push(Reverse(Score(lower)));
        } else if let Some(mut min) = self.best_lower.peek_mut()
            && lower > min.0.0
        {
            *min = Reverse(Score(lower));
        }
        if self.best_lower.len() == self.k
            && let Some(Reverse(Score(min))) = self.best_lower.peek()
        {
            self.floor = *min;
        }
        if self.candidates.len() >= self.prune_at {
            let floor = self.floor;
            self.candidates.retain(|&(_, u)| u >= floor);
            self.prune_at = self.prune_at.max(2 * self.candidates.len());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use half::f16;
    use hoviyat_datasets::faces::{synthetic_face_gallery, synthetic_face_probes};

    /// A gallery stored as the store does: f16 values, int8 codes, aux.
    struct Fixture {
        codec: FaceCodec,
        values: Vec<f16>,
        codes: Vec<i8>,
        aux: Vec<FaceAux>,
        probes: Vec<FaceProbe>,
    }

    fn fixture(n: usize, dim: usize, offset: f32, seed: u64) -> Fixture {
        let mut raw = synthetic_face_gallery(n, dim, seed);
        let (probe_raw, _) = synthetic_face_probes(&raw, dim, 12, 0.8, seed);
        // Near-duplicates make close scores: row 2i+1 copies row 2i, nudged.
        for i in (0..n.saturating_sub(1)).step_by(40) {
            let (a, b) = raw.split_at_mut((i + 1) * dim);
            for (x, y) in b[..dim].iter_mut().zip(&a[i * dim..]) {
                *x = y + 0.002 * *x;
            }
        }
        // A common offset makes the embeddings non-centred, like dlib's.
        for v in raw.iter_mut() {
            *v += offset;
        }
        let mean = (offset != 0.0).then(|| vec![offset; dim]);
        let codec = FaceCodec::new(dim, mean).unwrap();
        let values: Vec<f16> = raw.iter().map(|&v| f16::from_f32(v)).collect();
        let mut codes = Vec::with_capacity(n * dim);
        let mut aux = Vec::with_capacity(n);
        for row in values.chunks_exact(dim) {
            let stored: Vec<f32> = row.iter().map(|v| v.to_f32()).collect();
            let (c, a) = codec.encode(&stored).unwrap();
            codes.extend(c);
            aux.push(a);
        }
        let probes = probe_raw
            .chunks_exact(dim)
            .map(|p| {
                let shifted: Vec<f32> = p.iter().map(|v| v + offset).collect();
                codec.prepare(&shifted).unwrap()
            })
            .collect();
        Fixture {
            codec,
            values,
            codes,
            aux,
            probes,
        }
    }

    /// Exhaustive f32 scores of a probe over the stored vectors.
    fn brute_force(f: &Fixture, probe: &FaceProbe, keep: impl Fn(u64) -> bool) -> Vec<FaceHit> {
        let dim = f.codec.dim();
        let mut hits: Vec<FaceHit> = f
            .values
            .chunks_exact(dim)
            .enumerate()
            .filter(|(row, _)| keep(*row as u64) && f.aux[*row][0] != 0.0)
            .map(|(row, v)| {
                let stored: Vec<f32> = v.iter().map(|x| x.to_f32()).collect();
                FaceHit {
                    row: row as u64,
                    score: f.codec.score(probe, &stored).unwrap(),
                }
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.row.cmp(&b.row)));
        hits
    }

    fn assert_same(got: &[FaceHit], want: &[FaceHit]) {
        assert_eq!(
            got.iter().map(|h| h.row).collect::<Vec<_>>(),
            want.iter().map(|h| h.row).collect::<Vec<_>>()
        );
        for (g, w) in got.iter().zip(want) {
            assert!((g.score - w.score).abs() < 1e-5, "{g:?} vs {w:?}");
        }
    }

    #[test]
    fn top_k_and_threshold_equal_an_exhaustive_f32_scan_with_every_kernel() {
        for (dim, offset) in [(128, 0.05), (64, 0.0), (30, 0.0)] {
            let f = fixture(3000, dim, offset, dim as u64);
            let segments = [FaceRows {
                first_row: 0,
                codes: &f.codes,
                aux: &f.aux,
            }];
            let vectors = DenseVectors {
                first_row: 0,
                dim,
                values: &f.values,
            };
            for kernel in Kernel::available() {
                let searcher = FaceSearcher::new(&f.codec, &segments, &vectors)
                    .unwrap()
                    .with_kernel(kernel);
                for mode in [
                    FaceSearchMode::Investigation { k: 1 },
                    FaceSearchMode::Investigation { k: 25 },
                    FaceSearchMode::Identification { threshold: 0.3 },
                ] {
                    let batch = searcher
                        .search_batch(&f.probes, mode, FaceScope::All)
                        .unwrap();
                    for (probe, batched) in f.probes.iter().zip(&batch) {
                        let mut want = brute_force(&f, probe, |_| true);
                        match mode {
                            FaceSearchMode::Investigation { k } => want.truncate(k),
                            FaceSearchMode::Identification { threshold } => {
                                want.retain(|h| h.score >= threshold)
                            }
                        }
                        let single = searcher.search(probe, mode, FaceScope::All).unwrap();
                        assert_same(&single.hits, &want);
                        assert_same(&batched.hits, &want);
                        assert_eq!(single.rows_scanned, 3000);
                        // The bound prunes: far fewer rescored than scanned.
                        assert!(single.rescored < 600, "{} rescored", single.rescored);
                    }
                }
            }
        }
    }

    #[test]
    fn exclusions_restrictions_segments_and_empty_rows_are_honoured() {
        let dim = 48;
        let mut f = fixture(2000, dim, 0.0, 3);
        // Rows without a face: zero code and aux.
        for row in (0..2000).step_by(7) {
            f.aux[row] = crate::face::NO_FACE;
            f.codes[row * dim..(row + 1) * dim].fill(0);
        }
        // Two segments with a gap in the row ids: rows 0..1000 and 5000..6000.
        let segments = [
            FaceRows {
                first_row: 0,
                codes: &f.codes[..1000 * dim],
                aux: &f.aux[..1000],
            },
            FaceRows {
                first_row: 5000,
                codes: &f.codes[1000 * dim..],
                aux: &f.aux[1000..],
            },
        ];
        let global = |local: u64| if local < 1000 { local } else { local + 4000 };
        let values = &f.values;
        let vectors = move |row: u64, out: &mut [f32]| {
            let local = if row >= 5000 { row - 4000 } else { row } as usize;
            for (o, v) in out.iter_mut().zip(&values[local * dim..(local + 1) * dim]) {
                *o = v.to_f32();
            }
            true
        };
        let excluded = |row: u64| row.is_multiple_of(3);
        let searcher = FaceSearcher::new(&f.codec, &segments, &vectors)
            .unwrap()
            .excluding(&excluded);
        let allowed: Vec<u64> = (0..2000u64).filter(|r| r % 5 != 0).map(global).collect();
        for probe in &f.probes {
            let mode = FaceSearchMode::Investigation { k: 40 };
            let got = searcher.search(probe, mode, FaceScope::All).unwrap();
            let mut want: Vec<FaceHit> = brute_force(&f, probe, |r| global(r) % 3 != 0)
                .into_iter()
                .map(|h| FaceHit {
                    row: global(h.row),
                    score: h.score,
                })
                .collect();
            want.truncate(40);
            assert_same(&got.hits, &want);

            let got = searcher
                .search(probe, mode, FaceScope::Rows(&allowed))
                .unwrap();
            let mut want: Vec<FaceHit> = brute_force(&f, probe, |r| {
                let g = global(r);
                g % 3 != 0 && r % 5 != 0
            })
            .into_iter()
            .map(|h| FaceHit {
                row: global(h.row),
                score: h.score,
            })
            .collect();
            want.truncate(40);
            assert_same(&got.hits, &want);
            assert_eq!(got.rows_scanned, allowed.len() as u64);
        }
    }

    #[test]
    fn bad_searches_are_typed_errors() {
        let dim = 16;
        let f = fixture(100, dim, 0.0, 5);
        let segments = [FaceRows {
            first_row: 10,
            codes: &f.codes,
            aux: &f.aux,
        }];
        let vectors = DenseVectors {
            first_row: 10,
            dim,
            values: &f.values,
        };
        let searcher = FaceSearcher::new(&f.codec, &segments, &vectors).unwrap();
        let other = FaceCodec::new(8, None).unwrap();
        let wrong = other.prepare(&[1.0; 8]).unwrap();
        let top = FaceSearchMode::Investigation { k: 3 };
        assert!(matches!(
            searcher.search(&wrong, top, FaceScope::All),
            Err(EngineError::Model(ModelError::FaceDimensionMismatch {
                expected: 16,
                got: 8
            }))
        ));
        assert!(matches!(
            searcher.search(
                &f.probes[0],
                FaceSearchMode::Identification {
                    threshold: f32::NAN
                },
                FaceScope::All
            ),
            Err(EngineError::FaceThresholdNotFinite { .. })
        ));
        assert!(matches!(
            searcher.search(&f.probes[0], top, FaceScope::Rows(&[11, 110])),
            Err(EngineError::FaceRowOutOfRange { row: 110 })
        ));
        assert!(matches!(
            searcher.search(&f.probes[0], top, FaceScope::Rows(&[3])),
            Err(EngineError::FaceRowOutOfRange { row: 3 })
        ));
        let nothing = |_: u64, _: &mut [f32]| false;
        let blind = FaceSearcher::new(&f.codec, &segments, &nothing).unwrap();
        assert!(matches!(
            blind.search(&f.probes[0], top, FaceScope::All),
            Err(EngineError::FaceVectorMissing { .. })
        ));
        let short = [FaceRows {
            first_row: 0,
            codes: &f.codes[1..],
            aux: &f.aux,
        }];
        assert!(matches!(
            FaceSearcher::new(&f.codec, &short, &vectors),
            Err(EngineError::FaceRowsInconsistent { segment: 0, .. })
        ));
        let overlapping = [segments[0], segments[0]];
        assert!(matches!(
            FaceSearcher::new(&f.codec, &overlapping, &vectors),
            Err(EngineError::FaceSegmentsOverlap { segment: 1 })
        ));
        let none = searcher
            .search(
                &f.probes[0],
                FaceSearchMode::Investigation { k: 0 },
                FaceScope::All,
            )
            .unwrap();
        assert!(none.hits.is_empty());
        assert!(
            searcher
                .search_batch(&[], top, FaceScope::All)
                .unwrap()
                .is_empty()
        );
    }
}
