//! The `fishscore` binary: parse the command line, call the library, map
//! errors to exit codes (0 success, 2 bad input or usage, 1 internal).

use anyhow::Result;
use clap::Parser;
use fishscore::cli::{
    AnalyzeArgs, BatchArgs, Cli, Command, EvaluateArgs, RescoreArgs, SimulateArgs,
};
use fishscore::io::IoError;
use fishscore::simulate::{self, recipe, SimError};
use rayon::prelude::*;
use std::process::ExitCode;

/// How a command that ran ended: every case ran (0), or some cases of a
/// batch failed (3).
enum Done {
    Success,
    SomeFailed,
}

impl From<()> for Done {
    fn from(_: ()) -> Self {
        Done::Success
    }
}

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

impl From<fishscore::run::RunError> for Failure {
    fn from(e: fishscore::run::RunError) -> Self {
        match e {
            fishscore::run::RunError::Input(m) => Failure::Input(m),
            fishscore::run::RunError::Internal(m) => Failure::Internal(m),
        }
    }
}

impl From<SimError> for Failure {
    fn from(e: SimError) -> Self {
        Failure::Input(e.to_string())
    }
}

fn main() -> ExitCode {
    fishscore::memory::one_malloc_arena();
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
        Command::Analyze(a) => run_analyze(*a).map(Done::from),
        Command::Simulate(a) => run_simulate(*a).map(Done::from),
        Command::Evaluate(a) => run_evaluate(a).map(Done::from),
        Command::Rescore(a) => run_rescore(a).map(Done::from),
        Command::Batch(a) => run_batch(*a),
    };
    match result {
        Ok(Done::Success) => ExitCode::SUCCESS,
        Ok(Done::SomeFailed) => ExitCode::from(fishscore::batch::EXIT_SOME_FAILED),
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
    use fishscore::io::load::FieldSource;
    use fishscore::run::{check_pixel_size, run_case, CaseSpec, RunOptions};

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
        check_pixel_size(px, "--pixel-size-um")?;
    }
    let case_id = a.case_id.clone().unwrap_or_else(|| {
        a.out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "case".into())
    });
    let spec = CaseSpec {
        id: case_id.clone(),
        sources,
        panel: a.panel.clone(),
        channels: a.channels.as_ref().map(|v| [v[0], v[1], v[2]]),
        pixel_size_um: a.pixel_size_um,
    };
    let opts = RunOptions {
        default_pixel_size_um: a.default_pixel_size_um,
        projection: a.projection.clone(),
        nuclei: a.nuclei.clone(),
        seed: a.seed,
        command_line: std::env::args().collect(),
        tile_um: a.tile_um,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads.unwrap_or(0))
        .build()
        .map_err(|e| Failure::Internal(e.to_string()))?;
    let s = pool.install(|| run_case(&spec, &opts, &a.out))?;
    if a.timings {
        for (stage, t) in &s.timings {
            eprintln!("timing {stage} {t:.3} s");
        }
    }
    eprintln!(
        "{}: {} ratio {} ({} nuclei scored of {} detected) -> {}",
        case_id,
        s.call,
        s.ratio
            .map(|r| format!("{r:.2}"))
            .unwrap_or_else(|| "n/a".into()),
        s.nuclei_scored,
        s.nuclei_detected,
        a.out.display()
    );
    Ok(())
}

fn run_batch(a: BatchArgs) -> Result<Done, Failure> {
    use fishscore::batch::{self, BatchOptions, CaseDefaults, Status};
    use fishscore::run::{check_pixel_size, parse_projection, RunOptions};
    use std::io::IsTerminal;

    if let Some(px) = a.pixel_size_um {
        check_pixel_size(px, "--pixel-size-um")?;
    }
    parse_projection(a.projection.as_deref())?;
    let defaults = CaseDefaults {
        panel: a.panel.clone(),
        channels: a.channels.as_ref().map(|v| [v[0], v[1], v[2]]),
        pixel_size_um: a.pixel_size_um,
    };
    let bad = |e: batch::BatchError| Failure::Input(e.0);
    let mut cases = batch::discover(&a.input, &defaults, Some(&a.out)).map_err(bad)?;
    if !a.only.is_empty() {
        if let Some(x) = a
            .only
            .iter()
            .find(|n| !cases.iter().any(|c| &c.spec.id == *n))
        {
            return Err(Failure::Input(format!(
                "--only {x}: no such case in {}",
                a.input.display()
            )));
        }
        cases.retain(|c| a.only.contains(&c.spec.id));
    }
    let ropts = RunOptions {
        default_pixel_size_um: a.default_pixel_size_um,
        projection: a.projection.clone(),
        nuclei: a.nuclei.clone(),
        seed: a.seed,
        command_line: std::env::args().collect(),
        tile_um: None,
    };
    fishscore::run::analysis_params(&ropts)?;
    if a.plan {
        for c in &cases {
            let line = serde_json::json!({
                "case": c.spec.id,
                "args": batch::analyze_args(&c.spec, &ropts),
                "problem": c.problem,
            });
            println!("{line}");
        }
        return Ok(Done::Success);
    }
    let opts = BatchOptions {
        out: a.out.clone(),
        resume: a.resume,
        timings: a.timings,
        progress_bar: std::io::stderr().is_terminal(),
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads.unwrap_or(0))
        .build()
        .map_err(|e| Failure::Internal(e.to_string()))?;
    let outcomes = pool
        .install(|| batch::run_batch(&cases, &ropts, &opts))
        .map_err(bad)?;
    let failed = outcomes
        .iter()
        .filter(|o| o.status == Status::Failed)
        .count();
    let resumed = outcomes
        .iter()
        .filter(|o| o.status == Status::Resumed)
        .count();
    eprintln!(
        "{} case(s): {} analysed, {} resumed, {} failed -> {}",
        outcomes.len(),
        outcomes.len() - failed - resumed,
        resumed,
        failed,
        a.out.join(batch::SUMMARY_CSV).display()
    );
    Ok(if failed > 0 {
        Done::SomeFailed
    } else {
        Done::Success
    })
}
