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
    /// Write a synthetic case (images + exact ground truth), or a whole
    /// benchmark set from a recipe file.
    Simulate(Box<SimulateArgs>),
    /// Measure a result folder against simulator ground truth; prints JSON.
    Evaluate(EvaluateArgs),
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
