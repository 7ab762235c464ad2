//! The tissue: irregular nuclei placed at a chosen density, touching
//! (deformed against each other), truly overlapping pairs, out-of-focus
//! nuclei, nuclei cut by the border and apoptotic debris.
//!
//! Coordinates are in pixels with the origin at the centre of the top-left
//! pixel (as scikit-image): pixel `(x, y)` covers `[x-0.5, x+0.5)`.

use super::params::SimParams;
use crate::rng::Rng;

/// An irregular closed outline: a radius that varies with the angle as a
/// sum of low harmonics (k = 2 elongation, k = 3..5 lobes and dents).
#[derive(Debug, Clone)]
pub struct Shape {
    /// Centre x in pixels.
    pub cx: f64,
    /// Centre y in pixels.
    pub cy: f64,
    /// Mean radius in pixels.
    pub r: f64,
    /// (amplitude, phase) of harmonics k = 2, 3, 4, 5.
    pub harmonics: [(f64, f64); 4],
}

impl Shape {
    /// A random nucleus-like shape of mean radius `r` px at `(cx, cy)`.
    pub fn random(rng: &mut Rng, cx: f64, cy: f64, r: f64, irregularity: f64) -> Self {
        let mut harmonics = [(0.0, 0.0); 4];
        // Elongation up to ~1.6:1 axis ratio, smaller lobes; occasionally a
        // kidney-like dent (strong k = 3).
        let amps = [0.22, 0.07, 0.05, 0.03];
        for (k, h) in harmonics.iter_mut().enumerate() {
            let kidney = k == 1 && rng.bernoulli(0.08);
            let a = if kidney {
                0.12
            } else {
                amps[k] * rng.uniform()
            };
            *h = (a * irregularity, rng.range(0.0, 2.0 * std::f64::consts::PI));
        }
        Shape {
            cx,
            cy,
            r,
            harmonics,
        }
    }

    /// Outline radius at angle `theta`.
    pub fn radius_at(&self, theta: f64) -> f64 {
        let mut f = 1.0;
        for (i, (a, phi)) in self.harmonics.iter().enumerate() {
            f += a * libm::cos((i as f64 + 2.0) * theta + phi);
        }
        self.r * f
    }

    /// An upper bound of the outline radius.
    pub fn max_radius(&self) -> f64 {
        self.r * (1.0 + self.harmonics.iter().map(|h| h.0.abs()).sum::<f64>())
    }

    /// Whether the point `(x, y)` lies inside the outline grown by `grow` px.
    pub fn contains(&self, x: f64, y: f64, grow: f64) -> bool {
        let dx = x - self.cx;
        let dy = y - self.cy;
        let d2 = dx * dx + dy * dy;
        let rmax = self.max_radius() + grow;
        if d2 > rmax * rmax {
            return false;
        }
        let theta = libm::atan2(dy, dx);
        let rr = self.radius_at(theta) + grow;
        d2 <= rr * rr
    }

    /// In-image pixel indices (`y * width + x`) inside the outline grown by
    /// `grow`, and whether part of the outline falls outside the image.
    pub fn rasterize(&self, width: usize, height: usize, grow: f64) -> (Vec<u32>, bool) {
        let rmax = self.max_radius() + grow + 1.0;
        let x0 = (self.cx - rmax).floor() as i64;
        let x1 = (self.cx + rmax).ceil() as i64;
        let y0 = (self.cy - rmax).floor() as i64;
        let y1 = (self.cy + rmax).ceil() as i64;
        let mut px = Vec::new();
        let mut cut = false;
        for y in y0..=y1 {
            for x in x0..=x1 {
                if self.contains(x as f64, y as f64, grow) {
                    if x < 0 || y < 0 || x >= width as i64 || y >= height as i64 {
                        cut = true;
                    } else {
                        px.push((y as usize * width + x as usize) as u32);
                    }
                }
            }
        }
        (px, cut)
    }
}

/// What an object in the DAPI channel is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An interphase nucleus.
    Nucleus,
    /// An apoptotic body or debris fragment (never scorable).
    Debris,
}

