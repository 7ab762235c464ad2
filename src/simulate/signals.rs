//! The probes: copies of the locus (target) and centromere (control) per
//! nucleus, drawn as diffraction-limited dots, split signals, dense
//! clusters of amplified copies, and autofluorescent granules.

use super::params::{ClusterMode, SimParams};
use super::tissue::{Kind, SimNucleus, Tissue};
use crate::plane::Channel;
use crate::rng::Rng;

/// How one truth signal was drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpotKind {
    /// One copy, one dot.
    Single,
    /// One copy imaged as two close dots (counts once).
    Split,
    /// Many copies packed into one region.
    Cluster,
}

impl SpotKind {
    /// Name used in truth_spots.csv.
    pub fn as_str(self) -> &'static str {
        match self {
            SpotKind::Single => "single",
            SpotKind::Split => "split",
            SpotKind::Cluster => "cluster",
        }
    }
}

/// One rendered Gaussian dot.
#[derive(Debug, Clone, Copy)]
pub struct Dot {
    /// Position in pixels.
    pub x: f64,
    /// Position in pixels.
    pub y: f64,
    /// Integrated intensity (ADU summed over the dot).
    pub flux: f64,
    /// Depth in the section in um (0 = top).
    pub z_um: f64,
}

/// One truth signal: what a careful reader counts as one entry.
#[derive(Debug, Clone)]
pub struct TruthSpot {
    /// Probe channel (target or control).
    pub channel: Channel,
    /// Nucleus id it belongs to.
    pub nucleus: u32,
    /// Position in pixels (flux-weighted centre of its dots).
    pub x: f64,
    /// Position in pixels.
    pub y: f64,
    /// Copies it represents (1 for single and split).
    pub copies: u32,
    /// Single, split or cluster.
    pub kind: SpotKind,
    /// The dots that draw it.
    pub dots: Vec<Dot>,
    /// Radius of a cluster in um (0 otherwise).
    pub radius_um: f64,
}

/// An autofluorescent granule, bright in both probe channels.
#[derive(Debug, Clone, Copy)]
pub struct Granule {
    /// Position in pixels.
    pub x: f64,
    /// Position in pixels.
    pub y: f64,
    /// Gaussian sigma in pixels (broader than the PSF).
    pub sigma_px: f64,
    /// Integrated intensity in the target channel.
    pub flux_target: f64,
    /// Integrated intensity in the control channel.
    pub flux_control: f64,
    /// Truth label under its centre (0 = outside nuclei).
    pub nucleus: u32,
}

/// Per-nucleus truth of the probes.
#[derive(Debug, Clone, Copy, Default)]
pub struct NucleusCopies {
    /// Target copies in the section.
    pub target: u32,
    /// Control copies in the section.
    pub control: u32,
    /// Holds at least one cluster.
    pub cluster: bool,
    /// Carries the amplification.
    pub amplified: bool,
}

/// All probe truth of a case.
#[derive(Debug, Clone)]
pub struct Probes {
    /// Signals of both channels.
    pub spots: Vec<TruthSpot>,
    /// Granules.
    pub granules: Vec<Granule>,
    /// Indexed by nucleus id - 1.
    pub copies: Vec<NucleusCopies>,
    /// Median integrated intensity of one copy (ADU).
    pub single_flux: f64,
}

/// Minimum distance between two distinct copies of one colour, in um. A
/// reader counts two dots closer than about one signal diameter (~1 um) as
/// one split signal, so distinct copies are drawn further apart than that.
pub const MIN_COPY_SEPARATION_UM: f64 = 1.3;

/// Integrated intensity of a median single copy, from the SNR definition:
/// peak height = SNR x background noise SD, and flux = 2 pi sigma^2 x peak.
pub fn single_copy_flux(p: &SimParams) -> f64 {
    let noise_sd = (p.background + p.read_noise * p.read_noise).sqrt();
    let sigma_px = p.psf_sigma_um() / p.pixel_size_um;
    p.snr * noise_sd * 2.0 * std::f64::consts::PI * sigma_px * sigma_px
}

fn stochastic_round(rng: &mut Rng, v: f64) -> u32 {
    let f = v.floor();
    let extra = if rng.bernoulli(v - f) { 1.0 } else { 0.0 };
    (f + extra).max(0.0) as u32
}

fn thin(rng: &mut Rng, n: u32, keep: f64) -> u32 {
    (0..n).filter(|_| rng.bernoulli(keep)).count() as u32
}

