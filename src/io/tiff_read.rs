//! TIFF reading with decoding limits: every page becomes an f32 plane; the
//! pixel size comes from the resolution tags when they give one.

use super::error::{one_line, IoError};
use ndarray::Array2;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::tags::Tag;
use tiff::ColorType;

/// Limits that guard memory against hostile or mistaken files.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct DecodeLimits {
    /// Largest number of pixels of one page read at once (default 2^28 =
    /// 268,435,456, a 16384 x 16384 field: 3 channels of it take 3.2 GB
    /// as f32). Larger scans are read region by region
    /// ([`crate::io::tiles::TiffReader::read_region`]).
    pub max_pixels: u64,
    /// Largest number of bytes decoded for one image or region, counted
    /// as f32 values over every channel and z plane (default 4 GiB).
    pub max_bytes: u64,
    /// Largest number of pages accepted (default 4096).
    pub max_pages: usize,
    /// Largest decoded size of one tile or strip in bytes (default
    /// 256 MiB, the tiff crate's own default). A hostile header claiming
    /// a giant tile fails here before any allocation.
    pub max_chunk_bytes: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_pixels: 1 << 28,
            max_bytes: 4 << 30,
            max_pages: 4096,
            max_chunk_bytes: 256 << 20,
        }
    }
}

/// The decoded content of a TIFF file.
#[derive(Debug, Clone)]
pub struct TiffPages {
    /// One plane per page (an RGB page contributes three: R, G, B).
    pub pages: Vec<Array2<f32>>,
    /// True when the pages came from one RGB(A) page.
    pub rgb: bool,
    /// Bits per sample of the stored data.
    pub bits_per_sample: u8,
    /// Pixel size in micrometres from the resolution tags, if present and plausible.
    pub pixel_size_um: Option<f64>,
    /// The first page's ImageDescription, if any.
    pub description: Option<String>,
}

fn bad(path: &Path, problem: impl Into<String>) -> IoError {
    IoError::format(path, problem)
}

fn tiff_problem(e: &tiff::TiffError) -> String {
    let msg = one_line(&e.to_string());
    match e {
        tiff::TiffError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the file is truncated (ends before the image data)".into()
        }
        tiff::TiffError::FormatError(_) => format!("not a readable TIFF file ({msg})"),
        tiff::TiffError::UnsupportedError(_) => format!("unsupported TIFF feature ({msg})"),
        tiff::TiffError::LimitsExceeded => {
            "the image exceeds the decoding limits (too large to decode at once)".into()
        }
        _ => format!("cannot decode TIFF ({msg})"),
    }
}

