//! Outputs of `fishscore analyze` (a public contract, docs/outputs.md):
//! report.json, nuclei.csv, spots.csv, labels.tif (one per field) and
//! overlay.png. Everything is rendered in memory first, then each file is
//! written atomically (temporary file, then rename), so a failure never
//! leaves a half-written file and an earlier complete output is replaced
//! only by a complete one.

pub mod overlay;
pub mod provenance;
pub mod tables;

use crate::io::atomic::write_bytes_atomic;
use crate::io::IoError;
use crate::pipeline::CaseResult;
use provenance::Provenance;
use serde::Serialize;
use std::path::{Path, PathBuf};

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

#[derive(Serialize)]
struct FieldSummary<'a> {
    name: &'a str,
    width: usize,
    height: usize,
    pixel_size_um: f64,
    labels: String,
    overlay: String,
    nuclei_detected: usize,
    input: &'a Option<crate::io::load::InputInfo>,
    signal_qc: &'a [crate::spots::ChannelQc],
    granules_excluded: usize,
    timings_s: &'a [(String, f64)],
}

/// report.json: the call and its figures first (the keys of the output
/// contract), then the scoring details, per-field QC and provenance.
pub fn report_json(result: &CaseResult, prov: &Provenance) -> Result<String, String> {
    let s = &result.score;
    let mut qc: Vec<String> = s.qc.clone();
    for f in &result.fields {
        if let Some(info) = &f.input {
            for q in &info.qc {
                qc.push(format!("{}: {q}", f.name));
            }
        }
    }
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
            nuclei_detected: f.nuclei.len(),
            input: &f.input,
            signal_qc: &f.signals.qc,
            granules_excluded: f.signals.granules_excluded,
            timings_s: &f.timings,
        })
        .collect();
    let v = serde_json::json!({
        "case": result.case_id,
        "call": s.call,
        "rule": s.rule,
        "ratio": s.ratio,
        "ratio_ci95": s.ratio_ci95,
        "ci_crosses_cutoff": s.ci_crosses_cutoff,
        "nuclei_detected": s.nuclei_detected,
        "nuclei_scorable": s.nuclei_scorable,
        "nuclei_eligible": s.nuclei_eligible,
        "nuclei_scored": s.nuclei_scored,
        "nuclei_excluded": s.nuclei_excluded,
        "target_signals": s.target_signals,
        "control_signals": s.control_signals,
        "mean_target": s.mean_target,
        "mean_control": s.mean_control,
        "share_ratio_ge_cutoff": s.share_ratio_ge_cutoff,
        "share_cluster": s.share_cluster,
        "polysomy": s.polysomy,
        "her2_group": s.her2_group,
        "iscn": s.iscn,
        "cap": s.cap,
        "qc": qc,
        "panel": result.panel.name,
        "panel_definition": result.panel,
        "scoring": s,
        "nucleus_reference": result.nucleus_reference,
        "fields": fields,
        "provenance": prov,
    });
    serde_json::to_string_pretty(&v).map_err(|e| e.to_string())
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
    let json =
        report_json(result, prov).map_err(|e| IoError::write(&dir.join("report.json"), e))?;
    let nuclei_csv = tables::nuclei_csv(result);
    let spots_csv = tables::spots_csv(result);
    let overlays: Vec<(String, Vec<u8>)> = (0..result.fields.len())
        .map(|i| {
            overlay::encode_png(&overlay::render_overlay(&case.fields[i], result, i))
                .map(|png| (overlay_file_name(result, i), png))
                .map_err(|e| IoError::write(&dir.join(overlay_file_name(result, i)), e))
        })
        .collect::<Result<_, _>>()?;
    std::fs::create_dir_all(dir).map_err(|e| IoError::write(dir, e))?;
    let mut written = Vec::new();
    for (i, f) in result.fields.iter().enumerate() {
        let path = dir.join(labels_file_name(result, i));
        crate::io::tiff_write::write_labels(&path, &f.labels, f.pixel_size_um)?;
        written.push(path);
    }
    for (name, png) in overlays {
        let path = dir.join(name);
        write_bytes_atomic(&path, &png)?;
        written.push(path);
    }
    for (name, text) in [("nuclei.csv", nuclei_csv), ("spots.csv", spots_csv)] {
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
