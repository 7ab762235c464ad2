//! A benchmark set as a recipe file: one case per line, `NAME: OPTIONS`,
//! where OPTIONS are `fishscore simulate` options. `#` starts a comment.

use super::params::SimParams;
use clap::Parser;

#[derive(Parser)]
#[command(no_binary_name = true)]
struct Line {
    #[command(flatten)]
    params: SimParams,
}

/// One case of a recipe.
#[derive(Debug, Clone)]
pub struct RecipeCase {
    /// Folder name of the case.
    pub name: String,
    /// Its parameters.
    pub params: SimParams,
    /// The option text as written (for the docs).
    pub options: String,
}

/// Parses a recipe; errors name the line.
pub fn parse_recipe(text: &str) -> Result<Vec<RecipeCase>, String> {
    let mut cases: Vec<RecipeCase> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (name, opts) = line
            .split_once(':')
            .ok_or_else(|| format!("line {}: expected 'NAME: OPTIONS'", i + 1))?;
        let name = name.trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "line {}: case name '{name}' must be letters, digits, - or _",
                i + 1
            ));
        }
        if cases.iter().any(|c| c.name == name) {
            return Err(format!("line {}: case name '{name}' repeats", i + 1));
        }
        let parsed = Line::try_parse_from(opts.split_whitespace()).map_err(|e| {
            let msg = e.to_string();
            format!(
                "line {} ({name}): {}",
                i + 1,
                msg.lines()
                    .next()
                    .unwrap_or("")
                    .trim_start_matches("error: ")
            )
        })?;
        parsed
            .params
            .validate()
            .map_err(|e| format!("line {} ({name}): {e}", i + 1))?;
        cases.push(RecipeCase {
            name: name.to_string(),
            params: parsed.params,
            options: opts.trim().to_string(),
        });
    }
    if cases.is_empty() {
        return Err("no cases".into());
    }
    Ok(cases)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let r = parse_recipe("# set\na: --seed 3 --ratio 2.5\n\nb: --seed 4 --density dense # x\n")
            .unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].params.seed, 3);
        assert!((r[1].params.density - 0.55).abs() < 1e-12);
        assert!(parse_recipe("a --seed 3").unwrap_err().contains("line 1"));
        assert!(parse_recipe("a: --bogus 3").unwrap_err().contains("line 1"));
        assert!(parse_recipe("a: --seed 1\na: --seed 2")
            .unwrap_err()
            .contains("repeats"));
        assert!(parse_recipe("a: --snr 0").unwrap_err().contains("--snr"));
    }
}
