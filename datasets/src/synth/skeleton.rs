//! Ground-truth minutiae of a master: the clean ridge map is binarised,
//! thinned (Zhang-Suen) and read with the crossing number; each candidate is
//! confirmed by tracing its ridges, which also gives its direction.

use std::f32::consts::PI;

use super::master::Master;

/// A minutia found on the master, in master pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MasterMinutia {
    pub x_px: f32,
    pub y_px: f32,
    /// Pixel-frame direction (x right, y down) of the minutia: into the ridge
    /// for an ending, into the two branches for a bifurcation.
    pub dir_rad: f32,
    pub bifurcation: bool,
}

/// Ridges traced this far (pixels along the skeleton) must exist around a
/// minutia for it to count; shorter spurs are growth artefacts.
const TRACE_PX: usize = 12;
/// Minutiae closer than this to the pad edge are dropped.
const EDGE_MARGIN_PX: f32 = 10.0;
/// Two minutiae closer than this are a broken ridge or a spur: both dropped.
const PAIR_MIN_PX: f32 = 6.0;

const RING: [(isize, isize); 8] = [
    (1, 0),
    (1, -1),
    (0, -1),
    (-1, -1),
    (-1, 0),
    (-1, 1),
    (0, 1),
    (1, 1),
];

/// The skeleton of the master's ridges, one byte per pixel (1 = ridge).
pub fn skeleton(master: &Master) -> Vec<u8> {
    let (w, h) = (master.width_px, master.height_px);
    let mut img: Vec<u8> = (0..w * h)
        .map(|i| {
            let (x, y) = ((i % w) as f32, (i / w) as f32);
            u8::from(master.ridges[i] > 0.0 && master.silhouette.inside(x, y) > 0.0)
        })
        .collect();
    // Image border pixels are never ridge so neighbours always exist.
    for x in 0..w {
        img[x] = 0;
        img[(h - 1) * w + x] = 0;
    }
    for y in 0..h {
        img[y * w] = 0;
        img[y * w + w - 1] = 0;
    }
    thin(&mut img, w, h);
    img
}

fn neighbours(img: &[u8], w: usize, i: usize) -> [u8; 8] {
    let mut n = [0u8; 8];
    for (k, (dx, dy)) in RING.iter().enumerate() {
        let j = (i as isize + dy * w as isize + dx) as usize;
        n[k] = img[j];
    }
    n
}

/// Zhang-Suen thinning in place.
fn thin(img: &mut [u8], w: usize, h: usize) {
    let mut to_clear = Vec::new();
    loop {
        let mut changed = false;
        for pass in 0..2 {
            to_clear.clear();
            for y in 1..h - 1 {
                for x in 1..w - 1 {
                    let i = y * w + x;
                    if img[i] == 0 {
                        continue;
                    }
                    // Zhang-Suen order: P2 (north) clockwise to P9.
                    let n = neighbours(img, w, i);
                    let p = [n[2], n[1], n[0], n[7], n[6], n[5], n[4], n[3]];
                    let b: u8 = p.iter().sum();
                    if !(2..=6).contains(&b) {
                        continue;
                    }
                    let a = (0..8).filter(|&k| p[k] == 0 && p[(k + 1) % 8] == 1).count();
                    if a != 1 {
                        continue;
                    }
                    let (p2, p4, p6, p8) = (p[0], p[2], p[4], p[6]);
                    let ok = if pass == 0 {
                        p2 * p4 * p6 == 0 && p4 * p6 * p8 == 0
                    } else {
                        p2 * p4 * p8 == 0 && p2 * p6 * p8 == 0
                    };
                    if ok {
                        to_clear.push(i);
                    }
                }
            }
            for &i in &to_clear {
                img[i] = 0;
            }
            changed |= !to_clear.is_empty();
        }
        if !changed {
            break;
        }
    }
}

