//! Hot pixels: a camera's defective pixels (here 0.05 % of them, the same
//! in every channel, lognormal excess of a median 300 ADU) must not become
//! signals. The same simulated field with and without them: the repaired
//! run finds the spikes, says so in the QC, its signal F1 stays above 0.95
//! and its exact-count rates within 0.1 of the clean field's.

mod common;
use common::*;

fn counts(hot: &str) -> (serde_json::Value, serde_json::Value) {
    simulate_analyze_evaluate(&[
        "--seed",
        "77",
        "--ratio",
        "2.5",
        "--clusters",
        "off",
        "--hot-pixels",
        hot,
    ])
}

#[test]
fn hot_pixels_are_repaired_not_counted() {
    let (clean, clean_report) = counts("0");
    let (hot, report) = counts("0.0005");
    let spikes = |r: &serde_json::Value| -> Vec<u64> {
        ["target", "control"]
            .iter()
            .map(|ch| signal_qc(r, ch)["spikes_repaired"].as_u64().unwrap())
            .collect()
    };
    // Nothing to repair on the clean field; most of the 0.05 % of 590k
    // pixels (about 295) on the other.
    assert_eq!(spikes(&clean_report), vec![0, 0]);
    for n in spikes(&report) {
        assert!(n > 150, "{n} spikes repaired");
    }
    assert!(
        report["qc"].to_string().contains("single-pixel spike(s)"),
        "{}",
        report["qc"]
    );
    for ch in ["target", "control"] {
        let (f_clean, f_hot) = (
            clean["signals"][ch]["f1"].as_f64().unwrap(),
            hot["signals"][ch]["f1"].as_f64().unwrap(),
        );
        // Without the repair the stress set's hotpix-non case (0.05 %
        // hot pixels) had F1 0.46 / 0.43 (docs/accuracy.md).
        assert!(f_hot > 0.95, "{ch} F1 {f_hot} (clean {f_clean})");
    }
    for k in ["target_exact_rate", "control_exact_rate"] {
        let (a, b) = (
            clean["counts"][k].as_f64().unwrap(),
            hot["counts"][k].as_f64().unwrap(),
        );
        assert!(b > a - 0.1, "{k} {b} (clean {a})");
    }
}
