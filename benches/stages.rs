//! Criterion benches of the hot stages on a simulated 1024 x 1024
//! 3-channel 16-bit field (`fishscore simulate` defaults, seed 7, made in a
//! temporary folder at start; `cargo bench --bench stages`;
//! docs/performance.md has the figures):
//! TIFF decode, Gaussian filter (with the former transposing
//! implementation for comparison), median filter (exact and the
//! bin-interpolated one the detector uses), DAPI segmentation and
//! signal detection. `cargo test` does not run them.

use criterion::{criterion_group, criterion_main, Criterion};
use fishscore::filters::gaussian::{gaussian_filter, gaussian_kernel, reflect_index, transpose};
use fishscore::filters::rank::{median_filter, median_filter_approx};
use fishscore::io::load::{load_field, FieldSource, LoadOptions};
use fishscore::nuclei::{segment_nuclei, NucleusParams};
use fishscore::spots::{detect_signals, SpotParams};
use ndarray::Array2;
use std::hint::black_box;

/// `fishscore simulate`'s parameters from its command-line defaults.
#[derive(clap::Parser)]
struct Sim {
    #[command(flatten)]
    p: fishscore::simulate::SimParams,
}

/// Simulates the 1024 x 1024 field into `dir`; returns its image file.
fn simulated_field(dir: &std::path::Path) -> FieldSource {
    use clap::Parser;
    let sim = Sim::parse_from(["simulate", "--seed", "7", "--ratio", "3"]);
    let case = fishscore::simulate::simulate(&sim.p).expect("simulates");
    fishscore::simulate::write_case(&case, dir).expect("writes");
    FieldSource::Multi(dir.join("image.tif"))
}

/// The Gaussian filter as it was before the speed work (verbatim):
/// per-pixel dot products over a padded row, parallel over rows; rows,
/// transpose, rows, transpose back.
fn gaussian_transposing(src: &Array2<f32>, sigma: f64) -> Array2<f32> {
    use rayon::prelude::*;
    let k = gaussian_kernel(sigma);
    let rows = |src: &Array2<f32>| {
        let (h, w) = src.dim();
        let r = (k.len() / 2) as i64;
        let mut out = Array2::<f32>::zeros((h, w));
        let src = src.as_standard_layout();
        let src = src.as_slice().expect("standard layout");
        out.as_slice_mut()
            .expect("contiguous")
            .par_chunks_mut(w)
            .zip(src.par_chunks(w))
            .for_each(|(orow, irow)| {
                let mut padded = Vec::with_capacity(w + 2 * r as usize);
                for i in -r..(w as i64 + r) {
                    padded.push(irow[reflect_index(i, w)]);
                }
                for (x, o) in orow.iter_mut().enumerate() {
                    let mut acc = 0.0f32;
                    for (a, b) in padded[x..x + k.len()].iter().zip(&k) {
                        acc += a * b;
                    }
                    *o = acc;
                }
            });
        out
    };
    transpose(&rows(&transpose(&rows(src))))
}

/// The median filter as it was before the speed work (verbatim): copy the
/// window, select with `f32::total_cmp`.
fn median_total_cmp(src: &Array2<f32>, radius: usize) -> Array2<f32> {
    use rayon::prelude::*;
    let (h, w) = src.dim();
    let mut out = Array2::<f32>::zeros((h, w));
    let r = radius as i64;
    out.as_slice_mut()
        .expect("contiguous")
        .par_chunks_mut(w.max(1))
        .enumerate()
        .for_each(|(y, row)| {
            let mut buf: Vec<f32> = Vec::with_capacity((2 * radius + 1).pow(2));
            let y0 = (y as i64 - r).max(0) as usize;
            let y1 = (y as i64 + r).min(h as i64 - 1) as usize;
            for (x, o) in row.iter_mut().enumerate() {
                let x0 = (x as i64 - r).max(0) as usize;
                let x1 = (x as i64 + r).min(w as i64 - 1) as usize;
                buf.clear();
                for yy in y0..=y1 {
                    buf.extend(src.row(yy).iter().skip(x0).take(x1 - x0 + 1));
                }
                let mid = buf.len() / 2;
                let (_, m, _) = buf.select_nth_unstable_by(mid, |a: &f32, b: &f32| a.total_cmp(b));
                *o = *m;
            }
        });
    out
}

fn stages(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let src = simulated_field(dir.path());
    let opts = LoadOptions::default();
    let (field, _) = load_field(&src, &opts).expect("field loads");
    let dapi = field.dapi.clone();
    let img = field.target.data.clone();

    let mut g = c.benchmark_group("stages");
    g.sample_size(10);
    g.bench_function("tiff_decode_1024x1024x3", |b| {
        b.iter(|| load_field(black_box(&src), &opts).expect("loads"))
    });
    for sigma in [1.5, 5.0] {
        g.bench_function(format!("gaussian_filter_1024_sigma{sigma}"), |b| {
            b.iter(|| gaussian_filter(black_box(&img), sigma))
        });
    }
    g.bench_function("gaussian_transposing_before_1024_sigma1.5", |b| {
        b.iter(|| gaussian_transposing(black_box(&img), 1.5))
    });
    g.bench_function("median_filter_1024_r5", |b| {
        b.iter(|| median_filter(black_box(&img), 5))
    });
    g.bench_function("median_filter_approx_1024_r5", |b| {
        b.iter(|| median_filter_approx(black_box(&img), 5))
    });
    g.bench_function("median_total_cmp_before_1024_r5", |b| {
        b.iter(|| median_total_cmp(black_box(&img), 5))
    });
    let np = NucleusParams::default();
    g.bench_function("segment_nuclei_1024", |b| {
        b.iter(|| segment_nuclei(black_box(&dapi), &np))
    });
    let seg = segment_nuclei(&dapi, &np);
    let sp = SpotParams::default();
    g.bench_function("detect_signals_1024", |b| {
        b.iter(|| detect_signals(black_box(&field), &seg.labels, &sp))
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
