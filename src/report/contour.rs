//! Nucleus outlines as polygons: the boundary of every label traced along
//! pixel edges ("crack following"), then simplified.
//!
//! Coordinates are pixel corners: pixel `(x, y)` covers `[x, x+1] x
//! [y, y+1]`, the convention of QuPath, ImageJ ROIs and SVG, so the outline
//! of a one-pixel label is the unit square around it. Each label's boundary
//! is the set of pixel sides between the label and anything else; the sides
//! are linked into closed rings walking with the label on the right (a
//! clockwise ring on screen). Where two pixels of a label touch only at a
//! corner the walk turns right, so such pixels belong to separate rings
//! (4-connectivity, as `skimage.measure.find_contours` separates them). The
//! ring of largest area is the outline; holes and stray fragments of a
//! label are not part of it.
//!
//! Simplification: collinear corners are dropped, then the staircase is
//! smoothed by Douglas-Peucker (Douglas & Peucker, Cartographica 1973)
//! with a tolerance of [`OUTLINE_TOLERANCE_PX`].

use ndarray::Array2;
use std::collections::HashMap;

/// Douglas-Peucker tolerance of outlines, in pixels. A property of the
/// pixel grid (it removes the staircase of a traced boundary, whose steps
/// are one pixel), not a physical length: 0.75 px keeps every vertex that
/// lies more than three quarters of a pixel from the simplified outline.
pub const OUTLINE_TOLERANCE_PX: f64 = 0.75;

/// A closed polygon in pixel-corner coordinates, without the repeated first
/// point.
pub type Ring = Vec<[f64; 2]>;

/// A directed pixel edge between two pixel corners.
type Edge = ([u32; 2], [u32; 2]);

/// Outline of every label of `labels` (`label -> ring`), simplified with
/// `tolerance_px` (0 keeps every corner). Labels are listed in ascending
/// order.
pub fn trace_outlines(labels: &Array2<u32>, tolerance_px: f64) -> Vec<(u32, Ring)> {
    let (h, w) = labels.dim();
    // Directed boundary edges of each label, with the label on the right.
    let mut edges: HashMap<u32, Vec<Edge>> = HashMap::new();
    for y in 0..h {
        for x in 0..w {
            let l = labels[[y, x]];
            if l == 0 {
                continue;
            }
            let differs = |dx: i64, dy: i64| {
                let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                nx < 0
                    || ny < 0
                    || nx >= w as i64
                    || ny >= h as i64
                    || labels[[ny as usize, nx as usize]] != l
            };
            let (x0, y0, x1, y1) = (x as u32, y as u32, x as u32 + 1, y as u32 + 1);
            let e = edges.entry(l).or_default();
            if differs(0, -1) {
                e.push(([x0, y0], [x1, y0]));
            }
            if differs(1, 0) {
                e.push(([x1, y0], [x1, y1]));
            }
            if differs(0, 1) {
                e.push(([x1, y1], [x0, y1]));
            }
            if differs(-1, 0) {
                e.push(([x0, y1], [x0, y0]));
            }
        }
    }
    let mut out: Vec<(u32, Ring)> = edges
        .into_iter()
        .filter_map(|(l, e)| {
            let rings = link_rings(&e);
            let best = rings
                .into_iter()
                .map(|r| (ring_area(&r), r))
                .filter(|(a, _)| *a > 0.0)
                .max_by(|a, b| a.0.total_cmp(&b.0))?;
            let ring = simplify_ring(&drop_collinear(&best.1), tolerance_px);
            Some((l, ring))
        })
        .collect();
    out.sort_by_key(|(l, _)| *l);
    out
}

