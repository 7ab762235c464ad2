//! Channel registration: the MDM2 image 0.3 um off the DAPI image (filter
//! cubes not co-aligned) leaves the DAPI bleed-through it carries beside
//! where the crosstalk correction subtracts it, and the left-over chromatin
//! edges become false dots (stress cases shift-non and shift-amp:
//! exact counts 79 / 62 % without the registration; docs/accuracy.md). The
//! same field with and without the shift: the shift is found on that
//! bleed-through, undone and said in the QC, and the counts come back.

mod common;
use common::*;

fn run(shift: &str) -> (serde_json::Value, serde_json::Value) {
    simulate_analyze_evaluate(&[
        "--seed",
        "79",
        "--ratio",
        "2.5",
        "--clusters",
        "off",
        &format!("--target-shift-um={shift}"),
    ])
}

fn applied(report: &serde_json::Value, channel: &str) -> serde_json::Value {
    signal_qc(report, channel)["registration_applied_px"].clone()
}

#[test]
fn a_probe_image_off_the_dapi_image_is_moved_back() {
    let (clean, clean_report) = run("0,0");
    let (moved, report) = run("0.3,-0.2");
    for ch in ["target", "control"] {
        assert_eq!(
            applied(&clean_report, ch),
            serde_json::json!([0, 0]),
            "{ch}"
        );
    }
    assert_eq!(applied(&report, "target"), serde_json::json!([3, -2]));
    assert_eq!(applied(&report, "control"), serde_json::json!([0, 0]));
    assert!(
        report["qc"].to_string().contains("off the DAPI image"),
        "{}",
        report["qc"]
    );
    // Positions are in the DAPI image's frame again: the signals match the
    // truth's as well as on the field without the shift.
    let f1 = |m: &serde_json::Value| m["signals"]["target"]["f1"].as_f64().unwrap();
    assert!(
        f1(&moved) > f1(&clean) - 0.02,
        "F1 {} (clean {})",
        f1(&moved),
        f1(&clean)
    );
    let ex = |m: &serde_json::Value| m["counts"]["target_exact_rate"].as_f64().unwrap();
    assert!(
        ex(&moved) > ex(&clean) - 0.05,
        "exact {} (clean {})",
        ex(&moved),
        ex(&clean)
    );
}
