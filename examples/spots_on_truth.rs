//! Signal detection measured on its own: runs `spots::detect_signals` on
//! simulated cases with the TRUE nucleus labels (so segmentation errors do
//! not blur the signal figures) and writes result folders that
//! `fishscore evaluate` scores.
//!
//! cargo run --release --example spots_on_truth -- TRUTH_ROOT OUT_ROOT [--estimator intensity|mixture]

use fishscore::io::tiff_read::{read_tiff, DecodeLimits};
use fishscore::plane::{Field, Plane};
use fishscore::spots::{self, ClusterEstimator, SpotParams};
use std::io::Write;
use std::path::Path;

fn load(case: &Path) -> (Field, ndarray::Array2<u32>) {
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(case.join("truth.json")).unwrap()).unwrap();
    let px = truth["pixel_size_um"].as_f64().unwrap();
    let planes: Vec<ndarray::Array2<f32>> = if case.join("image.tif").exists() {
        let t = read_tiff(&case.join("image.tif"), &DecodeLimits::default()).unwrap();
        let z = t.pages.len() / 3;
        // Maximum projection of each channel's planes.
        (0..3)
            .map(|c| {
                let mut m = t.pages[c * z].clone();
                for k in 1..z {
                    m.zip_mut_with(&t.pages[c * z + k], |a, b| *a = a.max(*b));
                }
                m
            })
            .collect()
    } else {
        ["dapi.tif", "target.tif", "control.tif"]
            .iter()
            .map(|f| {
                read_tiff(&case.join(f), &DecodeLimits::default())
                    .unwrap()
                    .pages[0]
                    .clone()
            })
            .collect()
    };
    let field = Field {
        name: "f1".into(),
        dapi: Plane::new(planes[0].clone(), px),
        target: Plane::new(planes[1].clone(), px),
        control: Plane::new(planes[2].clone(), px),
    };
    let lab = read_tiff(&case.join("truth_labels.tif"), &DecodeLimits::default())
        .unwrap()
        .pages[0]
        .mapv(|v| v as u32);
    (field, lab)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (root, out) = (Path::new(&args[1]), Path::new(&args[2]));
    let mut p = SpotParams::default();
    if args.get(3).map(|s| s.as_str()) == Some("--estimator")
        && args.get(4).map(|s| s.as_str()) == Some("mixture")
    {
        p.cluster_estimator = ClusterEstimator::Mixture;
    }
    if let Ok(v) = std::env::var("FS_DET") {
        p.detection_threshold_sd = v.parse().unwrap();
    }
    if let Ok(v) = std::env::var("FS_OBJ") {
        p.object_threshold_sd = v.parse().unwrap();
    }
    if let Ok(v) = std::env::var("FS_EDGE") {
        p.edge_ratio = v.parse().unwrap();
    }
    let cases: Vec<_> = if root.join("truth.json").exists() {
        vec![root.to_path_buf()]
    } else {
        let mut v: Vec<_> = std::fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("truth.json").exists())
            .collect();
        v.sort();
        v
    };
    for case in cases {
        let name = case.file_name().unwrap();
        let dir = if root.join("truth.json").exists() {
            out.to_path_buf()
        } else {
            out.join(name)
        };
        std::fs::create_dir_all(&dir).unwrap();
        let (field, labels) = load(&case);
        let t0 = std::time::Instant::now();
        let fs = spots::detect_signals(&field, &labels, &p);
        let dt = t0.elapsed();
        std::fs::copy(case.join("truth_labels.tif"), dir.join("labels.tif")).unwrap();
        let n = *labels.iter().max().unwrap_or(&0) as usize;
        let counts = spots::count_per_nucleus(&fs.signals, n);
        let mut r = csv::Reader::from_path(case.join("truth_nuclei.csv")).unwrap();
        let mut w = std::fs::File::create(dir.join("nuclei.csv")).unwrap();
        writeln!(
            w,
            "field,id,x,y,area_um2,scored,excluded_reason,target,control,cluster"
        )
        .unwrap();
        for rec in r.records() {
            let rec = rec.unwrap();
            let id: usize = rec[0].parse().unwrap();
            let (t, c, cl) = counts[id];
            let scored = &rec[4] == "true" && t > 0 && c > 0;
            writeln!(
                w,
                "f1,{id},{},{},{},{scored},,{t},{c},{cl}",
                &rec[1], &rec[2], &rec[10]
            )
            .unwrap();
        }
        let mut w = std::fs::File::create(dir.join("spots.csv")).unwrap();
        writeln!(
            w,
            "field,x,y,channel,nucleus,intensity,copies,kind,copies_intensity,copies_mixture,snr"
        )
        .unwrap();
        for s in &fs.signals {
            writeln!(
                w,
                "f1,{:.3},{:.3},{},{},{:.1},{},{},{:.2},{},{:.2}",
                s.x,
                s.y,
                s.channel.as_str(),
                s.nucleus,
                s.intensity,
                s.copies,
                s.kind.as_str(),
                s.copies_intensity,
                s.copies_mixture.map(|m| m.to_string()).unwrap_or_default(),
                s.snr
            )
            .unwrap();
        }
        let qc: Vec<String> = fs
            .qc
            .iter()
            .map(|q| {
                format!(
                    "{}: sigma {:.3} um{} ref {:.0} ({}) snr {:.1}",
                    q.channel.as_str(),
                    q.psf_sigma_um,
                    if q.psf_estimated { " (est)" } else { "" },
                    q.reference_intensity.unwrap_or(0.0),
                    q.reference_source,
                    q.median_snr.unwrap_or(0.0)
                )
            })
            .collect();
        eprintln!(
            "{:?}: {:.2}s granules {} | {}",
            name,
            dt.as_secs_f64(),
            fs.granules_excluded,
            qc.join(" | ")
        );
    }
}
