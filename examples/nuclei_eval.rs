//! Nucleus segmentation measured on its own: segments the DAPI channel of
//! every simulated case under TRUTH_ROOT and writes labels.tif + nuclei.csv
//! (no signal columns) that `fishscore evaluate` scores.
//!
//! cargo run --release --example nuclei_eval -- TRUTH_ROOT OUT_ROOT

use fishscore::io::tiff_read::{read_tiff, DecodeLimits};
use fishscore::nuclei::{self, NucleusParams};
use fishscore::plane::Plane;
use std::io::Write;
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (root, out) = (Path::new(&args[1]), Path::new(&args[2]));
    let mut p = NucleusParams::default();
    // Experiment overrides: FS_NUC="field=value,field=value".
    if let Ok(v) = std::env::var("FS_NUC") {
        let mut j = serde_json::to_value(&p).unwrap();
        for kv in v.split(',') {
            let (k, val) = kv.split_once('=').unwrap();
            j[k] = serde_json::Value::from(val.parse::<f64>().unwrap());
        }
        p = serde_json::from_value(j).unwrap();
    }
    let only: Option<Vec<String>> = std::env::var("FS_ONLY")
        .ok()
        .map(|v| v.split(',').map(String::from).collect());
    let mut cases: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("truth.json").exists())
        .filter(|c| {
            only.as_ref()
                .is_none_or(|o| o.iter().any(|n| c.ends_with(n)))
        })
        .collect();
    cases.sort();
    for case in cases {
        let truth: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(case.join("truth.json")).unwrap())
                .unwrap();
        let px = truth["pixel_size_um"].as_f64().unwrap();
        let f = if case.join("image.tif").exists() {
            "image.tif"
        } else {
            "dapi.tif"
        };
        let t = read_tiff(&case.join(f), &DecodeLimits::default()).unwrap();
        let dapi = Plane::new(t.pages[0].clone(), px);
        let t0 = std::time::Instant::now();
        let seg = nuclei::segment_nuclei(&dapi, &p);
        let mut fields = vec![seg.nuclei.clone()];
        nuclei::classify(&mut fields, &p);
        let dt = t0.elapsed();
        let dir = out.join(case.file_name().unwrap());
        std::fs::create_dir_all(&dir).unwrap();
        fishscore::io::tiff_write::write_labels(&dir.join("labels.tif"), &seg.labels, px).unwrap();
        let mut w = std::fs::File::create(dir.join("nuclei.csv")).unwrap();
        writeln!(w, "field,id,x,y,area_um2,scored,excluded_reason,target,control,cluster,solidity,edge_blur_um,overlap").unwrap();
        for n in &fields[0] {
            writeln!(
                w,
                "f1,{},{:.2},{:.2},{:.2},{},{},,,,{:.3},{:.3},{}",
                n.id,
                n.x,
                n.y,
                n.area_um2,
                n.scorable,
                n.reason.map(|r| r.as_str()).unwrap_or(""),
                n.solidity,
                n.edge_blur_um,
                n.overlap_evidence
            )
            .unwrap();
        }
        eprintln!(
            "{:?}: {} nuclei, {:.2}s (binning {})",
            case.file_name().unwrap(),
            seg.nuclei.len(),
            dt.as_secs_f64(),
            seg.binning
        );
    }
}
