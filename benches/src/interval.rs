//! How far an EER or FMR1000 could move with other fingers: intervals by
//! the subsets bootstrap (Bolle, Ratha and Pankanti, "Error analysis of
//! pattern recognition systems — the subsets bootstrap", CVIU 2004).
//!
//! The comparisons of one finger are not independent of each other (a
//! faint finger fails all its genuine pairs at once), so resampling single
//! scores would give intervals far too narrow. The bootstrap draws the
//! fingers with replacement instead: a finger drawn `c` times counts its
//! genuine comparisons `c` times, and an impostor comparison of fingers
//! `u` and `v` counts `c_u * c_v` times (two draws of the same finger are
//! not compared with each other). Each replicate's figures are computed
//! exactly as [`Scores`] computes them on the weighted comparisons; with
//! every finger drawn once they are the point figures themselves.
//!
//! [`Scores`]: hoviyat_engine::metrics::Scores

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// Replicates per interval: enough for stable 2.5 % and 97.5 % quantiles.
pub const REPLICATES: usize = 1000;
/// Seed of the resampling, fixed so a report is reproducible.
pub const SEED: u64 = 2004;

/// A two-sided 95 % interval, `[low, high]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(into = "[f64; 2]")]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

impl From<Interval> for [f64; 2] {
    fn from(i: Interval) -> Self {
        [i.low, i.high]
    }
}

impl Interval {
    /// The 2.5 % and 97.5 % quantiles of `values` (any order).
    pub fn of(values: &[f64]) -> Self {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        Self {
            low: crate::quantile(&v, 0.025).unwrap_or(0.0),
            high: crate::quantile(&v, 0.975).unwrap_or(0.0),
        }
    }
}

/// One comparison: the two fingers' labels and its score. Genuine when the
/// labels are equal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabelledScore {
    pub finger_a: u32,
    pub finger_b: u32,
    pub score: f64,
}

/// Intervals of an EER and an FMR1000 (or of their differences).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Intervals {
    pub eer: Interval,
    pub fmr1000: Interval,
}

/// EER and FMR1000 of every replicate, in replicate order (so figures of
/// several datasets can be averaged replicate by replicate).
#[derive(Debug, Clone, Default)]
pub struct Replicates {
    pub eer: Vec<f64>,
    pub fmr1000: Vec<f64>,
}

impl Replicates {
    pub fn eer_interval(&self) -> Interval {
        Interval::of(&self.eer)
    }

    pub fn fmr1000_interval(&self) -> Interval {
        Interval::of(&self.fmr1000)
    }

    pub fn intervals(&self) -> Intervals {
        Intervals {
            eer: self.eer_interval(),
            fmr1000: self.fmr1000_interval(),
        }
    }

    /// `self - other` replicate by replicate. Meaningful when both come from
    /// the same fingers with the same seed, so each replicate draws the same
    /// fingers: a paired comparison of two systems on one dataset.
    pub fn minus(&self, other: &Replicates) -> Replicates {
        let diff = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x - y).collect();
        Replicates {
            eer: diff(&self.eer, &other.eer),
            fmr1000: diff(&self.fmr1000, &other.fmr1000),
        }
    }

    /// The replicate-wise mean of several datasets' replicates (each drawn
    /// independently): the spread of a mean over datasets.
    pub fn mean_of(sets: &[&Replicates]) -> Replicates {
        let n = sets.iter().map(|r| r.eer.len()).min().unwrap_or(0);
        let mean = |pick: fn(&Replicates) -> &Vec<f64>| {
            (0..n)
                .map(|i| sets.iter().map(|r| pick(r)[i]).sum::<f64>() / sets.len() as f64)
                .collect()
        };
        Replicates {
            eer: mean(|r| &r.eer),
            fmr1000: mean(|r| &r.fmr1000),
        }
    }
}

/// The resamplings of `n_fingers` fingers: in each, how many times each
/// finger was drawn (`n_fingers` draws with replacement). The same
/// arguments give the same draws.
pub fn finger_draws(n_fingers: usize, replicates: usize, seed: u64) -> Vec<Vec<u32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..replicates)
        .map(|_| {
            let mut draws = vec![0u32; n_fingers];
            for _ in 0..n_fingers {
                draws[rng.random_range(0..n_fingers)] += 1;
            }
            draws
        })
        .collect()
}

