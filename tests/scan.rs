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
        .install(|| analyze_scan(&scan, &load, &panel, &AnalyzeParams::default(), &sp, None))
        .unwrap()
}

/// A 1024 x 1024 tiled-BigTIFF mosaic of 512 x 512 blocks in `dir`.
fn mosaic(dir: &std::path::Path, seed: &str, extra: &[&str]) -> std::path::PathBuf {
    let mut args = vec![
        "--layout",
        "tiled-bigtiff",
        "--mosaic",
        "1024x1024",
        "--size",
        "512x512",
        "--seed",
        seed,
    ];
    args.extend_from_slice(extra);
    common::simulate(dir, &args);
    dir.join("image.tif")
}

/// `fishscore analyze IMG --out OUT --tile-um 30` and `extra`.
fn analyze_30um<'a>(
    img: &'a std::path::Path,
    out: &'a std::path::Path,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "analyze",
        img.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--tile-um",
        "30",
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn tiles_keep_each_nucleus_once_and_do_not_depend_on_threads() {
    let d = tempfile::tempdir().unwrap();
    let img = mosaic(d.path(), "3", &[]);
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

    // The same through `fishscore analyze --tile-um`: tables and report,
    // positions in scan pixels, no images.
    let out = d.path().join("out");
    common::run_ok(&analyze_30um(&img, &out, &[]));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["fields"][0]["tiles"], 16);
    assert_eq!(report["fields"][0]["width"], 1024);
    assert_eq!(
        report["nuclei_detected"].as_u64().unwrap() as usize,
        small.counts.len()
    );
    assert_eq!(report["ratio"].as_f64(), small.score.ratio);
    let rows = csv::Reader::from_path(out.join("nuclei.csv"))
        .unwrap()
        .records()
        .count();
    assert_eq!(rows, small.counts.len());
    assert!(out.join("spots.csv").is_file() && out.join("score_input.json").is_file());
    assert!(!out.join("report.html").exists());
    // The scoring details hold every nucleus's status (report.json
    // serialises them without a JSON tree).
    assert_eq!(
        report["scoring"]["per_nucleus"],
        serde_json::to_value(&small.score.per_nucleus).unwrap()
    );
    // spots.csv is streamed tile by tile as tiles finish, in tile order:
    // every kept signal once, the same bytes with one thread or two.
    let spots = std::fs::read(out.join("spots.csv")).unwrap();
    let n_signals: usize = small.tiles.iter().map(|t| t.signals.len()).sum();
    assert!(n_signals > 100, "{n_signals} signals");
    let spot_rows = csv::Reader::from_reader(&spots[..]).records().count();
    assert_eq!(spot_rows, n_signals);
    let out1 = d.path().join("out1");
    common::run_ok(&analyze_30um(&img, &out1, &["--threads", "1"]));
    assert_eq!(std::fs::read(out1.join("spots.csv")).unwrap(), spots);
    assert_eq!(
        std::fs::read(out1.join("nuclei.csv")).unwrap(),
        std::fs::read(out.join("nuclei.csv")).unwrap()
    );
}

#[test]
fn a_tile_that_cannot_be_decoded_stops_the_scan_and_leaves_nothing() {
    let d = tempfile::tempdir().unwrap();
    let img = mosaic(d.path(), "4", &["--compression", "deflate"]);
    // Overwrite a run of bytes in the middle of the file: the Deflate
    // streams of the tiles there no longer decode (open_scan reads only
    // the directories, so the error comes from a tile in the middle of
    // the analysis, after spots.csv has started).
    let mut bytes = std::fs::read(&img).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid..mid + 4096].fill(0xff);
    std::fs::write(&img, &bytes).unwrap();
    let out = d.path().join("out");
    let o = common::run(&analyze_30um(&img, &out, &[]), &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("image.tif"), "{err}");
    assert!(err.contains("cannot decode"), "not a tile's error: {err}");
    assert!(!out.exists(), "the output directory was left behind");
}
