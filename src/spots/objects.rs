//! From maxima to objects: maxima connected through the signal mask form
//! one object (a single dot, a split pair, or a cluster); each object gets a
//! local background from a ring around it, a background-corrected
//! integrated intensity (aperture photometry), a sub-pixel position and a
//! width.

use ndarray::Array2;
use rayon::prelude::*;

/// One connected signal object in one probe channel.
#[derive(Debug, Clone)]
pub struct SpotObject {
    /// Sub-pixel position (px).
    pub x: f64,
    /// Sub-pixel position (px).
    pub y: f64,
    /// Background-corrected integrated intensity over the aperture.
    pub flux: f64,
    /// Local background per pixel (ring median).
    pub background: f64,
    /// Robust SD of the raw image in the ring (local noise).
    pub noise: f64,
    /// Number of detection maxima inside.
    pub n_maxima: usize,
    /// Pixels of the signal region (above the region threshold).
    pub area_px: usize,
    /// Gaussian-equivalent width (sigma) in px, from photometry.
    pub width_px: f64,
    /// Background-corrected mean of the image under a PSF-sized Gaussian
    /// window at the position (a low-noise peak measure, half the peak
    /// height for a PSF-sized spot).
    pub smoothed_peak: f64,
    /// Aperture pixels (row-major indices) and their background-corrected values.
    pub aperture: Vec<(u32, f32)>,
    /// The detection maximum that seeded the object (px).
    pub seed: (usize, usize),
    /// Matched-filter response at the seed in SDs of that response over
    /// the field's nuclei (the unit of the false discovery control); set by
    /// the detector, 0 until then.
    pub response_z: f64,
}

impl SpotObject {
    /// Standard error of `flux` from pixel noise alone: the ring noise
    /// summed over the aperture's pixels.
    pub fn flux_sd(&self) -> f64 {
        self.noise * (self.aperture.len() as f64).sqrt()
    }
}

/// Gaussian-mask localisation (Thompson, Larson & Webb 2002, Biophys J 82:2775):
/// iterate the centroid weighted by the data times a Gaussian of the PSF
/// sigma centred on the current estimate. Unbiased for isolated spots,
/// unlike the plain centroid.
pub fn gaussian_mask_position(
    img: &Array2<f32>,
    bg: f64,
    x0: f64,
    y0: f64,
    sigma: f64,
) -> (f64, f64) {
    let (h, w) = img.dim();
    let r = (3.0 * sigma).ceil().max(2.0) as i64;
    let (mut x, mut y) = (x0, y0);
    for _ in 0..12 {
        let (cx, cy) = (x.round() as i64, y.round() as i64);
        let (mut sx, mut sy, mut s) = (0.0, 0.0, 0.0);
        for yy in (cy - r).max(0)..=(cy + r).min(h as i64 - 1) {
            for xx in (cx - r).max(0)..=(cx + r).min(w as i64 - 1) {
                let v = (img[[yy as usize, xx as usize]] as f64 - bg).max(0.0);
                let d2 = (xx as f64 - x).powi(2) + (yy as f64 - y).powi(2);
                let g = libm::exp(-d2 / (2.0 * sigma * sigma));
                sx += v * g * xx as f64;
                sy += v * g * yy as f64;
                s += v * g;
            }
        }
        if s <= 0.0 {
            break;
        }
        let (nx, ny) = (sx / s, sy / s);
        let moved = (nx - x).abs() + (ny - y).abs();
        x = nx;
        y = ny;
        if moved < 1e-3 {
            break;
        }
    }
    // Never wander more than the fitting radius from the maximum.
    if (x - x0).abs() > r as f64 || (y - y0).abs() > r as f64 {
        return (x0, y0);
    }
    (x, y)
}

/// Gaussian-equivalent sigma (px) from the core of a spot: the second
/// moment of the background-corrected pixels above 20 % of the peak. For a
/// Gaussian the moment per axis of that truncated core is 0.598 sigma^2
/// (and pixel integration adds 1/12 px^2), so the estimate is unbiased
/// and, unlike the full-aperture moment, insensitive to background noise.
pub fn core_width(aperture: &[(u32, f32)], w: usize, x: f64, y: f64) -> f64 {
    let peak = aperture.iter().map(|a| a.1).fold(0.0f32, f32::max);
    if peak <= 0.0 {
        return 0.0;
    }
    let (mut m2, mut s) = (0.0, 0.0);
    for &(i, v) in aperture {
        if v >= 0.2 * peak {
            let (px, py) = ((i as usize % w) as f64, (i as usize / w) as f64);
            m2 += v as f64 * 0.5 * ((px - x).powi(2) + (py - y).powi(2));
            s += v as f64;
        }
    }
    if s <= 0.0 {
        return 0.0;
    }
    (m2 / s / 0.598 - 1.0 / 12.0).max(0.0).sqrt()
}

