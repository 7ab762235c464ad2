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
}
