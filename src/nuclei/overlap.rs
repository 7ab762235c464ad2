//! Overlapping nuclei. Fluorescence adds up: where one nucleus lies on
//! another, the DAPI is the SUM of both layers, about twice a single layer
//! (domain brief: overlaps are brighter). Double-layer zones ("lenses") are
//! found against the LOCAL single-layer level (a low quantile of the
//! nuclear DAPI within one nucleus radius), taken out of the mask before
//! touching nuclei are split, and afterwards shared between the nuclei
//! around them; every nucleus touching a lens is `overlapping`: its signals
//! cannot be attributed.

use super::morphology::{label, N8};
use ndarray::Array2;
use rayon::prelude::*;
use std::collections::{BTreeSet, VecDeque};

/// Local single-layer DAPI level: the `q`-quantile of `contrast` over the
/// pixels of `mask` within a square window of half-size `radius`, computed
/// on a grid every `step` pixels and interpolated bilinearly. 0 where the
/// window holds no mask pixel.
pub fn local_layer_level(
    contrast: &Array2<f32>,
    mask: &Array2<bool>,
    radius: usize,
    step: usize,
    q: f64,
) -> Array2<f32> {
    let (h, w) = contrast.dim();
    let step = step.max(1);
    let (gh, gw) = (h.div_ceil(step), w.div_ceil(step));
    let mut grid = Array2::<f32>::zeros((gh, gw));
    grid.as_slice_mut()
        .expect("fresh array")
        .par_chunks_mut(gw.max(1))
        .enumerate()
        .for_each(|(gy, row)| {
            let mut buf = Vec::new();
            let cy = (gy * step + step / 2).min(h - 1);
            let (y0, y1) = (cy.saturating_sub(radius), (cy + radius).min(h - 1));
            for (gx, o) in row.iter_mut().enumerate() {
                let cx = (gx * step + step / 2).min(w - 1);
                let (x0, x1) = (cx.saturating_sub(radius), (cx + radius).min(w - 1));
                buf.clear();
                for y in y0..=y1 {
                    for x in x0..=x1 {
                        if mask[[y, x]] {
                            buf.push(contrast[[y, x]]);
                        }
                    }
                }
                *o = super::threshold::quantile(&buf, q).unwrap_or(0.0);
            }
        });
    super::resample::upsample_bilinear(&grid, step, h, w)
}

/// Double-layer zones: mask pixels brighter than `factor` x the local
/// single-layer level, in connected pieces of at least `min_px` pixels.
pub fn double_layer_zones(
    contrast: &Array2<f32>,
    mask: &Array2<bool>,
    level: &Array2<f32>,
    factor: f32,
    min_px: usize,
) -> Array2<bool> {
    let raw = Array2::from_shape_fn(contrast.dim(), |(y, x)| {
        mask[[y, x]] && level[[y, x]] > 0.0 && contrast[[y, x]] > factor * level[[y, x]]
    });
    let (lab, n) = label(&raw);
    let mut sizes = vec![0usize; n as usize + 1];
    for &l in lab.iter() {
        sizes[l as usize] += 1;
    }
    lab.mapv(|l| l != 0 && sizes[l as usize] >= min_px)
}

/// Gives the pixels of `mask` that carry no label (lenses, and the seams
/// cut around them) to the nearest label, breadth-first within the mask
/// (8-connected; raster order breaks ties). Returns the labels touching a
/// lens pixel of `lens`.
pub fn share_lenses(
    labels: &mut Array2<u32>,
    mask: &Array2<bool>,
    lens: &Array2<bool>,
) -> BTreeSet<u32> {
    let (h, w) = labels.dim();
    let mut q = VecDeque::new();
    for y in 0..h {
        for x in 0..w {
            if labels[[y, x]] != 0 {
                q.push_back((y, x));
            }
        }
    }
    while let Some((y, x)) = q.pop_front() {
        let l = labels[[y, x]];
        for (dy, dx) in N8 {
            let (ny, nx) = (y as i64 + dy, x as i64 + dx);
            if ny < 0 || nx < 0 || ny >= h as i64 || nx >= w as i64 {
                continue;
            }
            let (ny, nx) = (ny as usize, nx as usize);
            if mask[[ny, nx]] && labels[[ny, nx]] == 0 {
                labels[[ny, nx]] = l;
                q.push_back((ny, nx));
            }
        }
    }
    let mut flagged = BTreeSet::new();
    for ((y, x), &is) in lens.indexed_iter() {
        if !is {
            continue;
        }
        for (dy, dx) in N8.iter().chain(std::iter::once(&(0, 0))) {
            let (ny, nx) = (y as i64 + dy, x as i64 + dx);
            if ny < 0 || nx < 0 || ny >= h as i64 || nx >= w as i64 {
                continue;
            }
            let m = labels[[ny as usize, nx as usize]];
            if m != 0 {
                flagged.insert(m);
            }
        }
    }
    flagged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_discs(dx: f64) -> (Array2<f32>, Array2<bool>) {
        let a = |y: usize, x: usize| {
            ((y as f64 - 30.0).powi(2) + (x as f64 - 30.0).powi(2)).sqrt() <= 20.0
        };
        let b = |y: usize, x: usize| {
            ((y as f64 - 30.0).powi(2) + (x as f64 - 30.0 - dx).powi(2)).sqrt() <= 20.0
        };
        let c = Array2::from_shape_fn((60, 100), |(y, x)| {
            100.0 * (a(y, x) as u8 as f32 + b(y, x) as u8 as f32)
        });
        let m = c.mapv(|v| v > 0.0);
        (c, m)
    }

    #[test]
    fn lens_of_two_stacked_discs_is_found_and_shared() {
        let (c, m) = two_discs(28.0);
        let level = local_layer_level(&c, &m, 20, 4, 0.4);
        let lens = double_layer_zones(&c, &m, &level, 1.6, 20);
        assert!(lens[[30, 44]], "lens centre");
        assert!(
            !lens[[30, 15]] && !lens[[30, 73]],
            "crescents are single layers"
        );
        // Crescents as two labels, then the lens shared between them.
        let single = Array2::from_shape_fn(m.dim(), |(y, x)| m[[y, x]] && !lens[[y, x]]);
        let (mut lab, n) = label(&single);
        assert_eq!(n, 2);
        let flagged = share_lenses(&mut lab, &m, &lens);
        assert!(lab[[30, 44]] != 0);
        assert_eq!(flagged.len(), 2);
    }

    #[test]
    fn uniform_nucleus_has_no_lens() {
        let c = Array2::from_shape_fn((50, 50), |(y, x)| {
            if ((y as f64 - 25.0).powi(2) + (x as f64 - 25.0).powi(2)).sqrt() <= 20.0 {
                100.0 + ((x * 7 + y * 3) % 11) as f32
            } else {
                0.0
            }
        });
        let m = c.mapv(|v| v > 0.0);
        let level = local_layer_level(&c, &m, 20, 4, 0.4);
        let lens = double_layer_zones(&c, &m, &level, 1.6, 20);
        assert!(lens.iter().all(|&v| !v));
    }
}
