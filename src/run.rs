//! One case from files to a result folder: read the fields, run the
//! pipeline, checksum the inputs and write every output. Shared by
//! `fishscore analyze` (one case) and `fishscore batch` (many), so both
//! produce the same report for the same input and options.
//!
//! [`run_case`] runs on the current rayon pool: the caller decides the
//! threads (`analyze --threads`, or the batch's pool, in which cases and
//! the fields and rows inside them share the workers).

use crate::io::load::{load_field, FieldSource, LoadOptions, DEFAULT_PROJECTION};
use crate::io::project::Projection;
use crate::io::IoError;
use crate::pipeline::{analyze, AnalyzeParams, CaseResult};
use crate::plane::Case;
use crate::report::provenance::{now_utc, sha256_file, InputFile, Provenance};
use crate::scoring::{parse_nuclei_range, Panel};
use rayon::prelude::*;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What one case is made of: its fields and the per-case input options
/// (a batch manifest can set them case by case).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseSpec {
    /// Case identifier written into the report.
    pub id: String,
    /// The fields scored together (their nuclei are pooled).
    pub sources: Vec<FieldSource>,
    /// Panel: a built-in name (mdm2-cep12, ...) or a TOML file.
    pub panel: String,
    /// Channel indices of DAPI, target and control (overrides the file's
    /// channel names); `None` to use the file's names or page order.
    pub channels: Option<[usize; 3]>,
    /// Pixel size in um overriding the files' metadata.
    pub pixel_size_um: Option<f64>,
}

/// Options shared by every case of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    /// Pixel size (um) used when neither the case nor the file gives one.
    pub default_pixel_size_um: f64,
    /// Z-stack projection: "max" or "edf" (`None`: the loader's default).
    pub projection: Option<String>,
    /// Nuclei to enumerate, `MIN..MAX` (`None`: the panel's).
    pub nuclei: Option<String>,
    /// Seed of the enumeration order and the bootstrap.
    pub seed: u64,
    /// The command line recorded in the provenance.
    pub command_line: Vec<String>,
    /// Analyse a one-file case tile by tile ([`crate::scan`]) with cores
    /// of this side (um). `None`: tiles only for an image above the
    /// one-field pixel limit (a whole-slide scan), with the default tiles.
    pub tile_um: Option<f64>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            default_pixel_size_um: 0.1,
            projection: None,
            nuclei: None,
            seed: 0,
            command_line: Vec::new(),
            tile_um: None,
        }
    }
}

/// Why a case could not be run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    /// Bad input or options (exit code 2 for `analyze`): one line naming
    /// the file or option and the problem.
    #[error("{0}")]
    Input(String),
    /// A failure of fishscore itself (exit code 1).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<IoError> for RunError {
    fn from(e: IoError) -> Self {
        RunError::Input(e.to_string())
    }
}

/// The headline of a finished case (one row of a batch's summary.csv).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseSummary {
    /// Case identifier.
    pub case: String,
    /// `AMPLIFIED`, `NOT_AMPLIFIED`, `EQUIVOCAL` or `INSUFFICIENT`.
    pub call: String,
    /// Pooled target/control ratio (`None` without control signals).
    pub ratio: Option<f64>,
    /// Bootstrap 95 % interval of the ratio.
    pub ratio_ci95: Option<[f64; 2]>,
    /// Nuclei detected in all fields.
    pub nuclei_detected: usize,
    /// Nuclei enumerated.
    pub nuclei_scored: usize,
    /// QC notes of report.json.
    pub qc: Vec<String>,
    /// Seconds per stage, in order: ("load", s), ("<field> nuclei", s),
    /// ("<field> signals", s), ("scoring", s), ("write", s).
    pub timings: Vec<(String, f64)>,
}

