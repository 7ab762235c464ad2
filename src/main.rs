//! The `fishscore` binary: parse the command line, call the library, map
//! errors to exit codes (0 success, 2 bad input or usage, 1 internal).

use anyhow::Result;
use clap::Parser;
use fishscore::cli::{Cli, Command, EvaluateArgs, SimulateArgs};
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
        Command::Simulate(a) => run_simulate(*a),
        Command::Evaluate(a) => run_evaluate(a),
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
