//! The speed floor of docs/performance.md: decode a field's TIFF and blur
//! each channel once with a Gaussian of the PSF's sigma. Nothing that
//! analyses a field can be faster than reading it and touching every pixel
//! once with a small filter, so `fishscore analyze` is compared with this.
//!
//! `cargo run --release --example floor -- IMAGE.tif [--threads N]`

use fishscore::filters::gaussian_filter;
use fishscore::io::load::{load_field, FieldSource, LoadOptions};
use rayon::prelude::*;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: floor IMAGE.tif [--threads N]");
        return ExitCode::from(2);
    };
    let threads = args
        .iter()
        .position(|a| a == "--threads")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    pool.install(|| {
        let t0 = std::time::Instant::now();
        let (field, _) = match load_field(
            &FieldSource::Multi(PathBuf::from(path)),
            &LoadOptions::default(),
        ) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        let t1 = std::time::Instant::now();
        // PSF sigma of the default 0.35 um FWHM, in pixels.
        let sigma = 0.35 / (2.0 * (2.0 * std::f64::consts::LN_2).sqrt()) / field.pixel_size_um();
        let sums: Vec<f32> = [&field.dapi, &field.target, &field.control]
            .par_iter()
            .map(|p| gaussian_filter(&p.data, sigma).sum())
            .collect();
        eprintln!(
            "floor: decode {:.3} s, blur {:.3} s (sigma {sigma:.2} px), checksum {:.3e}",
            (t1 - t0).as_secs_f64(),
            t1.elapsed().as_secs_f64(),
            sums.iter().map(|&s| s as f64).sum::<f64>()
        );
        ExitCode::SUCCESS
    })
}
