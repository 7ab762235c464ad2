//! Synthetic FISH slides with exact ground truth.
//!
//! [`simulate`] builds a case in memory (tissue -> probes -> optics ->
//! camera); [`write_case`] writes the image files and the truth beside them.
//! See docs/simulator.md for the image model.

pub mod mosaic;
pub mod optics;
pub mod params;
pub mod preview;
pub mod recipe;
pub mod signals;
pub mod tissue;
pub mod truth;

pub use params::{ClusterMode, Layout, SimParams};

use crate::io::ome::{build_ome_xml, OmeSpec};
use crate::io::tiff_write::{
    stretch_range, stretch_u8, write_gray_pages, write_labels, write_rgb8_pages, GrayWriteOptions,
    PixelType,
};
use crate::io::tiled_write::{write_tiled_bigtiff, TileCompression};
use crate::io::IoError;
use crate::plane::Channel;
use ndarray::Array2;
use std::path::Path;

/// A simulated case: the camera images and everything that made them.
pub struct SimCase {
    /// The parameters it was made with.
    pub params: SimParams,
    /// Nuclei and the truth label image.
    pub tissue: tissue::Tissue,
    /// Probe signals and granules.
    pub probes: signals::Probes,
    /// uint16 camera images `[channel][plane]`, channels DAPI, target, control.
    pub images: [Vec<Vec<u16>>; 3],
}

/// Errors of the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A parameter is out of range.
    #[error("simulate: {0}")]
    Params(String),
    /// Writing failed.
    #[error(transparent)]
    Io(#[from] IoError),
}

/// Builds a case in memory.
pub fn simulate(p: &SimParams) -> Result<SimCase, SimError> {
    p.validate().map_err(SimError::Params)?;
    let tissue = tissue::place_tissue(p);
    let probes = signals::draw_probes(p, &tissue);
    let clean = optics::render_clean(p, &tissue, &probes);
    let cam = |planes: &[Array2<f32>], c: Channel| -> Vec<Vec<u16>> {
        planes
            .iter()
            .enumerate()
            .map(|(k, a)| optics::camera(p, a, c, k))
            .collect()
    };
    let images = [
        cam(&clean.dapi, Channel::Dapi),
        cam(&clean.target, Channel::Target),
        cam(&clean.control, Channel::Control),
    ];
    Ok(SimCase {
        params: p.clone(),
        tissue,
        probes,
        images,
    })
}

/// The ImageDescription written into simulated TIFFs: channel names, pixel
/// size and z layout, as JSON.
pub fn description(p: &SimParams, channels: &[&str]) -> String {
    serde_json::json!({
        "fishscore_simulated": true,
        "channels": channels,
        "pixel_size_um": p.pixel_size_um,
        "z_planes": p.z_planes,
        "z_step_um": p.z_step_um,
        "page_order": "channel-major (all planes of a channel, then the next channel)",
    })
    .to_string()
}

/// Writes the case into `dir` (created if needed): the image file(s) in the
/// chosen layout, `truth_labels.tif`, `truth_nuclei.csv`, `truth_spots.csv`,
/// `truth_granules.csv`, `truth.json` and `preview.png`.
pub fn write_case(case: &SimCase, dir: &Path) -> Result<(), SimError> {
    std::fs::create_dir_all(dir).map_err(|e| IoError::write(dir, e))?;
    let p = &case.params;
    let (w, h) = (p.width(), p.height());
    let names = ["DAPI", "MDM2", "CEP12"];
    let files = write_images(case, dir, &names)?;
    let labels = Array2::from_shape_vec((h, w), case.tissue.owner.clone())
        .expect("owner map has w*h entries");
    write_labels(&dir.join("truth_labels.tif"), &labels, p.pixel_size_um)?;
    truth::write_truth(case, dir, &files)?;
    preview::write_preview(case, &dir.join("preview.png"))?;
    Ok(())
}

