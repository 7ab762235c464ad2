//! Region reading of (Big)TIFF files, tiled or stripped: any rectangle of
//! any page is decoded from the tiles or strips it touches and nothing
//! else, so a whole-slide scan far larger than memory can be read piece by
//! piece. Peak memory of [`TiffReader::read_region`] is the region itself
//! plus one decoded chunk (one tile, or one strip of the full width).
//!
//! Every page is described on open ([`PageInfo`]); a page fishscore
//! cannot decode (palette colours, 1-bit, an unknown compression) is
//! listed with the reason, and the error is raised only when that page is
//! actually read.

use super::error::{one_line, IoError};
use super::tiff_read::DecodeLimits;
use ndarray::Array2;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use tiff::decoder::{ifd::Value, ChunkType, Decoder, DecodingResult, Limits};
use tiff::tags::{PhotometricInterpretation, PlanarConfiguration, SampleFormat, Tag};
use tiff::ColorType;

/// Number type of the stored samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleKind {
    /// Unsigned integer.
    Uint,
    /// Signed integer.
    Int,
    /// IEEE floating point.
    Float,
}

/// How a page's pixels are cut into separately compressed chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkLayout {
    /// Horizontal strips of `rows` full-width rows.
    Strips {
        /// Rows per strip.
        rows: u32,
    },
    /// Rectangular tiles.
    Tiles {
        /// Tile width in pixels.
        width: u32,
        /// Tile height in pixels.
        height: u32,
    },
}

/// What one page (IFD) holds.
#[derive(Debug, Clone, PartialEq)]
pub struct PageInfo {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Samples returned per pixel: 1 (grey), 3 (RGB; alpha dropped) or
    /// n (a grey page of n interleaved or planar channels).
    pub samples: usize,
    /// The samples are red, green and blue (not independent channels).
    pub rgb: bool,
    /// Samples stored per pixel (3 for RGB, 4 for RGBA, ...).
    pub stored_samples: usize,
    /// Bits per sample.
    pub bits: u8,
    /// Number type of the samples.
    pub kind: SampleKind,
    /// Tiles or strips.
    pub chunks: ChunkLayout,
    /// Samples stored in separate planes (PlanarConfiguration 2).
    pub planar: bool,
    /// TIFF compression code.
    pub compression: u16,
    /// A reduced-resolution copy (NewSubfileType bit 0: thumbnail or
    /// pyramid level).
    pub reduced: bool,
    /// WhiteIsZero grey: values are inverted on reading.
    pub inverted: bool,
    /// Why this page cannot be decoded, if it cannot.
    pub problem: Option<String>,
}

impl PageInfo {
    /// Number of pixels.
    pub fn pixels(&self) -> u64 {
        self.width as u64 * self.height as u64
    }

    /// "uint16", "float32", ...
    pub fn sample_type(&self) -> String {
        let k = match self.kind {
            SampleKind::Uint => "uint",
            SampleKind::Int => "int",
            SampleKind::Float => "float",
        };
        format!("{k}{}", self.bits)
    }

    /// "tiles 512x512" or "strips of 16 rows".
    pub fn chunk_text(&self) -> String {
        match self.chunks {
            ChunkLayout::Tiles { width, height } => format!("tiles {width}x{height}"),
            ChunkLayout::Strips { rows } => format!("strips of {rows} rows"),
        }
    }

    /// Largest value the samples can hold (integers), used to find
    /// saturation; `None` for floats.
    pub fn max_value(&self) -> Option<f64> {
        match self.kind {
            SampleKind::Uint => Some(2f64.powi(self.bits as i32) - 1.0),
            SampleKind::Int => Some(2f64.powi(self.bits as i32 - 1) - 1.0),
            SampleKind::Float => None,
        }
    }
}

