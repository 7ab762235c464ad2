//! A streaming writer of tiled 16-bit BigTIFF files (whole-slide scans):
//! tiles are compressed and appended as they are produced, in any order
//! and for any page, and the directories (IFDs) are written at the end, so
//! a scan far larger than memory is written holding one tile at a time.
//!
//! The tiff crate's encoder writes strips only, so the (simple) BigTIFF
//! structure is written here: an 16-byte header, tile data, then per page
//! an IFD of 20-byte entries (TIFF 6.0 section 15 "Tiled images";
//! BigTIFF: <https://www.awaresystems.be/imaging/tiff/bigtiff.html>).

use super::atomic::temp_path;
use super::error::IoError;
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Tile compression of [`TiledWriter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileCompression {
    /// Uncompressed tiles.
    None,
    /// Deflate (zlib) tiles, TIFF code 8.
    Deflate,
}

/// Tile offsets and byte counts of one page.
struct PageTiles {
    offsets: Vec<u64>,
    counts: Vec<u64>,
}

/// Writes a tiled BigTIFF of `pages` grey uint16 pages.
pub struct TiledWriter {
    out: BufWriter<File>,
    tmp: PathBuf,
    path: PathBuf,
    width: u32,
    height: u32,
    tile: u32,
    pages: Vec<PageTiles>,
    pos: u64,
    compression: TileCompression,
    description: String,
    pixel_size_um: Option<f64>,
}

impl TiledWriter {
    /// Starts `path` (written to a temporary file, renamed by
    /// [`TiledWriter::finish`]): `width` x `height` pixels, square tiles of
    /// `tile` pixels (a multiple of 16, as TIFF requires), `pages` pages.
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        path: &Path,
        width: u32,
        height: u32,
        tile: u32,
        pages: usize,
        compression: TileCompression,
        description: &str,
        pixel_size_um: Option<f64>,
    ) -> Result<Self, IoError> {
        if tile == 0 || !tile.is_multiple_of(16) {
            return Err(IoError::write(
                path,
                format!("tile size {tile} is not a multiple of 16"),
            ));
        }
        if width == 0 || height == 0 || pages == 0 {
            return Err(IoError::write(path, "empty image"));
        }
        let tmp = temp_path(path);
        let f = File::create(&tmp).map_err(|e| IoError::write(path, e))?;
        let mut out = BufWriter::with_capacity(1 << 20, f);
        // Header: byte order, version 43, offset size 8, 0, first IFD (patched).
        let mut h = Vec::with_capacity(16);
        h.extend_from_slice(b"II");
        h.extend_from_slice(&43u16.to_le_bytes());
        h.extend_from_slice(&8u16.to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(&0u64.to_le_bytes());
        out.write_all(&h).map_err(|e| IoError::write(path, e))?;
        let n = (width.div_ceil(tile) as usize) * (height.div_ceil(tile) as usize);
        Ok(TiledWriter {
            out,
            tmp,
            path: path.to_path_buf(),
            width,
            height,
            tile,
            pages: (0..pages)
                .map(|_| PageTiles {
                    offsets: vec![0; n],
                    counts: vec![0; n],
                })
                .collect(),
            pos: 16,
            compression,
            description: description.to_string(),
            pixel_size_um,
        })
    }

    /// Tiles across and down.
    pub fn grid(&self) -> (u32, u32) {
        (
            self.width.div_ceil(self.tile),
            self.height.div_ceil(self.tile),
        )
    }

    /// Tile edge in pixels.
    pub fn tile(&self) -> u32 {
        self.tile
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), IoError> {
        self.out
            .write_all(bytes)
            .map_err(|e| IoError::write(&self.path, e))?;
        self.pos += bytes.len() as u64;
        Ok(())
    }

    /// Writes tile (`tx`, `ty`) of `page`: `tile * tile` values row-major
    /// (pixels beyond the image edge are padding and should be 0).
    pub fn write_tile(
        &mut self,
        page: usize,
        tx: u32,
        ty: u32,
        data: &[u16],
    ) -> Result<(), IoError> {
        let (across, down) = self.grid();
        let t = self.tile as usize;
        if page >= self.pages.len() || tx >= across || ty >= down || data.len() != t * t {
            return Err(IoError::write(
                &self.path,
                format!("bad tile {page}/{tx}/{ty}"),
            ));
        }
        let raw: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        let bytes = match self.compression {
            TileCompression::None => raw,
            TileCompression::Deflate => {
                let mut z = flate2::write::ZlibEncoder::new(
                    Vec::with_capacity(raw.len() / 2),
                    flate2::Compression::fast(),
                );
                z.write_all(&raw)
                    .map_err(|e| IoError::write(&self.path, e))?;
                z.finish().map_err(|e| IoError::write(&self.path, e))?
            }
        };
        let i = (ty * across + tx) as usize;
        self.pages[page].offsets[i] = self.pos;
        self.pages[page].counts[i] = bytes.len() as u64;
        self.put(&bytes)
    }

    /// Cuts tile (`tx`, `ty`) out of a row-major block of `bw` x `bh`
    /// values whose top-left pixel is at (`bx`, `by`) in the image, padding
    /// with 0 beyond the image; the block must cover the tile's pixels
    /// inside the image.
    pub fn tile_from_block(
        &self,
        block: &[u16],
        bx: u32,
        by: u32,
        bw: u32,
        tx: u32,
        ty: u32,
    ) -> Vec<u16> {
        let t = self.tile;
        let mut out = vec![0u16; (t * t) as usize];
        for row in 0..t {
            let gy = ty * t + row;
            if gy >= self.height || gy < by {
                continue;
            }
            for col in 0..t {
                let gx = tx * t + col;
                if gx >= self.width || gx < bx || gx - bx >= bw {
                    continue;
                }
                let i = ((gy - by) * bw + (gx - bx)) as usize;
                if let Some(&v) = block.get(i) {
                    out[(row * t + col) as usize] = v;
                }
            }
        }
        out
    }

    /// Writes the directories, patches the header and renames the file
    /// into place. Fails if a tile was never written.
    pub fn finish(mut self) -> Result<(), IoError> {
        let result = self.finish_inner();
        if result.is_err() {
            let _ = std::fs::remove_file(&self.tmp);
        }
        result
    }

    fn finish_inner(&mut self) -> Result<(), IoError> {
        if let Some(p) = self.pages.iter().position(|p| p.counts.contains(&0)) {
            return Err(IoError::write(
                &self.path,
                format!("page {p} has tiles never written"),
            ));
        }
        // Word-align, then the IFDs in page order, each followed by its
        // out-of-line values.
        if self.pos % 2 == 1 {
            self.put(&[0])?;
        }
        let first_ifd = self.pos;
        let n_pages = self.pages.len();
        for p in 0..n_pages {
            let ifd = self.ifd_bytes(p, p + 1 < n_pages);
            self.put(&ifd)?;
        }
        self.out
            .flush()
            .map_err(|e| IoError::write(&self.path, e))?;
        let f = self.out.get_mut();
        f.seek(SeekFrom::Start(8))
            .and_then(|_| f.write_all(&first_ifd.to_le_bytes()))
            .and_then(|_| f.sync_all())
            .map_err(|e| IoError::write(&self.path, e))?;
        std::fs::rename(&self.tmp, &self.path).map_err(|e| IoError::write(&self.path, e))
    }

    /// The IFD of page `p` starting at `self.pos`, with its out-of-line
    /// values after the entries; `more` links a next IFD right after.
    fn ifd_bytes(&self, p: usize, more: bool) -> Vec<u8> {
        // (tag, type, count, inline value or out-of-line bytes)
        enum V {
            Short(u16),
            Long(u32),
            Bytes(u16, u64, Vec<u8>),
        }
        let mut e: Vec<(u16, V)> = vec![
            (256, V::Long(self.width)),
            (257, V::Long(self.height)),
            (258, V::Short(16)),
            (
                259,
                V::Short(match self.compression {
                    TileCompression::None => 1,
                    TileCompression::Deflate => 8,
                }),
            ),
            (262, V::Short(1)),
        ];
        if p == 0 && !self.description.is_empty() {
            let mut d = self.description.clone().into_bytes();
            d.push(0);
            e.push((270, V::Bytes(2, d.len() as u64, d)));
        }
        e.push((277, V::Short(1)));
        if let Some(px) = self.pixel_size_um {
            let r = super::tiff_write::resolution_bytes(px);
            e.push((282, V::Bytes(5, 1, r.clone())));
            e.push((283, V::Bytes(5, 1, r)));
        }
        e.push((284, V::Short(1)));
        if self.pixel_size_um.is_some() {
            e.push((296, V::Short(3)));
        }
        e.push((322, V::Long(self.tile)));
        e.push((323, V::Long(self.tile)));
        let pg = &self.pages[p];
        let n = pg.offsets.len() as u64;
        let l8 = |v: &[u64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        e.push((324, V::Bytes(16, n, l8(&pg.offsets))));
        e.push((325, V::Bytes(16, n, l8(&pg.counts))));
        e.push((339, V::Short(1)));
        let entries = e.len() as u64;
        let ifd_len = 8 + entries * 20 + 8;
        let mut extra_pos = self.pos + ifd_len;
        let mut head = Vec::with_capacity(ifd_len as usize);
        let mut extra = Vec::new();
        head.extend_from_slice(&entries.to_le_bytes());
        for (tag, v) in e {
            head.extend_from_slice(&tag.to_le_bytes());
            match v {
                V::Short(s) => {
                    head.extend_from_slice(&3u16.to_le_bytes());
                    head.extend_from_slice(&1u64.to_le_bytes());
                    let mut b = [0u8; 8];
                    b[..2].copy_from_slice(&s.to_le_bytes());
                    head.extend_from_slice(&b);
                }
                V::Long(l) => {
                    head.extend_from_slice(&4u16.to_le_bytes());
                    head.extend_from_slice(&1u64.to_le_bytes());
                    let mut b = [0u8; 8];
                    b[..4].copy_from_slice(&l.to_le_bytes());
                    head.extend_from_slice(&b);
                }
                V::Bytes(ty, count, bytes) => {
                    head.extend_from_slice(&ty.to_le_bytes());
                    head.extend_from_slice(&count.to_le_bytes());
                    if bytes.len() <= 8 {
                        let mut b = [0u8; 8];
                        b[..bytes.len()].copy_from_slice(&bytes);
                        head.extend_from_slice(&b);
                    } else {
                        head.extend_from_slice(&extra_pos.to_le_bytes());
                        let mut bytes = bytes;
                        if bytes.len() % 2 == 1 {
                            bytes.push(0);
                        }
                        extra_pos += bytes.len() as u64;
                        extra.extend_from_slice(&bytes);
                    }
                }
            }
        }
        let next = if more { extra_pos } else { 0 };
        head.extend_from_slice(&next.to_le_bytes());
        head.extend_from_slice(&extra);
        head
    }
}

/// Writes `pages` (each `width * height` values, row-major) as a tiled
/// BigTIFF in one go (small images; large scans use [`TiledWriter`]).
#[allow(clippy::too_many_arguments)]
pub fn write_tiled_bigtiff(
    path: &Path,
    width: usize,
    height: usize,
    tile: u32,
    pages: &[Vec<u16>],
    compression: TileCompression,
    description: &str,
    pixel_size_um: Option<f64>,
) -> Result<(), IoError> {
    let mut w = TiledWriter::create(
        path,
        width as u32,
        height as u32,
        tile,
        pages.len(),
        compression,
        description,
        pixel_size_um,
    )?;
    let (across, down) = w.grid();
    for (p, data) in pages.iter().enumerate() {
        for ty in 0..down {
            for tx in 0..across {
                let t = w.tile_from_block(data, 0, 0, width as u32, tx, ty);
                w.write_tile(p, tx, ty, &t)?;
            }
        }
    }
    w.finish()
}
