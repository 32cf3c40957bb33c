//! Experiment: how well do candidate screening vectors of different sizes
//! keep the mate near the top? Builds a seeded synthetic gallery, screens
//! re-enrollment probes against it with several vector layouts (bins and
//! stored precision), and prints the mate-rank distribution of each.
//!
//! ```text
//! cargo run --release -p hoviyat-benches --example screen_recall -- 20000 300
//! ```

use hoviyat_datasets::synth::population::{Population, PopulationConfig};
use hoviyat_models::{EnrollmentRecord, FingerTemplate};
use rayon::prelude::*;

#[derive(Clone, Copy, Debug)]
struct Layout {
    d: usize,
    a: usize,
    b: usize,
    /// Stored levels per value (bits), applied after L2 normalisation.
    bits: u32,
    /// Random projection to this many dimensions (0: none).
    project: usize,
    /// Fixed quantisation ceiling (values above it clip); 0: the vector's peak.
    cap: f32,
}

impl Layout {
    /// 6 x 6 x 6 bins, no projection, `bits` per value under ceiling `cap`.
    const fn six_cubed(bits: u32, cap: f32) -> Self {
        Self {
            d: 6,
            a: 6,
            b: 6,
            bits,
            project: 0,
            cap,
        }
    }

    fn dim(&self) -> usize {
        if self.project > 0 {
            self.project
        } else {
            self.d * self.a * self.b
        }
    }
    fn bytes(&self) -> usize {
        (self.dim() * self.bits as usize).div_ceil(8)
    }
}

fn histogram(t: &FingerTemplate, l: &Layout) -> Option<Vec<f32>> {
    let m = &t.minutiae;
    if m.len() < 5 {
        return None;
    }
    let ppm = f32::from(t.dpi) / 25.4;
    let (dmin, dmax) = (1.0 * ppm, 9.0 * ppm);
    let step = (dmax - dmin) / l.d as f32;
    let pi = std::f32::consts::PI;
    let mut h = vec![0f32; l.d * l.a * l.b];
    for (i, p) in m.iter().enumerate() {
        for (j, q) in m.iter().enumerate() {
            if i == j {
                continue;
            }
            let (dx, dy) = (q.x_px - p.x_px, p.y_px - q.y_px);
            let dist = (dx * dx + dy * dy).sqrt();
            if !(dmin..dmax).contains(&dist) {
                continue;
            }
            let along = (dy.atan2(dx) - p.angle_rad).rem_euclid(pi);
            let turn = (q.angle_rad - p.angle_rad).rem_euclid(pi);
            let (x, y, z) = (
                (dist - dmin) / step - 0.5,
                along / pi * l.a as f32 - 0.5,
                turn / pi * l.b as f32 - 0.5,
            );
            let (x0, y0, z0) = (x.floor(), y.floor(), z.floor());
            let (fx, fy, fz) = (x - x0, y - y0, z - z0);
            for (xi, wx) in [(x0 as isize, 1.0 - fx), (x0 as isize + 1, fx)] {
                if xi < 0 || xi >= l.d as isize {
                    continue;
                }
                for (yi, wy) in [(y0 as isize, 1.0 - fy), (y0 as isize + 1, fy)] {
                    let yi = yi.rem_euclid(l.a as isize) as usize;
                    for (zi, wz) in [(z0 as isize, 1.0 - fz), (z0 as isize + 1, fz)] {
                        let zi = zi.rem_euclid(l.b as isize) as usize;
                        h[(xi as usize * l.a + yi) * l.b + zi] += wx * wy * wz;
                    }
                }
            }
        }
    }
    h.iter_mut().for_each(|v| *v = v.sqrt());
    let norm = h.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm == 0.0 {
        return None;
    }
    h.iter_mut().for_each(|v| *v /= norm);
    Some(h)
}

fn project(h: &[f32], l: &Layout) -> Vec<f32> {
    if l.project == 0 {
        return h.to_vec();
    }
    // Seeded ±1 projection.
    let mut out = vec![0f32; l.project];
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    for o in out.iter_mut() {
        for &v in h {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            *o += if s & 1 == 0 { v } else { -v };
        }
        *o /= (l.project as f32).sqrt();
    }
    out
}

fn quantise(v: &[f32], l: &Layout) -> Vec<f32> {
    if l.bits >= 16 {
        return v.to_vec();
    }
    // Signed when projected, unsigned otherwise; scale to the vector's peak.
    let peak = if l.cap > 0.0 {
        l.cap
    } else {
        v.iter().fold(0f32, |a, x| a.max(x.abs()))
    };
    let levels = ((1u32 << l.bits) - 1) as f32;
    let signed = l.project > 0;
    v.iter()
        .map(|x| {
            if signed {
                let half = levels / 2.0;
                (x / peak * half).round() / half * peak
            } else {
                (x / peak * levels).round().min(levels) / levels * peak
            }
        })
        .collect()
}