/// Gaussian-equivalent sigma (px) of a spot from photometry: the
/// Gaussian-weighted mean `m` (kernel sigma `k`) of the background-corrected
/// image at the spot over its integrated intensity `flux` equals
/// `1 / (2 pi (sigma^2 + k^2))` for a Gaussian spot, so
/// `sigma^2 = flux / (2 pi m) - k^2` (minus 1/12 px^2 of pixel integration).
/// Uses every pixel with a weight, so it is far less noise-sensitive than a
/// thresholded second moment; a cluster or granule comes out wide.
pub fn photometric_width(img: &Array2<f32>, bg: f64, x: f64, y: f64, flux: f64, k: f64) -> f64 {
    width_from_photometry(gaussian_weighted_mean(img, bg, x, y, k), flux, k)
}

/// Mean of `img - bg` under a normalised Gaussian window of sigma `k` at `(x, y)`.
pub fn gaussian_weighted_mean(img: &Array2<f32>, bg: f64, x: f64, y: f64, k: f64) -> f64 {
    let (h, w) = img.dim();
    let r = (3.0 * k).ceil().max(2.0) as i64;
    let (cx, cy) = (x.round() as i64, y.round() as i64);
    let (mut s, mut g) = (0.0, 0.0);
    for yy in (cy - r).max(0)..=(cy + r).min(h as i64 - 1) {
        for xx in (cx - r).max(0)..=(cx + r).min(w as i64 - 1) {
            let d2 = (xx as f64 - x).powi(2) + (yy as f64 - y).powi(2);
            let wgt = libm::exp(-d2 / (2.0 * k * k));
            s += wgt * (img[[yy as usize, xx as usize]] as f64 - bg);
            g += wgt;
        }
    }
    if g > 0.0 {
        s / g
    } else {
        0.0
    }
}

/// Width from the Gaussian-weighted mean and the integrated intensity (see
/// [`photometric_width`]).
pub fn width_from_photometry(mean: f64, flux: f64, k: f64) -> f64 {
    if mean <= 0.0 || flux <= 0.0 {
        return 0.0;
    }
    // With a normalised kernel, mean = A sigma^2 / (sigma^2 + k^2) and
    // flux = 2 pi sigma^2 A, so mean / flux = 1 / (2 pi (sigma^2 + k^2)).
    let s2 = flux / (2.0 * std::f64::consts::PI * mean) - k * k - 1.0 / 12.0;
    s2.max(0.0).sqrt()
}

/// Parameters of object building, in pixels.
#[derive(Debug, Clone, Copy)]
pub struct ObjectParams {
    /// PSF sigma (px).
    pub sigma: f64,
    /// Aperture margin around the region (px).
    pub aperture_margin: usize,
    /// Gap between the aperture and the background ring (px).
    pub ring_gap: usize,
    /// Ring width for the local background (px).
    pub ring_width: usize,
    /// A region holds the pixels above this fraction of its seed's value.
    pub peak_fraction: f32,
    /// Largest region accepted, in px (bigger regions are cut to their
    /// seed neighbourhood: nuclei-sized bright areas are not signals).
    pub max_region_px: usize,
    /// Measure the ring background's bias on empty apertures in the
    /// nuclei and take it out of every object ([`background_bias`]).
    pub empty_apertures: bool,
}

/// The ring background's bias per pixel, measured on empty apertures
/// (see [`background_bias`]).
#[derive(Debug, Clone, Copy)]
pub struct BackgroundBias {
    /// Median over the empty apertures of their flux per aperture pixel
    /// (ADU per pixel); taken out of every object's photometry.
    pub per_pixel: f64,
    /// Its standard error ([`super::detect::median_and_se`]).
    pub se: f64,
    /// Median ring noise (robust SD per pixel) of the empty apertures.
    pub noise: f64,
    /// Empty apertures measured.
    pub n: usize,
}

/// Fewest empty apertures from which a bias is taken.
pub const MIN_EMPTY_APERTURES: usize = 50;

/// Empty apertures aimed at per image (the grid over the nuclei holds
/// about this many before those near objects are left out).
const TARGET_EMPTY_APERTURES: usize = 3000;

