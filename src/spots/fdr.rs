//! Field-wise false discovery control of the detection threshold.
//!
//! The detector keeps maxima of the PSF-matched filter above a fixed number
//! of noise SDs. Noise alone crosses any such level somewhere: treated as a
//! Gaussian-smoothed random field, the filter output has an expected number
//! of maxima above `u` SDs of
//! `area x lambda / (2 pi)^1.5 x u x exp(-u^2 / 2)`, with
//! `lambda = 1 / (2 sigma^2)` for a Gaussian filter of sigma `sigma` px on
//! white noise (the Euler characteristic density of random-field theory;
//! Adler 1981, Worsley et al. 1996). Inside the nuclei of a typical field at
//! 4.5 SDs that is one or two maxima: negligible beside hundreds of real
//! signals, but ALL of what a probe channel holding only background shows.
//!
//! The threshold therefore rises, per field and channel, to the lowest level
//! at which the expected noise maxima are at most a share `q` of the
//! signals counted inside nuclei (Benjamini & Hochberg 1995's step-up rule,
//! with the expected count from the random field instead of p-values). A
//! channel with hundreds of signals keeps the base threshold exactly; a
//! channel whose detections are no more than noise keeps none of them.

/// Expected number of maxima above `u` SDs of a Gaussian-smoothed white
/// noise field (filter sigma `sigma` px) over `area` px.
pub fn expected_noise_maxima(area: f64, sigma: f64, u: f64) -> f64 {
    if sigma <= 0.0 || area <= 0.0 {
        return 0.0;
    }
    let lambda = 1.0 / (2.0 * sigma * sigma);
    area * lambda / (2.0 * std::f64::consts::PI).powf(1.5) * u * (-0.5 * u * u).exp()
}

/// The detection threshold (SDs) for significances `z` of the candidate
/// signals inside nuclei (`area` px of nuclei, filter sigma `sigma` px):
/// the lowest `u >= base` at which the expected noise maxima above `u` are at
/// most `q` of the candidates at or above `u`. Returns infinity when no
/// level qualifies (nothing but noise), `base` when the base level already
/// does.
pub fn fdr_threshold(z: &[f64], area: f64, sigma: f64, base: f64, q: f64) -> f64 {
    let mut s: Vec<f64> = z.iter().copied().filter(|&v| v >= base).collect();
    s.sort_by(|a, b| b.total_cmp(a));
    // Step-up: the largest k (lowest threshold) whose estimated false
    // discovery share passes.
    for k in (1..=s.len()).rev() {
        let u = if k == s.len() { base } else { s[k - 1] };
        if expected_noise_maxima(area, sigma, u) <= q * k as f64 {
            return u;
        }
    }
    f64::INFINITY
}

