//! overlay.png: the field as a contrast-stretched composite (target red,
//! control green, DAPI blue) with every nucleus outlined in the colour of
//! its status and every signal marked, at full resolution so it reads at
//! 100 % zoom.
//!
//! Colours: scored (enumerated) nuclei white; eligible but not enumerated
//! cyan; excluded nuclei orange (morphology) or grey (no signal of one
//! colour). Target signals: red rings; control: green rings; clusters:
//! a larger yellow ring; granules: a small blue cross.

use crate::pipeline::CaseResult;
use crate::plane::{Channel, Field};
use crate::spots::SignalKind;
use ndarray::Array2;

/// Display range of a plane: its 0.5 % and 99.8 % quantiles.
fn stretch(data: &Array2<f32>) -> (f32, f32) {
    let step = (data.len() / 200_000).max(1);
    let mut v: Vec<f32> = data.iter().step_by(step).copied().collect();
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return (0.0, 1.0);
    }
    let q = |p: f64| v[((p * (v.len() - 1) as f64).round() as usize).min(v.len() - 1)];
    let (lo, hi) = (q(0.005), q(0.998));
    (lo, if hi > lo { hi } else { lo + 1.0 })
}

/// An RGB canvas.
pub struct Canvas {
    /// Width in px.
    pub w: usize,
    /// Height in px.
    pub h: usize,
    /// Row-major RGB bytes.
    pub rgb: Vec<u8>,
}

impl Canvas {
    /// Sets one pixel (ignored outside).
    pub fn put(&mut self, x: i64, y: i64, c: [u8; 3]) {
        if x < 0 || y < 0 || x >= self.w as i64 || y >= self.h as i64 {
            return;
        }
        let i = 3 * (y as usize * self.w + x as usize);
        self.rgb[i..i + 3].copy_from_slice(&c);
    }

    /// A ring of radius `r` px (1 px thick).
    pub fn ring(&mut self, cx: f64, cy: f64, r: f64, c: [u8; 3]) {
        let n = ((2.0 * std::f64::consts::PI * r) as usize).max(12) * 2;
        for k in 0..n {
            let a = k as f64 / n as f64 * std::f64::consts::TAU;
            self.put(
                (cx + r * a.cos()).round() as i64,
                (cy + r * a.sin()).round() as i64,
                c,
            );
        }
    }
}

/// The contrast-stretched composite of a field.
pub fn composite(field: &Field) -> Canvas {
    let (h, w) = field.dapi.data.dim();
    let mut rgb = vec![0u8; w * h * 3];
    for (ci, ch) in [
        (0usize, Channel::Target),
        (1, Channel::Control),
        (2, Channel::Dapi),
    ] {
        let d = &field.channel(ch).data;
        let (lo, hi) = stretch(d);
        let dim = if ch == Channel::Dapi { 0.75 } else { 1.0 };
        for (i, &v) in d.iter().enumerate() {
            rgb[3 * i + ci] = ((v - lo) / (hi - lo) * 255.0 * dim).clamp(0.0, 255.0) as u8;
        }
    }
    Canvas { w, h, rgb }
}

/// Colour of a nucleus outline by its status.
pub fn status_colour(scored: bool, eligible: bool, morphology_ok: bool) -> [u8; 3] {
    if scored {
        [255, 255, 255]
    } else if eligible {
        [0, 220, 255]
    } else if morphology_ok {
        [150, 150, 150]
    } else {
        [255, 140, 0]
    }
}

/// Renders field `fi` of a case to a PNG.
pub fn render_overlay(field: &Field, result: &CaseResult, fi: usize) -> Canvas {
    let mut c = composite(field);
    let f = &result.fields[fi];
    let status: std::collections::HashMap<u32, &crate::scoring::NucleusStatus> = result
        .score
        .per_nucleus
        .iter()
        .filter(|s| s.field == fi)
        .map(|s| (s.id, s))
        .collect();
    let colour: std::collections::HashMap<u32, [u8; 3]> = f
        .nuclei
        .iter()
        .map(|n| {
            let st = status.get(&n.id);
            (
                n.id,
                status_colour(
                    st.is_some_and(|s| s.enumerated),
                    st.is_some_and(|s| s.eligible),
                    n.scorable,
                ),
            )
        })
        .collect();
    let (h, w) = f.labels.dim();
    for y in 0..h {
        for x in 0..w {
            let l = f.labels[[y, x]];
            if l == 0 {
                continue;
            }
            let edge = [(0i64, 1i64), (1, 0), (0, -1), (-1, 0)]
                .iter()
                .any(|&(dy, dx)| {
                    let (ny, nx) = (y as i64 + dy, x as i64 + dx);
                    ny < 0
                        || nx < 0
                        || ny >= h as i64
                        || nx >= w as i64
                        || f.labels[[ny as usize, nx as usize]] != l
                });
            if edge {
                c.put(
                    x as i64,
                    y as i64,
                    colour.get(&l).copied().unwrap_or([255, 140, 0]),
                );
            }
        }
    }
    let r = (0.45 / f.pixel_size_um).max(3.0);
    for s in &f.signals.signals {
        match (s.kind, s.channel) {
            (SignalKind::Granule, _) => {
                for d in -2..=2 {
                    c.put(s.x.round() as i64 + d, s.y.round() as i64, [80, 120, 255]);
                    c.put(s.x.round() as i64, s.y.round() as i64 + d, [80, 120, 255]);
                }
            }
            (SignalKind::Cluster, _) => {
                let rc = (s.width_um / f.pixel_size_um * 2.0).max(r * 1.6);
                c.ring(s.x, s.y, rc, [255, 230, 0]);
            }
            (_, Channel::Target) => c.ring(s.x, s.y, r, [255, 60, 60]),
            (_, Channel::Control) => c.ring(s.x, s.y, r, [60, 255, 60]),
            (_, Channel::Dapi) => {}
        }
    }
    c
}

/// Encodes a canvas as PNG bytes.
pub fn encode_png(c: &Canvas) -> Result<Vec<u8>, String> {
    use image::ImageEncoder;
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            &c.rgb,
            c.w as u32,
            c.h as u32,
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| e.to_string())?;
    Ok(out)
}
