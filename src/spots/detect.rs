//! Spot detection in one probe channel: difference-of-Gaussians response at
//! the PSF scale, a local robust noise map, and local maxima above a
//! threshold expressed in noise units (so it needs no per-slide tuning:
//! it scales with the image's own intensity and noise).

use crate::filters::gaussian_filter;
use ndarray::Array2;
use rayon::prelude::*;

/// Difference of Gaussians `G(sigma) - G(k sigma)`: a band-pass that keeps
/// PSF-sized spots and removes smooth background (autofluorescence,
/// bleed-through) and most texture coarser than `k sigma`. Also returns the
/// `G(sigma)`-smoothed image.
pub fn difference_of_gaussians(
    img: &Array2<f32>,
    sigma: f64,
    k: f64,
) -> (Array2<f32>, Array2<f32>) {
    let s1 = gaussian_filter(img, sigma);
    let s2 = gaussian_filter(img, k * sigma);
    let mut d = s1.clone();
    d.zip_mut_with(&s2, |a, b| *a -= *b);
    (d, s1)
}

/// Median of a slice (copied; NaN-free input).
pub fn median(v: &mut [f32]) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, |a, b| a.total_cmp(b));
    *m
}

/// Robust standard deviation (1.4826 x median absolute deviation).
pub fn robust_sd(v: &[f32]) -> f32 {
    median_and_robust_sd(&mut v.to_vec()).1
}

/// Median and robust SD of `v` (reordered and overwritten) with one
/// median selection shared by both.
pub fn median_and_robust_sd(v: &mut [f32]) -> (f32, f32) {
    if v.is_empty() {
        return (0.0, 0.0);
    }
    let m = median(v);
    for x in v.iter_mut() {
        *x = (*x - m).abs();
    }
    (m, 1.4826 * median(v))
}

/// Median of `v` (reordered and overwritten) and its standard error:
/// 1.2533 x the robust SD / sqrt n, the large-sample error of a median of
/// Gaussian values.
pub fn median_and_se(v: &mut [f32]) -> (f64, f64) {
    let n = v.len();
    let (m, sd) = median_and_robust_sd(v);
    (m as f64, 1.2533 * sd as f64 / (n.max(1) as f64).sqrt())
}

/// Median and the noise SD from the lower half alone: the median minus the
/// 15.87 % quantile (one SD under the mean of a Gaussian). Signals only
/// ever add to a response, so where they are a sizeable share of the
/// pixels (coarse pixels, amplified nuclei) they widen the upper half and
/// the MAD with it, but not the distance from the median down.
pub fn median_and_lower_sd(v: &mut [f32]) -> (f32, f32) {
    if v.is_empty() {
        return (0.0, 0.0);
    }
    let m = median(v);
    let k = ((v.len() as f64 * 0.158_655) as usize).min(v.len() - 1);
    let (_, q, _) = v.select_nth_unstable_by(k, |a, b| a.total_cmp(b));
    (m, (m - *q).max(0.0))
}

/// Local level and noise of `img`: the median and the robust SD in square
/// blocks of `block` px, bilinearly interpolated between block centres.
/// Spots are sparse, so the median-based estimates ignore them; uneven
/// background (and its shot noise, which grows with autofluorescence) is
/// followed block by block. Returns `(median, sd)` maps.
pub fn local_stats(img: &Array2<f32>, block: usize) -> (Array2<f32>, Array2<f32>) {
    let (h, w) = img.dim();
    let block = block.max(8);
    let by = h.div_ceil(block);
    let bx = w.div_ceil(block);
    let cells: Vec<(f32, f32)> = (0..by * bx)
        .into_par_iter()
        .map(|c| {
            let (cy, cx) = (c / bx, c % bx);
            let y0 = cy * block;
            let x0 = cx * block;
            let mut v = Vec::with_capacity(block * block);
            for y in y0..(y0 + block).min(h) {
                for x in x0..(x0 + block).min(w) {
                    v.push(img[[y, x]]);
                }
            }
            median_and_robust_sd(&mut v)
        })
        .collect();
    // A floor at half the field's median block noise keeps blank blocks
    // (saturated or flat) from giving a zero threshold.
    let mut sds: Vec<f32> = cells.iter().map(|c| c.1).collect();
    let med = median(&mut sds).max(1e-6);
    let cells: Vec<(f32, f32)> = cells.iter().map(|&(m, s)| (m, s.max(0.5 * med))).collect();
    let mut lvl = Array2::<f32>::zeros((h, w));
    let mut out = Array2::<f32>::zeros((h, w));
    // Column weights are the same on every row: computed once.
    let cols: Vec<(usize, usize, f32)> = (0..w)
        .map(|x| {
            let fx = ((x as f64 + 0.5) / block as f64 - 0.5).clamp(0.0, (bx - 1) as f64);
            let x0 = fx.floor() as usize;
            (x0, (x0 + 1).min(bx - 1), (fx - x0 as f64) as f32)
        })
        .collect();
    lvl.as_slice_mut()
        .unwrap()
        .par_chunks_mut(w.max(1))
        .zip(out.as_slice_mut().unwrap().par_chunks_mut(w.max(1)))
        .enumerate()
        .for_each(|(y, (lrow, row))| {
            let fy = ((y as f64 + 0.5) / block as f64 - 0.5).clamp(0.0, (by - 1) as f64);
            let y0 = fy.floor() as usize;
            let y1 = (y0 + 1).min(by - 1);
            let ty = (fy - y0 as f64) as f32;
            let (r0, r1) = (
                &cells[y0 * bx..(y0 + 1) * bx],
                &cells[y1 * bx..(y1 + 1) * bx],
            );
            for ((l, o), &(x0, x1, tx)) in lrow.iter_mut().zip(row.iter_mut()).zip(&cols) {
                let (c00, c01, c10, c11) = (r0[x0], r0[x1], r1[x0], r1[x1]);
                let a = c00.0 * (1.0 - tx) + c01.0 * tx;
                let b = c10.0 * (1.0 - tx) + c11.0 * tx;
                *l = a * (1.0 - ty) + b * ty;
                let a = c00.1 * (1.0 - tx) + c01.1 * tx;
                let b = c10.1 * (1.0 - tx) + c11.1 * tx;
                *o = a * (1.0 - ty) + b * ty;
            }
        });
    (lvl, out)
}

