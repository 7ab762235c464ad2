//! Whole-slide scans, tile by tile, in bounded memory: the scan is cut
//! into core tiles, each read with an overlap margin wider than the
//! largest nucleus, analysed as a field (nuclei, then signals), and only
//! the nuclei whose centre lies in the tile's core are kept (with their
//! signals), so every nucleus is counted once, by the tile that owns its
//! centre, and is whole in that tile. Pixel data live only while their
//! tile is analysed: peak memory depends on the tile size and the thread
//! count, not on the scan's size. Scorability and scoring then run over
//! all kept nuclei as one case.
//!
//! Simplification: detection thresholds and the single-copy reference are
//! estimated per tile (as for separate fields), not over the whole scan.

use crate::io::load::{LoadOptions, Scan};
use crate::io::IoError;
use crate::nuclei::{self, Nucleus};
use crate::pipeline::{analyze_field, nucleus_counts, AnalyzeParams};
use crate::scoring::{self, NucleusCounts, Panel, Score};
use crate::spots::Signal;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Tiling of a scan (lengths in micrometres, turned into pixels with the
/// scan's pixel size).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScanParams {
    /// Side of a core tile, um. 100 um (1000 px at 0.1 um) keeps each
    /// tile's working set near 0.5 GB while the margin adds under 50 %.
    pub tile_um: f64,
    /// Overlap read around each core, um: must exceed the largest nucleus
    /// diameter so that a nucleus centred in the core is whole in the tile
    /// (20 um: nuclei of FFPE tissue are 6-15 um across).
    pub margin_um: f64,
}

impl ScanParams {
    /// Core side and margin in pixels of `pixel_size_um`.
    pub fn core_and_margin_px(&self, pixel_size_um: f64) -> (usize, usize) {
        let core = (self.tile_um / pixel_size_um).round().max(64.0) as usize;
        let margin = (self.margin_um / pixel_size_um).ceil() as usize;
        (core, margin)
    }
}

impl Default for ScanParams {
    fn default() -> Self {
        ScanParams {
            tile_um: 100.0,
            margin_um: 20.0,
        }
    }
}

/// One tile: the rectangle read (core plus margin, clipped to the scan)
/// and the core it owns, in scan pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tile {
    /// Read rectangle: left, top, width, height.
    pub read: [usize; 4],
    /// Owned core: left, top, right (exclusive), bottom (exclusive).
    pub core: [usize; 4],
}

impl Tile {
    /// Whether the point (scan pixels, pixel centres at integers) belongs
    /// to this tile's core; each point of the scan belongs to exactly one.
    pub fn owns(&self, x: f64, y: f64) -> bool {
        let [x0, y0, x1, y1] = self.core.map(|v| v as f64 - 0.5);
        x >= x0 && x < x1 && y >= y0 && y < y1
    }
}

/// Cuts a `width` x `height` scan into cores of `core_px` (the last row
/// and column take the remainder) read with `margin_px` around them.
pub fn tile_grid(width: usize, height: usize, core_px: usize, margin_px: usize) -> Vec<Tile> {
    let core_px = core_px.max(1);
    let mut v = Vec::new();
    for y0 in (0..height).step_by(core_px) {
        for x0 in (0..width).step_by(core_px) {
            let (x1, y1) = ((x0 + core_px).min(width), (y0 + core_px).min(height));
            let (rx, ry) = (x0.saturating_sub(margin_px), y0.saturating_sub(margin_px));
            let (rx1, ry1) = ((x1 + margin_px).min(width), (y1 + margin_px).min(height));
            v.push(Tile {
                read: [rx, ry, rx1 - rx, ry1 - ry],
                core: [x0, y0, x1, y1],
            });
        }
    }
    v
}

