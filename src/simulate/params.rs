//! Parameters of a simulated case: biology, imaging and file layout.
//! Every length is in micrometres; every default is a typical value of FFPE
//! tissue FISH at 63-100x (see docs/simulator.md for the sources).

use crate::io::tiff_write::{PixelType, TiffCompression};
use clap::{Args, ValueEnum};
use serde::Serialize;

/// How the simulated case is written to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// One multi-page TIFF `image.tif`, pages DAPI, target, control
    /// (z-stacks: all planes of DAPI, then of target, then of control).
    Multipage,
    /// One file per channel: `dapi.tif`, `target.tif`, `control.tif`.
    PerChannel,
    /// One OME-TIFF `image.ome.tif` with OME-XML channel names and
    /// physical pixel size (in nm, no resolution tags), channels stored in
    /// the order CEP12, DAPI, MDM2 and z-major pages (DimensionOrder XYCZT).
    OmeTiff,
    /// One tiled BigTIFF `image.tif` (Deflate tiles of `--tile-size`),
    /// pages as in `multipage`: the layout of whole-slide scans.
    TiledBigtiff,
    /// One 8-bit RGB composite `image.tif` (R = MDM2, G = CEP12,
    /// B = DAPI, each channel linearly stretched), one page per z plane.
    Rgb8,
}

/// Whether amplified copies are drawn as dense clusters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClusterMode {
    /// Clusters where a nucleus holds at least 10 amplified copies.
    Auto,
    /// Always discrete, countable signals.
    Off,
    /// Clusters in every amplified nucleus with at least 10 copies, even
    /// at low ratios (same as auto today; kept for scripts).
    On,
}

/// Everything that defines a simulated case. The same parameters (seed
/// included) give byte-identical files on any machine and thread count.
#[derive(Debug, Clone, Args, Serialize)]
pub struct SimParams {
    /// Seed of every random draw.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Image size in pixels, WIDTHxHEIGHT.
    #[arg(long, value_parser = parse_size, default_value = "1024x1024")]
    pub size: (usize, usize),

    /// Pixel size in um (0.1 um = 63x objective with 6.5 um camera pixels).
    #[arg(long, default_value_t = 0.1)]
    pub pixel_size_um: f64,

    /// Full width at half maximum of the probe PSF in um (diffraction-limited
    /// dots are 0.25-0.4 um).
    #[arg(long, default_value_t = 0.35)]
    pub psf_fwhm_um: f64,

    /// Median nucleus diameter in um (diameters are lognormal, clipped to
    /// `nucleus_min_um..nucleus_max_um`).
    #[arg(long, default_value_t = 9.0)]
    pub nucleus_diameter_um: f64,

    /// Smallest nucleus diameter in um.
    #[arg(long, default_value_t = 6.0)]
    pub nucleus_min_um: f64,

    /// Largest nucleus diameter in um.
    #[arg(long, default_value_t = 15.0)]
    pub nucleus_max_um: f64,

    /// Share of the field covered by nuclei: sparse (0.15, cytology-like),
    /// medium (0.35), dense (0.55, tissue with many touching nuclei) or a
    /// number in 0.02-0.7.
    #[arg(long, value_parser = parse_density, default_value = "medium")]
    pub density: f64,

    /// Share of nuclei that get an overlapping partner (a true overlap,
    /// brighter where the two nuclei overlap; not scorable).
    #[arg(long, default_value_t = 0.05)]
    pub overlap_fraction: f64,

    /// Share of nuclei out of the focal plane (blurred DAPI and signals).
    #[arg(long, default_value_t = 0.05)]
    pub out_of_focus_fraction: f64,

    /// Apoptotic bodies / debris (1.5-3.5 um bright fragments) per 100 nuclei.
    #[arg(long, default_value_t = 3.0)]
    pub debris_per_100: f64,

    /// Mean MDM2/CEP12 copy ratio of the case before sectioning loss.
    #[arg(long, default_value_t = 1.0)]
    pub ratio: f64,

    /// Share of nuclei that carry the amplification (heterogeneity); the
    /// amplified nuclei get the level that makes the case mean `ratio`.
    #[arg(long, default_value_t = 1.0)]
    pub amplified_fraction: f64,

    /// Mean CEP12 (control) copies per nucleus before sectioning loss
    /// (2 = disomic; about 3.5 = polysomy 12).
    #[arg(long, default_value_t = 2.0)]
    pub control_copies: f64,

    /// Polysomy 12: shorthand for `--control-copies 3.6`.
    #[arg(long)]
    pub polysomy: bool,

    /// Clusters of amplified copies.
    #[arg(long, value_enum, default_value_t = ClusterMode::Auto)]
    pub clusters: ClusterMode,

    /// Probability that a single copy is imaged as a split signal (two dots
    /// 0.35-0.8 um apart that count as one).
    #[arg(long, default_value_t = 0.1)]
    pub split_fraction: f64,

    /// Probability that a copy is lost by sectioning (the 4-5 um section
    /// cuts through nuclei).
    #[arg(long, default_value_t = 0.12)]
    pub section_loss: f64,