/// Threshold map `median + k x sd` from [`local_stats`].
pub fn local_threshold(img: &Array2<f32>, block: usize, k: f64) -> Array2<f32> {
    let (mut lvl, sd) = local_stats(img, block);
    lvl.zip_mut_with(&sd, |m, s| *m += k as f32 * *s);
    lvl
}

/// Local maxima of `img` within a `(2 radius + 1)` square whose value
/// exceeds `threshold` at that pixel (as `skimage.feature.peak_local_max`
/// with `exclude_border=False`). Plateaus give one maximum (the first in
/// raster order). Returned as `(x, y)` in raster order.
pub fn peak_local_max(
    img: &Array2<f32>,
    threshold: &Array2<f32>,
    radius: usize,
) -> Vec<(usize, usize)> {
    let (h, w) = img.dim();
    let r = radius.max(1) as i64;
    let rows: Vec<Vec<(usize, usize)>> = (0..h)
        .into_par_iter()
        .map(|y| {
            let mut found = Vec::new();
            for x in 0..w {
                let v = img[[y, x]];
                if v <= threshold[[y, x]] {
                    continue;
                }
                let mut is_max = true;
                'win: for dy in -r..=r {
                    let yy = y as i64 + dy;
                    if yy < 0 || yy >= h as i64 {
                        continue;
                    }
                    for dx in -r..=r {
                        let xx = x as i64 + dx;
                        if xx < 0 || xx >= w as i64 || (dx == 0 && dy == 0) {
                            continue;
                        }
                        let u = img[[yy as usize, xx as usize]];
                        let earlier = dy < 0 || (dy == 0 && dx < 0);
                        if u > v || (u == v && earlier) {
                            is_max = false;
                            break 'win;
                        }
                    }
                }
                if is_max {
                    found.push((x, y));
                }
            }
            found
        })
        .collect();
    rows.into_iter().flatten().collect()
}

/// Edge rejection (Lowe 2004, SIFT section 4.1): a maximum of a
/// difference-of-Gaussians lying on an edge or ridge has one principal
/// curvature much larger than the other. Keeps `(x, y)` when the Hessian
/// of `img` there is negative definite with `tr^2 / det < (r + 1)^2 / r`.
pub fn is_blob(img: &Array2<f32>, x: usize, y: usize, r: f64) -> bool {
    let (h, w) = img.dim();
    if x == 0 || y == 0 || x + 1 >= w || y + 1 >= h {
        return true;
    }
    let v = |dx: i64, dy: i64| img[[(y as i64 + dy) as usize, (x as i64 + dx) as usize]] as f64;
    let dxx = v(1, 0) + v(-1, 0) - 2.0 * v(0, 0);
    let dyy = v(0, 1) + v(0, -1) - 2.0 * v(0, 0);
    let dxy = 0.25 * (v(1, 1) + v(-1, -1) - v(1, -1) - v(-1, 1));
    let tr = dxx + dyy;
    let det = dxx * dyy - dxy * dxy;
    tr < 0.0 && det > 0.0 && tr * tr / det < (r + 1.0).powi(2) / r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_half_sd_ignores_a_crowd_of_bright_values() {
        // Gaussian noise of SD 2 around 10, then a fifth of the samples
        // replaced by bright dots: the lower-half SD stays near 2 while the
        // MAD-based SD grows.
        let mut rng = crate::rng::Rng::new(3, 1);
        let noise: Vec<f32> = (0..20000)
            .map(|_| 10.0 + 2.0 * rng.normal() as f32)
            .collect();
        let (m0, s0) = median_and_lower_sd(&mut noise.clone());
        assert!(
            (m0 - 10.0).abs() < 0.1 && (s0 - 2.0).abs() < 0.1,
            "{m0} {s0}"
        );
        let mut crowded = noise.clone();
        for v in crowded.iter_mut().step_by(5) {
            *v += 30.0;
        }
        let (_, lower) = median_and_lower_sd(&mut crowded.clone());
        let (_, mad) = median_and_robust_sd(&mut crowded.clone());
        assert!((lower - 2.0).abs() < 0.35, "{lower}");
        assert!(mad > lower + 0.4, "{mad} vs {lower}");
    }

    #[test]
    fn robust_sd_of_gaussian_noise_ignores_outliers() {
        let mut rng = crate::rng::Rng::new(1, 1);
        let mut v: Vec<f32> = (0..20000).map(|_| (3.0 * rng.normal()) as f32).collect();
        for x in v.iter_mut().take(500) {
            *x = 1000.0;
        }
        let s = robust_sd(&v);
        assert!((s - 3.0).abs() < 0.15, "{s}");
    }

    #[test]
    fn maxima_one_per_plateau_and_thresholded() {
        let mut a = Array2::<f32>::zeros((10, 10));
        a[[2, 2]] = 5.0;
        a[[2, 3]] = 5.0;
        a[[7, 7]] = 1.0;
        let t = Array2::<f32>::from_elem((10, 10), 2.0);
        assert_eq!(peak_local_max(&a, &t, 1), vec![(2, 2)]);
    }
}
