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

/// Writes a label image (0 = background), Deflate-compressed (label images
/// are mostly runs of equal values). uint16 when every label fits,
/// otherwise uint32; both open in Fiji and scikit-image.
pub fn write_labels(path: &Path, labels: &Array2<u32>, pixel_size_um: f64) -> Result<(), IoError> {
    let (h, w) = labels.dim();
    let max = labels.iter().copied().max().unwrap_or(0);
    write_atomic(path, |out| {
        let mut enc = TiffEncoder::new(out)
            .map_err(|e| e.to_string())?
            .with_compression(TiffCompression::Deflate.encoder());
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

/// Compression of written TIFF strips or tiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TiffCompression {
    /// Uncompressed.
    #[default]
    None,
    /// LZW (TIFF code 5).
    Lzw,
    /// Deflate / zlib (TIFF code 8).
    Deflate,
    /// PackBits run-length (TIFF code 32773).
    Packbits,
}

impl TiffCompression {
    fn encoder(self) -> tiff::encoder::Compression {
        use tiff::encoder::{Compression, DeflateLevel};
        match self {
            TiffCompression::None => Compression::Uncompressed,
            TiffCompression::Lzw => Compression::Lzw,
            TiffCompression::Deflate => Compression::Deflate(DeflateLevel::Balanced),
            TiffCompression::Packbits => Compression::Packbits,
        }
    }
}

/// Sample type of written grey images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PixelType {
    /// 16-bit unsigned (the camera values).
    #[default]
    U16,
    /// 8-bit unsigned, each page linearly stretched (see [`stretch_u8`]).
    U8,
    /// 32-bit float holding the camera values exactly.
    F32,
}

/// Options of [`write_gray_pages`].
#[derive(Debug, Clone, Default)]
pub struct GrayWriteOptions {
    /// Strip compression.
    pub compression: TiffCompression,
    /// Sample type.
    pub pixel_type: PixelType,
    /// Write BigTIFF (64-bit offsets) instead of classic TIFF.
    pub bigtiff: bool,
    /// Pixel size written to the resolution tags (centimetre unit), if any.
    pub pixel_size_um: Option<f64>,
    /// ImageDescription of the first page (OME-XML, JSON...), if not empty.
    pub description: String,
    /// Rows per strip (`None`: the encoder's default of about 8 KB strips).
    pub rows_per_strip: Option<u32>,
    /// For 8-bit output: the (low, high) stretch range of each page (so
    /// that all z planes of a channel share one range); empty = each
    /// page's own [`stretch_range`].
    pub u8_ranges: Vec<(f64, f64)>,
}

/// The 8-bit stretch range of some planes: their 0.5th percentile and
/// their maximum.
pub fn stretch_range(planes: &[&[u16]]) -> (f64, f64) {
    let all: Vec<u16> = planes.iter().flat_map(|p| p.iter().copied()).collect();
    let lo = crate::simulate::preview::quantile_u16(&all, 0.005);
    let hi = all.iter().copied().max().unwrap_or(0) as f64;
    (lo, hi)
}

/// Linear stretch of 16-bit values to 8 bits: `range.0` maps to 0 and
/// `range.1` to 255 (how microscope software exports 8-bit images; with
/// [`stretch_range`] nothing clips except the darkest 0.5 %).
pub fn stretch_u8(v: &[u16], range: (f64, f64)) -> Vec<u8> {
    let (lo, hi) = range;
    let span = (hi - lo).max(1.0);
    v.iter()
        .map(|&x| ((x as f64 - lo) * 255.0 / span).round().clamp(0.0, 255.0) as u8)
        .collect()
}

fn write_gray_k<W, K>(
    enc: &mut TiffEncoder<W, K>,
    width: usize,
    height: usize,
    pages: &[Vec<u16>],
    o: &GrayWriteOptions,
) -> Result<(), String>
where
    W: std::io::Write + std::io::Seek,
    K: tiff::encoder::TiffKind,
{
    macro_rules! page {
        ($ct:ty, $data:expr, $i:expr) => {{
            let mut img = enc
                .new_image::<$ct>(width as u32, height as u32)
                .map_err(|e| e.to_string())?;
            if let Some(px) = o.pixel_size_um {
                img.resolution(ResolutionUnit::Centimeter, resolution_rational(px));
            }
            if let Some(r) = o.rows_per_strip {
                img.rows_per_strip(r).map_err(|e| e.to_string())?;
            }
            if $i == 0 && !o.description.is_empty() {
                img.encoder()
                    .write_tag(Tag::ImageDescription, o.description.as_str())
                    .map_err(|e| e.to_string())?;
            }
            img.write_data($data).map_err(|e| e.to_string())?;
        }};
    }
    for (i, p) in pages.iter().enumerate() {
        match o.pixel_type {
            PixelType::U16 => page!(colortype::Gray16, p, i),
            PixelType::U8 => {
                let range = o
                    .u8_ranges
                    .get(i)
                    .copied()
                    .unwrap_or_else(|| stretch_range(&[p]));
                page!(colortype::Gray8, &stretch_u8(p, range), i)
            }
            PixelType::F32 => {
                let f: Vec<f32> = p.iter().map(|&v| v as f32).collect();
                page!(colortype::Gray32Float, &f, i)
            }
        }
    }
    Ok(())
}

/// Writes grey `pages` (each `width * height` camera values, row-major)
/// as one multi-page TIFF or BigTIFF with the chosen sample type and
/// strip compression.
pub fn write_gray_pages(
    path: &Path,
    width: usize,
    height: usize,
    pages: &[Vec<u16>],
    o: &GrayWriteOptions,
) -> Result<(), IoError> {
    write_atomic(path, |w| {
        if o.bigtiff {
            let mut enc = TiffEncoder::new_big(w)
                .map_err(|e| e.to_string())?
                .with_compression(o.compression.encoder());
            write_gray_k(&mut enc, width, height, pages, o)
        } else {
            let mut enc = TiffEncoder::new(w)
                .map_err(|e| e.to_string())?
                .with_compression(o.compression.encoder());
            write_gray_k(&mut enc, width, height, pages, o)
        }
    })
}

/// Writes 8-bit RGB pages (each `width * height * 3` interleaved values)
/// as a multi-page TIFF.
pub fn write_rgb8_pages(
    path: &Path,
    width: usize,
    height: usize,
    pages: &[Vec<u8>],
    compression: TiffCompression,
    pixel_size_um: Option<f64>,
) -> Result<(), IoError> {
    write_atomic(path, |w| {
        let mut enc = TiffEncoder::new(w)
            .map_err(|e| e.to_string())?
            .with_compression(compression.encoder());
        for p in pages {
            let mut img = enc
                .new_image::<colortype::RGB8>(width as u32, height as u32)
                .map_err(|e| e.to_string())?;
            if let Some(px) = pixel_size_um {
                img.resolution(ResolutionUnit::Centimeter, resolution_rational(px));
            }
            img.write_data(p).map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

/// The resolution rational of [`resolution_rational`] as 8 little-endian
/// bytes (numerator, denominator), for hand-written directories.
pub fn resolution_bytes(pixel_size_um: f64) -> Vec<u8> {
    let r = resolution_rational(pixel_size_um);
    let mut b = r.n.to_le_bytes().to_vec();
    b.extend_from_slice(&r.d.to_le_bytes());
    b
}
