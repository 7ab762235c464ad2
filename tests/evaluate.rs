//! The evaluator on hand-made results whose answers are known.

mod common;
use common::*;

fn setup() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let truth = tmp.path().join("truth");
    simulate(
        &truth,
        &[
            "--size",
            "768x768",
            "--pixel-size-um",
            "0.14",
            "--seed",
            "5",
            "--ratio",
            "4",
            "--density",
            "dense",
        ],
    );
    let res = tmp.path().join("res");
    perfect_result(&truth, &res);
    (tmp, truth, res)
}

fn eval(truth: &std::path::Path, res: &std::path::Path) -> serde_json::Value {
    stdout_json(&run_ok(&[
        "evaluate",
        truth.to_str().unwrap(),
        res.to_str().unwrap(),
    ]))
}

#[test]
fn perfect_result_scores_perfectly() {
    let (_t, truth, res) = setup();
    let m = eval(&truth, &res);
    assert_eq!(m["nuclei"]["detection"]["f1"], 1.0);
    assert_eq!(m["nuclei"]["mean_iou"], 1.0);
    assert_eq!(m["nuclei"]["scorable_kept_share"], 1.0);
    assert_eq!(m["nuclei"]["overlapping_scored"], 0);
    assert_eq!(m["signals"]["all"]["f1"], 1.0);
    assert_eq!(m["counts"]["both_exact_rate"], 1.0);
    assert_eq!(m["signals"]["cluster_median_rel_error"], 0.0);
    assert_eq!(m["call"]["ratio_rel_error"], 0.0);
    assert_eq!(m["call"]["call_correct"], true);
}

#[test]
fn a_missing_nucleus_lowers_recall_to_n_minus_1_over_n() {
    let (_t, truth, res) = setup();
    // Erase one nucleus (a truly scorable one) from labels.tif.
    let t =
        fishscore::io::tiff_read::read_tiff(&res.join("labels.tif"), &Default::default()).unwrap();
    let mut lab = t.pages[0].mapv(|v| v as u32);
    let truth_rows = fishscore::evaluate::read::read_truth(&truth).unwrap();
    let victim = *truth_rows
        .nuclei
        .values()
        .filter(|n| n.scorable)
        .map(|n| &n.id)
        .min()
        .unwrap();
    lab.mapv_inplace(|v| if v == victim { 0 } else { v });
    fishscore::io::tiff_write::write_labels(&res.join("labels.tif"), &lab, 0.14).unwrap();
    let m = eval(&truth, &res);
    let n = truth_rows.nuclei.values().filter(|n| !n.is_debris).count() as f64;
    let recall = m["nuclei"]["detection"]["recall"].as_f64().unwrap();
    assert!(
        (recall - (n - 1.0) / n).abs() < 1e-12,
        "recall {recall}, n {n}"
    );
    assert_eq!(m["nuclei"]["detection"]["precision"], 1.0);
}

#[test]
fn a_doubled_spot_lowers_precision_only() {
    let (_t, truth, res) = setup();
    let text = std::fs::read_to_string(res.join("spots.csv")).unwrap();
    // Duplicate the first single control spot 5 px away.
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let i = lines
        .iter()
        .position(|l| l.contains(",control,") && l.ends_with(",single"))
        .unwrap();
    let f: Vec<&str> = lines[i].split(',').collect();
    let x: f64 = f[1].parse().unwrap();
    let moved = format!("{},{},{},{}", f[0], x + 5.0, f[2], f[3..].join(","));
    lines.push(moved);
    std::fs::write(res.join("spots.csv"), lines.join("\n") + "\n").unwrap();
    let m = eval(&truth, &res);
    let c = &m["signals"]["control"];
    assert_eq!(c["recall"], 1.0);
    let pred = c["predicted"].as_f64().unwrap();
    assert!((c["precision"].as_f64().unwrap() - (pred - 1.0) / pred).abs() < 1e-12);
    assert!(c["f1"].as_f64().unwrap() < 1.0);
    assert_eq!(m["signals"]["target"]["f1"], 1.0);
}

#[test]
fn a_wrong_call_is_reported_false() {
    let (_t, truth, res) = setup();
    std::fs::write(
        res.join("report.json"),
        r#"{"ratio": 1.1, "call": "NOT_AMPLIFIED"}"#,
    )
    .unwrap();
    let m = eval(&truth, &res);
    assert_eq!(m["call"]["truth_call"], "AMPLIFIED");
    assert_eq!(m["call"]["call_correct"], false);
    assert!(m["call"]["ratio_rel_error"].as_f64().unwrap() > 0.5);
}

#[test]
fn tree_mode_summarises_cases_and_reports_missing_results() {
    let tmp = tempfile::tempdir().unwrap();
    let (truth_root, res_root) = (tmp.path().join("t"), tmp.path().join("r"));
    for (name, seed) in [("c1", "1"), ("c2", "2")] {
        simulate(
            &truth_root.join(name),
            &["--size", "256x256", "--seed", seed, "--tags", "small"],
        );
    }
    perfect_result(&truth_root.join("c1"), &res_root.join("c1"));
    let m = stdout_json(&run_ok(&[
        "evaluate",
        truth_root.to_str().unwrap(),
        res_root.to_str().unwrap(),
    ]));
    assert_eq!(m["failed"], 1);
    assert_eq!(m["summary"]["cases"], 1);
    assert_eq!(m["summary"]["nuclei"]["f1"], 1.0);
    assert_eq!(m["by_tag"]["small"]["cases"], 1);
    assert!(m["cases"][1]["error"].as_str().unwrap().contains("c2"));
}

#[test]
fn the_counting_error_is_measured_on_the_nuclei_counted_not_all_scorable_ones() {
    let (_t, truth, res) = setup();
    // fishscore's own columns: `scorable` for every truly scorable nucleus,
    // `scored` for only the five smallest-id eligible ones.
    let truth_rows = fishscore::evaluate::read::read_truth(&truth).unwrap();
    let mut eligible: Vec<u32> = Vec::new();
    let mut r = csv::Reader::from_path(truth.join("truth_nuclei.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        if &rec[col("eligible")] == "true" {
            eligible.push(rec[col("id")].parse().unwrap());
        }
        rows.push(rec);
    }
    eligible.sort_unstable();
    let counted: Vec<u32> = eligible[..5].to_vec();
    let mut w = csv::Writer::from_path(res.join("nuclei.csv")).unwrap();
    w.write_record(["field", "id", "scorable", "scored", "target", "control"])
        .unwrap();
    for rec in &rows {
        let id: u32 = rec[col("id")].parse().unwrap();
        w.write_record([
            "f1",
            &rec[col("id")],
            &rec[col("scorable")],
            if counted.contains(&id) {
                "true"
            } else {
                "false"
            },
            &rec[col("target_copies")],
            &rec[col("control_copies")],
        ])
        .unwrap();
    }
    w.flush().unwrap();
    let (t, c) = counted.iter().fold((0u64, 0u64), |(t, c), id| {
        let n = &truth_rows.nuclei[id];
        (t + n.target as u64, c + n.control as u64)
    });
    let m = eval(&truth, &res);
    let of_counted = m["call"]["truth_ratio_of_scored"].as_f64().unwrap();
    assert!(
        (of_counted - t as f64 / c as f64).abs() < 1e-12,
        "{of_counted} vs {t}/{c}"
    );
    // Scorability is still judged on the `scorable` column.
    assert_eq!(m["nuclei"]["scorable_kept_share"], 1.0);
}
