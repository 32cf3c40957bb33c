//! Gallery store measurements: bytes per identity, open time, insert
//! throughput with an fsync per insert and with group commit, and a full
//! read pass over the scanned columns.

use std::path::{Path, PathBuf};
use std::time::Instant;

use hoviyat_engine::face::FaceCodec;
use hoviyat_engine::models::{
    EnrollmentRecord, FaceTemplate, FingerPosition, FingerTemplate, Minutia, MinutiaKind,
};
use hoviyat_engine::prepare::prepare_record;
use hoviyat_engine::store::{Gallery, GalleryConfig, GalleryStats, PreparedRecord};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

/// Face template dimension of the benchmark identities.
pub const FACE_DIM: usize = 512;
/// Minutiae per finger of the benchmark identities.
pub const MINUTIAE_PER_FINGER: usize = 40;

/// The gallery configuration of the benchmarks.
pub fn config() -> GalleryConfig {
    GalleryConfig {
        face_dim: Some(FACE_DIM),
        face_model: Some("bench-512".into()),
        face_mean: None,
    }
}

/// Identity `i`: ten fingers of 40 minutiae on a 500 dpi 400x500 image and
/// a 512-d face, seeded by `i`.
pub fn synthetic_record(i: u64) -> EnrollmentRecord {
    let mut rng = ChaCha8Rng::seed_from_u64(0x6a11_e4e7 ^ i);
    let fingers = FingerPosition::TEN
        .iter()
        .map(|&position| FingerTemplate {
            position,
            width_px: 400,
            height_px: 500,
            dpi: 500,
            quality: rng.random_range(40..=100),
            minutiae: (0..MINUTIAE_PER_FINGER)
                .map(|_| {
                    let kind = if rng.random_bool(0.5) {
                        MinutiaKind::Ending
                    } else {
                        MinutiaKind::Bifurcation
                    };
                    Minutia::new(
                        rng.random_range(20.0..380.0),
                        rng.random_range(20.0..480.0),
                        rng.random_range(0.0..std::f32::consts::TAU),
                        kind,
                        rng.random_range(20..=100),
                    )
                })
                .collect(),
            ridge_map: None,
        })
        .collect();
    let face = FaceTemplate::new(
        "bench-512",
        (0..FACE_DIM).map(|_| rng.random_range(-1.0..1.0)).collect(),
    );
    EnrollmentRecord::new(format!("bench-{i:09}"), fingers, Some(face))
}

/// Gallery rows of identities `range`, prepared in parallel.
pub fn prepared_rows(range: std::ops::Range<u64>) -> anyhow::Result<Vec<PreparedRecord>> {
    let codec = FaceCodec::new(FACE_DIM, None)?;
    let config = config();
    range
        .into_par_iter()
        .map(|i| {
            Ok(prepare_record(
                &synthetic_record(i),
                &config,
                Some(&codec),
                true,
                Vec::new(),
            )?)
        })
        .collect()
}

/// Row `i` made from a prepared template row by swapping in the reference
/// id `bench-{i:09}` (same width as every benchmark id) inside the record
/// bytes: a cheap way to get a million distinct, valid rows without running
/// the encoders a million times. Needs `i < 10^9`.
pub fn row_from_template(template: &PreparedRecord, i: u64) -> PreparedRecord {
    let id = format!("bench-{i:09}");
    let mut row = template.clone();
    // Record layout: "HVR" version:u8 ref_len:u8 ref ...
    if usize::from(row.record_bytes[4]) == id.len() {
        row.record_bytes[5..5 + id.len()].copy_from_slice(id.as_bytes());
    }
    row.reference_id = id;
    row
}

/// Average sizes of the parts of a prepared row, bytes.
#[derive(Debug, Clone, Serialize)]
pub struct RowSizes {
    pub record_bytes: f64,
    pub face_code_bytes: f64,
    pub finger_blob_bytes: f64,
}

/// Average part sizes of `rows`.
pub fn row_sizes(rows: &[PreparedRecord]) -> RowSizes {
    let n = rows.len().max(1) as f64;
    RowSizes {
        record_bytes: rows.iter().map(|r| r.record_bytes.len()).sum::<usize>() as f64 / n,
        face_code_bytes: rows
            .iter()
            .map(|r| r.face.as_ref().map_or(0, |f| f.codes.len() + 8))
            .sum::<usize>() as f64
            / n,
        finger_blob_bytes: rows
            .iter()
            .map(|r| r.fingers.iter().map(|(_, b)| b.len()).sum::<usize>())
            .sum::<usize>() as f64
            / n,
    }
}

/// What [`run_scale`] measured.
#[derive(Debug, Clone, Serialize)]
pub struct ScaleReport {
    pub rows: u64,
    pub row_sizes: RowSizes,
    /// Inserts per second, one insert and one fsync at a time.
    pub fsync_per_insert_per_s: f64,
    pub fsync_per_insert_rows: u64,
    /// Inserts per second with `batch` rows per group commit.
    pub group_commit_per_s: f64,
    pub group_commit_batch: usize,
    /// Seconds to insert (and seal) all rows, preparation excluded.
    pub build_insert_s: f64,
    /// Seconds spent preparing rows: [`TEMPLATE_ROWS`] through the real
    /// encoders, the rest by [`row_from_template`].
    pub build_prepare_s: f64,
    pub stats: GalleryStats,
    /// Each `Gallery::open` of the built gallery (page cache warm).
    pub open_s: Vec<f64>,
    /// Each `Gallery::open` with the gallery's files first evicted from the
    /// page cache (`posix_fadvise(DONTNEED)`), so what open reads comes from
    /// the disk.
    pub open_cold_s: Vec<f64>,
    /// Each `Gallery::open` after compaction into one segment, if done.
    pub open_compacted_s: Vec<f64>,
    /// Seconds for one pass reading every face code and finger blob.
    pub scan_pass_s: f64,
    /// Bytes that pass read.
    pub scan_pass_bytes: u64,
}

