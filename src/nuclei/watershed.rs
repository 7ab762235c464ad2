//! Marker-free, merge-controlled watershed by flooding (union-find over
//! pixels sorted by decreasing height), as in the topological view of
//! h-maxima / dynamics (Vincent & Soille 1991; Grimaud 1992 for dynamics).
//!
//! Every regional maximum of the height map (here the smoothed distance
//! transform of the nucleus mask) starts a basin. When two basins meet at a
//! saddle, the lower one survives as its own region only when
//! [`SplitRule`] says that the neck between them is narrow enough and the
//! lower basin is big enough to be a nucleus; otherwise it merges into the
//! higher one. This is the marker-controlled watershed with h-maxima
//! markers, with the marker test made scale-free (a neck ratio) instead of
//! an absolute h. Deterministic: ties are broken by pixel index.

use ndarray::Array2;
use rayon::prelude::*;

/// When a lower basin meeting a higher one stays separate.
#[derive(Debug, Clone, Copy)]
pub struct SplitRule {
    /// The lower basin's peak must be at least this high (for a distance
    /// map: the inscribed radius, px, of the smaller object).
    pub min_peak: f32,
    /// ...and the saddle must be at most this fraction of the lower peak
    /// (for a distance map: neck half-width / inscribed radius).
    pub max_saddle_ratio: f32,
    /// ...and the lower peak must rise at least this much above the saddle
    /// (noise guard, px).
    pub min_dynamic: f32,
}

struct Basins {
    parent: Vec<u32>,
    peak: Vec<f32>,
}

const NONE: u32 = u32::MAX;

impl Basins {
    fn find(&mut self, mut i: u32) -> u32 {
        let mut r = i;
        while self.parent[r as usize] != r {
            r = self.parent[r as usize];
        }
        while self.parent[i as usize] != r {
            let next = self.parent[i as usize];
            self.parent[i as usize] = r;
            i = next;
        }
        r
    }
}

/// Watershed of `height` restricted to `mask` (8-connectivity): returns
/// labels 1..=n (0 outside the mask), numbered in raster order.
pub fn watershed_dynamics(
    height: &Array2<f32>,
    mask: &Array2<bool>,
    rule: &SplitRule,
) -> (Array2<u32>, u32) {
    let (h, w) = height.dim();
    let hs = height.as_standard_layout();
    let hv = hs.as_slice().expect("standard layout");
    let ms = mask.as_standard_layout();
    let mv = ms.as_slice().expect("standard layout");
    let mut order: Vec<u32> = (0..(h * w) as u32).filter(|&i| mv[i as usize]).collect();
    order.par_sort_unstable_by(|&a, &b| hv[b as usize].total_cmp(&hv[a as usize]).then(a.cmp(&b)));
    let mut b = Basins {
        parent: vec![NONE; h * w],
        peak: vec![0.0; h * w],
    };
    let mut roots: Vec<u32> = Vec::with_capacity(8);
    for &p in &order {
        let (py, px) = ((p as usize) / w, (p as usize) % w);
        let v = hv[p as usize];
        roots.clear();
        // Steepest processed neighbour decides where p drains.
        let mut best_nb: Option<(f32, u32)> = None;
        for (dy, dx) in super::morphology::N8 {
            let ny = py as i64 + dy;
            let nx = px as i64 + dx;
            if ny < 0 || nx < 0 || ny >= h as i64 || nx >= w as i64 {
                continue;
            }
            let q = (ny as usize * w + nx as usize) as u32;
            if b.parent[q as usize] == NONE {
                continue;
            }
            let r = b.find(q);
            if !roots.contains(&r) {
                roots.push(r);
            }
            let hq = hv[q as usize];
            if best_nb.is_none_or(|(bh, bq)| hq > bh || (hq == bh && q < bq)) {
                best_nb = Some((hq, q));
            }
        }
        if roots.is_empty() {
            b.parent[p as usize] = p;
            b.peak[p as usize] = v;
            continue;
        }
        // Highest basin first (ties: lower root index).
        roots.sort_by(|&a, &c| {
            b.peak[c as usize]
                .total_cmp(&b.peak[a as usize])
                .then(a.cmp(&c))
        });
        let top = roots[0];
        for &r in roots.iter().skip(1) {
            let lower_peak = b.peak[r as usize];
            let separate = lower_peak >= rule.min_peak
                && v <= rule.max_saddle_ratio * lower_peak
                && lower_peak - v >= rule.min_dynamic;
            if !separate {
                b.parent[r as usize] = top;
            }
        }
        let (_, q) = best_nb.expect("a processed neighbour exists");
        let target = b.find(q);
        b.parent[p as usize] = target;
    }
    let mut labels = Array2::<u32>::zeros((h, w));
    let mut map = std::collections::HashMap::new();
    let mut n = 0u32;
    for i in 0..h * w {
        if b.parent[i] == NONE {
            continue;
        }
        let r = b.find(i as u32);
        let l = *map.entry(r).or_insert_with(|| {
            n += 1;
            n
        });
        labels[[i / w, i % w]] = l;
    }
    (labels, n)
}

