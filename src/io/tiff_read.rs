//! TIFF reading with decoding limits: every page becomes an f32 plane; the
//! pixel size comes from the resolution tags when they give one.

use super::error::IoError;
use super::tiles::TiffReader;
use ndarray::Array2;
use std::path::Path;

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

/// Reads every page of a TIFF file as f32 planes (an RGB page gives three
/// planes R, G, B), through [`TiffReader`] and its limits: at most
/// `max_pixels` per page and `max_bytes` decoded in total.
pub fn read_tiff(path: &Path, limits: &DecodeLimits) -> Result<TiffPages, IoError> {
    let mut r = TiffReader::open(path, limits)?;
    let mut pages = Vec::new();
    let mut rgb = false;
    let mut bits = 8;
    let mut total: u64 = 0;
    for i in 0..r.pages().len() {
        let info = r.pages()[i].clone();
        total += info.pixels() * info.samples as u64 * 4;
        if total > limits.max_bytes {
            return Err(IoError::format(
                path,
                format!(
                    "decoded size exceeds the limit of {} bytes",
                    limits.max_bytes
                ),
            ));
        }
        rgb |= info.rgb;
        bits = info.bits;
        pages.extend(r.read_page(i)?);
    }
    let pixel_size_um = r.resolution().and_then(|(x, _, unit)| {
        let per_unit = match unit {
            2 => 25_400.0,
            3 => 10_000.0,
            _ => return None,
        };
        let px = per_unit / x;
        (0.01..=50.0).contains(&px).then_some(px)
    });
    Ok(TiffPages {
        pages,
        rgb,
        bits_per_sample: bits,
        pixel_size_um,
        description: r.description().map(|s| s.to_string()),
    })
}
