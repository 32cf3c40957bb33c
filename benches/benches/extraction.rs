//! Minutiae extraction time on a procedural 248 x 338 px print (the size of
//! the pyfnprint images). Real images: `cargo run --release -p
//! hoviyat-benches --example extraction_report -- DIR`.

use criterion::{Criterion, criterion_group, criterion_main};
use hoviyat_benches::extraction::procedural_print;
use hoviyat_engine::extract::{self, ExtractConfig};

const WIDTH_PX: u32 = 248;
const HEIGHT_PX: u32 = 338;
const SEED: u64 = 20_261_125;

fn bench(c: &mut Criterion) {
    let img = procedural_print(WIDTH_PX, HEIGHT_PX, SEED);
    let config = ExtractConfig::default();
    c.bench_function("extract/procedural_248x338", |b| {
        b.iter(|| extract::extract(std::hint::black_box(&img), &config))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
