//! Gallery store: open time and insert throughput (fsync per insert, group
//! commit) on synthetic identities of 10 fingers x 40 minutiae + a 512-d face.
//! The 1,000,000-identity measurement is `examples/gallery_scale.rs`.

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hoviyat_benches::gallery::{config, prepared_rows};
use hoviyat_engine::store::{Gallery, PreparedRecord};

/// Rows of the gallery whose open time is measured.
const OPEN_ROWS: u64 = 20_000;
/// Prepared rows reused by the insert benches (a fresh gallery each round).
const POOL: u64 = 4_000;
const BATCH: usize = 1_000;

fn open(c: &mut Criterion) {
    let dir = tempfile_dir("open");
    {
        let g = Gallery::create(&dir, config()).expect("create");
        let rows = prepared_rows(0..OPEN_ROWS).expect("rows");
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            g.insert_batch(rows.by_ref().take(BATCH).collect())
                .expect("insert");
        }
        g.seal().expect("seal");
    }
    let mut group = c.benchmark_group("gallery_open");
    group.sample_size(20);
    group.bench_function(format!("open_{OPEN_ROWS}_rows"), |b| {
        b.iter(|| Gallery::open(&dir).expect("open"))
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "hoviyat-bench-gallery-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Inserts `n` rows from the pool `per` at a time, starting a fresh gallery
/// whenever the pool runs out; returns the time spent inserting.
fn insert_rows(pool: &[PreparedRecord], n: u64, per: usize) -> Duration {
    let dir = tempfile_dir("insert");
    let mut g = Gallery::create(&dir, config()).expect("create");
    let (mut at, mut done, mut spent) = (0usize, 0u64, Duration::ZERO);
    while done < n {
        if at + per > pool.len() {
            drop(g);
            std::fs::remove_dir_all(&dir).expect("cleanup");
            g = Gallery::create(&dir, config()).expect("create");
            at = 0;
        }
        let batch = pool[at..at + per].to_vec();
        let t = Instant::now();
        g.insert_batch(batch).expect("insert");
        spent += t.elapsed();
        at += per;
        done += per as u64;
    }
    drop(g);
    let _ = std::fs::remove_dir_all(&dir);
    spent
}

fn insert(c: &mut Criterion) {
    let pool = prepared_rows(0..POOL).expect("rows");
    let mut group = c.benchmark_group("gallery_insert");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(1));
    group.bench_function("fsync_per_insert", |b| {
        b.iter_custom(|iters| insert_rows(&pool, iters, 1))
    });
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function(format!("group_commit_{BATCH}"), |b| {
        b.iter_custom(|iters| insert_rows(&pool, iters * BATCH as u64, BATCH))
    });
    group.finish();
}

criterion_group!(benches, open, insert);
criterion_main!(benches);
