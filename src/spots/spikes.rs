//! Single-pixel spikes (hot pixels of the camera, cosmic-ray hits) in a
//! probe image: a bright pixel whose neighbours hold less of its light
//! than any spot seen through the objective can.
//!
//! Light reaches the camera through the point-spread function, which no
//! objective makes narrower than the diffraction limit: a Gaussian of
//! sigma `0.21 lambda / NA` (Zhang, Zerubia & Olivo-Marin 2007) with the
//! bluest probe dye (`lambda` 0.45 um) and the highest numerical aperture
//! made (1.49) gives `SIGMA_MIN_UM`. Integrated over square pixels, such a
//! spot centred on a pixel gives each of its four edge neighbours at
//! least the fraction `r` of the centre pixel's light ([`min_edge_ratio`];
//! off centre, one of them gets more). A pixel whose brightest edge
//! neighbour holds clearly less than that, by photon noise and by the
//! image's noise, is not an optical signal; it is replaced by the median of
//! its 8 neighbours before detection. Under-sampled images (pixels of
//! 0.2 um and more) put a spot's light in one pixel: `r` is then near 0
//! and nothing is replaced, as nothing can be told apart.

use super::objects::SpotObject;
use ndarray::Array2;
use rayon::prelude::*;

/// The narrowest PSF sigma any objective gives a FISH dye, in um:
/// `0.21 x 0.45 um / 1.49`.
pub const SIGMA_MIN_UM: f64 = 0.21 * 0.45 / 1.49;

/// Noise SDs by which a spike must fall short of an optical spot: a
/// one-sided Gaussian tail of 1e-9, so that noise alone makes a false
/// spike about once in 250 fields of 2048 x 2048 pixels.
const Z: f32 = 6.0;

/// Least light of a pixel's brightest edge neighbour relative to the pixel,
/// for a Gaussian spot of sigma `s` pixels centred on the pixel and
/// integrated over square pixels (the 1-D integral over the neighbour's
/// span `[0.5, 1.5]` over the centre's `[-0.5, 0.5]`; the other axis
/// gives both the same factor).
pub fn min_edge_ratio(s: f64) -> f64 {
    if s.is_nan() || s <= 0.0 {
        return 0.0;
    }
    let integral = |a: f64, b: f64| {
        let n = 400;
        let h = (b - a) / n as f64;
        (0..n)
            .map(|i| {
                let x = a + (i as f64 + 0.5) * h;
                (-x * x / (2.0 * s * s)).exp() * h
            })
            .sum::<f64>()
    };
    integral(0.5, 1.5) / integral(-0.5, 0.5)
}

/// Robust SD of the pixel noise: 1.4826 x the MAD of horizontally adjacent
/// differences over sqrt 2 (every 4th row; spots and edges are a small
/// share of the differences).
pub fn pixel_noise_sd(img: &Array2<f32>) -> f32 {
    let (h, w) = img.dim();
    if w < 2 {
        return 0.0;
    }
    let mut d: Vec<f32> = (0..h)
        .step_by(4)
        .flat_map(|y| {
            let row = img.row(y);
            (0..w - 1).map(move |x| row[x + 1] - row[x])
        })
        .filter(|v| v.is_finite())
        .collect();
    super::detect::median_and_robust_sd(&mut d).1 / std::f32::consts::SQRT_2
}