impl CaseSummary {
    /// Reads the headline back from a report.json written by
    /// [`run_case`] (used by `batch --resume`); `None` if a key is missing.
    pub fn from_report_json(v: &serde_json::Value) -> Option<CaseSummary> {
        let pair = |x: &serde_json::Value| -> Option<[f64; 2]> {
            let a = x.as_array()?;
            Some([a.first()?.as_f64()?, a.get(1)?.as_f64()?])
        };
        Some(CaseSummary {
            case: v.get("case")?.as_str()?.to_string(),
            call: v.get("call")?.as_str()?.to_string(),
            ratio: v.get("ratio")?.as_f64(),
            ratio_ci95: pair(v.get("ratio_ci95")?),
            nuclei_detected: v.get("nuclei_detected")?.as_u64()? as usize,
            nuclei_scored: v.get("nuclei_scored")?.as_u64()? as usize,
            qc: v
                .get("qc")?
                .as_array()?
                .iter()
                .filter_map(|q| q.as_str().map(String::from))
                .collect(),
            timings: Vec::new(),
        })
    }
}

/// Parses `--projection` (`None`: the loader's default, max).
pub fn parse_projection(p: Option<&str>) -> Result<Projection, RunError> {
    match p {
        None => Ok(DEFAULT_PROJECTION),
        Some("max") => Ok(Projection::Max),
        Some("edf") => Ok(Projection::Edf),
        Some(o) => Err(RunError::Input(format!(
            "--projection {o}: expected max or edf"
        ))),
    }
}

/// Checks a pixel size given by the user (um).
pub fn check_pixel_size(px: f64, what: &str) -> Result<(), RunError> {
    if px.is_finite() && px > 0.0 && px < 50.0 {
        Ok(())
    } else {
        Err(RunError::Input(format!(
            "{what} {px}: expected a pixel size in micrometres, e.g. 0.1"
        )))
    }
}

/// The analysis parameters of a run (defaults, seed, `--nuclei`).
pub fn analysis_params(opts: &RunOptions) -> Result<AnalyzeParams, RunError> {
    let mut params = AnalyzeParams::default();
    params.scoring.seed = opts.seed;
    params.scoring.image_analysis_method = format!(
        "fishscore {} automated image analysis (DAPI segmentation, DoG spot detection, intensity-based cluster estimation)",
        crate::VERSION
    );
    if let Some(r) = &opts.nuclei {
        params.scoring.nuclei_range =
            Some(parse_nuclei_range(r).map_err(|e| RunError::Input(format!("--nuclei {r}: {e}")))?);
    }
    Ok(params)
}

