//! Helpers shared by the end-to-end tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The fishscore binary built for the tests.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_fishscore"))
}

/// Runs fishscore with `args` (and optional environment) and returns its output.
pub fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(bin());
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("fishscore runs")
}

/// Runs fishscore and asserts success.
pub fn run_ok(args: &[&str]) -> Output {
    let o = run(args, &[]);
    assert!(
        o.status.success(),
        "fishscore {:?} failed: {}",
        args,
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Simulates a small case into `dir` with extra options.
pub fn simulate(dir: &Path, extra: &[&str]) {
    let d = dir.to_str().unwrap();
    let mut args = vec!["simulate", "--out", d];
    args.extend_from_slice(extra);
    run_ok(&args);
}

/// Simulates a case with `args`, analyses it; returns the temporary
/// folder, the truth and result folders, and report.json.
pub fn simulate_and_analyze(
    args: &[&str],
) -> (
    tempfile::TempDir,
    std::path::PathBuf,
    std::path::PathBuf,
    serde_json::Value,
) {
    let tmp = tempfile::tempdir().unwrap();
    let truth = tmp.path().join("t");
    simulate(&truth, args);
    let out = tmp.path().join("r");
    run_ok(&[
        "analyze",
        truth.join("image.tif").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let report =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    (tmp, truth, out, report)
}

/// Simulates a 768 x 768 case with `args` (after `--size 768x768`),
/// analyses it and evaluates the result against the truth; returns the
/// evaluation and report.json.
pub fn simulate_analyze_evaluate(args: &[&str]) -> (serde_json::Value, serde_json::Value) {
    let mut all = vec!["--size", "768x768"];
    all.extend_from_slice(args);
    let (_tmp, truth, out, report) = simulate_and_analyze(&all);
    let m = stdout_json(&run_ok(&[
        "evaluate",
        truth.to_str().unwrap(),
        out.to_str().unwrap(),
    ]));
    (m, report)
}

/// The `signal_qc` entry of `channel` ("target" or "control") in the
/// first field of report.json.
pub fn signal_qc<'a>(report: &'a serde_json::Value, channel: &str) -> &'a serde_json::Value {
    report["fields"][0]["signal_qc"]
        .as_array()
        .expect("signal_qc")
        .iter()
        .find(|q| q["channel"] == channel)
        .expect("channel in signal_qc")
}

/// Writes a perfect result (the truth restated in the analyze output
/// contract) into `out`: labels.tif, nuclei.csv, spots.csv, report.json.
pub fn perfect_result(truth: &Path, out: &Path) {
    std::fs::create_dir_all(out).unwrap();
    std::fs::copy(truth.join("truth_labels.tif"), out.join("labels.tif")).unwrap();
    let mut r = csv::Reader::from_path(truth.join("truth_nuclei.csv")).unwrap();
    let mut w = csv::Writer::from_path(out.join("nuclei.csv")).unwrap();
    w.write_record([
        "field",
        "id",
        "x",
        "y",
        "area_um2",
        "scored",
        "excluded_reason",
        "target",
        "control",
        "cluster",
    ])
    .unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        w.write_record([
            "f1",
            &rec[col("id")],
            &rec[col("x")],
            &rec[col("y")],
            &rec[col("area_um2")],
            &rec[col("eligible")],
            &rec[col("reason")],
            &rec[col("target_copies")],
            &rec[col("control_copies")],
            &rec[col("cluster")],
        ])
        .unwrap();
    }
    w.flush().unwrap();
    let mut r = csv::Reader::from_path(truth.join("truth_spots.csv")).unwrap();
    let mut w = csv::Writer::from_path(out.join("spots.csv")).unwrap();
    w.write_record([
        "field",
        "x",
        "y",
        "channel",
        "nucleus",
        "intensity",
        "copies",
        "kind",
    ])
    .unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        let kind = match &rec[col("kind")] {
            "split" => "split_merged",
            k => k,
        };
        w.write_record([
            "f1",
            &rec[col("x")],
            &rec[col("y")],
            &rec[col("channel")],
            &rec[col("nucleus")],
            &rec[col("flux")],
            &rec[col("copies")],
            kind,
        ])
        .unwrap();
    }
    w.flush().unwrap();
    let t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(truth.join("truth.json")).unwrap()).unwrap();
    let report = serde_json::json!({"ratio": t["ratio"], "call": t["call"]});
    std::fs::write(out.join("report.json"), report.to_string()).unwrap();
}

/// Parses JSON printed on stdout.
pub fn stdout_json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).expect("stdout is JSON")
}
