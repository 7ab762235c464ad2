//! Autofluorescent granules (lipofuscin and the like): bright objects at
//! the same place in BOTH probe channels, broader than the PSF. Real
//! signals of the two probes rarely coincide, and never both broad.

use super::objects::SpotObject;

/// Indices `(target, control)` of object pairs that are one granule seen
/// in both channels: centres within `coloc_px` and both wider than
/// `width_factor` x the PSF sigma.
pub fn find_granules(
    target: &[SpotObject],
    control: &[SpotObject],
    sigma: f64,
    coloc_px: f64,
    width_factor: f64,
) -> Vec<(usize, usize)> {
    let broad = |o: &SpotObject| o.width_px > width_factor * sigma;
    let mut pairs = Vec::new();
    // Grid bucketing of control objects for a linear-time search.
    let cell = coloc_px.max(1.0);
    let mut grid: std::collections::HashMap<(i64, i64), Vec<usize>> = Default::default();
    for (j, c) in control.iter().enumerate() {
        if broad(c) {
            grid.entry(((c.x / cell).floor() as i64, (c.y / cell).floor() as i64))
                .or_default()
                .push(j);
        }
    }
    let mut used = vec![false; control.len()];
    for (i, t) in target.iter().enumerate() {
        if !broad(t) {
            continue;
        }
        let (gx, gy) = ((t.x / cell).floor() as i64, (t.y / cell).floor() as i64);
        let mut best: Option<(f64, usize)> = None;
        for dy in -1..=1 {
            for dx in -1..=1 {
                for &j in grid
                    .get(&(gx + dx, gy + dy))
                    .map(|v| v.as_slice())
                    .unwrap_or(&[])
                {
                    let d = ((control[j].x - t.x).powi(2) + (control[j].y - t.y).powi(2)).sqrt();
                    if d <= coloc_px && !used[j] && best.is_none_or(|b| d < b.0) {
                        best = Some((d, j));
                    }
                }
            }
        }
        if let Some((_, j)) = best {
            used[j] = true;
            pairs.push((i, j));
        }
    }
    pairs
}
