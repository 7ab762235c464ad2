//! Splitting clumps of touching nuclei along lines between concave points
//! of their outline (Bai, Sun & Zhou, "Splitting touching cells based on
//! concave points and ellipse fitting", Pattern Recognition 42, 2009; the
//! same idea as CellProfiler's shape declumping, made explicit).
//!
//! Nuclei are nearly convex; where two touch, the union's outline has a
//! notch at each end of the contact. The distance-transform watershed finds
//! necks between two nuclei but fails on compact clumps of three or more,
//! whose distance map has one broad maximum. Here, the notches are found
//! as the pockets of the convex deficiency (convex hull minus region); the
//! deepest pixel of each pocket is a concave point; the region is cut along
//! the most salient line between two concave points when that makes two
//! nucleus-sized, more convex parts. Applied recursively.

use super::morphology::label;
use ndarray::Array2;

/// When a cut is accepted (lengths in working-scale pixels).
#[derive(Debug, Clone, Copy)]
pub struct ConcaveRule {
    /// Regions at least this convex (area / hull area) are left alone.
    pub max_solidity: f64,
    /// A pocket must be at least this deep to give a concave point.
    pub min_depth: f64,
    /// Sum of the two pockets' depths over the cut length must reach this
    /// (a cut between shallow dents across a wide body is not a contact).
    pub min_saliency: f64,
    /// Smallest part, in pixels.
    pub min_part_px: usize,
    /// Cosine of the largest angle between a notch's inward direction and
    /// the cut (0.5: 60 degrees).
    pub min_facing: f64,
    /// Both parts must be at least this convex (0: only more convex than
    /// the whole).
    pub min_part_solidity: f64,
}

