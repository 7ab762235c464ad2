//! Image formation: DAPI with chromatin texture, probe dots through a
//! Gaussian PSF (pixel-integrated), defocus in z, uneven tissue
//! autofluorescence, DAPI bleed-through, and camera noise (Poisson shot
//! noise + Gaussian read noise, offset, 12-bit clipping).

use super::params::SimParams;
use super::signals::Probes;
use super::tissue::{Kind, Tissue};
use crate::filters::gaussian_filter;
use crate::plane::Channel;
use crate::rng::Rng;
use ndarray::Array2;
use rayon::prelude::*;

/// Camera offset (bias) in ADU.
pub const CAMERA_OFFSET: f64 = 100.0;
/// Largest value of a 12-bit camera.
pub const CAMERA_MAX: f64 = 4095.0;

/// Noise-free expected photo-electrons (ADU at gain 1) of every channel
/// and focal plane: `[channel][z]`.
pub struct CleanStack {
    /// DAPI planes.
    pub dapi: Vec<Array2<f32>>,
    /// Target planes.
    pub target: Vec<Array2<f32>>,
    /// Control planes.
    pub control: Vec<Array2<f32>>,
}

/// White noise smoothed at `sigma_px`, scaled to unit standard deviation.
fn smooth_noise(seed: u64, purpose: &str, w: usize, h: usize, sigma_px: f64) -> Array2<f32> {
    let mut a = Array2::<f32>::zeros((h, w));
    a.as_slice_mut()
        .unwrap()
        .par_chunks_mut(w)
        .enumerate()
        .for_each(|(y, row)| {
            let mut rng = Rng::for_purpose(seed, purpose, y as u64);
            row.iter_mut().for_each(|v| *v = rng.normal() as f32);
        });
    let mut s = gaussian_filter(&a, sigma_px);
    let n = s.len() as f64;
    let mean = s.iter().map(|&v| v as f64).sum::<f64>() / n;
    let sd = (s.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
    let sd = if sd > 0.0 { sd } else { 1.0 };
    s.mapv_inplace(|v| ((v as f64 - mean) / sd) as f32);
    s
}

/// A smooth positive field of mean 1 varying over tens of micrometres
/// (uneven tissue autofluorescence / illumination), from random broad blobs.
fn smooth_field(seed: u64, purpose: &str, w: usize, h: usize, px_um: f64) -> Array2<f32> {
    let mut rng = Rng::for_purpose(seed, purpose, 0);
    let blobs: Vec<(f64, f64, f64, f64)> = (0..10)
        .map(|_| {
            (
                rng.range(-0.1, 1.1) * w as f64,
                rng.range(-0.1, 1.1) * h as f64,
                rng.range(10.0, 40.0) / px_um,
                rng.range(0.1, 0.45),
            )
        })
        .collect();
    let mut f = Array2::<f32>::zeros((h, w));
    f.as_slice_mut()
        .unwrap()
        .par_chunks_mut(w)
        .enumerate()
        .for_each(|(y, row)| {
            for (x, v) in row.iter_mut().enumerate() {
                let mut s = 1.0;
                for &(bx, by, bs, ba) in &blobs {
                    let d2 = (x as f64 - bx).powi(2) + (y as f64 - by).powi(2);
                    s += ba * libm::exp(-d2 / (2.0 * bs * bs));
                }
                *v = s as f32;
            }
        });
    let mean = f.iter().map(|&v| v as f64).sum::<f64>() / f.len() as f64;
    f.mapv_inplace(|v| (v as f64 / mean) as f32);
    f
}

/// Adds a pixel-integrated isotropic Gaussian of total `flux`.
pub fn add_gaussian(img: &mut Array2<f32>, x0: f64, y0: f64, sigma: f64, flux: f64) {
    let (h, w) = img.dim();
    let r = (4.0 * sigma + 1.0).ceil() as i64;
    let xc = x0.round() as i64;
    let yc = y0.round() as i64;
    let s2 = std::f64::consts::SQRT_2 * sigma;
    let frac = |c: i64, c0: f64| {
        0.5 * (libm::erf((c as f64 + 0.5 - c0) / s2) - libm::erf((c as f64 - 0.5 - c0) / s2))
    };
    let xs: Vec<(usize, f64)> = (xc - r..=xc + r)
        .filter(|&x| x >= 0 && x < w as i64)
        .map(|x| (x as usize, frac(x, x0)))
        .collect();
    for y in (yc - r..=yc + r).filter(|&y| y >= 0 && y < h as i64) {
        let fy = frac(y, y0) * flux;
        for &(x, fx) in &xs {
            img[[y as usize, x]] += (fy * fx) as f32;
        }
    }
}

/// Depth of focal plane `k` in um (planes centred in the section).
pub fn plane_depth_um(p: &SimParams, k: usize) -> f64 {
    (k as f64 + 0.5) * p.z_step_um
}

/// Renders the noise-free expected image of every channel and plane.
pub fn render_clean(p: &SimParams, t: &Tissue, probes: &Probes) -> CleanStack {
    let (w, h) = (p.width(), p.height());
    let px = p.pixel_size_um;
    let psf_px = p.psf_sigma_um() / px;

    // DAPI: chromatin texture at two scales, nuclei summed where they
    // overlap (so overlaps are brighter), focused and defocused layers.
    let fine = smooth_noise(p.seed, "texture-fine", w, h, 0.3 / px);
    let coarse = smooth_noise(p.seed, "texture-coarse", w, h, 1.0 / px);
    let mut in_focus = Array2::<f32>::zeros((h, w));
    let mut defocus = Array2::<f32>::zeros((h, w));
    let mut nuclear = Array2::<f32>::zeros((h, w)); // nuclear mask weight for probe background
    {
        let fine = fine.as_slice().unwrap();
        let coarse = coarse.as_slice().unwrap();
        for n in &t.nuclei {
            let (tf, tc) = if n.kind == Kind::Debris {
                (0.05, 0.0)
            } else {
                (0.16, 0.10)
            };
            let layer = if n.out_of_focus {
                defocus.as_slice_mut().unwrap()
            } else {
                in_focus.as_slice_mut().unwrap()
            };
            for &i in &n.dapi_pixels {
                let i = i as usize;
                let v = n.dapi_level * (1.0 + tf * fine[i] as f64 + tc * coarse[i] as f64);
                layer[i] += v.max(0.0) as f32;
            }
            let nm = nuclear.as_slice_mut().unwrap();
            for &i in &n.dapi_pixels {
                nm[i as usize] = 1.0;
            }
        }
    }
    let edge_sigma = (0.25 / px).max(psf_px);
    let oof_sigma = 1.2 / px;
    let dapi_bg = smooth_field(p.seed, "dapi-bg", w, h, px);
    let mut dapi = gaussian_filter(&in_focus, edge_sigma);
    let d2 = gaussian_filter(&defocus, oof_sigma);
    let dapi_floor = 0.05 * p.dapi_level;
    dapi.zip_mut_with(&d2, |a, b| *a += *b);
    dapi.zip_mut_with(&dapi_bg, |a, b| *a += (dapi_floor * *b as f64) as f32);
    let nuclear = gaussian_filter(&nuclear, edge_sigma);

    // Probe background: shared tissue autofluorescence pattern (red and
    // green autofluorescence come from the same structures) plus a channel
    // component, fine tissue texture, a little nuclear hybridisation
    // background and DAPI bleed-through.
    let shared = smooth_field(p.seed, "af-shared", w, h, px);
    let tissue_tex = smooth_noise(p.seed, "af-texture", w, h, 1.5 / px);
    let oof_ids: Vec<bool> = std::iter::once(false)
        .chain(t.nuclei.iter().map(|n| n.out_of_focus))
        .collect();

    let planes = p.z_planes.max(1);
    let mut out = CleanStack {
        dapi: Vec::new(),
        target: Vec::new(),
        control: Vec::new(),
    };
    for channel in [Channel::Target, Channel::Control] {
        let own = smooth_field(p.seed, &format!("af-{}", channel.as_str()), w, h, px);
        let mut base = Array2::<f32>::zeros((h, w));
        {
            let b = base.as_slice_mut().unwrap();
            let s = shared.as_slice().unwrap();
            let o = own.as_slice().unwrap();
            let tt = tissue_tex.as_slice().unwrap();
            let nm = nuclear.as_slice().unwrap();
            let dp = dapi.as_slice().unwrap();
            for i in 0..b.len() {
                let af = p.background
                    * (0.7 * s[i] as f64 + 0.3 * o[i] as f64)
                    * (1.0 + 0.08 * tt[i] as f64);
                let nuc = 0.08 * p.background * nm[i] as f64;
                b[i] = (af + nuc + p.dapi_bleed * dp[i] as f64).max(0.0) as f32;
            }
        }
        for g in &probes.granules {
            let f = if channel == Channel::Target {
                g.flux_target
            } else {
                g.flux_control
            };
            add_gaussian(&mut base, g.x, g.y, g.sigma_px, f);
        }
        let z_r = 2.0 * p.psf_fwhm_um;
        let stack: Vec<Array2<f32>> = (0..planes)
            .into_par_iter()
            .map(|k| {
                let mut img = base.clone();
                // Each probe's own dots at full flux; the other probe's at
                // its spectral bleed-through into this channel's filter.
                let bleed_in = match channel {
                    Channel::Target => p.control_bleed,
                    _ => p.target_bleed,
                };
                for s in probes
                    .spots
                    .iter()
                    .filter(|s| s.channel == channel || bleed_in > 0.0)
                {
                    let oof = oof_ids[s.nucleus as usize];
                    let scale = if s.channel == channel { 1.0 } else { bleed_in };
                    for d in &s.dots {
                        let mut sigma = psf_px;
                        if planes > 1 {
                            let dz = plane_depth_um(p, k) - d.z_um;
                            sigma *= (1.0 + (dz / z_r).powi(2)).sqrt();
                        }
                        if oof {
                            sigma = sigma.max(0.6 / px);
                        }
                        add_gaussian(&mut img, d.x, d.y, sigma, d.flux * scale);
                    }
                }
                img
            })
            .collect();
        // Registration error of this channel's image against DAPI.
        let (dx, dy) = match channel {
            Channel::Target => p.target_shift_um,
            _ => p.control_shift_um,
        };
        let stack = if dx != 0.0 || dy != 0.0 {
            stack
                .iter()
                .map(|a| crate::filters::shift_bilinear(a, dx / px, dy / px))
                .collect()
        } else {
            stack
        };
        match channel {
            Channel::Target => out.target = stack,
            _ => out.control = stack,
        }
    }
    out.dapi = vec![dapi; planes];
    out
}

/// Camera: Poisson shot noise on the expected electrons, Gaussian read
/// noise, offset, rounding and 12-bit clipping. One random stream per
/// (channel, plane, row), so the result does not depend on thread count.
pub fn camera(p: &SimParams, clean: &Array2<f32>, channel: Channel, plane: usize) -> Vec<u16> {
    let (h, w) = clean.dim();
    let mut out = vec![0u16; w * h];
    let src = clean.as_slice().expect("standard layout");
    let purpose = format!("camera-{}-{plane}", channel.as_str());
    out.par_chunks_mut(w)
        .zip(src.par_chunks(w))
        .enumerate()
        .for_each(|(y, (orow, irow))| {
            let mut rng = Rng::for_purpose(p.seed, &purpose, y as u64);
            for (o, &e) in orow.iter_mut().zip(irow) {
                let electrons = rng.poisson(e.max(0.0) as f64) as f64;
                let v = electrons + p.read_noise * rng.normal() + CAMERA_OFFSET;
                *o = v.round().clamp(0.0, CAMERA_MAX) as u16;
            }
        });
    if p.hot_pixels > 0.0 {
        // Sensor defects: positions and base excess from one stream per
        // row shared by every channel and plane; the exposure factor from
        // the channel's own stream.
        let ch = channel.as_str();
        let scale = 0.5 + Rng::for_purpose(p.seed, &format!("hot-scale-{ch}"), 0).uniform();
        for y in 0..h {
            let mut rng = Rng::for_purpose(p.seed, "hot-pixels", y as u64);
            for x in 0..w {
                if rng.uniform() < p.hot_pixels {
                    let excess = 300.0 * (0.8 * rng.normal()).exp() * scale;
                    let o = &mut out[y * w + x];
                    *o = (*o as f64 + excess).round().clamp(0.0, CAMERA_MAX) as u16;
                }
            }
        }
    }
    out
}
