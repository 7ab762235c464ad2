//! Automatic thresholds (`skimage.filters.threshold_otsu`) and robust
//! quantiles.

/// Otsu's threshold (Otsu 1979, "A threshold selection method from
/// gray-level histograms"): the level that maximises the between-class
/// variance of a 1024-bin histogram spanning the 0.1-99.9 % quantiles of
/// `values` (the clipped range keeps a few hot pixels from squeezing the
/// histogram). `None` for fewer than two distinct values.
pub fn threshold_otsu(values: &[f32]) -> Option<f32> {
    if values.len() < 2 {
        return None;
    }
    let lo = quantile(values, 0.001)?;
    let hi = quantile(values, 0.999)?;
    if hi <= lo {
        return None;
    }
    const BINS: usize = 1024;
    let scale = (BINS as f32) / (hi - lo);
    let mut hist = [0u64; BINS];
    for &v in values {
        let b = (((v - lo) * scale) as isize).clamp(0, BINS as isize - 1) as usize;
        hist[b] += 1;
    }
    let total: u64 = hist.iter().sum();
    let sum_all: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, &c)| i as f64 * c as f64)
        .sum();
    let (mut w0, mut sum0) = (0u64, 0.0f64);
    let (mut best, mut best_i) = (-1.0f64, 0usize);
    for (i, &c) in hist.iter().enumerate() {
        w0 += c;
        sum0 += i as f64 * c as f64;
        let w1 = total - w0;
        if w0 == 0 || w1 == 0 {
            continue;
        }
        let m0 = sum0 / w0 as f64;
        let m1 = (sum_all - sum0) / w1 as f64;
        let between = w0 as f64 * w1 as f64 * (m0 - m1).powi(2);
        if between > best {
            best = between;
            best_i = i;
        }
    }
    Some(lo + (best_i as f32 + 1.0) / scale)
}

/// The `q`-quantile (0..=1) of `values` by selection (nearest rank).
pub fn quantile(values: &[f32], q: f64) -> Option<f32> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    let k = ((q.clamp(0.0, 1.0) * (v.len() - 1) as f64).round() as usize).min(v.len() - 1);
    let (_, m, _) = v.select_nth_unstable_by(k, |a, b| a.total_cmp(b));
    Some(*m)
}

/// Median of `values` (nearest rank).
pub fn median(values: &[f32]) -> Option<f32> {
    quantile(values, 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otsu_splits_two_modes() {
        let mut v = vec![10.0f32; 500];
        v.extend(vec![100.0f32; 300]);
        for (i, x) in v.iter_mut().enumerate() {
            *x += (i % 7) as f32;
        }
        let t = threshold_otsu(&v).unwrap();
        assert!(t > 16.0 && t <= 100.0, "{t}");
    }

    #[test]
    fn quantiles() {
        let v: Vec<f32> = (0..101).map(|i| i as f32).collect();
        assert_eq!(median(&v), Some(50.0));
        assert_eq!(quantile(&v, 0.1), Some(10.0));
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(threshold_otsu(&[3.0, 3.0, 3.0]), None);
    }
}
