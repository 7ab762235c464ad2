//! Z-stack projection: a stack of focal planes of one channel becomes one
//! plane. FISH signals sit at different depths of the 4-5 um section, so
//! a single plane misses some of them; a projection brings every signal
//! in focus into one image.
//!
//! - [`max_projection`]: maximum intensity over the planes (the usual
//!   microscope-software projection).
//! - [`edf_projection`]: extended depth of field by local focus selection
//!   (the "variance of Laplacian" / energy-of-Laplacian focus measure,
//!   Pertuz et al. 2013, *Analysis of focus measure operators for
//!   shape-from-focus*, Pattern Recognit. 46:1415; the per-pixel plane
//!   choice of Forster et al. 2004, *Complex wavelets for extended depth-
//!   of-field*, Microsc. Res. Tech. 65:33, here in its simplest spatial
//!   form). Each plane is weighted per pixel by its local focus energy
//!   raised to a power; a high power approaches the hard choice of the
//!   sharpest plane, a low one a focus-weighted mean.
//!
//! Which one is the default was decided by measurement on simulated
//! z-stacks: see docs/formats.md and `examples/zproject_measure.rs`.

use crate::filters::gaussian_filter;
use ndarray::{Array2, Zip};

/// How a z-stack is projected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Projection {
    /// Maximum intensity projection.
    Max,
    /// Extended depth of field ([`edf_projection`] with [`EdfParams::default`]).
    Edf,
}

impl Projection {
    /// "max" or "edf".
    pub fn as_str(self) -> &'static str {
        match self {
            Projection::Max => "max",
            Projection::Edf => "edf",
        }
    }
}

/// Parameters of the extended-depth-of-field projection (lengths in um).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct EdfParams {
    /// Gaussian scale of the Laplacian in um (default 0.15 um: the sigma
    /// of a diffraction-limited FISH signal, FWHM 0.35 um).
    pub scale_um: f64,
    /// Gaussian window over which the focus energy (squared Laplacian) is
    /// averaged, in um (default 0.5 um: about one signal diameter, wide
    /// enough to steady the choice, narrow enough to keep neighbouring
    /// signals at different depths apart).
    pub window_um: f64,
    /// Exponent applied to the focus energy before weighting the planes
    /// (default 4; infinity = take the sharpest plane only).
    pub sharpness: f64,
}

impl Default for EdfParams {
    fn default() -> Self {
        EdfParams {
            scale_um: 0.15,
            window_um: 0.5,
            sharpness: 4.0,
        }
    }
}

/// Maximum over the planes (all of one size). An empty stack gives an
/// empty array.
pub fn max_projection(planes: &[Array2<f32>]) -> Array2<f32> {
    let Some(first) = planes.first() else {
        return Array2::zeros((0, 0));
    };
    let mut out = first.clone();
    for p in &planes[1..] {
        Zip::from(&mut out).and(p).for_each(|a, &b| *a = a.max(b));
    }
    out
}

/// 5-point Laplacian with reflected borders.
fn laplacian(a: &Array2<f32>) -> Array2<f32> {
    let (h, w) = a.dim();
    let mut out = Array2::<f32>::zeros((h, w));
    if h == 0 || w == 0 {
        return out;
    }
    for y in 0..h {
        let ym = y.saturating_sub(1);
        let yp = (y + 1).min(h - 1);
        for x in 0..w {
            let xm = x.saturating_sub(1);
            let xp = (x + 1).min(w - 1);
            out[[y, x]] = a[[ym, x]] + a[[yp, x]] + a[[y, xm]] + a[[y, xp]] - 4.0 * a[[y, x]];
        }
    }
    out
}

/// Local focus energy of one plane: Gaussian-windowed mean of the squared
/// Laplacian of the plane smoothed at `scale_px`.
pub fn focus_energy(plane: &Array2<f32>, scale_px: f64, window_px: f64) -> Array2<f32> {
    let lap = laplacian(&gaussian_filter(plane, scale_px));
    gaussian_filter(&lap.mapv(|v| v * v), window_px)
}

