//! Foreground segmentation: which blocks hold ridges of the finger.

use super::orientation::BlockField;

/// Contrast (RMS gradient, grey levels per pixel) below which a block is
/// background whatever the rest of the image looks like.
const MIN_CONTRAST: f32 = 2.5;
/// A block needs this share of the image's typical ridge contrast.
const RELATIVE_CONTRAST: f32 = 0.2;
/// Gradient coherence below which a block holds no ridge flow. Low on
/// purpose: dry, porous and smudged areas of real prints have coherence
/// 0.2-0.3 and still carry matchable minutiae; what is not a finger is
/// refused on spectral ridge evidence after segmentation.
const MIN_COHERENCE: f32 = 0.15;

/// The foreground of an image at block level.
#[derive(Debug, Clone)]
pub struct Segmentation {
    /// `true` for blocks of the finger, row-major over the block grid.
    pub mask: Vec<bool>,
    /// Chessboard distance of each block to the nearest background block or
    /// the image edge, in blocks (0 for background).
    pub border_dist: Vec<u8>,
    /// Blocks with ridge contrast, before the coherence test.
    pub contrast_blocks: usize,
    /// Blocks with contrast and coherent ridge flow.
    pub ridge_blocks: usize,
    /// Foreground blocks after morphology.
    pub foreground_blocks: usize,
}

/// Segments the finger from the background using block contrast and
/// orientation coherence, then keeps the largest region and fills its holes.
pub fn segment(field: &BlockField) -> Segmentation {
    let (bw, bh) = (field.bw, field.bh);
    let n = bw * bh;
    let mut sorted = field.contrast.clone();
    sorted.sort_by(f32::total_cmp);
    let p90 = sorted.get(n * 9 / 10).copied().unwrap_or(0.0);
    let threshold = MIN_CONTRAST.max(RELATIVE_CONTRAST * p90);
    let contrast: Vec<bool> = field.contrast.iter().map(|&c| c > threshold).collect();
    let contrast_blocks = contrast.iter().filter(|&&b| b).count();
    let ridge: Vec<bool> = (0..n)
        .map(|b| contrast[b] && field.coherence[b] > MIN_COHERENCE)
        .collect();
    let ridge_blocks = ridge.iter().filter(|&&b| b).count();

    let opened = dilate(&erode(&ridge, bw, bh), bw, bh);
    let mut mask = largest_component(&opened, bw, bh);
    fill_holes(&mut mask, bw, bh);
    let mask = erode(&dilate(&mask, bw, bh), bw, bh);
    let foreground_blocks = mask.iter().filter(|&&b| b).count();
    let border_dist = chessboard_distance(&mask, bw, bh);
    Segmentation {
        mask,
        border_dist,
        contrast_blocks,
        ridge_blocks,
        foreground_blocks,
    }
}

fn erode(m: &[bool], bw: usize, bh: usize) -> Vec<bool> {
    let mut out = vec![false; m.len()];
    for y in 0..bh {
        for x in 0..bw {
            if !m[y * bw + x] {
                continue;
            }
            let mut all = true;
            'n: for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    let (xx, yy) = (x as i64 + dx, y as i64 + dy);
                    // The image edge counts as foreground so that a print
                    // filling the frame keeps its edge blocks.
                    if xx < 0 || yy < 0 || xx >= bw as i64 || yy >= bh as i64 {
                        continue;
                    }
                    if !m[yy as usize * bw + xx as usize] {
                        all = false;
                        break 'n;
                    }
                }
            }
            out[y * bw + x] = all;
        }
    }
    out
}

fn dilate(m: &[bool], bw: usize, bh: usize) -> Vec<bool> {
    let mut out = vec![false; m.len()];
    for y in 0..bh {
        for x in 0..bw {
            if !m[y * bw + x] {
                continue;
            }
            for yy in y.saturating_sub(1)..(y + 2).min(bh) {
                for xx in x.saturating_sub(1)..(x + 2).min(bw) {
                    out[yy * bw + xx] = true;
                }
            }
        }
    }
    out
}

