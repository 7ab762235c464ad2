//! `preview.png`: an RGB composite (red = target, green = control,
//! blue = DAPI) contrast-stretched for a person to look at.

use super::SimCase;
use crate::io::atomic::write_atomic;
use crate::io::IoError;
use std::path::Path;

/// Value at quantile `q` (0-1) of `v` (copied and partially sorted).
pub fn quantile_u16(v: &[u16], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut hist = vec![0usize; 65536];
    for &x in v {
        hist[x as usize] += 1;
    }
    let target = (q.clamp(0.0, 1.0) * (v.len() - 1) as f64).round() as usize;
    let mut acc = 0;
    for (i, c) in hist.iter().enumerate() {
        acc += c;
        if acc > target {
            return i as f64;
        }
    }
    65535.0
}

/// Maximum projection of planes.
fn max_projection(planes: &[Vec<u16>]) -> Vec<u16> {
    let mut out = planes[0].clone();
    for p in &planes[1..] {
        out.iter_mut().zip(p).for_each(|(a, b)| *a = (*a).max(*b));
    }
    out
}

/// Writes the contrast-stretched composite.
pub fn write_preview(case: &SimCase, path: &Path) -> Result<(), IoError> {
    let (w, h) = (case.params.width(), case.params.height());
    let chans: Vec<Vec<u16>> = case.images.iter().map(|c| max_projection(c)).collect();
    // (lo, hi) quantiles: probes are stretched hard so single dots show.
    let ranges: Vec<(f64, f64)> = chans
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (ql, qh) = if i == 0 { (0.01, 0.998) } else { (0.5, 0.9995) };
            let lo = quantile_u16(c, ql);
            let hi = quantile_u16(c, qh).max(lo + 1.0);
            (lo, hi)
        })
        .collect();
    let mut rgb = vec![0u8; w * h * 3];
    let map = |v: u16, (lo, hi): (f64, f64)| {
        (((v as f64 - lo) / (hi - lo)).clamp(0.0, 1.0) * 255.0) as u8
    };
    for i in 0..w * h {
        rgb[3 * i] = map(chans[1][i], ranges[1]);
        rgb[3 * i + 1] = map(chans[2][i], ranges[2]);
        rgb[3 * i + 2] = map(chans[0][i], ranges[0]);
    }
    write_png_rgb(path, w, h, &rgb)
}

/// Writes an RGB8 PNG atomically.
pub fn write_png_rgb(path: &Path, w: usize, h: usize, rgb: &[u8]) -> Result<(), IoError> {
    use image::ImageEncoder;
    write_atomic(path, |out| {
        image::codecs::png::PngEncoder::new(out)
            .write_image(rgb, w as u32, h as u32, image::ExtendedColorType::Rgb8)
            .map_err(|e| e.to_string())
    })
}
