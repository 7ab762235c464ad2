//! `fishscore rescore RESULT_DIR --review FILE`: applies a reviewer's
//! decisions to a result folder without re-analysing the images. It reads
//! score_input.json (the per-nucleus counts), report.json (fields and
//! provenance), and each field's overlay PNG and label image (for the
//! page's pictures), and writes
//!
//! - `report.reviewed.json`: report.json with every score key recomputed
//!   and `provenance.review` recording who reviewed, when, the decisions,
//!   every nucleus whose status changed, and the old and new call;
//! - `report.reviewed.html`: the page for the reviewed result, starting
//!   from the reviewer's decisions.
//!
//! report.json and report.html, the automated result, are never written.
//! A second review replaces the reviewed files (its decisions are again
//! relative to the automated result).

use super::contour::{trace_outlines, OUTLINE_TOLERANCE_PX};
use super::html::{build_model, render_html};
use super::overlay::Canvas;
use super::provenance::{now_utc, sha256_file};
use super::review::{apply_review, changes, parse_review, shown_matches, Outcome, ReviewRecord};
use super::score_input::ScoreInput;
use super::{score_entries, SCORE_INPUT_JSON};
use crate::io::atomic::write_bytes_atomic;
use crate::io::IoError;
use crate::scoring::Score;
use ndarray::Array2;
use std::path::{Path, PathBuf};

/// The reviewed report.json.
pub const REVIEWED_JSON: &str = "report.reviewed.json";
/// The reviewed report.html.
pub const REVIEWED_HTML: &str = "report.reviewed.html";

/// What a rescore produced.
#[derive(Debug, Clone)]
pub struct RescoreOutcome {
    /// The score after the review.
    pub score: Score,
    /// The review as recorded in provenance.
    pub record: ReviewRecord,
    /// Files written.
    pub written: Vec<PathBuf>,
}

fn read_json(path: &Path) -> Result<serde_json::Value, IoError> {
    let text = std::fs::read_to_string(path).map_err(|e| IoError::open(path, &e))?;
    serde_json::from_str(&text).map_err(|e| IoError::format(path, format!("not JSON: {e}")))
}

/// Decodes an overlay PNG into a canvas.
fn read_png(path: &Path) -> Result<Canvas, IoError> {
    let img = image::open(path)
        .map_err(|e| IoError::format(path, format!("cannot read the overlay image: {e}")))?
        .to_rgb8();
    Ok(Canvas {
        w: img.width() as usize,
        h: img.height() as usize,
        rgb: img.into_raw(),
    })
}

fn read_labels(path: &Path) -> Result<Array2<u32>, IoError> {
    let t = crate::io::tiff_read::read_tiff(path, &Default::default())?;
    let page = t
        .pages
        .into_iter()
        .next()
        .ok_or_else(|| IoError::format(path, "no image in the label file"))?;
    Ok(page.mapv(|v| v.max(0.0) as u32))
}

