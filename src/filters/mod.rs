//! Generic image filters shared by the stages (and the simulator's optics).

pub mod gaussian;

pub use gaussian::gaussian_filter;
pub mod rank;
pub mod shift;

pub use shift::shift_bilinear;
