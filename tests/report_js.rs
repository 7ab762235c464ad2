//! The HTML report's JavaScript scoring (src/report/assets/score.js)
//! against the Rust scoring on random cases, under Node.js: every field of
//! the Score (call, rule text, ratio and interval to the last bit, QC
//! notes, ISCN, per-nucleus order) must be equal. Also pinned vectors of
//! the hash streams and of Rust's tie rounding in `{:.N}`.

#[path = "support/browser.rs"]
mod browser;

use fishscore::report::review::{apply_review, Action, Decision, Review, REVIEW_FORMAT};
use fishscore::report::score_input::{ScoreInput, SCORE_INPUT_FORMAT};
use fishscore::rng::Rng;
use fishscore::scoring::{NucleusCounts, Panel, ScoringParams};
use std::process::Command;

fn random_case(seed: u64) -> (ScoreInput, Vec<Decision>) {
    let mut r = Rng::new(seed, 7);
    let panels = ["mdm2-cep12", "cdk4-cep12", "her2-cep17", "egfr-cep7"];
    let mut panel = Panel::resolve(panels[r.int_range(0, 3) as usize]).unwrap();
    if r.bernoulli(0.15) {
        panel.require_both_signals = false;
    }
    let n_fields = r.int_range(1, 3) as usize;
    let n = r.int_range(0, 160) as usize;
    // Per case: a typical target level, so borderline ratios, equivocal
    // calls, polysomy and HER2 groups all occur.
    let level = r.range(0.5, 5.0);
    let reasons = [
        "overlapping",
        "cut_by_border",
        "out_of_focus",
        "too_small",
        " ",
    ];
    // Per field: the single-copy references' relative errors (sometimes
    // unknown), which widen the interval where clusters were counted.
    let se: Vec<[Option<f64>; 2]> = (0..n_fields)
        .map(|_| {
            [
                r.bernoulli(0.8).then(|| r.range(0.01, 0.2)),
                r.bernoulli(0.5).then(|| r.range(0.01, 0.2)),
            ]
        })
        .collect();
    let mut nuclei = Vec::new();
    for i in 0..n {
        let lambda = if r.bernoulli(0.2) { 3.5 } else { 1.9 };
        let control = r.poisson(lambda) as u32;
        let target = r.poisson(level * control.max(1) as f64) as u32;
        let scorable = r.bernoulli(0.75);
        let reason = reasons[r.int_range(0, 4) as usize];
        let faint = r.int_range(0, control as i64) as u32;
        let faint = if r.bernoulli(0.3) { faint } else { 0 };
        nuclei.push(NucleusCounts {
            field: i % n_fields,
            id: (i / n_fields) as u32 + 1,
            x: r.range(0.0, 500.0),
            y: r.range(0.0, 500.0),
            scorable,
            excluded_reason: (!scorable && r.bernoulli(0.9)).then_some(reason.to_string()),
            target,
            control,
            cluster: target > 8 && r.bernoulli(0.5),
            tntc: target > 15 && r.bernoulli(0.3),
            control_faint: faint,
            cluster_copies: [
                if target > 8 && r.bernoulli(0.5) {
                    r.int_range(0, target as i64) as u32
                } else {
                    0
                },
                if r.bernoulli(0.05) {
                    r.int_range(0, control as i64) as u32
                } else {
                    0
                },
            ],
            reference_rel_se: se[i % n_fields],
        });
    }
    let min = r.int_range(5, 60) as usize;
    let extra = r.int_range(0, 60) as usize;
    let params = ScoringParams {
        seed: r.int_range(0, 1 << 40) as u64,
        bootstrap_resamples: [0, 100, 400, 2000][r.int_range(0, 3) as usize],
        nuclei_range: r.bernoulli(0.5).then_some((min, min + extra)),
        faint_control_share_warn: 0.3,
        image_analysis_method: "test method".into(),
    };
    let input = ScoreInput {
        format: SCORE_INPUT_FORMAT.into(),
        case: format!("case{seed}"),
        fields: (0..n_fields).map(|f| format!("f{f}")).collect(),
        panel: panel.clone(),
        params,
        input_qc: vec![],
        nuclei,
    };
    // Decisions: exclude some eligible nuclei, include some morphology
    // exclusions that have both signals.
    let mut decisions = Vec::new();
    for nc in &input.nuclei {
        let both = nc.target > 0 && nc.control > 0;
        let d = if nc.scorable && r.bernoulli(0.08) {
            Some(Action::Exclude)
        } else if !nc.scorable && (both || !panel.require_both_signals) && r.bernoulli(0.1) {
            Some(Action::Include)
        } else {
            None
        };
        if let Some(d) = d {
            decisions.push(Decision {
                field: input.fields[nc.field].clone(),
                id: nc.id,
                decision: d,
            });
        }
    }
    (input, decisions)
}

