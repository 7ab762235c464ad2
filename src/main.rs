//! The `fishscore` binary: parse the command line, call the library, map
//! errors to exit codes (0 success, 2 bad input or usage, 1 internal).

use anyhow::Result;
use clap::Parser;
use fishscore::cli::{AnalyzeArgs, Cli, Command, EvaluateArgs, RescoreArgs, SimulateArgs};
use fishscore::io::IoError;
use fishscore::simulate::{self, recipe, SimError};
use rayon::prelude::*;
use std::process::ExitCode;

/// An error the user can fix (exit code 2) or an internal failure (1).
enum Failure {
    Input(String),
    Internal(String),
}

impl From<IoError> for Failure {
    fn from(e: IoError) -> Self {
        Failure::Input(e.to_string())
    }
}

impl From<SimError> for Failure {
    fn from(e: SimError) -> Self {
        Failure::Input(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                let _ = e.print();
                return ExitCode::from(2);
            }
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or("bad arguments");
            eprintln!("{first} (see fishscore --help)");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Analyze(a) => run_analyze(*a),
        Command::Simulate(a) => run_simulate(*a),
        Command::Evaluate(a) => run_evaluate(a),
        Command::Rescore(a) => run_rescore(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(2)
        }
        Err(Failure::Internal(m)) => {
            eprintln!("internal error: {m}");
            ExitCode::from(1)
        }
    }
}

fn run_simulate(a: SimulateArgs) -> Result<(), Failure> {
    if let Some((w, h)) = a.mosaic {
        simulate::mosaic::write_mosaic(&a.params, w, h, &a.out)?;
        eprintln!("simulated {w} x {h} scan written to {}", a.out.display());
        return Ok(());
    }
    let Some(recipe_path) = a.recipe else {
        let case = simulate::simulate(&a.params)?;
        simulate::write_case(&case, &a.out)?;
        eprintln!("simulated case written to {}", a.out.display());
        return Ok(());
    };
    let text = std::fs::read_to_string(&recipe_path)
        .map_err(|e| Failure::Input(IoError::open(&recipe_path, &e).to_string()))?;
    let mut cases = recipe::parse_recipe(&text)
        .map_err(|e| Failure::Input(format!("{}: {e}", recipe_path.display())))?;
    if !a.only.is_empty() {
        if let Some(bad) = a.only.iter().find(|n| !cases.iter().any(|c| &c.name == *n)) {
            return Err(Failure::Input(format!(
                "{}: no case named '{bad}'",
                recipe_path.display()
            )));
        }
        cases.retain(|c| a.only.contains(&c.name));
    }
    cases
        .par_iter()
        .map(|c| -> Result<(), Failure> {
            let case = simulate::simulate(&c.params)?;
            simulate::write_case(&case, &a.out.join(&c.name))?;
            eprintln!("simulated {}", c.name);
            Ok(())
        })
        .collect::<Result<Vec<()>, Failure>>()?;
    Ok(())
}

fn run_evaluate(a: EvaluateArgs) -> Result<(), Failure> {
    let json = if a.truth.join("truth.json").is_file() {
        let m = fishscore::evaluate::evaluate_case(&a.truth, &a.result)?;
        serde_json::to_string_pretty(&m)
    } else {
        let r = fishscore::evaluate::evaluate_tree(&a.truth, &a.result)?;
        serde_json::to_string_pretty(&r)
    }
    .map_err(|e| Failure::Internal(e.to_string()))?;
    if let Some(out) = &a.out {
        fishscore::io::atomic::write_bytes_atomic(out, json.as_bytes())?;
    }
    println!("{json}");
    Ok(())
}

