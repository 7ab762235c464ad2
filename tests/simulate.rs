//! The simulator: determinism, truth consistency, layouts, bad arguments.

mod common;
use common::*;
use std::collections::HashMap;

const SMALL: &[&str] = &[
    "--size",
    "512x384",
    "--seed",
    "11",
    "--ratio",
    "6",
    "--density",
    "dense",
];

fn read_dir_bytes(dir: &std::path::Path) -> HashMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn same_seed_gives_identical_files_with_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    let c = tmp.path().join("c");
    for (dir, threads) in [(&a, "1"), (&b, "4"), (&c, "3")] {
        let mut args = vec!["simulate", "--out", dir.to_str().unwrap()];
        args.extend_from_slice(&SMALL[..2]);
        args.extend_from_slice(&SMALL[4..]);
        args.extend_from_slice(&["--seed", if dir == &c { "12" } else { "11" }]);
        let o = run(&args, &[("RAYON_NUM_THREADS", threads)]);
        assert!(o.status.success());
    }
    let (fa, fb, fc) = (read_dir_bytes(&a), read_dir_bytes(&b), read_dir_bytes(&c));
    assert_eq!(fa.len(), 7, "files: {:?}", fa.keys());
    for (name, bytes) in &fa {
        assert!(fb[name] == *bytes, "{name} differs between 1 and 4 threads");
    }
    assert!(
        fa["image.tif"] != fc["image.tif"],
        "another seed gives another image"
    );
}

#[test]
fn truth_is_consistent() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("case");
    simulate(&dir, SMALL);
    let labels =
        fishscore::io::tiff_read::read_tiff(&dir.join("truth_labels.tif"), &Default::default())
            .unwrap();
    let lab = &labels.pages[0];
    let truth = fishscore::evaluate::read::read_truth(&dir).unwrap();
    // Every nucleus id in the CSV has pixels, and vice versa.
    let mut seen = std::collections::HashSet::new();
    for v in lab.iter() {
        if *v > 0.0 {
            seen.insert(*v as u32);
        }
    }
    for id in truth.nuclei.keys() {
        assert!(seen.contains(id), "nucleus {id} has no pixels");
    }
    assert_eq!(seen.len(), truth.nuclei.len());
    // Every spot lies in its nucleus (for an overlapping nucleus, in it or
    // in the partner lying on top of it).
    for s in &truth.spots {
        let l = lab[[s.y.round() as usize, s.x.round() as usize]] as u32;
        let n = &truth.nuclei[&s.nucleus];
        assert!(
            l == s.nucleus
                || (n.reason == "overlapping" && truth.nuclei[&l].reason == "overlapping"),
            "spot at ({}, {}) in label {l}, truth nucleus {}",
            s.x,
            s.y,
            s.nucleus
        );
    }
    // Copies add up: per nucleus and in truth.json.
    let mut per: HashMap<(u32, String), u32> = HashMap::new();
    for s in &truth.spots {
        *per.entry((s.nucleus, s.channel.clone())).or_default() += s.copies;
    }
    let (mut tt, mut tc, mut eligible) = (0u64, 0u64, 0usize);
    for n in truth.nuclei.values() {
        assert_eq!(
            per.get(&(n.id, "target".into())).copied().unwrap_or(0),
            n.target
        );
        assert_eq!(
            per.get(&(n.id, "control".into())).copied().unwrap_or(0),
            n.control
        );
        if n.reason == "overlapping" || n.reason == "cut_by_border" || n.is_debris {
            assert!(!n.scorable, "nucleus {} is {} but scorable", n.id, n.reason);
        }
        if n.scorable && n.target > 0 && n.control > 0 {
            tt += n.target as u64;
            tc += n.control as u64;
            eligible += 1;
        }
    }
    let s = &truth.summary;
    assert_eq!(
        (s.target_copies, s.control_copies, s.nuclei_eligible),
        (tt, tc, eligible)
    );
    assert!((s.ratio.unwrap() - tt as f64 / tc as f64).abs() < 1e-12);
    assert!(s.ratio.unwrap() > 3.0, "ratio-6 case is amplified in truth");
    // The case has what the benchmark needs: overlaps, border cuts, clusters.
    let reasons: Vec<&str> = truth.nuclei.values().map(|n| n.reason.as_str()).collect();
    assert!(reasons.contains(&"overlapping"));
    assert!(reasons.contains(&"cut_by_border"));
    assert!(truth
        .spots
        .iter()
        .any(|s| s.kind == "cluster" && s.copies >= 10));
    assert!(truth.spots.iter().any(|s| s.kind == "split"));
}

#[test]
fn per_channel_layout_and_z_stack() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pc");
    simulate(
        &dir,
        &[
            "--size",
            "256x256",
            "--layout",
            "per-channel",
            "--z-planes",
            "3",
        ],
    );
    for f in ["dapi.tif", "target.tif", "control.tif"] {
        let t = fishscore::io::tiff_read::read_tiff(&dir.join(f), &Default::default()).unwrap();
        assert_eq!(t.pages.len(), 3, "{f} has one page per focal plane");
        assert!((t.pixel_size_um.unwrap() - 0.1).abs() < 1e-6);
        assert_eq!(t.pages[0].dim(), (256, 256));
    }
    assert!(!dir.join("image.tif").exists());
}

#[test]
fn bad_arguments_exit_2_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("x");
    let o = out.to_str().unwrap();
    for args in [
        vec!["simulate", "--out", o, "--size", "12xq"],
        vec!["simulate", "--out", o, "--snr", "0"],
        vec!["simulate", "--out", o, "--density", "thick"],
        vec!["simulate", "--out", o, "--bogus"],
        vec!["simulate", "--out", o, "--recipe", "/no/such/recipe"],
        vec!["evaluate", "/no/such/truth", o],
        vec!["frobnicate"],
    ] {
        let r = run(&args, &[]);
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(
            err.trim().lines().count(),
            1,
            "{args:?}: one line, got {err}"
        );
        assert!(!err.contains("panicked"));
    }
    assert!(!out.exists(), "nothing written on bad arguments");
}

#[test]
fn recipe_writes_every_case() {
    let tmp = tempfile::tempdir().unwrap();
    let recipe = tmp.path().join("r.recipe");
    std::fs::write(
        &recipe,
        "a: --size 128x128 --seed 1\nb: --size 128x96 --seed 2 --tags x,y\n",
    )
    .unwrap();
    let root = tmp.path().join("set");
    run_ok(&[
        "simulate",
        "--recipe",
        recipe.to_str().unwrap(),
        "--out",
        root.to_str().unwrap(),
    ]);
    assert!(root.join("a/truth.json").exists() && root.join("b/image.tif").exists());
    let t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("b/truth.json")).unwrap()).unwrap();
    assert_eq!(t["tags"], serde_json::json!(["x", "y"]));
    assert_eq!(t["height"], 96);
}
