//! Whole-slide-sized test scans: a mosaic of independently simulated
//! blocks written tile by tile into one tiled BigTIFF, so a 30000 x 30000
//! x 3-channel scan is produced without ever holding it in memory.
//!
//! Simplification: each block is its own simulated field (its own seed,
//! nuclei cut at the block edges, its own autofluorescence pattern), so
//! the mosaic has visible seams at block borders and nuclei cut there; it
//! exercises reading, memory and throughput, not stitching. The truth of
//! block `i` (row-major) is the case `fishscore simulate --seed S_i` with
//! the same options and `--size` the block size, where
//! `S_i = seed * 1000003 + i` (listed in `mosaic.json`).

use super::{description, simulate, Layout, SimError, SimParams};
use crate::io::atomic::write_bytes_atomic;
use crate::io::tiled_write::{TileCompression, TiledWriter};
use crate::io::IoError;
use rayon::prelude::*;
use std::path::Path;

/// Largest mosaic side in pixels.
pub const MAX_MOSAIC_SIDE: usize = 200_000;

/// Seed of block `i` (row-major) of a mosaic with base seed `seed`.
pub fn block_seed(seed: u64, i: usize) -> u64 {
    seed.wrapping_mul(1_000_003).wrapping_add(i as u64)
}

/// Writes `image.tif` (tiled BigTIFF, `width` x `height`) and
/// `mosaic.json` into `dir`; blocks have the size of `p.size`.
pub fn write_mosaic(
    p: &SimParams,
    width: usize,
    height: usize,
    dir: &Path,
) -> Result<(), SimError> {
    p.validate().map_err(SimError::Params)?;
    if p.layout != Layout::TiledBigtiff {
        return Err(SimError::Params(
            "--mosaic writes a whole-slide scan: add --layout tiled-bigtiff".into(),
        ));
    }
    let (bw, bh) = p.size;
    let t = p.tile_size as usize;
    if bw % t != 0 || bh % t != 0 {
        return Err(SimError::Params(format!(
            "--mosaic needs a block --size that is a multiple of --tile-size {t}"
        )));
    }
    if !(16..=MAX_MOSAIC_SIDE).contains(&width) || !(16..=MAX_MOSAIC_SIDE).contains(&height) {
        return Err(SimError::Params(format!(
            "--mosaic sides must be 16-{MAX_MOSAIC_SIDE} pixels"
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| IoError::write(dir, e))?;
    let z = p.z_planes.max(1);
    let names = ["DAPI", "MDM2", "CEP12"];
    let path = dir.join("image.tif");
    let mut w = TiledWriter::create(
        &path,
        width as u32,
        height as u32,
        p.tile_size,
        3 * z,
        TileCompression::Deflate,
        &description(p, &names),
        Some(p.pixel_size_um),
    )?;
    let (nbx, nby) = (width.div_ceil(bw), height.div_ceil(bh));
    let blocks: Vec<(usize, usize, usize)> = (0..nby)
        .flat_map(|by| (0..nbx).map(move |bx| (by * nbx + bx, bx, by)))
        .collect();
    // Blocks are simulated in parallel batches and written in block order,
    // so the file is the same whatever the thread count.
    let batch = rayon::current_num_threads().max(1);
    for chunk in blocks.chunks(batch) {
        let cases: Vec<_> = chunk
            .par_iter()
            .map(|&(i, _, _)| {
                let mut q = p.clone();
                q.seed = block_seed(p.seed, i);
                simulate(&q)
            })
            .collect::<Result<_, _>>()?;
        for (case, &(_, bx, by)) in cases.iter().zip(chunk) {
            let (x0, y0) = (bx * bw, by * bh);
            let tx0 = (x0 / t) as u32;
            let ty0 = (y0 / t) as u32;
            let tx1 = ((x0 + bw).min(width)).div_ceil(t) as u32;
            let ty1 = ((y0 + bh).min(height)).div_ceil(t) as u32;
            for (c, planes) in case.images.iter().enumerate() {
                for (k, img) in planes.iter().enumerate() {
                    for ty in ty0..ty1 {
                        for tx in tx0..tx1 {
                            let tile =
                                w.tile_from_block(img, x0 as u32, y0 as u32, bw as u32, tx, ty);
                            w.write_tile(c * z + k, tx, ty, &tile)?;
                        }
                    }
                }
            }
        }
    }
    w.finish()?;
    let meta = serde_json::json!({
        "width": width,
        "height": height,
        "block_size": [bw, bh],
        "tile_size": p.tile_size,
        "channels": names,
        "z_planes": z,
        "pixel_size_um": p.pixel_size_um,
        "block_seed_rule": "seed * 1000003 + block index (row-major)",
        "blocks": blocks.iter().map(|&(i, bx, by)| serde_json::json!({
            "index": i, "x": bx * bw, "y": by * bh, "seed": block_seed(p.seed, i)
        })).collect::<Vec<_>>(),
        "note": "each block is an independent simulated field; regenerate block i's truth with `fishscore simulate --seed SEED_i --size BWxBH` and the same options",
    });
    let text = serde_json::to_string_pretty(&meta).map_err(|e| IoError::write(dir, e))?;
    write_bytes_atomic(&dir.join("mosaic.json"), text.as_bytes())?;
    Ok(())
}
