//! Exact Euclidean distance transform (`distance_transform_edt` in
//! scipy.ndimage terms), by the separable lower-envelope algorithm of
//! Felzenszwalb & Huttenlocher, "Distance transforms of sampled functions",
//! Theory of Computing 8 (2012). O(N), parallel over rows and columns.

use ndarray::Array2;
use rayon::prelude::*;

/// Squared distance transform of one line in place: `f[i]` is 0 or
/// `f64::INFINITY` (or any sampled function) on entry, the lower envelope of
/// the parabolas `f[j] + (i - j)^2` on exit.
fn dt_1d(f: &mut [f64], v: &mut [usize], z: &mut [f64], d: &mut [f64]) {
    let n = f.len();
    if n == 0 {
        return;
    }
    // Skip lines with no finite sample (nothing to propagate).
    if f.iter().all(|x| x.is_infinite()) {
        return;
    }
    let mut k = 0usize;
    // First finite sample starts the envelope.
    let first = f.iter().position(|x| x.is_finite()).unwrap_or(0);
    v[0] = first;
    z[0] = f64::NEG_INFINITY;
    z[1] = f64::INFINITY;
    for q in first + 1..n {
        if f[q].is_infinite() {
            continue;
        }
        loop {
            let p = v[k];
            let s = ((f[q] + (q * q) as f64) - (f[p] + (p * p) as f64)) / (2.0 * (q - p) as f64);
            // z[0] is -inf, so k never goes below 0.
            if s <= z[k] {
                k -= 1;
                continue;
            }
            k += 1;
            v[k] = q;
            z[k] = s;
            z[k + 1] = f64::INFINITY;
            break;
        }
    }
    k = 0;
    for (q, dq) in d.iter_mut().enumerate().take(n) {
        while z[k + 1] < q as f64 {
            k += 1;
        }
        let p = v[k];
        let dx = q as f64 - p as f64;
        *dq = dx * dx + f[p];
    }
    f.copy_from_slice(&d[..n]);
}

fn rows_pass(data: &mut Array2<f64>) {
    let w = data.ncols().max(1);
    data.as_slice_mut()
        .expect("standard layout")
        .par_chunks_mut(w)
        .for_each(|row| {
            let n = row.len();
            let mut v = vec![0usize; n];
            let mut z = vec![0f64; n + 1];
            let mut d = vec![0f64; n];
            dt_1d(row, &mut v, &mut z, &mut d);
        });
}

/// Squared Euclidean distance (in pixels^2) from every pixel to the nearest
/// pixel where `is_source` is true. Pixels beyond the image are not sources
/// (as scipy's `distance_transform_edt`). An image without any source gives
/// `f64::INFINITY` everywhere.
pub fn squared_distance_to(is_source: &Array2<bool>) -> Array2<f64> {
    let (h, w) = is_source.dim();
    // Columns first (on the transpose, so lines are contiguous).
    let mut t = Array2::from_shape_fn((w, h), |(x, y)| {
        if is_source[[y, x]] {
            0.0
        } else {
            f64::INFINITY
        }
    });
    rows_pass(&mut t);
    let mut r = t.t().as_standard_layout().into_owned();
    rows_pass(&mut r);
    r
}

/// Euclidean distance transform of a binary mask: for each foreground
/// (`true`) pixel, the distance in pixels to the nearest background pixel;
/// 0 on background. As `scipy.ndimage.distance_transform_edt(mask)`.
pub fn distance_transform_edt(mask: &Array2<bool>) -> Array2<f32> {
    let bg = mask.mapv(|m| !m);
    let sq = squared_distance_to(&bg);
    sq.mapv(|v| {
        if v.is_finite() {
            v.sqrt() as f32
        } else {
            f32::MAX
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(mask: &Array2<bool>) -> Array2<f32> {
        let (h, w) = mask.dim();
        Array2::from_shape_fn((h, w), |(y, x)| {
            if !mask[[y, x]] {
                return 0.0;
            }
            let mut best = f64::INFINITY;
            for yy in 0..h {
                for xx in 0..w {
                    if !mask[[yy, xx]] {
                        let d = ((yy as f64 - y as f64).powi(2) + (xx as f64 - x as f64).powi(2))
                            .sqrt();
                        best = best.min(d);
                    }
                }
            }
            if best.is_finite() {
                best as f32
            } else {
                f32::MAX
            }
        })
    }

    #[test]
    fn matches_brute_force_on_random_masks() {
        let mut rng = crate::rng::Rng::new(5, 1);
        for density in [0.05, 0.3, 0.7, 0.97] {
            let m = Array2::from_shape_fn((19, 27), |_| rng.uniform() > density);
            let got = distance_transform_edt(&m);
            let want = brute(&m);
            for (a, b) in got.iter().zip(want.iter()) {
                assert!((a - b).abs() < 1e-4, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn disc_centre_distance_is_its_radius() {
        let m = Array2::from_shape_fn((41, 41), |(y, x)| {
            ((y as f64 - 20.0).powi(2) + (x as f64 - 20.0).powi(2)).sqrt() <= 12.0
        });
        let d = distance_transform_edt(&m);
        // Nearest outside pixel: (12, 1) from the centre.
        assert!(
            (d[[20, 20]] - 145f32.sqrt()).abs() < 1e-4,
            "{}",
            d[[20, 20]]
        );
        assert_eq!(d[[0, 0]], 0.0);
    }
}