/// The finger labels of `pairs` replaced by dense indices `0..n`, and `n`.
fn dense_fingers(pairs: impl Iterator<Item = (u32, u32)> + Clone) -> (Vec<(u32, u32)>, usize) {
    let mut labels: Vec<u32> = pairs.clone().flat_map(|(a, b)| [a, b]).collect();
    labels.sort_unstable();
    labels.dedup();
    let index = |label: u32| labels.binary_search(&label).unwrap_or(0) as u32;
    let dense = pairs.map(|(a, b)| (index(a), index(b))).collect();
    (dense, labels.len())
}

/// 95 % interval over resamplings of the fingers of the share of
/// impostor comparisons `(finger a, finger b, counted)` that are counted
/// (say, above a threshold): a comparison of fingers `u` and `v` weighs
/// `c_u * c_v`, as in [`SubsetBootstrap`].
pub fn impostor_share_interval(comparisons: &[(u32, u32, bool)]) -> Interval {
    let (dense, n_fingers) = dense_fingers(comparisons.iter().map(|c| (c.0, c.1)));
    let shares: Vec<f64> = finger_draws(n_fingers, REPLICATES, SEED)
        .iter()
        .map(|draws| {
            let (mut counted, mut all) = (0.0, 0.0);
            for (&(a, b), c) in dense.iter().zip(comparisons) {
                let w = f64::from(draws[a as usize]) * f64::from(draws[b as usize]);
                all += w;
                if c.2 {
                    counted += w;
                }
            }
            if all > 0.0 { counted / all } else { 0.0 }
        })
        .collect();
    Interval::of(&shares)
}

/// The comparisons of one experiment, sorted by score, with each finger
/// label replaced by a dense index.
#[derive(Debug, Clone)]
pub struct SubsetBootstrap {
    /// `(score, finger index a, finger index b)` ascending by score.
    sorted: Vec<(f64, u32, u32)>,
    n_fingers: usize,
}

impl SubsetBootstrap {
    pub fn new(scores: &[LabelledScore]) -> Self {
        let (dense, n_fingers) = dense_fingers(scores.iter().map(|s| (s.finger_a, s.finger_b)));
        let mut sorted: Vec<(f64, u32, u32)> = scores
            .iter()
            .zip(dense)
            .map(|(s, (a, b))| (s.score, a, b))
            .collect();
        sorted.sort_by(|x, y| x.0.total_cmp(&y.0));
        Self { sorted, n_fingers }
    }

    /// EER and FMR1000 of `replicates` resamplings of the fingers, drawn
    /// from `seed`.
    pub fn replicates(&self, replicates: usize, seed: u64) -> Replicates {
        let mut out = Replicates::default();
        for draws in finger_draws(self.n_fingers, replicates, seed) {
            let (eer, fmr1000) = self.figures(&draws);
            out.eer.push(eer);
            out.fmr1000.push(fmr1000);
        }
        out
    }