/// What one tile contributes: its owned nuclei (scan coordinates), their
/// counts and their signals.
#[derive(Debug, Clone)]
pub struct TileResult {
    /// The tile.
    pub tile: Tile,
    /// Owned nuclei, ids as in the tile's label image, centres in scan
    /// pixels.
    pub nuclei: Vec<Nucleus>,
    /// Signals of the owned nuclei and owned signals outside nuclei, in
    /// scan pixels; empty when [`analyze_scan`] passed them to a sink.
    pub signals: Vec<Signal>,
    /// Counts of the owned nuclei (field = tile index), in the order of
    /// `nuclei`; moved into [`ScanResult::counts`] once the scorability
    /// over the whole scan is set (empty in a [`ScanResult`]).
    pub counts: Vec<NucleusCounts>,
    /// Seconds spent reading and analysing the tile.
    pub seconds: f64,
}

/// The result of a whole scan.
#[derive(Debug, Clone)]
pub struct ScanResult {
    /// Scan size in pixels.
    pub width: usize,
    /// Scan height in pixels.
    pub height: usize,
    /// Tiles, in row-major order.
    pub tiles: Vec<TileResult>,
    /// Counts of every kept nucleus (field = tile index), scorability set.
    pub counts: Vec<NucleusCounts>,
    /// Reference figures of the scan's nuclei (median area, outline blur).
    pub nucleus_reference: nuclei::scorability::CaseReference,
    /// Enumeration, ratio and call over the scan.
    pub score: Score,
}

impl ScanResult {
    /// Megapixels of the scan.
    pub fn megapixels(&self) -> f64 {
        self.width as f64 * self.height as f64 / 1e6
    }
}

/// Receives each tile's signals (scan pixels), in tile order, as soon as
/// the tile and all tiles before it are analysed: a whole slide's signals
/// (about 1 KB per nucleus) need not stay in memory until it is scored.
pub type SignalSink<'a> = dyn FnMut(usize, &[Signal]) -> Result<(), IoError> + Send + 'a;

