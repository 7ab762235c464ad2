//! Outputs of `fishscore analyze` (a public contract, docs/outputs.md):
//! report.json, report.html, score_input.json, nuclei.csv, spots.csv, and
//! per field labels.tif, overlay.png and nuclei.geojson. Everything is
//! rendered in memory first, then each file is written atomically
//! (temporary file, then rename), so a failure never leaves a half-written
//! file and an earlier complete output is replaced only by a complete one.
//! `fishscore rescore` ([`rescore`]) adds report.reviewed.json and
//! report.reviewed.html from a reviewer's decisions, without the images.

pub mod contour;
pub mod font;
pub mod geojson;
pub mod html;
pub mod labels;
pub mod overlay;
pub mod provenance;
pub mod rescore;
pub mod review;
pub mod score_input;
pub mod tables;

use crate::io::atomic::write_bytes_atomic;
use crate::io::IoError;
use crate::pipeline::CaseResult;
use crate::scoring::Score;
use provenance::Provenance;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Scoring status of the nuclei of field `fi`, by nucleus id.
pub fn field_status(
    result: &CaseResult,
    fi: usize,
) -> std::collections::HashMap<u32, &crate::scoring::NucleusStatus> {
    result
        .score
        .per_nucleus
        .iter()
        .filter(|s| s.field == fi)
        .map(|s| (s.id, s))
        .collect()
}

/// File name of a field's label image: `labels.tif` for a one-field case,
/// `labels_<field>.tif` otherwise.
pub fn labels_file_name(result: &CaseResult, field: usize) -> String {
    if result.fields.len() == 1 {
        "labels.tif".to_string()
    } else {
        format!(
            "labels_{}.tif",
            tables::safe_name(&result.fields[field].name)
        )
    }
}

/// File name of a field's overlay.
pub fn overlay_file_name(result: &CaseResult, field: usize) -> String {
    if result.fields.len() == 1 {
        "overlay.png".to_string()
    } else {
        format!(
            "overlay_{}.png",
            tables::safe_name(&result.fields[field].name)
        )
    }
}

/// File name of a field's GeoJSON: `nuclei.geojson` for a one-field case,
/// `nuclei_<field>.geojson` otherwise.
pub fn geojson_file_name(result: &CaseResult, field: usize) -> String {
    if result.fields.len() == 1 {
        "nuclei.geojson".to_string()
    } else {
        format!(
            "nuclei_{}.geojson",
            tables::safe_name(&result.fields[field].name)
        )
    }
}

/// The HTML report.
pub const REPORT_HTML: &str = "report.html";
/// The scoring input kept for rescoring.
pub const SCORE_INPUT_JSON: &str = "score_input.json";

#[derive(Serialize)]
struct FieldSummary<'a> {
    name: &'a str,
    width: usize,
    height: usize,
    pixel_size_um: f64,
    labels: String,
    overlay: String,
    geojson: String,
    nuclei_detected: usize,
    input: &'a Option<crate::io::load::InputInfo>,
    signal_qc: &'a [crate::spots::ChannelQc],
    granules_excluded: usize,
    dapi_bleed_excluded: usize,
    timings_s: &'a [(String, f64)],
}