    /// EER and FMR1000 with finger `i` drawn `draws[i]` times.
    pub fn figures(&self, draws: &[u32]) -> (f64, f64) {
        let weight = |a: u32, b: u32| {
            let (ca, cb) = (draws[a as usize], draws[b as usize]);
            if a == b {
                (f64::from(ca), 0.0)
            } else {
                (0.0, f64::from(ca) * f64::from(cb))
            }
        };
        let (mut genuine_total, mut impostor_total) = (0.0, 0.0);
        for &(_, a, b) in &self.sorted {
            let (g, i) = weight(a, b);
            genuine_total += g;
            impostor_total += i;
        }
        let rate = |weight: f64, total: f64| if total > 0.0 { weight / total } else { 0.0 };
        // Thresholds at every distinct score, ascending, then one above all:
        // the genuine weight below the threshold and the impostor weight at
        // or above it, as `Scores::det` counts them.
        let allowed = 0.001 * impostor_total + 1e-9;
        let (mut genuine_below, mut impostor_below) = (0.0, 0.0);
        let (mut best_gap, mut eer) = (f64::INFINITY, 0.0);
        let mut fmr1000 = None;
        let mut i = 0;
        loop {
            let impostor_at_or_above = impostor_total - impostor_below;
            let (fmr, fnmr) = (
                rate(impostor_at_or_above, impostor_total),
                rate(genuine_below, genuine_total),
            );
            let gap = (fmr - fnmr).abs();
            if gap < best_gap {
                best_gap = gap;
                eer = (fmr + fnmr) / 2.0;
            }
            if fmr1000.is_none() && impostor_at_or_above <= allowed {
                fmr1000 = Some(fnmr);
            }
            if i == self.sorted.len() {
                break;
            }
            // The next distinct score (equal as `Scores::det`'s dedup
            // compares), taken below the following threshold.
            let t = self.sorted[i].0;
            loop {
                let (_, a, b) = self.sorted[i];
                let (g, imp) = weight(a, b);
                genuine_below += g;
                impostor_below += imp;
                i += 1;
                if i == self.sorted.len() || self.sorted[i].0 != t {
                    break;
                }
            }
        }
        (eer, fmr1000.unwrap_or(1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hoviyat_engine::metrics::Scores;
    use proptest::prelude::*;

    /// Ten fingers, `per` impressions each, all pairs; genuine scores drawn
    /// from `genuine`, impostor scores from `impostor`, in pair order.
    fn all_pairs(per: u32, genuine: &[f64], impostor: &[f64]) -> Vec<LabelledScore> {
        let labels: Vec<u32> = (0..10)
            .flat_map(|f| std::iter::repeat_n(100 + f, per as usize))
            .collect();
        let (mut g, mut i) = (genuine.iter().cycle(), impostor.iter().cycle());
        let mut out = Vec::new();
        for a in 0..labels.len() {
            for b in a + 1..labels.len() {
                let same = labels[a] == labels[b];
                let score = if same { g.next() } else { i.next() };
                out.push(LabelledScore {
                    finger_a: labels[a],
                    finger_b: labels[b],
                    score: *score.unwrap_or(&0.0),
                });
            }
        }
        out
    }

    fn split(scores: &[LabelledScore]) -> (Vec<f64>, Vec<f64>) {
        let genuine = scores
            .iter()
            .filter(|s| s.finger_a == s.finger_b)
            .map(|s| s.score)
            .collect();
        let impostor = scores
            .iter()
            .filter(|s| s.finger_a != s.finger_b)
            .map(|s| s.score)
            .collect();
        (genuine, impostor)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Every finger drawn once: the point figures, bit for bit, ties
        /// included (scores on a coarse grid).
        #[test]
        fn one_draw_of_every_finger_gives_the_point_figures(
            genuine in prop::collection::vec(0u8..40, 1..30),
            impostor in prop::collection::vec(0u8..40, 1..30),
            per in 2u32..6,
        ) {
            let genuine: Vec<f64> = genuine.iter().map(|&v| f64::from(v) / 4.0).collect();
            let impostor: Vec<f64> = impostor.iter().map(|&v| f64::from(v) / 8.0).collect();
            let scores = all_pairs(per, &genuine, &impostor);
            let (g, i) = split(&scores);
            let point = Scores::new(&g, &i);
            let (eer, fmr1000) = SubsetBootstrap::new(&scores).figures(&[1; 10]);
            prop_assert_eq!(eer, point.eer());
            prop_assert_eq!(fmr1000, point.fnmr_at_fmr(0.001));
        }
    }

    #[test]
    fn a_finger_drawn_twice_counts_its_pairs_as_a_dataset_with_it_twice() {
        // Fingers 1 and 2 with two impressions each: genuine 0.9 and 0.2,
        // impostors all 0.5. Drawing finger 2 twice and finger 1 never
        // leaves genuine {0.2, 0.2} and no impostor pair: a threshold at 0.2
        // makes neither error.
        let s = |a, b, score| LabelledScore {
            finger_a: a,
            finger_b: b,
            score,
        };
        let scores = [
            s(1, 1, 0.9),
            s(2, 2, 0.2),
            s(1, 2, 0.5),
            s(1, 2, 0.5),
            s(2, 1, 0.5),
            s(2, 1, 0.5),
        ];
        let boot = SubsetBootstrap::new(&scores);
        assert_eq!(boot.figures(&[0, 2]), (0.0, 0.0));
        // Both drawn once: genuine {0.2, 0.9} against impostors at 0.5.
        let point = Scores::new(&[0.9, 0.2], &[0.5; 4]);
        assert_eq!(
            boot.figures(&[1, 1]),
            (point.eer(), point.fnmr_at_fmr(0.001))
        );
        // Finger 1 drawn twice, finger 2 once: the 0.9 genuine counts twice,
        // each impostor pair twice.
        let point = Scores::new(&[0.9, 0.9, 0.2], &[0.5; 8]);
        assert_eq!(
            boot.figures(&[2, 1]),
            (point.eer(), point.fnmr_at_fmr(0.001))
        );
    }

    #[test]
    fn intervals_hold_the_point_figure_and_repeat_with_the_seed() {
        // Genuine scores spread so that some fingers fail and others not.
        let genuine: Vec<f64> = (0..37).map(|k| f64::from((k * 7) % 37) / 10.0).collect();
        let impostor: Vec<f64> = (0..53).map(|k| f64::from((k * 11) % 53) / 20.0).collect();
        let scores = all_pairs(4, &genuine, &impostor);
        let (g, i) = split(&scores);
        let point = Scores::new(&g, &i).eer();
        let replicates = SubsetBootstrap::new(&scores).replicates(REPLICATES, SEED);
        let interval = replicates.eer_interval();
        assert!(
            interval.low < point && point < interval.high,
            "{interval:?} around {point}"
        );
        // Same seed, same interval.
        let again = SubsetBootstrap::new(&scores).replicates(REPLICATES, SEED);
        assert_eq!(again.eer_interval(), interval);
        // The mean of a set with itself is the set.
        let mean = Replicates::mean_of(&[&replicates, &replicates]);
        assert_eq!(mean.eer_interval(), interval);
    }

    #[test]
    fn an_impostor_share_interval_weighs_pairs_by_both_fingers_draws() {
        // Three fingers; only comparisons with finger 3 are counted, 2 of 3.
        let comparisons = [(1, 2, false), (1, 3, true), (2, 3, true)];
        let interval = impostor_share_interval(&comparisons);
        // A replicate without finger 3 counts none, one without finger 1 or
        // 2 (finger 3 drawn with one other) counts all.
        assert_eq!((interval.low, interval.high), (0.0, 1.0));
        // Every comparison counted: every replicate with any impostor pair
        // says 1 (those drawing one finger three times have none: 0).
        let all = impostor_share_interval(&[(1, 2, true), (1, 3, true), (2, 3, true)]);
        assert_eq!(all.high, 1.0);
    }

    #[test]
    fn a_paired_difference_sees_what_separate_intervals_hide() {
        // A second system scoring every pair 0.3 higher except one genuine
        // pair of finger 100 that it lowers: its EER differs from the
        // first's in every replicate by at most that one pair, so the paired
        // interval is far narrower than either system's own.
        let genuine: Vec<f64> = (0..37).map(|k| f64::from((k * 7) % 37) / 10.0).collect();
        let impostor: Vec<f64> = (0..53).map(|k| f64::from((k * 11) % 53) / 20.0).collect();
        let first = all_pairs(4, &genuine, &impostor);
        let mut second: Vec<LabelledScore> = first
            .iter()
            .map(|s| LabelledScore {
                score: s.score + 0.3,
                ..*s
            })
            .collect();
        second[0].score = -1.0;
        let a = SubsetBootstrap::new(&first).replicates(REPLICATES, SEED);
        let b = SubsetBootstrap::new(&second).replicates(REPLICATES, SEED);
        let own = a.eer_interval();
        let paired = b.minus(&a).eer_interval();
        assert!(paired.low >= 0.0, "{paired:?}");
        assert!(
            paired.high - paired.low < (own.high - own.low) / 4.0,
            "paired {paired:?} own {own:?}"
        );
    }
}
