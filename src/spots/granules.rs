//! Autofluorescent granules (lipofuscin and the like): bright objects at
//! the same place in BOTH probe channels, broader than the PSF. Real
//! signals of the two probes rarely coincide, and never both broad.

use super::objects::SpotObject;
use ndarray::Array2;

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

/// Whether a broad object of one channel is also a broad object in the
/// OTHER channel's image, measured directly (the other channel's detector
/// may have missed it: a granule much wider than the PSF gives a weak
/// matched-filter response and is partly removed by the spot background).
/// The other image's excess over the object's aperture (background from a
/// ring 1 to 3 PSF sigmas outside it) must be significant at `min_snr`
/// and at least a fifth of the object's own flux, and at least
/// `width_factor` PSF sigmas wide (second moment about its own
/// centroid), so a PSF-sized dot of the other probe lying by chance in the
/// aperture does not make a cluster a granule.
pub fn seen_in_other_channel(
    other: &Array2<f32>,
    o: &SpotObject,
    sigma: f64,
    width_factor: f64,
    min_snr: f64,
) -> bool {
    let (h, w) = other.dim();
    if o.aperture.is_empty() {
        return false;
    }
    let r_ap = (o.aperture.len() as f64 / std::f64::consts::PI).sqrt();
    let (r0, r1) = (r_ap + sigma, r_ap + 3.0 * sigma);
    let mut ring = Vec::new();
    let (x0, x1) = (
        (o.x - r1).floor().max(0.0) as usize,
        ((o.x + r1).ceil() as usize).min(w - 1),
    );
    let (y0, y1) = (
        (o.y - r1).floor().max(0.0) as usize,
        ((o.y + r1).ceil() as usize).min(h - 1),
    );
    for y in y0..=y1 {
        for x in x0..=x1 {
            let d = ((x as f64 - o.x).powi(2) + (y as f64 - o.y).powi(2)).sqrt();
            if d >= r0 && d <= r1 {
                ring.push(other[[y, x]]);
            }
        }
    }
    if ring.len() < 8 {
        return false;
    }
    let bg = super::detect::median(&mut ring.clone()) as f64;
    let noise = super::detect::robust_sd(&ring) as f64;
    let (mut s, mut sx, mut sy) = (0.0f64, 0.0f64, 0.0f64);
    let mut px = Vec::with_capacity(o.aperture.len());
    for &(i, _) in &o.aperture {
        let (y, x) = (i as usize / w, i as usize % w);
        if y >= h {
            continue;
        }
        let v = other[[y, x]] as f64 - bg;
        px.push((x as f64, y as f64, v));
        s += v;
        sx += v * x as f64;
        sy += v * y as f64;
    }
    let n = px.len() as f64;
    // Significant, and comparable with the object itself: autofluorescence
    // is broad-band, so a granule is of similar brightness in both probe
    // channels (within a factor of 5); a small excess under a bright
    // cluster is a background step, not a granule.
    if s <= 0.0 || noise <= 0.0 || s < min_snr * noise * n.sqrt() || s < 0.2 * o.flux {
        return false;
    }
    let (cx, cy) = (sx / s, sy / s);
    let m2: f64 = px
        .iter()
        .map(|&(x, y, v)| v.max(0.0) * ((x - cx).powi(2) + (y - cy).powi(2)))
        .sum::<f64>()
        / px.iter()
            .map(|&(_, _, v)| v.max(0.0))
            .sum::<f64>()
            .max(1e-12);
    (m2 / 2.0).sqrt() > width_factor * sigma
}