    /// Signal-to-noise ratio of a median single signal: peak height above
    /// the local background divided by the background noise SD.
    #[arg(long, default_value_t = 8.0)]
    pub snr: f64,

    /// Mean tissue autofluorescence in the probe channels, in ADU (photo-
    /// electrons at gain 1); it is uneven across the field.
    #[arg(long, default_value_t = 250.0)]
    pub background: f64,

    /// Autofluorescent granules (visible in both probe channels) per
    /// 10,000 um^2 of field.
    #[arg(long, default_value_t = 6.0)]
    pub granules_per_10k_um2: f64,

    /// Fraction of the DAPI signal that bleeds into each probe channel.
    #[arg(long, default_value_t = 0.03)]
    pub dapi_bleed: f64,

    /// Brightness of a CEP12 (control) copy relative to an MDM2 copy
    /// (centromere probes cover a large repeat and are often brighter than
    /// locus probes). 1 (default): the same median flux.
    #[arg(long, default_value_t = 1.0)]
    pub control_brightness: f64,

    /// Fraction of the control (green) probe's light that the target
    /// (orange) filter passes: spectral bleed-through, a faint copy of every
    /// CEP12 dot in the MDM2 image. 0 (default) adds none.
    #[arg(long, default_value_t = 0.0)]
    pub control_bleed: f64,

    /// Fraction of the target probe's light seen in the control image
    /// (bleed-through the other way). 0 (default) adds none.
    #[arg(long, default_value_t = 0.0)]
    pub target_bleed: f64,

    /// Registration error of the target (MDM2) image against DAPI, in um,
    /// `DX,DY` (filter cubes that are not parfocal and co-aligned shift
    /// each channel's image: lateral chromatic shift). The truth stays in
    /// the DAPI image's frame. Default 0,0 (no shift).
    #[arg(long, default_value = "0,0", value_parser = parse_shift)]
    pub target_shift_um: (f64, f64),

    /// Registration error of the control (CEP12) image against DAPI, in
    /// um, `DX,DY`.
    #[arg(long, default_value = "0,0", value_parser = parse_shift)]
    pub control_shift_um: (f64, f64),

    /// Camera read noise SD in ADU.
    #[arg(long, default_value_t = 6.0)]
    pub read_noise: f64,

    /// Fraction of the sensor's pixels that are hot (dark-current
    /// defects): the same pixels in every channel and plane, each adding a
    /// lognormal excess (median 300 ADU, log-SD 0.8, scaled per channel by
    /// a factor 0.5-1.5 for the exposure). 0 (default) adds none and
    /// leaves every other pixel as without the option.
    #[arg(long, default_value_t = 0.0)]
    pub hot_pixels: f64,

    /// Median DAPI intensity of a nucleus in ADU (12-bit camera).
    #[arg(long, default_value_t = 1200.0)]
    pub dapi_level: f64,

    /// Number of focal planes; more than 1 writes a z-stack in which each
    /// signal is in focus at its own depth.
    #[arg(long, default_value_t = 1)]
    pub z_planes: usize,

    /// Distance between focal planes in um.
    #[arg(long, default_value_t = 0.4)]
    pub z_step_um: f64,

    /// File layout.
    #[arg(long, value_enum, default_value_t = Layout::Multipage)]
    pub layout: Layout,

    /// Strip compression of the multipage, per-channel, OME-TIFF and RGB
    /// layouts (tiled-bigtiff always uses Deflate tiles).
    #[arg(long, value_enum, default_value_t = TiffCompression::None)]
    pub compression: TiffCompression,

    /// Sample type of grey layouts: u16 (camera values), u8 (each channel
    /// linearly stretched from its 0.5th percentile to its maximum) or f32.
    #[arg(long, value_enum, default_value_t = PixelType::U16)]
    pub pixel_type: PixelType,

    /// Write the multipage, per-channel and OME-TIFF layouts as BigTIFF.
    #[arg(long)]
    pub bigtiff: bool,

    /// Tile edge in pixels of the tiled-bigtiff layout (a multiple of 16).
    #[arg(long, default_value_t = 256)]
    pub tile_size: u32,

    /// Free-form tags recorded in truth.json (e.g. "dense,low-snr"), used to
    /// group evaluation summaries.
    #[arg(long, default_value = "")]
    pub tags: String,
}

