//! Changing resolution: block averaging down (`skimage.transform.downscale_local_mean`),
//! nearest-neighbour label upsampling and bilinear upsampling of smooth maps.

use ndarray::Array2;
use rayon::prelude::*;

/// Mean over `f x f` blocks; partial blocks at the right and bottom edges
/// are averaged over the pixels they hold. `f = 1` copies.
pub fn bin_mean(src: &Array2<f32>, f: usize) -> Array2<f32> {
    if f <= 1 {
        return src.clone();
    }
    let (h, w) = src.dim();
    let (bh, bw) = (h.div_ceil(f), w.div_ceil(f));
    let mut out = Array2::<f32>::zeros((bh, bw));
    out.as_slice_mut()
        .expect("fresh array")
        .par_chunks_mut(bw)
        .enumerate()
        .for_each(|(by, row)| {
            let y0 = by * f;
            let y1 = (y0 + f).min(h);
            for (bx, o) in row.iter_mut().enumerate() {
                let x0 = bx * f;
                let x1 = (x0 + f).min(w);
                let mut s = 0.0f64;
                for y in y0..y1 {
                    for x in x0..x1 {
                        s += src[[y, x]] as f64;
                    }
                }
                *o = (s / ((y1 - y0) * (x1 - x0)) as f64) as f32;
            }
        });
    out
}

/// Label image upsampled by `f` (nearest neighbour) to `(h, w)`.
pub fn upsample_labels(src: &Array2<u32>, f: usize, h: usize, w: usize) -> Array2<u32> {
    if f <= 1 && src.dim() == (h, w) {
        return src.clone();
    }
    let (sh, sw) = src.dim();
    Array2::from_shape_fn((h, w), |(y, x)| {
        src[[(y / f).min(sh - 1), (x / f).min(sw - 1)]]
    })
}

/// A smooth map sampled on `f x f` blocks (value at each block centre),
/// bilinearly interpolated to `(h, w)` full-resolution pixels.
pub fn upsample_bilinear(src: &Array2<f32>, f: usize, h: usize, w: usize) -> Array2<f32> {
    if f <= 1 && src.dim() == (h, w) {
        return src.clone();
    }
    let (sh, sw) = src.dim();
    let fc = f as f64;
    let coord = |i: usize, n: usize| -> (usize, usize, f32) {
        // Block k's centre sits at full-res coordinate k f + (f - 1) / 2.
        let s = ((i as f64 - (fc - 1.0) / 2.0) / fc).clamp(0.0, (n - 1) as f64);
        let i0 = s.floor() as usize;
        let i1 = (i0 + 1).min(n - 1);
        (i0, i1, (s - i0 as f64) as f32)
    };
    let cols: Vec<(usize, usize, f32)> = (0..w).map(|x| coord(x, sw)).collect();
    let mut out = Array2::<f32>::zeros((h, w));
    out.as_slice_mut()
        .expect("fresh array")
        .par_chunks_mut(w.max(1))
        .enumerate()
        .for_each(|(y, row)| {
            let (y0, y1, ty) = coord(y, sh);
            for (x, o) in row.iter_mut().enumerate() {
                let (x0, x1, tx) = cols[x];
                let a = src[[y0, x0]] * (1.0 - tx) + src[[y0, x1]] * tx;
                let b = src[[y1, x0]] * (1.0 - tx) + src[[y1, x1]] * tx;
                *o = a * (1.0 - ty) + b * ty;
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binning_averages_blocks() {
        let a = Array2::from_shape_fn((5, 5), |(y, x)| (y * 5 + x) as f32);
        let b = bin_mean(&a, 2);
        assert_eq!(b.dim(), (3, 3));
        assert_eq!(b[[0, 0]], (0.0 + 1.0 + 5.0 + 6.0) / 4.0);
        assert_eq!(b[[2, 2]], 24.0);
    }

    #[test]
    fn bilinear_keeps_a_ramp() {
        let a = Array2::from_shape_fn((4, 4), |(_, x)| x as f32);
        let u = upsample_bilinear(&a, 2, 8, 8);
        // Full-res x maps to block coordinate (x - 0.5) / 2.
        assert!((u[[3, 3]] - 1.25).abs() < 1e-6);
        let l = Array2::from_shape_fn((2, 2), |(y, x)| (y * 2 + x) as u32);
        let ul = upsample_labels(&l, 3, 5, 6);
        assert_eq!(ul[[4, 5]], 3);
        assert_eq!(ul[[2, 2]], 0);
    }
}
