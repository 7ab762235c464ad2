//! Command-line definitions (clap derive). The subcommands and their flags
//! are a contract that users' scripts rely on: add, do not rename.

use crate::simulate::SimParams;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Scores dual-colour FISH images (MDM2/CEP12 and other locus/centromere
/// panels) for gene amplification.
#[derive(Debug, Parser)]
#[command(name = "fishscore", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse a case: segment nuclei, detect signals, enumerate and score;
    /// writes report.json, nuclei.csv, spots.csv, labels.tif, overlay.png.
    Analyze(Box<AnalyzeArgs>),
    /// Write a synthetic case (images + exact ground truth), or a whole
    /// benchmark set from a recipe file.
    Simulate(Box<SimulateArgs>),
    /// Measure a result folder against simulator ground truth; prints JSON.
    Evaluate(EvaluateArgs),
    /// Apply a reviewer's decisions (the file report.html exports) to a
    /// result folder without re-analysing the images; writes
    /// report.reviewed.json and report.reviewed.html beside the untouched
    /// automated report.
    Rescore(RescoreArgs),
    /// Analyse many cases: a folder (one case per subfolder or per image
    /// file) or a CSV manifest; cases run in parallel, each written
    /// atomically into OUT/<case>/, with summary.csv and summary.html.
    /// Exit code 0 when every case ran, 3 when some failed.
    Batch(Box<BatchArgs>),
}

/// `fishscore batch` (docs/batch.md).
#[derive(Debug, clap::Args)]
pub struct BatchArgs {
    /// A folder (one case per subfolder, or per image file at its top
    /// level) or a CSV manifest (columns case,files,panel,pixel_size_um,
    /// channels,layout).
    pub input: PathBuf,
    /// Output folder: one result folder per case, summary.csv, summary.html.
    #[arg(long)]
    pub out: PathBuf,
    /// Skip cases whose complete outputs (OUT/<case>/report.json) exist.
    #[arg(long)]
    pub resume: bool,
    /// Only these cases (comma-separated ids).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Print the plan (one JSON line per case: id and the `fishscore
    /// analyze` arguments) and exit; used by workflow/Snakefile.
    #[arg(long)]
    pub plan: bool,
    /// Channel indices of DAPI, target and control for cases that do not
    /// set them in the manifest.
    #[arg(long, value_delimiter = ',', num_args = 3)]
    pub channels: Option<Vec<usize>>,
    /// Pixel size in um for cases that do not set it in the manifest
    /// (overrides the files' metadata).
    #[arg(long)]
    pub pixel_size_um: Option<f64>,
    /// Pixel size in um used when neither the manifest, --pixel-size-um nor
    /// the file gives one.
    #[arg(long, default_value_t = 0.1)]
    pub default_pixel_size_um: f64,
    /// Panel for cases that do not name one in the manifest.
    #[arg(long, default_value = "mdm2-cep12")]
    pub panel: String,
    /// Nuclei to enumerate, MIN..MAX (default: the panel's).
    #[arg(long)]
    pub nuclei: Option<String>,
    /// Seed of the enumeration order and the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Z-stack projection: max or edf.
    #[arg(long)]
    pub projection: Option<String>,
    /// Worker threads shared by all cases (default: all cores). Results do
    /// not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Cases analysed at the same time (default: as many as threads);
    /// fewer bounds memory, the threads still share the work inside cases.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Print the time of each stage of each case to stderr.
    #[arg(long)]
    pub timings: bool,
}

/// `fishscore rescore`.
#[derive(Debug, clap::Args)]
pub struct RescoreArgs {
    /// A result folder written by `fishscore analyze`.
    pub result_dir: PathBuf,
    /// The review file exported from report.html ("Export review").
    #[arg(long)]
    pub review: PathBuf,
}

/// `fishscore simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Output folder (for --recipe: the root that gets one folder per case).
    #[arg(long)]
    pub out: PathBuf,
    /// A recipe file: one case per line, `NAME: OPTIONS` (see
    /// fixtures/benchmark.recipe). Options given here are then ignored.
    #[arg(long)]
    pub recipe: Option<PathBuf>,
    /// With --recipe: only these cases (comma-separated names).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Write a whole-slide-sized scan WIDTHxHEIGHT (with --layout
    /// tiled-bigtiff): a mosaic of independently simulated blocks of
    /// --size, written tile by tile without holding the scan in memory.
    #[arg(long, value_parser = crate::simulate::params::parse_size)]
    pub mosaic: Option<(usize, usize)>,
    /// Simulation parameters.
    #[command(flatten)]
    pub params: SimParams,
}

/// `fishscore evaluate`.
#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {
    /// A truth folder (holding truth.json), or a root of such folders.
    pub truth: PathBuf,
    /// The matching result folder, or root of result folders (same names).
    pub result: PathBuf,
    /// Also write the JSON to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `fishscore analyze`.
#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// Image files; several files are fields of one case (multi-page TIFF,
    /// OME-TIFF, BigTIFF, RGB composite).
    pub images: Vec<PathBuf>,
    /// One file per channel: the DAPI counterstain (with --target and --control).
    #[arg(long, requires_all = ["target", "control"])]
    pub dapi: Option<PathBuf>,
    /// One file per channel: the locus probe (e.g. MDM2).
    #[arg(long, requires_all = ["dapi", "control"])]
    pub target: Option<PathBuf>,
    /// One file per channel: the reference probe (e.g. CEP12).
    #[arg(long, requires_all = ["dapi", "target"])]
    pub control: Option<PathBuf>,
    /// Output folder (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Channel indices of DAPI, target and control in the file, e.g. 0,2,1
    /// (overrides channel names found in the file).
    #[arg(long, value_delimiter = ',', num_args = 3)]
    pub channels: Option<Vec<usize>>,
    /// Pixel size in um (overrides the file's metadata).
    #[arg(long)]
    pub pixel_size_um: Option<f64>,
    /// Pixel size in um used when neither --pixel-size-um nor the file gives one.
    #[arg(long, default_value_t = 0.1)]
    pub default_pixel_size_um: f64,
    /// Panel: a built-in name (mdm2-cep12, cdk4-cep12, her2-cep17,
    /// egfr-cep7) or a TOML file.
    #[arg(long, default_value = "mdm2-cep12")]
    pub panel: String,
    /// Nuclei to enumerate, MIN..MAX (default: the panel's, e.g. 50..100).
    #[arg(long)]
    pub nuclei: Option<String>,
    /// Seed of the enumeration order and the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Z-stack projection: max or edf.
    #[arg(long)]
    pub projection: Option<String>,
    /// Case identifier for the report (default: the output folder's name).
    #[arg(long)]
    pub case_id: Option<String>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print the time of each stage to stderr.
    #[arg(long)]
    pub timings: bool,
    /// Analyse a whole-slide scan tile by tile, with core tiles of this
    /// side in um (e.g. 100), in bounded memory; writes report.json,
    /// nuclei.csv, spots.csv and score_input.json (no images). Used
    /// automatically, with 100 um tiles, for an image above the one-field
    /// pixel limit (docs/performance.md).
    #[arg(long)]
    pub tile_um: Option<f64>,
}