/// Groups `maxima` into objects through connected pixels of `tophat` above
/// `floor` and a fraction of the seed (8-connected), measures them
/// on the raw image `img`. `labels` (nucleus labels) make the background
/// ring prefer pixels of the object's own nucleus.
pub fn build_objects(
    img: &Array2<f32>,
    tophat: &Array2<f32>,
    floor: &Array2<f32>,
    maxima: &[(usize, usize)],
    labels: &Array2<u32>,
    p: &ObjectParams,
) -> (Vec<SpotObject>, Option<BackgroundBias>) {
    let (h, w) = img.dim();
    let mut owner = vec![0u32; w * h]; // object id + 1 of region pixels
    let mut regions: Vec<Vec<u32>> = Vec::new();
    let mut n_max: Vec<usize> = Vec::new();
    let mut seeds: Vec<(usize, usize)> = Vec::new();
    // Brightest maxima first: a cluster's brightest point claims the
    // cluster, and the fainter maxima inside it join that object.
    let mut order: Vec<(usize, usize)> = maxima.to_vec();
    order.sort_by(|a, b| {
        tophat[[b.1, b.0]]
            .total_cmp(&tophat[[a.1, a.0]])
            .then((a.1, a.0).cmp(&(b.1, b.0)))
    });
    for &(x, y) in &order {
        let i = y * w + x;
        if owner[i] != 0 {
            n_max[(owner[i] - 1) as usize] += 1;
            continue;
        }
        let id = regions.len() as u32 + 1;
        let mut px = vec![i as u32];
        owner[i] = id;
        // Region: connected pixels above both the noise floor and a
        // fraction of this object's own peak (so faint texture around a
        // spot never joins it, whatever the spot's brightness).
        let level = floor[[y, x]].max(p.peak_fraction * tophat[[y, x]]);
        let inmask = |yy: usize, xx: usize| tophat[[yy, xx]] > level.max(floor[[yy, xx]]);
        if tophat[[y, x]] > floor[[y, x]] {
            let mut head = 0;
            while head < px.len() && px.len() < p.max_region_px {
                let j = px[head] as usize;
                head += 1;
                let (jx, jy) = ((j % w) as i64, (j / w) as i64);
                for dy in -1..=1i64 {
                    for dx in -1..=1i64 {
                        let (nx, ny) = (jx + dx, jy + dy);
                        if nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
                            continue;
                        }
                        let k = ny as usize * w + nx as usize;
                        if owner[k] == 0 && inmask(ny as usize, nx as usize) {
                            owner[k] = id;
                            px.push(k as u32);
                        }
                    }
                }
            }
        }
        regions.push(px);
        n_max.push(1);
        seeds.push((x, y));
    }
    let ph = Photometry {
        img,
        labels,
        owner: &owner,
        p,
    };
    let bias = if p.empty_apertures {
        background_bias(&ph)
    } else {
        None
    };
    let b = bias.map_or(0.0, |b| b.per_pixel);
    let measure =
        |region: &[u32], k: usize| ph.measure(region, seeds[k], k as u32 + 1, n_max[k], b);
    let objects = regions
        .par_iter()
        .enumerate()
        .map(|(k, region)| {
            let obj = measure(region, k);
            // An object whose region spread over a band-pass plateau
            // around it (a dot on the edge of a strong nuclear background,
            // often gathering the plateau's own maxima) has its ring beyond
            // the plateau and measures a negative flux. It is measured
            // again on its core (the region pixels above half its brightest
            // seed's value, connected to that seed), with the plateau in
            // its ring; the other maxima it gathered are not objects.
            if obj.flux <= 0.0 {
                let core = core_of(region, tophat, seeds[k], w);
                if core.len() < region.len() {
                    return SpotObject {
                        n_maxima: 1,
                        ..measure(&core, k)
                    };
                }
            }
            obj
        })
        .collect();
    (objects, bias)
}

/// Aperture photometry of regions of one image: what [`build_objects`]
/// measures, and what [`background_bias`] measures on empty apertures.
struct Photometry<'a> {
    img: &'a Array2<f32>,
    labels: &'a Array2<u32>,
    /// Object id + 1 of every region pixel (0: none); kept out of rings.
    owner: &'a [u32],
    p: &'a ObjectParams,
}