/// Hull vertices (counter-clockwise) of a point set; Andrew's monotone chain.
pub fn convex_hull(mut pts: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    pts.sort_unstable();
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let cross = |o: (i64, i64), a: (i64, i64), b: (i64, i64)| {
        (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
    };
    let mut lower: Vec<(i64, i64)> = Vec::new();
    for &p in &pts {
        while lower.len() >= 2 && cross(lower[lower.len() - 2], lower[lower.len() - 1], p) <= 0 {
            lower.pop();
        }
        lower.push(p);
    }
    let mut upper: Vec<(i64, i64)> = Vec::new();
    for &p in pts.iter().rev() {
        while upper.len() >= 2 && cross(upper[upper.len() - 2], upper[upper.len() - 1], p) <= 0 {
            upper.pop();
        }
        upper.push(p);
    }
    lower.pop();
    upper.pop();
    lower.extend(upper);
    lower
}

/// Pixels (row, col) whose centre lies inside the convex polygon `hull`
/// (vertices in pixel-corner coordinates), as a mask of shape `(h, w)`.
fn rasterize_hull(hull: &[(i64, i64)], h: usize, w: usize) -> Array2<bool> {
    let mut m = Array2::from_elem((h, w), false);
    if hull.len() < 3 {
        return m;
    }
    for y in 0..h {
        let yc = y as f64 + 0.5;
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for i in 0..hull.len() {
            let (a, b) = (hull[i], hull[(i + 1) % hull.len()]);
            let (ay, by) = (a.1 as f64, b.1 as f64);
            if (ay <= yc && by >= yc) || (by <= yc && ay >= yc) {
                let x = if (by - ay).abs() < 1e-12 {
                    lo = lo.min(a.0 as f64).min(b.0 as f64);
                    hi = hi.max(a.0 as f64).max(b.0 as f64);
                    continue;
                } else {
                    a.0 as f64 + (yc - ay) * (b.0 - a.0) as f64 / (by - ay)
                };
                lo = lo.min(x);
                hi = hi.max(x);
            }
        }
        if lo > hi {
            continue;
        }
        for x in 0..w {
            let xc = x as f64 + 0.5;
            if xc >= lo && xc <= hi {
                m[[y, x]] = true;
            }
        }
    }
    m
}

/// Area / convex-hull area; the hull of a region is the hull of the outer
/// corners of its leftmost and rightmost pixel in every row.
fn solidity(region: &Array2<bool>) -> f64 {
    let (pts, area) = extreme_corners(region);
    let hull_area = super::measure::convex_hull_area(pts);
    if hull_area > 0.0 {
        area as f64 / hull_area
    } else {
        1.0
    }
}

/// Corners of the first and last pixel of every row, and the pixel count.
fn extreme_corners(region: &Array2<bool>) -> (Vec<(i64, i64)>, usize) {
    let mut pts = Vec::new();
    let mut area = 0usize;
    for (y, row) in region.rows().into_iter().enumerate() {
        let mut first = None;
        let mut last = 0usize;
        for (x, &v) in row.iter().enumerate() {
            if v {
                area += 1;
                first.get_or_insert(x);
                last = x;
            }
        }
        if let Some(f) = first {
            for xc in [f as i64, last as i64 + 1] {
                pts.push((xc, y as i64));
                pts.push((xc, y as i64 + 1));
            }
        }
    }
    (pts, area)
}

/// Tries one cut of `region` (a mask of one connected object); returns the
/// two parts' masks when a cut is accepted.
fn best_cut(region: &Array2<bool>, rule: &ConcaveRule) -> Option<(Array2<bool>, Array2<bool>)> {
    let (h, w) = region.dim();
    let area = region.iter().filter(|&&v| v).count();
    if area < 2 * rule.min_part_px {
        return None;
    }
    let s0 = solidity(region);
    if s0 >= rule.max_solidity {
        return None;
    }
    let hull = convex_hull(extreme_corners(region).0);
    let hm = rasterize_hull(&hull, h, w);
    let deficiency = Array2::from_shape_fn((h, w), |(y, x)| hm[[y, x]] && !region[[y, x]]);
    // Depth of a pocket pixel: distance to the outside of the hull.
    let depth = super::edt::distance_transform_edt(&hm);
    let (pockets, np) = label(&deficiency);
    // Deepest pixel of every deep-enough pocket, and the pocket's inward
    // direction (from its centroid to its tip).
    let mut tips: Vec<(f64, usize, usize)> = vec![(0.0, 0, 0); np as usize + 1];
    let mut cen = vec![(0.0f64, 0.0f64, 0usize); np as usize + 1];
    for ((y, x), &p) in pockets.indexed_iter() {
        if p != 0 {
            let d = depth[[y, x]] as f64;
            if d > tips[p as usize].0 {
                tips[p as usize] = (d, y, x);
            }
            let c = &mut cen[p as usize];
            c.0 += y as f64;
            c.1 += x as f64;
            c.2 += 1;
        }
    }
    let tips: Vec<(f64, usize, usize, f64, f64)> = tips
        .into_iter()
        .zip(cen)
        .skip(1)
        .filter(|(t, _)| t.0 >= rule.min_depth)
        .map(|((d, y, x), (cy, cx, n))| {
            let (ny, nx) = (y as f64 - cy / n as f64, x as f64 - cx / n as f64);
            let norm = (ny * ny + nx * nx).sqrt().max(1e-9);
            (d, y, x, ny / norm, nx / norm)
        })
        .collect();
    if tips.len() < 2 {
        return None;
    }
    let mut best: Option<(f64, Array2<bool>, Array2<bool>)> = None;
    for i in 0..tips.len() {
        for j in i + 1..tips.len() {
            let (di, yi, xi, nyi, nxi) = tips[i];
            let (dj, yj, xj, nyj, nxj) = tips[j];
            let (vy, vx) = (yj as f64 - yi as f64, xj as f64 - xi as f64);
            let len = (vy * vy + vx * vx).sqrt();
            let saliency = (di + dj) / len.max(1.0);
            if saliency < rule.min_saliency {
                continue;
            }
            // Both notches must open towards each other: a contact line
            // joins the tips of two notches that face each other.
            let facing_i = (nyi * vy + nxi * vx) / len.max(1e-9);
            let facing_j = -(nyj * vy + nxj * vx) / len.max(1e-9);
            if facing_i < rule.min_facing || facing_j < rule.min_facing {
                continue;
            }
            if best.as_ref().is_some_and(|b| saliency <= b.0) {
                continue;
            }
            // Cut: remove the pixels along the line (and their 4-neighbours
            // across it, so the parts are not 8-connected through it).
            let mut cut = region.clone();
            let steps = (len * 2.0).ceil() as usize + 1;
            for s in 0..=steps {
                let t = s as f64 / steps as f64;
                let y = yi as f64 + t * (yj as f64 - yi as f64);
                let x = xi as f64 + t * (xj as f64 - xi as f64);
                let (yr, xr) = (y.round() as i64, x.round() as i64);
                for (dy, dx) in [(0, 0), (0, 1), (1, 0), (0, -1), (-1, 0)] {
                    let (yy, xx) = (yr + dy, xr + dx);
                    if yy >= 0 && xx >= 0 && (yy as usize) < h && (xx as usize) < w {
                        cut[[yy as usize, xx as usize]] = false;
                    }
                }
            }
            let (parts, n) = label(&cut);
            if n < 2 {
                continue;
            }
            let mut sizes = vec![0usize; n as usize + 1];
            for &p in parts.iter() {
                sizes[p as usize] += 1;
            }
            let mut order: Vec<u32> = (1..=n).collect();
            order.sort_by(|&a, &b| sizes[b as usize].cmp(&sizes[a as usize]).then(a.cmp(&b)));
            let (pa, pb) = (order[0], order[1]);
            if sizes[pb as usize] < rule.min_part_px {
                continue;
            }
            // Give the cut pixels (and any crumbs) back to the nearer part.
            let mut a = parts.mapv(|p| p == pa);
            let mut b = parts.mapv(|p| p == pb);
            assign_rest(region, &mut a, &mut b);
            let (sa, sb) = (solidity(&a), solidity(&b));
            if sa <= s0 || sb <= s0 || sa.min(sb) < rule.min_part_solidity {
                continue;
            }
            best = Some((saliency, a, b));
        }
    }
    best.map(|(_, a, b)| (a, b))
}

/// Region pixels in neither part go to the part that reaches them first.
fn assign_rest(region: &Array2<bool>, a: &mut Array2<bool>, b: &mut Array2<bool>) {
    let mut own = Array2::from_shape_fn(region.dim(), |(y, x)| {
        if a[[y, x]] {
            1u32
        } else if b[[y, x]] {
            2
        } else {
            0
        }
    });
    super::morphology::grow_labels(&mut own, |y, x| region[[y, x]]);
    *a = own.mapv(|o| o == 1);
    *b = own.mapv(|o| o == 2);
}

/// Splits every label of `labels` (1..=n) recursively along concave-point
/// cuts; returns the new label image and label count (new labels appended
/// after n, in order of processing).
pub fn split_concave(labels: &Array2<u32>, n: u32, rule: &ConcaveRule) -> (Array2<u32>, u32) {
    use rayon::prelude::*;
    let boxes = super::measure::bounding_boxes(labels, n);
    // Each label's parts are found independently (in parallel); new ids are
    // then given in label order, so the result does not depend on threads.
    let parts: Vec<(u32, usize, usize, Vec<Array2<bool>>)> = (1..=n)
        .into_par_iter()
        .filter_map(|l| {
            let [x0, y0, x1, y1] = boxes[l as usize]?;
            // Pad by one pixel so pockets open to the hull edge are complete.
            let (bh, bw) = (y1 - y0 + 3, x1 - x0 + 3);
            let region = Array2::from_shape_fn((bh, bw), |(y, x)| {
                y >= 1
                    && x >= 1
                    && y - 1 + y0 <= y1
                    && x - 1 + x0 <= x1
                    && labels[[y - 1 + y0, x - 1 + x0]] == l
            });
            let mut todo = vec![region];
            let mut done = Vec::new();
            while let Some(r) = todo.pop() {
                if done.len() + todo.len() > 16 {
                    done.push(r);
                    continue;
                }
                match best_cut(&r, rule) {
                    Some((a, b)) => {
                        todo.push(a);
                        todo.push(b);
                    }
                    None => done.push(r),
                }
            }
            (done.len() >= 2).then_some((l, y0, x0, done))
        })
        .collect();
    let mut out = labels.clone();
    let mut next = n;
    for (l, y0, x0, mut done) in parts {
        // Largest part keeps l.
        done.sort_by_key(|m| std::cmp::Reverse(m.iter().filter(|&&v| v).count()));
        for (k, m) in done.iter().enumerate() {
            let id = if k == 0 {
                l
            } else {
                next += 1;
                next
            };
            for ((y, x), &v) in m.indexed_iter() {
                if v {
                    out[[y - 1 + y0, x - 1 + x0]] = id;
                }
            }
        }
    }
    (out, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn discs(c: &[(f64, f64, f64)], h: usize, w: usize) -> Array2<u32> {
        Array2::from_shape_fn((h, w), |(y, x)| {
            c.iter()
                .any(|&(cx, cy, r)| ((x as f64 - cx).powi(2) + (y as f64 - cy).powi(2)).sqrt() <= r)
                as u32
        })
    }

    const RULE: ConcaveRule = ConcaveRule {
        max_solidity: 0.92,
        min_depth: 2.0,
        min_saliency: 0.15,
        min_part_px: 150,
        min_facing: 0.5,
        min_part_solidity: 0.0,
    };

    #[test]
    fn compact_clump_of_three_loses_one_disc_along_its_notches() {
        // The cut between two notches separates one disc; the remaining
        // pair has a neck that the distance watershed splits afterwards.
        let l = discs(
            &[(30.0, 30.0, 16.0), (56.0, 30.0, 16.0), (43.0, 52.0, 16.0)],
            75,
            90,
        );
        let (out, n) = split_concave(&l, 1, &RULE);
        assert_eq!(n, 2);
        let ids = [out[[30, 25]], out[[30, 61]], out[[58, 43]]];
        assert!(ids.iter().all(|&i| i != 0));
        assert!(ids[0] != ids[1] || ids[0] != ids[2]);
    }

    #[test]
    fn cut_is_refused_when_a_part_is_not_convex_enough() {
        // Two discs pressed together: the cut along the notches gives two
        // discs (solidity ~0.97-0.99 once rasterised), accepted when parts
        // must reach 0.95 and refused when they must reach 0.999.
        let pair = discs(&[(30.0, 30.0, 16.0), (56.0, 30.0, 16.0)], 61, 90);
        let strict = ConcaveRule {
            min_part_solidity: 0.95,
            ..RULE
        };
        assert_eq!(split_concave(&pair, 1, &strict).1, 2);
        let impossible = ConcaveRule {
            min_part_solidity: 0.999,
            ..RULE
        };
        assert_eq!(split_concave(&pair, 1, &impossible).1, 1);
    }

    #[test]
    fn disc_and_kidney_stay_whole() {
        let l = discs(&[(30.0, 30.0, 20.0)], 61, 61);
        assert_eq!(split_concave(&l, 1, &RULE).1, 1);
        // A kidney: one disc minus a bite from one side (one pocket only).
        let k = Array2::from_shape_fn((61, 61), |(y, x)| {
            let a = ((y as f64 - 30.0).powi(2) + (x as f64 - 30.0).powi(2)).sqrt() <= 20.0;
            let b = ((y as f64 - 30.0).powi(2) + (x as f64 - 54.0).powi(2)).sqrt() <= 9.0;
            (a && !b) as u32
        });
        assert_eq!(split_concave(&k, 1, &RULE).1, 1);
    }
}
