//! Thinning of the binary ridge map to a one-pixel-wide, 8-connected
//! skeleton (Zhang-Suen with lookup tables, then removal of staircase
//! corners so that ridge pixels have exactly two neighbours).

use std::sync::OnceLock;

/// Neighbour bit order around a pixel, clockwise from north:
/// N, NE, E, SE, S, SW, W, NW. `(dx, dy)` with y down.
pub const RING: [(i32, i32); 8] = [
    (0, -1),
    (1, -1),
    (1, 0),
    (1, 1),
    (0, 1),
    (-1, 1),
    (-1, 0),
    (-1, -1),
];

/// A binary image with a one-pixel zero border: `data[(y+1)*stride + x+1]`.
#[derive(Debug, Clone)]
pub struct Skeleton {
    pub width: usize,
    pub height: usize,
    pub stride: usize,
    pub data: Vec<u8>,
}

impl Skeleton {
    /// Index of pixel `(x, y)`.
    #[inline]
    pub fn index(&self, x: usize, y: usize) -> usize {
        (y + 1) * self.stride + x + 1
    }

    /// Pixel coordinates of an index.
    #[inline]
    pub fn coords(&self, i: usize) -> (usize, usize) {
        (i % self.stride - 1, i / self.stride - 1)
    }

    /// Index offsets of the eight neighbours in [`RING`] order.
    pub fn ring_offsets(&self) -> [isize; 8] {
        RING.map(|(dx, dy)| dy as isize * self.stride as isize + dx as isize)
    }

    /// Bit code of the neighbours of index `i` (bit k set if RING[k] is set).
    #[inline]
    pub fn code(&self, i: usize, offs: &[isize; 8]) -> u8 {
        let mut c = 0u8;
        for (k, &o) in offs.iter().enumerate() {
            c |= (self.data[(i as isize + o) as usize] & 1) << k;
        }
        c
    }
}

/// Number of 0 -> 1 transitions around the ring (the crossing number).
pub fn transitions(code: u8) -> u32 {
    (0..8)
        .filter(|&k| code & (1 << k) == 0 && code & (1 << ((k + 1) % 8)) != 0)
        .count() as u32
}

struct Tables {
    /// Deletable in Zhang-Suen sub-iteration 1 / 2.
    zs: [[bool; 256]; 2],
    /// Removable staircase corner.
    corner: [bool; 256],
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let mut zs = [[false; 256]; 2];
        let mut corner = [false; 256];
        for code in 0..=255u8 {
            let bit = |k: usize| code & (1 << k) != 0;
            let (n, e, s, w) = (bit(0), bit(2), bit(4), bit(6));
            let b = code.count_ones();
            let a = transitions(code);
            let base = (2..=6).contains(&b) && a == 1;
            zs[0][code as usize] = base && !(n && e && s) && !(e && s && w);
            zs[1][code as usize] = base && !(n && e && w) && !(n && s && w);
            // Exactly two perpendicular 4-neighbours with an empty diagonal
            // between them, and all neighbours in one 8-connected group.
            let fours = [n, e, s, w].iter().filter(|&&v| v).count();
            let perpendicular = [(0, 2, 1), (2, 4, 3), (4, 6, 5), (6, 0, 7)]
                .iter()
                .any(|&(p, q, d)| bit(p) && bit(q) && !bit(d));
            corner[code as usize] = fours == 2 && perpendicular && ring_groups(code) == 1;
        }
        Tables { zs, corner }
    })
}

/// Number of 8-connected groups formed by the set neighbours, within the
/// 3 x 3 window without its centre.
fn ring_groups(code: u8) -> u32 {
    let mut parent: [usize; 8] = std::array::from_fn(|k| k);
    fn find(p: &mut [usize; 8], mut k: usize) -> usize {
        while p[k] != k {
            k = p[k];
        }
        k
    }
    for (a, &(ax, ay)) in RING.iter().enumerate() {
        for (b, &(bx, by)) in RING.iter().enumerate().skip(a + 1) {
            if code & (1 << a) != 0
                && code & (1 << b) != 0
                && (ax - bx).abs() <= 1
                && (ay - by).abs() <= 1
            {
                let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
                parent[ra] = rb;
            }
        }
    }
    (0..8)
        .filter(|&k| code & (1 << k) != 0 && find(&mut parent, k) == k)
        .count() as u32
}