/// Links directed edges into closed rings. At a vertex with several
/// outgoing edges the walk takes the sharpest right turn.
fn link_rings(edges: &[Edge]) -> Vec<Ring> {
    let mut from: HashMap<[u32; 2], Vec<usize>> = HashMap::new();
    for (i, (a, _)) in edges.iter().enumerate() {
        from.entry(*a).or_default().push(i);
    }
    let mut used = vec![false; edges.len()];
    let mut rings = Vec::new();
    for start in 0..edges.len() {
        if used[start] {
            continue;
        }
        let mut ring: Ring = Vec::new();
        let mut cur = start;
        loop {
            used[cur] = true;
            let (a, b) = edges[cur];
            ring.push([a[0] as f64, a[1] as f64]);
            let dir = [b[0] as i64 - a[0] as i64, b[1] as i64 - a[1] as i64];
            let next = from.get(&b).and_then(|cands| {
                cands
                    .iter()
                    .copied()
                    .filter(|&i| !used[i] || i == start)
                    .min_by_key(|&i| turn_rank(dir, edges[i]))
            });
            match next {
                Some(n) if n == start => break,
                Some(n) => cur = n,
                // Unreachable for edges of a label image (every vertex has
                // as many incoming as outgoing edges); stop the ring.
                None => break,
            }
        }
        if ring.len() >= 4 {
            rings.push(ring);
        }
    }
    rings
}

/// 0 for a right turn (screen coordinates, y down), 1 straight, 2 left.
fn turn_rank(dir: [i64; 2], e: Edge) -> u8 {
    let d2 = [e.1[0] as i64 - e.0[0] as i64, e.1[1] as i64 - e.0[1] as i64];
    let cross = dir[0] * d2[1] - dir[1] * d2[0];
    match cross.signum() {
        1 => 0,
        0 => 1,
        _ => 2,
    }
}

/// Signed area (shoelace); positive for a clockwise ring on screen.
pub fn ring_area(r: &[[f64; 2]]) -> f64 {
    let n = r.len();
    let mut s = 0.0;
    for i in 0..n {
        let (a, b) = (r[i], r[(i + 1) % n]);
        s += a[0] * b[1] - b[0] * a[1];
    }
    s / 2.0
}

/// Removes vertices that lie on the straight line between their neighbours.
fn drop_collinear(r: &[[f64; 2]]) -> Ring {
    let n = r.len();
    if n < 4 {
        return r.to_vec();
    }
    (0..n)
        .filter(|&i| {
            let (p, c, q) = (r[(i + n - 1) % n], r[i], r[(i + 1) % n]);
            (c[0] - p[0]) * (q[1] - c[1]) - (c[1] - p[1]) * (q[0] - c[0]) != 0.0
        })
        .map(|i| r[i])
        .collect()
}

/// Douglas-Peucker on a closed ring: split at the first vertex and the
/// vertex farthest from it, simplify both chains. Rings that would fall
/// under 4 vertices are returned unchanged.
pub fn simplify_ring(r: &[[f64; 2]], tolerance: f64) -> Ring {
    let n = r.len();
    if tolerance <= 0.0 || n < 5 {
        return r.to_vec();
    }
    let d2 = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2);
    let far = (1..n)
        .max_by(|&i, &j| d2(r[0], r[i]).total_cmp(&d2(r[0], r[j])))
        .unwrap_or(n / 2);
    let mut closed: Vec<[f64; 2]> = r.to_vec();
    closed.push(r[0]);
    let mut keep = vec![false; n + 1];
    keep[0] = true;
    keep[far] = true;
    keep[n] = true;
    dp(&closed, 0, far, tolerance, &mut keep);
    dp(&closed, far, n, tolerance, &mut keep);
    let out: Ring = (0..n).filter(|&i| keep[i]).map(|i| r[i]).collect();
    if out.len() < 4 {
        r.to_vec()
    } else {
        out
    }
}

