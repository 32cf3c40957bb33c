//! Face scan kernels: every available kernel beside its scalar twin, for one
//! probe against a run of rows and for a tile of 31 probes.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hoviyat_engine::face::kernels::{Kernel, ProbeCode, ProbeTile, TILE_LANES, TILE_PROBES};
use std::hint::black_box;

/// Rows per call: 2 MiB of codes at d = 512 (cache-resident, so this
/// measures compute, not memory).
const ROWS: usize = 4096;
const DIMS: [usize; 2] = [128, 512];
const SEED: u64 = 0x5eed;

/// Deterministic codes in -127..=127 (a cheap LCG is enough for a bench).
fn codes(len: usize, seed: u64) -> Vec<i8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((x >> 33) % 255) as i32 as i8 - 127
        })
        .map(|v| v.max(-127))
        .collect()
}

fn rows_kernels(c: &mut Criterion) {
    let mut group = c.benchmark_group("face_kernel_rows");
    for dim in DIMS {
        let rows = codes(ROWS * dim, SEED);
        let probe = ProbeCode::new(codes(dim, SEED + 1));
        let mut out = vec![0i32; ROWS];
        group.throughput(Throughput::Bytes((ROWS * dim) as u64));
        for kernel in Kernel::available() {
            group.bench_with_input(BenchmarkId::new(kernel.name(), dim), &dim, |b, _| {
                b.iter(|| kernel.dots_rows(black_box(&probe), black_box(&rows), &mut out));
            });
        }
    }
    group.finish();
}

fn tile_kernels(c: &mut Criterion) {
    let mut group = c.benchmark_group("face_kernel_tile31");
    for dim in DIMS {
        let rows = codes(ROWS * dim, SEED);
        let tile = ProbeTile::new(
            dim,
            (0..TILE_PROBES)
                .map(|p| ProbeCode::new(codes(dim, SEED + 2 + p as u64)))
                .collect(),
        );
        let mut out = vec![0i32; ROWS * TILE_LANES];
        // Throughput in (probe, row) pairs.
        group.throughput(Throughput::Elements((ROWS * TILE_PROBES) as u64));
        for kernel in Kernel::available() {
            group.bench_with_input(BenchmarkId::new(kernel.name(), dim), &dim, |b, _| {
                b.iter(|| kernel.dots_tile(black_box(&tile), black_box(&rows), &mut out));
            });
        }
    }
    group.finish();
}

criterion_group!(benches, rows_kernels, tile_kernels);
criterion_main!(benches);