/// One simulated DAPI object with its truth.
#[derive(Debug, Clone)]
pub struct SimNucleus {
    /// Label in the truth image (1-based).
    pub id: u32,
    /// Outline.
    pub shape: Shape,
    /// Nucleus or debris.
    pub kind: Kind,
    /// DAPI brightness multiplier (ADU at the nucleus' mean).
    pub dapi_level: f64,
    /// Pixels that carry this nucleus' DAPI (its own volume as imaged:
    /// deformed against earlier neighbours, complete for an overlapping
    /// nucleus lying on top).
    pub dapi_pixels: Vec<u32>,
    /// Part of the outline falls outside the image.
    pub cut_by_border: bool,
    /// Overlaps another nucleus (or is overlapped by one).
    pub overlapping: bool,
    /// Lies out of the focal plane.
    pub out_of_focus: bool,
}

impl SimNucleus {
    /// The truth reason it may not be scored, or `None` if scorable.
    pub fn reason(&self) -> Option<&'static str> {
        if self.kind == Kind::Debris {
            Some("debris")
        } else if self.overlapping {
            Some("overlapping")
        } else if self.cut_by_border {
            Some("cut_by_border")
        } else if self.out_of_focus {
            Some("out_of_focus")
        } else {
            None
        }
    }
}

/// The placed tissue: objects and the truth label image (`owner`, row-major,
/// 0 = background).
#[derive(Debug, Clone)]
pub struct Tissue {
    /// All DAPI objects; `nuclei[i].id == i + 1`.
    pub nuclei: Vec<SimNucleus>,
    /// Truth label of every pixel (the object on top where two overlap).
    pub owner: Vec<u32>,
}

/// Draws a nucleus radius in pixels from the parameters' size distribution.
fn draw_radius_px(rng: &mut Rng, p: &SimParams) -> f64 {
    let d = rng
        .lognormal(p.nucleus_diameter_um, 0.18)
        .clamp(p.nucleus_min_um, p.nucleus_max_um);
    0.5 * d / p.pixel_size_um
}