impl Photometry<'_> {
    /// The object of `region` (row-major pixel indices) seeded at `seed`
    /// and holding `n_maxima` maxima (0: an empty aperture, measured for
    /// its flux alone, at the seed), `id` its owner id. `bias` is added
    /// to the ring background of the photometry (flux and aperture
    /// values), not to `background`, `smoothed_peak` and the width, which
    /// detection and the PSF estimate use (docs/signals.md).
    fn measure(
        &self,
        region: &[u32],
        seed: (usize, usize),
        id: u32,
        n_maxima: usize,
        bias: f64,
    ) -> SpotObject {
        let (img, labels, owner, p) = (self.img, self.labels, self.owner, self.p);
        let (h, w) = img.dim();
        // Aperture = region dilated by the margin; ring beyond it. Pixels
        // of other objects' regions are kept out of every ring.
        let m = p.aperture_margin as i64;
        let rw = p.ring_width as i64;
        let gap = p.ring_gap.max(1) as i64;
        let (sx, sy) = seed;
        let (mut x0, mut x1, mut y0, mut y1) = (w as i64, 0i64, h as i64, 0i64);
        for &i in region {
            let (x, y) = ((i as usize % w) as i64, (i as usize / w) as i64);
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
        // Chebyshev distance of bbox pixels to the region, up to m + 1 + rw.
        let pad = m + 1 + rw;
        let bx0 = (x0 - pad).max(0);
        let by0 = (y0 - pad).max(0);
        let bx1 = (x1 + pad).min(w as i64 - 1);
        let by1 = (y1 + pad).min(h as i64 - 1);
        let bw = (bx1 - bx0 + 1) as usize;
        let bh = (by1 - by0 + 1) as usize;
        let mut dist = vec![i64::MAX; bw * bh];
        // Separable Chebyshev distance from region pixels (two passes).
        let mut rowd = vec![i64::MAX; bw * bh];
        for &i in region {
            let (x, y) = ((i as usize % w) as i64 - bx0, (i as usize / w) as i64 - by0);
            rowd[y as usize * bw + x as usize] = 0;
        }
        for yy in 0..bh {
            let row = &mut rowd[yy * bw..(yy + 1) * bw];
            for xx in 1..bw {
                row[xx] = row[xx].min(row[xx - 1].saturating_add(1));
            }
            for xx in (0..bw - 1).rev() {
                row[xx] = row[xx].min(row[xx + 1].saturating_add(1));
            }
        }
        for xx in 0..bw {
            for yy in 0..bh {
                let mut best = rowd[yy * bw + xx];
                let lo = yy.saturating_sub(pad as usize);
                let hi = (yy + pad as usize).min(bh - 1);
                for y2 in lo..=hi {
                    let v = rowd[y2 * bw + xx];
                    if v != i64::MAX {
                        best = best.min(v.max((y2 as i64 - yy as i64).abs()));
                    }
                }
                dist[yy * bw + xx] = best;
            }
        }
        let nucleus = labels[[sy, sx]];
        // Ring pixels with their nucleus label (0 = outside nuclei).
        let mut ring_px: Vec<(u32, f32)> = Vec::new();
        let mut aperture_idx = Vec::new();
        for yy in 0..bh {
            for xx in 0..bw {
                let d = dist[yy * bw + xx];
                let gx = (xx as i64 + bx0) as usize;
                let gy = (yy as i64 + by0) as usize;
                let gi = gy * w + gx;
                if d <= m {
                    aperture_idx.push(gi as u32);
                } else if d >= m + gap && d < m + gap + rw {
                    if owner[gi] != 0 && owner[gi] != id {
                        continue;
                    }
                    ring_px.push((labels[[gy, gx]], img[[gy, gx]]));
                }
            }
        }
        let ring_same: Vec<f32> = ring_px
            .iter()
            .filter(|r| nucleus != 0 && r.0 == nucleus)
            .map(|r| r.1)
            .collect();
        let ring = if nucleus != 0 && ring_same.len() * 10 >= ring_px.len() * 3 {
            ring_same
        } else {
            ring_px.iter().map(|r| r.1).collect()
        };
        let background = if ring.is_empty() {
            0.0
        } else {
            let mut r = ring.clone();
            super::detect::median(&mut r) as f64
        };
        let noise = super::detect::robust_sd(&ring) as f64;
        // The probe background steps at a nucleus outline (nuclear
        // autofluorescence): a pixel of the aperture on another side
        // of the outline than the object's own takes the median of the
        // ring pixels of that side, where the ring holds enough of
        // them; else the object's background. Used for the flux (and
        // the aperture values); position and smoothed peak keep the
        // object's own background (per-side there too measured no
        // better, docs/signals.md).
        let min_side = (ring_px.len() / 10).max(5);
        ring_px.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let mut side_bg: Vec<(u32, f64)> = Vec::new();
        for run in ring_px.chunk_by(|a, b| a.0 == b.0) {
            if run.len() >= min_side {
                side_bg.push((run[0].0, run[run.len() / 2].1 as f64));
            }
        }
        let bg_at = |y: usize, x: usize| {
            let l = labels[[y, x]];
            if l == nucleus {
                return background;
            }
            side_bg
                .iter()
                .find(|s| s.0 == l)
                .map_or(background, |s| s.1)
        };
        let mut flux = 0.0;
        let mut aperture = Vec::with_capacity(aperture_idx.len());
        let (mut cx, mut cy, mut cs) = (0.0, 0.0, 0.0);
        for &i in &aperture_idx {
            let (x, y) = (i as usize % w, i as usize / w);
            let v = img[[y, x]] as f64 - bg_at(y, x) - bias;
            flux += v;
            aperture.push((i, v as f32));
            if v > 0.0 {
                cx += v * x as f64;
                cy += v * y as f64;
                cs += v;
            }
        }
        if n_maxima == 0 {
            // An empty aperture (background_bias): its flux is all that is
            // wanted.
            return SpotObject {
                x: sx as f64,
                y: sy as f64,
                flux,
                background,
                noise,
                n_maxima,
                area_px: region.len(),
                width_px: 0.0,
                smoothed_peak: 0.0,
                aperture,
                seed: (sx, sy),
                response_z: 0.0,
            };
        }
        // Gaussian-mask fit from the seed for compact objects; the
        // intensity centroid for extended ones (clusters).
        let compact = region.len() as f64 <= 4.0 * std::f64::consts::PI * (2.0 * p.sigma).powi(2);
        let (x, y) = if n_maxima == 1 || compact {
            gaussian_mask_position(img, background, sx as f64, sy as f64, p.sigma)
        } else if cs > 0.0 {
            (cx / cs, cy / cs)
        } else {
            (sx as f64, sy as f64)
        };
        let smoothed_peak = gaussian_weighted_mean(img, background, x, y, p.sigma);
        // The width from the ring median alone, as the detection's
        // quantities (see above): with the bias out, an independent
        // simulator's PSF came out 4 % under its truth (docs/signals.md).
        let width_px =
            width_from_photometry(smoothed_peak, flux + bias * aperture.len() as f64, p.sigma);
        SpotObject {
            x,
            y,
            flux,
            background,
            noise,
            n_maxima,
            area_px: region.len(),
            width_px,
            smoothed_peak,
            aperture,
            seed: (sx, sy),
            response_z: 0.0,
        }
    }
}