/// Analyses one case and writes its outputs into `out` (created if
/// missing; report.json is written last, so its presence marks a complete
/// folder). Runs on the current rayon pool; the result does not depend on
/// its thread count.
pub fn run_case(spec: &CaseSpec, opts: &RunOptions, out: &Path) -> Result<CaseSummary, RunError> {
    let started = now_utc();
    let panel = Panel::resolve(&spec.panel).map_err(|e| RunError::Input(e.to_string()))?;
    if spec.sources.is_empty() {
        return Err(RunError::Input(format!(
            "case {}: no input: give image files, or --dapi, --target and --control",
            spec.id
        )));
    }
    if let Some(px) = spec.pixel_size_um {
        check_pixel_size(px, "--pixel-size-um")?;
    }
    let projection = parse_projection(opts.projection.as_deref())?;
    let params = analysis_params(opts)?;
    let load = LoadOptions {
        channels: spec.channels,
        pixel_size_um: spec.pixel_size_um,
        default_pixel_size_um: opts.default_pixel_size_um,
        projection,
        aliases: panel.channels.clone(),
        ..LoadOptions::default()
    };
    if let [src @ FieldSource::Multi(_)] = spec.sources.as_slice() {
        // Metadata only; a file that cannot be opened is reported by
        // load_field below with its usual message.
        if let Ok(scan) = crate::io::load::open_scan(src, &load) {
            let pixels = scan.width() as u64 * scan.height() as u64;
            if opts.tile_um.is_some() || pixels > load.limits.max_pixels {
                let ctx = ScanContext {
                    spec,
                    opts,
                    load: &load,
                    panel: &panel,
                    params: &params,
                    started,
                };
                return run_scan(&scan, &ctx, out);
            }
        }
    }
    let t0 = Instant::now();
    let loaded: Vec<_> = spec
        .sources
        .par_iter()
        .map(|s| load_field(s, &load))
        .collect::<Result<Vec<_>, _>>()?;
    let load_s = t0.elapsed().as_secs_f64();
    let mut files: Vec<PathBuf> = Vec::new();
    let mut fields = Vec::new();
    let mut infos = Vec::new();
    for (f, info) in loaded {
        files.extend(info.files.iter().cloned());
        fields.push(f);
        infos.push(Some(info));
    }
    // Field names must be unique within a case.
    let mut seen = std::collections::HashMap::new();
    for f in fields.iter_mut() {
        let n = seen.entry(f.name.clone()).or_insert(0usize);
        *n += 1;
        if *n > 1 {
            f.name = format!("{}_{}", f.name, n);
        }
    }
    let case = Case {
        id: spec.id.clone(),
        fields,
    };
    let result = analyze(&case, infos, &panel, &params);
    let prov = provenance(
        &opts.command_line,
        started,
        &files,
        serde_json::json!({
            "analysis": params,
            "input": {
                "channels": spec.channels,
                "pixel_size_um": spec.pixel_size_um,
                "default_pixel_size_um": opts.default_pixel_size_um,
                "projection": projection.as_str(),
                "limits": load.limits,
            },
            "panel": spec.panel,
        }),
    )?;
    let t1 = Instant::now();
    crate::report::write_outputs(out, &case, &result, &prov)?;
    let write_s = t1.elapsed().as_secs_f64();
    Ok(summarize(&result, load_s, write_s))
}

/// What [`run_scan`] needs besides the scan.
struct ScanContext<'a> {
    spec: &'a CaseSpec,
    opts: &'a RunOptions,
    load: &'a LoadOptions,
    panel: &'a Panel,
    params: &'a AnalyzeParams,
    started: String,
}