fn code(t: &FingerTemplate, l: &Layout) -> Option<Vec<f32>> {
    histogram(t, l).map(|h| quantise(&project(&h, l), l))
}

fn codes(r: &EnrollmentRecord, l: &Layout) -> Vec<Option<Vec<f32>>> {
    let mut out = vec![None; 11];
    for f in &r.fingers {
        out[usize::from(f.position.code())] = code(f, l);
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let probes: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(300);
    let pop = Population::new(PopulationConfig::new(11, n)).expect("population");
    let gallery: Vec<EnrollmentRecord> = (0..n).into_par_iter().map(|i| pop.identity(i)).collect();
    let probe_ids: Vec<u64> = (0..probes).map(|k| k * (n / probes)).collect();
    let probe_recs: Vec<EnrollmentRecord> = probe_ids
        .par_iter()
        .map(|&i| pop.reenrollment(i, 1))
        .collect();
    let layouts = [
        Layout::six_cubed(8, 0.0),
        Layout::six_cubed(4, 0.25),
        Layout::six_cubed(4, 0.18),
        Layout::six_cubed(2, 0.0),
        Layout::six_cubed(2, 0.15),
    ];
    {
        let l = layouts[0];
        let mut peaks: Vec<f32> = gallery
            .iter()
            .take(2000)
            .flat_map(|r| r.fingers.iter().filter_map(|f| histogram(f, &l)))
            .map(|h| h.iter().fold(0f32, |a, x| a.max(*x)))
            .collect();
        peaks.sort_by(f32::total_cmp);
        let q = |f: f64| peaks[((peaks.len() - 1) as f64 * f) as usize];
        println!(
            "peak p50={} p99={} p999={} max={}",
            q(0.5),
            q(0.99),
            q(0.999),
            q(1.0)
        );
    }
    for l in layouts {
        let g: Vec<Vec<Option<Vec<f32>>>> = gallery.par_iter().map(|r| codes(r, &l)).collect();
        // Per-position means.
        let dim = l.dim();
        let mut mean = vec![vec![0f32; dim]; 11];
        let mut count = [0f32; 11];
        for row in &g {
            for (p, c) in row.iter().enumerate() {
                if let Some(c) = c {
                    mean[p].iter_mut().zip(c).for_each(|(m, v)| *m += v);
                    count[p] += 1.0;
                }
            }
        }
        for p in 0..11 {
            let k = count[p].max(1.0);
            mean[p].iter_mut().for_each(|m| *m /= k);
        }
        for fingers in [10usize, 4] {
            let ranks: Vec<usize> = probe_ids
                .par_iter()
                .zip(&probe_recs)
                .map(|(&mate, rec)| {
                    let pc = codes(rec, &l);
                    let centred: Vec<Option<Vec<f32>>> = (0..11)
                        .map(|p| {
                            let c = pc[p].as_ref()?;
                            let u: Vec<f32> = c.iter().zip(&mean[p]).map(|(a, b)| a - b).collect();
                            let n = u.iter().map(|v| v * v).sum::<f32>().sqrt();
                            (n > 1e-6).then(|| u.iter().map(|v| v / n).collect())
                        })
                        .collect();
                    // Positions used: the first `fingers` present (index fingers first).
                    let order = [2usize, 7, 1, 6, 3, 8, 4, 9, 5, 10];
                    let used: Vec<usize> = order
                        .iter()
                        .copied()
                        .filter(|&p| centred[p].is_some())
                        .take(fingers)
                        .collect();
                    let score = |row: &Vec<Option<Vec<f32>>>| -> f32 {
                        used.iter()
                            .map(|&p| match (&centred[p], &row[p]) {
                                (Some(u), Some(c)) => u
                                    .iter()
                                    .zip(c.iter().zip(&mean[p]))
                                    .map(|(a, (v, m))| a * (v - m))
                                    .sum::<f32>(),
                                _ => 0.0,
                            })
                            .sum()
                    };
                    let mate_score = score(&g[mate as usize]);
                    g.iter()
                        .enumerate()
                        .filter(|&(i, row)| i as u64 != mate && score(row) >= mate_score)
                        .count()
                })
                .collect();
            let mut sorted = ranks.clone();
            sorted.sort_unstable();
            let q = |f: f64| sorted[((sorted.len() - 1) as f64 * f) as usize];
            let within = |k: usize| ranks.iter().filter(|&&r| r < k).count();
            println!(
                "{:?} bytes={} fingers={} rank p50={} p90={} p99={} max={} top40={} top400={} of {}",
                l,
                l.bytes(),
                fingers,
                q(0.5),
                q(0.9),
                q(0.99),
                sorted[sorted.len() - 1],
                within(40),
                within(400),
                ranks.len()
            );
        }
    }
}
