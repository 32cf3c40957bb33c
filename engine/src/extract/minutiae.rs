//! Minutiae detection on the skeleton (crossing number), ridge tracing from
//! each candidate, and minutia direction.

use hoviyat_models::MinutiaKind;

use super::orientation::BlockField;
use super::thin::{RING, Skeleton, transitions};

/// No candidate at this skeleton pixel.
pub const NONE: u32 = u32::MAX;
/// Steps along a ridge used to measure a minutia's direction.
const DIR_STEPS: usize = 9;
/// Traced direction and orientation field agree if within this angle; the
/// field (smoothed over several ridges) is then preferred.
const FIELD_AGREEMENT_COS: f32 = 0.82; // cos 35°

/// How a traced ridge branch stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceEnd {
    /// Reached another candidate (its index).
    Minutia(u32),
    /// The skeleton ended without a candidate (left the foreground).
    DeadEnd,
    /// The step budget ran out.
    Open,
}

/// One ridge branch leaving a candidate.
#[derive(Debug, Clone, Copy)]
pub struct Trace {
    pub end: TraceEnd,
    pub steps: usize,
    /// Unit vector from the candidate to the branch point `DIR_STEPS` away.
    pub dir: (f32, f32),
}

/// A minutia candidate before filtering.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub skel_index: usize,
    pub x: usize,
    pub y: usize,
    pub kind: MinutiaKind,
    /// Minutia direction as a unit vector in pixel coordinates (y down).
    pub dir: (f32, f32),
    pub branches: Vec<Trace>,
    pub removed: bool,
}

/// Finds endings (crossing number 1) and bifurcations (3) on skeleton
/// pixels whose block is foreground, traces their branches up to
/// `max_steps` pixels, and gives each its direction.
pub fn detect(
    sk: &Skeleton,
    mask: &[bool],
    field: &BlockField,
    max_steps: usize,
) -> (Vec<Candidate>, Vec<u32>) {
    let offs = sk.ring_offsets();
    let mut map = vec![NONE; sk.data.len()];
    let mut cands = Vec::new();
    for y in 0..sk.height {
        for x in 0..sk.width {
            let i = sk.index(x, y);
            if sk.data[i] == 0 || !mask[field.block_of(x, y)] {
                continue;
            }
            let code = sk.code(i, &offs);
            let kind = match transitions(code) {
                1 => MinutiaKind::Ending,
                3 => MinutiaKind::Bifurcation,
                _ => continue,
            };
            map[i] = cands.len() as u32;
            cands.push(Candidate {
                skel_index: i,
                x,
                y,
                kind,
                dir: (1.0, 0.0),
                branches: Vec::new(),
                removed: false,
            });
        }
    }
    for c in &mut cands {
        let code = sk.code(c.skel_index, &offs);
        c.branches = branch_starts(code)
            .into_iter()
            .map(|k| {
                let first = (c.skel_index as isize + offs[k]) as usize;
                trace(sk, &offs, &map, c.skel_index, first, max_steps)
            })
            .collect();
        c.dir = direction(c, field);
    }
    (cands, map)
}

/// One ring position per group of set neighbours; within a group of two or
/// more, the diagonal one, which touches the most of the branch beyond.
fn branch_starts(code: u8) -> Vec<usize> {
    let mut starts = Vec::with_capacity(3);
    // Walk the ring from a clear position so groups are not split.
    let Some(clear) = (0..8).find(|&k| code & (1 << k) == 0) else {
        return starts;
    };
    let mut group: Vec<usize> = Vec::new();
    for step in 1..=8 {
        let k = (clear + step) % 8;
        if code & (1 << k) != 0 {
            group.push(k);
        } else if !group.is_empty() {
            let pick = group
                .iter()
                .copied()
                .find(|&g| g % 2 == 1)
                .unwrap_or(group[0]);
            starts.push(pick);
            group.clear();
        }
    }
    starts
}

