//! Confidence interval of the pooled ratio: a nonparametric bootstrap over
//! nuclei with the percentile interval (Efron & Tibshirani, "An
//! Introduction to the Bootstrap", 1993, ch. 13).
//!
//! Resample `b` (0-based) draws `n` nuclei with replacement from the `n`
//! enumerated ones with its own SplitMix64 stream, whose state starts at
//! `mix64(mix64(seed XOR BOOTSTRAP_SALT) XOR b)`; each draw adds
//! `GOLDEN_GAMMA` to the state, outputs `mix64(state)` and takes the index
//! `output mod n`. The streams are independent of each other, so the
//! resamples can run on any number of threads with the same result, and
//! the report's JavaScript can reproduce them with `BigInt`.

use super::enumerate::{mix64, GOLDEN_GAMMA};
use rayon::prelude::*;

/// Salt that separates the bootstrap streams from the enumeration order.
pub const BOOTSTRAP_SALT: u64 = 0xB007_5743_A9D0_C1E5;

/// Pooled ratio `sum(target) / sum(control)`; `None` when the control
/// total is 0 (undefined or infinite).
pub fn pooled_ratio(counts: &[(u32, u32)]) -> Option<f64> {
    let t: u64 = counts.iter().map(|c| c.0 as u64).sum();
    let c: u64 = counts.iter().map(|c| c.1 as u64).sum();
    (c > 0).then(|| t as f64 / c as f64)
}

/// The nuclei drawn (indices in `0..n`, with replacement) by bootstrap
/// resample `b`: SplitMix64 started at `mix64(mix64(seed ^ BOOTSTRAP_SALT)
/// ^ b)`, index = output mod n (bias below n / 2^64).
pub fn resample_indices(n: usize, seed: u64, b: u64) -> impl Iterator<Item = usize> {
    let mut state = mix64(mix64(seed ^ BOOTSTRAP_SALT) ^ b);
    let m = (n as u64).max(1);
    (0..n).map(move |_| {
        state = state.wrapping_add(GOLDEN_GAMMA);
        (mix64(state) % m) as usize
    })
}

/// The pooled ratio of bootstrap resample `b`: `+inf` when the resample
/// has no control signal but some target signal, `None` when it has
/// neither (such resamples are left out of the interval).
pub fn resample_ratio(counts: &[(u32, u32)], seed: u64, b: u64) -> Option<f64> {
    let (mut t, mut c) = (0u64, 0u64);
    for i in resample_indices(counts.len(), seed, b) {
        let (ti, ci) = counts.get(i).copied().unwrap_or((0, 0));
        t += ti as u64;
        c += ci as u64;
    }
    match (t, c) {
        (0, 0) => None,
        (_, 0) => Some(f64::INFINITY),
        _ => Some(t as f64 / c as f64),
    }
}

/// Quantile `q` in `[0, 1]` of sorted values by linear interpolation
/// between order statistics (Hyndman & Fan type 7, numpy's default):
/// `h = (len-1) q`, `x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h])`.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let (a, b) = (*sorted.get(lo)?, *sorted.get(hi)?);
    if lo == hi || a == b {
        return Some(a);
    }
    Some(a + (h - lo as f64) * (b - a))
}

/// 95 % percentile bootstrap interval `[q 0.025, q 0.975]` of the pooled
/// ratio over `counts` (target, control per nucleus), with `resamples`
/// resamples. `None` with no nuclei, no resamples, or a non-finite end
/// (when resamples without control signals reach the 2.5 % tails).
pub fn ratio_ci95(counts: &[(u32, u32)], seed: u64, resamples: usize) -> Option<[f64; 2]> {
    if counts.is_empty() || resamples == 0 {
        return None;
    }
    let mut ratios: Vec<f64> = (0..resamples as u64)
        .into_par_iter()
        .filter_map(|b| resample_ratio(counts, seed, b))
        .collect();
    ratios.sort_by(f64::total_cmp);
    let lo = quantile_sorted(&ratios, 0.025)?;
    let hi = quantile_sorted(&ratios, 0.975)?;
    (lo.is_finite() && hi.is_finite()).then_some([lo, hi])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts_2_98() -> Vec<(u32, u32)> {
        // 50 nuclei, 143 target and 48 control signals.
        (0..50u32)
            .map(|i| (2 + u32::from(i < 43), u32::from(i < 48)))
            .collect()
    }

    #[test]
    fn resample_stream_matches_an_independent_implementation() {
        // Values computed with a separate Python implementation of the
        // documented stream (docs/scoring.md).
        let first: Vec<usize> = resample_indices(50, 0, 0).take(5).collect();
        assert_eq!(first, vec![32, 35, 37, 16, 24]);
        assert_eq!(resample_indices(0, 0, 0).count(), 0);
    }

    #[test]
    fn quantiles() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile_sorted(&x, 0.0), Some(1.0));
        assert_eq!(quantile_sorted(&x, 0.5), Some(3.0));
        assert_eq!(quantile_sorted(&x, 1.0), Some(5.0));
        assert_eq!(quantile_sorted(&x, 0.1), Some(1.4));
        assert_eq!(quantile_sorted(&[], 0.5), None);
    }

    #[test]
    fn deterministic_and_independent_of_threads() {
        let counts: Vec<(u32, u32)> = (0..60u32).map(|i| (1 + i % 5, 1 + i % 3)).collect();
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| ratio_ci95(&counts, 42, 2000))
        };
        let one = run(1);
        assert!(one.is_some());
        assert_eq!(one, run(4));
        assert_eq!(one, ratio_ci95(&counts, 42, 2000));
        assert_ne!(one, ratio_ci95(&counts, 43, 2000));
    }

    #[test]
    fn interval_brackets_the_ratio_and_narrows_with_constant_nuclei() {
        let counts = counts_2_98();
        let r = pooled_ratio(&counts).unwrap();
        let [lo, hi] = ratio_ci95(&counts, 1, 2000).unwrap();
        assert!(lo < r && r < hi, "{lo} {r} {hi}");
        // Identical nuclei: every resample has the same ratio.
        let same = vec![(4u32, 2u32); 30];
        assert_eq!(ratio_ci95(&same, 1, 500), Some([2.0, 2.0]));
    }

    #[test]
    fn zero_control_does_not_panic() {
        assert_eq!(pooled_ratio(&[(3, 0), (2, 0)]), None);
        assert_eq!(ratio_ci95(&[(3, 0), (2, 0)], 1, 100), None);
        assert_eq!(ratio_ci95(&[(0, 0)], 1, 100), None);
        assert_eq!(ratio_ci95(&[], 1, 100), None);
        assert_eq!(resample_ratio(&[(3, 0)], 1, 0), Some(f64::INFINITY));
    }
}