/// report.json: the call and its figures first (the keys of the output
/// contract), then the scoring details, per-field QC and provenance.
pub fn report_json(result: &CaseResult, prov: &Provenance) -> Result<String, String> {
    let mut out = Vec::new();
    write_report(&mut out, &report_map(result, prov), &result.score).map_err(|e| e.to_string())?;
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// report.json's entries with `scoring` left null (in its place): a
/// whole slide's scoring holds the status of every nucleus, which
/// [`write_report`] serialises straight from the [`Score`] rather than
/// through a JSON tree ten times its size.
pub fn report_map(
    result: &CaseResult,
    prov: &Provenance,
) -> serde_json::Map<String, serde_json::Value> {
    let s = &result.score;
    let mut qc: Vec<String> = s.qc.clone();
    qc.extend(score_input::input_qc(result));
    let fields: Vec<FieldSummary> = result
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| FieldSummary {
            name: &f.name,
            width: f.labels.ncols(),
            height: f.labels.nrows(),
            pixel_size_um: f.pixel_size_um,
            labels: labels_file_name(result, i),
            overlay: overlay_file_name(result, i),
            geojson: geojson_file_name(result, i),
            nuclei_detected: f.nuclei.len(),
            input: &f.input,
            signal_qc: &f.signals.qc,
            granules_excluded: f.signals.granules_excluded,
            dapi_bleed_excluded: f.signals.dapi_bleed_excluded,
            timings_s: &f.timings,
        })
        .collect();
    let mut v = serde_json::Map::new();
    v.insert("case".into(), serde_json::json!(result.case_id));
    v.extend(score_entries(s, qc));
    v.insert("panel".into(), serde_json::json!(result.panel.name));
    v.insert("panel_definition".into(), serde_json::json!(result.panel));
    v.insert("scoring".into(), serde_json::Value::Null);
    v.insert(
        "nucleus_reference".into(),
        serde_json::json!(result.nucleus_reference),
    );
    v.insert("fields".into(), serde_json::json!(fields));
    v.insert("provenance".into(), serde_json::json!(prov));
    v
}

/// Writes report.json from [`report_map`]'s entries, its `scoring` entry
/// serialised from `score`.
pub fn write_report<W: std::io::Write>(
    w: W,
    map: &serde_json::Map<String, serde_json::Value>,
    score: &Score,
) -> serde_json::Result<()> {
    struct Out<'a>(&'a serde_json::Map<String, serde_json::Value>, &'a Score);
    impl Serialize for Out<'_> {
        fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut m = ser.serialize_map(Some(self.0.len()))?;
            for (k, v) in self.0 {
                if k == "scoring" {
                    m.serialize_entry(k, self.1)?;
                } else {
                    m.serialize_entry(k, v)?;
                }
            }
            m.end()
        }
    }
    serde_json::to_writer_pretty(w, &Out(map, score))
}

/// The keys of report.json that the score decides (the call and its
/// figures), in report order; `qc` is the score's notes followed by the
/// input layer's. `rescore` replaces exactly these keys (and `scoring`).
pub fn score_entries(s: &Score, qc: Vec<String>) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::json;
    let mut m = serde_json::Map::new();
    m.insert("call".into(), json!(s.call));
    m.insert("rule".into(), json!(s.rule));
    m.insert("ratio".into(), json!(s.ratio));
    m.insert("ratio_ci95".into(), json!(s.ratio_ci95));
    m.insert("ci_crosses_cutoff".into(), json!(s.ci_crosses_cutoff));
    m.insert("nuclei_detected".into(), json!(s.nuclei_detected));
    m.insert("nuclei_scorable".into(), json!(s.nuclei_scorable));
    m.insert("nuclei_eligible".into(), json!(s.nuclei_eligible));
    m.insert("nuclei_scored".into(), json!(s.nuclei_scored));
    m.insert("nuclei_excluded".into(), json!(s.nuclei_excluded));
    m.insert("target_signals".into(), json!(s.target_signals));
    m.insert("control_signals".into(), json!(s.control_signals));
    m.insert("mean_target".into(), json!(s.mean_target));
    m.insert("mean_control".into(), json!(s.mean_control));
    m.insert(
        "share_ratio_ge_cutoff".into(),
        json!(s.share_ratio_ge_cutoff),
    );
    m.insert("share_cluster".into(), json!(s.share_cluster));
    m.insert("polysomy".into(), json!(s.polysomy));
    m.insert("her2_group".into(), json!(s.her2_group));
    m.insert("iscn".into(), json!(s.iscn));
    m.insert("cap".into(), json!(s.cap));
    m.insert("qc".into(), json!(qc));
    m
}