/// Walks along the skeleton from `start` (already stepped off `origin`) for
/// up to `TRACE_PX` pixels; returns the last pixel and the steps taken, or
/// `None` if the walk meets a junction first.
fn trace(img: &[u8], w: usize, exclude: &[usize], start: usize) -> (usize, usize, bool) {
    let mut cur = start;
    let mut visited = exclude.to_vec();
    visited.push(start);
    for step in 1..TRACE_PX {
        let n = neighbours(img, w, cur);
        let crossings = (0..8).filter(|&k| n[k] == 0 && n[(k + 1) % 8] == 1).count();
        if crossings > 2 && step > 2 {
            return (cur, step, true);
        }
        let mut best = None;
        for (k, (dx, dy)) in RING.iter().enumerate() {
            if n[k] == 0 {
                continue;
            }
            let j = (cur as isize + dy * w as isize + dx) as usize;
            if visited.contains(&j) {
                continue;
            }
            // Prefer 4-neighbours: they continue the line without skipping.
            let rank = usize::from(dx.abs() + dy.abs() == 2);
            if best.is_none_or(|(r, _)| rank < r) {
                best = Some((rank, j));
            }
        }
        let Some((_, next)) = best else {
            return (cur, step, false);
        };
        visited.push(next);
        cur = next;
    }
    (cur, TRACE_PX, false)
}

fn angle_between(a: f32, b: f32) -> f32 {
    let d = (a - b).rem_euclid(2.0 * PI);
    d.min(2.0 * PI - d)
}

/// Minutiae of the master, each confirmed by its traced ridges.
pub fn minutiae(master: &Master) -> Vec<MasterMinutia> {
    let (w, h) = (master.width_px, master.height_px);
    let img = skeleton(master);
    let mut found = Vec::new();
    for y in 2..h - 2 {
        for x in 2..w - 2 {
            let i = y * w + x;
            if img[i] == 0 {
                continue;
            }
            let (xf, yf) = (x as f32, y as f32);
            if master.silhouette.inside(xf, yf) < EDGE_MARGIN_PX {
                continue;
            }
            let n = neighbours(&img, w, i);
            // Starts of the runs of ridge pixels around the ring.
            let starts: Vec<usize> = (0..8)
                .filter(|&k| n[(k + 7) % 8] == 0 && n[k] == 1)
                .collect();
            let ring_pixels: Vec<usize> = RING
                .iter()
                .zip(n)
                .filter(|&(_, v)| v == 1)
                .map(|((dx, dy), _)| (i as isize + dy * w as isize + dx) as usize)
                .chain(std::iter::once(i))
                .collect();
            let branch_dirs: Option<Vec<f32>> = match starts.len() {
                1 | 3 => starts
                    .iter()
                    .map(|&k| {
                        let (dx, dy) = RING[k];
                        let j = (i as isize + dy * w as isize + dx) as usize;
                        let exclude: Vec<usize> =
                            ring_pixels.iter().copied().filter(|&p| p != j).collect();
                        let (end, steps, junction) = trace(&img, w, &exclude, j);
                        if steps < TRACE_PX || junction {
                            return None;
                        }
                        let ex = (end % w) as f32 - xf;
                        let ey = (end / w) as f32 - yf;
                        Some(ey.atan2(ex))
                    })
                    .collect(),
                _ => None,
            };
            let Some(dirs) = branch_dirs else { continue };
            let traced = if dirs.len() == 1 {
                dirs[0]
            } else {
                // The stem is the branch farthest from the other two; the
                // minutia points the opposite way, into the fork.
                let spread = |s: usize| {
                    (0..3)
                        .filter(|&t| t != s)
                        .map(|t| angle_between(dirs[s], dirs[t]))
                        .sum::<f32>()
                };
                let stem = (0..3)
                    .max_by(|&a, &b| spread(a).total_cmp(&spread(b)))
                    .unwrap_or(0);
                dirs[stem] + PI
            };
            // Snap to the ridge flow where the two agree: the flow is the
            // exact local ridge direction, the trace only picks its sense.
            let flow = master.flow.orientation_rad(xf, yf);
            let candidate = if angle_between(flow, traced) < angle_between(flow + PI, traced) {
                flow
            } else {
                flow + PI
            };
            let dir = if angle_between(candidate, traced) < PI / 6.0 {
                candidate
            } else {
                traced
            };
            found.push(MasterMinutia {
                x_px: xf,
                y_px: yf,
                dir_rad: dir.rem_euclid(2.0 * PI),
                bifurcation: dirs.len() == 3,
            });
        }
    }
    // Drop clusters: anything with a neighbour closer than PAIR_MIN_PX.
    let crowded: Vec<bool> = found
        .iter()
        .enumerate()
        .map(|(a, m)| {
            found
                .iter()
                .enumerate()
                .any(|(b, o)| a != b && (m.x_px - o.x_px).hypot(m.y_px - o.y_px) < PAIR_MIN_PX)
        })
        .collect();
    found
        .into_iter()
        .zip(crowded)
        .filter_map(|(m, c)| (!c).then_some(m))
        .collect()
}
