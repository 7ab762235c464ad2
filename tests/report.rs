//! The report outputs end to end through the binary on fixtures:
//! report.html is self-contained, nuclei.geojson has one feature per
//! nucleus in QuPath's form, labels.tif carries ImageJ calibration, and
//! `fishscore rescore` with a review file gives the library's rescore and
//! leaves the automated report byte-identical.

mod common;

use common::*;
use fishscore::report::score_input::ScoreInput;
use std::path::{Path, PathBuf};

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(p)
}

fn analyze(images: &[PathBuf], out: &Path) {
    let mut args: Vec<String> = vec!["analyze".into()];
    args.extend(images.iter().map(|p| p.display().to_string()));
    args.extend(["--out".into(), out.display().to_string()]);
    let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    run_ok(&a);
}

/// Every `src="..."` and `href="..."` value of an HTML text.
fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            let end = rest.find('"').unwrap_or(rest.len());
            out.push(rest[..end].chars().take(40).collect());
        }
    }
    out
}

fn nuclei_rows(dir: &Path) -> Vec<csv::StringRecord> {
    csv::Reader::from_path(dir.join("nuclei.csv"))
        .unwrap()
        .records()
        .map(|r| r.unwrap())
        .collect()
}

#[test]
fn html_is_self_contained_and_geojson_has_one_feature_per_nucleus() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("amp");
    analyze(&[fixture("amplified/image.tif")], &out);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();

    // Self-contained: every link is a data: URI or a fragment; no external
    // script, style sheet or font; small enough to mail.
    let l = links(&html);
    assert!(l.len() > 2, "{l:?}");
    for v in &l {
        assert!(
            v.starts_with("data:") || v.starts_with('#'),
            "external link {v}"
        );
    }
    assert!(!html.contains("<link"), "no external style sheet");
    assert!(!html.contains("@import") && !html.contains("url(http"));
    assert!(html.len() < 6_000_000, "{} bytes", html.len());
    // Shows the call and the ratio, and carries the data for live review.
    let call = report["call"].as_str().unwrap();
    assert!(html.contains(&format!("id=\"call\" class=\"call call-{call}\">{call}<")));
    let ratio = report["ratio"].as_f64().unwrap();
    assert!(html.contains(&format!("id=\"ratio\" data-value=\"{ratio}\">{ratio:.2}<")));
    assert!(html.contains("id=\"fishscore-data\""));
    let n_scored = report["nuclei_scored"].as_u64().unwrap() as usize;
    let tiles = html.matches("<figure id=\"tile-").count();
    let rows = nuclei_rows(&out);
    assert_eq!(tiles, rows.len(), "one tile per detected nucleus");
    let gallery =
        &html[html.find("id=\"g-enumerated\"").unwrap()..html.find("id=\"g-reserve-n\"").unwrap()];
    assert_eq!(gallery.matches("<figure ").count(), n_scored);

    // GeoJSON: a FeatureCollection, one Polygon detection per nucleus with
    // its counts and status, one Point per signal.
    let g: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("nuclei.geojson")).unwrap()).unwrap();
    assert_eq!(g["type"], "FeatureCollection");
    let feats = g["features"].as_array().unwrap();
    let polys: Vec<&serde_json::Value> = feats
        .iter()
        .filter(|f| f["geometry"]["type"] == "Polygon")
        .collect();
    assert_eq!(polys.len(), rows.len());
    let spots = csv::Reader::from_path(out.join("spots.csv"))
        .unwrap()
        .records()
        .count();
    assert_eq!(feats.len() - polys.len(), spots);
    let mut counted = 0;
    for (f, row) in polys.iter().zip(&rows) {
        let p = &f["properties"];
        assert_eq!(p["objectType"], "detection");
        let id: u64 = row[1].parse().unwrap();
        assert_eq!(p["measurements"]["Nucleus id"], id);
        assert_eq!(
            p["measurements"]["MDM2 signals"].as_u64().unwrap(),
            row[7].parse::<u64>().unwrap()
        );
        assert_eq!(
            p["measurements"]["CEP12 signals"].as_u64().unwrap(),
            row[8].parse::<u64>().unwrap()
        );
        for v in p["measurements"].as_object().unwrap().values() {
            assert!(v.is_number(), "QuPath measurements are numbers: {v}");
        }
        let class = p["classification"]["name"].as_str().unwrap();
        if &row[5] == "true" {
            counted += 1;
            assert_eq!(class, "Counted");
        } else if !row[6].is_empty() && &row[6] != "not_enumerated" {
            assert_eq!(class, format!("Excluded: {}", &row[6]));
            assert_eq!(p["metadata"]["excluded_reason"], &row[6]);
        }
        // A closed ring in pixel-corner coordinates inside the image.
        let ring = f["geometry"]["coordinates"][0].as_array().unwrap();
        assert!(ring.len() >= 5);
        assert_eq!(ring.first(), ring.last());
        for q in ring {
            let (x, y) = (q[0].as_f64().unwrap(), q[1].as_f64().unwrap());
            assert!((0.0..=768.0).contains(&x) && (0.0..=768.0).contains(&y));
        }
    }
    assert_eq!(counted, n_scored);

    // labels.tif: the ids of nuclei.csv, ImageJ calibration in micrometres.
    let t =
        fishscore::io::tiff_read::read_tiff(&out.join("labels.tif"), &Default::default()).unwrap();
    let max = t.pages[0].iter().fold(0.0f32, |a, &b| a.max(b)) as u64;
    let max_id = rows
        .iter()
        .map(|r| r[1].parse::<u64>().unwrap())
        .max()
        .unwrap();
    assert_eq!(max, max_id);
    let d = t.description.unwrap_or_default();
    assert!(d.starts_with("ImageJ=") && d.contains("unit=micron"), "{d}");
}

