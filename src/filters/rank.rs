//! Minimum and maximum filters over square windows (van Herk / Gil-Werman,
//! O(1) per pixel whatever the window), and the grey opening built on them.
//! Border handling: the window is clipped to the image (as
//! `scipy.ndimage.minimum_filter` with mode "nearest" gives the same result
//! for min/max).

use ndarray::Array2;
use rayon::prelude::*;

fn filter_1d(src: &[f32], out: &mut [f32], radius: usize, take_min: bool) {
    let n = src.len();
    if n == 0 {
        return;
    }
    let op = |a: f32, b: f32| if take_min { a.min(b) } else { a.max(b) };
    let w = 2 * radius + 1;
    // Pad with the edge value so every window is full (clipped-window result).
    let pad_v0 = src[0];
    let pad_v1 = src[n - 1];
    let len = n + 2 * radius;
    let get = |i: usize| -> f32 {
        if i < radius {
            pad_v0
        } else if i >= radius + n {
            pad_v1
        } else {
            src[i - radius]
        }
    };
    let mut g = vec![0f32; len];
    let mut h = vec![0f32; len];
    for start in (0..len).step_by(w) {
        let end = (start + w).min(len);
        g[start] = get(start);
        for i in start + 1..end {
            g[i] = op(g[i - 1], get(i));
        }
        h[end - 1] = get(end - 1);
        for i in (start..end - 1).rev() {
            h[i] = op(h[i + 1], get(i));
        }
    }
    for (x, o) in out.iter_mut().enumerate() {
        // Window [x, x + 2r] in padded coordinates.
        *o = op(h[x], g[x + 2 * radius]);
    }
}

fn filter_rows(src: &Array2<f32>, radius: usize, take_min: bool) -> Array2<f32> {
    let (h, w) = src.dim();
    let src = src.as_standard_layout();
    let s = src.as_slice().expect("standard layout");
    let mut out = Array2::<f32>::zeros((h, w));
    out.as_slice_mut()
        .unwrap()
        .par_chunks_mut(w.max(1))
        .zip(s.par_chunks(w.max(1)))
        .for_each(|(o, i)| filter_1d(i, o, radius, take_min));
    out
}

fn filter_2d(src: &Array2<f32>, radius: usize, take_min: bool) -> Array2<f32> {
    let r = filter_rows(src, radius, take_min);
    let t = super::gaussian::transpose(&r);
    let c = filter_rows(&t, radius, take_min);
    super::gaussian::transpose(&c)
}

/// Minimum over a `(2 radius + 1)`-square window.
pub fn minimum_filter(src: &Array2<f32>, radius: usize) -> Array2<f32> {
    filter_2d(src, radius, true)
}

/// Maximum over a `(2 radius + 1)`-square window.
pub fn maximum_filter(src: &Array2<f32>, radius: usize) -> Array2<f32> {
    filter_2d(src, radius, false)
}

/// Grey opening (erosion then dilation) with a square of side
/// `2 radius + 1`: removes bright structures smaller than the square and
/// keeps the background under them (the background of a white top-hat).
pub fn grey_opening(src: &Array2<f32>, radius: usize) -> Array2<f32> {
    maximum_filter(&minimum_filter(src, radius), radius)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(src: &Array2<f32>, r: usize, take_min: bool) -> Array2<f32> {
        let (h, w) = src.dim();
        Array2::from_shape_fn((h, w), |(y, x)| {
            let mut v = if take_min { f32::MAX } else { f32::MIN };
            for yy in y.saturating_sub(r)..=(y + r).min(h - 1) {
                for xx in x.saturating_sub(r)..=(x + r).min(w - 1) {
                    v = if take_min {
                        v.min(src[[yy, xx]])
                    } else {
                        v.max(src[[yy, xx]])
                    };
                }
            }
            v
        })
    }

    #[test]
    fn matches_brute_force() {
        let mut rng = crate::rng::Rng::new(3, 0);
        let a = Array2::from_shape_fn((23, 37), |_| rng.uniform() as f32);
        for r in [0, 1, 2, 5, 20] {
            assert_eq!(minimum_filter(&a, r), brute(&a, r, true), "min r={r}");
            assert_eq!(maximum_filter(&a, r), brute(&a, r, false), "max r={r}");
        }
    }

    #[test]
    fn opening_removes_small_bright_spots() {
        let mut a = Array2::<f32>::from_elem((30, 30), 10.0);
        a[[15, 15]] = 100.0;
        a[[15, 16]] = 100.0;
        let o = grey_opening(&a, 2);
        assert!(o.iter().all(|&v| v == 10.0));
    }
}

