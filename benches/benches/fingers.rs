//! Finger matcher benches: probe preparation, one prepared comparison, and
//! the overlap kernel against its scalar twin.

use criterion::{Criterion, criterion_group, criterion_main};
use hoviyat_benches::finger_bench::synthetic_population;
use hoviyat_engine::finger::kernels::{Rigid, count_in_box, count_in_box_scalar};
use hoviyat_engine::finger::{PreparedProbe, encode_gallery};

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
}

criterion_group!(benches, fingers);
criterion_main!(benches);