#[test]
fn javascript_scoring_equals_rust_on_random_cases() {
    if !browser::gate("javascript_scoring_equals_rust_on_random_cases", false) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut cases = Vec::new();
    let mut want = Vec::new();
    let mut calls = std::collections::BTreeMap::new();
    for seed in 0..300u64 {
        let (input, decisions) = random_case(seed);
        let review = Review {
            format: REVIEW_FORMAT.into(),
            case: input.case.clone(),
            reviewer: "t".into(),
            time_utc: "t".into(),
            decisions: decisions.clone(),
            shown: None,
        };
        let score = apply_review(&input, &review).unwrap();
        *calls.entry(score.call.as_str()).or_insert(0) += 1;
        want.push(serde_json::to_value(&score).unwrap());
        let d: Vec<(String, &str)> = decisions
            .iter()
            .map(|d| {
                (
                    format!("{}:{}", input.field_index(&d.field).unwrap(), d.id),
                    match d.decision {
                        Action::Exclude => "exclude",
                        Action::Include => "include",
                    },
                )
            })
            .collect();
        cases.push(serde_json::json!({"input": input, "decisions": d}));
    }
    // The random cases cover every call.
    assert_eq!(calls.len(), 4, "{calls:?}");
    let path = tmp.path().join("cases.json");
    std::fs::write(&path, serde_json::to_string(&cases).unwrap()).unwrap();
    let score_js =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/report/assets/score.js");
    let out = Command::new("node")
        .arg(browser::browser_dir().join("score_cases.mjs"))
        .arg(&score_js)
        .arg(&path)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let scores = got["scores"].as_array().unwrap();
    assert_eq!(scores.len(), want.len());
    for (i, (g, w)) in scores.iter().zip(&want).enumerate() {
        if let Some(d) = browser::json_diff(g, w, "score") {
            panic!("case {i}: JavaScript and Rust differ at {d}");
        }
    }
    eprintln!(
        "{} cases equal; JS took {} ms, calls {calls:?}",
        want.len(),
        got["ms"]
    );
}

#[test]
fn javascript_tie_rounding_and_hash_vectors_match_rust() {
    if !browser::gate("javascript_tie_rounding_and_hash_vectors_match_rust", false) {
        return;
    }
    let values = [
        0.25,
        0.35,
        1.125,
        1.0625,
        2.5,
        0.5,
        1.5,
        0.125,
        0.375,
        17.0 / 16.0,
        12.5,
        5.634408602150538,
        0.0,
    ];
    let mut want = Vec::new();
    for v in values {
        for d in 0..4 {
            want.push(format!("{v:.d$}"));
        }
    }
    let script = format!(
        "const FS=require({:?});const v={};const o=[];for(const x of v)for(let d=0;d<4;d++)o.push(FS.fixed(x,d));\
         o.push(String(FS.orderKey(0,0,1)));o.push(String(FS.orderKey(42,2,17)));console.log(JSON.stringify(o));",
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/report/assets/score.js")
            .display()
            .to_string(),
        serde_json::to_string(&values).unwrap()
    );
    let out = Command::new("node").arg("-e").arg(script).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    want.push(fishscore::scoring::enumerate::order_key(0, 0, 1).to_string());
    want.push(fishscore::scoring::enumerate::order_key(42, 2, 17).to_string());
    assert_eq!(got, want);
}
