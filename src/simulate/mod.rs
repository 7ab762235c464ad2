//! Synthetic FISH slides with exact ground truth.
//!
//! [`simulate`] builds a case in memory (tissue -> probes -> optics ->
//! camera); [`write_case`] writes the image files and the truth beside them.
//! See docs/simulator.md for the image model.

pub mod optics;
pub mod params;
pub mod preview;
pub mod recipe;
pub mod signals;
pub mod tissue;
pub mod truth;

pub use params::{ClusterMode, Layout, SimParams};

use crate::io::tiff_write::{write_labels, write_u16_pages};
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
fn description(p: &SimParams, channels: &[&str]) -> String {
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
    let mut files = Vec::new();
    match p.layout {
        Layout::Multipage => {
            let pages: Vec<Vec<u16>> = case.images.iter().flatten().cloned().collect();
            let f = dir.join("image.tif");
            write_u16_pages(&f, w, h, &pages, p.pixel_size_um, &description(p, &names))?;
            files.push("image.tif".to_string());
        }
        Layout::PerChannel => {
            for (c, ch) in Channel::ALL.iter().enumerate() {
                let name = format!("{}.tif", ch.as_str());
                write_u16_pages(
                    &dir.join(&name),
                    w,
                    h,
                    &case.images[c],
                    p.pixel_size_um,
                    &description(p, &names[c..c + 1]),
                )?;
                files.push(name);
            }
        }
    }
    let labels = Array2::from_shape_vec((h, w), case.tissue.owner.clone())
        .expect("owner map has w*h entries");
    write_labels(&dir.join("truth_labels.tif"), &labels, p.pixel_size_um)?;
    truth::write_truth(case, dir, &files)?;
    preview::write_preview(case, &dir.join("preview.png"))?;
    Ok(())
}
