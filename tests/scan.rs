//! Whole-slide analysis tile by tile (fishscore::scan) on a simulated
//! tiled-BigTIFF mosaic: each nucleus kept once, by the tile owning its
//! centre; the same nuclei as one big tile; no dependence on threads.

mod common;

use fishscore::io::load::{open_scan, FieldSource, LoadOptions};
use fishscore::pipeline::AnalyzeParams;
use fishscore::scan::{analyze_scan, ScanParams, ScanResult};
use fishscore::scoring::Panel;

fn run(path: &std::path::Path, tile_um: f64, threads: usize) -> ScanResult {
    let load = LoadOptions::default();
    let scan = open_scan(&FieldSource::Multi(path.to_path_buf()), &load).unwrap();
    let panel = Panel::builtin("mdm2-cep12").unwrap();
    let sp = ScanParams {
        tile_um,
        margin_um: 20.0,
    };
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(|| analyze_scan(&scan, &load, &panel, &AnalyzeParams::default(), &sp))
        .unwrap()
}

#[test]
fn tiles_keep_each_nucleus_once_and_do_not_depend_on_threads() {
    let d = tempfile::tempdir().unwrap();
    common::simulate(
        d.path(),
        &[
            "--layout",
            "tiled-bigtiff",
            "--mosaic",
            "1024x1024",
            "--size",
            "512x512",
            "--seed",
            "3",
        ],
    );
    let img = d.path().join("image.tif");
    // 0.1 um pixels: 30 um cores = 300 px, 16 tiles.
    let small = run(&img, 30.0, 2);
    assert_eq!(small.tiles.len(), 16);
    assert_eq!((small.width, small.height), (1024, 1024));
    let one = run(&img, 200.0, 2);
    assert_eq!(one.tiles.len(), 1);
    // Every kept nucleus lies in its tile's core.
    for t in &small.tiles {
        for n in &t.nuclei {
            assert!(
                t.tile.owns(n.x, n.y),
                "nucleus at ({}, {}) outside its core",
                n.x,
                n.y
            );
        }
    }
    // No nucleus is kept twice: no two centres closer than 2 um (20 px).
    let all: Vec<(f64, f64)> = small
        .tiles
        .iter()
        .flat_map(|t| t.nuclei.iter().map(|n| (n.x, n.y)))
        .collect();
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert!(
                (a.0 - b.0).hypot(a.1 - b.1) > 20.0,
                "nucleus kept twice near ({}, {})",
                a.0,
                a.1
            );
        }
    }
    // The same nuclei as the scan analysed in one tile (segmentation near
    // a tile edge may differ slightly: within 3 %).
    let (n_small, n_one) = (all.len() as f64, one.counts.len() as f64);
    assert!(n_one > 50.0, "{n_one} nuclei");
    assert!(
        (n_small - n_one).abs() <= 0.03 * n_one,
        "{n_small} nuclei in 16 tiles, {n_one} in one"
    );
    // Thread count does not change anything.
    let single = run(&img, 30.0, 1);
    assert_eq!(single.counts, small.counts);
    assert_eq!(single.score, small.score);
}