/// Name of a TIFF compression code, and whether the decoder reads it.
pub fn compression_name(code: u16) -> (&'static str, bool) {
    match code {
        1 => ("none", true),
        5 => ("LZW", true),
        7 => ("JPEG", true),
        8 | 32946 => ("Deflate", true),
        32773 => ("PackBits", true),
        2 => ("CCITT RLE", false),
        3 => ("CCITT Group 3 fax", false),
        4 => ("CCITT Group 4 fax", false),
        6 => ("old-style JPEG", false),
        33003 | 33005 | 34712 => ("JPEG 2000", false),
        34887 => ("LERC", false),
        34925 => ("LZMA", false),
        50000 => ("Zstandard", false),
        50001 | 34927 => ("WebP", false),
        50002 => ("JPEG XL", false),
        _ => ("unknown", false),
    }
}

/// Turns a tiff crate error into a one-line problem for the user.
pub fn tiff_problem(e: &tiff::TiffError) -> String {
    let msg = one_line(&e.to_string());
    match e {
        tiff::TiffError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the file is truncated (it ends before the image data does)".into()
        }
        tiff::TiffError::FormatError(_) => format!("not a readable TIFF file ({msg})"),
        tiff::TiffError::UnsupportedError(_) => format!("unsupported TIFF feature ({msg})"),
        tiff::TiffError::LimitsExceeded => {
            "a TIFF structure exceeds the decoding limits (too large to decode)".into()
        }
        _ => format!("cannot decode TIFF ({msg})"),
    }
}

/// Largest value array of one IFD entry accepted (tile offsets of a
/// 90,000 x 90,000 scan in 256-pixel tiles take 1 MiB).
const IFD_VALUE_BYTES: usize = 64 << 20;

/// An open TIFF or BigTIFF file that reads pages and regions on demand.
pub struct TiffReader {
    path: PathBuf,
    dec: Decoder<BufReader<File>>,
    current: usize,
    pages: Vec<PageInfo>,
    bigtiff: bool,
    description: Option<String>,
    resolution_um: Option<(f64, f64, u16)>,
    imagej_labels: Option<Vec<String>>,
    limits: DecodeLimits,
}

impl std::fmt::Debug for TiffReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TiffReader")
            .field("path", &self.path)
            .field("pages", &self.pages.len())
            .finish()
    }
}

/// ImageJ's private tags: IJMetadataByteCounts and IJMetadata.
const IJ_BYTE_COUNTS: u16 = 50838;
const IJ_METADATA: u16 = 50839;

/// The "labl" entries of ImageJ's IJMetadata tag (written by ImageJ/Fiji
/// and tifffile): a header of the magic "IJIJ" and (type, count) pairs,
/// then the entries, whose lengths are in IJMetadataByteCounts; integers
/// and the UTF-16 labels are in the file's byte order. `None` when absent
/// or malformed (the labels are a convenience, never required).
fn read_imagej_labels<R: Read + std::io::Seek>(dec: &mut Decoder<R>) -> Option<Vec<String>> {
    let counts = dec
        .find_tag(Tag::Unknown(IJ_BYTE_COUNTS))
        .ok()??
        .into_u32_vec()
        .ok()?;
    let data = dec
        .find_tag(Tag::Unknown(IJ_METADATA))
        .ok()??
        .into_u8_vec()
        .ok()?;
    let big = matches!(dec.byte_order(), tiff::tags::ByteOrder::BigEndian);
    parse_imagej_labels(&counts, &data, big)
}