/// Writes every output of a case into `dir` (created if missing); returns
/// the files written.
pub fn write_outputs(
    dir: &Path,
    case: &crate::plane::Case,
    result: &CaseResult,
    prov: &Provenance,
) -> Result<Vec<PathBuf>, IoError> {
    // Render everything first: a failure here writes nothing.
    use rayon::prelude::*;
    let json =
        report_json(result, prov).map_err(|e| IoError::write(&dir.join("report.json"), e))?;
    let nuclei_csv = tables::nuclei_csv(result);
    let spots_csv = tables::spots_csv(result);
    let input = score_input::ScoreInput::from_result(result);
    if input.score() != result.score {
        return Err(IoError::write(
            &dir.join(SCORE_INPUT_JSON),
            "internal error: the stored scoring input does not reproduce the score",
        ));
    }
    let input_json = serde_json::to_string_pretty(&input)
        .map_err(|e| IoError::write(&dir.join(SCORE_INPUT_JSON), e))?;
    let n = result.fields.len();
    // Two independent chains run side by side: the overlays (render, then
    // PNG) and the outlines (trace, then GeoJSON); the HTML model, which
    // needs both, runs beside the PNG encoding.
    let (canvases, traced) = rayon::join(
        || {
            (0..n)
                .into_par_iter()
                .map(|i| overlay::render_overlay(&case.fields[i], result, i))
                .collect::<Vec<overlay::Canvas>>()
        },
        || -> Result<_, IoError> {
            let outlines: Vec<Vec<(u32, contour::Ring)>> = result
                .fields
                .par_iter()
                .map(|f| contour::trace_outlines(&f.labels, contour::OUTLINE_TOLERANCE_PX))
                .collect();
            let geojsons: Vec<(String, String)> = (0..n)
                .map(|i| {
                    let name = geojson_file_name(result, i);
                    serde_json::to_string(&geojson::field_geojson(result, i, &outlines[i]))
                        .map(|t| (name.clone(), t))
                        .map_err(|e| IoError::write(&dir.join(&name), e))
                })
                .collect::<Result<_, _>>()?;
            Ok((outlines, geojsons))
        },
    );
    let (outlines, geojsons) = traced?;
    let prov_value =
        serde_json::to_value(prov).map_err(|e| IoError::write(&dir.join(REPORT_HTML), e))?;
    let (overlays, model) = rayon::join(
        || {
            canvases
                .par_iter()
                .enumerate()
                .map(|(i, c)| {
                    overlay::encode_png(c)
                        .map(|png| (overlay_file_name(result, i), png))
                        .map_err(|e| IoError::write(&dir.join(overlay_file_name(result, i)), e))
                })
                .collect::<Result<Vec<(String, Vec<u8>)>, _>>()
        },
        || {
            html::build_model(
                input,
                result
                    .fields
                    .iter()
                    .zip(&canvases)
                    .zip(outlines)
                    .map(|((f, c), o)| (f.name.clone(), f.pixel_size_um, c, o))
                    .collect(),
                prov_value,
            )
            .map_err(|e| IoError::write(&dir.join(REPORT_HTML), e))
        },
    );
    let (overlays, model) = (overlays?, model?);
    let page = html::render_html(&model, &result.score, None);
    drop(canvases);
    std::fs::create_dir_all(dir).map_err(|e| IoError::write(dir, e))?;
    let mut written = Vec::new();
    for (i, f) in result.fields.iter().enumerate() {
        let path = dir.join(labels_file_name(result, i));
        labels::write_labels_imagej(&path, &f.labels, f.pixel_size_um)?;
        written.push(path);
    }
    for (name, png) in overlays {
        let path = dir.join(name);
        write_bytes_atomic(&path, &png)?;
        written.push(path);
    }
    for (name, text) in geojsons.into_iter().chain([
        ("nuclei.csv".to_string(), nuclei_csv),
        ("spots.csv".to_string(), spots_csv),
        (SCORE_INPUT_JSON.to_string(), input_json),
        (REPORT_HTML.to_string(), page),
    ]) {
        let path = dir.join(name);
        write_bytes_atomic(&path, text.as_bytes())?;
        written.push(path);
    }
    // report.json last: its presence marks a complete result folder.
    let path = dir.join("report.json");
    write_bytes_atomic(&path, json.as_bytes())?;
    written.push(path);
    Ok(written)
}
