//! Binary morphology on masks and label images: connected components
//! (`scipy.ndimage.label`), hole filling (`binary_fill_holes`), size
//! filtering and sequential relabelling (`skimage.segmentation.relabel_sequential`).

use ndarray::Array2;

/// 8-connected neighbour offsets `(dy, dx)`.
pub const N8: [(i64, i64); 8] = [
    (-1, -1),
    (-1, 0),
    (-1, 1),
    (0, -1),
    (0, 1),
    (1, -1),
    (1, 0),
    (1, 1),
];

/// 4-connected neighbour offsets `(dy, dx)`.
pub const N4: [(i64, i64); 4] = [(-1, 0), (0, -1), (0, 1), (1, 0)];

/// Connected components of a mask (8-connectivity), labelled 1..=n in
/// raster order of their first pixel. Returns the label image and n.
pub fn label(mask: &Array2<bool>) -> (Array2<u32>, u32) {
    label_with(mask, &N8)
}

/// Connected components with 4-connectivity (diagonal neighbours apart).
pub fn label4(mask: &Array2<bool>) -> (Array2<u32>, u32) {
    label_with(mask, &N4)
}

fn label_with(mask: &Array2<bool>, nbrs: &[(i64, i64)]) -> (Array2<u32>, u32) {
    let (h, w) = mask.dim();
    let mut lab = Array2::<u32>::zeros((h, w));
    let mut n = 0u32;
    let mut stack = Vec::new();
    for y in 0..h {
        for x in 0..w {
            if !mask[[y, x]] || lab[[y, x]] != 0 {
                continue;
            }
            n += 1;
            lab[[y, x]] = n;
            stack.push((y, x));
            while let Some((cy, cx)) = stack.pop() {
                for &(dy, dx) in nbrs {
                    let ny = cy as i64 + dy;
                    let nx = cx as i64 + dx;
                    if ny < 0 || nx < 0 || ny >= h as i64 || nx >= w as i64 {
                        continue;
                    }
                    let (ny, nx) = (ny as usize, nx as usize);
                    if mask[[ny, nx]] && lab[[ny, nx]] == 0 {
                        lab[[ny, nx]] = n;
                        stack.push((ny, nx));
                    }
                }
            }
        }
    }
    (lab, n)
}

/// Fills holes: background regions (4-connected) that do not reach the
/// image border become foreground. As `scipy.ndimage.binary_fill_holes`.
pub fn fill_holes(mask: &Array2<bool>) -> Array2<bool> {
    let (h, w) = mask.dim();
    // Background reachable from the border.
    let mut outside = Array2::<bool>::from_elem((h, w), false);
    let mut stack = Vec::new();
    for y in 0..h {
        for x in 0..w {
            if (y == 0 || x == 0 || y + 1 == h || x + 1 == w) && !mask[[y, x]] {
                outside[[y, x]] = true;
                stack.push((y, x));
            }
        }
    }
    while let Some((cy, cx)) = stack.pop() {
        for (dy, dx) in N4 {
            let ny = cy as i64 + dy;
            let nx = cx as i64 + dx;
            if ny < 0 || nx < 0 || ny >= h as i64 || nx >= w as i64 {
                continue;
            }
            let (ny, nx) = (ny as usize, nx as usize);
            if !mask[[ny, nx]] && !outside[[ny, nx]] {
                outside[[ny, nx]] = true;
                stack.push((ny, nx));
            }
        }
    }
    outside.mapv(|o| !o)
}

