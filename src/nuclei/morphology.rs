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
/// label becomes that label.
pub fn fill_label_holes(labels: &mut Array2<u32>) {
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

/// Keeps, for every label, only its largest 8-connected piece (a label cut
/// in two by refinement keeps its main body).
pub fn keep_largest_piece(labels: &mut Array2<u32>) {
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
