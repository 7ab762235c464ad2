//! Registration of each probe image to the DAPI image. Filter cubes that are
//! not co-aligned, and lateral chromatic aberration, move each channel's
//! image by a fraction of a micron; a probe image 0.3 um off the DAPI
//! image puts the DAPI bleed-through it carries 0.3 um away from where the
//! crosstalk correction subtracts it, and the left-over chromatin edges
//! become false dots (a non-amplified benchmark field with its MDM2 image
//! 3 px off read 1.23 against 1.04 aligned; docs/accuracy.md).
//!
//! The same bleed-through gives the shift: the probe image holds a faint
//! copy of the DAPI chromatin texture, so the cross-correlation of the two
//! band-passed images (PSF to 3 PSF sigmas, the crosstalk's own band) over
//! nuclear pixels peaks at the shift. The probe's band-pass is clipped at
//! 3 robust SDs, so its signals do not steer it. A probe image without
//! measurable bleed-through has a flat correlation and is left as it is.

use ndarray::Array2;
use std::borrow::Cow;

/// Largest registration error looked for, each way (um).
pub const MAX_SHIFT_UM: f64 = 0.8;

/// The correlation at the peak must exceed the one at no shift by this
/// many standard errors of a correlation (1 / sqrt of the independent
/// samples) for the shift to be applied.
const MIN_GAIN_SE: f64 = 6.0;

/// The shift found for one probe image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shift {
    /// Sub-pixel shift (px): the probe's content at `(x + dx, y + dy)`
    /// belongs at `(x, y)` of the DAPI image.
    pub dx: f64,
    /// See `dx`.
    pub dy: f64,
    /// Normalised correlation at the peak.
    pub peak: f64,
    /// Normalised correlation at no shift.
    pub at_zero: f64,
    /// Standard error of a normalised correlation here.
    pub se: f64,
}

impl Shift {
    /// The whole-pixel shift to apply: the rounded shift when the peak is
    /// clearly above the correlation at no shift and clearly above 0 (a
    /// probe image that does not carry the DAPI texture, or carries it
    /// inverted, has no peak to trust), else (0, 0).
    pub fn applied(&self) -> (i64, i64) {
        let clear = MIN_GAIN_SE * self.se;
        if self.peak - self.at_zero > clear && self.peak > clear {
            (self.dx.round() as i64, self.dy.round() as i64)
        } else {
            (0, 0)
        }
    }
}