/// Fills holes of at most `max_area` pixels: background regions
/// (4-connected) that do not reach the image border and are that small
/// (`skimage.morphology.remove_small_holes`). Larger enclosed background
/// stays: in dense tissue a ring of touching nuclei encloses real
/// background, which must not become one giant object.
pub fn fill_small_holes(mask: &Array2<bool>, max_area: usize) -> Array2<bool> {
    let (h, w) = mask.dim();
    let mut out = mask.clone();
    let mut seen = Array2::<bool>::from_elem((h, w), false);
    let mut comp = Vec::new();
    let mut stack = Vec::new();
    for y in 0..h {
        for x in 0..w {
            if mask[[y, x]] || seen[[y, x]] {
                continue;
            }
            comp.clear();
            seen[[y, x]] = true;
            stack.push((y, x));
            let mut border = false;
            while let Some((cy, cx)) = stack.pop() {
                comp.push((cy, cx));
                if cy == 0 || cx == 0 || cy + 1 == h || cx + 1 == w {
                    border = true;
                }
                for (dy, dx) in N4 {
                    let ny = cy as i64 + dy;
                    let nx = cx as i64 + dx;
                    if ny < 0 || nx < 0 || ny >= h as i64 || nx >= w as i64 {
                        continue;
                    }
                    let (ny, nx) = (ny as usize, nx as usize);
                    if !mask[[ny, nx]] && !seen[[ny, nx]] {
                        seen[[ny, nx]] = true;
                        stack.push((ny, nx));
                    }
                }
            }
            if !border && comp.len() <= max_area {
                for &(cy, cx) in &comp {
                    out[[cy, cx]] = true;
                }
            }
        }
    }
    out
}

/// Fills the holes of every label of a label image: a background region
/// (4-connected) that does not reach the border and touches exactly one
/// label becomes that label. Whole-image version, the reference of the
/// per-label one.
#[cfg(test)]
fn fill_label_holes_global(labels: &mut Array2<u32>) {
    let (h, w) = labels.dim();
    let mut seen = Array2::<bool>::from_elem((h, w), false);
    let mut comp = Vec::new();
    let mut stack = Vec::new();
    for y in 0..h {
        for x in 0..w {
            if labels[[y, x]] != 0 || seen[[y, x]] {
                continue;
            }
            comp.clear();
            seen[[y, x]] = true;
            stack.push((y, x));
            let mut touches_border = false;
            let mut owner: Option<u32> = None;
            let mut several = false;
            while let Some((cy, cx)) = stack.pop() {
                comp.push((cy, cx));
                if cy == 0 || cx == 0 || cy + 1 == h || cx + 1 == w {
                    touches_border = true;
                }
                for (dy, dx) in N4 {
                    let ny = cy as i64 + dy;
                    let nx = cx as i64 + dx;
                    if ny < 0 || nx < 0 || ny >= h as i64 || nx >= w as i64 {
                        continue;
                    }
                    let (ny, nx) = (ny as usize, nx as usize);
                    let l = labels[[ny, nx]];
                    if l == 0 {
                        if !seen[[ny, nx]] {
                            seen[[ny, nx]] = true;
                            stack.push((ny, nx));
                        }
                    } else {
                        match owner {
                            None => owner = Some(l),
                            Some(o) if o != l => several = true,
                            _ => {}
                        }
                    }
                }
            }
            if let (false, false, Some(l)) = (touches_border, several, owner) {
                for &(cy, cx) in &comp {
                    labels[[cy, cx]] = l;
                }
            }
        }
    }
}

/// Grows the labels of `labels` into their unlabelled neighbours where
/// `allowed(y, x)` holds, breadth-first (8-connected) from every labelled
/// pixel in raster order, so each pixel takes the label that reaches it
/// first (a geodesic nearest-label assignment; deterministic).
pub fn grow_labels(labels: &mut Array2<u32>, allowed: impl Fn(usize, usize) -> bool) {
    let (h, w) = labels.dim();
    let mut q = std::collections::VecDeque::new();
    for ((y, x), &l) in labels.indexed_iter() {
        if l != 0 {
            q.push_back((y, x));
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
            if labels[[ny, nx]] == 0 && allowed(ny, nx) {
                labels[[ny, nx]] = l;
                q.push_back((ny, nx));
            }
        }
    }
}

