//! Local background of the DAPI channel: the median of the pixels that are
//! not nuclei, in blocks a few nuclei wide, interpolated smoothly. Robust to
//! uneven illumination and to dense tissue (a block without enough
//! background borrows from its nearest neighbours), as the background step
//! of CellProfiler's "IdentifyPrimaryObjects" (adaptive, per-block).

use super::resample::upsample_bilinear;
use super::threshold::median;
use ndarray::Array2;

/// Background map of `img` (same size) from the pixels where `foreground`
/// is false, over square blocks of `block` pixels. A block needs 5 % of its
/// pixels as background to give a value; blocks without one take the mean of
/// their nearest valued blocks; a field without any background gets 0.
pub fn block_background(img: &Array2<f32>, foreground: &Array2<bool>, block: usize) -> Array2<f32> {
    let (h, w) = img.dim();
    let block = block.max(4);
    let (bh, bw) = (h.div_ceil(block), w.div_ceil(block));
    let mut grid = Array2::<f32>::from_elem((bh, bw), f32::NAN);
    let mut buf = Vec::new();
    for by in 0..bh {
        for bx in 0..bw {
            buf.clear();
            let (y0, x0) = (by * block, bx * block);
            let (y1, x1) = ((y0 + block).min(h), (x0 + block).min(w));
            for y in y0..y1 {
                for x in x0..x1 {
                    if !foreground[[y, x]] {
                        buf.push(img[[y, x]]);
                    }
                }
            }
            if buf.len() * 20 >= (y1 - y0) * (x1 - x0) {
                grid[[by, bx]] = median(&buf).unwrap_or(f32::NAN);
            }
        }
    }
    if grid.iter().all(|v| v.is_nan()) {
        return Array2::zeros((h, w));
    }
    // Fill empty blocks from valued neighbours, ring by ring.
    while grid.iter().any(|v| v.is_nan()) {
        let prev = grid.clone();
        for by in 0..bh {
            for bx in 0..bw {
                if !prev[[by, bx]].is_nan() {
                    continue;
                }
                let (mut s, mut n) = (0.0f32, 0);
                for dy in -1i64..=1 {
                    for dx in -1i64..=1 {
                        let (y, x) = (by as i64 + dy, bx as i64 + dx);
                        if y < 0 || x < 0 || y >= bh as i64 || x >= bw as i64 {
                            continue;
                        }
                        let v = prev[[y as usize, x as usize]];
                        if !v.is_nan() {
                            s += v;
                            n += 1;
                        }
                    }
                }
                if n > 0 {
                    grid[[by, bx]] = s / n as f32;
                }
            }
        }
    }
    upsample_bilinear(&grid, block, h, w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_a_gradient_and_ignores_foreground() {
        let img = Array2::from_shape_fn((64, 64), |(_, x)| {
            if (20..30).contains(&x) {
                1000.0
            } else {
                x as f32
            }
        });
        let fg = img.mapv(|v| v >= 1000.0);
        let bg = block_background(&img, &fg, 16);
        assert!(bg[[32, 24]] < 100.0, "{}", bg[[32, 24]]);
        assert!(bg[[32, 56]] > bg[[32, 8]]);
    }
}