/// Checks that a point is a valid signal position inside nucleus `n`:
/// in the image, at least `margin` px inside the outline, and (unless the
/// nucleus overlaps another) not on a neighbour's pixels.
fn inside(t: &Tissue, n: &SimNucleus, w: usize, h: usize, x: f64, y: f64, margin: f64) -> bool {
    if x < margin || y < margin || x > w as f64 - 1.0 - margin || y > h as f64 - 1.0 - margin {
        return false;
    }
    if !n.shape.contains(x, y, -margin) {
        return false;
    }
    // The point must be on this nucleus' pixels; for an overlapping
    // nucleus, on its own or its partner's (never on a third neighbour).
    let own = |xx: f64, yy: f64| {
        let xi = xx.round() as usize;
        let yi = yy.round() as usize;
        if xi >= w || yi >= h {
            return false;
        }
        let o = t.owner[yi * w + xi];
        o == n.id || (n.overlapping && o != 0 && t.nuclei[(o - 1) as usize].overlapping)
    };
    own(x, y)
        && own(x - margin, y)
        && own(x + margin, y)
        && own(x, y - margin)
        && own(x, y + margin)
}

/// Draws a position in nucleus `n` at least `sep` px from `taken`.
#[allow(clippy::too_many_arguments)]
fn draw_position(
    rng: &mut Rng,
    t: &Tissue,
    n: &SimNucleus,
    w: usize,
    h: usize,
    margin: f64,
    taken: &[(f64, f64, f64)],
    sep: f64,
) -> Option<(f64, f64)> {
    let r = n.shape.max_radius();
    for _ in 0..80 {
        let x = n.shape.cx + rng.range(-r, r);
        let y = n.shape.cy + rng.range(-r, r);
        if !inside(t, n, w, h, x, y, margin) {
            continue;
        }
        if taken
            .iter()
            .all(|&(tx, ty, tr)| (tx - x).powi(2) + (ty - y).powi(2) >= (sep + tr).powi(2))
        {
            return Some((x, y));
        }
    }
    None
}