/// Renumbers labels to 1..=n in raster order of first appearance; returns n.
pub fn relabel_sequential(labels: &mut Array2<u32>) -> u32 {
    let mut map = std::collections::HashMap::new();
    let mut n = 0u32;
    for v in labels.iter_mut() {
        if *v == 0 {
            continue;
        }
        let new = *map.entry(*v).or_insert_with(|| {
            n += 1;
            n
        });
        *v = new;
    }
    n
}

/// Pixel count of every label (index 0 = background), for labels 0..=n.
pub fn label_areas(labels: &Array2<u32>, n: u32) -> Vec<usize> {
    let mut a = vec![0usize; n as usize + 1];
    for &l in labels.iter() {
        if (l as usize) < a.len() {
            a[l as usize] += 1;
        }
    }
    a
}

/// Whole-image version of [`keep_largest_piece`], its reference.
#[cfg(test)]
fn keep_largest_piece_global(labels: &mut Array2<u32>) {
    let (h, w) = labels.dim();
    let mut piece = Array2::<u32>::zeros((h, w));
    let mut best: std::collections::HashMap<u32, (usize, u32)> = std::collections::HashMap::new();
    let mut next = 0u32;
    let mut stack = Vec::new();
    let mut sizes = vec![0usize];
    for y in 0..h {
        for x in 0..w {
            let l = labels[[y, x]];
            if l == 0 || piece[[y, x]] != 0 {
                continue;
            }
            next += 1;
            piece[[y, x]] = next;
            stack.push((y, x));
            let mut size = 0usize;
            while let Some((cy, cx)) = stack.pop() {
                size += 1;
                for (dy, dx) in N8 {
                    let ny = cy as i64 + dy;
                    let nx = cx as i64 + dx;
                    if ny < 0 || nx < 0 || ny >= h as i64 || nx >= w as i64 {
                        continue;
                    }
                    let (ny, nx) = (ny as usize, nx as usize);
                    if labels[[ny, nx]] == l && piece[[ny, nx]] == 0 {
                        piece[[ny, nx]] = next;
                        stack.push((ny, nx));
                    }
                }
            }
            sizes.push(size);
            let e = best.entry(l).or_insert((0, 0));
            if size > e.0 {
                *e = (size, next);
            }
        }
    }
    for (v, p) in labels.iter_mut().zip(piece.iter()) {
        if *v != 0 && best.get(v).map(|b| b.1) != Some(*p) {
            *v = 0;
        }
    }
}

/// Bounding box of every label, `[y0, x0, y1, x1]` (end exclusive), grown
/// by one pixel and clipped to the image; index = label, `None` where a
/// label is absent.
fn label_windows(labels: &Array2<u32>) -> Vec<Option<[usize; 4]>> {
    let (h, w) = labels.dim();
    let n = labels.iter().copied().max().unwrap_or(0);
    super::measure::bounding_boxes(labels, n)
        .into_iter()
        .map(|b| {
            b.map(|[x0, y0, x1, y1]| {
                [
                    y0.saturating_sub(1),
                    x0.saturating_sub(1),
                    (y1 + 2).min(h),
                    (x1 + 2).min(w),
                ]
            })
        })
        .collect()
}