/// Finds the shift of a probe image against DAPI from their band-passes
/// `bp` (probe) and `bd` (DAPI), searching `max_px` pixels each way, with
/// `sigma` the PSF sigma (px) that sets how far apart samples are
/// independent. `None` with too few nuclear pixels or no texture.
pub fn find_shift(
    bp: &Array2<f32>,
    bd: &Array2<f32>,
    labels: &Array2<u32>,
    max_px: usize,
    sigma: f64,
) -> Option<Shift> {
    let (h, w) = bp.dim();
    let r = max_px as i64;
    if h <= 2 * max_px + 2 || w <= 2 * max_px + 2 {
        return None;
    }
    // Nuclear pixels on a grid, away from the edges by the search range.
    let stride = 3usize;
    let mut at: Vec<(usize, usize)> = Vec::new();
    for y in (max_px..h - max_px).step_by(stride) {
        for x in (max_px..w - max_px).step_by(stride) {
            if labels[[y, x]] != 0 {
                at.push((y, x));
            }
        }
    }
    if at.len() < 2000 {
        return None;
    }
    let clip = {
        let v: Vec<f32> = at.iter().map(|&(y, x)| bp[[y, x]]).collect();
        3.0 * super::detect::robust_sd(&v)
    };
    if clip <= 0.0 {
        return None;
    }
    // The probe's band-pass clipped once, and the samples as flat indices
    // with their DAPI values: each shift is then one offset into it.
    let cp: Vec<f32> = bp.iter().map(|v| v.clamp(-clip, clip)).collect();
    let idx: Vec<usize> = at.iter().map(|&(y, x)| y * w + x).collect();
    let dv: Vec<f32> = at.iter().map(|&(y, x)| bd[[y, x]]).collect();
    let sdd = dv.iter().map(|&d| (d as f64).powi(2)).sum::<f64>().sqrt();
    let n = 2 * r + 1;
    // Correlations computed so far (NaN: not yet). The correlation of the
    // band-passes is as broad as the band (a few pixels), so shifts on a
    // 2-px grid find its peak, and a climb over whole-pixel neighbours
    // then reaches it: about a third of the 17 x 17 shifts at 0.1 um px.
    let mut corr = vec![f64::NAN; (n * n) as usize];
    let eval = |dx: i64, dy: i64, corr: &mut Vec<f64>| -> f64 {
        let k = ((dy + r) * n + dx + r) as usize;
        if corr[k].is_nan() {
            let off = dy * w as i64 + dx;
            let (mut s, mut spp) = (0.0f64, 0.0f64);
            for (&i, &d) in idx.iter().zip(&dv) {
                let p = cp[(i as i64 + off) as usize] as f64;
                s += p * d as f64;
                spp += p * p;
            }
            let norm = spp.sqrt() * sdd;
            corr[k] = if norm > 0.0 { s / norm } else { 0.0 };
        }
        corr[k]
    };
    let grid: Vec<i64> = (-r..=r).filter(|v| v % 2 == 0).collect();
    let mut best = (0i64, 0i64, f64::NEG_INFINITY);
    for &dy in &grid {
        for &dx in &grid {
            let v = eval(dx, dy, &mut corr);
            if v > best.2 {
                best = (dx, dy, v);
            }
        }
    }
    loop {
        let (bx, by, bv) = best;
        let mut next = best;
        for dy in (by - 1).max(-r)..=(by + 1).min(r) {
            for dx in (bx - 1).max(-r)..=(bx + 1).min(r) {
                let v = eval(dx, dy, &mut corr);
                if v > next.2 {
                    next = (dx, dy, v);
                }
            }
        }
        if next.2 <= bv {
            break;
        }
        best = next;
    }
    let (px, py, peak) = (best.0 + r, best.1 + r, best.2);
    let zero = eval(0, 0, &mut corr);
    // Parabolic refinement where the peak has neighbours (all computed by
    // the climb).
    let at_c = |yy: i64, xx: i64| corr[(yy * n + xx) as usize];
    let refine = |m: f64, p: f64, c0: f64| {
        let d = m - 2.0 * c0 + p;
        if d < 0.0 {
            (0.5 * (m - p) / d).clamp(-0.5, 0.5)
        } else {
            0.0
        }
    };
    let fx = if px > 0 && px < n - 1 {
        refine(at_c(py, px - 1), at_c(py, px + 1), peak)
    } else {
        0.0
    };
    let fy = if py > 0 && py < n - 1 {
        refine(at_c(py - 1, px), at_c(py + 1, px), peak)
    } else {
        0.0
    };
    // Samples closer than a few PSF sigmas are not independent: one per
    // (2 sigma)^2 / stride^2 grid points.
    let per = ((2.0 * sigma / stride as f64).powi(2)).max(1.0);
    let se = (per / at.len() as f64).sqrt();
    Some(Shift {
        dx: (px - r) as f64 - fx,
        dy: (py - r) as f64 - fy,
        peak,
        at_zero: zero,
        se,
    })
}

/// `img` moved so that what was at `(x + dx, y + dy)` is at `(x, y)`;
/// pixels from beyond the edge take the nearest edge value (whole pixels:
/// values are moved, not interpolated).
pub fn shift_whole(img: &Array2<f32>, dx: i64, dy: i64) -> Array2<f32> {
    crate::filters::shift_bilinear(img, -dx as f64, -dy as f64)
}

