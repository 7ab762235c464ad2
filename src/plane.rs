//! Core image types that carry their physical meaning: a [`Plane`] knows its
//! pixel size, a [`Field`] holds the three channels of one microscope field,
//! a [`Case`] is everything scored together for one specimen.

use ndarray::Array2;

/// A 2-D single-channel image in arbitrary linear intensity units (f32),
/// indexed `[[row, col]]` = `[[y, x]]`, with its pixel size in micrometres.
#[derive(Debug, Clone, PartialEq)]
pub struct Plane {
    /// Pixel values, shape `(height, width)`.
    pub data: Array2<f32>,
    /// Edge length of one (square) pixel in micrometres.
    pub pixel_size_um: f64,
}

impl Plane {
    /// A plane of zeros, `width` x `height` pixels.
    pub fn zeros(width: usize, height: usize, pixel_size_um: f64) -> Self {
        Plane {
            data: Array2::zeros((height, width)),
            pixel_size_um,
        }
    }

    /// Wraps an existing array (shape `(height, width)`).
    pub fn new(data: Array2<f32>, pixel_size_um: f64) -> Self {
        Plane {
            data,
            pixel_size_um,
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.data.ncols()
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.data.nrows()
    }

    /// Converts a length in micrometres to pixels of this plane.
    pub fn um_to_px(&self, um: f64) -> f64 {
        um / self.pixel_size_um
    }

    /// Converts an area in square micrometres to pixels of this plane.
    pub fn um2_to_px(&self, um2: f64) -> f64 {
        um2 / (self.pixel_size_um * self.pixel_size_um)
    }
}

/// Which role a channel plays in a locus/centromere FISH panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// Nuclear counterstain (DAPI, Hoechst).
    Dapi,
    /// Locus-specific probe (MDM2, red/orange).
    Target,
    /// Reference (centromere) probe (CEP12, green).
    Control,
}

impl Channel {
    /// The name used in file names and CSV columns.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Dapi => "dapi",
            Channel::Target => "target",
            Channel::Control => "control",
        }
    }

    /// The three channels in the default page order of a multi-page TIFF.
    pub const ALL: [Channel; 3] = [Channel::Dapi, Channel::Target, Channel::Control];
}

/// One microscope field: the DAPI counterstain and the two probe channels,
/// all of the same size and pixel size.
#[derive(Debug, Clone)]
pub struct Field {
    /// A name for reports (usually the file stem).
    pub name: String,
    /// Nuclear counterstain.
    pub dapi: Plane,
    /// Locus probe (e.g. MDM2).
    pub target: Plane,
    /// Reference probe (e.g. CEP12).
    pub control: Plane,
}

impl Field {
    /// The plane of one channel.
    pub fn channel(&self, c: Channel) -> &Plane {
        match c {
            Channel::Dapi => &self.dapi,
            Channel::Target => &self.target,
            Channel::Control => &self.control,
        }
    }

    /// Pixel size in micrometres (shared by the three planes).
    pub fn pixel_size_um(&self) -> f64 {
        self.dapi.pixel_size_um
    }
}

/// Everything scored together for one specimen: one or more fields whose
/// nuclei are pooled before enumeration.
#[derive(Debug, Clone)]
pub struct Case {
    /// Specimen / case identifier.
    pub id: String,
    /// The fields of the case, in the order given.
    pub fields: Vec<Field>,
}
