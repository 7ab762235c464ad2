//! DAPI bleed-through into the probe channels. The counterstain's emission
//! tail leaks into the orange and green filters, so the probe images carry a
//! faint copy of the chromatin texture, whose fine grain competes with faint
//! signals at the PSF scale. The leak is linear (spectral crosstalk), so it
//! is estimated as the least-squares slope of the band-passed probe image on
//! the band-passed DAPI image inside nuclei (signals left out) and
//! subtracted: the one-coefficient version of linear unmixing.

use crate::filters::gaussian_filter;
use ndarray::Array2;

/// Crosstalk coefficient of `dapi` into `probe` (clipped to 0..=0.5):
/// slope of band-pass(probe) on band-pass(dapi) over pixels inside nuclei
/// whose probe band-pass is within 3 robust SDs (signals excluded). The
/// band-pass (`G(sigma) - G(3 sigma)`) keeps the PSF-to-chromatin scales
/// where crosstalk hurts and drops smooth autofluorescence, which is not
/// proportional to DAPI. 0 when there are too few nuclear pixels.
pub fn dapi_crosstalk(
    probe: &Array2<f32>,
    dapi: &Array2<f32>,
    labels: &Array2<u32>,
    sigma: f64,
) -> f64 {
    crosstalk_on_bands(&band_pass(probe, sigma), &band_pass(dapi, sigma), labels)
}

/// The band-pass of [`dapi_crosstalk`]: `G(sigma) - G(3 sigma)`.
pub fn band_pass(a: &Array2<f32>, sigma: f64) -> Array2<f32> {
    let mut s = gaussian_filter(a, sigma);
    let c = gaussian_filter(a, 3.0 * sigma);
    s.zip_mut_with(&c, |x, y| *x -= *y);
    s
}

/// [`dapi_crosstalk`] with both band-passes computed by the caller
/// ([`band_pass`] of the probe, `bt`, and of DAPI, `bd`, at one sigma):
/// the pipeline shares DAPI's between the probes and the probe's with
/// the registration (register.rs).
pub fn crosstalk_on_bands(bt: &Array2<f32>, bd: &Array2<f32>, labels: &Array2<u32>) -> f64 {
    let inside: Vec<f32> = bt
        .iter()
        .zip(labels.iter())
        .filter(|(_, &l)| l != 0)
        .map(|(&v, _)| v)
        .collect();
    if inside.len() < 1000 {
        return 0.0;
    }
    let sd = super::detect::robust_sd(&inside).max(1e-6);
    let (mut sxy, mut sxx) = (0.0f64, 0.0f64);
    for ((&t, &d), &l) in bt.iter().zip(bd.iter()).zip(labels.iter()) {
        if l != 0 && t.abs() <= 3.0 * sd {
            sxy += t as f64 * d as f64;
            sxx += d as f64 * d as f64;
        }
    }
    if sxx <= 0.0 {
        return 0.0;
    }
    (sxy / sxx).clamp(0.0, 0.5)
}

/// `probe - beta x dapi`.
pub fn subtract(probe: &Array2<f32>, dapi: &Array2<f32>, beta: f64) -> Array2<f32> {
    let mut out = probe.clone();
    if beta > 0.0 {
        out.zip_mut_with(dapi, |p, d| *p -= beta as f32 * *d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_known_leak() {
        let mut rng = crate::rng::Rng::new(9, 2);
        let dapi = Array2::from_shape_fn((80, 80), |_| 1000.0 + 300.0 * rng.uniform() as f32);
        let dapi = gaussian_filter(&dapi, 1.0);
        let noise = Array2::from_shape_fn((80, 80), |_| 20.0 * rng.uniform() as f32);
        let mut probe = noise.clone();
        probe.zip_mut_with(&dapi, |p, d| *p += 0.04 * *d + 250.0);
        let labels = Array2::from_elem((80, 80), 1u32);
        let beta = dapi_crosstalk(&probe, &dapi, &labels, 1.5);
        assert!((beta - 0.04).abs() < 0.01, "{beta}");
    }
}