/// Distinct prepared rows the big gallery is made from (see
/// [`row_from_template`]).
pub const TEMPLATE_ROWS: u64 = 2_000;

/// Options of [`run_scale`].
#[derive(Debug, Clone)]
pub struct ScaleOptions {
    pub dir: PathBuf,
    pub rows: u64,
    pub batch: usize,
    pub fsync_rows: u64,
    pub compact: bool,
    pub opens: usize,
}

fn fresh(dir: &Path) -> anyhow::Result<Gallery> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    Ok(Gallery::create(dir, config())?)
}

/// Asks the kernel to drop the cached pages of every file in `dir` (they are
/// clean: the store syncs what it writes), so the next read goes to disk.
fn evict_page_cache(dir: &Path) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let file = std::fs::File::open(entry?.path())?;
        rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::DontNeed)?;
    }
    Ok(())
}

/// Seconds of `n` opens of the gallery in `dir`; with `cold`, its files
/// are evicted from the page cache before each.
fn time_opens(dir: &Path, n: usize, cold: bool) -> anyhow::Result<Vec<f64>> {
    (0..n)
        .map(|_| {
            if cold {
                evict_page_cache(dir)?;
            }
            let t = Instant::now();
            let g = Gallery::open(dir)?;
            let s = t.elapsed().as_secs_f64();
            drop(g);
            Ok(s)
        })
        .collect()
}

/// Reads every face code and finger blob of a snapshot once (the bytes a
/// dedup pass touches) and returns (seconds, bytes).
pub fn scan_pass(g: &Gallery) -> (f64, u64) {
    let snap = g.snapshot();
    let t = Instant::now();
    let blocks: Vec<_> = snap.blocks().collect();
    let (bytes, checksum) = blocks
        .par_iter()
        .map(|b| {
            let mut sum = 0u64;
            let codes = b.face_codes();
            for &c in codes {
                sum = sum.wrapping_add(c as u8 as u64);
            }
            let mut bytes = codes.len() as u64;
            for i in 0..b.len() {
                for p in FingerPosition::TEN {
                    if let Some(blob) = b.finger_blob(i, p) {
                        bytes += blob.len() as u64;
                        sum = sum.wrapping_add(blob.iter().map(|&x| u64::from(x)).sum::<u64>());
                    }
                }
            }
            (bytes, sum)
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1.wrapping_add(b.1)));
    let s = t.elapsed().as_secs_f64();
    std::hint::black_box(checksum);
    (s, bytes)
}

/// Builds galleries under `opts.dir` and measures them; removes them after.
pub fn run_scale(opts: &ScaleOptions) -> anyhow::Result<ScaleReport> {
    std::fs::create_dir_all(&opts.dir)?;
    // Insert throughput, one fsync per insert.
    let dir = opts.dir.join("fsync");
    let rows = prepared_rows(0..opts.fsync_rows)?;
    let sizes = row_sizes(&rows);
    let g = fresh(&dir)?;
    let t = Instant::now();
    for r in rows {
        g.insert(r)?;
    }
    let fsync_per_insert_per_s = opts.fsync_rows as f64 / t.elapsed().as_secs_f64();
    drop(g);
    std::fs::remove_dir_all(&dir)?;

    // Build the big gallery with group commits; this also times them.
    let dir = opts.dir.join("scale");
    let g = fresh(&dir)?;
    let (mut prepare_s, mut insert_s) = (0.0, 0.0);
    let t = Instant::now();
    let templates = prepared_rows(0..TEMPLATE_ROWS.min(opts.rows))?;
    prepare_s += t.elapsed().as_secs_f64();
    let mut next = 0;
    while next < opts.rows {
        let end = (next + 10 * opts.batch as u64).min(opts.rows);
        let t = Instant::now();
        let rows: Vec<_> = (next..end)
            .into_par_iter()
            .map(|i| row_from_template(&templates[(i % templates.len() as u64) as usize], i))
            .collect();
        prepare_s += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            g.insert_batch(rows.by_ref().take(opts.batch).collect())?;
        }
        insert_s += t.elapsed().as_secs_f64();
        next = end;
        tracing::info!(rows = next, "inserted");
    }
    let t = Instant::now();
    g.seal()?;
    insert_s += t.elapsed().as_secs_f64();
    let stats = g.stats()?;
    let (scan_pass_s, scan_pass_bytes) = scan_pass(&g);
    drop(g);
    let open_s = time_opens(&dir, opts.opens, false)?;
    let open_cold_s = time_opens(&dir, opts.opens, true)?;
    let open_compacted_s = if opts.compact {
        Gallery::open(&dir)?.compact()?;
        time_opens(&dir, opts.opens, false)?
    } else {
        Vec::new()
    };
    std::fs::remove_dir_all(&dir)?;
    Ok(ScaleReport {
        rows: opts.rows,
        row_sizes: sizes,
        fsync_per_insert_per_s,
        fsync_per_insert_rows: opts.fsync_rows,
        group_commit_per_s: opts.rows as f64 / insert_s,
        group_commit_batch: opts.batch,
        build_insert_s: insert_s,
        build_prepare_s: prepare_s,
        stats,
        open_s,
        open_cold_s,
        open_compacted_s,
        scan_pass_s,
        scan_pass_bytes,
    })
}
