//! The one entry point the pipeline calls to bring a microscope field in:
//! [`load_field`] reads whatever the scanner wrote (multi-page TIFF,
//! OME-TIFF, ImageJ hyperstack, BigTIFF, tiled or stripped, compressed,
//! 8/16-bit integer or float, RGB composite, one file per channel, z-stacks)
//! and returns the DAPI, target and control planes with their pixel size,
//! plus an [`InputInfo`] saying how each was found. [`open_scan`] does the
//! same for whole-slide scans without reading them whole: its
//! [`Scan::read_field`] returns any rectangle.
//!
//! Precedence (docs/formats.md): channels from `--channels`, else the
//! names in the file (OME, ImageJ or simulator metadata) matched against
//! the panel's aliases, else the default order DAPI, target, control (RGB:
//! R = target, G = control, B = DAPI). Pixel size from `--pixel-size-um`,
//! else OME PhysicalSizeX, else ImageJ calibration, else simulator
//! metadata, else the TIFF resolution tags, else the default (with a QC
//! note).

use super::channels::{map_channels, ChannelAliases};
use super::error::IoError;
use super::ome::{self, OmeImage};
use super::project::{edf_projection, max_projection, EdfParams, Projection};
use super::tiff_read::DecodeLimits;
use super::tiles::{compression_name, PageInfo, SampleKind, TiffReader};
use crate::plane::{Channel, Field, Plane};
use ndarray::Array2;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Plausible pixel sizes in um; resolution tags outside are ignored
/// (72 dpi screen resolutions are common in exported TIFFs).
pub const PLAUSIBLE_PIXEL_UM: (f64, f64) = (0.01, 50.0);

/// Share of saturated pixels in a channel above which the image cannot be
/// scored (spot intensities and nuclei are clipped everywhere).
pub const SATURATED_ERROR_SHARE: f64 = 0.5;

/// Share of saturated pixels from which a QC line is written (0.01 %:
/// a few clipped signal peaks already bias cluster copy estimates).
pub const SATURATED_QC_SHARE: f64 = 1e-4;

/// Options of [`load_field`] (the `analyze` command's input flags).
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// `--channels`: indices of the DAPI, target and control channels in
    /// the file (pages of a plain multi-page TIFF; OME / ImageJ channel
    /// indices when the file says how pages split into channels and z).
    pub channels: Option<[usize; 3]>,
    /// `--pixel-size-um`: overrides the file's pixel size (um).
    pub pixel_size_um: Option<f64>,
    /// Pixel size used when neither the option nor the file gives one
    /// (default 0.1 um, a 63x objective on a 6.5 um camera pixel); a QC
    /// line says it was used.
    pub default_pixel_size_um: f64,
    /// Projection of z-stacks (default: see [`DEFAULT_PROJECTION`]).
    pub projection: Projection,
    /// Parameters of the extended-depth-of-field projection (um).
    pub edf: EdfParams,
    /// Decoding limits that guard memory.
    pub limits: DecodeLimits,
    /// Channel names of the panel.
    pub aliases: ChannelAliases,
}

/// Default z projection, chosen by measurement on simulated z-stacks
/// (docs/formats.md, "Z-stacks"): extended depth of field detected more
/// true signals at a fixed false-positive rate than maximum projection in
/// every setting measured (`examples/zproject_measure.rs`).
pub const DEFAULT_PROJECTION: Projection = Projection::Edf;

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            channels: None,
            pixel_size_um: None,
            default_pixel_size_um: 0.1,
            projection: DEFAULT_PROJECTION,
            edf: EdfParams::default(),
            limits: DecodeLimits::default(),
            aliases: ChannelAliases::default(),
        }
    }
}

/// Where a field's images are.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldSource {
    /// One file holding all channels (multi-page, OME-TIFF, RGB composite).
    Multi(PathBuf),
    /// One file per channel (`--dapi`, `--target`, `--control`).
    PerChannel {
        /// Counterstain file.
        dapi: PathBuf,
        /// Target probe file.
        target: PathBuf,
        /// Control probe file.
        control: PathBuf,
    },
}

/// How a field was read: recorded in the report's provenance and QC.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InputInfo {
    /// The files read.
    pub files: Vec<PathBuf>,
    /// Pixel size used, um.
    pub pixel_size_um: f64,
    /// Where it came from: "option", "ome", "imagej", "simulator",
    /// "tiff_resolution" or "default".
    pub pixel_size_source: String,
    /// Which channel became DAPI, target and control, and why.
    pub channel_map: String,
    /// Focal planes per channel (1 = no z-stack).
    pub z_planes: usize,
    /// Projection used for z-stacks ("max" or "edf"); `None` for one plane.
    pub projection: Option<String>,
    /// Bits per stored sample.
    pub bits: u8,
    /// Layout: kind, TIFF/BigTIFF, tiles or strips, compression, sample type.
    pub layout: String,
    /// Image width in pixels.
    pub width: usize,
    /// Image height in pixels.
    pub height: usize,
    /// Quality-control notes for the report.
    pub qc: Vec<String>,
}

/// One plane of one channel: page and sample within the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct PlaneRef {
    page: usize,
    sample: usize,
}