/// The level (SDs, at most `base`) down to which candidates inside nuclei
/// that the detector found under `base` are kept: the `u` that maximises
/// `C(u) - 2 E(u)`, with `C(u)` the candidates in `[u, base)` and `E(u)` the
/// noise maxima expected there. Candidates whose expected share of noise
/// (the local false discovery rate, Efron 2001) is under one half are
/// more likely signals than not, and each one kept makes the expected
/// count error smaller; where the candidates under `base` are no more
/// numerous than the noise expected there (the best gain under one
/// signal), the level stays at `base`.
///
/// A noise maximum under `base` is a candidate only where the detector's
/// own (block-wise) threshold let it through: `levels` holds that threshold
/// in the same SDs at sampled nuclear pixels, each sample standing for
/// `area / levels.len()` pixels, and `E(u)` counts the maxima in
/// `[max(u, t), base)` at each. Levels under 1 SD (where the expected
/// count stops rising as the level falls) are not considered.
pub fn local_floor(z: &[f64], levels: &[f64], area: f64, sigma: f64, base: f64) -> f64 {
    if levels.is_empty() {
        return base;
    }
    let weight = area / levels.len() as f64;
    let rho = |v: f64| expected_noise_maxima(1.0, sigma, v);
    let rho_base = rho(base);
    // Detector thresholds under the base, ascending, with suffix sums of
    // the noise maxima expected between each and the base.
    let mut t: Vec<f64> = levels.iter().copied().filter(|&v| v < base).collect();
    t.sort_by(|a, b| a.total_cmp(b));
    let mut tail = vec![0.0; t.len() + 1];
    for i in (0..t.len()).rev() {
        tail[i] = tail[i + 1] + rho(t[i].max(1.0)) - rho_base;
    }
    let expected = |u: f64| {
        let below = t.partition_point(|&v| v < u);
        weight * (below as f64 * (rho(u) - rho_base) + tail[below])
    };
    let mut s: Vec<f64> = z.iter().copied().filter(|&v| v < base && v > 1.0).collect();
    s.sort_by(|a, b| b.total_cmp(a));
    // A level is worth leaving the base for only when it gains at least
    // one expected signal net of the noise it lets in (a single noise
    // maximum a little above its expected level must not move it).
    let mut best = (0.0, base);
    for (k, &u) in s.iter().enumerate() {
        let gain = (k + 1) as f64 - 2.0 * expected(u);
        if gain >= 1.0 && gain > best.0 {
            best = (gain, u);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_count_matches_smoothed_noise() {
        // Maxima of smoothed white noise above 3 SDs on a 1024^2 field,
        // counted, against the formula (within Poisson and lattice error).
        let n = 1024;
        let sigma = 2.0;
        let mut rng = crate::rng::Rng::new(7, 1);
        let img = ndarray::Array2::from_shape_fn((n, n), |_| rng.normal() as f32);
        let sm = crate::filters::gaussian_filter(&img, sigma);
        let sd = crate::spots::detect::robust_sd(sm.as_slice().unwrap()) as f64;
        let u = 3.0;
        let thr = ndarray::Array2::from_elem((n, n), (u * sd) as f32);
        let count = crate::spots::detect::peak_local_max(&sm, &thr, 1).len() as f64;
        let expected = expected_noise_maxima((n * n) as f64, sigma, u);
        assert!(
            (count - expected).abs() < 0.25 * expected,
            "{count} vs {expected}"
        );
    }

    #[test]
    fn many_signals_keep_the_base_threshold() {
        let z: Vec<f64> = (0..300).map(|i| 4.5 + 0.1 * i as f64).collect();
        let area = 100.0 * 6000.0;
        assert_eq!(fdr_threshold(&z, area, 1.5, 4.5, 0.05), 4.5);
    }

    #[test]
    fn noise_only_channel_keeps_nothing() {
        // Seven candidates just over the base level where about two noise
        // maxima are expected: none is a credible signal.
        let area = 90.0 * 6400.0;
        let e = expected_noise_maxima(area, 1.5, 4.5);
        assert!(e > 1.0 && e < 5.0, "{e}");
        let z = [4.55, 4.6, 4.7, 4.8, 4.9, 5.0, 5.1];
        assert_eq!(fdr_threshold(&z, area, 1.5, 4.5, 0.05), f64::INFINITY);
        // One clear signal among them survives alone.
        let z = [4.55, 4.6, 4.7, 4.8, 4.9, 5.0, 12.0];
        assert_eq!(fdr_threshold(&z, area, 1.5, 4.5, 0.05), 12.0);
    }

    #[test]
    fn faint_signals_lower_the_floor_noise_does_not() {
        let area = 90.0 * 6400.0;
        let sigma = 1.5;
        // The detector's own threshold at 3 SDs over every nuclear pixel.
        let levels = vec![3.0; 1000];
        let e = |u: f64| {
            expected_noise_maxima(area, sigma, u) - expected_noise_maxima(area, sigma, 4.5)
        };
        // Under 4.5 SDs: exactly the noise maxima expected between 3.8 and
        // 4.5, each at the level above which i + 1/2 of them are expected:
        // the floor stays at the base.
        let n = e(3.8).round() as usize;
        assert!(n >= 5, "{n}");
        let level = |k: f64| {
            let (mut lo, mut hi) = (3.0, 4.5);
            for _ in 0..60 {
                let mid = 0.5 * (lo + hi);
                if e(mid) > k {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            0.5 * (lo + hi)
        };
        let noise: Vec<f64> = (0..n).map(|i| level(i as f64 + 0.5)).collect();
        assert_eq!(local_floor(&noise, &levels, area, sigma, 4.5), 4.5);
        // Add 60 faint signals between 4.0 and 4.5: the floor comes down
        // to keep them, and not below where the noise dominates.
        let mut z = noise.clone();
        z.extend((0..60).map(|i| 4.0 + 0.5 * i as f64 / 60.0));
        let u = local_floor(&z, &levels, area, sigma, 4.5);
        assert!((3.8..=4.0 + 1e-9).contains(&u), "{u}");
        // Candidates above the base are not its business.
        let mut z2 = noise.clone();
        z2.extend([5.0, 8.0, 20.0]);
        assert_eq!(local_floor(&z2, &levels, area, sigma, 4.5), 4.5);
        // Where the detector's threshold is at 4.4 SDs over nine tenths
        // of the nuclei, a tenth of the noise is expected between 3.8 and
        // 4.4: the same candidates are now mostly more than that, and the
        // floor comes down.
        let mut patchy = vec![4.4; 900];
        patchy.extend(vec![3.0; 100]);
        assert!(local_floor(&noise, &patchy, area, sigma, 4.5) < 4.0);
    }
}
