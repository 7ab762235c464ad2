//! report.html in a real headless browser (Debian's Chromium driven by
//! playwright-core, tests/browser/check_report.mjs): the page loads with
//! no console error and no network request, shows the call, has one
//! gallery tile per enumerated nucleus, and toggling nuclei (one excluded,
//! one morphology exclusion included) changes the displayed ratio,
//! interval and call to exactly what the Rust code computes for the same
//! review. The exported review file then goes through `fishscore
//! rescore`, which must agree and leave report.json byte-identical.
//!
//! Runs when Node.js, /usr/bin/chromium and tests/browser/node_modules are
//! present; prints SKIPPED otherwise, and fails under
//! FISHSCORE_BROWSER_TESTS=1 (.ci/run).

#[path = "support/browser.rs"]
mod browser;
mod common;

use common::*;
use fishscore::report::review::{apply_review, Action, Decision, Review, REVIEW_FORMAT};
use fishscore::report::score_input::ScoreInput;
use std::process::Command;

#[test]
fn report_html_in_chromium_recomputes_like_rust() {
    if !browser::gate("report_html_in_chromium_recomputes_like_rust", true) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("amp");
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/amplified/image.tif");
    run_ok(&[
        "analyze",
        fixture.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let report_bytes = std::fs::read(out.join("report.json")).unwrap();
    let report: serde_json::Value = serde_json::from_slice(&report_bytes).unwrap();
    let input = ScoreInput::read(&out.join("score_input.json")).unwrap();
    let auto = input.score();

    // The first nucleus in the enumeration order, and a nucleus that only
    // its shape excluded (with both signals), to include.
    let first = auto
        .per_nucleus
        .iter()
        .find(|s| s.order == Some(0))
        .unwrap();
    let shape = input
        .nuclei
        .iter()
        .find(|n| !n.scorable && n.target > 0 && n.control > 0)
        .expect("a morphology exclusion with both signals");
    let keys = [
        format!("{}:{}", first.field, first.id),
        format!("{}:{}", shape.field, shape.id),
    ];
    let review_out = tmp.path().join("review.json");
    let plan = serde_json::json!({
        "toggle": keys,
        "reviewer": "Dr Test Reviewer",
        "review_out": review_out,
        "screenshot": std::env::var("FISHSCORE_SCREENSHOT").ok(),
    });
    let plan_path = tmp.path().join("plan.json");
    std::fs::write(&plan_path, plan.to_string()).unwrap();
    let o = Command::new("node")
        .arg(browser::browser_dir().join("check_report.mjs"))
        .arg(out.join("report.html"))
        .arg(&plan_path)
        .env("FISHSCORE_CHROMIUM", browser::chromium())
        .output()
        .expect("node runs");
    assert!(
        o.status.success(),
        "browser driver failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let b: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();

    // Loads cleanly and offline.
    assert_eq!(b["console_errors"], serde_json::json!([]), "{b}");
    assert_eq!(b["page_errors"], serde_json::json!([]), "{b}");
    for r in b["requests"].as_array().unwrap() {
        let r = r.as_str().unwrap();
        assert!(
            r.starts_with("file:") || r.starts_with("data:") || r.starts_with("blob:"),
            "network request {r}"
        );
    }
    // Shows the call, verified, one tile per enumerated nucleus.
    let before = &b["before"];
    assert_eq!(before["call"], report["call"]);
    assert_eq!(before["verify"], "verify ok", "{}", before["verify_text"]);
    assert_eq!(before["tiles_enumerated"], report["nuclei_scored"]);
    assert_eq!(
        before["tiles_total"].as_u64().unwrap(),
        input.nuclei.len() as u64
    );
    assert_eq!(before["plots"], 3);
    assert_eq!(
        before["ratio_value"].as_str().unwrap().parse::<f64>().ok(),
        auto.ratio
    );
    assert_eq!(
        before["ratio_text"].as_str().unwrap(),
        format!("{:.2}", auto.ratio.unwrap())
    );

    // After the two toggles: the Rust result of the same review.
    let review = Review {
        format: REVIEW_FORMAT.into(),
        case: input.case.clone(),
        reviewer: "x".into(),
        time_utc: "x".into(),
        decisions: vec![
            Decision {
                field: input.fields[first.field].clone(),
                id: first.id,
                decision: Action::Exclude,
            },
            Decision {
                field: input.fields[shape.field].clone(),
                id: shape.id,
                decision: Action::Include,
            },
        ],
        shown: None,
    };
    let want = apply_review(&input, &review).unwrap();
    assert_ne!(want.ratio, auto.ratio, "the review must change the ratio");
    let after = &b["after"];
    let shown_ratio: f64 = after["ratio_value"].as_str().unwrap().parse().unwrap();
    assert_eq!(Some(shown_ratio), want.ratio);
    assert_eq!(
        after["ratio_text"].as_str().unwrap(),
        format!("{:.2}", want.ratio.unwrap())
    );
    let shown_ci: Option<[f64; 2]> =
        serde_json::from_str(after["ci_value"].as_str().unwrap()).unwrap();
    assert_eq!(shown_ci, want.ratio_ci95);
    assert_eq!(after["call"], want.call.as_str());
    assert_eq!(
        after["tiles_enumerated"].as_u64().unwrap(),
        want.nuclei_scored as u64
    );
    if let Some(d) = browser::json_diff(
        &after["score"],
        &serde_json::to_value(&want).unwrap(),
        "score",
    ) {
        panic!("the page's score differs from Rust's at {d}");
    }

    // The exported review through fishscore rescore.
    let exported: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&review_out).unwrap()).unwrap();
    assert_eq!(exported["reviewer"], "Dr Test Reviewer");
    assert_eq!(exported["decisions"].as_array().unwrap().len(), 2);
    run_ok(&[
        "rescore",
        out.to_str().unwrap(),
        "--review",
        review_out.to_str().unwrap(),
    ]);
    let reviewed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.reviewed.json")).unwrap()).unwrap();
    assert_eq!(reviewed["ratio"].as_f64(), want.ratio);
    assert_eq!(reviewed["provenance"]["review"]["shown_matches"], true);
    assert_eq!(
        reviewed["provenance"]["review"]["reviewer"],
        "Dr Test Reviewer"
    );
    assert_eq!(
        std::fs::read(out.join("report.json")).unwrap(),
        report_bytes
    );

    // The reviewed page opens with the review applied, verified.
    let plan_path2 = tmp.path().join("plan2.json");
    std::fs::write(&plan_path2, "{}").unwrap();
    let o2 = Command::new("node")
        .arg(browser::browser_dir().join("check_report.mjs"))
        .arg(out.join("report.reviewed.html"))
        .arg(&plan_path2)
        .env("FISHSCORE_CHROMIUM", browser::chromium())
        .output()
        .expect("node runs");
    assert!(
        o2.status.success(),
        "{}",
        String::from_utf8_lossy(&o2.stderr)
    );
    let b2: serde_json::Value = serde_json::from_slice(&o2.stdout).unwrap();
    assert_eq!(b2["console_errors"], serde_json::json!([]), "{b2}");
    assert_eq!(b2["page_errors"], serde_json::json!([]), "{b2}");
    let r2 = &b2["before"];
    assert_eq!(r2["verify"], "verify ok", "{}", r2["verify_text"]);
    assert_eq!(
        r2["ratio_value"].as_str().unwrap().parse::<f64>().ok(),
        want.ratio
    );
    assert_eq!(
        r2["tiles_enumerated"].as_u64().unwrap(),
        want.nuclei_scored as u64
    );
    eprintln!(
        "toggles took {} ms; ratio {} -> {}",
        b["toggle_ms"], before["ratio_text"], after["ratio_text"]
    );
}