/// Draws the probes of every nucleus.
pub fn draw_probes(p: &SimParams, t: &Tissue) -> Probes {
    let (w, h) = (p.width(), p.height());
    let px = p.pixel_size_um;
    let f1 = single_copy_flux(p);
    let sep = MIN_COPY_SEPARATION_UM / px;
    let margin = 0.35 / px;
    let keep = 1.0 - p.section_loss;
    let thickness = if p.z_planes > 1 {
        p.z_planes as f64 * p.z_step_um
    } else {
        0.0
    };
    let s = p.amplified_fraction;
    let amp_level = if p.ratio > 1.0 {
        (p.ratio - 1.0 + s) / s
    } else {
        1.0
    };
    let mut spots = Vec::new();
    let mut copies = vec![NucleusCopies::default(); t.nuclei.len()];

    for n in &t.nuclei {
        if n.kind == Kind::Debris {
            continue;
        }
        let mut rng = Rng::for_purpose(p.seed, "probes", n.id as u64);
        // Chromosome 12 count: disomic (or the polysomic mean), with some
        // polyploid (doubled) nuclei.
        let mut c = stochastic_round(&mut rng, p.control_mean()).max(1);
        if rng.bernoulli(0.08) {
            c *= 2;
        }
        let amplified = p.ratio > 1.0 && rng.bernoulli(s);
        let t_true = if p.ratio <= 1.0 {
            stochastic_round(&mut rng, c as f64 * p.ratio)
        } else if amplified {
            let level = amp_level * rng.lognormal(1.0, 0.2);
            stochastic_round(&mut rng, c as f64 * level)
        } else {
            c
        };
        let c_sec = thin(&mut rng, c, keep);
        let t_sec = thin(&mut rng, t_true, keep);
        let mut nc = NucleusCopies {
            amplified,
            ..Default::default()
        };

        for (channel, count) in [(Channel::Control, c_sec), (Channel::Target, t_sec)] {
            let f1 = if channel == Channel::Control {
                f1 * p.control_brightness
            } else {
                f1
            };
            let mut taken: Vec<(f64, f64, f64)> = Vec::new();
            let mut discrete = count;
            let mut cluster_sizes: Vec<u32> = Vec::new();
            if channel == Channel::Target
                && amplified
                && p.clusters != ClusterMode::Off
                && count >= 10
            {
                let extra = (rng.int_range(0, 2) as u32).min(count - 10);
                let m = count - extra;
                let k = m.div_ceil(60).max(1);
                let mut left = m;
                for i in 0..k {
                    let share = left / (k - i);
                    cluster_sizes.push(share);
                    left -= share;
                }
                discrete = extra;
            }
            let mut placed = 0u32;
            for &cn in &cluster_sizes {
                let d_um = (0.8 + 1.2 * (cn as f64 - 10.0) / 50.0 + rng.range(-0.15, 0.15))
                    .clamp(0.8, 2.0);
                let rad = 0.5 * d_um / px;
                let Some((cx, cy)) =
                    draw_position(&mut rng, t, n, w, h, margin + rad, &taken, sep + rad)
                else {
                    continue;
                };
                let mut dots = Vec::with_capacity(cn as usize);
                let z0 = rng.range(0.0, thickness);
                let (mut sx, mut sy, mut sf) = (0.0, 0.0, 0.0);
                for _ in 0..cn {
                    // Uniform in the disc.
                    let rr = rad * rng.uniform().sqrt();
                    let a = rng.range(0.0, 2.0 * std::f64::consts::PI);
                    let d = Dot {
                        x: cx + rr * libm::cos(a),
                        y: cy + rr * libm::sin(a),
                        flux: rng.lognormal(f1, 0.3),
                        z_um: (z0 + rng.range(-0.3, 0.3)).clamp(0.0, thickness),
                    };
                    sx += d.x * d.flux;
                    sy += d.y * d.flux;
                    sf += d.flux;
                    dots.push(d);
                }
                taken.push((cx, cy, rad));
                placed += cn;
                spots.push(TruthSpot {
                    channel,
                    nucleus: n.id,
                    x: sx / sf,
                    y: sy / sf,
                    copies: cn,
                    kind: SpotKind::Cluster,
                    dots,
                    radius_um: rad * px,
                });
                nc.cluster = true;
            }
            for _ in 0..discrete {
                let Some((x, y)) = draw_position(&mut rng, t, n, w, h, margin, &taken, sep) else {
                    continue;
                };
                taken.push((x, y, 0.0));
                placed += 1;
                let flux = rng.lognormal(f1, 0.3);
                let z = rng.range(0.0, thickness);
                if rng.bernoulli(p.split_fraction) {
                    let d = rng.range(0.35, 0.8) / px;
                    let a = rng.range(0.0, std::f64::consts::PI);
                    let share = rng.range(0.35, 0.65);
                    let (dx, dy) = (0.5 * d * libm::cos(a), 0.5 * d * libm::sin(a));
                    let dots = vec![
                        Dot {
                            x: x - dx,
                            y: y - dy,
                            flux: flux * share,
                            z_um: z,
                        },
                        Dot {
                            x: x + dx,
                            y: y + dy,
                            flux: flux * (1.0 - share),
                            z_um: z,
                        },
                    ];
                    let cxw = dots[0].x * share + dots[1].x * (1.0 - share);
                    let cyw = dots[0].y * share + dots[1].y * (1.0 - share);
                    spots.push(TruthSpot {
                        channel,
                        nucleus: n.id,
                        x: cxw,
                        y: cyw,
                        copies: 1,
                        kind: SpotKind::Split,
                        dots,
                        radius_um: 0.0,
                    });
                } else {
                    spots.push(TruthSpot {
                        channel,
                        nucleus: n.id,
                        x,
                        y,
                        copies: 1,
                        kind: SpotKind::Single,
                        dots: vec![Dot {
                            x,
                            y,
                            flux,
                            z_um: z,
                        }],
                        radius_um: 0.0,
                    });
                }
            }
            match channel {
                Channel::Target => nc.target = placed,
                _ => nc.control = placed,
            }
        }
        copies[(n.id - 1) as usize] = nc;
    }

    // Granules: lipofuscin-like, 2-4x the PSF width, bright in both colours.
    let mut rng = Rng::for_purpose(p.seed, "granules", 0);
    let area_um2 = (w * h) as f64 * px * px;
    let n_gran = (p.granules_per_10k_um2 * area_um2 / 10_000.0).round() as usize;
    let mut granules = Vec::with_capacity(n_gran);
    for _ in 0..n_gran {
        let x = rng.range(0.0, w as f64 - 1.0);
        let y = rng.range(0.0, h as f64 - 1.0);
        let sigma_px = rng.range(2.0, 4.0) * p.psf_sigma_um() / px;
        let flux_target =
            f1 * rng.range(5.0, 15.0) * (sigma_px * px / p.psf_sigma_um()).powi(2) / 4.0;
        let flux_control = flux_target * rng.range(0.6, 1.5);
        let nucleus = t.owner[y.round() as usize * w + x.round() as usize];
        granules.push(Granule {
            x,
            y,
            sigma_px,
            flux_target,
            flux_control,
            nucleus,
        });
    }
    Probes {
        spots,
        granules,
        copies,
        single_flux: f1,
    }
}