/// The ring background's bias per pixel. A ring MEDIAN is not the mean
/// background under the aperture when the noise is skewed (photon and EM
/// noise: the median sits under the mean) or the background curved (a
/// domed nuclear background is higher under the aperture than in the
/// ring), and the error, a fixed amount per aperture pixel, weighs more on
/// a single copy than on a cluster of ten over three times the area: the
/// copy number of a cluster, its flux over a single copy's, comes out low.
/// Measured as astronomers measure sky bias, on EMPTY apertures: discs of
/// a single dot's region size (where the PSF falls to `peak_fraction` of
/// its peak) on a grid over the nuclei, clear of every object by an
/// aperture's margin past their rings, measured exactly as the objects
/// are; the median of their flux per aperture pixel. `None` under
/// [`MIN_EMPTY_APERTURES`] of them.
fn background_bias(ph: &Photometry) -> Option<BackgroundBias> {
    let (labels, owner, p) = (ph.labels, ph.owner, ph.p);
    let (h, w) = labels.dim();
    let r = p.sigma * (-2.0 * (p.peak_fraction as f64).ln()).sqrt();
    let ri = r.floor().max(0.0) as i64;
    let disc: Vec<(i64, i64)> = (-ri..=ri)
        .flat_map(|dy| (-ri..=ri).map(move |dx| (dy, dx)))
        .filter(|&(dy, dx)| ((dy * dy + dx * dx) as f64) <= r * r)
        .collect();
    let m = p.aperture_margin as i64;
    let reach = ri + m + p.ring_gap.max(1) as i64 + p.ring_width as i64;
    // Apertures side by side at the closest, never overlapping, and spaced
    // so that about TARGET_EMPTY_APERTURES fall in the nuclei (a few
    // thousand fix the median to a few per cent of the pixel noise's
    // skew); each ring and a margin past it clear of every object's region.
    let nuclear_px = labels.iter().filter(|&&l| l != 0).count();
    let spread = (nuclear_px as f64 / TARGET_EMPTY_APERTURES as f64)
        .sqrt()
        .floor() as usize;
    let step = ((2 * (ri + m) + 1) as usize).max(spread);
    let clear = reach + m;
    if h as i64 <= 2 * reach || w as i64 <= 2 * reach {
        return None;
    }
    let o = reach as usize;
    let (gh, gw) = ((h - 2 * o - 1) / step + 1, (w - 2 * o - 1) / step + 1);
    let mut blocked = vec![false; gh * gw];
    let cell_range = |v: usize, n: usize| {
        let lo = (v as i64 - clear - o as i64).max(0);
        let hi = v as i64 + clear - o as i64;
        let first = (lo as usize).div_ceil(step);
        let last = if hi < 0 {
            None
        } else {
            Some(((hi as usize) / step).min(n - 1))
        };
        last.filter(|&l| first <= l).map(|l| first..=l)
    };
    for (i, _) in owner.iter().enumerate().filter(|(_, &v)| v != 0) {
        let (y, x) = (i / w, i % w);
        if let (Some(ry), Some(rx)) = (cell_range(y, gh), cell_range(x, gw)) {
            for gy in ry {
                for gx in rx.clone() {
                    blocked[gy * gw + gx] = true;
                }
            }
        }
    }
    let per_px: Vec<(f64, f64)> = (0..gh * gw)
        .into_par_iter()
        .filter_map(|g| {
            let (cy, cx) = (o + (g / gw) * step, o + (g % gw) * step);
            if blocked[g] || labels[[cy, cx]] == 0 {
                return None;
            }
            let mut region: Vec<u32> = disc
                .iter()
                .map(|&(dy, dx)| ((cy as i64 + dy) as usize * w + (cx as i64 + dx) as usize) as u32)
                .collect();
            region.sort_unstable();
            let e = ph.measure(&region, (cx, cy), u32::MAX, 0, 0.0);
            (!e.aperture.is_empty()).then(|| (e.flux / e.aperture.len() as f64, e.noise))
        })
        .collect();
    if per_px.len() < MIN_EMPTY_APERTURES {
        return None;
    }
    let mut b: Vec<f32> = per_px.iter().map(|v| v.0 as f32).collect();
    let mut noise: Vec<f32> = per_px.iter().map(|v| v.1 as f32).collect();
    let (per_pixel, se) = super::detect::median_and_se(&mut b);
    Some(BackgroundBias {
        per_pixel,
        se,
        noise: super::detect::median(&mut noise) as f64,
        n: per_px.len(),
    })
}

