//! `fishscore batch` end to end through the binary on fixtures: failure
//! isolation, summary.csv, --resume, plain progress off a terminal,
//! manifests and the plan; and thread-count determinism of `analyze`.

mod common;

use std::path::{Path, PathBuf};

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(p)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn summary(out: &Path) -> Vec<csv::StringRecord> {
    let mut r = csv::Reader::from_path(out.join("summary.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    assert_eq!(&h[0], "case");
    assert_eq!(&h[1], "status");
    assert_eq!(&h[2], "error");
    r.records().map(|x| x.unwrap()).collect()
}

fn col(h: &str) -> usize {
    fishscore::batch::SUMMARY_COLUMNS
        .iter()
        .position(|c| *c == h)
        .unwrap()
}

#[test]
fn batch_isolates_a_corrupt_case_and_resume_redoes_only_the_missing_one() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    for case in ["good1", "good2", "corrupt"] {
        std::fs::create_dir_all(input.join(case)).unwrap();
    }
    std::fs::copy(
        fixture("insufficient/image.tif"),
        input.join("good1/image.tif"),
    )
    .unwrap();
    std::fs::copy(
        fixture("insufficient/image.tif"),
        input.join("good2/image.tif"),
    )
    .unwrap();
    // A TIFF header followed by garbage: opens as TIFF, fails to decode.
    let mut bad = b"II*\0\x08\0\0\0".to_vec();
    bad.extend(std::iter::repeat_n(0xA5u8, 300));
    std::fs::write(input.join("corrupt/image.tif"), bad).unwrap();
    let out = d.path().join("out");

    let o = common::run(&["batch", s(&input), "--out", s(&out)], &[]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    // Not a terminal: plain log lines, no carriage returns or escapes.
    assert!(!err.contains('\r') && !err.contains('\x1b'), "{err}");
    for k in 1..=3 {
        assert!(err.contains(&format!("[{k}/3] ")), "{err}");
    }
    let rows = summary(&out);
    assert_eq!(rows.len(), 3);
    let by = |c: &str| rows.iter().find(|r| &r[0] == c).unwrap().clone();
    let bad = by("corrupt");
    assert_eq!(&bad[col("status")], "failed");
    assert!(
        bad[col("error")].contains("corrupt/image.tif"),
        "error names the file: {:?}",
        &bad[col("error")]
    );
    assert!(!out.join("corrupt").exists());
    for g in ["good1", "good2"] {
        let r = by(g);
        assert_eq!(&r[col("status")], "ok");
        assert_eq!(&r[col("call")], "INSUFFICIENT");
        assert!(r[col("ratio")].parse::<f64>().unwrap() > 0.0);
        assert_eq!(&r[col("resumed")], "false");
        assert!(out.join(g).join("report.json").is_file());
        assert!(out.join(g).join("report.html").is_file());
    }
    // The two copies of one image give the same figures.
    assert_eq!(by("good1")[col("ratio")], by("good2")[col("ratio")]);
    let html = std::fs::read_to_string(out.join("summary.html")).unwrap();
    assert!(html.contains("href=\"good1/report.html\""));
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary folders left behind");

    // Resume after deleting one case's output, with the stale temporary
    // folder a killed run leaves behind.
    std::fs::remove_dir_all(out.join("good2")).unwrap();
    std::fs::create_dir_all(out.join(".tmp-good2-4000000000/partial")).unwrap();
    let kept = std::fs::metadata(out.join("good1/report.json"))
        .unwrap()
        .modified()
        .unwrap();
    let o = common::run(&["batch", s(&input), "--out", s(&out), "--resume"], &[]);
    assert_eq!(o.status.code(), Some(3));
    let rows = summary(&out);
    let by = |c: &str| rows.iter().find(|r| &r[0] == c).unwrap().clone();
    assert_eq!(&by("good1")[col("resumed")], "true");
    assert_eq!(&by("good1")[col("status")], "ok");
    assert_eq!(&by("good2")[col("resumed")], "false");
    assert_eq!(&by("good2")[col("status")], "ok");
    assert_eq!(&by("corrupt")[col("status")], "failed");
    assert_eq!(by("good1")[col("ratio")], by("good2")[col("ratio")]);
    assert!(out.join("good2/report.json").is_file());
    let after = std::fs::metadata(out.join("good1/report.json"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(kept, after, "a resumed case is not rewritten");
    assert!(!out.join(".tmp-good2-4000000000").exists());

    // Without the corrupt case every case runs: exit code 0.
    std::fs::remove_dir_all(input.join("corrupt")).unwrap();
    let o = common::run(&["batch", s(&input), "--out", s(&out), "--resume"], &[]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn batch_reads_a_manifest_and_prints_a_plan() {
    let d = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("insufficient/image.tif"), d.path().join("a.tif")).unwrap();
    let manifest = d.path().join("cases.csv");
    std::fs::write(
        &manifest,
        "case,files,panel,pixel_size_um,channels,layout\n\
         one,a.tif,mdm2-cep12,0.1,0;1;2,\n\
         missing,nothere.tif,,,,\n",
    )
    .unwrap();
    let out = d.path().join("out");
    let o = common::run(&["batch", s(&manifest), "--out", s(&out)], &[]);
    assert_eq!(o.status.code(), Some(3));
    let rows = summary(&out);
    assert_eq!(rows.len(), 2);
    // Cases come sorted by id.
    assert_eq!(&rows[0][0], "missing");
    assert!(rows[0][col("error")].contains("nothere.tif"));
    assert_eq!(&rows[1][col("status")], "ok");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("one/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["case"], "one");
    assert_eq!(
        report["provenance"]["parameters"]["input"]["channels"],
        serde_json::json!([0, 1, 2])
    );

    let o = common::run_ok(&["batch", s(&manifest), "--out", s(&out), "--plan"]);
    let plan: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(plan.len(), 2);
    let args: Vec<String> = serde_json::from_value(plan[1]["args"].clone()).unwrap();
    assert!(args[0].ends_with("a.tif"));
    assert!(args.join(" ").contains("--channels 0,1,2"));

    // Bad manifests and inputs are one-line usage errors (exit code 2).
    std::fs::write(&manifest, "case,files\n../x,a.tif\n").unwrap();
    let o = common::run(&["batch", s(&manifest), "--out", s(&out)], &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("cases.csv: line 2"), "{err}");
    let o = common::run(&["batch", s(&d.path().join("nope")), "--out", s(&out)], &[]);
    assert_eq!(o.status.code(), Some(2));
}

/// report.json without what legitimately differs between runs: times,
/// thread count, command line, stage timings.
fn comparable_report(dir: &Path) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let p = v["provenance"].as_object_mut().unwrap();
    for k in ["started_utc", "finished_utc", "threads", "command_line"] {
        assert!(p.remove(k).is_some(), "provenance.{k} missing");
    }
    for f in v["fields"].as_array_mut().unwrap() {
        assert!(f.as_object_mut().unwrap().remove("timings_s").is_some());
    }
    v
}

#[test]
fn one_and_four_threads_give_identical_results() {
    let d = tempfile::tempdir().unwrap();
    let img = fixture("amplified/image.tif");
    let mut outs = Vec::new();
    for t in ["1", "4"] {
        let out = d.path().join(format!("t{t}"));
        common::run_ok(&[
            "analyze",
            s(&img),
            "--out",
            s(&out),
            "--case-id",
            "amplified",
            "--threads",
            t,
        ]);
        outs.push(out);
    }
    assert_eq!(comparable_report(&outs[0]), comparable_report(&outs[1]));
    for f in ["nuclei.csv", "spots.csv", "labels.tif", "score_input.json"] {
        assert!(
            std::fs::read(outs[0].join(f)).unwrap() == std::fs::read(outs[1].join(f)).unwrap(),
            "{f} differs between 1 and 4 threads"
        );
    }
}

#[test]
fn a_killed_batch_leaves_no_half_written_case_and_resume_finishes_it() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let cases = ["k1", "k2", "k3", "k4", "k5", "k6"];
    for case in cases {
        std::fs::copy(
            fixture("insufficient/image.tif"),
            input.join(format!("{case}.tif")),
        )
        .unwrap();
    }
    let out = d.path().join("out");
    let mut child = std::process::Command::new(common::bin())
        .args(["batch", s(&input), "--out", s(&out), "--threads", "1"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it while it works (wherever it is by then: each case takes
    // about half a second).
    std::thread::sleep(std::time::Duration::from_millis(500));
    child.kill().unwrap();
    child.wait().unwrap();
    for e in std::fs::read_dir(&out).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if e.path().is_dir() && !name.starts_with(".tmp-") {
            assert!(
                e.path().join("report.json").is_file(),
                "{name} is a half-written case folder"
            );
        }
    }
    let o = common::run(&["batch", s(&input), "--out", s(&out), "--resume"], &[]);
    assert_eq!(o.status.code(), Some(0));
    for case in cases {
        assert!(out.join(case).join("report.json").is_file());
    }
    assert!(!std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with(".tmp-")));
}