/// Places nuclei, overlapping partners and debris.
pub fn place_tissue(p: &SimParams) -> Tissue {
    let (w, h) = (p.width(), p.height());
    let mut rng = Rng::for_purpose(p.seed, "tissue", 0);
    let mut owner = vec![0u32; w * h];
    let mut nuclei: Vec<SimNucleus> = Vec::new();
    let target_area = p.density * (w * h) as f64;
    let mut covered = 0.0;
    // Sparse fields keep a gap between nuclei; denser tissue lets nuclei
    // press against each other (the later one is deformed, as in a section).
    let (gap_um, allowed_overlap) = if p.density < 0.25 {
        (1.5, 0.0)
    } else if p.density < 0.45 {
        (0.0, 0.06)
    } else {
        (0.0, 0.15)
    };
    let gap_px = gap_um / p.pixel_size_um;
    let mut failures = 0;
    while covered < target_area && failures < 400 {
        let r = draw_radius_px(&mut rng, p);
        let cx = rng.range(0.0, w as f64);
        let cy = rng.range(0.0, h as f64);
        let shape = Shape::random(&mut rng, cx, cy, r, 1.0);
        let (px, cut) = shape.rasterize(w, h, 0.0);
        if px.is_empty() {
            failures += 1;
            continue;
        }
        let clash = if gap_px > 0.0 {
            let (grown, _) = shape.rasterize(w, h, gap_px);
            grown.iter().any(|&i| owner[i as usize] != 0)
        } else {
            let taken = px.iter().filter(|&&i| owner[i as usize] != 0).count();
            taken as f64 > allowed_overlap * px.len() as f64
        };
        let full_area = std::f64::consts::PI * r * r;
        let free: Vec<u32> = px
            .iter()
            .copied()
            .filter(|&i| owner[i as usize] == 0)
            .collect();
        // Border slivers (under 20 % of the nucleus inside) are skipped.
        if clash || (free.len() as f64) < 0.2 * full_area {
            failures += 1;
            continue;
        }
        failures = 0;
        let id = nuclei.len() as u32 + 1;
        for &i in &free {
            owner[i as usize] = id;
        }
        covered += free.len() as f64;
        nuclei.push(SimNucleus {
            id,
            shape,
            kind: Kind::Nucleus,
            dapi_level: rng.lognormal(p.dapi_level, 0.22),
            dapi_pixels: free,
            cut_by_border: cut,
            overlapping: false,
            out_of_focus: false,
        });
    }

    // True overlaps: a partner lying on top of an existing nucleus, covering
    // 25-60 % of it. Both become non-scorable.
    let base_count = nuclei.len();
    for b in 0..base_count {
        if !rng.bernoulli(p.overlap_fraction) || nuclei[b].cut_by_border || nuclei[b].overlapping {
            continue;
        }
        let base = nuclei[b].shape.clone();
        for _try in 0..8 {
            let r = draw_radius_px(&mut rng, p);
            let angle = rng.range(0.0, 2.0 * std::f64::consts::PI);
            let dist = (base.r + r) * rng.range(0.45, 0.7);
            let cx = base.cx + dist * libm::cos(angle);
            let cy = base.cy + dist * libm::sin(angle);
            if cx < 0.0 || cy < 0.0 || cx >= w as f64 || cy >= h as f64 {
                continue;
            }
            let shape = Shape::random(&mut rng, cx, cy, r, 1.0);
            let (px, cut) = shape.rasterize(w, h, 0.0);
            let over_base = px
                .iter()
                .filter(|&&i| owner[i as usize] == nuclei[b].id)
                .count() as f64;
            let base_area = nuclei[b].dapi_pixels.len() as f64;
            if over_base < 0.25 * base_area.min(px.len() as f64) || over_base > 0.6 * base_area {
                continue;
            }
            let id = nuclei.len() as u32 + 1;
            for &i in &px {
                owner[i as usize] = id;
            }
            nuclei.push(SimNucleus {
                id,
                shape,
                kind: Kind::Nucleus,
                dapi_level: rng.lognormal(p.dapi_level, 0.22),
                dapi_pixels: px,
                cut_by_border: cut,
                overlapping: true,
                out_of_focus: false,
            });
            break;
        }
    }
    // Any nucleus that lost more than 10 % of itself to a partner on top
    // is overlapping too (this includes the intended base nucleus).
    let mut visible = vec![0usize; nuclei.len() + 1];
    for &o in &owner {
        visible[o as usize] += 1;
    }
    for n in nuclei.iter_mut() {
        if (visible[n.id as usize] as f64) < 0.9 * n.dapi_pixels.len() as f64 {
            n.overlapping = true;
        }
    }

    // Out-of-focus nuclei.
    for n in nuclei.iter_mut() {
        if rng.bernoulli(p.out_of_focus_fraction) {
            n.out_of_focus = true;
        }
    }

    // Debris: small bright compact fragments in free space.
    let n_debris = (p.debris_per_100 / 100.0 * base_count as f64).round() as usize;
    let mut placed = 0;
    let mut tries = 0;
    while placed < n_debris && tries < 200 * (n_debris + 1) {
        tries += 1;
        let d_um = rng.range(1.5, 3.5);
        let r = 0.5 * d_um / p.pixel_size_um;
        let cx = rng.range(r, w as f64 - r);
        let cy = rng.range(r, h as f64 - r);
        let shape = Shape::random(&mut rng, cx, cy, r, 0.5);
        let (grown, _) = shape.rasterize(w, h, 0.5 / p.pixel_size_um);
        if grown.iter().any(|&i| owner[i as usize] != 0) {
            continue;
        }
        let (px, cut) = shape.rasterize(w, h, 0.0);
        if px.is_empty() || cut {
            continue;
        }
        let id = nuclei.len() as u32 + 1;
        for &i in &px {
            owner[i as usize] = id;
        }
        nuclei.push(SimNucleus {
            id,
            shape,
            kind: Kind::Debris,
            dapi_level: p.dapi_level * rng.range(1.6, 2.4),
            dapi_pixels: px,
            cut_by_border: false,
            overlapping: false,
            out_of_focus: false,
        });
        placed += 1;
    }
    Tissue { nuclei, owner }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn circle_shape_area_is_pi_r_squared() {
        let s = Shape {
            cx: 50.0,
            cy: 50.0,
            r: 20.0,
            harmonics: [(0.0, 0.0); 4],
        };
        let (px, cut) = s.rasterize(100, 100, 0.0);
        assert!(!cut);
        let a = std::f64::consts::PI * 400.0;
        assert!((px.len() as f64 - a).abs() / a < 0.02);
        let (_, cut) = Shape { cx: 5.0, ..s }.rasterize(100, 100, 0.0);
        assert!(cut);
    }
}