/// The pixels of `region` above half the value of `tophat` at `seed`,
/// 8-connected to the seed.
fn core_of(region: &[u32], tophat: &Array2<f32>, seed: (usize, usize), w: usize) -> Vec<u32> {
    let half = 0.5 * tophat[[seed.1, seed.0]];
    let inside: std::collections::HashSet<u32> = region
        .iter()
        .copied()
        .filter(|&i| tophat[[i as usize / w, i as usize % w]] > half)
        .collect();
    let start = (seed.1 * w + seed.0) as u32;
    let mut core = vec![start];
    let mut seen: std::collections::HashSet<u32> = [start].into_iter().collect();
    let mut head = 0;
    while head < core.len() {
        let j = core[head] as i64;
        head += 1;
        let (jx, jy) = (j % w as i64, j / w as i64);
        for dy in -1..=1i64 {
            for dx in -1..=1i64 {
                let (nx, ny) = (jx + dx, jy + dy);
                if nx < 0 || ny < 0 || nx >= w as i64 {
                    continue;
                }
                let k = (ny * w as i64 + nx) as u32;
                if inside.contains(&k) && seen.insert(k) {
                    core.push(k);
                }
            }
        }
    }
    core.sort_unstable();
    core
}

/// Objects measured as the pipeline does on a test image with a flat
/// 100 ADU background and a PSF sigma of 1.5 px: the band-pass is the
/// image less 100 (clipped at 0), the noise floor `floor` everywhere, one
/// nucleus over the whole image.
#[cfg(test)]
pub(crate) fn objects_on_flat(
    img: &Array2<f32>,
    seeds: &[(usize, usize)],
    floor: f32,
    aperture_margin: usize,
    peak_fraction: f32,
) -> Vec<SpotObject> {
    let mut band = img.mapv(|v| v - 100.0);
    band.mapv_inplace(|v| v.max(0.0));
    let floor = Array2::from_elem(img.dim(), floor);
    let labels = Array2::<u32>::ones(img.dim());
    let p = ObjectParams {
        aperture_margin,
        peak_fraction,
        max_region_px: 2000,
        ..test_params()
    };
    build_objects(img, &band, &floor, seeds, &labels, &p).0
}