/// The spike test at one pixel. With `b` the median of the 16 pixels 2
/// away, `c` the pixel's excess over `b` and `s4` the summed excess of its
/// 4 edge neighbours (whose least share of a spot's light is `4 r`, for
/// the spot centred on the pixel: off centre, the side it moves to gains
/// more than the other loses): `s4 < 2 r c` (photon noise cannot take a
/// bright spot's neighbours that far under `4 r c`) and
/// `4 r c - s4 > z sd sqrt(16 r^2 + 4)` (nor the image noise a faint
/// one's; `s4` carries 2 sd of it; `sd` is raised to the ring's own
/// robust spread where that is over 1.5 sd). The ring holds background for a sharp
/// spot and, for a wide one, light that lowers `c` and `s4` alike:
/// `s4 / 4c` of a Gaussian spot stays above 0.5 at every width from 1 px
/// up (0.75 in the limit), against the `r / 2 <= 0.33` the test asks for.
/// False for pixels within 2 of the border.
pub fn is_spike(img: &Array2<f32>, x: usize, y: usize, r: f32, sd: f32, z: f32) -> bool {
    let (h, w) = img.dim();
    if x < 2 || y < 2 || x + 2 >= w || y + 2 >= h {
        return false;
    }
    let margin = z * sd * (16.0 * r * r + 4.0).sqrt();
    let v = img[[y, x]];
    let n4 = [
        img[[y - 1, x]],
        img[[y + 1, x]],
        img[[y, x - 1]],
        img[[y, x + 1]],
    ];
    let sum4: f32 = n4.iter().sum();
    // Cheap necessary conditions first: a strict maximum, and the test
    // passed even over the highest background that leaves it one (b = v).
    if !(n4.iter().all(|&e| v > e) && 4.0 * v - sum4 > margin) {
        return false;
    }
    let mut ring = [0f32; 16];
    for k in 0..5 {
        ring[k] = img[[y - 2, x - 2 + k]];
        ring[5 + k] = img[[y + 2, x - 2 + k]];
    }
    for k in 1..4 {
        ring[9 + k] = img[[y - 2 + k, x - 2]];
        ring[12 + k] = img[[y - 2 + k, x + 2]];
    }
    ring.sort_by(f32::total_cmp);
    let b = 0.5 * (ring[7] + ring[8]);
    // The local noise: on a bright object (a granule, a cluster) photon
    // noise exceeds the image's; the ring's own spread (robust, and raised
    // further by any slope under it) then sets the margin. Only where it
    // is clearly above the image's (1.5 x: a 16-pixel estimate on plain
    // background stays under that 19 times in 20), so that on background
    // the estimate's own scatter does not blunt the test.
    let mut dev = ring.map(|q| (q - b).abs());
    dev.sort_by(f32::total_cmp);
    let local = 1.4826 * 0.5 * (dev[7] + dev[8]);
    let margin = if local > 1.5 * sd {
        margin * local / sd
    } else {
        margin
    };
    // Neighbours darker than the background are no evidence: only the
    // light missing from them counts (the excess is taken as at least 0).
    let (c, s4) = (v - b, (sum4 - 4.0 * b).max(0.0));
    s4 < 2.0 * r * c && 4.0 * r * c - s4 > margin
}

/// `r` of [`is_spike`] at pixel size `px_um` ([`min_edge_ratio`] at
/// [`SIGMA_MIN_UM`]); `None` where it is too small to tell a spike from a
/// spot (pixels of about 0.2 um and more) or the pixel size is unusable.
pub fn spike_ratio(px_um: f64) -> Option<f32> {
    let r = min_edge_ratio(SIGMA_MIN_UM / px_um) as f32;
    (px_um > 0.0 && r >= 0.02).then_some(r)
}