/// Rescores the result folder `dir` with the review file `review_path`.
pub fn rescore_dir(dir: &Path, review_path: &Path) -> Result<RescoreOutcome, IoError> {
    let input_path = dir.join(SCORE_INPUT_JSON);
    let report_path = dir.join("report.json");
    let input = ScoreInput::read(&input_path)?;
    let report = read_json(&report_path)?;
    let text = std::fs::read_to_string(review_path).map_err(|e| IoError::open(review_path, &e))?;
    let review = parse_review(&text).map_err(|e| IoError::format(review_path, e))?;

    // The stored input must reproduce the automated report.
    let automated = input.score();
    let same = report.get("call").and_then(|v| v.as_str()) == Some(automated.call.as_str())
        && report.get("ratio").and_then(|v| v.as_f64()) == automated.ratio
        && report.get("nuclei_scored").and_then(|v| v.as_u64())
            == Some(automated.nuclei_scored as u64);
    if !same {
        return Err(IoError::format(
            &input_path,
            "does not reproduce report.json (call, ratio or nuclei counted differ): the result folder was edited or mixed",
        ));
    }
    let reviewed = apply_review(&input, &review).map_err(|e| IoError::format(review_path, e))?;
    let (_, review_sha) = sha256_file(review_path).map_err(|e| IoError::open(review_path, &e))?;
    let record = ReviewRecord {
        reviewer: review.reviewer.clone(),
        review_time_utc: review.time_utc.clone(),
        rescored_utc: now_utc(),
        review_file: review_path.display().to_string(),
        review_sha256: review_sha,
        decisions: review.decisions.clone(),
        changes: changes(&input, &automated, &reviewed),
        automated: Outcome::of(&automated),
        reviewed: Outcome::of(&reviewed),
        call_changed: automated.call != reviewed.call,
        shown_matches: review.shown.as_ref().map(|s| shown_matches(s, &reviewed)),
        automated_report: "report.json".into(),
    };

    // report.reviewed.json: the score keys replaced, the review recorded.
    let mut out = report.clone();
    let obj = out
        .as_object_mut()
        .ok_or_else(|| IoError::format(&report_path, "not a JSON object"))?;
    let mut qc = reviewed.qc.clone();
    qc.extend(input.input_qc.iter().cloned());
    for (k, v) in score_entries(&reviewed, qc) {
        obj.insert(k, v);
    }
    obj.insert("scoring".into(), serde_json::json!(reviewed));
    obj.insert("reviewed".into(), serde_json::json!(true));
    let record_value = serde_json::json!(record);
    match obj.get_mut("provenance").and_then(|p| p.as_object_mut()) {
        Some(p) => {
            p.insert("review".into(), record_value);
        }
        None => {
            obj.insert(
                "provenance".into(),
                serde_json::json!({ "review": record_value }),
            );
        }
    }
    let json = serde_json::to_string_pretty(&out)
        .map_err(|e| IoError::write(&dir.join(REVIEWED_JSON), e))?;

    // report.reviewed.html from the stored pictures.
    let fields = report
        .get("fields")
        .and_then(|f| f.as_array())
        .ok_or_else(|| IoError::format(&report_path, "has no 'fields' list"))?;
    let mut views = Vec::new();
    for (i, name) in input.fields.iter().enumerate() {
        let f = fields
            .iter()
            .find(|f| f.get("name").and_then(|n| n.as_str()) == Some(name))
            .ok_or_else(|| {
                IoError::format(
                    &report_path,
                    format!("no entry for field '{name}' (field {i})"),
                )
            })?;
        let file = |k: &str| -> Result<PathBuf, IoError> {
            let n = f.get(k).and_then(|v| v.as_str()).ok_or_else(|| {
                IoError::format(&report_path, format!("field '{name}' has no '{k}' file"))
            })?;
            // Only plain file names inside the result folder.
            if n.contains(['/', '\\']) || n == ".." {
                return Err(IoError::format(
                    &report_path,
                    format!("field '{name}': '{n}' is not a file name"),
                ));
            }
            Ok(dir.join(n))
        };
        let px = f
            .get("pixel_size_um")
            .and_then(|v| v.as_f64())
            .filter(|v| v.is_finite() && *v > 0.0)
            .ok_or_else(|| {
                IoError::format(&report_path, format!("field '{name}' has no pixel size"))
            })?;
        let canvas = read_png(&file("overlay")?)?;
        let labels_path = file("labels")?;
        let labels = read_labels(&labels_path)?;
        if labels.dim() != (canvas.h, canvas.w) {
            return Err(IoError::format(
                &labels_path,
                format!(
                    "is {} x {} but the overlay is {} x {}",
                    labels.ncols(),
                    labels.nrows(),
                    canvas.w,
                    canvas.h
                ),
            ));
        }
        views.push((
            name.clone(),
            px,
            canvas,
            trace_outlines(&labels, OUTLINE_TOLERANCE_PX),
        ));
    }
    let prov = report
        .get("provenance")
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    let model = build_model(
        input,
        views
            .iter()
            .map(|(n, px, c, o)| (n.clone(), *px, c, o.clone()))
            .collect(),
        prov,
    )
    .map_err(|e| IoError::write(&dir.join(REVIEWED_HTML), e))?;
    let page = render_html(&model, &reviewed, Some(&record));

    let mut written = Vec::new();
    for (name, text) in [(REVIEWED_HTML, page), (REVIEWED_JSON, json)] {
        let path = dir.join(name);
        write_bytes_atomic(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(RescoreOutcome {
        score: reviewed,
        record,
        written,
    })
}
