//! overlay.png: the field as a contrast-stretched composite (target red,
//! control green, DAPI blue) with every nucleus outlined in the colour of
//! its status and every signal marked, at full resolution so it reads at
//! 100 % zoom.
//!
//! Colours: scored (enumerated) nuclei white; eligible but not enumerated
//! cyan; excluded nuclei orange (morphology) or grey (no signal of one
//! colour). Each nucleus carries its id above its outline (the id of
//! nuclei.csv, the gallery and the GeoJSON). Target signals: red rings;
//! control: green rings; clusters: a translucent yellow region with a
//! yellow rim and the estimated copy number (`x12`); granules: a small
//! blue cross. The reason a nucleus was excluded is in report.html (hover
//! or gallery) and nuclei.csv.

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

    /// Blends `c` into one pixel with weight `alpha` (0-1).
    pub fn blend(&mut self, x: i64, y: i64, c: [u8; 3], alpha: f32) {
        if x < 0 || y < 0 || x >= self.w as i64 || y >= self.h as i64 {
            return;
        }
        let i = 3 * (y as usize * self.w + x as usize);
        for (dst, src) in self.rgb[i..i + 3].iter_mut().zip(c) {
            let v = *dst as f32 * (1.0 - alpha) + src as f32 * alpha;
            *dst = v.round().clamp(0.0, 255.0) as u8;
        }
    }

    /// A filled disc of radius `r` px blended with weight `alpha`.
    pub fn disc(&mut self, cx: f64, cy: f64, r: f64, c: [u8; 3], alpha: f32) {
        let (x0, x1) = ((cx - r).floor() as i64, (cx + r).ceil() as i64);
        let (y0, y1) = ((cy - r).floor() as i64, (cy + r).ceil() as i64);
        for y in y0..=y1 {
            for x in x0..=x1 {
                if (x as f64 - cx).powi(2) + (y as f64 - cy).powi(2) <= r * r {
                    self.blend(x, y, c, alpha);
                }
            }
        }
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
    let status = super::field_status(result, fi);
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
    let r = (SIGNAL_RING_UM / f.pixel_size_um).max(3.0);
    // Labels scale with the magnification: 1 font pixel per 0.15 um of
    // nucleus, at least 1 (5 x 7 px glyphs), so ids read at 100 % zoom.
    let scale = ((LABEL_FONT_PX_UM / f.pixel_size_um).round() as usize).clamp(1, 4);
    for s in &f.signals.signals {
        if s.kind == SignalKind::Cluster {
            let rc = (s.width_um / f.pixel_size_um * 2.0).max(r * 1.6);
            c.disc(s.x, s.y, rc, [255, 230, 0], 0.28);
        }
    }
    for s in &f.signals.signals {
        match (s.kind, s.channel) {
            (SignalKind::Faint, _) => {
                for d in -1..=1 {
                    c.put(s.x.round() as i64 + d, s.y.round() as i64, [150, 150, 150]);
                    c.put(s.x.round() as i64, s.y.round() as i64 + d, [150, 150, 150]);
                }
            }
            (SignalKind::Granule, _) => {
                for d in -2..=2 {
                    c.put(s.x.round() as i64 + d, s.y.round() as i64, [80, 120, 255]);
                    c.put(s.x.round() as i64, s.y.round() as i64 + d, [80, 120, 255]);
                }
            }
            (SignalKind::Cluster, _) => {
                let rc = (s.width_um / f.pixel_size_um * 2.0).max(r * 1.6);
                c.ring(s.x, s.y, rc, [255, 230, 0]);
                let text = format!("x{}", s.copies);
                super::font::draw_text(
                    &mut c,
                    (s.x + rc * 0.75).round() as i64,
                    (s.y + rc * 0.6).round() as i64,
                    &text,
                    scale,
                    [255, 230, 0],
                );
            }
            (_, Channel::Target) => c.ring(s.x, s.y, r, [255, 60, 60]),
            (_, Channel::Control) => c.ring(s.x, s.y, r, [60, 255, 60]),
            (_, Channel::Dapi) => {}
        }
    }
    // Nucleus ids, centred above each nucleus's top row.
    let mut top: std::collections::HashMap<u32, (i64, i64, i64)> = Default::default();
    for ((y, x), &l) in f.labels.indexed_iter() {
        if l == 0 {
            continue;
        }
        let e = top.entry(l).or_insert((y as i64, x as i64, x as i64));
        if (y as i64) < e.0 {
            *e = (y as i64, x as i64, x as i64);
        } else if y as i64 == e.0 {
            e.1 = e.1.min(x as i64);
            e.2 = e.2.max(x as i64);
        }
    }
    let mut ids: Vec<(u32, (i64, i64, i64))> = top.into_iter().collect();
    ids.sort_by_key(|x| x.0);
    for (id, (ty, x0, x1)) in ids {
        let text = id.to_string();
        let tw = super::font::text_width(&text, scale) as i64;
        let th = 7 * scale as i64;
        let x = ((x0 + x1) / 2 - tw / 2).clamp(1, (w as i64 - tw - 1).max(1));
        let y = (ty - th - 2).max(1);
        super::font::draw_text(
            &mut c,
            x,
            y,
            &text,
            scale,
            colour.get(&id).copied().unwrap_or([255, 140, 0]),
        );
    }
    c
}

/// Radius of the ring drawn around a signal, micrometres (a little more
/// than a diffraction-limited spot's half width, so the ring does not
/// cover the spot).
pub const SIGNAL_RING_UM: f64 = 0.45;
/// Micrometres per font pixel of the labels (ids, copy numbers).
pub const LABEL_FONT_PX_UM: f64 = 0.15;

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