/// Analyses one tile read from `scan`; keeps what its core owns.
fn analyze_tile(
    scan: &mut Scan,
    index: usize,
    tile: Tile,
    p: &AnalyzeParams,
) -> Result<TileResult, IoError> {
    let t0 = Instant::now();
    let [rx, ry, rw, rh] = tile.read;
    let mut field = scan.read_field(rx, ry, rw, rh)?;
    field.name = format!("tile{index}");
    let mut r = analyze_field(&field, None, p);
    drop(field);
    let (ox, oy) = (rx as f64, ry as f64);
    r.nuclei.retain(|n| tile.owns(n.x + ox, n.y + oy));
    let kept: std::collections::HashSet<u32> = r.nuclei.iter().map(|n| n.id).collect();
    let mut signals = std::mem::take(&mut r.signals.signals);
    signals.retain(|s| {
        if s.nucleus == 0 {
            tile.owns(s.x + ox, s.y + oy)
        } else {
            kept.contains(&s.nucleus)
        }
    });
    // The kept part of a tile is about half of what it detected (the rest
    // is margin): release the unused capacity, since a whole slide keeps
    // every tile's nuclei until it is scored.
    r.nuclei.shrink_to_fit();
    signals.shrink_to_fit();
    for n in r.nuclei.iter_mut() {
        n.x += ox;
        n.y += oy;
    }
    for s in signals.iter_mut() {
        s.x += ox;
        s.y += oy;
    }
    let se = crate::pipeline::reference_rel_se(&r.signals.qc);
    let counts = nucleus_counts(
        index,
        &r.nuclei,
        &signals,
        se,
        p.spots.tntc_copies,
        p.faint_snr,
    );
    Ok(TileResult {
        tile,
        nuclei: r.nuclei,
        signals,
        counts,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// Passes finished tiles' signals to the sink in tile order.
struct InOrder<'s, 'a> {
    sink: &'s mut SignalSink<'a>,
    next: usize,
    waiting: BTreeMap<usize, Vec<Signal>>,
    error: Option<IoError>,
}

impl InOrder<'_, '_> {
    /// Queues a tile's signals and passes on those now in order; false
    /// once the sink has failed (the scan stops then).
    fn push(&mut self, index: usize, signals: Vec<Signal>) -> bool {
        self.waiting.insert(index, signals);
        while let Some(s) = self.waiting.remove(&self.next) {
            if self.error.is_none() {
                if let Err(e) = (self.sink)(self.next, &s) {
                    self.error = Some(e);
                }
            }
            self.next += 1;
        }
        self.error.is_none()
    }
}

/// The error for a scan that a worker cannot reopen.
fn reopen_error(scan: &Scan, e: impl std::fmt::Display) -> IoError {
    IoError::format(
        scan.info()
            .files
            .first()
            .map_or(std::path::Path::new(""), |f| f),
        format!("cannot reopen the scan: {e}"),
    )
}

/// Analyses a whole scan tile by tile (as many tiles at a time as the
/// current rayon pool has threads, each driver reading through its own
/// reopened [`Scan`]), then decides scorability over all kept nuclei and
/// scores them as one case. With a `sink`, each tile's signals go to it in
/// tile order and are not kept in the result. The result does not depend
/// on the thread count.
pub fn analyze_scan(
    scan: &Scan,
    load: &LoadOptions,
    panel: &Panel,
    p: &AnalyzeParams,
    sp: &ScanParams,
    sink: Option<&mut SignalSink<'_>>,
) -> Result<ScanResult, IoError> {
    let (core, margin) = sp.core_and_margin_px(scan.info().pixel_size_um);
    let grid = tile_grid(scan.width(), scan.height(), core, margin);
    let order = sink.map(|sink| {
        Mutex::new(InOrder {
            sink,
            next: 0,
            waiting: BTreeMap::new(),
            error: None,
        })
    });
    // One driver thread per thread of the current pool takes the next
    // tile and analyses it in its own one-thread pool. A tile's nested
    // parallel steps (rayon::join) then cannot pick up another tile while
    // they wait, as rayon's work stealing would on a shared pool: exactly
    // as many tiles are in memory as there are threads, and tiles finish
    // about in order, so only those in flight wait for the sink.
    let drivers = rayon::current_num_threads().clamp(1, grid.len().max(1));
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let drive = || -> Vec<(usize, Result<TileResult, IoError>)> {
        let mut done = Vec::new();
        // Should the one-thread pool not be built, the tile's nested steps
        // run on the global pool: the same results, less bounded memory.
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().ok();
        let mut reader: Option<Scan> = None;
        while !failed.load(Ordering::SeqCst) {
            let i = next.fetch_add(1, Ordering::SeqCst);
            let Some(&tile) = grid.get(i) else { break };
            let rd = match &mut reader {
                Some(rd) => rd,
                None => match scan.reopen(load) {
                    Ok(rd) => reader.insert(rd),
                    Err(e) => {
                        failed.store(true, Ordering::SeqCst);
                        done.push((i, Err(reopen_error(scan, e))));
                        break;
                    }
                },
            };
            let analysed = match &pool {
                Some(pool) => pool.install(|| analyze_tile(rd, i, tile, p)),
                None => analyze_tile(rd, i, tile, p),
            };
            let mut t = match analysed {
                Ok(t) => t,
                Err(e) => {
                    failed.store(true, Ordering::SeqCst);
                    done.push((i, Err(e)));
                    break;
                }
            };
            if let Some(o) = &order {
                let signals = std::mem::take(&mut t.signals);
                if !o.lock().unwrap_or_else(|e| e.into_inner()).push(i, signals) {
                    failed.store(true, Ordering::SeqCst);
                }
            }
            done.push((i, Ok(t)));
        }
        done
    };
    let mut tiles: Vec<(usize, Result<TileResult, IoError>)> = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..drivers).map(|_| sc.spawn(drive)).collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(done) => done,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    tiles.sort_by_key(|(i, _)| *i);
    // The first failed tile's error (the lowest index among those tried).
    let mut ok = Vec::with_capacity(tiles.len());
    for (i, t) in tiles {
        ok.push((i, t?));
    }
    if let Some(o) = order {
        if let Some(e) = o.into_inner().unwrap_or_else(|e| e.into_inner()).error {
            return Err(e);
        }
    }
    let tiles = ok;
    let mut tiles: Vec<TileResult> = tiles.into_iter().map(|(_, t)| t).collect();
    let mut per_tile: Vec<Vec<Nucleus>> = tiles
        .iter_mut()
        .map(|t| std::mem::take(&mut t.nuclei))
        .collect();
    let nucleus_reference = nuclei::classify(&mut per_tile, &p.nuclei);
    let mut counts = Vec::with_capacity(tiles.iter().map(|t| t.counts.len()).sum());
    for (t, n) in tiles.iter_mut().zip(per_tile) {
        for (c, n) in t.counts.iter_mut().zip(&n) {
            c.scorable = n.scorable;
            c.excluded_reason = n.reason.map(|r| r.as_str().to_string());
        }
        t.nuclei = n;
        counts.append(&mut t.counts);
    }
    let score = scoring::score_case(&counts, panel, &p.scoring);
    Ok(ScanResult {
        width: scan.width(),
        height: scan.height(),
        tiles,
        counts,
        nucleus_reference,
        score,
    })
}

impl TileResult {
    /// The tile as a field result without pixels (empty label image),
    /// named `tile<index>`, for the tables and the scoring input.
    pub fn field_result(&self, index: usize, pixel_size_um: f64) -> crate::pipeline::FieldResult {
        self.clone().into_field_result(index, pixel_size_um)
    }

    /// As [`TileResult::field_result`], consuming the tile (no copy of its
    /// nuclei and signals: a whole slide holds hundreds of thousands).
    pub fn into_field_result(
        self,
        index: usize,
        pixel_size_um: f64,
    ) -> crate::pipeline::FieldResult {
        crate::pipeline::FieldResult {
            name: format!("tile{index}"),
            input: None,
            pixel_size_um,
            labels: ndarray::Array2::zeros((0, 0)),
            nuclei: self.nuclei,
            signals: crate::spots::FieldSignals {
                signals: self.signals,
                granules_excluded: 0,
                dapi_bleed_excluded: 0,
                qc: Vec::new(),
            },
            timings: vec![("tile".into(), self.seconds)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_reach_the_sink_in_order_and_a_sink_error_stops_it() {
        let mut seen = Vec::new();
        let mut sink = |i: usize, _: &[Signal]| {
            seen.push(i);
            if i == 3 {
                Err(IoError::write(
                    std::path::Path::new("spots.csv"),
                    "disk full",
                ))
            } else {
                Ok(())
            }
        };
        let mut o = InOrder {
            sink: &mut sink,
            next: 0,
            waiting: BTreeMap::new(),
            error: None,
        };
        // Tiles finish out of order; each waits for those before it.
        assert!(o.push(1, Vec::new()));
        assert!(o.push(2, Vec::new()));
        assert!(o.push(0, Vec::new()));
        assert!(!o.push(3, Vec::new()));
        assert!(!o.push(4, Vec::new()));
        assert!(o.error.is_some());
        drop(o);
        // Tile 4 is not written after the failure.
        assert_eq!(seen, vec![0, 1, 2, 3]);
    }

    #[test]
    fn every_pixel_is_owned_by_exactly_one_tile() {
        let grid = tile_grid(250, 130, 100, 15);
        assert_eq!(grid.len(), 6);
        for y in 0..130 {
            for x in 0..250 {
                let n = grid.iter().filter(|t| t.owns(x as f64, y as f64)).count();
                assert_eq!(n, 1, "({x}, {y})");
            }
        }
        // Sub-pixel centres on a core edge go to one side only.
        assert_eq!(grid.iter().filter(|t| t.owns(99.5, 10.0)).count(), 1);
    }

    #[test]
    fn reads_cover_the_core_and_margin_clipped_to_the_scan() {
        let grid = tile_grid(250, 130, 100, 15);
        assert_eq!(grid[0].read, [0, 0, 115, 115]);
        assert_eq!(grid[1].read, [85, 0, 130, 115]);
        assert_eq!(grid[2].core, [200, 0, 250, 100]);
        assert_eq!(grid[2].read, [185, 0, 65, 115]);
        assert_eq!(grid[4].read, [85, 85, 130, 45]);
    }
}