/// Thins `ridge` (row-major `width` x `height`) to a skeleton.
pub fn thin(ridge: &[bool], width: usize, height: usize) -> Skeleton {
    let stride = width + 2;
    let mut data = vec![0u8; stride * (height + 2)];
    let mut live = Vec::new();
    for y in 0..height {
        for x in 0..width {
            if ridge[y * width + x] {
                let i = (y + 1) * stride + x + 1;
                data[i] = 1;
                live.push(i as u32);
            }
        }
    }
    let mut sk = Skeleton {
        width,
        height,
        stride,
        data,
    };
    let offs = sk.ring_offsets();
    let t = tables();
    let mut doomed = Vec::new();
    // Only pixels next to a deletion can change their verdict, so each
    // round re-examines just those.
    let mut candidates = live.clone();
    let mut seen = vec![0u32; sk.data.len()];
    let mut round = 0u32;
    while !candidates.is_empty() {
        round += 1;
        let mut deleted = Vec::new();
        for table in &t.zs {
            doomed.clear();
            for &i in &candidates {
                let i = i as usize;
                if sk.data[i] != 0 && table[sk.code(i, &offs) as usize] {
                    doomed.push(i);
                }
            }
            for &i in &doomed {
                sk.data[i] = 0;
            }
            deleted.extend_from_slice(&doomed);
        }
        candidates.clear();
        for &i in &deleted {
            for &o in &offs {
                let j = (i as isize + o) as usize;
                if sk.data[j] != 0 && seen[j] != round {
                    seen[j] = round;
                    candidates.push(j as u32);
                }
            }
        }
    }
    live.retain(|&i| sk.data[i as usize] != 0);
    // Sequential on purpose: each removal is checked against the current
    // state, so connectivity is kept.
    for &i in &live {
        let i = i as usize;
        if t.corner[sk.code(i, &offs) as usize] {
            sk.data[i] = 0;
        }
    }
    sk
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thick_bar_thins_to_a_one_pixel_line() {
        let (w, h) = (40, 20);
        let ridge: Vec<bool> = (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                (5..35).contains(&x) && (8..13).contains(&y)
            })
            .collect();
        let sk = thin(&ridge, w, h);
        let offs = sk.ring_offsets();
        let mut ends = 0;
        for y in 0..h {
            let col: usize = (0..w).filter(|&x| sk.data[sk.index(x, y)] != 0).count();
            assert!(col == 0 || y == 10 || (9..=11).contains(&y));
            for x in 0..w {
                let i = sk.index(x, y);
                if sk.data[i] != 0 && transitions(sk.code(i, &offs)) == 1 {
                    ends += 1;
                }
            }
        }
        assert_eq!(ends, 2);
        // One pixel per column in the middle of the bar.
        for x in 10..30 {
            let n: usize = (0..h).filter(|&y| sk.data[sk.index(x, y)] != 0).count();
            assert_eq!(n, 1, "column {x}");
        }
    }

    #[test]
    fn staircase_corners_are_removed_without_breaking_the_line() {
        assert_eq!(ring_groups(0b0101_0000), 1, "S and W touch diagonally");
        assert_eq!(ring_groups(0b0001_0001), 2, "N and S do not touch");
        // Corner with W and S set, SW empty.
        let code = (1 << 6) | (1 << 4);
        assert!(tables().corner[code]);
        // A straight line pixel is not a corner.
        assert!(!tables().corner[(1 << 6) | (1 << 2)]);
    }
}