fn dp(p: &[[f64; 2]], i: usize, j: usize, tol: f64, keep: &mut [bool]) {
    if j <= i + 1 {
        return;
    }
    let (a, b) = (p[i], p[j]);
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len = (dx * dx + dy * dy).sqrt();
    let mut best = (0.0f64, i);
    for (k, q) in p.iter().enumerate().take(j).skip(i + 1) {
        let d = if len == 0.0 {
            ((q[0] - a[0]).powi(2) + (q[1] - a[1]).powi(2)).sqrt()
        } else {
            ((q[0] - a[0]) * dy - (q[1] - a[1]) * dx).abs() / len
        };
        if d > best.0 {
            best = (d, k);
        }
    }
    if best.0 > tol {
        keep[best.1] = true;
        dp(p, i, best.1, tol, keep);
        dp(p, best.1, j, tol, keep);
    }
}

/// Bounding box `[x0, y0, x1, y1]` of a ring (pixel corners).
pub fn ring_bounds(r: &[[f64; 2]]) -> [f64; 4] {
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for p in r {
        b[0] = b[0].min(p[0]);
        b[1] = b[1].min(p[1]);
        b[2] = b[2].max(p[0]);
        b[3] = b[3].max(p[1]);
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn single_pixel_is_the_unit_square() {
        let l = array![[0, 0, 0], [0, 7, 0], [0, 0, 0]];
        let o = trace_outlines(&l, 0.0);
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].0, 7);
        assert_eq!(o[0].1, vec![[1.0, 1.0], [2.0, 1.0], [2.0, 2.0], [1.0, 2.0]]);
        assert_eq!(ring_area(&o[0].1), 1.0);
    }

    #[test]
    fn rectangle_touching_the_border_and_a_neighbour() {
        // Label 1: 3x2 block at the top-left corner; label 2 beside it.
        let l = array![[1, 1, 1, 2], [1, 1, 1, 2], [0, 0, 0, 0]];
        let o = trace_outlines(&l, 0.0);
        assert_eq!(o[0].1, vec![[0.0, 0.0], [3.0, 0.0], [3.0, 2.0], [0.0, 2.0]]);
        assert_eq!(o[1].1, vec![[3.0, 0.0], [4.0, 0.0], [4.0, 2.0], [3.0, 2.0]]);
    }

    #[test]
    fn area_equals_pixel_count_for_an_l_shape_and_a_disc() {
        let l = array![[1, 0, 0], [1, 0, 0], [1, 1, 1]];
        let o = trace_outlines(&l, 0.0);
        assert_eq!(ring_area(&o[0].1), 5.0);
        assert_eq!(o[0].1.len(), 6);
        let mut disc = Array2::<u32>::zeros((40, 40));
        let mut n = 0;
        for y in 0..40 {
            for x in 0..40 {
                if (x as f64 - 19.5).powi(2) + (y as f64 - 19.5).powi(2) < 144.0 {
                    disc[[y, x]] = 3;
                    n += 1;
                }
            }
        }
        let exact = trace_outlines(&disc, 0.0);
        assert_eq!(ring_area(&exact[0].1), n as f64);
        let simple = trace_outlines(&disc, OUTLINE_TOLERANCE_PX);
        let a = ring_area(&simple[0].1);
        assert!((a - n as f64).abs() / (n as f64) < 0.05, "{a} vs {n}");
        assert!(simple[0].1.len() < exact[0].1.len());
        // Every simplified vertex is a corner of the exact outline.
        assert!(simple[0].1.iter().all(|p| exact[0].1.contains(p)));
    }

    #[test]
    fn diagonal_touch_gives_two_rings_and_the_larger_is_kept() {
        // Two blocks of label 4 touching at one corner: 4 px and 1 px.
        let l = array![[4, 4, 0], [4, 4, 0], [0, 0, 4]];
        let o = trace_outlines(&l, 0.0);
        assert_eq!(o.len(), 1);
        assert_eq!(ring_area(&o[0].1), 4.0);
        assert_eq!(o[0].1, vec![[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]]);
    }

    #[test]
    fn bounds() {
        assert_eq!(
            ring_bounds(&[[1.0, 2.0], [4.0, 2.0], [4.0, 7.0]]),
            [1.0, 2.0, 4.0, 7.0]
        );
    }
}
