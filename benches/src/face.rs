//! `bench face`: exact face search on a seeded synthetic gallery, measured
//! beside a plain f32 scan and a memory-read loop in the same run.

use std::time::Instant;

use half::f16;
use hoviyat_datasets::faces::{synthetic_face_gallery, synthetic_face_probes};
use hoviyat_engine::face::{
    DenseVectors, FaceAux, FaceCodec, FaceHit, FaceProbe, FaceRows, FaceScope, FaceSearchMode,
    FaceSearcher, KernelReport, kernel_report,
};
use rayon::prelude::*;
use serde::Serialize;
use simsimd::SpatialSimilarity;

use crate::{BenchError, Result};

/// Parameters of a face search benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FaceBenchConfig {
    /// Gallery rows.
    pub n: usize,
    pub dim: usize,
    /// Probes (half mated, half not).
    pub queries: usize,
    /// Probes per batch call.
    pub batch: usize,
    pub seed: u64,
    /// Candidates returned per probe (investigation mode).
    pub k: usize,
}

/// What `bench face` reports (one JSON object).
#[derive(Debug, Clone, Serialize)]
pub struct FaceBenchReport {
    pub n: usize,
    pub dim: usize,
    pub queries: usize,
    pub batch: usize,
    pub seed: u64,
    pub k: usize,
    pub threads: usize,
    pub kernel: KernelReport,
    /// Probes per second, one probe per call (the scan split across cores).
    pub single_qps: f64,
    /// Probes per second through `search_batch` in batches of `batch`.
    pub batch_qps: f64,
    /// Probes per second of a plain f32 scan (simsimd f32 dot per row,
    /// split across cores, top-k kept) over the same vectors.
    pub baseline_f32_qps: f64,
    /// int8 code bytes scanned per second in single-probe mode.
    pub gallery_gb_per_s: f64,
    /// Read bandwidth of a summing loop (all threads) over a u64 buffer of
    /// the code size or more; its passes alternate with the single-probe
    /// rounds of this run, and the figure is their mean.
    pub mem_read_gb_per_s: f64,
    /// The int8 bandwidth floor: `mem_read_gb_per_s / code bytes`.
    pub int8_floor_qps: f64,
    /// `single_qps / int8_floor_qps`.
    pub single_vs_floor: f64,
    /// Share of probes whose rank-1 row equals the f32 scan's (single and
    /// batch paths both checked; the lower is reported).
    pub rank1_agreement: f64,
    /// Largest |score - f32 score| over every returned candidate.
    pub max_abs_score_error: f64,
    /// Share of probes whose top-k rows equal the f32 scan's top-k rows.
    pub topk_agreement: f64,
    /// Mated probes whose mate came first.
    pub mated_rank1: f64,
    /// Mean rows rescored in full precision per probe.
    pub mean_rescored: f64,
    pub generate_s: f64,
    pub encode_s: f64,
}