fn write_review(path: &Path, case: &str, decisions: &[(&str, u32, &str)]) {
    let d: Vec<serde_json::Value> = decisions
        .iter()
        .map(|(f, id, a)| serde_json::json!({"field": f, "id": id, "decision": a}))
        .collect();
    let r = serde_json::json!({
        "format": "fishscore-review/1", "case": case, "reviewer": "Dr R",
        "time_utc": "2026-11-25T10:00:00Z", "decisions": d,
    });
    std::fs::write(path, r.to_string()).unwrap();
}

#[test]
fn rescore_applies_the_review_like_the_library_and_keeps_the_automated_report() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("case1");
    analyze(&[fixture("amplified/image.tif")], &out);
    let json_before = std::fs::read(out.join("report.json")).unwrap();
    let html_before = std::fs::read(out.join("report.html")).unwrap();
    let input = ScoreInput::read(&out.join("score_input.json")).unwrap();
    let auto = input.score();
    // Exclude the three first nuclei of the enumeration order.
    let mut firsts: Vec<_> = auto
        .per_nucleus
        .iter()
        .filter(|s| s.order.is_some_and(|o| o < 3))
        .collect();
    firsts.sort_by_key(|s| s.order);
    let field = input.fields[0].clone();
    let review = tmp.path().join("review.json");
    let decisions: Vec<(&str, u32, &str)> = firsts
        .iter()
        .map(|s| (field.as_str(), s.id, "exclude"))
        .collect();
    write_review(&review, &input.case, &decisions);
    let o = run_ok(&[
        "rescore",
        out.to_str().unwrap(),
        "--review",
        review.to_str().unwrap(),
    ]);
    let msg = String::from_utf8_lossy(&o.stderr);
    assert!(msg.contains("reviewed by Dr R: 3 decision(s)"), "{msg}");

    let lib = fishscore::scoring::rescore(
        &input.nuclei,
        &input.panel,
        &input.params,
        &firsts.iter().map(|s| (s.field, s.id)).collect::<Vec<_>>(),
    );
    let reviewed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.reviewed.json")).unwrap()).unwrap();
    assert_ne!(lib.ratio, auto.ratio);
    assert_eq!(reviewed["ratio"].as_f64(), lib.ratio);
    assert_eq!(reviewed["call"], lib.call.as_str());
    assert_eq!(reviewed["nuclei_excluded"]["excluded_by_reviewer"], 3);
    let r = &reviewed["provenance"]["review"];
    assert_eq!(r["reviewer"], "Dr R");
    assert_eq!(r["automated"]["ratio"].as_f64(), auto.ratio);
    assert_eq!(r["reviewed"]["ratio"].as_f64(), lib.ratio);
    assert_eq!(r["call_changed"], false);
    // The 3 excluded and the 3 that took their places.
    assert_eq!(r["changes"].as_array().unwrap().len(), 6);
    assert!(r["review_sha256"].as_str().unwrap().len() == 64);
    // The original analysis provenance is kept.
    assert_eq!(
        reviewed["provenance"]["inputs"],
        serde_json::from_slice::<serde_json::Value>(&json_before).unwrap()["provenance"]["inputs"]
    );
    // The automated result is untouched; the reviewed page exists and
    // starts from the review.
    assert_eq!(std::fs::read(out.join("report.json")).unwrap(), json_before);
    assert_eq!(std::fs::read(out.join("report.html")).unwrap(), html_before);
    let page = std::fs::read_to_string(out.join("report.reviewed.html")).unwrap();
    assert!(page.contains("Reviewed by <b>Dr R</b>"));
    assert!(page.contains(&format!("data-value=\"{}\"", lib.ratio.unwrap())));
    assert_eq!(
        page.matches(" decided\" data-key=").count(),
        3 * 2,
        "tiles and outlines marked"
    );
}