/// A whole-slide scan, tile by tile: writes report.json, nuclei.csv,
/// spots.csv and score_input.json (no images: report.html, overlay.png,
/// labels.tif and the GeoJSON are not made for a scan). Tiles are fields
/// `tile<i>` in the tables; nucleus and signal positions are in scan
/// pixels.
fn run_scan(
    scan: &crate::io::load::Scan,
    ctx: &ScanContext,
    out: &Path,
) -> Result<CaseSummary, RunError> {
    use crate::io::atomic::{temp_path, write_atomic};
    use crate::report::{
        report_map, score_input::ScoreInput, tables, write_report, SCORE_INPUT_JSON,
    };
    use crate::scan::{analyze_scan, ScanParams};
    use std::io::Write;
    let mut sp = ScanParams::default();
    if let Some(t) = ctx.opts.tile_um {
        if !(t.is_finite() && t > 0.0) {
            return Err(RunError::Input(format!(
                "--tile-um {t}: expected a tile side in micrometres, e.g. 100"
            )));
        }
        sp.tile_um = t;
    }
    {
        // A tile's f32 plane, with 5 % for the filters' padding.
        let (core, margin) = sp.core_and_margin_px(scan.info().pixel_size_um);
        let side = (core + 2 * margin) as f64;
        let plane = (side * side * 4.0 * 1.05) as usize;
        crate::memory::map_blocks_from(plane.next_power_of_two());
    }
    let t0 = Instant::now();
    // spots.csv is written while the tiles are analysed (each tile's rows
    // in tile order, to a temporary file renamed once the analysis has
    // succeeded): a slide's signals are never all in memory.
    let created = !out.exists();
    std::fs::create_dir_all(out).map_err(|e| IoError::write(out, e))?;
    let spots_path = out.join("spots.csv");
    let spots_tmp = temp_path(&spots_path);
    let analysed = (|| {
        let f = std::fs::File::create(&spots_tmp).map_err(|e| IoError::write(&spots_path, e))?;
        let mut w = std::io::BufWriter::new(f);
        let werr = |e: std::io::Error| IoError::write(&spots_path, e);
        w.write_all(tables::SPOTS_CSV_HEADER.as_bytes())
            .map_err(werr)?;
        let mut sink = |i: usize, signals: &[crate::spots::Signal]| {
            tables::write_spot_rows(&mut w, &format!("tile{i}"), signals).map_err(werr)
        };
        let r = analyze_scan(scan, ctx.load, ctx.panel, ctx.params, &sp, Some(&mut sink))?;
        let f = w.into_inner().map_err(|e| werr(e.into_error()))?;
        f.sync_all().map_err(werr)?;
        std::fs::rename(&spots_tmp, &spots_path).map_err(werr)?;
        Ok::<_, IoError>(r)
    })();
    let r = match analysed {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(&spots_tmp);
            if created {
                // Only removes the directory if it is empty.
                let _ = std::fs::remove_dir(out);
            }
            return Err(e.into());
        }
    };
    let analysis_s = t0.elapsed().as_secs_f64();
    let px = scan.info().pixel_size_um;
    // The slide's results are moved, never copied, and each output is
    // written straight to its file: memory after the analysis grows with
    // the number of nuclei, so it is kept to one copy of them.
    let (width, height, n_tiles) = (r.width, r.height, r.tiles.len());
    let nuclei_detected = r.counts.len();
    let mut result = CaseResult {
        case_id: ctx.spec.id.clone(),
        fields: r
            .tiles
            .into_iter()
            .enumerate()
            .map(|(i, t)| t.into_field_result(i, px))
            .collect(),
        counts: r.counts,
        nucleus_reference: r.nucleus_reference,
        score: r.score,
        panel: ctx.panel.clone(),
        scoring: ctx.params.scoring.clone(),
        scoring_seconds: 0.0,
    };
    let prov = provenance(
        &ctx.opts.command_line,
        ctx.started.clone(),
        &scan.info().files,
        serde_json::json!({
            "analysis": ctx.params,
            "input": {
                "channels": ctx.spec.channels,
                "pixel_size_um": ctx.spec.pixel_size_um,
                "default_pixel_size_um": ctx.opts.default_pixel_size_um,
                "limits": ctx.load.limits,
            },
            "scan": sp,
            "panel": ctx.spec.panel,
        }),
    )?;
    let t1 = Instant::now();
    write_atomic(&out.join("nuclei.csv"), |w| {
        tables::write_nuclei_csv(w, &result).map_err(|e| e.to_string())
    })?;
    {
        let input = ScoreInput {
            nuclei: std::mem::take(&mut result.counts),
            ..ScoreInput::from_result(&result)
        };
        write_atomic(&out.join(SCORE_INPUT_JSON), |w| {
            serde_json::to_writer_pretty(w, &input).map_err(|e| e.to_string())
        })?;
        result.counts = input.nuclei;
    }
    let mut json = report_map(&result, &prov);
    let note = format!(
        "whole-slide scan analysed in {} tiles of {} um: report.html, overlay.png, labels.tif and nuclei.geojson are not written for scans",
        n_tiles,
        sp.tile_um
    );
    if let Some(q) = json.get_mut("qc").and_then(|q| q.as_array_mut()) {
        q.push(serde_json::json!(note));
    }
    json.insert(
        "fields".into(),
        serde_json::json!([{
            "name": "scan",
            "width": width,
            "height": height,
            "pixel_size_um": px,
            "tiles": n_tiles,
            "tile_um": sp.tile_um,
            "margin_um": sp.margin_um,
            "input": scan.info(),
            "nuclei_detected": nuclei_detected,
            "timings_s": [["analysis", analysis_s]],
        }]),
    );
    // report.json last: its presence marks a complete result (batch --resume).
    write_atomic(&out.join("report.json"), |w| {
        write_report(w, &json, &result.score).map_err(|e| e.to_string())
    })?;
    let mut s = summarize(&result, 0.0, t1.elapsed().as_secs_f64());
    s.qc.push(note);
    s.timings = vec![
        ("scan analysis".into(), analysis_s),
        ("write".into(), t1.elapsed().as_secs_f64()),
    ];
    Ok(s)
}

