//! Fuzz target of the input layer: any bytes, written to a file, go
//! through `load_field` (metadata, channel mapping, decoding, projection,
//! QC) and through `open_scan` + a region read. It must never panic or
//! allocate beyond the (reduced) decoding limits.
//!
//! cargo +nightly fuzz run read_tiff fuzz/corpus/read_tiff -- -max_len=65536
#![no_main]

use fishscore::io::load::{load_field, open_scan, FieldSource, LoadOptions};
use fishscore::io::DecodeLimits;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir();
    let path = dir.join(format!("fishscore-fuzz-{}.tif", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let opts = LoadOptions {
        limits: DecodeLimits {
            max_pixels: 1 << 20,
            max_bytes: 64 << 20,
            max_pages: 64,
            max_chunk_bytes: 16 << 20,
        },
        ..Default::default()
    };
    let src = FieldSource::Multi(path.clone());
    let _ = load_field(&src, &opts);
    if let Ok(mut scan) = open_scan(&src, &opts) {
        let (w, h) = (scan.width(), scan.height());
        if w > 0 && h > 0 {
            let _ = scan.read_field(w / 3, h / 3, (w / 2).clamp(1, 64), (h / 2).clamp(1, 64));
        }
    }
    let _ = std::fs::remove_file(&path);
});