/// A channel of a file: its name and its z planes.
#[derive(Debug, Clone)]
struct ChannelDesc {
    name: String,
    planes: Vec<PlaneRef>,
}

/// What one file holds once its metadata is understood.
struct FileLayout {
    reader: TiffReader,
    kind: &'static str,
    channels: Vec<ChannelDesc>,
    width: u32,
    height: u32,
    pixel_size: Option<(f64, &'static str)>,
    qc: Vec<String>,
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// ImageJ hyperstack metadata ("ImageJ=1.x\nchannels=3\nslices=5\n...").
fn imagej_meta(desc: &str) -> Option<HashMap<String, String>> {
    if !desc.starts_with("ImageJ=") {
        return None;
    }
    Some(
        desc.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect(),
    )
}

fn plausible(um: f64) -> bool {
    um.is_finite() && (PLAUSIBLE_PIXEL_UM.0..=PLAUSIBLE_PIXEL_UM.1).contains(&um)
}

/// Understands a file's pages: which are channels, which are z planes.
/// `single`: the file is one channel of a per-channel set.
fn describe(reader: TiffReader, single: bool, opts: &LoadOptions) -> Result<FileLayout, IoError> {
    let path = reader.path().to_path_buf();
    let bad = |p: String| IoError::format(&path, p);
    let pages: Vec<PageInfo> = reader.pages().to_vec();
    let first = pages[0].clone();
    let (w, h) = (first.width, first.height);
    let mut qc = Vec::new();
    let desc = reader.description().unwrap_or("").to_string();
    let mut pixel_size: Option<(f64, &'static str)> = None;
    let kind: &'static str;
    let names: Vec<String>;
    let mut z: usize;
    // Page index of (channel, z), for the layouts that are not OME.
    let order: Box<dyn Fn(usize, usize, usize, usize) -> usize>;

    let mut ome_meta: Option<OmeImage> = None;
    if ome::is_ome(&desc) {
        match ome::parse_ome(&desc) {
            Ok(o) => ome_meta = Some(o),
            Err(e) => qc.push(format!(
                "{}: OME-XML not understood ({e}); read as a plain TIFF",
                file_name(&path)
            )),
        }
    }
    let sim: Option<serde_json::Value> = serde_json::from_str::<serde_json::Value>(&desc)
        .ok()
        .filter(|v| v.get("fishscore_simulated").is_some());
    let ij = imagej_meta(&desc);

    if let Some(o) = ome_meta {
        if (o.size_x, o.size_y) != (w as usize, h as usize) {
            return Err(bad(format!(
                "OME-XML says {} x {} pixels but the first page is {w} x {h}",
                o.size_x, o.size_y
            )));
        }
        let map = o.page_map(&file_name(&path), pages.len()).map_err(bad)?;
        let rgb = first.rgb;
        let mut chans = Vec::new();
        for (c, zs) in map.iter().enumerate() {
            let label = o.channels.get(c).map(|ch| ch.label()).unwrap_or_default();
            for s in 0..first.samples {
                let name = if rgb {
                    ["red", "green", "blue"][s.min(2)].to_string()
                } else if first.samples > 1 {
                    // One OME channel stored as several samples: the
                    // samples are the channels, in their stored order.
                    o.channels.get(s).map(|ch| ch.label()).unwrap_or_default()
                } else {
                    label.clone()
                };
                chans.push(ChannelDesc {
                    name,
                    planes: zs
                        .iter()
                        .map(|&p| PlaneRef { page: p, sample: s })
                        .collect(),
                });
            }
        }
        if o.size_t > 1 {
            qc.push(format!(
                "{}: {} time points; only the first is read",
                file_name(&path),
                o.size_t
            ));
        }
        if o.images_in_file > 1 {
            qc.push(format!(
                "{}: the OME-XML lists {} images (series); the first is read",
                file_name(&path),
                o.images_in_file
            ));
        }
        if let Some(p) = &o.physical_size_problem {
            qc.push(format!(
                "{}: OME pixel size ignored ({p})",
                file_name(&path)
            ));
        }
        if let Some(x) = o.physical_size_x_um {
            if let Some(y) = o.physical_size_y_um {
                if (x - y).abs() > 0.01 * x {
                    qc.push(format!(
                        "{}: pixels are not square ({x} x {y} um); the X size is used",
                        file_name(&path)
                    ));
                }
            }
            if plausible(x) {
                pixel_size = Some((x, "ome"));
            } else {
                qc.push(format!(
                    "{}: OME pixel size {x} um is implausible and ignored",
                    file_name(&path)
                ));
            }
        }
        let kind = if rgb { "ome-tiff rgb" } else { "ome-tiff" };
        return finish(reader, kind, chans, w, h, pixel_size, qc, &pages, single);
    }

    if let Some(s) = &sim {
        names = s["channels"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|v| v.as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default();
        z = s["z_planes"].as_u64().unwrap_or(1).max(1) as usize;
        if let Some(px) = s["pixel_size_um"].as_f64().filter(|&v| plausible(v)) {
            pixel_size = Some((px, "simulator"));
        }
        let z_major = s["page_order"]
            .as_str()
            .is_some_and(|o| o.starts_with("z-major"));
        kind = "simulator";
        order = if z_major {
            let nc = names.len();
            Box::new(move |c, k, _, _| c + nc * k)
        } else {
            Box::new(move |c, k, zz, _| c * zz + k)
        };
    } else if let Some(m) = &ij {
        let get = |k: &str| m.get(k).and_then(|v| v.parse::<usize>().ok());
        let nc = get("channels").unwrap_or(1).max(1);
        z = get("slices").unwrap_or(1).max(1);
        let frames = get("frames").unwrap_or(1).max(1);
        if frames > 1 {
            qc.push(format!(
                "{}: {frames} time points; only the first is read",
                file_name(&path)
            ));
        }
        if nc == 1 && z == 1 && get("images").unwrap_or(1) > 1 {
            z = get("images").unwrap_or(1);
        }
        if nc.checked_mul(z).is_none_or(|n| n > pages.len()) {
            return Err(bad(format!(
                "ImageJ metadata says {nc} channels x {z} slices, more than the {} pages in the file",
                pages.len()
            )));
        }
        // Fiji's channel names: the slice labels of the first nc images
        // (channel fastest).
        names = match reader.imagej_labels() {
            Some(l) if l.len() >= nc => l[..nc].to_vec(),
            _ => vec![String::new(); nc],
        };
        // ImageJ calibration: resolution tags (ResolutionUnit none) in
        // pixels per `unit`; with inch or cm units the tags stand alone.
        if let (Some(unit), Some((xres, _, 1))) = (m.get("unit"), reader.resolution()) {
            let unit = unit.replace("\\u00B5", "µ");
            if let Some(um) = ome::length_to_um(1.0 / xres, &unit) {
                if plausible(um) {
                    pixel_size = Some((um, "imagej"));
                }
            }
        }
        kind = "imagej";
        // ImageJ order: channel fastest, then slice, then frame.
        order = Box::new(move |c, k, _, _| c + nc * k);
    } else if first.samples > 1 {
        let n = first.samples;
        if first.rgb {
            names = vec!["red".into(), "green".into(), "blue".into()];
            kind = "rgb";
        } else {
            names = vec![String::new(); n];
            kind = "multisample";
        }
        z = pages
            .iter()
            .filter(|p| p.width == w && p.height == h && !p.reduced && p.samples == n)
            .count();
        if z > 1 {
            qc.push(format!(
                "{}: {z} pages of {n} samples read as the z planes of one image",
                file_name(&path)
            ));
        }
        order = Box::new(|_, k, _, _| k);
    } else {
        let main: Vec<usize> = (0..pages.len())
            .filter(|&i| pages[i].width == w && pages[i].height == h && !pages[i].reduced)
            .collect();
        let n = main.len();
        if n < pages.len() {
            qc.push(format!(
                "{}: {} of {} pages skipped (reduced-resolution or of another size than the first)",
                file_name(&path),
                pages.len() - n,
                pages.len()
            ));
        }
        if single {
            kind = "per-channel";
            if n > 1 {
                qc.push(format!(
                    "{}: {n} pages read as the z planes of one channel",
                    file_name(&path)
                ));
            }
        } else {
            kind = "multipage";
            if n > 3 && opts.channels.is_none() {
                return Err(bad(format!(
                    "has {n} pages and no metadata saying which are channels and which are z planes; pass --channels DAPI,TARGET,CONTROL page indices"
                )));
            }
        }
        // Pages are already main-page indices: build the channels here.
        let mut chans = Vec::new();
        if single {
            chans.push(ChannelDesc {
                name: String::new(),
                planes: main
                    .iter()
                    .map(|&p| PlaneRef { page: p, sample: 0 })
                    .collect(),
            });
        } else {
            for &p in &main {
                chans.push(ChannelDesc {
                    name: String::new(),
                    planes: vec![PlaneRef { page: p, sample: 0 }],
                });
            }
        }
        if let Some(px) = resolution_um(&reader) {
            pixel_size = Some((px, "tiff_resolution"));
        }
        return finish(reader, kind, chans, w, h, pixel_size, qc, &pages, single);
    }

    // Layouts with a channel x z page order (simulator, ImageJ, RGB).
    let nc = names.len().max(1);
    let needed = nc.saturating_mul(z);
    let by_sample = kind == "rgb" || kind == "multisample";
    if !by_sample && pages.len() < needed {
        return Err(bad(format!(
            "metadata says {nc} channels x {z} z planes = {needed} pages, but the file has {}",
            pages.len()
        )));
    }
    let mut chans = Vec::new();
    if by_sample {
        let rgb_pages: Vec<usize> = (0..pages.len())
            .filter(|&i| {
                pages[i].width == w
                    && pages[i].height == h
                    && !pages[i].reduced
                    && pages[i].samples == first.samples
            })
            .collect();
        for (s, name) in names.iter().enumerate() {
            chans.push(ChannelDesc {
                name: name.clone(),
                planes: rgb_pages
                    .iter()
                    .map(|&p| PlaneRef { page: p, sample: s })
                    .collect(),
            });
        }
    } else {
        for (c, name) in names.iter().enumerate() {
            chans.push(ChannelDesc {
                name: name.clone(),
                planes: (0..z)
                    .map(|k| PlaneRef {
                        page: order(c, k, z, nc),
                        sample: 0,
                    })
                    .collect(),
            });
        }
    }
    if pixel_size.is_none() {
        if let Some(px) = resolution_um(&reader) {
            pixel_size = Some((px, "tiff_resolution"));
        }
    }
    finish(reader, kind, chans, w, h, pixel_size, qc, &pages, single)
}

/// Pixel size in um from the resolution tags (inch or cm units).
fn resolution_um(r: &TiffReader) -> Option<f64> {
    let (x, _, unit) = r.resolution()?;
    let per_unit = match unit {
        2 => 25_400.0,
        3 => 10_000.0,
        _ => return None,
    };
    let um = per_unit / x;
    plausible(um).then_some(um)
}

/// Checks every referenced page and finishes the layout.
#[allow(clippy::too_many_arguments)]
fn finish(
    reader: TiffReader,
    kind: &'static str,
    mut channels: Vec<ChannelDesc>,
    w: u32,
    h: u32,
    pixel_size: Option<(f64, &'static str)>,
    mut qc: Vec<String>,
    pages: &[PageInfo],
    single: bool,
) -> Result<FileLayout, IoError> {
    let path = reader.path().to_path_buf();
    let bad = |p: String| IoError::format(&path, p);
    for ch in &channels {
        for pr in &ch.planes {
            let Some(p) = pages.get(pr.page) else {
                return Err(bad(format!(
                    "a channel is mapped to page {} but the file has {} pages",
                    pr.page,
                    pages.len()
                )));
            };
            if (p.width, p.height) != (w, h) {
                return Err(bad(format!(
                    "page {} is {} x {} pixels, the first page {w} x {h}: channels of different sizes",
                    pr.page, p.width, p.height
                )));
            }
            if pr.sample >= p.samples {
                return Err(bad(format!("page {} has no sample {}", pr.page, pr.sample)));
            }
        }
    }
    let used: std::collections::HashSet<usize> = channels
        .iter()
        .flat_map(|c| c.planes.iter().map(|p| p.page))
        .collect();
    let ignored = pages.len() - used.len().min(pages.len());
    if ignored > 0 && kind != "multipage" && kind != "per-channel" {
        qc.push(format!(
            "{}: {ignored} of {} pages not used (thumbnails, pyramid levels or other series)",
            file_name(&path),
            pages.len()
        ));
    }
    if single {
        if channels.len() == 3 && kind.contains("rgb") || kind == "rgb" {
            // A colour export of one channel: sum R, G and B.
            let planes = channels[0]
                .planes
                .iter()
                .flat_map(|p| {
                    (0..3).map(move |s| PlaneRef {
                        page: p.page,
                        sample: s,
                    })
                })
                .collect();
            qc.push(format!(
                "{}: RGB file read as one channel (sum of R, G and B)",
                file_name(&path)
            ));
            channels = vec![ChannelDesc {
                name: "rgb-sum".into(),
                planes,
            }];
            return Ok(FileLayout {
                reader,
                kind: "per-channel rgb",
                channels,
                width: w,
                height: h,
                pixel_size,
                qc,
            });
        }
        if channels.len() != 1 {
            return Err(bad(format!(
                "holds {} channels; with --dapi/--target/--control each file must hold one channel (pass the file alone to read its channels)",
                channels.len()
            )));
        }
    }
    Ok(FileLayout {
        reader,
        kind,
        channels,
        width: w,
        height: h,
        pixel_size,
        qc,
    })
}

/// A field source opened for reading: the files, which channel of which
/// file plays each role, and the pixel size. Regions are read on demand,
/// so a whole-slide scan is never held in memory.
pub struct Scan {
    files: Vec<FileLayout>,
    /// (file, channel) of DAPI, target, control.
    roles: [(usize, usize); 3],
    /// RGB-sum channels: planes come in groups of 3 samples to add.
    summed: [bool; 3],
    info: InputInfo,
    projection: Projection,
    edf: EdfParams,
    name: String,
}

impl std::fmt::Debug for Scan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scan").field("info", &self.info).finish()
    }
}

fn channel_word(n: usize) -> String {
    format!("{n} channel{}", if n == 1 { "" } else { "s" })
}

/// Opens a field source: reads the metadata of every file, maps the
/// channels and finds the pixel size, without decoding pixels.
pub fn open_scan(src: &FieldSource, opts: &LoadOptions) -> Result<Scan, IoError> {
    open_source(src, opts, false)
}

/// [`open_scan`]; with `whole`, pages above the pixel limit are refused
/// as soon as the file is opened (the field will be read at once).
fn open_source(src: &FieldSource, opts: &LoadOptions, whole: bool) -> Result<Scan, IoError> {
    let open = |p: &Path, single: bool| -> Result<FileLayout, IoError> {
        let r = TiffReader::open(p, &opts.limits)?;
        if whole {
            if let Some((i, pg)) = r
                .pages()
                .iter()
                .enumerate()
                .find(|(_, pg)| pg.pixels() > opts.limits.max_pixels)
            {
                return Err(IoError::format(
                    p,
                    format!(
                        "page {i} is {} x {} pixels, above the limit of {} pixels for one field read at once; whole-slide scans are read region by region",
                        pg.width, pg.height, opts.limits.max_pixels
                    ),
                ));
            }
        }
        describe(r, single, opts)
    };
    let mut qc = Vec::new();
    let (files, roles, how, name) = match src {
        FieldSource::Multi(p) => {
            let f = open(p, false)?;
            let n = f.channels.len();
            let names: Vec<String> = f.channels.iter().map(|c| c.name.clone()).collect();
            let (idx, how): ([usize; 3], [String; 3]) = if let Some(c) = opts.channels {
                if let Some(&bad) = c.iter().find(|&&i| i >= n) {
                    return Err(IoError::format(
                        p,
                        format!(
                            "--channels index {bad} is out of range: the file has {} (0 to {})",
                            channel_word(n),
                            n.saturating_sub(1)
                        ),
                    ));
                }
                if c[0] == c[1] || c[0] == c[2] || c[1] == c[2] {
                    return Err(IoError::format(
                        p,
                        format!("--channels {},{},{} repeats a channel", c[0], c[1], c[2]),
                    ));
                }
                (c, ["option".into(), "option".into(), "option".into()])
            } else if f.kind.contains("rgb") && n == 3 {
                ([2, 0, 1], ["rgb".into(), "rgb".into(), "rgb".into()])
            } else {
                let m = map_channels(&names, &opts.aliases).map_err(|e| {
                    if e.starts_with("has ") {
                        IoError::format(
                            p,
                            format!(
                                "has {}; the panel needs DAPI, target and control: pass --channels or one file per channel with --dapi/--target/--control",
                                channel_word(n)
                            ),
                        )
                    } else {
                        IoError::format(p, e)
                    }
                })?;
                (m.index, m.how.map(|s| s.to_string()))
            };
            if how.iter().all(|h| h == "order") && f.kind != "multipage" {
                qc.push(format!(
                    "{}: channel names not recognised ({}); order DAPI, target, control assumed",
                    file_name(p),
                    names.join(", ")
                ));
            }
            for (r, hw) in how.iter().enumerate() {
                if hw == "remaining" {
                    qc.push(format!(
                        "{}: the {} channel was not named; channel {} ('{}') is the one left",
                        file_name(p),
                        Channel::ALL[r].as_str(),
                        idx[r],
                        names[idx[r]]
                    ));
                }
            }
            let roles = [(0, idx[0]), (0, idx[1]), (0, idx[2])];
            let how: Vec<String> = (0..3)
                .map(|r| {
                    let nm = &names[idx[r]];
                    let label = if nm.is_empty() {
                        String::new()
                    } else {
                        format!(" '{nm}'")
                    };
                    format!(
                        "{}=channel {}{label} ({})",
                        Channel::ALL[r].as_str(),
                        idx[r],
                        how[r]
                    )
                })
                .collect();
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let stem = stem.trim_end_matches(".ome").to_string();
            (vec![f], roles, how.join(", "), stem)
        }
        FieldSource::PerChannel {
            dapi,
            target,
            control,
        } => {
            let files = vec![open(dapi, true)?, open(target, true)?, open(control, true)?];
            let how = ["dapi", "target", "control"]
                .iter()
                .zip([dapi, target, control])
                .map(|(r, p)| format!("{r}={}", file_name(p)))
                .collect::<Vec<_>>()
                .join(", ");
            let stem = dapi
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            (files, [(0, 0), (1, 0), (2, 0)], how, stem)
        }
    };
    // Sizes must agree across files.
    let (w, h) = (files[0].width, files[0].height);
    for f in &files[1..] {
        if (f.width, f.height) != (w, h) {
            return Err(IoError::format(
                f.reader.path(),
                format!(
                    "is {} x {} pixels but {} is {w} x {h}: the channels must have the same size",
                    f.width,
                    f.height,
                    file_name(files[0].reader.path())
                ),
            ));
        }
    }
    // z planes must agree across roles.
    let zs: Vec<usize> = roles
        .iter()
        .map(|&(fi, ci)| {
            let n = files[fi].channels[ci].planes.len();
            if files[fi].kind == "per-channel rgb" {
                n / 3
            } else {
                n
            }
        })
        .collect();
    if let Some(odd) = (1..3).find(|&r| zs[r] != zs[0]) {
        let f = &files[roles[odd].0];
        return Err(IoError::format(
            f.reader.path(),
            format!(
                "channels have different numbers of z planes (DAPI {}, target {}, control {})",
                zs[0], zs[1], zs[2]
            ),
        ));
    }
    let z = zs[0];
    // Pixel size.
    let mut from_file: Option<(f64, &'static str, &Path)> = None;
    for f in &files {
        if let Some((px, src)) = f.pixel_size {
            match from_file {
                None => from_file = Some((px, src, f.reader.path())),
                Some((p0, _, path0))
                    if (p0 - px).abs() > 0.01 * p0 && opts.pixel_size_um.is_none() =>
                {
                    return Err(IoError::format(
                        f.reader.path(),
                        format!(
                            "pixel size {px} um differs from {}'s {p0} um; pass --pixel-size-um",
                            file_name(path0)
                        ),
                    ))
                }
                _ => {}
            }
        }
    }
    let (px, px_src) = match (opts.pixel_size_um, from_file) {
        (Some(o), file) => {
            if !(o.is_finite() && o > 0.0) {
                return Err(IoError::format(
                    files[0].reader.path(),
                    format!("--pixel-size-um {o} is not a positive length"),
                ));
            }
            if let Some((fp, fs, _)) = file {
                if (fp - o).abs() > 0.01 * o {
                    qc.push(format!(
                        "--pixel-size-um {o} overrides the file's {fp:.4} um ({fs})"
                    ));
                }
            }
            (o, "option")
        }
        (None, Some((fp, fs, _))) => (fp, fs),
        (None, None) => {
            qc.push(format!(
                "pixel size not in the file; default {} um used (pass --pixel-size-um)",
                opts.default_pixel_size_um
            ));
            (opts.default_pixel_size_um, "default")
        }
    };
    let summed = roles.map(|(fi, _)| files[fi].kind == "per-channel rgb");
    let first_page = files[0].channels[roles[0].1]
        .planes
        .first()
        .map(|p| p.page)
        .unwrap_or(0);
    let pinfo = files[0].reader.pages()[first_page].clone();
    let kind = match src {
        FieldSource::PerChannel { .. } => "per-channel",
        _ => files[0].kind,
    };
    let layout = format!(
        "{kind}; {}; {}; compression {}; {}",
        if files[0].reader.is_bigtiff() {
            "BigTIFF"
        } else {
            "TIFF"
        },
        pinfo.chunk_text(),
        compression_name(pinfo.compression).0,
        pinfo.sample_type()
    );
    if pinfo.compression == 7 {
        qc.push("JPEG (lossy) compression: intensities are approximate".into());
    }
    for f in &files {
        qc.extend(f.qc.iter().cloned());
    }
    let info = InputInfo {
        files: files
            .iter()
            .map(|f| f.reader.path().to_path_buf())
            .collect(),
        pixel_size_um: px,
        pixel_size_source: px_src.to_string(),
        channel_map: how,
        z_planes: z,
        projection: (z > 1).then(|| opts.projection.as_str().to_string()),
        bits: pinfo.bits,
        layout,
        width: w as usize,
        height: h as usize,
        qc,
    };
    Ok(Scan {
        files,
        roles,
        summed,
        info,
        projection: opts.projection,
        edf: opts.edf,
        name,
    })
}

/// Raw z planes of one role in a region, plus the saturation value of
/// its samples (integers only).
type RolePlanes = (Vec<Array2<f32>>, Option<f64>);

impl Scan {
    /// Image width in pixels.
    pub fn width(&self) -> usize {
        self.info.width
    }

    /// Image height in pixels.
    pub fn height(&self) -> usize {
        self.info.height
    }

    /// How the source was read.
    pub fn info(&self) -> &InputInfo {
        &self.info
    }

    /// Reads the z planes of every role in the rectangle, each page
    /// decoded once.
    fn read_planes(&mut self, x: u32, y: u32, w: u32, h: u32) -> Result<[RolePlanes; 3], IoError> {
        let mut out: Vec<RolePlanes> = Vec::with_capacity(3);
        // Each page is decoded once; a sample is moved out of the cache at
        // its last use, so memory holds each region once.
        let mut cache: HashMap<(usize, usize), Vec<Array2<f32>>> = HashMap::new();
        let mut uses: HashMap<(usize, usize, usize), usize> = HashMap::new();
        for &(fi, ci) in &self.roles {
            for pr in &self.files[fi].channels[ci].planes {
                *uses.entry((fi, pr.page, pr.sample)).or_insert(0) += 1;
            }
        }
        for r in 0..3 {
            let (fi, ci) = self.roles[r];
            let planes = self.files[fi].channels[ci].planes.clone();
            let mut got = Vec::with_capacity(planes.len());
            let mut sat: Option<f64> = None;
            for pr in &planes {
                let key = (fi, pr.page);
                if let std::collections::hash_map::Entry::Vacant(e) = cache.entry(key) {
                    e.insert(self.files[fi].reader.read_region(pr.page, x, y, w, h)?);
                }
                let info = &self.files[fi].reader.pages()[pr.page];
                sat = if info.kind == SampleKind::Float {
                    None
                } else {
                    info.max_value()
                };
                let left = uses.entry((fi, pr.page, pr.sample)).or_insert(1);
                *left = left.saturating_sub(1);
                let slot = cache
                    .get_mut(&key)
                    .and_then(|v| v.get_mut(pr.sample))
                    .ok_or_else(|| {
                        IoError::format(self.files[fi].reader.path(), "sample missing")
                    })?;
                let a = if *left == 0 {
                    std::mem::replace(slot, Array2::zeros((0, 0)))
                } else {
                    slot.clone()
                };
                got.push(a);
            }
            if self.summed[r] {
                got = got
                    .chunks(3)
                    .map(|g| {
                        let mut s = g[0].clone();
                        for o in &g[1..] {
                            s += o;
                        }
                        s
                    })
                    .collect();
                sat = None;
            }
            out.push((got, sat));
        }
        let mut it = out.into_iter();
        match (it.next(), it.next(), it.next()) {
            (Some(a), Some(b), Some(c)) => Ok([a, b, c]),
            _ => Err(IoError::format(
                self.files[0].reader.path(),
                "channels missing",
            )),
        }
    }

    /// Reads the rectangle `x, y, w, h` (pixels) as a field: every role's
    /// planes decoded from the tiles or strips they touch and projected.
    pub fn read_field(&mut self, x: usize, y: usize, w: usize, h: usize) -> Result<Field, IoError> {
        let conv = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        let planes = self.read_planes(conv(x), conv(y), conv(w), conv(h))?;
        Ok(self.assemble(planes))
    }

    fn assemble(&self, planes: [RolePlanes; 3]) -> Field {
        let px = self.info.pixel_size_um;
        let proj = |p: Vec<Array2<f32>>| match self.projection {
            _ if p.len() == 1 => p.into_iter().next().unwrap_or_default(),
            Projection::Max => max_projection(&p),
            Projection::Edf => edf_projection(&p, px, &self.edf),
        };
        let [d, t, c] = planes.map(|(p, _)| Plane::new(proj(p), px));
        Field {
            name: self.name.clone(),
            dapi: d,
            target: t,
            control: c,
        }
    }

    /// Reopens the same files (for reading regions from several threads).
    pub fn reopen(&self, opts: &LoadOptions) -> Result<Scan, IoError> {
        let src = match self.files.len() {
            1 => FieldSource::Multi(self.files[0].reader.path().to_path_buf()),
            _ => FieldSource::PerChannel {
                dapi: self.files[0].reader.path().to_path_buf(),
                target: self.files[1].reader.path().to_path_buf(),
                control: self.files[2].reader.path().to_path_buf(),
            },
        };
        open_scan(&src, opts)
    }
}

/// Saturation of one role's raw planes: (share of pixels at the
/// saturation value in any plane, that value).
fn saturation(planes: &[Array2<f32>], container_max: Option<f64>) -> Option<(f64, f64)> {
    let cmax = container_max?;
    let m = planes
        .iter()
        .flat_map(|p| p.iter())
        .fold(f32::MIN, |a, &b| a.max(b)) as f64;
    // Camera ranges stored in wider containers: 10, 12, 14-bit data.
    let levels = [255.0, 1023.0, 4095.0, 16383.0, 65535.0, cmax];
    if !levels.iter().any(|&l| l <= cmax && (m - l).abs() < 0.5) {
        return None;
    }
    let n = planes.first().map(|p| p.len()).unwrap_or(0);
    if n == 0 {
        return None;
    }
    let mut count = 0usize;
    for i in 0..n {
        if planes.iter().any(|p| {
            p.as_slice()
                .and_then(|s| s.get(i))
                .is_some_and(|&v| (v as f64 - m).abs() < 0.5)
        }) {
            count += 1;
        }
    }
    Some((count as f64 / n as f64, m))
}

/// Reads a field whole: the entry point of the analysis pipeline.
///
/// Errors (exit code 2 in the binary) are one line naming the file: not
/// found, a directory, not a TIFF, truncated, beyond the decoding limits,
/// an unsupported compression or sample type, too few channels, channels
/// of different sizes, a blank DAPI channel, an image saturated in most
/// pixels. Partial saturation and blank probe channels are QC lines.
pub fn load_field(src: &FieldSource, opts: &LoadOptions) -> Result<(Field, InputInfo), IoError> {
    let mut scan = open_source(src, opts, true)?;
    let (w, h) = (scan.width(), scan.height());
    let path0 = scan.info.files[0].clone();
    let px = w as u64 * h as u64;
    if px > opts.limits.max_pixels {
        return Err(IoError::format(
            &path0,
            format!(
                "{w} x {h} pixels is above the limit of {} pixels for one field read at once; whole-slide scans are read region by region",
                opts.limits.max_pixels
            ),
        ));
    }
    let bytes = px * 4 * 3 * scan.info.z_planes as u64;
    if bytes > opts.limits.max_bytes {
        return Err(IoError::format(
            &path0,
            format!(
                "decoding {w} x {h} pixels x 3 channels x {} z planes needs {bytes} bytes, above the limit of {} bytes",
                scan.info.z_planes, opts.limits.max_bytes
            ),
        ));
    }
    let planes = scan.read_planes(0, 0, w as u32, h as u32)?;
    let mut qc = Vec::new();
    for (r, (pl, sat)) in planes.iter().enumerate() {
        let role = Channel::ALL[r];
        let label = if role == Channel::Dapi {
            "DAPI".to_string()
        } else {
            role.as_str().to_string()
        };
        let file = &scan.info.files[scan.roles[r].0];
        if let Some((share, value)) = saturation(pl, *sat) {
            if share >= SATURATED_ERROR_SHARE {
                return Err(IoError::format(
                    file,
                    format!(
                        "the {label} channel is saturated (value {value}) in {:.0}% of pixels: it cannot be scored; image with a shorter exposure",
                        100.0 * share
                    ),
                ));
            }
            if share >= SATURATED_QC_SHARE {
                qc.push(format!(
                    "{label} channel saturated in {:.2}% of pixels (value {value})",
                    100.0 * share
                ));
            }
        }
        let (mn, mx) = pl
            .iter()
            .flat_map(|p| p.iter())
            .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        if mn == mx {
            if role == Channel::Dapi {
                return Err(IoError::format(
                    file,
                    format!(
                        "the DAPI channel is blank (every pixel is {mn}): no nuclei can be found"
                    ),
                ));
            }
            qc.push(format!("{label} channel is blank (every pixel is {mn})"));
        }
    }
    if let Some(line) =
        channel_order_check(&planes, scan.info.pixel_size_um, &scan.info.channel_map)
    {
        qc.push(line);
    }
    let field = scan.assemble(planes);
    let mut info = scan.info.clone();
    info.qc.extend(qc);
    Ok((field, info))
}

/// Contrast of a plane at the nucleus scale: block means over about 1 um,
/// (90th - 10th percentile) / median. Nuclei make a DAPI image a field of
/// bright islands on a dark ground (typically 1-10); a probe image is its
/// background with faint nuclear steps and dots that a 1 um block averages
/// away (typically 0.1-0.5).
fn nucleus_scale_contrast(plane: &Array2<f32>, pixel_size_um: f64) -> Option<f64> {
    let f = ((1.0 / pixel_size_um).round() as usize).max(1);
    let mut means = crate::nuclei::resample::bin_mean(plane, f)
        .into_raw_vec_and_offset()
        .0;
    if means.len() < 16 {
        return None;
    }
    means.sort_by(f32::total_cmp);
    let q = |p: f64| means[((means.len() - 1) as f64 * p) as usize] as f64;
    let med = q(0.5).max(1.0);
    Some((q(0.9) - q(0.1)) / med)
}

/// A QC line when a probe channel looks more like a nuclear stain than the
/// channel used as DAPI (a file whose channels are in another order and
/// carry no names it can read): its nucleus-scale contrast is higher. The
/// counts of such a run are meaningless, so the line says what to check.
fn channel_order_check(
    planes: &[RolePlanes; 3],
    pixel_size_um: f64,
    channel_map: &str,
) -> Option<String> {
    let contrast: Vec<Option<f64>> = planes
        .iter()
        .map(|(pl, _)| {
            pl.first()
                .and_then(|p| nucleus_scale_contrast(p, pixel_size_um))
        })
        .collect();
    let dapi = contrast[0]?;
    let (r, c) = (1..3)
        .filter_map(|r| contrast[r].map(|c| (r, c)))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    (c > dapi).then(|| {
        format!(
            "CHANNEL ORDER? the {} channel looks more like the nuclear stain than the DAPI channel (nucleus-scale contrast {c:.2} against {dapi:.2}; {channel_map}): check the channel order (--channels); the counts are not valid if DAPI is not the DAPI channel",
            Channel::ALL[r].as_str()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 0.1 um pixels: nuclei (discs 8 um across, DAPI 2000 on 100) and
    /// probe images (400 background, 8 % nuclear step, a dot per nucleus).
    fn planes() -> (Array2<f32>, Array2<f32>) {
        let (h, w) = (300, 300);
        let centres = [(70.0, 70.0), (70.0, 220.0), (220.0, 80.0), (210.0, 215.0)];
        let inside = |y: usize, x: usize| {
            centres
                .iter()
                .any(|&(cy, cx): &(f64, f64)| (y as f64 - cy).hypot(x as f64 - cx) < 40.0)
        };
        let dapi =
            Array2::from_shape_fn((h, w), |(y, x)| if inside(y, x) { 2000.0 } else { 100.0 });
        let probe = Array2::from_shape_fn((h, w), |(y, x)| {
            let dot = centres
                .iter()
                .map(|&(cy, cx)| {
                    let r2 = (y as f64 - cy - 5.0).powi(2) + (x as f64 - cx).powi(2);
                    3000.0 * (-r2 / 4.5).exp()
                })
                .sum::<f64>();
            400.0 + if inside(y, x) { 32.0 } else { 0.0 } + dot as f32
        });
        (dapi, probe)
    }

    #[test]
    fn a_probe_that_looks_like_dapi_is_flagged() {
        let (dapi, probe) = planes();
        let right: [RolePlanes; 3] = [
            (vec![dapi.clone()], None),
            (vec![probe.clone()], None),
            (vec![probe.clone()], None),
        ];
        assert_eq!(channel_order_check(&right, 0.1, "map"), None);
        let swapped: [RolePlanes; 3] = [
            (vec![probe.clone()], None),
            (vec![dapi], None),
            (vec![probe], None),
        ];
        let line = channel_order_check(&swapped, 0.1, "map").expect("flagged");
        assert!(
            line.starts_with("CHANNEL ORDER?") && line.contains("target"),
            "{line}"
        );
    }
}