/// Writes the image file(s) of `case` in its layout; returns their names.
fn write_images(case: &SimCase, dir: &Path, names: &[&str; 3]) -> Result<Vec<String>, SimError> {
    let p = &case.params;
    let (w, h) = (p.width(), p.height());
    let px = p.pixel_size_um;
    // 8-bit stretch range per channel, shared by its z planes.
    let ranges: Vec<(f64, f64)> = case
        .images
        .iter()
        .map(|planes| stretch_range(&planes.iter().map(|v| v.as_slice()).collect::<Vec<_>>()))
        .collect();
    let gray = |description: String, u8_ranges: Vec<(f64, f64)>, res: bool| GrayWriteOptions {
        compression: p.compression,
        pixel_type: p.pixel_type,
        bigtiff: p.bigtiff,
        pixel_size_um: res.then_some(px),
        description,
        rows_per_strip: None,
        u8_ranges,
    };
    let per_plane = |c: usize| vec![ranges[c]; case.images[c].len()];
    let mut files = Vec::new();
    match p.layout {
        Layout::Multipage => {
            let pages: Vec<Vec<u16>> = case.images.iter().flatten().cloned().collect();
            let r: Vec<(f64, f64)> = (0..3).flat_map(per_plane).collect();
            write_gray_pages(
                &dir.join("image.tif"),
                w,
                h,
                &pages,
                &gray(description(p, names), r, true),
            )?;
            files.push("image.tif".to_string());
        }
        Layout::PerChannel => {
            for (c, ch) in Channel::ALL.iter().enumerate() {
                let name = format!("{}.tif", ch.as_str());
                write_gray_pages(
                    &dir.join(&name),
                    w,
                    h,
                    &case.images[c],
                    &gray(description(p, &names[c..c + 1]), per_plane(c), true),
                )?;
                files.push(name);
            }
        }
        Layout::OmeTiff => {
            // Stored channel order CEP12, DAPI, MDM2; z-major pages.
            let order = [2usize, 0, 1];
            let labels = ["SpectrumGreen CEP12", "DAPI", "SpectrumOrange MDM2"];
            let z = p.z_planes.max(1);
            let mut pages = Vec::new();
            let mut r = Vec::new();
            for k in 0..z {
                for &c in &order {
                    pages.push(case.images[c][k].clone());
                    r.push(ranges[c]);
                }
            }
            let xml = build_ome_xml(&OmeSpec {
                size_x: w,
                size_y: h,
                size_z: z,
                channel_names: &labels,
                dimension_order: "XYCZT",
                pixel_type: match p.pixel_type {
                    PixelType::U16 => "uint16",
                    PixelType::U8 => "uint8",
                    PixelType::F32 => "float",
                },
                physical_size_nm: px * 1000.0,
                z_step_um: p.z_step_um,
            });
            write_gray_pages(
                &dir.join("image.ome.tif"),
                w,
                h,
                &pages,
                &gray(xml, r, false),
            )?;
            files.push("image.ome.tif".to_string());
        }
        Layout::TiledBigtiff => {
            let pages: Vec<Vec<u16>> = case.images.iter().flatten().cloned().collect();
            write_tiled_bigtiff(
                &dir.join("image.tif"),
                w,
                h,
                p.tile_size,
                &pages,
                TileCompression::Deflate,
                &description(p, names),
                Some(px),
            )?;
            files.push("image.tif".to_string());
        }
        Layout::Rgb8 => {
            let z = p.z_planes.max(1);
            let pages: Vec<Vec<u8>> = (0..z)
                .map(|k| {
                    // R = target, G = control, B = DAPI.
                    let chans: Vec<Vec<u8>> = [1usize, 2, 0]
                        .iter()
                        .map(|&c| stretch_u8(&case.images[c][k], ranges[c]))
                        .collect();
                    (0..w * h)
                        .flat_map(|i| [chans[0][i], chans[1][i], chans[2][i]])
                        .collect()
                })
                .collect();
            write_rgb8_pages(
                &dir.join("image.tif"),
                w,
                h,
                &pages,
                p.compression,
                Some(px),
            )?;
            files.push("image.tif".to_string());
        }
    }
    Ok(files)
}