/// [`read_imagej_labels`] on the two tags' values.
pub fn parse_imagej_labels(counts: &[u32], data: &[u8], big: bool) -> Option<Vec<String>> {
    let u32_at = |i: usize| -> Option<u32> {
        let b: [u8; 4] = data.get(i..i.checked_add(4)?)?.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let header = *counts.first()? as usize;
    if header < 12 || header > data.len() || u32_at(0)? != 0x494a_494a {
        return None;
    }
    let (mut item, mut offset) = (1usize, header);
    let mut labels = Vec::new();
    for h in (4..header - 7).step_by(8) {
        let (kind, n) = (u32_at(h)?, u32_at(h + 4)? as usize);
        for _ in 0..n {
            let len = *counts.get(item)? as usize;
            let bytes = data.get(offset..offset.checked_add(len)?)?;
            if kind == 0x6c61_626c {
                // "labl"
                let units: Vec<u16> = bytes
                    .chunks_exact(2)
                    .map(|c| {
                        if big {
                            u16::from_be_bytes([c[0], c[1]])
                        } else {
                            u16::from_le_bytes([c[0], c[1]])
                        }
                    })
                    .collect();
                labels.push(String::from_utf16_lossy(&units));
            }
            item += 1;
            offset += len;
        }
    }
    (!labels.is_empty()).then_some(labels)
}

fn value_f64(v: &Value) -> Option<f64> {
    match *v {
        Value::Rational(n, d) if d != 0 => Some(n as f64 / d as f64),
        Value::SRational(n, d) if d != 0 => Some(n as f64 / d as f64),
        Value::Float(f) => Some(f as f64),
        Value::Double(f) => Some(f),
        Value::Short(s) => Some(s as f64),
        Value::Unsigned(u) => Some(u as f64),
        _ => None,
    }
}

impl TiffReader {
    /// Opens `path` and describes every page. Fails on a missing file, a
    /// directory, a file that is not TIFF, or a broken page chain.
    pub fn open(path: &Path, limits: &DecodeLimits) -> Result<Self, IoError> {
        if path.is_dir() {
            return Err(IoError::Open {
                path: path.to_path_buf(),
                problem: "is a directory, not an image file".into(),
            });
        }
        let mut file = File::open(path).map_err(|e| IoError::open(path, &e))?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let bad = |p: String| IoError::format(path, p);
        if len == 0 {
            return Err(bad("the file is empty".into()));
        }
        let mut magic = [0u8; 4];
        let got = file.read(&mut magic).unwrap_or(0);
        let tiff_magic = matches!(
            &magic[..got.min(4)],
            [b'I', b'I', 42, 0] | [b'M', b'M', 0, 42] | [b'I', b'I', 43, 0] | [b'M', b'M', 0, 43]
        );
        if !tiff_magic {
            return Err(bad(format!(
                "not a TIFF file ({}; a TIFF starts with II*\\0 or MM\\0*)",
                sniff(&magic[..got.min(4)], len)
            )));
        }
        let bigtiff = magic[2] == 43 || magic[3] == 43;
        if len < 16 {
            return Err(bad(format!(
                "the file is truncated ({len} bytes, too short for a TIFF header and directory)"
            )));
        }
        let file = File::open(path).map_err(|e| IoError::open(path, &e))?;
        let mut tl = Limits::default();
        tl.decoding_buffer_size = limits.max_chunk_bytes.min(usize::MAX as u64) as usize;
        tl.intermediate_buffer_size = limits.max_chunk_bytes.min(usize::MAX as u64) as usize;
        tl.ifd_value_size = IFD_VALUE_BYTES;
        let mut dec = Decoder::new(BufReader::new(file))
            .map_err(|e| bad(tiff_problem(&e)))?
            .with_limits(tl);
        let description = match dec.find_tag(Tag::ImageDescription) {
            Ok(Some(v)) => v.into_string().ok(),
            _ => None,
        };
        let resolution_um = read_resolution(&mut dec);
        let imagej_labels = read_imagej_labels(&mut dec);
        let mut pages = Vec::new();
        loop {
            let info =
                page_info(&mut dec).map_err(|p| bad(format!("page {}: {p}", pages.len())))?;
            pages.push(info);
            if !dec.more_images() {
                break;
            }
            if pages.len() >= limits.max_pages {
                return Err(bad(format!(
                    "more than {} pages (the page limit)",
                    limits.max_pages
                )));
            }
            dec.next_image()
                .map_err(|e| bad(format!("page {}: {}", pages.len(), tiff_problem(&e))))?;
        }
        let current = pages.len() - 1;
        Ok(TiffReader {
            path: path.to_path_buf(),
            dec,
            current,
            pages,
            bigtiff,
            description,
            resolution_um,
            imagej_labels,
            limits: *limits,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every page, in file order.
    pub fn pages(&self) -> &[PageInfo] {
        &self.pages
    }

    /// True for BigTIFF (64-bit offsets).
    pub fn is_bigtiff(&self) -> bool {
        self.bigtiff
    }

    /// The first page's ImageDescription (OME-XML, ImageJ or simulator
    /// metadata), if any.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The slice labels of an ImageJ hyperstack (Fiji's channel names:
    /// one per image, channel fastest), from the IJMetadata tag.
    pub fn imagej_labels(&self) -> Option<&[String]> {
        self.imagej_labels.as_deref()
    }

    /// The first page's resolution tags as (pixels per unit along X, along
    /// Y, ResolutionUnit code: 1 none, 2 inch, 3 cm).
    pub fn resolution(&self) -> Option<(f64, f64, u16)> {
        self.resolution_um
    }

    /// The limits this reader enforces.
    pub fn limits(&self) -> &DecodeLimits {
        &self.limits
    }

    fn err(&self, problem: impl Into<String>) -> IoError {
        IoError::format(&self.path, problem)
    }

    fn select(&mut self, page: usize) -> Result<&PageInfo, IoError> {
        let Some(info) = self.pages.get(page) else {
            return Err(self.err(format!(
                "page {page} requested but the file has {} pages",
                self.pages.len()
            )));
        };
        if let Some(p) = &info.problem {
            return Err(self.err(format!("page {page}: {p}")));
        }
        if self.current != page {
            self.dec.seek_to_image(page).map_err(|e| {
                IoError::format(&self.path, format!("page {page}: {}", tiff_problem(&e)))
            })?;
            self.current = page;
        }
        Ok(&self.pages[page])
    }

    /// Reads the rectangle `x, y, w, h` (pixels) of `page`, one array per
    /// colour sample (1 for grey, 3 for RGB), decoding only the chunks it
    /// touches. Values are converted to f32 (WhiteIsZero inverted); NaN or
    /// infinite values are an error.
    pub fn read_region(
        &mut self,
        page: usize,
        x: u32,
        y: u32,
        w: u32,
        h: u32,
    ) -> Result<Vec<Array2<f32>>, IoError> {
        let info = self.select(page)?.clone();
        let (pw, ph) = (info.width, info.height);
        if w == 0 || h == 0 || x as u64 + w as u64 > pw as u64 || y as u64 + h as u64 > ph as u64 {
            return Err(self.err(format!(
                "region {x},{y} {w}x{h} lies outside page {page} ({pw} x {ph})"
            )));
        }
        let region_bytes = w as u64 * h as u64 * info.samples as u64 * 4;
        if region_bytes > self.limits.max_bytes {
            return Err(self.err(format!(
                "a {w} x {h} region needs {region_bytes} bytes, above the limit of {} bytes",
                self.limits.max_bytes
            )));
        }
        let (cw, ch) = match info.chunks {
            ChunkLayout::Tiles { width, height } => (width, height),
            ChunkLayout::Strips { rows } => (pw, rows),
        };
        let across = pw.div_ceil(cw) as u64;
        let down = ph.div_ceil(ch) as u64;
        let planes = if info.planar { info.stored_samples } else { 1 };
        let per_chunk = if info.planar { 1 } else { info.stored_samples };
        let mut out: Vec<Array2<f32>> = (0..info.samples)
            .map(|_| Array2::zeros((h as usize, w as usize)))
            .collect();
        let (r0, r1) = (y / ch, (y + h - 1) / ch);
        let (c0, c1) = (x / cw, (x + w - 1) / cw);
        for r in r0..=r1 {
            for c in c0..=c1 {
                for p in 0..planes {
                    if info.planar && p >= info.samples {
                        continue;
                    }
                    let idx = p as u64 * across * down + r as u64 * across + c as u64;
                    let idx = u32::try_from(idx)
                        .map_err(|_| self.err(format!("page {page}: too many chunks")))?;
                    let data = self.dec.read_chunk(idx).map_err(|e| {
                        IoError::format(
                            &self.path,
                            format!("page {page}, chunk {idx}: {}", tiff_problem(&e)),
                        )
                    })?;
                    let vals =
                        to_f32(data, &info).map_err(|e| self.err(format!("page {page}: {e}")))?;
                    // Width of the decoded chunk: a tile without its right
                    // padding, or the full width of a strip.
                    let (cx, cy) = (c as u64 * cw as u64, r as u64 * ch as u64);
                    let dw = (pw as u64 - cx).min(cw as u64) as usize;
                    let row_len = dw * per_chunk;
                    if row_len == 0 || vals.len() % row_len != 0 {
                        return Err(self.err(format!(
                            "page {page}, chunk {idx}: decoded {} values, not whole rows of {dw} pixels",
                            vals.len()
                        )));
                    }
                    let rows = vals.len() / row_len;
                    // The part of the region inside this chunk.
                    let (x, y, w, h) = (x as u64, y as u64, w as u64, h as u64);
                    let gx0 = cx.max(x);
                    let gx1 = (cx + dw as u64).min(x + w);
                    let gy0 = cy.max(y);
                    let gy1 = (cy + ch as u64).min(y + h).min(ph as u64);
                    if (gy1 - cy) as usize > rows {
                        return Err(self.err(format!(
                            "page {page}, chunk {idx}: decoded {rows} rows, fewer than the image needs"
                        )));
                    }
                    for gy in gy0..gy1 {
                        let src_row = (gy - cy) as usize * row_len;
                        let oy = (gy - y) as usize;
                        for gx in gx0..gx1 {
                            let sp = src_row + (gx - cx) as usize * per_chunk;
                            let ox = (gx - x) as usize;
                            if info.planar {
                                out[p][[oy, ox]] = vals[sp];
                            } else {
                                for (s, o) in out.iter_mut().enumerate() {
                                    o[[oy, ox]] = vals[sp + s];
                                }
                            }
                        }
                    }
                }
            }
        }
        if out.iter().any(|a| a.iter().any(|v| !v.is_finite())) {
            return Err(self.err(format!("page {page} holds NaN or infinite values")));
        }
        Ok(out)
    }

    /// Reads a whole page (one array per colour sample), refusing pages
    /// above the pixel limit.
    pub fn read_page(&mut self, page: usize) -> Result<Vec<Array2<f32>>, IoError> {
        let (w, h) = match self.pages.get(page) {
            Some(i) => (i.width, i.height),
            None => return self.select(page).map(|_| Vec::new()),
        };
        let px = w as u64 * h as u64;
        if px > self.limits.max_pixels {
            return Err(self.err(format!(
                "page {page} is {w} x {h} pixels, above the limit of {} pixels for reading at once",
                self.limits.max_pixels
            )));
        }
        self.read_region(page, 0, 0, w, h)
    }
}

/// A short description of what a non-TIFF file looks like.
fn sniff(magic: &[u8], len: u64) -> String {
    match magic {
        _ if len < 4 => format!("only {len} bytes"),
        [0x89, b'P', b'N', b'G', ..] => "it is a PNG image".into(),
        [0xFF, 0xD8, 0xFF, ..] => "it is a JPEG image".into(),
        [b'B', b'M', ..] => "it is a BMP image".into(),
        [b'P', b'K', ..] => "it is a ZIP archive".into(),
        [b'I', b'I', ..] | [b'M', b'M', ..] => "the TIFF version number is wrong".into(),
        _ => format!(
            "it starts with bytes {}",
            magic
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

fn read_resolution<R: std::io::Read + std::io::Seek>(
    dec: &mut Decoder<R>,
) -> Option<(f64, f64, u16)> {
    let unit = dec
        .find_tag_unsigned::<u16>(Tag::ResolutionUnit)
        .ok()
        .flatten()
        .unwrap_or(2);
    let x = value_f64(&dec.find_tag(Tag::XResolution).ok().flatten()?)?;
    let y = dec
        .find_tag(Tag::YResolution)
        .ok()
        .flatten()
        .and_then(|v| value_f64(&v))
        .unwrap_or(x);
    (x.is_finite() && x > 0.0 && y.is_finite() && y > 0.0).then_some((x, y, unit))
}

/// Describes the decoder's current page; `Err` only for a page so broken
/// that nothing about it can be said.
fn page_info<R: std::io::Read + std::io::Seek>(dec: &mut Decoder<R>) -> Result<PageInfo, String> {
    let (width, height) = dec.dimensions().map_err(|e| tiff_problem(&e))?;
    let tag_u = |dec: &mut Decoder<R>, t: Tag| dec.find_tag_unsigned::<u32>(t).ok().flatten();
    let compression = dec
        .find_tag_unsigned::<u16>(Tag::Compression)
        .ok()
        .flatten()
        .unwrap_or(1);
    let reduced = tag_u(dec, Tag::NewSubfileType).unwrap_or(0) & 1 == 1;
    let planar =
        tag_u(dec, Tag::PlanarConfiguration) == Some(PlanarConfiguration::Planar.to_u16() as u32);
    let stored_samples = tag_u(dec, Tag::SamplesPerPixel).unwrap_or(1).max(1) as usize;
    let photometric = dec
        .find_tag_unsigned::<u16>(Tag::PhotometricInterpretation)
        .ok()
        .flatten();
    let format = dec
        .find_tag_unsigned_vec::<u16>(Tag::SampleFormat)
        .ok()
        .flatten()
        .and_then(|v| v.first().copied())
        .unwrap_or(1);
    let kind = match SampleFormat::from_u16(format) {
        Some(SampleFormat::Int) => SampleKind::Int,
        Some(SampleFormat::IEEEFP) => SampleKind::Float,
        _ => SampleKind::Uint,
    };
    let chunks = match dec.get_chunk_type() {
        ChunkType::Tile => ChunkLayout::Tiles {
            width: tag_u(dec, Tag::TileWidth).unwrap_or(0),
            height: tag_u(dec, Tag::TileLength).unwrap_or(0),
        },
        ChunkType::Strip => ChunkLayout::Strips {
            rows: tag_u(dec, Tag::RowsPerStrip)
                .unwrap_or(height)
                .clamp(1, height.max(1)),
        },
    };
    let mut problem = None;
    let mut rgb = false;
    let (samples, bits) = match dec.colortype() {
        Ok(ColorType::Gray(b)) => (1, b),
        Ok(ColorType::GrayA(b)) => (1, b),
        Ok(ColorType::RGB(b)) | Ok(ColorType::RGBA(b)) => {
            rgb = true;
            (3, b)
        }
        Ok(ColorType::YCbCr(b)) if compression == 7 => {
            rgb = true;
            (3, b)
        }
        // Grey (BlackIsZero) pages with several samples per pixel: each
        // sample is a channel (e.g. a Y x X x C array written by tifffile).
        Ok(ColorType::Multiband {
            bit_depth,
            num_samples,
        }) if photometric != Some(PhotometricInterpretation::WhiteIsZero.to_u16()) => {
            (num_samples.max(1) as usize, bit_depth)
        }
        Ok(other) => {
            problem = Some(format!(
                "colour type {other:?} is not fluorescence data; fishscore reads grey or RGB pages"
            ));
            (1, 8)
        }
        Err(e) => {
            problem = Some(tiff_problem(&e));
            (1, 8)
        }
    };
    let (cname, supported) = compression_name(compression);
    if problem.is_none() && !supported {
        problem = Some(format!(
            "compression {cname} (code {compression}) is not supported; fishscore reads uncompressed, LZW, Deflate, PackBits and JPEG TIFF"
        ));
    }
    let float_ok = kind == SampleKind::Float && matches!(bits, 16 | 32 | 64);
    let int_ok = kind != SampleKind::Float && matches!(bits, 8 | 16 | 32 | 64);
    if problem.is_none() && !(float_ok || int_ok) {
        problem = Some(format!(
            "{bits}-bit samples are not supported; fishscore reads 8, 16, 32-bit integer and 16, 32, 64-bit float samples"
        ));
    }
    if let ChunkLayout::Tiles { width: 0, .. } | ChunkLayout::Tiles { height: 0, .. } = chunks {
        problem.get_or_insert_with(|| "tile size is 0".into());
    }
    let inverted = photometric == Some(PhotometricInterpretation::WhiteIsZero.to_u16());
    if inverted && kind != SampleKind::Uint {
        problem.get_or_insert_with(|| "inverted (WhiteIsZero) non-integer samples".into());
    }
    Ok(PageInfo {
        width,
        height,
        samples,
        rgb,
        stored_samples: if problem.is_none() {
            stored_samples.max(samples)
        } else {
            stored_samples
        },
        bits,
        kind,
        chunks,
        planar,
        compression,
        reduced,
        inverted,
        problem,
    })
}

/// Converts a decoded chunk to f32 values (WhiteIsZero inverted).
fn to_f32(data: DecodingResult, info: &PageInfo) -> Result<Vec<f32>, String> {
    let v: Vec<f32> = match data {
        DecodingResult::U8(v) => v.into_iter().map(f32::from).collect(),
        DecodingResult::U16(v) => v.into_iter().map(f32::from).collect(),
        DecodingResult::U32(v) => v.into_iter().map(|x| x as f32).collect(),
        DecodingResult::U64(v) => v.into_iter().map(|x| x as f32).collect(),
        DecodingResult::I8(v) => v.into_iter().map(f32::from).collect(),
        DecodingResult::I16(v) => v.into_iter().map(f32::from).collect(),
        DecodingResult::I32(v) => v.into_iter().map(|x| x as f32).collect(),
        DecodingResult::I64(v) => v.into_iter().map(|x| x as f32).collect(),
        DecodingResult::F16(v) => v.into_iter().map(|x| x.to_f32()).collect(),
        DecodingResult::F32(v) => v,
        DecodingResult::F64(v) => v.into_iter().map(|x| x as f32).collect(),
        #[allow(unreachable_patterns)]
        _ => return Err("sample type not supported".into()),
    };
    if info.inverted {
        let max = info.max_value().unwrap_or(0.0) as f32;
        return Ok(v.into_iter().map(|x| max - x).collect());
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::tiff_write::{write_gray_pages, GrayWriteOptions, PixelType, TiffCompression};
    use crate::io::tiled_write::{write_tiled_bigtiff, TileCompression};

    /// A deterministic test image: value = 7 x + 13 y + 1000 page.
    fn pattern(w: usize, h: usize, page: usize) -> Vec<u16> {
        (0..w * h)
            .map(|i| ((i % w) * 7 + (i / w) * 13 + 1000 * page) as u16)
            .collect()
    }

    fn check_region(r: &mut TiffReader, page: usize, w: usize, x: u32, y: u32, rw: u32, rh: u32) {
        let got = r.read_region(page, x, y, rw, rh).unwrap();
        assert_eq!(got.len(), 1);
        for yy in 0..rh as usize {
            for xx in 0..rw as usize {
                let gx = x as usize + xx;
                let gy = y as usize + yy;
                let want = (gx * 7 + gy * 13 + 1000 * page) as f32;
                assert_eq!(got[0][[yy, xx]], want, "page {page} at {gx},{gy}");
            }
        }
        let _ = w;
    }

    #[test]
    fn tiled_bigtiff_round_trip_and_regions_across_tiles() {
        let dir = tempfile::tempdir().unwrap();
        let (w, h) = (100usize, 70usize); // not multiples of the 32-pixel tile
        let pages: Vec<Vec<u16>> = (0..3).map(|p| pattern(w, h, p)).collect();
        for comp in [TileCompression::Deflate, TileCompression::None] {
            let f = dir.path().join(format!("t{comp:?}.tif"));
            write_tiled_bigtiff(&f, w, h, 32, &pages, comp, "{}", Some(0.1)).unwrap();
            let mut r = TiffReader::open(&f, &DecodeLimits::default()).unwrap();
            assert!(r.is_bigtiff());
            assert_eq!(r.pages().len(), 3);
            assert_eq!(
                r.pages()[1].chunks,
                ChunkLayout::Tiles {
                    width: 32,
                    height: 32
                }
            );
            let (xr, _, unit) = r.resolution().unwrap();
            assert_eq!(unit, 3);
            assert!((10_000.0 / xr - 0.1).abs() < 1e-6);
            for page in [2, 0, 1] {
                check_region(&mut r, page, w, 0, 0, 100, 70);
                check_region(&mut r, page, w, 30, 31, 5, 3); // crosses 4 tiles
                check_region(&mut r, page, w, 95, 60, 5, 10); // padded corner tile
            }
            assert!(r.read_region(0, 90, 0, 20, 5).is_err());
        }
    }

    #[test]
    fn stripped_files_in_every_compression_and_type() {
        let dir = tempfile::tempdir().unwrap();
        let (w, h) = (37usize, 29usize);
        let pages: Vec<Vec<u16>> = (0..2).map(|p| pattern(w, h, p)).collect();
        for comp in [
            TiffCompression::None,
            TiffCompression::Lzw,
            TiffCompression::Deflate,
            TiffCompression::Packbits,
        ] {
            for big in [false, true] {
                for pt in [PixelType::U16, PixelType::F32] {
                    let f = dir.path().join("s.tif");
                    let o = GrayWriteOptions {
                        compression: comp,
                        pixel_type: pt,
                        bigtiff: big,
                        rows_per_strip: Some(4),
                        ..Default::default()
                    };
                    write_gray_pages(&f, w, h, &pages, &o).unwrap();
                    let mut r = TiffReader::open(&f, &DecodeLimits::default()).unwrap();
                    assert_eq!(r.is_bigtiff(), big);
                    assert_eq!(r.pages()[0].chunks, ChunkLayout::Strips { rows: 4 });
                    check_region(&mut r, 1, w, 3, 2, 30, 9); // crosses 3 strips
                    check_region(&mut r, 0, w, 0, 0, 37, 29);
                }
            }
        }
    }

    #[test]
    fn bad_region_and_page_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.tif");
        write_gray_pages(&f, 8, 8, &[pattern(8, 8, 0)], &GrayWriteOptions::default()).unwrap();
        let mut r = TiffReader::open(&f, &DecodeLimits::default()).unwrap();
        assert!(r
            .read_region(1, 0, 0, 1, 1)
            .unwrap_err()
            .to_string()
            .contains("page 1"));
        assert!(r.read_region(0, 0, 0, 0, 1).is_err());
        assert!(r.read_region(0, 7, 7, 2, 1).is_err());
        let small = DecodeLimits {
            max_pixels: 10,
            ..Default::default()
        };
        let mut r = TiffReader::open(&f, &small).unwrap();
        assert!(r.read_page(0).unwrap_err().to_string().contains("limit"));
    }

    /// Big-endian IJMetadata as ImageJ itself writes it, with an "info"
    /// entry before the labels; truncated or foreign blobs give None.
    #[test]
    fn imagej_labels_big_endian_and_malformed() {
        let mut blob: Vec<u8> = Vec::new();
        blob.extend_from_slice(b"IJIJ");
        blob.extend_from_slice(b"info");
        blob.extend_from_slice(&1u32.to_be_bytes());
        blob.extend_from_slice(b"labl");
        blob.extend_from_slice(&2u32.to_be_bytes());
        let mut counts = vec![blob.len() as u32];
        let info: Vec<u8> = "x".encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        counts.push(info.len() as u32);
        blob.extend_from_slice(&info);
        for l in ["DAPI", "MDM2 µ"] {
            let u: Vec<u8> = l.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
            counts.push(u.len() as u32);
            blob.extend_from_slice(&u);
        }
        assert_eq!(
            parse_imagej_labels(&counts, &blob, true),
            Some(vec!["DAPI".to_string(), "MDM2 µ".to_string()])
        );
        assert_eq!(parse_imagej_labels(&counts, &blob[..30], true), None);
        assert_eq!(parse_imagej_labels(&counts, &blob, false), None);
        assert_eq!(parse_imagej_labels(&[], &blob, true), None);
    }
}
