//! Whether the JavaScript and browser tests can run here, and where the
//! tools are. They need Node.js (JS tests) and, for the browser test,
//! Debian's Chromium and tests/browser/node_modules (`npm ci` there).
//! Without them a test prints that it skipped; with
//! FISHSCORE_BROWSER_TESTS=1 (set by .ci/run) a missing tool is a failure.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The browser-test folder (package.json, scripts).
pub fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Whether CI requires these tests.
pub fn required() -> bool {
    std::env::var("FISHSCORE_BROWSER_TESTS").is_ok_and(|v| v == "1")
}

fn node_ok() -> bool {
    Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The Chromium binary: $FISHSCORE_CHROMIUM or /usr/bin/chromium.
pub fn chromium() -> PathBuf {
    std::env::var_os("FISHSCORE_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// `None` when the test can run; otherwise what is missing. With
/// `browser`, Chromium and playwright-core are needed too.
pub fn missing(browser: bool) -> Option<String> {
    let mut miss = Vec::new();
    if !node_ok() {
        miss.push("node (Node.js)".to_string());
    }
    if browser {
        if !chromium().is_file() {
            miss.push(format!(
                "{} (apt-get install chromium)",
                chromium().display()
            ));
        }
        if !browser_dir().join("node_modules/playwright-core").is_dir() {
            miss.push(
                "tests/browser/node_modules/playwright-core (npm ci in tests/browser)".into(),
            );
        }
    }
    (!miss.is_empty()).then(|| miss.join(", "))
}

/// Returns true when the test should run; prints a skip notice or panics
/// (under FISHSCORE_BROWSER_TESTS=1) otherwise.
pub fn gate(test: &str, browser: bool) -> bool {
    match missing(browser) {
        None => true,
        Some(m) if required() => {
            panic!("{test}: FISHSCORE_BROWSER_TESTS=1 but missing: {m}")
        }
        Some(m) => {
            // Straight to the process's stderr: libtest captures eprintln!
            // of passing tests, and a skip must be seen.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: missing {m} (set FISHSCORE_BROWSER_TESTS=1 to require it)"
            );
            false
        }
    }
}

/// Compares two JSON values, numbers as f64 (exact), and returns the first
/// difference as a path.
pub fn json_diff(a: &serde_json::Value, b: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value as V;
    match (a, b) {
        (V::Number(x), V::Number(y)) => {
            (x.as_f64() != y.as_f64()).then(|| format!("{path}: {x} != {y}"))
        }
        (V::Object(x), V::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| match (x.get(k), y.get(k)) {
                (Some(p), Some(q)) => json_diff(p, q, &format!("{path}.{k}")),
                _ => Some(format!("{path}.{k}: present on one side only")),
            })
        }
        (V::Array(x), V::Array(y)) => {
            if x.len() != y.len() {
                return Some(format!("{path}: length {} != {}", x.len(), y.len()));
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (p, q))| json_diff(p, q, &format!("{path}[{i}]")))
        }
        _ => (a != b).then(|| format!("{path}: {a} != {b}")),
    }
}
