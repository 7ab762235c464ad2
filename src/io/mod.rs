//! Slides in, files out: TIFF reading with decoding limits, atomic writers.

pub mod atomic;
pub mod error;
pub mod tiff_read;
pub mod tiff_write;

pub use error::IoError;
