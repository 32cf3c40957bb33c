//! Face gallery scan end to end (int8 scan + exact rescoring): one probe,
//! and a batch of 64 probes, over a seeded synthetic gallery.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use half::f16;
use hoviyat_datasets::faces::{synthetic_face_gallery, synthetic_face_probes};
use hoviyat_engine::face::{
    DenseVectors, FaceCodec, FaceProbe, FaceRows, FaceScope, FaceSearchMode, FaceSearcher, Kernel,
};

const N: usize = 200_000;
const DIM: usize = 512;
const BATCH: usize = 64;
const SEED: u64 = 17;

fn scan(c: &mut Criterion) {
    let raw = synthetic_face_gallery(N, DIM, SEED);
    let (probe_values, _) = synthetic_face_probes(&raw, DIM, BATCH, 0.7, SEED);
    let stored: Vec<f16> = raw.iter().map(|&v| f16::from_f32(v)).collect();
    drop(raw);
    let codec = FaceCodec::new(DIM, None).expect("valid dimension");
    let mut codes = Vec::with_capacity(N * DIM);
    let mut aux = Vec::with_capacity(N);
    let mut buf = vec![0.0f32; DIM];
    for row in stored.chunks_exact(DIM) {
        for (b, v) in buf.iter_mut().zip(row) {
            *b = v.to_f32();
        }
        let (code, a) = codec.encode(&buf).expect("synthetic rows are valid");
        codes.extend(code);
        aux.push(a);
    }
    let probes: Vec<FaceProbe> = probe_values
        .chunks_exact(DIM)
        .map(|p| codec.prepare(p).expect("synthetic probes are valid"))
        .collect();
    let segments = [FaceRows {
        first_row: 0,
        codes: &codes,
        aux: &aux,
    }];
    let vectors = DenseVectors {
        first_row: 0,
        dim: DIM,
        values: &stored,
    };
    let mode = FaceSearchMode::Investigation { k: 10 };

    let mut group = c.benchmark_group("face_scan_200k_d512");
    group.sample_size(10);
    for kernel in Kernel::available() {
        if kernel == Kernel::Scalar {
            continue;
        }
        let searcher = FaceSearcher::new(&codec, &segments, &vectors)
            .expect("consistent segments")
            .with_kernel(kernel);
        group.throughput(Throughput::Elements(1));
        group.bench_function(BenchmarkId::new("single", kernel.name()), |b| {
            b.iter(|| searcher.search(&probes[0], mode, FaceScope::All))
        });
        group.throughput(Throughput::Elements(BATCH as u64));
        group.bench_function(BenchmarkId::new("batch64", kernel.name()), |b| {
            b.iter(|| searcher.search_batch(&probes, mode, FaceScope::All))
        });
    }
    group.finish();
}

criterion_group!(benches, scan);
criterion_main!(benches);
