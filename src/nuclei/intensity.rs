//! Touching nuclei of different DAPI content. Two nuclei pressed together
//! along a long, straight contact have almost no neck, so shape alone
//! cannot separate them; but their DAPI levels usually differ (DNA content
//! and chromatin compaction vary from cell to cell). A piece whose smoothed
//! DAPI falls into two spatially coherent classes of clearly different level
//! is cut along the class boundary (the declumping-by-intensity of
//! CellProfiler's IdentifyPrimaryObjects, done with two-class Otsu inside
//! the piece instead of intensity maxima).

use super::morphology::label4;
use ndarray::Array2;

/// When a piece is cut by intensity.
#[derive(Debug, Clone, Copy)]
pub struct IntensityRule {
    /// Brighter class mean / dimmer class mean must reach this.
    pub min_level_ratio: f32,
    /// Each class's main connected body must hold at least this many
    /// pixels (a nucleus-sized part).
    pub min_part_px: usize,
    /// ...and at least this share of its class (texture gives speckled
    /// classes; two nuclei give two solid bodies).
    pub min_coherence: f64,
    /// Only pixels at least this deep inside the piece are classified: the
    /// blurred rim of any nucleus is dimmer than its body.
    pub rim_px: f32,
}

/// Cuts every label (1..=n) whose `smooth` values split into two coherent
/// classes; returns the new labels and count (new labels appended).
pub fn split_by_intensity(
    labels: &Array2<u32>,
    n: u32,
    smooth: &Array2<f32>,
    rule: &IntensityRule,
) -> (Array2<u32>, u32) {
    let boxes = super::measure::bounding_boxes(labels, n);
    let mut out = labels.clone();
    let mut next = n;
    for l in 1..=n {
        let Some([x0, y0, x1, y1]) = boxes[l as usize] else {
            continue;
        };
        let (bh, bw) = (y1 - y0 + 1, x1 - x0 + 1);
        let inside = Array2::from_shape_fn((bh, bw), |(y, x)| labels[[y + y0, x + x0]] == l);
        // Pad so the piece's outline is background on every side.
        let padded = Array2::from_shape_fn((bh + 2, bw + 2), |(y, x)| {
            y >= 1 && x >= 1 && y <= bh && x <= bw && inside[[y - 1, x - 1]]
        });
        let depth = super::edt::distance_transform_edt(&padded);
        let core = Array2::from_shape_fn((bh, bw), |(y, x)| {
            inside[[y, x]] && depth[[y + 1, x + 1]] >= rule.rim_px
        });
        let vals: Vec<f32> = core
            .indexed_iter()
            .filter(|(_, &v)| v)
            .map(|((y, x), _)| smooth[[y + y0, x + x0]])
            .collect();
        if vals.len() < 2 * rule.min_part_px {
            continue;
        }
        let Some(t) = super::threshold::threshold_otsu(&vals) else {
            continue;
        };
        let (mut s_hi, mut n_hi, mut s_lo, mut n_lo) = (0.0f64, 0usize, 0.0f64, 0usize);
        for &v in &vals {
            if v > t {
                s_hi += v as f64;
                n_hi += 1;
            } else {
                s_lo += v as f64;
                n_lo += 1;
            }
        }
        if n_hi == 0 || n_lo == 0 || s_lo <= 0.0 {
            continue;
        }
        let ratio = (s_hi / n_hi as f64) / (s_lo / n_lo as f64);
        if ratio < rule.min_level_ratio as f64 {
            continue;
        }
        // Main body of each class.
        let mut bodies = Vec::new();
        for bright in [true, false] {
            let class = Array2::from_shape_fn((bh, bw), |(y, x)| {
                core[[y, x]] && (smooth[[y + y0, x + x0]] > t) == bright
            });
            let (cl, nc) = label4(&class);
            let mut sizes = vec![0usize; nc as usize + 1];
            for &c in cl.iter() {
                sizes[c as usize] += 1;
            }
            let total: usize = sizes.iter().skip(1).sum();
            let (best, size) = sizes
                .iter()
                .enumerate()
                .skip(1)
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
                .map(|(i, &s)| (i as u32, s))
                .unwrap_or((0, 0));
            if size < rule.min_part_px || (size as f64) < rule.min_coherence * total as f64 {
                bodies.clear();
                break;
            }
            bodies.push(cl.mapv(|c| c == best));
        }
        if bodies.len() != 2 {
            continue;
        }
        // The rest of the piece goes to the body that reaches it first.
        let mut own = Array2::from_shape_fn((bh, bw), |(y, x)| {
            if bodies[0][[y, x]] {
                1u32
            } else if bodies[1][[y, x]] {
                2
            } else {
                0
            }
        });
        super::morphology::grow_labels(&mut own, |y, x| inside[[y, x]]);
        next += 1;
        for y in 0..bh {
            for x in 0..bw {
                if own[[y, x]] == 2 {
                    out[[y + y0, x + x0]] = next;
                }
            }
        }
    }
    (out, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: IntensityRule = IntensityRule {
        min_level_ratio: 1.3,
        min_part_px: 100,
        min_coherence: 0.8,
        rim_px: 2.0,
    };

    #[test]
    fn bright_and_dim_halves_are_cut_but_textured_disc_is_not() {
        // Two rectangles pressed together: levels 100 and 160.
        let img = Array2::from_shape_fn((30, 60), |(_, x)| if x < 30 { 100.0 } else { 160.0 });
        let lab = Array2::from_elem((30, 60), 1u32);
        let (out, n) = split_by_intensity(&lab, 1, &img, &RULE);
        assert_eq!(n, 2);
        assert_ne!(out[[15, 5]], out[[15, 55]]);
        // Speckled texture of the same contrast stays whole.
        let tex = Array2::from_shape_fn((40, 40), |(y, x)| {
            if (x / 3 + y / 3) % 2 == 0 {
                100.0
            } else {
                160.0
            }
        });
        let lab = Array2::from_elem((40, 40), 1u32);
        assert_eq!(split_by_intensity(&lab, 1, &tex, &RULE).1, 1);
    }
}