/// Extended-depth-of-field projection of `planes` (all of one size) with
/// pixel size `pixel_size_um`. Every output pixel is the mean of the
/// planes weighted by `energy^sharpness`, energies normalised by their
/// per-pixel maximum (so the sharpest plane has weight 1); with an
/// infinite sharpness, the sharpest plane's value.
pub fn edf_projection(planes: &[Array2<f32>], pixel_size_um: f64, p: &EdfParams) -> Array2<f32> {
    if planes.len() <= 1 {
        return max_projection(planes);
    }
    let scale = p.scale_um / pixel_size_um;
    let window = p.window_um / pixel_size_um;
    let energy: Vec<Array2<f32>> = planes
        .iter()
        .map(|pl| focus_energy(pl, scale, window))
        .collect();
    let mut emax = energy[0].clone();
    for e in &energy[1..] {
        Zip::from(&mut emax).and(e).for_each(|a, &b| *a = a.max(b));
    }
    let (h, w) = planes[0].dim();
    let mut num = Array2::<f64>::zeros((h, w));
    let mut den = Array2::<f64>::zeros((h, w));
    let hard = !p.sharpness.is_finite();
    let mut chosen = Array2::<bool>::from_elem((h, w), false);
    for (pl, e) in planes.iter().zip(&energy) {
        Zip::from(&mut num)
            .and(&mut den)
            .and(&mut chosen)
            .and(pl)
            .and(e)
            .and(&emax)
            .for_each(|n, d, c, &v, &ev, &em| {
                if hard {
                    if !*c && ev >= em {
                        *n = v as f64;
                        *d = 1.0;
                        *c = true;
                    }
                } else {
                    let r = if em > 0.0 { (ev / em) as f64 } else { 1.0 };
                    let wgt = r.powf(p.sharpness);
                    *n += wgt * v as f64;
                    *d += wgt;
                }
            });
    }
    Zip::from(&num)
        .and(&den)
        .map_collect(|&n, &d| if d > 0.0 { (n / d) as f32 } else { 0.0 })
}

/// Projects with the chosen method; a single plane is returned as is.
pub fn project(planes: &[Array2<f32>], pixel_size_um: f64, how: Projection) -> Array2<f32> {
    match how {
        _ if planes.len() == 1 => planes[0].clone(),
        Projection::Max => max_projection(planes),
        Projection::Edf => edf_projection(planes, pixel_size_um, &EdfParams::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spot(w: usize, cx: f64, cy: f64, sigma: f64, amp: f32, bg: f32) -> Array2<f32> {
        Array2::from_shape_fn((w, w), |(y, x)| {
            let d2 = (x as f64 - cx).powi(2) + (y as f64 - cy).powi(2);
            bg + amp * (-d2 / (2.0 * sigma * sigma)).exp() as f32
        })
    }

    #[test]
    fn max_takes_the_brightest_plane_per_pixel() {
        let a = Array2::from_shape_vec((1, 3), vec![1.0, 5.0, 2.0]).unwrap();
        let b = Array2::from_shape_vec((1, 3), vec![4.0, 0.0, 2.0]).unwrap();
        assert_eq!(
            max_projection(&[a, b]).into_raw_vec_and_offset().0,
            vec![4.0, 5.0, 2.0]
        );
    }

    #[test]
    fn edf_keeps_each_spot_from_its_sharp_plane() {
        // Two spots: A sharp in plane 0 and blurred in plane 1, B the reverse.
        let w = 40;
        let p0 = spot(w, 10.0, 10.0, 1.5, 100.0, 10.0) + spot(w, 30.0, 30.0, 5.0, 20.0, 0.0);
        let p1 = spot(w, 10.0, 10.0, 5.0, 20.0, 10.0) + spot(w, 30.0, 30.0, 1.5, 100.0, 0.0);
        for sharp in [4.0, f64::INFINITY] {
            let e = edf_projection(
                &[p0.clone(), p1.clone()],
                0.1,
                &EdfParams {
                    scale_um: 0.15,
                    window_um: 0.3,
                    sharpness: sharp,
                },
            );
            // Each peak within 10 % of its sharp value.
            assert!(
                (e[[10, 10]] - p0[[10, 10]]).abs() < 0.1 * p0[[10, 10]],
                "{sharp}: {}",
                e[[10, 10]]
            );
            assert!(
                (e[[30, 30]] - p1[[30, 30]]).abs() < 0.1 * p1[[30, 30]],
                "{sharp}: {}",
                e[[30, 30]]
            );
        }
    }

    #[test]
    fn edf_of_identical_planes_is_the_plane() {
        let p = spot(20, 9.0, 9.0, 2.0, 50.0, 5.0);
        let e = edf_projection(
            &[p.clone(), p.clone(), p.clone()],
            0.1,
            &EdfParams::default(),
        );
        for (a, b) in e.iter().zip(p.iter()) {
            assert!((a - b).abs() < 1e-3);
        }
        assert_eq!(project(std::slice::from_ref(&p), 0.1, Projection::Edf), p);
    }
}
