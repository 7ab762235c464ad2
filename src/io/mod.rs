//! Slides in, files out: TIFF / BigTIFF / OME-TIFF reading with decoding
//! limits ([`load`] is the pipeline's entry point, [`tiles`] reads regions
//! of whole-slide scans), z-stack projection, and the writers the
//! simulator uses for every supported layout.

pub mod atomic;
pub mod channels;
pub mod error;
pub mod load;
pub mod ome;
pub mod project;
pub mod tiff_read;
pub mod tiff_write;
pub mod tiled_write;
pub mod tiles;

pub use channels::ChannelAliases;
pub use error::IoError;
pub use load::{load_field, open_scan, FieldSource, InputInfo, LoadOptions, Scan};
pub use project::Projection;
pub use tiff_read::DecodeLimits;
