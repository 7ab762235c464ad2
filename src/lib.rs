//! fishscore: scores dual-colour FISH images (locus probe against a
//! centromere reference, e.g. MDM2/CEP12) for gene amplification.
//!
//! The pipeline reads left to right through the modules: [`io`] brings
//! slides in, `nuclei` segments DAPI, `spots` detects probe signals,
//! `scoring` enumerates nuclei and makes the call, `report` writes what a
//! cytogeneticist reads. [`simulate`] makes synthetic slides with exact
//! ground truth and [`evaluate`] measures any result against it.

pub mod batch;
pub mod cli;
pub mod evaluate;
pub mod filters;
pub mod io;
pub mod memory;
pub mod nuclei;
pub mod pipeline;
pub mod plane;
pub mod report;
pub mod rng;
pub mod run;
pub mod scan;
pub mod scoring;
pub mod simulate;
pub mod spots;

pub use plane::{Case, Channel, Field, Plane};

/// Program version, recorded in every output's provenance.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