/// Fills the holes of every label of a label image: a background region
/// (4-connected) that does not reach the border and touches exactly one
/// label becomes that label.
///
/// Worked per label in its window (bounding box + 1 px), in parallel: a
/// hole of label `l` is a 4-connected region of non-`l` pixels that does
/// not reach the window's edge and holds only background (a region that
/// also holds another label's pixels has background touching that label
/// too). The same result as a whole-image flood fill, without flooding
/// the whole background serially (a 2048 x 2048 field: 0.15 s).
pub fn fill_label_holes(labels: &mut Array2<u32>) {
    use rayon::prelude::*;
    let windows = label_windows(labels);
    let view = &*labels;
    let fills: Vec<(u32, Vec<(usize, usize)>)> = windows
        .par_iter()
        .enumerate()
        .filter_map(|(l, b)| b.map(|b| (l as u32, b)))
        .map(|(l, [y0, x0, y1, x1])| {
            let (wh, ww) = (y1 - y0, x1 - x0);
            // 0 = unvisited non-l, 1 = l, 2 = reached from the edge, 3 = done
            let mut st = vec![0u8; wh * ww];
            for y in 0..wh {
                for x in 0..ww {
                    if view[[y0 + y, x0 + x]] == l {
                        st[y * ww + x] = 1;
                    }
                }
            }
            let mut stack = Vec::new();
            for y in 0..wh {
                for x in 0..ww {
                    let edge = y == 0 || x == 0 || y + 1 == wh || x + 1 == ww;
                    if edge && st[y * ww + x] == 0 {
                        st[y * ww + x] = 2;
                        stack.push((y, x));
                    }
                }
            }
            let flood = |stack: &mut Vec<(usize, usize)>,
                         st: &mut [u8],
                         mark: u8,
                         comp: &mut Vec<(usize, usize)>| {
                while let Some((cy, cx)) = stack.pop() {
                    comp.push((cy, cx));
                    for (dy, dx) in N4 {
                        let (ny, nx) = (cy as i64 + dy, cx as i64 + dx);
                        if ny < 0 || nx < 0 || ny >= wh as i64 || nx >= ww as i64 {
                            continue;
                        }
                        let k = ny as usize * ww + nx as usize;
                        if st[k] == 0 {
                            st[k] = mark;
                            stack.push((ny as usize, nx as usize));
                        }
                    }
                }
            };
            let mut scratch = Vec::new();
            flood(&mut stack, &mut st, 2, &mut scratch);
            let mut out = Vec::new();
            let mut comp = Vec::new();
            for y in 0..wh {
                for x in 0..ww {
                    if st[y * ww + x] != 0 {
                        continue;
                    }
                    st[y * ww + x] = 3;
                    comp.clear();
                    stack.push((y, x));
                    flood(&mut stack, &mut st, 3, &mut comp);
                    if comp.iter().all(|&(cy, cx)| view[[y0 + cy, x0 + cx]] == 0) {
                        out.extend(comp.iter().map(|&(cy, cx)| (y0 + cy, x0 + cx)));
                    }
                }
            }
            (l, out)
        })
        .collect();
    for (l, px) in fills {
        for (y, x) in px {
            labels[[y, x]] = l;
        }
    }
}