#[test]
fn rescore_rejects_bad_reviews_with_one_line_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("c");
    analyze(&[fixture("insufficient/image.tif")], &out);
    let input = ScoreInput::read(&out.join("score_input.json")).unwrap();
    let review = tmp.path().join("r.json");
    let check = |want: &str| {
        let o = run(
            &[
                "rescore",
                out.to_str().unwrap(),
                "--review",
                review.to_str().unwrap(),
            ],
            &[],
        );
        let e = String::from_utf8_lossy(&o.stderr).to_string();
        assert_eq!(o.status.code(), Some(2), "{e}");
        assert_eq!(e.trim().lines().count(), 1, "{e}");
        assert!(e.contains(want) && e.contains("r.json"), "{e}");
        assert!(!out.join("report.reviewed.json").exists());
    };
    write_review(
        &review,
        &input.case,
        &[(&input.fields[0], 99_999, "exclude")],
    );
    check("has no nucleus 99999");
    write_review(&review, "other", &[]);
    check("case 'other'");
    std::fs::write(&review, "{not json").unwrap();
    check("not a fishscore review file");
    let o = run(
        &[
            "rescore",
            tmp.path().to_str().unwrap(),
            "--review",
            review.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("score_input.json"));
}

#[test]
fn two_fields_get_one_overlay_labels_and_geojson_each_and_rescore_reads_them() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("two");
    analyze(
        &[fixture("nonamp/image.tif"), fixture("polysomy/image.tif")],
        &out,
    );
    for f in ["image", "image_2"] {
        for (pre, ext) in [
            ("labels_", "tif"),
            ("overlay_", "png"),
            ("nuclei_", "geojson"),
        ] {
            assert!(
                out.join(format!("{pre}{f}.{ext}")).is_file(),
                "{pre}{f}.{ext}"
            );
        }
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(html.matches("<div class=\"field\">").count(), 2);
    let input = ScoreInput::read(&out.join("score_input.json")).unwrap();
    let auto = input.score();
    let s = auto
        .per_nucleus
        .iter()
        .find(|s| s.field == 1 && s.enumerated)
        .unwrap();
    let review = tmp.path().join("r.json");
    write_review(&review, &input.case, &[("image_2", s.id, "exclude")]);
    run_ok(&[
        "rescore",
        out.to_str().unwrap(),
        "--review",
        review.to_str().unwrap(),
    ]);
    let reviewed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.reviewed.json")).unwrap()).unwrap();
    let lib = fishscore::scoring::rescore(&input.nuclei, &input.panel, &input.params, &[(1, s.id)]);
    assert_eq!(reviewed["ratio"].as_f64(), lib.ratio);
    let page = std::fs::read_to_string(out.join("report.reviewed.html")).unwrap();
    assert!(page.contains(&format!("data-key=\"1:{}\"", s.id)));
}