/// An `n` x `n` test image: 100 ADU plus Gaussian noise of SD 5 (stream
/// 1 of `seed`), the flat background of [`objects_on_flat`].
#[cfg(test)]
pub(crate) fn noisy_flat(seed: u64, n: usize) -> Array2<f32> {
    let mut rng = crate::rng::Rng::new(seed, 1);
    Array2::from_shape_fn((n, n), |_| (100.0 + 5.0 * rng.normal()) as f32)
}

/// The object parameters of the tests: PSF sigma 1.5 px, aperture margin
/// 2, ring gap 2 and width 3 px, regions down to 0.2 of the peak and up to
/// 400 px, no empty apertures.
#[cfg(test)]
pub(crate) fn test_params() -> ObjectParams {
    ObjectParams {
        sigma: 1.5,
        aperture_margin: 2,
        ring_gap: 2,
        ring_width: 3,
        peak_fraction: 0.2,
        max_region_px: 400,
        empty_apertures: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::optics::add_gaussian;

    #[test]
    fn gaussian_mask_finds_subpixel_centre() {
        let mut img = Array2::<f32>::from_elem((21, 21), 100.0);
        add_gaussian(&mut img, 10.3, 9.6, 1.5, 5000.0);
        let (x, y) = gaussian_mask_position(&img, 100.0, 10.0, 10.0, 1.5);
        assert!((x - 10.3).abs() < 0.02 && (y - 9.6).abs() < 0.02, "{x} {y}");
    }

    #[test]
    fn photometric_width_recovers_sigma() {
        for sigma in [0.8, 1.5, 2.5] {
            let mut img = Array2::<f32>::zeros((41, 41));
            add_gaussian(&mut img, 20.2, 19.7, sigma, 10000.0);
            let s = photometric_width(&img, 0.0, 20.2, 19.7, 10000.0, 1.2);
            assert!((s - sigma).abs() / sigma < 0.05, "sigma {sigma} got {s}");
        }
    }

    #[test]
    fn core_width_recovers_sigma() {
        for sigma in [1.0, 1.5, 2.5] {
            let mut img = Array2::<f32>::zeros((41, 41));
            add_gaussian(&mut img, 20.2, 19.7, sigma, 10000.0);
            let ap: Vec<(u32, f32)> = img
                .indexed_iter()
                .map(|((y, x), v)| ((y * 41 + x) as u32, *v))
                .collect();
            let s = core_width(&ap, 41, 20.2, 19.7);
            assert!((s - sigma).abs() / sigma < 0.05, "sigma {sigma} got {s}");
        }
    }

    /// Skewed noise (exponential, mean 20 ADU, median 20 ln 2): a ring
    /// median sits 6.1 ADU under the mean background, and every aperture
    /// pixel adds that to a dot's flux. The empty apertures measure it and
    /// the dots' fluxes come out right; without them they read high.
    #[test]
    fn empty_apertures_take_out_the_ring_median_bias() {
        let mut rng = crate::rng::Rng::new(21, 3);
        let img = Array2::from_shape_fn((320, 320), |_| {
            100.0 - 20.0 * (1.0 - rng.uniform()).ln() as f32
        });
        let truth = 20.0 * (1.0 - std::f64::consts::LN_2);
        let (raw, fixed, b) = fluxes_with_and_without_bias(img);
        assert!((b.per_pixel - truth).abs() < 4.0 * b.se + 0.3, "{b:?}");
        assert!(raw > 1.05 * 6000.0, "uncorrected median flux {raw}");
        assert!((fixed - 6000.0).abs() < 0.02 * 6000.0, "corrected {fixed}");
    }

    /// Symmetric (Gaussian) noise: the ring median is unbiased, and the
    /// empty apertures find nothing to take out.
    #[test]
    fn empty_apertures_find_no_bias_in_symmetric_noise() {
        let mut rng = crate::rng::Rng::new(22, 3);
        let img = Array2::from_shape_fn((320, 320), |_| 120.0 + 20.0 * rng.normal() as f32);
        let (raw, fixed, b) = fluxes_with_and_without_bias(img);
        assert!(b.per_pixel.abs() < 4.0 * b.se, "{b:?}");
        assert!((fixed - raw).abs() < 0.01 * 6000.0, "{raw} {fixed}");
    }

    /// 36 dots of flux 6000 on `img`, one nucleus over it: the median flux
    /// without and with the empty-aperture bias, and the bias.
    fn fluxes_with_and_without_bias(mut img: Array2<f32>) -> (f64, f64, BackgroundBias) {
        let mut seeds = Vec::new();
        for k in 0..36 {
            let (x, y) = (30 + 50 * (k % 6), 30 + 50 * (k / 6));
            add_gaussian(&mut img, x as f64, y as f64, 1.5, 6000.0);
            seeds.push((x, y));
        }
        seeds.sort_by_key(|&(x, y)| (y, x));
        let band = crate::filters::gaussian_filter(&img.mapv(|v| v - 120.0), 1.5);
        let floor = Array2::from_elem(img.dim(), 40.0f32);
        let labels = Array2::<u32>::ones(img.dim());
        let run = |empty_apertures: bool| {
            let p = ObjectParams {
                empty_apertures,
                ..test_params()
            };
            let (objs, bias) = build_objects(&img, &band, &floor, &seeds, &labels, &p);
            let mut f: Vec<f64> = objs.iter().map(|o| o.flux).collect();
            f.sort_by(|a, b| a.total_cmp(b));
            (f[f.len() / 2], bias)
        };
        let (raw, none) = run(false);
        let (fixed, bias) = run(true);
        assert!(none.is_none());
        let b = bias.expect("enough empty apertures");
        assert!(b.n >= MIN_EMPTY_APERTURES, "{b:?}");
        (raw, fixed, b)
    }

    #[test]
    fn spot_beside_a_nucleus_outline_keeps_its_flux() {
        // Nucleus (label 1) on the left half with a probe background of
        // 300, outside 100; a spot of flux 3000 four pixels inside the
        // outline, so its aperture reaches across it.
        let (h, w) = (41, 41);
        let labels = Array2::from_shape_fn((h, w), |(_, x)| u32::from(x < 20));
        let mut img = labels.mapv(|l| if l == 1 { 300.0f32 } else { 100.0 });
        add_gaussian(&mut img, 16.0, 20.0, 1.5, 3000.0);
        let band = Array2::from_shape_fn((h, w), |(y, x)| {
            let r2 = (x as f32 - 16.0).powi(2) + (y as f32 - 20.0).powi(2);
            (-r2 / (2.0 * 1.5 * 1.5)).exp()
        });
        let floor = Array2::from_elem((h, w), 0.05f32);
        let p = ObjectParams {
            aperture_margin: 3,
            ..test_params()
        };
        let objs = build_objects(&img, &band, &floor, &[(16, 20)], &labels, &p).0;
        assert_eq!(objs.len(), 1);
        let f = objs[0].flux;
        assert!((f - 3000.0).abs() < 0.05 * 3000.0, "flux {f}");
    }

    /// A spot (flux 3000) whose band-pass region spreads over a plateau
    /// of radius 10 px (half its peak) and whose ring would then fall on
    /// brighter background (+50 from 13 px out) measures a negative flux on
    /// the whole region; it is measured on its core instead, as one
    /// maximum.
    #[test]
    fn spot_on_a_band_pass_plateau_is_measured_on_its_core() {
        let (h, w) = (61, 61);
        let r = |y: usize, x: usize| ((x as f32 - 30.0).powi(2) + (y as f32 - 30.0).powi(2)).sqrt();
        let mut img = Array2::from_shape_fn(
            (h, w),
            |(y, x)| if r(y, x) >= 13.0 { 150.0f32 } else { 100.0 },
        );
        add_gaussian(&mut img, 30.0, 30.0, 1.5, 3000.0);
        let band = Array2::from_shape_fn((h, w), |(y, x)| {
            (-r(y, x).powi(2) / (2.0 * 1.5 * 1.5)).exp() + if r(y, x) <= 10.0 { 0.5 } else { 0.0 }
        });
        let floor = Array2::from_elem((h, w), 0.05f32);
        let labels = Array2::<u32>::ones((h, w));
        let p = ObjectParams {
            max_region_px: 1000,
            ..test_params()
        };
        // A second maximum on the plateau joins the spot's region.
        let objs = build_objects(&img, &band, &floor, &[(30, 30), (37, 30)], &labels, &p).0;
        assert_eq!(objs.len(), 1);
        let o = &objs[0];
        assert!(o.area_px < 40, "core only: {} px", o.area_px);
        assert_eq!(o.n_maxima, 1);
        assert!((o.flux - 3000.0).abs() < 0.05 * 3000.0, "flux {}", o.flux);
    }
}