/// Keeps the largest 8-connected piece of every label (the first in
/// raster order on a tie); the other pieces become background. Worked per
/// label in its window, in parallel.
pub fn keep_largest_piece(labels: &mut Array2<u32>) {
    use rayon::prelude::*;
    let windows = label_windows(labels);
    let view = &*labels;
    let clears: Vec<Vec<(usize, usize)>> = windows
        .par_iter()
        .enumerate()
        .filter_map(|(l, b)| b.map(|b| (l as u32, b)))
        .map(|(l, [y0, x0, y1, x1])| {
            let (wh, ww) = (y1 - y0, x1 - x0);
            let mut piece = vec![0u32; wh * ww];
            let mut pieces: Vec<Vec<(usize, usize)>> = Vec::new();
            let mut stack = Vec::new();
            for y in 0..wh {
                for x in 0..ww {
                    if view[[y0 + y, x0 + x]] != l || piece[y * ww + x] != 0 {
                        continue;
                    }
                    let id = pieces.len() as u32 + 1;
                    piece[y * ww + x] = id;
                    stack.push((y, x));
                    let mut comp = Vec::new();
                    while let Some((cy, cx)) = stack.pop() {
                        comp.push((cy, cx));
                        for (dy, dx) in N8 {
                            let (ny, nx) = (cy as i64 + dy, cx as i64 + dx);
                            if ny < 0 || nx < 0 || ny >= wh as i64 || nx >= ww as i64 {
                                continue;
                            }
                            let (ny, nx) = (ny as usize, nx as usize);
                            if piece[ny * ww + nx] == 0 && view[[y0 + ny, x0 + nx]] == l {
                                piece[ny * ww + nx] = id;
                                stack.push((ny, nx));
                            }
                        }
                    }
                    pieces.push(comp);
                }
            }
            let best = (0..pieces.len()).fold(0, |b, i| {
                if pieces[i].len() > pieces[b].len() {
                    i
                } else {
                    b
                }
            });
            pieces
                .into_iter()
                .enumerate()
                .filter(|&(i, _)| i != best)
                .flat_map(|(_, c)| c.into_iter().map(|(cy, cx)| (y0 + cy, x0 + cx)))
                .collect()
        })
        .collect();
    for px in clears {
        for (y, x) in px {
            labels[[y, x]] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_two_blobs_and_fills_a_hole() {
        let mut m = Array2::from_elem((10, 12), false);
        for y in 1..6 {
            for x in 1..6 {
                m[[y, x]] = true;
            }
        }
        m[[3, 3]] = false; // hole
        m[[8, 10]] = true;
        m[[9, 11]] = true; // diagonal neighbour: same component
        let (l, n) = label(&m);
        assert_eq!(n, 2);
        assert_eq!(l[[1, 1]], 1);
        assert_eq!(l[[8, 10]], l[[9, 11]]);
        let f = fill_holes(&m);
        assert!(f[[3, 3]]);
        assert!(!f[[0, 0]]);
    }

    #[test]
    fn label_holes_fill_only_when_enclosed_by_one_label() {
        let mut l = Array2::<u32>::zeros((7, 7));
        for y in 1..6 {
            for x in 1..6 {
                l[[y, x]] = 4;
            }
        }
        l[[3, 3]] = 0;
        l[[2, 2]] = 5; // another label next to... not around the hole
        fill_label_holes(&mut l);
        assert_eq!(l[[3, 3]], 4);
        assert_eq!(relabel_sequential(&mut l), 2);
        assert_eq!(l[[1, 1]], 1);
        assert_eq!(l[[2, 2]], 2);
    }

    #[test]
    fn per_label_fill_and_keep_match_the_whole_image_versions() {
        // Random blobs of a few labels, with holes, islands, nested labels
        // and labels at the border.
        let mut rng = crate::rng::Rng::new(3, 1);
        let (mut filled, mut cut) = (0, 0);
        for _ in 0..40 {
            let (h, w) = (48, 56);
            let mut l = Array2::<u32>::zeros((h, w));
            for _ in 0..12 {
                let lab = 1 + (rng.uniform() * 5.0) as u32;
                let (cy, cx) = (rng.uniform() * h as f64, rng.uniform() * w as f64);
                let r = 2.0 + rng.uniform() * 9.0;
                let hole = rng.uniform() * 0.6 * r;
                for y in 0..h {
                    for x in 0..w {
                        let d = ((y as f64 - cy).powi(2) + (x as f64 - cx).powi(2)).sqrt();
                        if d <= r && d >= hole {
                            l[[y, x]] = lab;
                        } else if d < hole && rng.uniform() < 0.1 {
                            l[[y, x]] = 0;
                        }
                    }
                }
            }
            let (mut a, mut b) = (l.clone(), l.clone());
            fill_label_holes(&mut a);
            fill_label_holes_global(&mut b);
            assert_eq!(a, b);
            filled += usize::from(a != l);
            let before = a.clone();
            keep_largest_piece(&mut a);
            keep_largest_piece_global(&mut b);
            assert_eq!(a, b);
            cut += usize::from(a != before);
        }
        // The cases exercise both operations.
        assert!(filled >= 10 && cut >= 10, "{filled} {cut}");
    }

    #[test]
    fn largest_piece_kept() {
        let mut l = Array2::<u32>::zeros((5, 9));
        for x in 0..4 {
            l[[2, x]] = 3;
        }
        l[[2, 7]] = 3;
        keep_largest_piece(&mut l);
        assert_eq!(l[[2, 7]], 0);
        assert_eq!(l[[2, 0]], 3);
    }
}
