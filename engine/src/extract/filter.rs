//! False-minutiae removal: border, spurs, short ridges, bridges, broken
//! ridges (close opposing endings) and clusters.
//!
//! Distances are relative to the local ridge period so that the rules carry
//! over to fingers with wider or narrower ridges.

use hoviyat_models::MinutiaKind;

use super::minutiae::{Candidate, TraceEnd};

/// Period-relative thresholds of the filter.
#[derive(Debug, Clone, Copy)]
pub struct FilterRules {
    /// An ending joined by its ridge to a bifurcation this close is a spur.
    pub spur_periods: f32,
    /// An ending joined by its ridge to another ending this close is a
    /// short ridge (island, dot or noise).
    pub short_ridge_periods: f32,
    /// Two bifurcations joined by a ridge this short are a bridge or a hole.
    pub bridge_periods: f32,
    /// Two endings facing each other this close are a broken ridge.
    pub gap_periods: f32,
    /// Minutiae closer than this to a background block (in blocks) are
    /// border artefacts.
    pub border_blocks: u8,
    /// Two minutiae closer than this are noise whatever their kinds.
    pub min_separation_periods: f32,
}

impl Default for FilterRules {
    fn default() -> Self {
        Self {
            spur_periods: 1.0,
            short_ridge_periods: 2.0,
            bridge_periods: 1.2,
            gap_periods: 2.5,
            border_blocks: 2,
            min_separation_periods: 0.6,
        }
    }
}

/// Marks false candidates as removed. `period_at(x, y)` gives the local ridge
/// period, `border_dist_at(x, y)` the block distance to the background.
pub fn remove_false(
    cands: &mut [Candidate],
    rules: &FilterRules,
    period_at: impl Fn(usize, usize) -> f32,
    border_dist_at: impl Fn(usize, usize) -> u8,
) {
    let n = cands.len();
    let mut doomed = vec![false; n];
    // Structural rules, decided on the traces of the unfiltered skeleton.
    for (i, c) in cands.iter().enumerate() {
        let period = period_at(c.x, c.y);
        for b in &c.branches {
            let steps = b.steps as f32;
            match (c.kind, b.end) {
                (MinutiaKind::Ending, TraceEnd::Minutia(j)) => {
                    let other = cands[j as usize].kind;
                    let limit = if other == MinutiaKind::Ending {
                        rules.short_ridge_periods
                    } else {
                        rules.spur_periods
                    };
                    if steps <= limit * period {
                        doomed[i] = true;
                        doomed[j as usize] = true;
                    }
                }
                (MinutiaKind::Bifurcation, TraceEnd::Minutia(j))
                    if cands[j as usize].kind == MinutiaKind::Bifurcation
                        && steps <= rules.bridge_periods * period =>
                {
                    doomed[i] = true;
                    doomed[j as usize] = true;
                }
                (_, TraceEnd::DeadEnd) if steps <= rules.short_ridge_periods * period => {
                    doomed[i] = true;
                }
                _ => {}
            }
        }
    }
    // Broken ridges: two endings facing each other across a short gap. Each
    // ending's direction points back into its own ridge, so away from the
    // other.
    for i in 0..n {
        if cands[i].kind != MinutiaKind::Ending {
            continue;
        }
        for j in i + 1..n {
            if cands[j].kind != MinutiaKind::Ending {
                continue;
            }
            let (a, b) = (&cands[i], &cands[j]);
            let (dx, dy) = (b.x as f32 - a.x as f32, b.y as f32 - a.y as f32);
            let dist = (dx * dx + dy * dy).sqrt();
            let period = period_at(a.x, a.y);
            if dist > rules.gap_periods * period || dist < 1e-3 {
                continue;
            }
            let (ux, uy) = (dx / dist, dy / dist);
            let opposed = a.dir.0 * b.dir.0 + a.dir.1 * b.dir.1 < -0.5;
            let a_away = a.dir.0 * ux + a.dir.1 * uy < -0.5;
            let b_away = -(b.dir.0 * ux + b.dir.1 * uy) < -0.5;
            if opposed && a_away && b_away {
                doomed[i] = true;
                doomed[j] = true;
            }
        }
    }
    for (c, d) in cands.iter_mut().zip(&doomed) {
        c.removed |= *d || border_dist_at(c.x, c.y) < rules.border_blocks;
    }
    // Clusters: where many survivors crowd within one ridge period the area
    // is noise, not minutiae; and two minutiae much closer than a ridge
    // period cannot both be real.
    let survivors: Vec<usize> = (0..n).filter(|&i| !cands[i].removed).collect();
    let mut crowded = Vec::new();
    for &i in &survivors {
        let period = period_at(cands[i].x, cands[i].y);
        let r2 = period * period;
        let min2 = (rules.min_separation_periods * period).powi(2);
        let mut close = 0;
        let mut too_close = false;
        for &j in &survivors {
            if j == i {
                continue;
            }
            let dx = cands[j].x as f32 - cands[i].x as f32;
            let dy = cands[j].y as f32 - cands[i].y as f32;
            let d2 = dx * dx + dy * dy;
            close += usize::from(d2 < r2);
            too_close |= d2 < min2;
        }
        if close >= 2 || too_close {
            crowded.push(i);
        }
    }
    for i in crowded {
        cands[i].removed = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::minutiae::Trace;

    fn ending(x: usize, y: usize, dir: (f32, f32), end: TraceEnd, steps: usize) -> Candidate {
        Candidate {
            skel_index: 0,
            x,
            y,
            kind: MinutiaKind::Ending,
            dir,
            branches: vec![Trace { end, steps, dir }],
            removed: false,
        }
    }

    #[test]
    fn facing_endings_are_removed_and_parallel_ones_kept() {
        let mut c = vec![
            ending(50, 50, (-1.0, 0.0), TraceEnd::Open, 30),
            ending(58, 50, (1.0, 0.0), TraceEnd::Open, 30),
            ending(50, 100, (-1.0, 0.0), TraceEnd::Open, 30),
            ending(50, 109, (-1.0, 0.0), TraceEnd::Open, 30),
        ];
        remove_false(&mut c, &FilterRules::default(), |_, _| 9.0, |_, _| 5);
        assert!(c[0].removed && c[1].removed);
        assert!(!c[2].removed && !c[3].removed);
    }

    #[test]
    fn spurs_and_border_minutiae_are_removed() {
        let mut c = vec![
            ending(50, 50, (1.0, 0.0), TraceEnd::Minutia(1), 5),
            Candidate {
                kind: MinutiaKind::Bifurcation,
                ..ending(55, 50, (1.0, 0.0), TraceEnd::Open, 30)
            },
            ending(150, 150, (1.0, 0.0), TraceEnd::Open, 30),
            ending(5, 150, (1.0, 0.0), TraceEnd::Open, 30),
        ];
        remove_false(
            &mut c,
            &FilterRules::default(),
            |_, _| 9.0,
            |x, _| if x < 10 { 1 } else { 5 },
        );
        assert!(c[0].removed && c[1].removed, "spur");
        assert!(!c[2].removed);
        assert!(c[3].removed, "border");
    }
}