/// A probe image registered to DAPI: the image (moved when
/// [`Shift::applied`] says so, else borrowed as it is), its band-pass
/// (`bp`, moved alike) and the shift found.
pub fn align_to_dapi<'a>(
    probe: &'a Array2<f32>,
    bd: &Array2<f32>,
    labels: &Array2<u32>,
    max_px: usize,
    sigma: f64,
) -> (Cow<'a, Array2<f32>>, Array2<f32>, Option<Shift>) {
    let bp = super::crosstalk::band_pass(probe, sigma);
    let shift = find_shift(&bp, bd, labels, max_px, sigma);
    match shift.map(|s| s.applied()) {
        Some((dx, dy)) if (dx, dy) != (0, 0) => (
            Cow::Owned(shift_whole(probe, dx, dy)),
            shift_whole(&bp, dx, dy),
            shift,
        ),
        _ => (Cow::Borrowed(probe), bp, shift),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filters::gaussian_filter;

    /// A textured "DAPI" image with two nuclei-wide labels and a probe image
    /// holding 3 % of it moved by (dx, dy) px, plus noise and a few dots.
    fn pair(dx: i64, dy: i64, leak: f32) -> (Array2<f32>, Array2<f32>, Array2<u32>) {
        let mut rng = crate::rng::Rng::new(5, 1);
        let raw = Array2::from_shape_fn((200, 200), |_| 1000.0 + 400.0 * rng.normal() as f32);
        let dapi = gaussian_filter(&raw, 1.5);
        let mut probe = Array2::from_shape_fn((200, 200), |_| 250.0 + 16.0 * rng.normal() as f32);
        for y in 0..200i64 {
            for x in 0..200i64 {
                let (sy, sx) = ((y - dy).clamp(0, 199), (x - dx).clamp(0, 199));
                probe[[y as usize, x as usize]] += leak * dapi[[sy as usize, sx as usize]];
            }
        }
        for k in 0..12 {
            let (x, y) = (20.0 + 14.0 * k as f64, 30.0 + 11.0 * k as f64);
            crate::simulate::optics::add_gaussian(&mut probe, x, y, 1.5, 6000.0);
        }
        let labels = Array2::from_shape_fn((200, 200), |(y, x)| {
            u32::from((x as i64 - 100).pow(2) + (y as i64 - 100).pow(2) < 90 * 90)
        });
        (dapi, probe, labels)
    }

    fn band(a: &Array2<f32>) -> Array2<f32> {
        super::super::crosstalk::band_pass(a, 1.5)
    }

    #[test]
    fn finds_a_known_shift_and_undoes_it() {
        let (dapi, probe, labels) = pair(3, -2, 0.03);
        let s = find_shift(&band(&probe), &band(&dapi), &labels, 6, 1.5).expect("texture");
        assert_eq!(s.applied(), (3, -2), "{s:?}");
        assert!(
            (s.dx - 3.0).abs() < 0.25 && (s.dy + 2.0).abs() < 0.25,
            "{s:?}"
        );
        let back = shift_whole(&probe, 3, -2);
        let again = find_shift(&band(&back), &band(&dapi), &labels, 6, 1.5).expect("texture");
        assert_eq!(again.applied(), (0, 0), "{again:?}");
    }

    #[test]
    fn aligned_or_without_bleed_through_nothing_moves() {
        let (dapi, probe, labels) = pair(0, 0, 0.03);
        let s = find_shift(&band(&probe), &band(&dapi), &labels, 6, 1.5).expect("texture");
        assert_eq!(s.applied(), (0, 0), "{s:?}");
        let (dapi, probe, labels) = pair(3, 1, 0.0);
        let s = find_shift(&band(&probe), &band(&dapi), &labels, 6, 1.5).expect("texture");
        assert_eq!(s.applied(), (0, 0), "{s:?}");
        // Inverted texture (darker where DAPI is bright): its correlation is
        // highest far from the true shift, where it fades to 0; not a peak.
        let (dapi, probe, labels) = pair(0, 0, -0.03);
        let s = find_shift(&band(&probe), &band(&dapi), &labels, 6, 1.5).expect("texture");
        assert_eq!(s.applied(), (0, 0), "{s:?}");
    }
}