/// Runs the face benchmark. Memory: about `n * dim * 7` bytes (int8
/// codes, f16 copy, f32 baseline) plus the read buffer.
pub fn run_face_bench(cfg: &FaceBenchConfig) -> Result<FaceBenchReport> {
    check(cfg)?;
    let FaceBenchConfig {
        n,
        dim,
        queries,
        batch,
        seed,
        k,
    } = *cfg;
    let t0 = Instant::now();
    let mut gallery = synthetic_face_gallery(n, dim, seed);
    let (probe_values, mates) = synthetic_face_probes(&gallery, dim, queries, 0.7, seed);
    // The stored copy is f16; the f32 baseline scans the same rounded
    // vectors, normalised, so "exact" means f32 over what is stored.
    let stored: Vec<f16> = gallery.par_iter().map(|&v| f16::from_f32(v)).collect();
    gallery
        .par_chunks_mut(dim)
        .zip(stored.par_chunks(dim))
        .for_each(|(out, row)| {
            for (o, v) in out.iter_mut().zip(row) {
                *o = v.to_f32();
            }
            let norm = out.iter().map(|v| v * v).sum::<f32>().sqrt();
            out.iter_mut().for_each(|o| *o /= norm);
        });
    let generate_s = t0.elapsed().as_secs_f64();

    let t0 = Instant::now();
    let codec = FaceCodec::new(dim, None)?;
    let mut codes = vec![0i8; n * dim];
    let mut aux: Vec<FaceAux> = vec![[0.0; 2]; n];
    codes
        .par_chunks_mut(dim)
        .zip(aux.par_iter_mut())
        .zip(stored.par_chunks(dim))
        .try_for_each_init(
            || vec![0.0f32; dim],
            |buf, ((code, a), row)| -> Result<()> {
                for (b, v) in buf.iter_mut().zip(row) {
                    *b = v.to_f32();
                }
                let (c, x) = codec.encode(buf)?;
                code.copy_from_slice(&c);
                *a = x;
                Ok(())
            },
        )?;
    let probes: Vec<FaceProbe> = probe_values
        .chunks_exact(dim)
        .map(|p| codec.prepare(p))
        .collect::<hoviyat_engine::Result<_>>()?;
    let encode_s = t0.elapsed().as_secs_f64();

    let read_buffer = ReadBuffer::new((n * dim).max(256 << 20));

    let segments = [FaceRows {
        first_row: 0,
        codes: &codes,
        aux: &aux,
    }];
    let vectors = DenseVectors {
        first_row: 0,
        dim,
        values: &stored,
    };
    let searcher = FaceSearcher::new(&codec, &segments, &vectors)?;
    let mode = FaceSearchMode::Investigation { k };

    // Warm-up: page in the codes once.
    searcher.search(&probes[0], mode, FaceScope::All)?;
    // Memory-read passes alternate with rounds of single-probe searches, so
    // both see the same share of a (possibly busy) machine.
    let rounds = READ_ROUNDS.min(queries);
    let mut single = Vec::with_capacity(queries);
    let mut single_s = 0.0;
    let mut read_s = 0.0;
    let mut read_bytes = 0usize;
    for round in probes.chunks(queries.div_ceil(rounds)) {
        let (bytes, s) = read_buffer.pass();
        read_bytes += bytes;
        read_s += s;
        let t0 = Instant::now();
        for p in round {
            single.push(searcher.search(p, mode, FaceScope::All)?);
        }
        single_s += t0.elapsed().as_secs_f64();
    }
    let mem_read_gb_per_s = read_bytes as f64 / read_s / 1e9;
    drop(read_buffer);

    let t0 = Instant::now();
    let mut batched = Vec::with_capacity(queries);
    for group in probes.chunks(batch) {
        batched.extend(searcher.search_batch(group, mode, FaceScope::All)?);
    }
    let batch_s = t0.elapsed().as_secs_f64();

    let t0 = Instant::now();
    let baseline: Vec<Vec<FaceHit>> = probes
        .iter()
        .map(|p| f32_scan(&gallery, dim, p.unit(), k))
        .collect();
    let baseline_s = t0.elapsed().as_secs_f64();

    let mut rank1 = 0usize;
    let mut topk = 0usize;
    let mut max_err = 0.0f64;
    for ((s, b), want) in single.iter().zip(&batched).zip(&baseline) {
        let first = |hits: &[FaceHit]| hits.first().map(|h| h.row);
        if first(&s.hits) == first(want) && first(&b.hits) == first(want) {
            rank1 += 1;
        }
        let rows = |hits: &[FaceHit]| hits.iter().map(|h| h.row).collect::<Vec<_>>();
        if rows(&s.hits) == rows(want) && rows(&b.hits) == rows(want) {
            topk += 1;
        }
    }
    // Every returned score against the f32 dot over the same stored vector.
    for ((s, b), p) in single.iter().zip(&batched).zip(&probes) {
        for hit in s.hits.iter().chain(&b.hits) {
            let row = hit.row as usize;
            let reference = dot(&gallery[row * dim..(row + 1) * dim], p.unit());
            max_err = max_err.max(f64::from((hit.score - reference).abs()));
        }
    }
    let mated: Vec<(usize, u64)> = mates
        .iter()
        .enumerate()
        .filter_map(|(i, m)| m.map(|m| (i, m)))
        .collect();
    let mated_hits = mated
        .iter()
        .filter(|&&(i, m)| single[i].hits.first().map(|h| h.row) == Some(m))
        .count();

    let code_bytes = (n * dim) as f64;
    let single_qps = queries as f64 / single_s;
    let int8_floor_qps = mem_read_gb_per_s * 1e9 / code_bytes;
    Ok(FaceBenchReport {
        n,
        dim,
        queries,
        batch,
        seed,
        k,
        threads: rayon::current_num_threads(),
        kernel: kernel_report(),
        single_qps,
        batch_qps: queries as f64 / batch_s,
        baseline_f32_qps: queries as f64 / baseline_s,
        gallery_gb_per_s: single_qps * code_bytes / 1e9,
        mem_read_gb_per_s,
        int8_floor_qps,
        single_vs_floor: single_qps / int8_floor_qps,
        rank1_agreement: rank1 as f64 / queries as f64,
        max_abs_score_error: max_err,
        topk_agreement: topk as f64 / queries as f64,
        mated_rank1: mated_hits as f64 / mated.len().max(1) as f64,
        mean_rescored: single.iter().map(|s| s.rescored as f64).sum::<f64>() / queries as f64,
        generate_s,
        encode_s,
    })
}