fn adjacent(sk: &Skeleton, a: usize, b: usize) -> bool {
    let (ax, ay) = ((a % sk.stride) as isize, (a / sk.stride) as isize);
    let (bx, by) = ((b % sk.stride) as isize, (b / sk.stride) as isize);
    (ax - bx).abs() <= 1 && (ay - by).abs() <= 1
}

fn trace(
    sk: &Skeleton,
    offs: &[isize; 8],
    map: &[u32],
    start: usize,
    first: usize,
    max_steps: usize,
) -> Trace {
    let (sx, sy) = sk.coords(start);
    let mut tip = first;
    let (mut prev2, mut prev, mut cur) = (start, start, first);
    let mut steps = 1;
    let end = loop {
        if steps <= DIR_STEPS {
            tip = cur;
        }
        if map[cur] != NONE {
            break TraceEnd::Minutia(map[cur]);
        }
        if steps >= max_steps {
            break TraceEnd::Open;
        }
        let mut next: Option<(usize, bool)> = None;
        for (k, &o) in offs.iter().enumerate() {
            let j = (cur as isize + o) as usize;
            if sk.data[j] == 0 || j == prev || j == prev2 || j == start {
                continue;
            }
            if map[j] != NONE {
                next = Some((j, true));
                break;
            }
            if adjacent(sk, j, prev) {
                continue;
            }
            let four = RING[k].0 == 0 || RING[k].1 == 0;
            match next {
                None => next = Some((j, four)),
                Some((_, false)) if four => next = Some((j, four)),
                _ => {}
            }
        }
        match next {
            Some((j, _)) => {
                prev2 = prev;
                prev = cur;
                cur = j;
                steps += 1;
            }
            None => break TraceEnd::DeadEnd,
        }
    };
    let (tx, ty) = sk.coords(tip);
    let (dx, dy) = (tx as f32 - sx as f32, ty as f32 - sy as f32);
    let len = (dx * dx + dy * dy).sqrt().max(1e-6);
    Trace {
        end,
        steps,
        dir: (dx / len, dy / len),
    }
}

fn normalise((x, y): (f32, f32)) -> (f32, f32) {
    let len = (x * x + y * y).sqrt();
    if len < 1e-6 {
        (1.0, 0.0)
    } else {
        (x / len, y / len)
    }
}

/// Direction of a candidate: into the ridge for an ending, into the fork for
/// a bifurcation; snapped to the orientation field where the two agree.
fn direction(c: &Candidate, field: &BlockField) -> (f32, f32) {
    let traced = match (c.kind, c.branches.as_slice()) {
        (MinutiaKind::Ending, [b]) => b.dir,
        (MinutiaKind::Bifurcation, [a, b, s]) => {
            // The two branches closest in angle form the fork; the third is
            // the stem.
            let dot = |p: (f32, f32), q: (f32, f32)| p.0 * q.0 + p.1 * q.1;
            let pairs = [(a, b, s), (a, s, b), (b, s, a)];
            let (p, q, stem) = pairs
                .iter()
                .copied()
                .max_by(|x, y| dot(x.0.dir, x.1.dir).total_cmp(&dot(y.0.dir, y.1.dir)))
                .unwrap_or((a, b, s));
            normalise((
                p.dir.0 + q.dir.0 - stem.dir.0,
                p.dir.1 + q.dir.1 - stem.dir.1,
            ))
        }
        _ => return (1.0, 0.0),
    };
    let theta = field.theta_at(c.x as f32, c.y as f32);
    let (s, co) = theta.sin_cos();
    let mut u = (co, s);
    let d = u.0 * traced.0 + u.1 * traced.1;
    if d < 0.0 {
        u = (-u.0, -u.1);
    }
    if d.abs() >= FIELD_AGREEMENT_COS {
        u
    } else {
        traced
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_starts_pick_one_pixel_per_group() {
        // N and NE form one group, S another, W a third.
        let code = 0b0101_0011;
        let s = branch_starts(code);
        assert_eq!(s.len(), 3);
        assert!(s.contains(&1) && s.contains(&4) && s.contains(&6));
        assert!(branch_starts(0).is_empty());
    }
}
