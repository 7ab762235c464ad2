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

/// Values of `img` in a ring 1 to 3 PSF sigmas outside an object's
/// aperture (taken as a disc of the aperture's area); `None` under 8
/// pixels.
fn ring_around(img: &Array2<f32>, o: &SpotObject, sigma: f64) -> Option<Vec<f32>> {
    let (h, w) = img.dim();
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
                ring.push(img[[y, x]]);
            }
        }
    }
    (ring.len() >= 8).then_some(ring)
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
///
/// A granule is ONE object seen in both channels, so the other channel's
/// excess must also follow this object's profile (see the fit below);
/// where it is broad and significant but does not, the object lies on
/// autofluorescent tissue ([`OtherChannel::BroadBackground`]).
///
/// `other_dots` are the centres of the other probe's PSF-wide signals:
/// aperture pixels within 3 PSF sigmas of one are left out, as that light
/// is a signal of the other probe, not autofluorescence. A CEP12 copy
/// beside an MDM2 cluster (the same chromosome) otherwise made the
/// cluster's aperture hold a significant excess in the CEP12 image whose
/// second moment, over a cluster-sized aperture with its positive noise,
/// passed as broad: the cluster was taken for a dot on tissue and counted
/// as ONE copy (docs/accuracy.md, "Clusters beside a signal of the other
/// probe").
pub fn seen_in_other_channel(
    other: &Array2<f32>,
    o: &SpotObject,
    other_dots: &[(f64, f64)],
    sigma: f64,
    width_factor: f64,
    min_snr: f64,
) -> OtherChannel {
    use OtherChannel::*;
    let (h, w) = other.dim();
    if o.aperture.is_empty() {
        return Absent;
    }
    let Some(ring) = ring_around(other, o, sigma) else {
        return Absent;
    };
    let bg = super::detect::median(&mut ring.clone()) as f64;
    let noise = super::detect::robust_sd(&ring) as f64;
    let (mut s, mut sx, mut sy) = (0.0f64, 0.0f64, 0.0f64);
    let mut px = Vec::with_capacity(o.aperture.len());
    // The object's own profile as a noise-free model: a Gaussian of its
    // photometric width holding its flux (the measured aperture values
    // carry the noise, which would bias the fitted share towards 0 in
    // faint images).
    let wp = o.width_px.max(0.5 * sigma);
    let norm = o.flux / (2.0 * std::f64::consts::PI * wp * wp);
    let mut shape = Vec::with_capacity(o.aperture.len());
    let reach = 3.0 * sigma;
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(i, _) in &o.aperture {
        let (y, x) = ((i as usize / w) as f64, (i as usize % w) as f64);
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    let other_dots: Vec<(f64, f64)> = other_dots
        .iter()
        .copied()
        .filter(|&(x, y)| x >= x0 - reach && x <= x1 + reach && y >= y0 - reach && y <= y1 + reach)
        .collect();
    let reach2 = reach * reach;
    for &(i, _) in &o.aperture {
        let (y, x) = (i as usize / w, i as usize % w);
        if y >= h
            || other_dots
                .iter()
                .any(|&(dx, dy)| (x as f64 - dx).powi(2) + (y as f64 - dy).powi(2) <= reach2)
        {
            continue;
        }
        let v = other[[y, x]] as f64 - bg;
        px.push((x as f64, y as f64, v));
        let r2 = (x as f64 - o.x).powi(2) + (y as f64 - o.y).powi(2);
        shape.push((norm * (-r2 / (2.0 * wp * wp)).exp(), v));
        s += v;
        sx += v * x as f64;
        sy += v * y as f64;
    }
    if px.len() < 8 {
        return Absent;
    }
    let n = px.len() as f64;
    // Significant, and comparable with the object itself: autofluorescence
    // is broad-band, so a granule is of similar brightness in both probe
    // channels (within a factor of 5); a small excess under a bright
    // cluster is a background step, not a granule.
    if s <= 0.0 || noise <= 0.0 || s < min_snr * noise * n.sqrt() || s < 0.2 * o.flux {
        return Absent;
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
    if (m2 / 2.0).sqrt() <= width_factor * sigma {
        return Absent;
    }
    // The same object in both channels has the same shape: the other
    // image, fitted over the aperture as a * (this object's profile) + b,
    // must hold a significant share a >= 0.2 of it (a = the other
    // channel's brightness relative to this one's). A broad excess that
    // does not follow the profile (autofluorescent tissue under a dot,
    // about 0.5 noise SD per pixel over a 350-pixel aperture, which the
    // sum above finds significant) gives a near 0.
    let (mu, mv) = (
        shape.iter().map(|p| p.0).sum::<f64>() / n,
        shape.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let suu: f64 = shape.iter().map(|p| (p.0 - mu).powi(2)).sum();
    let suv: f64 = shape.iter().map(|p| (p.0 - mu) * (p.1 - mv)).sum();
    let follows = suu > 0.0 && {
        let a = suv / suu;
        a >= 0.2 && a >= min_snr * noise / suu.sqrt()
    };
    if follows {
        SameObject
    } else {
        BroadBackground
    }
}

/// What the other probe channel shows under a broad bright object
/// ([`seen_in_other_channel`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtherChannel {
    /// Nothing broad and significant: the object is this probe's alone.
    Absent,
    /// The same object, of comparable brightness and shape: a granule.
    SameObject,
    /// A broad significant excess that does not follow the object's
    /// profile: the object lies on autofluorescent tissue, whose light
    /// inflates its flux; it is neither a granule nor, on that flux, a
    /// cluster.
    BroadBackground,
}

/// Pixels where the DAPI image is clipped: the maximum value, when it is
/// repeated in at least 0.01 % of the pixels (and at least 10): a camera
/// or an export that clips piles pixels up at its top value, while the
/// brightest pixel of an unclipped image is nearly unique. `None` when
/// nothing is clipped.
pub fn clipped_mask(dapi: &Array2<f32>) -> Option<Array2<bool>> {
    let m = dapi.iter().copied().fold(f32::MIN, f32::max);
    let n = dapi.iter().filter(|&&v| v >= m).count();
    (n >= 10 && n as f64 >= 1e-4 * dapi.len() as f64).then(|| dapi.mapv(|v| v >= m))
}

/// The value at which a probe image is clipped: its maximum, when that is
/// the top of a camera range (8, 10, 12, 14 or 16 bits) and at least two
/// pixels hold it. `None` otherwise (and for rescaled or float data).
pub fn clip_value(img: &Array2<f32>) -> Option<f32> {
    let m = img.iter().copied().fold(f32::MIN, f32::max);
    let top = [255.0f32, 1023.0, 4095.0, 16383.0, 65535.0];
    (top.contains(&m) && img.iter().filter(|&&v| v >= m).count() >= 2).then_some(m)
}

/// Share of an object's own profile found at the same place in the OTHER
/// probe image: the least-squares amplitude of a Gaussian of the object's
/// photometric width holding its flux, fitted to the other image minus
/// its ring background (1 to 3 PSF sigmas outside the aperture), over the
/// aperture. About 0 for a signal of one probe; about
/// `beta_other / beta_own` for DAPI bleed-through, which prints the same
/// chromatin texture into both probe images. `None` without a ring.
pub fn share_in_other_channel(other: &Array2<f32>, o: &SpotObject, sigma: f64) -> Option<f64> {
    let (h, w) = other.dim();
    if o.aperture.is_empty() || o.flux <= 0.0 {
        return None;
    }
    let mut ring = ring_around(other, o, sigma)?;
    let bg = super::detect::median(&mut ring) as f64;
    let wp = o.width_px.max(0.5 * sigma);
    let norm = o.flux / (2.0 * std::f64::consts::PI * wp * wp);
    let (mut sgv, mut sgg) = (0.0f64, 0.0f64);
    for &(i, _) in &o.aperture {
        let (y, x) = (i as usize / w, i as usize % w);
        if y >= h {
            continue;
        }
        let r2 = (x as f64 - o.x).powi(2) + (y as f64 - o.y).powi(2);
        let g = norm * (-r2 / (2.0 * wp * wp)).exp();
        sgv += g * (other[[y, x]] as f64 - bg);
        sgg += g * g;
    }
    (sgg > 0.0).then(|| sgv / sgg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::optics::add_gaussian;

    /// One object of `own` around (30, 30), measured as the pipeline does.
    fn object(own: &Array2<f32>) -> SpotObject {
        let objs = crate::spots::objects::objects_on_flat(own, &[(30, 30)], 20.0, 3, 0.05);
        assert_eq!(objs.len(), 1);
        objs.into_iter().next().unwrap()
    }

    /// [`object`], asserted broad (wider than 1.6 PSF sigmas of 1.5 px).
    fn broad_object(own: &Array2<f32>) -> SpotObject {
        let o = object(own);
        assert!(o.width_px > 2.4, "width {}", o.width_px);
        o
    }

    /// [`seen_in_other_channel`] at the tests' PSF (1.5 px), granule width
    /// (1.6 sigmas) and significance (4.5 SDs).
    fn seen(other: &Array2<f32>, o: &SpotObject, dots: &[(f64, f64)]) -> OtherChannel {
        seen_in_other_channel(other, o, dots, 1.5, 1.6, 4.5)
    }

    fn noisy(seed: u64) -> Array2<f32> {
        crate::spots::objects::noisy_flat(seed, 61)
    }

    #[test]
    fn granule_tissue_and_lone_object_are_told_apart() {
        // A broad granule (sigma 4 px) at the same place in both channels.
        let mut own = noisy(1);
        let mut other = noisy(2);
        add_gaussian(&mut own, 30.0, 30.0, 4.0, 40000.0);
        add_gaussian(&mut other, 30.2, 29.8, 4.0, 30000.0);
        let o = broad_object(&own);
        assert_eq!(seen(&other, &o, &[]), OtherChannel::SameObject);
        // Two dots 3 px apart (one broad object) on a patch of tissue
        // autofluorescence (sigma 8 px) seen in both channels, 3 px off
        // the object's centre: the other channel's excess is broad and
        // significant but does not follow the object.
        let mut own = noisy(3);
        let mut other = noisy(4);
        add_gaussian(&mut own, 28.5, 30.0, 1.5, 3000.0);
        add_gaussian(&mut own, 31.5, 30.0, 1.5, 3000.0);
        add_gaussian(&mut own, 30.0, 33.0, 8.0, 12000.0);
        add_gaussian(&mut other, 30.0, 33.0, 8.0, 12000.0);
        let o = broad_object(&own);
        assert_eq!(seen(&other, &o, &[]), OtherChannel::BroadBackground);
        // The same broad object with nothing in the other channel.
        assert_eq!(seen(&noisy(5), &o, &[]), OtherChannel::Absent);
    }

    /// A cluster (five dots within 4 px) with a PSF-wide dot of the other
    /// probe 4 px from its centre, inside its aperture, a quarter of its
    /// flux: the light there is that dot's, not tissue. Counted as tissue,
    /// the cluster would be one copy.
    #[test]
    fn a_dot_of_the_other_probe_beside_a_cluster_is_not_tissue() {
        let mut own = noisy(9);
        let mut other = noisy(10);
        for (dx, dy) in [
            (0.0, 0.0),
            (3.5, 0.5),
            (-3.0, 1.5),
            (0.5, -3.5),
            (-2.0, -2.5),
        ] {
            add_gaussian(&mut own, 30.0 + dx, 30.0 + dy, 1.5, 3000.0);
        }
        add_gaussian(&mut other, 33.0, 32.6, 1.5, 4000.0);
        let o = broad_object(&own);
        assert_eq!(seen(&other, &o, &[]), OtherChannel::BroadBackground);
        assert_eq!(seen(&other, &o, &[(33.0, 32.6)]), OtherChannel::Absent);
    }

    #[test]
    fn a_profile_in_both_images_has_a_share_and_a_lone_dot_none() {
        // DAPI bleed-through: the same blob in both probe images at 0.8
        // of the strength; a dot of one probe: nothing in the other.
        let mut own = noisy(6);
        let mut other = noisy(7);
        add_gaussian(&mut own, 30.0, 30.0, 2.0, 3000.0);
        add_gaussian(&mut other, 30.0, 30.0, 2.0, 2400.0);
        let o = object(&own);
        let a = share_in_other_channel(&other, &o, 1.5).unwrap();
        assert!((a - 0.8).abs() < 0.15, "bleed share {a}");
        let b = share_in_other_channel(&noisy(8), &o, 1.5).unwrap();
        assert!(b.abs() < 0.15, "lone dot share {b}");
    }

    #[test]
    fn clipping_is_a_pile_up_at_the_top_value() {
        let mut rng = crate::rng::Rng::new(9, 3);
        let mut img = Array2::from_shape_fn((100, 100), |_| (1000.0 + 300.0 * rng.normal()) as f32);
        assert!(clipped_mask(&img).is_none());
        for i in 0..40 {
            img[[i, 2 * i]] = 4095.0;
        }
        img.mapv_inplace(|v| v.min(4095.0));
        let m = clipped_mask(&img).unwrap();
        assert_eq!(m.iter().filter(|&&c| c).count(), 40);
        assert!(m[[10, 20]] && !m[[10, 21]]);
    }

    #[test]
    fn a_clip_is_a_camera_top_held_by_several_pixels() {
        let mut img = Array2::from_elem((20, 20), 300.0f32);
        img[[3, 3]] = 4095.0;
        assert_eq!(clip_value(&img), None, "one pixel at the top is not a clip");
        img[[3, 4]] = 4095.0;
        assert_eq!(clip_value(&img), Some(4095.0));
        img.mapv_inplace(|v| v * 0.5);
        assert_eq!(clip_value(&img), None, "rescaled data has no camera top");
    }
}