/// Provenance of a run: program, times, threads, the SHA-256 of every input
/// (hashed in parallel) and the parameters.
fn provenance(
    command_line: &[String],
    started_utc: String,
    files: &[PathBuf],
    parameters: serde_json::Value,
) -> Result<Provenance, RunError> {
    let inputs = files
        .par_iter()
        .map(|p| {
            sha256_file(p)
                .map(|(bytes, sha256)| InputFile {
                    path: p.clone(),
                    bytes,
                    sha256,
                })
                .map_err(|e| RunError::Input(IoError::open(p, &e).to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Provenance {
        program: "fishscore".into(),
        version: crate::VERSION.into(),
        command_line: command_line.to_vec(),
        started_utc,
        finished_utc: now_utc(),
        threads: rayon::current_num_threads(),
        inputs,
        parameters,
    })
}

fn summarize(result: &CaseResult, load_s: f64, write_s: f64) -> CaseSummary {
    let s = &result.score;
    let mut qc = s.qc.clone();
    qc.extend(crate::report::score_input::input_qc(result));
    let mut timings = vec![("load".to_string(), load_s)];
    for f in &result.fields {
        for (stage, t) in &f.timings {
            timings.push((format!("{} {stage}", f.name), *t));
        }
    }
    timings.push(("scoring".into(), result.scoring_seconds));
    timings.push(("write".into(), write_s));
    CaseSummary {
        case: result.case_id.clone(),
        call: s.call.as_str().to_string(),
        ratio: s.ratio,
        ratio_ci95: s.ratio_ci95,
        nuclei_detected: s.nuclei_detected,
        nuclei_scored: s.nuclei_scored,
        qc,
        timings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_reads_back_from_report_json() {
        let v = serde_json::json!({
            "case": "a", "call": "AMPLIFIED", "ratio": 3.5, "ratio_ci95": [3.0, 4.0],
            "nuclei_detected": 80, "nuclei_scored": 50, "qc": ["faint control"]
        });
        let s = CaseSummary::from_report_json(&v).unwrap();
        assert_eq!(s.call, "AMPLIFIED");
        assert_eq!(s.ratio, Some(3.5));
        assert_eq!(s.ratio_ci95, Some([3.0, 4.0]));
        assert_eq!((s.nuclei_detected, s.nuclei_scored), (80, 50));
        assert_eq!(s.qc, vec!["faint control".to_string()]);
        let none = serde_json::json!({"case": "a", "call": "INSUFFICIENT", "ratio": null,
            "ratio_ci95": null, "nuclei_detected": 3, "nuclei_scored": 0, "qc": []});
        let s = CaseSummary::from_report_json(&none).unwrap();
        assert_eq!((s.ratio, s.ratio_ci95), (None, None));
        assert!(CaseSummary::from_report_json(&serde_json::json!({"case": "a"})).is_none());
    }

    #[test]
    fn bad_options_are_one_line_input_errors() {
        assert!(matches!(
            parse_projection(Some("sum")),
            Err(RunError::Input(_))
        ));
        assert!(check_pixel_size(0.0, "--pixel-size-um").is_err());
        assert!(check_pixel_size(0.1, "--pixel-size-um").is_ok());
        let o = RunOptions {
            nuclei: Some("abc".into()),
            ..RunOptions::default()
        };
        assert!(matches!(analysis_params(&o), Err(RunError::Input(_))));
    }
}