/// Reads every page of a TIFF file as f32 planes.
pub fn read_tiff(path: &Path, limits: &DecodeLimits) -> Result<TiffPages, IoError> {
    let file = File::open(path).map_err(|e| IoError::open(path, &e))?;
    if path.is_dir() {
        return Err(IoError::Open {
            path: path.to_path_buf(),
            problem: "is a directory, not an image file".into(),
        });
    }
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len < 8 {
        return Err(bad(path, format!("not a TIFF file (only {len} bytes)")));
    }
    let mut dec = Decoder::new(BufReader::new(file))
        .map_err(|e| bad(path, tiff_problem(&e)))?
        .with_limits({
            let mut l = Limits::default();
            l.decoding_buffer_size = limits.max_bytes.min(usize::MAX as u64) as usize;
            l.intermediate_buffer_size = limits.max_bytes.min(usize::MAX as u64) as usize;
            l
        });
    let mut pages = Vec::new();
    let mut rgb = false;
    let mut bits: u8;
    let mut total_bytes: u64 = 0;
    let pixel_size_um = read_pixel_size(&mut dec);
    let description = match dec.find_tag(Tag::ImageDescription) {
        Ok(Some(v)) => v.into_string().ok(),
        _ => None,
    };
    let mut index = 0usize;
    loop {
        let (w, h) = dec
            .dimensions()
            .map_err(|e| bad(path, format!("page {index}: {}", tiff_problem(&e))))?;
        let npix = w as u64 * h as u64;
        if npix == 0 {
            return Err(bad(path, format!("page {index} has no pixels ({w} x {h})")));
        }
        if npix > limits.max_pixels {
            return Err(bad(
                path,
                format!(
                    "page {index} claims {w} x {h} pixels, above the limit of {} pixels",
                    limits.max_pixels
                ),
            ));
        }
        let ct = dec
            .colortype()
            .map_err(|e| bad(path, format!("page {index}: {}", tiff_problem(&e))))?;
        let (samples, b) = match ct {
            ColorType::Gray(b) => (1usize, b),
            ColorType::RGB(b) => (3, b),
            ColorType::RGBA(b) => (4, b),
            other => {
                return Err(bad(
                    path,
                    format!(
                        "page {index} has colour type {other:?}; fishscore reads grayscale or RGB"
                    ),
                ))
            }
        };
        total_bytes += npix * samples as u64 * (b as u64).div_ceil(8);
        if total_bytes > limits.max_bytes {
            return Err(bad(
                path,
                format!(
                    "decoded size exceeds the limit of {} bytes",
                    limits.max_bytes
                ),
            ));
        }
        bits = b;
        let data = dec
            .read_image()
            .map_err(|e| bad(path, format!("page {index}: {}", tiff_problem(&e))))?;
        let values: Vec<f32> = match data {
            DecodingResult::U8(v) => v.into_iter().map(f32::from).collect(),
            DecodingResult::U16(v) => v.into_iter().map(f32::from).collect(),
            DecodingResult::U32(v) => v.into_iter().map(|x| x as f32).collect(),
            DecodingResult::F32(v) => v,
            DecodingResult::F64(v) => v.into_iter().map(|x| x as f32).collect(),
            DecodingResult::I8(v) => v.into_iter().map(f32::from).collect(),
            DecodingResult::I16(v) => v.into_iter().map(f32::from).collect(),
            _ => {
                return Err(bad(
                    path,
                    format!("page {index} has a sample type fishscore does not read ({bits}-bit)"),
                ))
            }
        };
        if values.iter().any(|v| !v.is_finite()) {
            return Err(bad(
                path,
                format!("page {index} holds NaN or infinite values"),
            ));
        }
        let expected = npix as usize * samples;
        if values.len() < expected {
            return Err(bad(path, format!("page {index}: the file is truncated")));
        }
        if samples == 1 {
            pages.push(
                Array2::from_shape_vec((h as usize, w as usize), values[..expected].to_vec())
                    .map_err(|e| bad(path, e.to_string()))?,
            );
        } else {
            rgb = true;
            for c in 0..3 {
                let plane: Vec<f32> = values.iter().skip(c).step_by(samples).copied().collect();
                pages.push(
                    Array2::from_shape_vec((h as usize, w as usize), plane)
                        .map_err(|e| bad(path, e.to_string()))?,
                );
            }
        }
        index += 1;
        if !dec.more_images() {
            break;
        }
        if index >= limits.max_pages {
            return Err(bad(path, format!("more than {} pages", limits.max_pages)));
        }
        dec.next_image()
            .map_err(|e| bad(path, format!("page {index}: {}", tiff_problem(&e))))?;
    }
    Ok(TiffPages {
        pages,
        rgb,
        bits_per_sample: bits,
        pixel_size_um,
        description,
    })
}

/// Pixel size in um from XResolution + ResolutionUnit (inch or cm). Values
/// outside 0.01-50 um are treated as absent (scanners often write 72 dpi).
fn read_pixel_size<R: std::io::Read + std::io::Seek>(dec: &mut Decoder<R>) -> Option<f64> {
    let unit = dec
        .find_tag_unsigned::<u16>(Tag::ResolutionUnit)
        .ok()
        .flatten()
        .unwrap_or(2);
    let res = match dec.find_tag(Tag::XResolution).ok().flatten()? {
        tiff::decoder::ifd::Value::Rational(n, d) if d != 0 => n as f64 / d as f64,
        tiff::decoder::ifd::Value::Float(f) => f as f64,
        tiff::decoder::ifd::Value::Double(f) => f,
        _ => return None,
    };
    if res <= 0.0 {
        return None;
    }
    let um_per_unit = match unit {
        2 => 25_400.0,
        3 => 10_000.0,
        _ => return None,
    };
    let px = um_per_unit / res;
    (0.01..=50.0).contains(&px).then_some(px)
}
