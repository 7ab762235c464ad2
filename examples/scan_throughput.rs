//! Whole-slide throughput (docs/performance.md): analyses a scan tile by
//! tile with `fishscore::scan::analyze_scan` and prints megapixels per
//! second, the nuclei and the call, and the peak resident memory.
//!
//! ```text
//! fishscore simulate --layout tiled-bigtiff --mosaic 8192x8192 --size 1024x1024 --out /tmp/slide
//! cargo run --release --example scan_throughput -- /tmp/slide/image.tif [--threads N] [--tile-um 100]
//! ```

use fishscore::io::load::{open_scan, FieldSource, LoadOptions};
use fishscore::pipeline::AnalyzeParams;
use fishscore::scan::{analyze_scan, ScanParams};
use fishscore::scoring::Panel;
use std::path::PathBuf;
use std::process::ExitCode;

/// Peak resident set size of this process in MiB (Linux /proc).
fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: scan_throughput SCAN.tif [--threads N] [--tile-um F]");
        return ExitCode::from(2);
    };
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let threads = opt("--threads").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut sp = ScanParams::default();
    if let Some(t) = opt("--tile-um").and_then(|v| v.parse().ok()) {
        sp.tile_um = t;
    }
    let load = LoadOptions::default();
    let scan = match open_scan(&FieldSource::Multi(PathBuf::from(path)), &load) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(panel) = Panel::builtin("mdm2-cep12") else {
        return ExitCode::from(1);
    };
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let t0 = std::time::Instant::now();
    let r =
        pool.install(|| analyze_scan(&scan, &load, &panel, &AnalyzeParams::default(), &sp, None));
    let secs = t0.elapsed().as_secs_f64();
    match r {
        Ok(r) => {
            let s = &r.score;
            println!(
                "{{\"width\": {}, \"height\": {}, \"megapixels\": {:.1}, \"tiles\": {}, \"threads\": {}, \"seconds\": {secs:.2}, \"megapixels_per_second\": {:.2}, \"nuclei_kept\": {}, \"nuclei_scored\": {}, \"call\": \"{}\", \"ratio\": {}, \"peak_rss_mib\": {}}}",
                r.width,
                r.height,
                r.megapixels(),
                r.tiles.len(),
                pool.current_num_threads(),
                r.megapixels() / secs,
                r.counts.len(),
                s.nuclei_scored,
                s.call.as_str(),
                s.ratio.map_or("null".into(), |v| format!("{v:.3}")),
                peak_rss_mib().map_or("null".into(), |v| format!("{v:.0}")),
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
