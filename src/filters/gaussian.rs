//! Separable Gaussian smoothing (as `scipy.ndimage.gaussian_filter`, mode
//! "reflect", kernel truncated at 4 sigma).
//!
//! Rows are filtered in parallel; every output pixel is computed from the
//! same inputs in the same order whatever the thread count, so results are
//! bit-identical with 1 or N threads.

use ndarray::Array2;
use rayon::prelude::*;

/// Normalised 1-D Gaussian kernel of standard deviation `sigma` (pixels),
/// radius `ceil(4 sigma)`. `sigma <= 0` gives the identity kernel `[1.0]`.
pub fn gaussian_kernel(sigma: f64) -> Vec<f32> {
    if sigma <= 0.0 || !sigma.is_finite() {
        return vec![1.0];
    }
    let radius = (4.0 * sigma).ceil() as i64;
    let mut k: Vec<f64> = (-radius..=radius)
        .map(|i| libm::exp(-((i * i) as f64) / (2.0 * sigma * sigma)))
        .collect();
    let s: f64 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= s);
    k.into_iter().map(|v| v as f32).collect()
}

/// Reflects an index into `0..n` like scipy's "reflect" mode
/// (`d c b a | a b c d | d c b a`).
#[inline]
pub fn reflect_index(i: i64, n: usize) -> usize {
    let n = n as i64;
    if n == 1 {
        return 0;
    }
    let period = 2 * n;
    let mut m = i.rem_euclid(period);
    if m >= n {
        m = period - 1 - m;
    }
    m as usize
}

/// Convolves one row (`src`, length `w`) with `kernel` into `out`, with
/// scipy's "reflect" border. `padded` is scratch space. Each output pixel
/// is the sum over the kernel taps in tap order, accumulated tap by tap
/// over the whole row so the loop vectorises across pixels (the same
/// operations in the same order per pixel as a per-pixel dot product).
fn convolve_row(src: &[f32], out: &mut [f32], kernel: &[f32], padded: &mut Vec<f32>) {
    let w = src.len();
    let r = (kernel.len() / 2) as i64;
    padded.clear();
    padded.extend((-r..(w as i64 + r)).map(|i| src[reflect_index(i, w)]));
    // Blocks of CHUNK pixels accumulate every tap in registers and are
    // stored once (the same sum in the same tap order per pixel).
    let mut start = 0;
    for block in out.chunks_exact_mut(CHUNK) {
        let mut acc = [0.0f32; CHUNK];
        for (j, &kj) in kernel.iter().enumerate() {
            let a = &padded[start + j..start + j + CHUNK];
            for (o, &v) in acc.iter_mut().zip(a) {
                *o += v * kj;
            }
        }
        block.copy_from_slice(&acc);
        start += CHUNK;
    }
    let tail = &mut out[start..];
    tail.fill(0.0);
    for (j, &kj) in kernel.iter().enumerate() {
        for (o, &a) in tail.iter_mut().zip(&padded[start + j..]) {
            *o += a * kj;
        }
    }
}

/// Pixels per register block of the convolutions.
const CHUNK: usize = 32;

/// Convolves every row of `src` with `kernel` (odd length, centred), writing
/// into a new array. Parallel over rows.
pub fn convolve_rows(src: &Array2<f32>, kernel: &[f32]) -> Array2<f32> {
    let (h, w) = src.dim();
    let mut out = Array2::<f32>::zeros((h, w));
    if w == 0 || h == 0 {
        return out;
    }
    let src = src.as_standard_layout();
    let src = src.as_slice().expect("standard layout");
    out.as_slice_mut()
        .expect("fresh array is contiguous")
        .par_chunks_mut(w)
        .zip(src.par_chunks(w))
        .for_each_init(Vec::new, |padded, (orow, irow)| {
            convolve_row(irow, orow, kernel, padded)
        });
    out
}