/// Replaces the single-pixel spikes of `img` (pixel size `px_um`, pixel
/// noise `sd` from [`pixel_noise_sd`]) by the median of their 8
/// neighbours and returns how many there were: every pixel is tested
/// ([`is_spike`] with `z` = 6 and `r` = [`spike_ratio`]). Spikes are found
/// on the input image and replaced afterwards, so the result does not
/// depend on the order of the rows.
pub fn repair_spikes(img: &mut Array2<f32>, px_um: f64, sd: f32) -> usize {
    let (h, w) = img.dim();
    let Some(r) = spike_ratio(px_um) else {
        return 0;
    };
    if h < 5 || w < 5 || sd.is_nan() || sd <= 0.0 {
        return 0;
    }
    let src = &*img;
    let data = src.as_slice().expect("standard layout");
    // The cheap necessary condition of `is_spike` on row slices first (a
    // strict maximum over the edge neighbours, and `4 v - sum4` over the
    // smallest margin): most pixels end there.
    let least = Z * sd * (16.0 * r * r + 4.0).sqrt();
    let found: Vec<(usize, usize, f32)> = (2..h - 2)
        .into_par_iter()
        .flat_map_iter(|y| {
            let (up, row, down) = (
                &data[(y - 1) * w..y * w],
                &data[y * w..(y + 1) * w],
                &data[(y + 1) * w..(y + 2) * w],
            );
            (2..w - 2).filter_map(move |x| {
                let v = row[x];
                let (a, b, c, d) = (up[x], down[x], row[x - 1], row[x + 1]);
                if !(v > a.max(b).max(c).max(d) && 4.0 * v - (a + b + c + d) > least) {
                    return None;
                }
                is_spike(src, x, y, r, sd, Z).then(|| {
                    let mut nb = [
                        src[[y - 1, x - 1]],
                        src[[y - 1, x]],
                        src[[y - 1, x + 1]],
                        src[[y, x - 1]],
                        src[[y, x + 1]],
                        src[[y + 1, x - 1]],
                        src[[y + 1, x]],
                        src[[y + 1, x + 1]],
                    ];
                    nb.sort_by(f32::total_cmp);
                    (y, x, 0.5 * (nb[3] + nb[4]))
                })
            })
        })
        .collect();
    for &(y, x, v) in &found {
        img[[y, x]] = v;
    }
    found.len()
}

/// Noise SDs for the test at a detected object's brightest pixel
/// ([`object_is_spike`]): a few thousand objects per field are tested, not
/// millions of pixels, so a one-sided tail of 3.4e-6 (4.5 SDs) keeps
/// false rejections of real spots to about one in a hundred fields.
pub const Z_OBJECT: f32 = 4.5;

/// Removes from `objects` (detected on `img`, pixel size `px_um`, pixel
/// noise `sd`) the single-maximum ones that are spikes [`repair_spikes`]'
/// stricter all-pixel test let through ([`object_is_spike`]); returns how
/// many.
pub fn remove_spike_objects(
    objects: &mut Vec<SpotObject>,
    img: &Array2<f32>,
    px_um: f64,
    sd: f32,
) -> usize {
    let before = objects.len();
    if let (Some(r), true) = (spike_ratio(px_um), sd > 0.0) {
        objects.retain(|o| o.n_maxima > 1 || !object_is_spike(img, o.seed, r, sd));
    }
    before - objects.len()
}