/// Labels 4-connected components of `value` cells; returns labels (0 = not
/// `value`) and component sizes indexed by label - 1.
fn components(m: &[bool], bw: usize, bh: usize, value: bool) -> (Vec<u32>, Vec<usize>) {
    let mut label = vec![0u32; m.len()];
    let mut sizes = Vec::new();
    let mut stack = Vec::new();
    for start in 0..m.len() {
        if m[start] != value || label[start] != 0 {
            continue;
        }
        let id = sizes.len() as u32 + 1;
        let mut size = 0;
        label[start] = id;
        stack.push(start);
        while let Some(i) = stack.pop() {
            size += 1;
            let (x, y) = (i % bw, i / bw);
            let mut visit = |j: usize| {
                if m[j] == value && label[j] == 0 {
                    label[j] = id;
                    stack.push(j);
                }
            };
            if x > 0 {
                visit(i - 1);
            }
            if x + 1 < bw {
                visit(i + 1);
            }
            if y > 0 {
                visit(i - bw);
            }
            if y + 1 < bh {
                visit(i + bw);
            }
        }
        sizes.push(size);
    }
    (label, sizes)
}

fn largest_component(m: &[bool], bw: usize, bh: usize) -> Vec<bool> {
    let (label, sizes) = components(m, bw, bh, true);
    let Some(best) = (0..sizes.len()).max_by_key(|&i| sizes[i]) else {
        return vec![false; m.len()];
    };
    let best = best as u32 + 1;
    label.iter().map(|&l| l == best).collect()
}

/// Turns background regions that do not touch the grid edge into foreground.
fn fill_holes(m: &mut [bool], bw: usize, bh: usize) {
    let (label, sizes) = components(m, bw, bh, false);
    let mut touches = vec![false; sizes.len() + 1];
    for y in 0..bh {
        for x in 0..bw {
            if (x == 0 || y == 0 || x + 1 == bw || y + 1 == bh) && label[y * bw + x] != 0 {
                touches[label[y * bw + x] as usize] = true;
            }
        }
    }
    for (i, cell) in m.iter_mut().enumerate() {
        if label[i] != 0 && !touches[label[i] as usize] {
            *cell = true;
        }
    }
}

/// Chessboard distance to the nearest background cell, counting the grid
/// edge as background; two-pass chamfer.
fn chessboard_distance(m: &[bool], bw: usize, bh: usize) -> Vec<u8> {
    let mut d: Vec<u8> = m.iter().map(|&f| if f { u8::MAX } else { 0 }).collect();
    let get = |d: &[u8], x: i64, y: i64| -> u8 {
        if x < 0 || y < 0 || x >= bw as i64 || y >= bh as i64 {
            0
        } else {
            d[y as usize * bw + x as usize]
        }
    };
    for y in 0..bh as i64 {
        for x in 0..bw as i64 {
            let i = y as usize * bw + x as usize;
            if d[i] == 0 {
                continue;
            }
            let m = [(-1, -1), (0, -1), (1, -1), (-1, 0)]
                .iter()
                .map(|&(dx, dy)| get(&d, x + dx, y + dy))
                .min()
                .unwrap_or(0);
            d[i] = d[i].min(m.saturating_add(1));
        }
    }
    for y in (0..bh as i64).rev() {
        for x in (0..bw as i64).rev() {
            let i = y as usize * bw + x as usize;
            if d[i] == 0 {
                continue;
            }
            let m = [(1, 1), (0, 1), (-1, 1), (1, 0)]
                .iter()
                .map(|&(dx, dy)| get(&d, x + dx, y + dy))
                .min()
                .unwrap_or(0);
            d[i] = d[i].min(m.saturating_add(1));
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holes_are_filled_and_distance_counts_from_the_edge() {
        let (bw, bh) = (7, 7);
        let mut m = vec![true; bw * bh];
        m[3 * bw + 3] = false;
        fill_holes(&mut m, bw, bh);
        assert!(m.iter().all(|&b| b));
        let d = chessboard_distance(&m, bw, bh);
        assert_eq!(d[0], 1);
        assert_eq!(d[3 * bw + 3], 4);
        assert_eq!(d[bw + 1], 2);
    }

    #[test]
    fn only_the_largest_region_is_kept() {
        let (bw, bh) = (10, 4);
        let mut m = vec![false; bw * bh];
        for i in [0, 1, 10, 11, 5, 6, 7, 15, 16, 17, 25, 26, 27] {
            m[i] = true;
        }
        let l = largest_component(&m, bw, bh);
        assert!(!l[0] && l[5] && l[27]);
    }
}
