//! TIFF writers: multi-page 16-bit stacks with pixel size, and label images
//! that Fiji opens (uint16, or uint32 past 65535 labels).

use super::atomic::write_atomic;
use super::error::IoError;
use ndarray::Array2;
use std::path::Path;
use tiff::encoder::{colortype, Rational, TiffEncoder};
use tiff::tags::{ResolutionUnit, Tag};

/// Pixels per centimetre for a pixel size in micrometres, as a TIFF rational.
fn resolution_rational(pixel_size_um: f64) -> Rational {
    let px_per_cm = 10_000.0 / pixel_size_um;
    let d = 1000u32;
    Rational {
        n: (px_per_cm * d as f64).round().min(u32::MAX as f64) as u32,
        d,
    }
}

/// Writes `pages` (each `width * height` values, row-major) as one
/// multi-page 16-bit grayscale TIFF. The pixel size is stored in the
/// resolution tags (centimetre unit) and `description` in the first page's
/// ImageDescription.
pub fn write_u16_pages(
    path: &Path,
    width: usize,
    height: usize,
    pages: &[Vec<u16>],
    pixel_size_um: f64,
    description: &str,
) -> Result<(), IoError> {
    write_atomic(path, |w| {
        let mut enc = TiffEncoder::new(w).map_err(|e| e.to_string())?;
        for (i, page) in pages.iter().enumerate() {
            let mut img = enc
                .new_image::<colortype::Gray16>(width as u32, height as u32)
                .map_err(|e| e.to_string())?;
            img.resolution(
                ResolutionUnit::Centimeter,
                resolution_rational(pixel_size_um),
            );
            if i == 0 && !description.is_empty() {
                img.encoder()
                    .write_tag(Tag::ImageDescription, description)
                    .map_err(|e| e.to_string())?;
            }
            img.write_data(page).map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

/// Writes a label image (0 = background). uint16 when every label fits,
/// otherwise uint32; both open in Fiji and scikit-image.
pub fn write_labels(path: &Path, labels: &Array2<u32>, pixel_size_um: f64) -> Result<(), IoError> {
    let (h, w) = labels.dim();
    let max = labels.iter().copied().max().unwrap_or(0);
    write_atomic(path, |out| {
        let mut enc = TiffEncoder::new(out).map_err(|e| e.to_string())?;
        if max <= u16::MAX as u32 {
            let data: Vec<u16> = labels.iter().map(|&v| v as u16).collect();
            let mut img = enc
                .new_image::<colortype::Gray16>(w as u32, h as u32)
                .map_err(|e| e.to_string())?;
            img.resolution(
                ResolutionUnit::Centimeter,
                resolution_rational(pixel_size_um),
            );
            img.write_data(&data).map_err(|e| e.to_string())
        } else {
            let data: Vec<u32> = labels.iter().copied().collect();
            let mut img = enc
                .new_image::<colortype::Gray32>(w as u32, h as u32)
                .map_err(|e| e.to_string())?;
            img.resolution(
                ResolutionUnit::Centimeter,
                resolution_rational(pixel_size_um),
            );
            img.write_data(&data).map_err(|e| e.to_string())
        }
    })
}

/// Rounds and clamps an f32 image to uint16.
pub fn to_u16(data: &Array2<f32>) -> Vec<u16> {
    data.iter()
        .map(|&v| {
            if v.is_nan() {
                0
            } else {
                v.round().clamp(0.0, u16::MAX as f32) as u16
            }
        })
        .collect()
}