impl SimParams {
    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.size.0
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.size.1
    }

    /// Effective mean control copies (polysomy applied).
    pub fn control_mean(&self) -> f64 {
        if self.polysomy {
            self.control_copies.max(3.6)
        } else {
            self.control_copies
        }
    }

    /// Gaussian sigma of the PSF in um.
    pub fn psf_sigma_um(&self) -> f64 {
        self.psf_fwhm_um / (2.0 * (2.0 * std::f64::consts::LN_2).sqrt())
    }

    /// Checks ranges; the message names the offending option.
    pub fn validate(&self) -> Result<(), String> {
        let (w, h) = self.size;
        let checks: [(bool, &str); 20] = [
            (
                (16..=4096).contains(&self.tile_size) && self.tile_size.is_multiple_of(16),
                "--tile-size must be a multiple of 16 in 16-4096",
            ),
            (
                (16..=40_000).contains(&w) && (16..=40_000).contains(&h),
                "--size must be 16..40000 pixels per side",
            ),
            (
                w as u64 * h as u64 <= 400_000_000,
                "--size is above 400 megapixels; simulate whole slides tile by tile",
            ),
            (
                (0.02..=2.0).contains(&self.pixel_size_um),
                "--pixel-size-um must be 0.02-2",
            ),
            (
                (0.1..=2.0).contains(&self.psf_fwhm_um),
                "--psf-fwhm-um must be 0.1-2",
            ),
            (
                self.nucleus_min_um > 0.5
                    && self.nucleus_min_um <= self.nucleus_diameter_um
                    && self.nucleus_diameter_um <= self.nucleus_max_um
                    && self.nucleus_max_um <= 60.0,
                "nucleus sizes must satisfy 0.5 < min <= median <= max <= 60 um",
            ),
            (
                (0.02..=0.7).contains(&self.density),
                "--density must be sparse, medium, dense or 0.02-0.7",
            ),
            (
                (0.0..=0.5).contains(&self.overlap_fraction),
                "--overlap-fraction must be 0-0.5",
            ),
            (
                (0.0..=0.5).contains(&self.out_of_focus_fraction),
                "--out-of-focus-fraction must be 0-0.5",
            ),
            (
                (0.0..=50.0).contains(&self.debris_per_100),
                "--debris-per-100 must be 0-50",
            ),
            ((0.0..=60.0).contains(&self.ratio), "--ratio must be 0-60"),
            (
                self.amplified_fraction > 0.0 && self.amplified_fraction <= 1.0,
                "--amplified-fraction must be in (0, 1]",
            ),
            (
                (0.5..=8.0).contains(&self.control_mean()),
                "--control-copies must be 0.5-8",
            ),
            (
                (0.0..=0.9).contains(&self.split_fraction),
                "--split-fraction must be 0-0.9",
            ),
            (
                (0.0..=0.9).contains(&self.section_loss),
                "--section-loss must be 0-0.9",
            ),
            ((0.5..=200.0).contains(&self.snr), "--snr must be 0.5-200"),
            (
                (0.0..=3000.0).contains(&self.background),
                "--background must be 0-3000 ADU",
            ),
            (
                (1..=64).contains(&self.z_planes) && (0.05..=5.0).contains(&self.z_step_um),
                "--z-planes must be 1-64 and --z-step-um 0.05-5",
            ),
            (
                (0.25..=10.0).contains(&self.control_brightness)
                    && (0.0..=0.5).contains(&self.control_bleed)
                    && (0.0..=0.5).contains(&self.target_bleed),
                "--control-brightness must be 0.25-10, --control-bleed and --target-bleed 0-0.5",
            ),
            (
                (0.0..=0.5).contains(&self.dapi_bleed)
                    && (0.0..=100.0).contains(&self.read_noise)
                    && (0.0..=0.01).contains(&self.hot_pixels)
                    && (50.0..=3500.0).contains(&self.dapi_level),
                "--dapi-bleed 0-0.5, --read-noise 0-100, --hot-pixels 0-0.01, --dapi-level 50-3500",
            ),
        ];
        for (ok, msg) in checks {
            if !ok {
                return Err(msg.to_string());
            }
        }
        Ok(())
    }
}

/// Parses a shift `DX,DY` in um (each within +-5 um).
pub fn parse_shift(s: &str) -> Result<(f64, f64), String> {
    let bad = || format!("'{s}' is not DX,DY in um (e.g. 0.3,-0.1), each within +-5");
    let (a, b) = s.split_once(',').ok_or_else(bad)?;
    let (x, y): (f64, f64) = (
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    );
    if x.abs() > 5.0 || y.abs() > 5.0 || !x.is_finite() || !y.is_finite() {
        return Err(bad());
    }
    Ok((x, y))
}

/// Parses `WIDTHxHEIGHT`.
pub fn parse_size(s: &str) -> Result<(usize, usize), String> {
    let (a, b) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("'{s}' is not WIDTHxHEIGHT (e.g. 1024x768)"))?;
    let w = a
        .trim()
        .parse()
        .map_err(|_| format!("'{a}' is not a width in pixels"))?;
    let h = b
        .trim()
        .parse()
        .map_err(|_| format!("'{b}' is not a height in pixels"))?;
    Ok((w, h))
}

/// Parses a density name or a covered share.
pub fn parse_density(s: &str) -> Result<f64, String> {
    match s {
        "sparse" => Ok(0.15),
        "medium" => Ok(0.35),
        "dense" => Ok(0.55),
        _ => s
            .parse::<f64>()
            .map_err(|_| format!("'{s}' is not sparse, medium, dense or a number")),
    }
}