/// Convolves every column of `src` with `kernel` (odd length, centred,
/// "reflect" border) without transposing: each output row is the
/// tap-weighted sum of whole input rows, accumulated in tap order.
/// Parallel over output rows.
pub fn convolve_columns(src: &Array2<f32>, kernel: &[f32]) -> Array2<f32> {
    let (h, w) = src.dim();
    let mut out = Array2::<f32>::zeros((h, w));
    if w == 0 || h == 0 {
        return out;
    }
    let r = (kernel.len() / 2) as i64;
    let src = src.as_standard_layout();
    let src = src.as_slice().expect("standard layout");
    out.as_slice_mut()
        .expect("fresh array is contiguous")
        .par_chunks_mut(w)
        .enumerate()
        .for_each(|(y, orow)| {
            let rows: Vec<usize> = (0..kernel.len())
                .map(|j| reflect_index(y as i64 + j as i64 - r, h) * w)
                .collect();
            let mut start = 0;
            for block in orow.chunks_exact_mut(CHUNK) {
                let mut acc = [0.0f32; CHUNK];
                for (&kj, &row) in kernel.iter().zip(&rows) {
                    let a = &src[row + start..row + start + CHUNK];
                    for (o, &v) in acc.iter_mut().zip(a) {
                        *o += v * kj;
                    }
                }
                block.copy_from_slice(&acc);
                start += CHUNK;
            }
            for (&kj, &row) in kernel.iter().zip(&rows) {
                let irow = &src[row + start..row + w];
                for (o, &a) in orow[start..].iter_mut().zip(irow) {
                    *o += a * kj;
                }
            }
        });
    out
}

/// Transposes a 2-D array into a new standard-layout array.
pub fn transpose(a: &Array2<f32>) -> Array2<f32> {
    a.t().as_standard_layout().into_owned()
}

/// Gaussian filter with standard deviation `sigma` pixels along both axes:
/// rows, then columns (no transposition). Identical, bit for bit, to
/// convolving the rows, transposing, convolving the rows and transposing
/// back, with any number of threads.
pub fn gaussian_filter(src: &Array2<f32>, sigma: f64) -> Array2<f32> {
    if sigma <= 0.0 {
        return src.clone();
    }
    let k = gaussian_kernel(sigma);
    convolve_columns(&convolve_rows(src, &k), &k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_sums_to_one_and_is_symmetric() {
        let k = gaussian_kernel(1.5);
        let s: f32 = k.iter().sum();
        assert!((s - 1.0).abs() < 1e-6);
        for i in 0..k.len() / 2 {
            assert_eq!(k[i], k[k.len() - 1 - i]);
        }
        assert_eq!(k.len(), 2 * 6 + 1);
    }

    #[test]
    fn reflect_matches_scipy() {
        // scipy reflect: d c b a | a b c d | d c b a
        let n = 4;
        let got: Vec<usize> = (-4..8).map(|i| reflect_index(i, n)).collect();
        assert_eq!(got, vec![3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0]);
    }

    /// The former implementation: per-pixel dot products, rows, transpose,
    /// rows, transpose back.
    fn reference(src: &Array2<f32>, sigma: f64) -> Array2<f32> {
        let k = gaussian_kernel(sigma);
        let r = (k.len() / 2) as i64;
        let rows = |a: &Array2<f32>| {
            let (h, w) = a.dim();
            Array2::from_shape_fn((h, w), |(y, x)| {
                let mut acc = 0.0f32;
                for (j, kj) in k.iter().enumerate() {
                    acc += a[[y, reflect_index(x as i64 + j as i64 - r, w)]] * kj;
                }
                acc
            })
        };
        transpose(&rows(&transpose(&rows(src))))
    }

    #[test]
    fn identical_to_the_transposing_implementation() {
        let mut rng = crate::rng::Rng::new(7, 0);
        for (h, w) in [(1, 1), (3, 17), (40, 33), (64, 5), (9, 100), (70, 64)] {
            let a = Array2::from_shape_fn((h, w), |_| (rng.uniform() * 1000.0) as f32);
            for sigma in [0.7, 1.5, 4.0, 12.0] {
                assert_eq!(
                    gaussian_filter(&a, sigma),
                    reference(&a, sigma),
                    "{h}x{w} s={sigma}"
                );
            }
        }
    }

    #[test]
    fn blur_preserves_constant_and_mass_of_centred_impulse() {
        let c = Array2::<f32>::from_elem((20, 30), 7.0);
        let b = gaussian_filter(&c, 2.0);
        assert!(b.iter().all(|v| (v - 7.0).abs() < 1e-4));

        let mut d = Array2::<f32>::zeros((41, 41));
        d[[20, 20]] = 1.0;
        let b = gaussian_filter(&d, 2.0);
        let s: f32 = b.iter().sum();
        assert!((s - 1.0).abs() < 1e-5);
        // Peak of a 2-D Gaussian of unit mass: 1 / (2 pi sigma^2).
        let peak = 1.0 / (2.0 * std::f32::consts::PI * 4.0);
        assert!((b[[20, 20]] - peak).abs() / peak < 0.01);
        // Isotropic.
        assert!((b[[20, 23]] - b[[23, 20]]).abs() < 1e-7);
    }
}