#[cfg(test)]
mod tests {
    use super::super::edt::distance_transform_edt;
    use super::*;

    fn discs(centres: &[(f64, f64, f64)], h: usize, w: usize) -> Array2<bool> {
        Array2::from_shape_fn((h, w), |(y, x)| {
            centres
                .iter()
                .any(|&(cx, cy, r)| ((x as f64 - cx).powi(2) + (y as f64 - cy).powi(2)).sqrt() <= r)
        })
    }

    const RULE: SplitRule = SplitRule {
        min_peak: 5.0,
        max_saddle_ratio: 0.7,
        min_dynamic: 1.0,
    };

    #[test]
    fn one_disc_is_one_region() {
        let m = discs(&[(30.0, 30.0, 20.0)], 61, 61);
        let d = distance_transform_edt(&m);
        let (_, n) = watershed_dynamics(&d, &m, &RULE);
        assert_eq!(n, 1);
    }

    #[test]
    fn two_touching_discs_are_two_regions() {
        let m = discs(&[(25.0, 30.0, 18.0), (57.0, 30.0, 18.0)], 61, 84);
        let d = distance_transform_edt(&m);
        let (l, n) = watershed_dynamics(&d, &m, &RULE);
        assert_eq!(n, 2);
        assert_ne!(l[[30, 20]], l[[30, 62]]);
        // The split runs through the neck.
        assert_eq!(l[[30, 35]], l[[30, 20]]);
        assert_eq!(l[[30, 47]], l[[30, 62]]);
    }

    #[test]
    fn heavily_fused_discs_stay_one() {
        // Centres 0.6 radius apart: no real neck.
        let m = discs(&[(35.0, 30.0, 18.0), (46.0, 30.0, 18.0)], 61, 84);
        let d = distance_transform_edt(&m);
        let (_, n) = watershed_dynamics(&d, &m, &RULE);
        assert_eq!(n, 1);
    }
}

#[cfg(test)]
mod chain_tests {
    use super::super::edt::distance_transform_edt;
    use super::*;

    #[test]
    fn chain_of_four_discs() {
        let centres = [
            (25.0, 30.0, 18.0),
            (55.0, 32.0, 16.0),
            (85.0, 28.0, 17.0),
            (115.0, 30.0, 18.0),
        ];
        let m = Array2::from_shape_fn((61, 140), |(y, x)| {
            centres.iter().any(|&(cx, cy, r): &(f64, f64, f64)| {
                ((x as f64 - cx).powi(2) + (y as f64 - cy).powi(2)).sqrt() <= r
            })
        });
        let d = crate::filters::gaussian_filter(&distance_transform_edt(&m), 1.0);
        let rule = SplitRule {
            min_peak: 5.0,
            max_saddle_ratio: 0.85,
            min_dynamic: 1.0,
        };
        let (_, n) = watershed_dynamics(&d, &m, &rule);
        assert_eq!(n, 4);
    }
}
