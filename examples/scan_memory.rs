//! Reads a whole-slide scan region by region through `io::open_scan` and
//! reports the peak resident memory, to show that it does not grow with
//! the slide's size (docs/formats.md, "Whole-slide scans").
//!
//! cargo run --release --example scan_memory -- SCAN.tif [REGION_PX]
//!
//! Prints one JSON line: size, regions read, mean of each channel, seconds,
//! peak RSS (VmHWM from /proc/self/status, Linux).

use fishscore::io::{open_scan, FieldSource, LoadOptions};
use std::path::PathBuf;
use std::time::Instant;

fn vm_hwm_kb() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1).map(PathBuf::from) else {
        eprintln!("usage: scan_memory SCAN.tif [REGION_PX]");
        std::process::exit(2);
    };
    let region: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2048);
    let t0 = Instant::now();
    let opts = LoadOptions::default();
    let mut scan = match open_scan(&FieldSource::Multi(path), &opts) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let (w, h) = (scan.width(), scan.height());
    let mut sums = [0f64; 3];
    let mut regions = 0usize;
    for y in (0..h).step_by(region) {
        for x in (0..w).step_by(region) {
            let f = match scan.read_field(x, y, region.min(w - x), region.min(h - y)) {
                Ok(f) => f,
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::exit(2);
                }
            };
            for (s, p) in sums.iter_mut().zip([&f.dapi, &f.target, &f.control]) {
                *s += p.data.iter().map(|&v| v as f64).sum::<f64>();
            }
            regions += 1;
        }
    }
    let n = (w * h) as f64;
    println!(
        "{}",
        serde_json::json!({
            "width": w, "height": h, "region_px": region, "regions": regions,
            "mean": [sums[0] / n, sums[1] / n, sums[2] / n],
            "seconds": t0.elapsed().as_secs_f64(),
            "peak_rss_mb": vm_hwm_kb().map(|k| k as f64 / 1024.0),
            "layout": scan.info().layout,
        })
    );
}
