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
use std::collections::BTreeSet;

/// Local single-layer DAPI level: the `q`-quantile of `contrast` over the
/// pixels of `mask` within a square window of half-size `radius`, computed
/// on a grid every `step` pixels and interpolated bilinearly. 0 where the
/// window holds no mask pixel. The window is sampled every `stride`
/// pixels in both directions (on a lattice fixed to the image, so
/// neighbouring windows share their samples): `contrast` is smoothed over
/// several pixels, so adjacent pixels carry nearly the same value and a
/// stride up to about the smoothing sigma loses nothing but time.
pub fn local_layer_level(
    contrast: &Array2<f32>,
    mask: &Array2<bool>,
    radius: usize,
    step: usize,
    stride: usize,
    q: f64,
) -> Array2<f32> {
    let (h, w) = contrast.dim();
    let step = step.max(1);
    let stride = stride.max(1);
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
                for y in (y0.next_multiple_of(stride)..=y1).step_by(stride) {
                    for x in (x0.next_multiple_of(stride)..=x1).step_by(stride) {
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

/// Double-layer zones: connected pieces (at least `min_px` pixels) of mask
/// pixels brighter than `factor` x the local single-layer level that are
/// ENCLOSED by nuclear pixels: at least `min_enclosure` of the pixels
/// just outside the piece are nucleus, not background. A lens between two
/// stacked nuclei is bounded by their crescents; a whole bright nucleus,
/// even beside dim ones, mostly borders background.
pub fn double_layer_zones(
    contrast: &Array2<f32>,
    mask: &Array2<bool>,
    level: &Array2<f32>,
    factor: f32,
    min_px: usize,
    min_enclosure: f64,
) -> Array2<bool> {
    let (h, w) = contrast.dim();
    let raw = Array2::from_shape_fn((h, w), |(y, x)| {
        mask[[y, x]] && level[[y, x]] > 0.0 && contrast[[y, x]] > factor * level[[y, x]]
    });
    let (lab, n) = label(&raw);
    let mut sizes = vec![0usize; n as usize + 1];
    let mut nuclear = vec![0usize; n as usize + 1];
    let mut outside = vec![0usize; n as usize + 1];
    for ((y, x), &l) in lab.indexed_iter() {
        if l == 0 {
            continue;
        }
        sizes[l as usize] += 1;
        for (dy, dx) in super::morphology::N4 {
            let (ny, nx) = (y as i64 + dy, x as i64 + dx);
            if ny < 0 || nx < 0 || ny >= h as i64 || nx >= w as i64 {
                continue;
            }
            let (ny, nx) = (ny as usize, nx as usize);
            if lab[[ny, nx]] == l {
                continue;
            }
            if mask[[ny, nx]] {
                nuclear[l as usize] += 1;
            } else {
                outside[l as usize] += 1;
            }
        }
    }
    let keep: Vec<bool> = (0..=n as usize)
        .map(|l| {
            let edge = nuclear[l] + outside[l];
            l > 0
                && sizes[l] >= min_px
                && edge > 0
                && nuclear[l] as f64 >= min_enclosure * edge as f64
        })
        .collect();
    lab.mapv(|l| keep[l as usize])
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
    super::morphology::grow_labels(labels, |y, x| mask[[y, x]]);
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
        let level = local_layer_level(&c, &m, 20, 4, 1, 0.4);
        let lens = double_layer_zones(&c, &m, &level, 1.35, 20, 0.6);
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
        let level = local_layer_level(&c, &m, 20, 4, 1, 0.4);
        let lens = double_layer_zones(&c, &m, &level, 1.35, 20, 0.6);
        assert!(lens.iter().all(|&v| !v));
    }
}

/// Pairs of adjacent nuclei that lie on each other. For two neighbours A
/// and B with base levels `a >= b` (15 % quantiles of their smoothed DAPI:
/// below the part of a lens each may hold),
/// the union holds, where they overlap, a zone at about `a + b`; touching
/// nuclei never exceed about `a` plus texture. A zone of at least `min_px`
/// pixels above `a + frac x b` flags both. Returns the flagged labels.
pub fn flag_stacked_pairs(
    labels: &Array2<u32>,
    n: u32,
    smooth: &Array2<f32>,
    min_px: usize,
    frac: f32,
) -> BTreeSet<u32> {
    let (h, w) = labels.dim();
    let mut vals: Vec<Vec<f32>> = vec![Vec::new(); n as usize + 1];
    let mut pairs = BTreeSet::new();
    for ((y, x), &l) in labels.indexed_iter() {
        if l == 0 {
            continue;
        }
        vals[l as usize].push(smooth[[y, x]]);
        for (dy, dx) in [(0i64, 1i64), (1, 0)] {
            let (ny, nx) = (y as i64 + dy, x as i64 + dx);
            if ny >= h as i64 || nx >= w as i64 {
                continue;
            }
            let m = labels[[ny as usize, nx as usize]];
            if m != 0 && m != l {
                pairs.insert((l.min(m), l.max(m)));
            }
        }
    }
    let base: Vec<f32> = vals
        .iter()
        .map(|v| super::threshold::quantile(v, 0.15).unwrap_or(0.0))
        .collect();
    let boxes = super::measure::bounding_boxes(labels, n);
    let mut flagged = BTreeSet::new();
    for (a, b) in pairs {
        let (la, lb) = (base[a as usize], base[b as usize]);
        if la <= 0.0 || lb <= 0.0 {
            continue;
        }
        let cut = la.max(lb) + frac * la.min(lb);
        let (Some(ba), Some(bb)) = (boxes[a as usize], boxes[b as usize]) else {
            continue;
        };
        let (x0, y0) = (ba[0].min(bb[0]), ba[1].min(bb[1]));
        let (x1, y1) = (ba[2].max(bb[2]), ba[3].max(bb[3]));
        let zone = Array2::from_shape_fn((y1 - y0 + 1, x1 - x0 + 1), |(y, x)| {
            let l = labels[[y + y0, x + x0]];
            (l == a || l == b) && smooth[[y + y0, x + x0]] > cut
        });
        let (zl, nz) = label(&zone);
        let mut sizes = vec![0usize; nz as usize + 1];
        // A lens lies against the boundary between the two nuclei.
        let mut on_seam = vec![false; nz as usize + 1];
        for ((y, x), &z) in zl.indexed_iter() {
            if z == 0 {
                continue;
            }
            sizes[z as usize] += 1;
            let l = labels[[y + y0, x + x0]];
            let other = if l == a { b } else { a };
            if !on_seam[z as usize] {
                on_seam[z as usize] = N8.iter().any(|&(dy, dx)| {
                    let (ny, nx) = ((y + y0) as i64 + dy, (x + x0) as i64 + dx);
                    ny >= 0
                        && nx >= 0
                        && ny < h as i64
                        && nx < w as i64
                        && labels[[ny as usize, nx as usize]] == other
                });
            }
        }
        if (1..=nz as usize).any(|z| sizes[z] >= min_px && on_seam[z]) {
            flagged.insert(a);
            flagged.insert(b);
        }
    }
    flagged
}

#[cfg(test)]
mod pair_tests {
    use super::*;

    #[test]
    fn stacked_pair_is_flagged_touching_pair_is_not() {
        // Bright (200) and dim (100) discs; stacked: overlap at 300.
        let mk = |dx: f64, stacked: bool| {
            let a = move |y: usize, x: usize| {
                ((y as f64 - 30.0).powi(2) + (x as f64 - 30.0).powi(2)).sqrt() <= 20.0
            };
            let b = move |y: usize, x: usize| {
                ((y as f64 - 30.0).powi(2) + (x as f64 - 30.0 - dx).powi(2)).sqrt() <= 20.0
            };
            let img = Array2::from_shape_fn((60, 110), |(y, x)| match (a(y, x), b(y, x)) {
                (true, true) if stacked => 300.0,
                (true, _) => 200.0,
                (false, true) => 100.0,
                _ => 0.0,
            });
            let lab = Array2::from_shape_fn((60, 110), |(y, x)| {
                if a(y, x) && (x as f64) < 30.0 + dx / 2.0 {
                    1
                } else if b(y, x) {
                    2
                } else if a(y, x) {
                    1
                } else {
                    0
                }
            });
            (img, lab)
        };
        let (img, lab) = mk(28.0, true);
        assert_eq!(flag_stacked_pairs(&lab, 2, &img, 20, 0.6).len(), 2);
        let (img, lab) = mk(36.0, false);
        assert!(flag_stacked_pairs(&lab, 2, &img, 20, 0.6).is_empty());
    }
}

/// Nuclei holding a lens inside: a compact zone (at least `min_px`
/// pixels) brighter than `factor` x the nucleus' own base level (20 %
/// quantile of its interior, `rim_px` in from its outline), covering at
/// most 90 % of it. Returns the flagged labels.
pub fn flag_inner_lenses(
    labels: &Array2<u32>,
    n: u32,
    smooth: &Array2<f32>,
    factor: f32,
    min_px: usize,
    rim_px: f32,
) -> BTreeSet<u32> {
    let (h, w) = labels.dim();
    let inside = Array2::from_shape_fn((h, w), |(y, x)| {
        let l = labels[[y, x]];
        l != 0
            && N8.iter().all(|&(dy, dx)| {
                let (ny, nx) = (y as i64 + dy, x as i64 + dx);
                ny >= 0
                    && nx >= 0
                    && ny < h as i64
                    && nx < w as i64
                    && labels[[ny as usize, nx as usize]] == l
            })
    });
    let depth = super::edt::distance_transform_edt(&inside);
    let boxes = super::measure::bounding_boxes(labels, n);
    let mut flagged = BTreeSet::new();
    for l in 1..=n {
        let Some([x0, y0, x1, y1]) = boxes[l as usize] else {
            continue;
        };
        let mut interior = Vec::new();
        let mut area = 0usize;
        for y in y0..=y1 {
            for x in x0..=x1 {
                if labels[[y, x]] == l {
                    area += 1;
                    if depth[[y, x]] >= rim_px {
                        interior.push(smooth[[y, x]]);
                    }
                }
            }
        }
        let Some(base) = super::threshold::quantile(&interior, 0.2) else {
            continue;
        };
        if interior.len() < 10 || base <= 0.0 {
            continue;
        }
        let zone = Array2::from_shape_fn((y1 - y0 + 1, x1 - x0 + 1), |(y, x)| {
            labels[[y + y0, x + x0]] == l && smooth[[y + y0, x + x0]] > factor * base
        });
        let (zl, nz) = label(&zone);
        let mut sizes = vec![0usize; nz as usize + 1];
        for &z in zl.iter() {
            sizes[z as usize] += 1;
        }
        let total: usize = sizes.iter().skip(1).sum();
        if sizes.iter().skip(1).any(|&s| s >= min_px) && total * 10 <= area * 9 {
            flagged.insert(l);
        }
    }
    flagged
}