fn check(cfg: &FaceBenchConfig) -> Result<()> {
    let bad = |name, value: usize, expected| {
        Err(BenchError::BadParameter {
            name,
            value: value as u64,
            expected,
        })
    };
    if cfg.n == 0 || cfg.n > 100_000_000 {
        return bad("n", cfg.n, "1..=100000000");
    }
    if cfg.dim == 0 || cfg.dim > hoviyat_engine::models::MAX_FACE_DIM {
        return bad("dim", cfg.dim, "1..=4096");
    }
    if cfg.n.saturating_mul(cfg.dim) > 16 << 30 {
        return bad("n * dim", cfg.n * cfg.dim, "at most 16 Gi values");
    }
    if cfg.queries == 0 || cfg.queries > 1_000_000 {
        return bad("queries", cfg.queries, "1..=1000000");
    }
    if cfg.batch == 0 {
        return bad("batch", cfg.batch, "at least 1");
    }
    if cfg.k == 0 || cfg.k > 10_000 {
        return bad("k", cfg.k, "1..=10000");
    }
    Ok(())
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    f32::dot(a, b).map_or(f32::NAN, |d| d as f32)
}

/// The baseline: every row's f32 dot with the probe, top `k` kept, the
/// rows split across rayon's threads.
pub fn f32_scan(gallery: &[f32], dim: usize, probe: &[f32], k: usize) -> Vec<FaceHit> {
    let chunk_rows = 16_384;
    let mut hits: Vec<FaceHit> = gallery
        .par_chunks(chunk_rows * dim)
        .enumerate()
        .flat_map_iter(|(c, chunk)| {
            let mut best: Vec<FaceHit> = Vec::with_capacity(k + 1);
            let mut floor = f32::NEG_INFINITY;
            for (i, row) in chunk.chunks_exact(dim).enumerate() {
                let score = dot(row, probe);
                if score > floor || best.len() < k {
                    best.push(FaceHit {
                        row: (c * chunk_rows + i) as u64,
                        score,
                    });
                    if best.len() > 4 * k + 64 {
                        sort_hits(&mut best);
                        best.truncate(k);
                        floor = best[k - 1].score;
                    }
                }
            }
            sort_hits(&mut best);
            best.truncate(k);
            best
        })
        .collect();
    sort_hits(&mut hits);
    hits.truncate(k);
    hits
}

fn sort_hits(hits: &mut [FaceHit]) {
    hits.sort_unstable_by(|a, b| b.score.total_cmp(&a.score).then(a.row.cmp(&b.row)));
}

/// Memory-read passes interleaved with the single-probe rounds.
const READ_ROUNDS: usize = 8;

/// A u64 buffer at least as large as the scanned codes, summed by every
/// thread: the memory-read reference of the run.
struct ReadBuffer {
    words: Vec<u64>,
}

impl ReadBuffer {
    fn new(bytes: usize) -> Self {
        let mut words = vec![0u64; bytes / 8];
        words
            .par_chunks_mut(1 << 16)
            .enumerate()
            .for_each(|(i, c)| {
                c.iter_mut()
                    .enumerate()
                    .for_each(|(j, w)| *w = (i ^ j) as u64)
            });
        Self { words }
    }

    /// One pass: bytes read and seconds taken.
    fn pass(&self) -> (usize, f64) {
        let threads = rayon::current_num_threads().max(1);
        let share = self.words.len().div_ceil(threads).max(1);
        let t0 = Instant::now();
        let total: u64 = self
            .words
            .par_chunks(share)
            .map(|c| {
                let mut acc = [0u64; 8];
                for w in c.chunks_exact(8) {
                    for l in 0..8 {
                        acc[l] = acc[l].wrapping_add(w[l]);
                    }
                }
                acc.iter().fold(0u64, |a, &b| a.wrapping_add(b))
            })
            .reduce(|| 0, u64::wrapping_add);
        let s = t0.elapsed().as_secs_f64();
        // Keep the sum observable so the loop is not optimised away.
        std::hint::black_box(total);
        (self.words.len() * 8, s)
    }
}

/// Sequential read bandwidth in GB/s of all threads summing a
/// `bytes`-sized buffer; mean of three passes.
pub fn measure_read_bandwidth(bytes: usize) -> f64 {
    let buffer = ReadBuffer::new(bytes);
    let (mut read, mut secs) = (0, 0.0);
    for _ in 0..3 {
        let (b, s) = buffer.pass();
        read += b;
        secs += s;
    }
    read as f64 / secs / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_run_agrees_with_the_f32_scan() {
        let report = run_face_bench(&FaceBenchConfig {
            n: 20_000,
            dim: 64,
            queries: 8,
            batch: 4,
            seed: 3,
            k: 5,
        })
        .unwrap();
        assert_eq!(report.rank1_agreement, 1.0);
        assert_eq!(report.topk_agreement, 1.0);
        assert!(report.max_abs_score_error <= 0.002);
        assert_eq!(report.mated_rank1, 1.0);
    }

    #[test]
    fn bad_parameters_are_refused() {
        let cfg = FaceBenchConfig {
            n: 10,
            dim: 0,
            queries: 1,
            batch: 1,
            seed: 0,
            k: 1,
        };
        assert!(matches!(
            run_face_bench(&cfg),
            Err(BenchError::BadParameter { name: "dim", .. })
        ));
    }
}
