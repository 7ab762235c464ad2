//! labels.tif for Fiji/ImageJ: the nucleus label image (0 = background,
//! value = nucleus id) as uint16 (uint32 past 65535 nuclei), with ImageJ's
//! calibration convention: an ImageJ ImageDescription (`unit=micron`, and
//! the display range 0..max label) and the resolution tags in pixels per
//! micrometre, so Fiji opens it with the pixel size in um and every label
//! visible. fishscore's own reader and scikit-image read it as a plain
//! TIFF.

use crate::io::atomic::write_atomic;
use crate::io::IoError;
use ndarray::Array2;
use std::path::Path;
use tiff::encoder::{colortype, Rational, TiffEncoder};
use tiff::tags::{ResolutionUnit, Tag};

/// The ImageJ ImageDescription written with a label image.
pub fn imagej_description(max_label: u32) -> String {
    format!("ImageJ=1.11a\nunit=micron\nmin=0.0\nmax={max_label}.0\n")
}

/// Pixels per micrometre as a TIFF rational: 10^6 / (pixel size in pm),
/// so a reader's `1 / resolution` gives the pixel size back to 1 pm.
fn px_per_um(pixel_size_um: f64) -> Rational {
    Rational {
        n: 1_000_000,
        d: (pixel_size_um * 1e6).round().clamp(1.0, u32::MAX as f64) as u32,
    }
}

/// Writes `labels` atomically as an ImageJ-calibrated TIFF.
pub fn write_labels_imagej(
    path: &Path,
    labels: &Array2<u32>,
    pixel_size_um: f64,
) -> Result<(), IoError> {
    let (h, w) = labels.dim();
    let max = labels.iter().copied().max().unwrap_or(0);
    let desc = imagej_description(max);
    let software = format!("fishscore {}", crate::VERSION);
    write_atomic(path, |out| {
        let mut enc = TiffEncoder::new(out).map_err(|e| e.to_string())?;
        macro_rules! page {
            ($ct:ty, $data:expr) => {{
                let mut img = enc
                    .new_image::<$ct>(w as u32, h as u32)
                    .map_err(|e| e.to_string())?;
                img.resolution(ResolutionUnit::None, px_per_um(pixel_size_um));
                img.encoder()
                    .write_tag(Tag::ImageDescription, desc.as_str())
                    .map_err(|e| e.to_string())?;
                img.encoder()
                    .write_tag(Tag::Software, software.as_str())
                    .map_err(|e| e.to_string())?;
                img.write_data($data).map_err(|e| e.to_string())
            }};
        }
        if max <= u16::MAX as u32 {
            let data: Vec<u16> = labels.iter().map(|&v| v as u16).collect();
            page!(colortype::Gray16, &data)
        } else {
            let data: Vec<u32> = labels.iter().copied().collect();
            page!(colortype::Gray32, &data)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::tiff_read::read_tiff;

    #[test]
    fn round_trip_with_imagej_calibration() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("labels.tif");
        let mut l = Array2::<u32>::zeros((5, 7));
        l[[1, 2]] = 3;
        l[[4, 6]] = 300;
        write_labels_imagej(&p, &l, 0.125).unwrap();
        let t = read_tiff(&p, &Default::default()).unwrap();
        assert_eq!(t.pages.len(), 1);
        assert_eq!(t.pages[0][[1, 2]], 3.0);
        assert_eq!(t.pages[0][[4, 6]], 300.0);
        let d = t.description.clone().unwrap_or_default();
        assert!(
            d.starts_with("ImageJ=") && d.contains("unit=micron") && d.contains("max=300.0"),
            "{d}"
        );
        // The loader understands the calibration: 8 px per um.
        let (f, info) = crate::io::load::load_field(
            &crate::io::load::FieldSource::PerChannel {
                dapi: p.clone(),
                target: p.clone(),
                control: p.clone(),
            },
            &crate::io::load::LoadOptions::default(),
        )
        .unwrap();
        assert!(
            (f.pixel_size_um() - 0.125).abs() < 1e-9,
            "{}",
            f.pixel_size_um()
        );
        assert_eq!(info.pixel_size_source, "imagej");
    }
}