/// Order-preserving map of an f32 to a u32: `key(a) < key(b)` exactly when
/// `a.total_cmp(&b)` is `Less` (negative numbers have every bit flipped,
/// positive ones their sign bit), so integer comparisons sort floats.
#[inline]
fn order_key(v: f32) -> u32 {
    let b = v.to_bits();
    if b & 0x8000_0000 != 0 {
        !b
    } else {
        b | 0x8000_0000
    }
}

/// Inverse of [`order_key`].
#[inline]
fn from_order_key(k: u32) -> f32 {
    f32::from_bits(if k & 0x8000_0000 != 0 {
        k & 0x7fff_ffff
    } else {
        !k
    })
}

/// One output row of [`median_filter`], after Huang's sliding-histogram
/// median (Huang, Yang & Tang 1979) on the top 16 bits of the order keys:
/// the histogram of the window's coarse bins is updated column by column
/// as the window slides right, the bin holding the median is tracked from
/// one pixel to the next, and only the window's values in that bin (a few)
/// are compared to pick the exact median; with `interpolate`, the median
/// is instead placed inside that bin by its rank there (no window scan,
/// [`median_filter_approx`]). `hist` is all zeros on entry and on return;
/// `buf` is scratch space.
#[allow(clippy::too_many_arguments)]
fn median_row(
    keys: &[u32],
    w: usize,
    h: usize,
    y: usize,
    radius: usize,
    hist: &mut [u32],
    buf: &mut Vec<u32>,
    row: &mut [f32],
    interpolate: bool,
) {
    let coarse = |k: u32| (k >> 16) as usize;
    let y0 = y.saturating_sub(radius);
    let y1 = (y + radius).min(h - 1);
    let column = |x: usize| (y0..=y1).map(move |yy| keys[yy * w + x]);
    // Current median bin and the number of window values in lower bins.
    let mut m = coarse(keys[y0 * w]);
    let mut below = 0usize;
    let mut n = 0usize;
    let (mut next_in, mut next_out) = (0usize, 0usize);
    for (x, o) in row.iter_mut().enumerate() {
        let x0 = x.saturating_sub(radius);
        let x1 = (x + radius).min(w - 1);
        while next_in <= x1 {
            for k in column(next_in) {
                let c = coarse(k);
                hist[c] += 1;
                below += usize::from(c < m);
            }
            n += y1 - y0 + 1;
            next_in += 1;
        }
        while next_out < x0 {
            for k in column(next_out) {
                let c = coarse(k);
                hist[c] -= 1;
                below -= usize::from(c < m);
            }
            n -= y1 - y0 + 1;
            next_out += 1;
        }
        // The bin holding the value of rank n / 2.
        let t = n / 2;
        while below > t {
            m -= 1;
            below -= hist[m] as usize;
        }
        while below + hist[m] as usize <= t {
            below += hist[m] as usize;
            m += 1;
        }
        if interpolate {
            // Within the bin, the ranks are spread evenly: the key at
            // rank t lies that far into the bin's key range (keys are
            // linear in the value within one bin of one exponent).
            let frac = ((t - below) as f64 + 0.5) / hist[m] as f64;
            let k = ((m as u64) << 16) + (frac * 65536.0) as u64;
            *o = from_order_key(k.min(u32::MAX as u64) as u32);
            continue;
        }
        // Gather the bin's values without branches: write every value,
        // advance only past those in the bin.
        buf.resize(n + 1, 0);
        let mut j = 0;
        for yy in y0..=y1 {
            for &k in &keys[yy * w + x0..=yy * w + x1] {
                buf[j] = k;
                j += usize::from(coarse(k) == m);
            }
        }
        let (_, v, _) = buf[..j].select_nth_unstable(t - below);
        *o = from_order_key(*v);
    }
    // Leave the histogram empty for the next row.
    for x in next_out..next_in {
        for k in column(x) {
            hist[coarse(k)] -= 1;
        }
    }
}

/// Median over a `(2 radius + 1)`-square window (window clipped at the
/// image border), as `scipy.ndimage.median_filter` but with clipped rather
/// than reflected borders. Edge-preserving: a step edge survives, a bright
/// feature smaller than half the window disappears. Parallel over rows.
/// Of an even count (clipped windows), the upper of the two middle values.
/// Values are compared as integer order keys (the order of
/// `f32::total_cmp`) with a sliding coarse histogram ([`median_row`]).
pub fn median_filter(src: &Array2<f32>, radius: usize) -> Array2<f32> {
    median_filter_impl(src, radius, false)
}