/// Whether a detected object is a spike that [`repair_spikes`]' stricter
/// all-pixel test let through: the brightest pixel of the 3 x 3 around its
/// seed passes [`is_spike`] at [`Z_OBJECT`].
pub fn object_is_spike(img: &Array2<f32>, seed: (usize, usize), r: f32, sd: f32) -> bool {
    let (h, w) = img.dim();
    let (sx, sy) = seed;
    let mut best = (sx, sy);
    for y in sy.saturating_sub(1)..(sy + 2).min(h) {
        for x in sx.saturating_sub(1)..(sx + 2).min(w) {
            if img[[y, x]] > img[[best.1, best.0]] {
                best = (x, y);
            }
        }
    }
    is_spike(img, best.0, best.1, r, sd, Z_OBJECT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// A Gaussian spot of sigma `s` px and `flux` integrated over square
    /// pixels (sub-sampled 8 x 8), centred at (cx, cy).
    fn spot(img: &mut Array2<f32>, cx: f64, cy: f64, s: f64, flux: f64) {
        let (h, w) = img.dim();
        for y in 0..h {
            for x in 0..w {
                let mut acc = 0.0;
                for i in 0..8 {
                    for j in 0..8 {
                        let dx = x as f64 - 0.5 + (i as f64 + 0.5) / 8.0 - cx;
                        let dy = y as f64 - 0.5 + (j as f64 + 0.5) / 8.0 - cy;
                        acc += (-(dx * dx + dy * dy) / (2.0 * s * s)).exp();
                    }
                }
                img[[y, x]] += (flux * acc / 64.0 / (2.0 * std::f64::consts::PI * s * s)) as f32;
            }
        }
    }

    #[test]
    fn edge_ratio_of_a_pixel_integrated_gaussian() {
        // Wide PSFs: neighbours nearly as bright; a sigma of 1 px: about
        // 0.6 (measured by sampling in the test below); under-sampled: 0.
        assert!(min_edge_ratio(5.0) > 0.95);
        let r1 = min_edge_ratio(1.0);
        assert!((0.55..0.65).contains(&r1), "{r1}");
        assert!(min_edge_ratio(0.2) < 0.01);
        let mut img = Array2::<f32>::zeros((9, 9));
        spot(&mut img, 4.0, 4.0, 1.0, 1e6);
        let sampled = img[[4, 5]] / img[[4, 4]];
        assert!((sampled as f64 - r1).abs() < 2e-3, "{sampled} {r1}");
    }

    #[test]
    fn spots_at_the_diffraction_limit_are_never_spikes() {
        // The sharpest possible PSF at 0.065 and 0.1 um pixels, every
        // sub-pixel position, from faint (4 noise SDs of peak) to bright
        // (photon noise dominating), Poisson photons on a background.
        let mut rng = Rng::new(11, 0);
        for px in [0.065, 0.1, 0.13] {
            let s = SIGMA_MIN_UM / px;
            for flux in [60.0, 200.0, 1000.0, 5000.0, 50000.0] {
                for k in 0..40 {
                    let (cx, cy) = (16.0 + (k % 7) as f64 / 7.0, 16.0 + (k / 7) as f64 / 7.0);
                    let mut clean = Array2::<f32>::from_elem((33, 33), 100.0);
                    spot(&mut clean, cx, cy, s, flux);
                    let mut img =
                        clean.mapv(|e| (rng.poisson(e as f64) as f64 + 3.0 * rng.normal()) as f32);
                    let sd = pixel_noise_sd(&img);
                    let n = repair_spikes(&mut img, px, sd);
                    assert_eq!(n, 0, "px {px} flux {flux} at ({cx}, {cy})");
                }
            }
        }
    }

    #[test]
    fn hot_pixels_are_replaced_and_nothing_else_moves() {
        let mut rng = Rng::new(5, 0);
        let px = 0.1;
        let mut clean = Array2::<f32>::from_elem((64, 64), 400.0);
        spot(&mut clean, 20.3, 30.6, 0.15 / px, 3000.0);
        let mut img = clean.mapv(|e| (rng.poisson(e as f64) as f64 + 5.0 * rng.normal()) as f32);
        let before = img.clone();
        let hot = [
            (10usize, 10usize, 400.0f32),
            (50, 40, 3000.0),
            (34, 24, 2000.0),
        ];
        for &(y, x, a) in &hot {
            img[[y, x]] += a;
        }
        let sd = pixel_noise_sd(&img);
        let n = repair_spikes(&mut img, px, sd);
        assert_eq!(n, 3);
        for &(y, x, _) in &hot {
            assert!((img[[y, x]] - 400.0).abs() < 120.0, "{}", img[[y, x]]);
        }
        // Every other pixel as it was (the spot's included).
        for ((y, x), v) in img.indexed_iter() {
            if !hot.iter().any(|&(hy, hx, _)| (hy, hx) == (y, x)) {
                assert_eq!(*v, before[[y, x]]);
            }
        }
        // Under-sampled pixels: nothing is told apart.
        let mut coarse = before.clone();
        coarse[[10, 10]] += 3000.0;
        let sd = pixel_noise_sd(&coarse);
        assert_eq!(repair_spikes(&mut coarse, 0.3, sd), 0);
    }
}
