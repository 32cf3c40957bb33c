//! Finger matcher benches: probe preparation, one prepared comparison, the
//! full 1:1 comparison and its cylinder (local similarity) stages, and the
//! overlap and edge-feature kernels against their scalar twins.

use criterion::{Criterion, criterion_group, criterion_main};
use hoviyat_benches::finger_bench::synthetic_population;
use hoviyat_engine::finger::kernels::{
    Edges8, Rigid, count_in_box, count_in_box_scalar, measure_edges8, measure_edges8_scalar,
};
use hoviyat_engine::finger::mcc::Cylinders;
use hoviyat_engine::finger::{PreparedProbe, compare, encode_gallery};

const GALLERY: usize = 256;
const SEED: u64 = 3;

fn fingers(c: &mut Criterion) {
    let (gallery, probes) = synthetic_population(GALLERY, 1, SEED);
    let blobs: Vec<Vec<u8>> = gallery
        .iter()
        .filter_map(|t| encode_gallery(t).ok())
        .collect();
    let Ok(probe) = PreparedProbe::new(&probes[0]) else {
        return;
    };
    c.bench_function("finger/prepare_probe", |b| {
        b.iter(|| PreparedProbe::new(std::hint::black_box(&probes[0])))
    });
    c.bench_function("finger/impostor_scan_256", |b| {
        b.iter(|| {
            blobs
                .iter()
                .map(|blob| probe.score(blob).map_or(0.0, |s| s.raw))
                .sum::<f32>()
        })
    });
    // The full 1:1 comparison (both directions, the resolution search and
    // the local similarity) of an impostor pair, and its cylinder stages.
    c.bench_function("finger/compare_full", |b| {
        b.iter(|| compare(std::hint::black_box(&probes[0]), &gallery[0]))
    });
    c.bench_function("finger/cylinders_build", |b| {
        b.iter(|| Cylinders::new(std::hint::black_box(&probes[0])))
    });
    let (ca, cb) = (Cylinders::new(&probes[0]), Cylinders::new(&gallery[0]));
    c.bench_function("finger/cylinders_similarity", |b| {
        b.iter(|| std::hint::black_box(&ca).similarity(&cb))
    });
    let xs: Vec<f32> = (0..48).map(|i| (i * 37 % 300) as f32).collect();
    let ys: Vec<f32> = (0..48).map(|i| (i * 53 % 400) as f32).collect();
    let t = Rigid {
        cos: 0.8,
        sin: 0.6,
        tx: 12.0,
        ty: -30.0,
    };
    let bounds = (0.0, 0.0, 250.0, 350.0);
    c.bench_function("finger/count_in_box_simd", |b| {
        b.iter(|| count_in_box(std::hint::black_box(&xs), &ys, &t, bounds))
    });
    c.bench_function("finger/count_in_box_scalar", |b| {
        b.iter(|| count_in_box_scalar(std::hint::black_box(&xs), &ys, &t, bounds))
    });
    let mut edges = Edges8::default();
    for l in 0..8 {
        let f = l as f32;
        (edges.ax[l], edges.ay[l], edges.a_angle_rad[l]) = (f * 31.0, -f * 17.0, f * 0.7);
        (edges.bx[l], edges.by[l], edges.b_angle_rad[l]) = (
            f * 31.0 + 40.0 - f * 9.0,
            -f * 17.0 + f * 11.0 - 30.0,
            f * 1.3,
        );
    }
    c.bench_function("finger/measure_edges8_simd", |b| {
        b.iter(|| measure_edges8(std::hint::black_box(&edges), 128.0))
    });
    c.bench_function("finger/measure_edges8_scalar", |b| {
        b.iter(|| measure_edges8_scalar(std::hint::black_box(&edges), 128.0))
    });
}

criterion_group!(benches, fingers);
criterion_main!(benches);