/// [`median_filter`] to within a fraction of one coarse bin: the bin that
/// holds the median is found exactly, and the median inside it is
/// interpolated from its rank instead of selected from the window's
/// values. A bin spans 1/128 of a power of two (2 ADU for values 256-511,
/// 8 for 1024-2047), far below the noise of a fluorescence image, and the
/// per-pixel scan of the whole window, most of the exact filter's time, is
/// gone.
pub fn median_filter_approx(src: &Array2<f32>, radius: usize) -> Array2<f32> {
    median_filter_impl(src, radius, true)
}

fn median_filter_impl(src: &Array2<f32>, radius: usize, interpolate: bool) -> Array2<f32> {
    let (h, w) = src.dim();
    let mut out = Array2::<f32>::zeros((h, w));
    if h == 0 || w == 0 {
        return out;
    }
    let keys: Vec<u32> = src.iter().map(|&v| order_key(v)).collect();
    out.as_slice_mut()
        .expect("fresh array is contiguous")
        .par_chunks_mut(w)
        .enumerate()
        .for_each_init(
            || (vec![0u32; 1 << 16], Vec::new()),
            |(hist, buf), (y, row)| median_row(&keys, w, h, y, radius, hist, buf, row, interpolate),
        );
    out
}

#[cfg(test)]
mod median_tests {
    use super::*;

    #[test]
    fn order_keys_sort_like_total_cmp_and_invert() {
        let v = [
            f32::NEG_INFINITY,
            -1e30,
            -2.5,
            -0.0,
            0.0,
            1e-40,
            3.0,
            f32::INFINITY,
        ];
        for a in v {
            assert_eq!(from_order_key(order_key(a)).to_bits(), a.to_bits());
            for b in v {
                assert_eq!(order_key(a).cmp(&order_key(b)), a.total_cmp(&b), "{a} {b}");
            }
        }
    }

    #[test]
    fn approximate_median_stays_within_its_bin() {
        // Noisy fluorescence-like values (a background of 400 ADU, SD 20,
        // a step and a few bright spots), and negative ones.
        let mut rng = crate::rng::Rng::new(9, 0);
        let img = Array2::from_shape_fn((40, 50), |(y, x)| {
            let step = if x > 25 { 300.0 } else { 0.0 };
            let spot = if (x % 13, y % 11) == (6, 5) {
                2000.0
            } else {
                0.0
            };
            (400.0 + step + spot + 20.0 * rng.normal()) as f32
        });
        let neg = img.mapv(|v| v - 900.0);
        for a in [&img, &neg] {
            for r in [1, 3, 5] {
                let exact = median_filter(a, r);
                let approx = median_filter_approx(a, r);
                for (e, q) in exact.iter().zip(approx.iter()) {
                    // One coarse bin: 1/128 of the value's power of two.
                    let bin = 2f32.powi(e.abs().log2().floor() as i32) / 128.0;
                    assert!((e - q).abs() <= bin, "exact {e} approx {q}");
                }
            }
        }
    }

    #[test]
    fn median_matches_sorting_every_window() {
        let mut rng = crate::rng::Rng::new(5, 0);
        let spread = Array2::from_shape_fn((19, 26), |_| (rng.uniform() * 200.0 - 50.0) as f32);
        // Values sharing one coarse bin, and many ties.
        let narrow = Array2::from_shape_fn((19, 26), |_| 1000.0 + (rng.uniform() * 0.01) as f32);
        let ties = Array2::from_shape_fn((19, 26), |_| (rng.uniform() * 4.0).floor() as f32 - 1.0);
        for (a, r) in [0, 1, 3, 7, 30]
            .into_iter()
            .flat_map(|r| [(&spread, r), (&narrow, r), (&ties, r)])
        {
            let m = median_filter(a, r);
            for y in 0..19usize {
                for x in 0..26usize {
                    let mut v: Vec<f32> = Vec::new();
                    for yy in y.saturating_sub(r)..=(y + r).min(18) {
                        for xx in x.saturating_sub(r)..=(x + r).min(25) {
                            v.push(a[[yy, xx]]);
                        }
                    }
                    v.sort_by(|p, q| p.total_cmp(q));
                    assert_eq!(m[[y, x]], v[v.len() / 2], "r={r} ({x},{y})");
                }
            }
        }
    }

    #[test]
    fn median_keeps_edges_and_removes_spots() {
        let mut a =
            Array2::<f32>::from_shape_fn((20, 20), |(_, x)| if x < 10 { 0.0 } else { 50.0 });
        a[[5, 3]] = 1000.0;
        let m = median_filter(&a, 2);
        assert_eq!(m[[5, 3]], 0.0);
        assert_eq!(m[[10, 9]], 0.0);
        assert_eq!(m[[10, 10]], 50.0);
    }
}
