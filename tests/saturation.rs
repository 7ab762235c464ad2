//! Clipped images: DAPI clipped (the chromatin texture above the clip
//! leaks into both probe images, bleed-through the crosstalk correction
//! cannot predict) and probe clusters clipped (copy numbers are lower
//! bounds).

mod common;
use common::*;

#[test]
fn bleed_through_on_clipped_dapi_is_not_counted_as_signals() {
    // As the stress set's brightdapi case: about a tenth of the pixels
    // clipped at 4095.
    let (_tmp, truth, out, report) = simulate_and_analyze(&[
        "--size",
        "768x768",
        "--seed",
        "306",
        "--dapi-level",
        "3500",
        "--background",
        "60",
        "--snr",
        "15",
        "--ratio",
        "1.0",
    ]);
    let qc = report["qc"].to_string();
    assert!(qc.contains("DAPI clipped"), "{qc}");
    let m = stdout_json(&run_ok(&[
        "evaluate",
        truth.to_str().unwrap(),
        out.to_str().unwrap(),
    ]));
    // Without the exclusion the precision here is about 0.6 (a false dot
    // on the clipped chromatin of most nuclei).
    for ch in ["target", "control"] {
        let p = m["signals"][ch]["precision"].as_f64().unwrap();
        let r = m["signals"][ch]["recall"].as_f64().unwrap();
        assert!(p > 0.85, "{ch} precision {p}");
        assert!(r > 0.8, "{ch} recall {r}");
    }
}

#[test]
fn clusters_with_clipped_pixels_are_reported_as_lower_bounds() {
    // Bright, highly amplified: cluster cores clip at the 12-bit top.
    let (_tmp, _truth, _out, report) = simulate_and_analyze(&[
        "--size",
        "512x512",
        "--seed",
        "5",
        "--snr",
        "60",
        "--background",
        "400",
        "--ratio",
        "12",
    ]);
    let qc = report["qc"].to_string();
    assert!(
        qc.contains("cluster(s) of the target channel hold clipped pixels"),
        "{qc}"
    );
    let n = report["fields"][0]["signal_qc"][0]["clipped_clusters"]
        .as_u64()
        .unwrap();
    assert!(n > 0);
}
