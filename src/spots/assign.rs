//! Assignment of signals to nuclei: the nucleus whose mask contains the
//! signal, or the nearest one within a small rim tolerance (signals sit on
//! the nuclear envelope and segmentation outlines are not exact).

use ndarray::Array2;

/// Nucleus label for a point, 0 when no nucleus is within `rim_px`.
pub fn assign_to_nucleus(labels: &Array2<u32>, x: f64, y: f64, rim_px: f64) -> u32 {
    let (h, w) = labels.dim();
    let (xi, yi) = (x.round() as i64, y.round() as i64);
    if xi >= 0 && yi >= 0 && (xi as usize) < w && (yi as usize) < h {
        let l = labels[[yi as usize, xi as usize]];
        if l != 0 {
            return l;
        }
    }
    let r = rim_px.ceil() as i64;
    let mut best = (f64::MAX, 0u32);
    for yy in (yi - r).max(0)..=(yi + r).min(h as i64 - 1) {
        for xx in (xi - r).max(0)..=(xi + r).min(w as i64 - 1) {
            let l = labels[[yy as usize, xx as usize]];
            if l == 0 {
                continue;
            }
            let d = ((xx as f64 - x).powi(2) + (yy as f64 - y).powi(2)).sqrt();
            if d <= rim_px && (d < best.0 || (d == best.0 && l < best.1)) {
                best = (d, l);
            }
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_rim_and_outside() {
        let mut l = Array2::<u32>::zeros((20, 20));
        for y in 5..10 {
            for x in 5..10 {
                l[[y, x]] = 3;
            }
        }
        assert_eq!(assign_to_nucleus(&l, 7.0, 7.0, 2.0), 3);
        assert_eq!(assign_to_nucleus(&l, 11.0, 7.0, 2.0), 3);
        assert_eq!(assign_to_nucleus(&l, 14.0, 7.0, 2.0), 0);
    }
}