fn run_rescore(a: RescoreArgs) -> Result<(), Failure> {
    let o = fishscore::report::rescore::rescore_dir(&a.result_dir, &a.review)?;
    let r = &o.record;
    let ratio = |x: Option<f64>| x.map_or("n/a".to_string(), |v| format!("{v:.2}"));
    eprintln!(
        "reviewed by {}: {} decision(s), {} status change(s); {} ratio {} -> {} ratio {}{} -> {}",
        r.reviewer,
        r.decisions.len(),
        r.changes.len(),
        r.automated.call,
        ratio(r.automated.ratio),
        r.reviewed.call,
        ratio(r.reviewed.ratio),
        if r.call_changed {
            " (CALL CHANGED)"
        } else {
            ""
        },
        o.written
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if r.shown_matches == Some(false) {
        eprintln!("warning: the figures in the review file differ from fishscore's recomputation (recorded in provenance.review.shown_matches)");
    }
    Ok(())
}

fn run_analyze(a: AnalyzeArgs) -> Result<(), Failure> {
    use fishscore::io::load::{load_field, FieldSource, LoadOptions};
    use fishscore::io::project::Projection;
    use fishscore::report::provenance::{now_utc, sha256_file, InputFile, Provenance};
    use fishscore::scoring::{parse_nuclei_range, Panel};

    let started = now_utc();
    let panel = Panel::resolve(&a.panel).map_err(|e| Failure::Input(e.to_string()))?;
    let mut sources = Vec::new();
    if let (Some(d), Some(t), Some(c)) = (&a.dapi, &a.target, &a.control) {
        sources.push(FieldSource::PerChannel {
            dapi: d.clone(),
            target: t.clone(),
            control: c.clone(),
        });
    }
    sources.extend(a.images.iter().cloned().map(FieldSource::Multi));
    if sources.is_empty() {
        return Err(Failure::Input(
            "no input: give image files, or --dapi, --target and --control (see fishscore analyze --help)".into(),
        ));
    }
    if let Some(px) = a.pixel_size_um {
        if !(px.is_finite() && px > 0.0 && px < 50.0) {
            return Err(Failure::Input(format!(
                "--pixel-size-um {px}: expected a pixel size in micrometres, e.g. 0.1"
            )));
        }
    }
    let projection = match a.projection.as_deref() {
        None => fishscore::io::load::DEFAULT_PROJECTION,
        Some("max") => Projection::Max,
        Some("edf") => Projection::Edf,
        Some(o) => {
            return Err(Failure::Input(format!(
                "--projection {o}: expected max or edf"
            )))
        }
    };
    let mut params = fishscore::pipeline::AnalyzeParams::default();
    params.scoring.seed = a.seed;
    params.scoring.image_analysis_method = format!(
        "fishscore {} automated image analysis (DAPI segmentation, DoG spot detection, intensity-based cluster estimation)",
        fishscore::VERSION
    );
    if let Some(r) = &a.nuclei {
        params.scoring.nuclei_range =
            Some(parse_nuclei_range(r).map_err(|e| Failure::Input(format!("--nuclei {r}: {e}")))?);
    }
    let opts = LoadOptions {
        channels: a.channels.as_ref().map(|v| [v[0], v[1], v[2]]),
        pixel_size_um: a.pixel_size_um,
        default_pixel_size_um: a.default_pixel_size_um,
        projection,
        aliases: panel.channels.clone(),
        ..LoadOptions::default()
    };
    let threads = a.threads.unwrap_or(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Failure::Internal(e.to_string()))?;
    let case_id = a.case_id.clone().unwrap_or_else(|| {
        a.out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "case".into())
    });
    pool.install(|| -> Result<(), Failure> {
        let t0 = std::time::Instant::now();
        let loaded: Vec<_> = sources
            .par_iter()
            .map(|s| load_field(s, &opts))
            .collect::<Result<Vec<_>, _>>()?;
        let load_s = t0.elapsed().as_secs_f64();
        let mut files: Vec<std::path::PathBuf> = Vec::new();
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
        let case = fishscore::Case {
            id: case_id.clone(),
            fields,
        };
        let result = fishscore::pipeline::analyze(&case, infos, &panel, &params);
        let inputs = files
            .iter()
            .map(|p| {
                sha256_file(p)
                    .map(|(bytes, sha256)| InputFile {
                        path: p.clone(),
                        bytes,
                        sha256,
                    })
                    .map_err(|e| Failure::Input(IoError::open(p, &e).to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let prov = Provenance {
            program: "fishscore".into(),
            version: fishscore::VERSION.into(),
            command_line: std::env::args().collect(),
            started_utc: started.clone(),
            finished_utc: now_utc(),
            threads: rayon::current_num_threads(),
            inputs,
            parameters: serde_json::json!({
                "analysis": params,
                "input": {
                    "channels": a.channels,
                    "pixel_size_um": a.pixel_size_um,
                    "default_pixel_size_um": a.default_pixel_size_um,
                    "projection": projection.as_str(),
                    "limits": opts.limits,
                },
                "panel": a.panel,
            }),
        };
        let t1 = std::time::Instant::now();
        fishscore::report::write_outputs(&a.out, &case, &result, &prov)?;
        if a.timings {
            eprintln!("timing load {load_s:.3} s");
            for f in &result.fields {
                for (stage, s) in &f.timings {
                    eprintln!("timing {} {stage} {s:.3} s", f.name);
                }
            }
            eprintln!("timing scoring {:.3} s", result.scoring_seconds);
            eprintln!("timing write {:.3} s", t1.elapsed().as_secs_f64());
        }
        let s = &result.score;
        eprintln!(
            "{}: {} ratio {} ({} nuclei scored of {} detected) -> {}",
            case_id,
            serde_json::to_value(s.call)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            s.ratio
                .map(|r| format!("{r:.2}"))
                .unwrap_or_else(|| "n/a".into()),
            s.nuclei_scored,
            s.nuclei_detected,
            a.out.display()
        );
        Ok(())
    })
}
