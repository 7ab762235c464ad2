//! Errors of the input/output layer: always the file and what is wrong with it.

use std::path::{Path, PathBuf};

/// A problem reading or writing one file. `Display` is one line that names
/// the file and, where possible, says what to do.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// The file does not exist, is a directory, or cannot be opened.
    #[error("{path}: {problem}")]
    Open { path: PathBuf, problem: String },
    /// The file exists but its content is not what fishscore can use.
    #[error("{path}: {problem}")]
    Format { path: PathBuf, problem: String },
    /// Writing an output failed.
    #[error("{path}: cannot write: {problem}")]
    Write { path: PathBuf, problem: String },
}

impl IoError {
    /// A format problem in `path`.
    pub fn format(path: &Path, problem: impl Into<String>) -> Self {
        IoError::Format {
            path: path.to_path_buf(),
            problem: problem.into(),
        }
    }

    /// A write problem in `path`.
    pub fn write(path: &Path, problem: impl std::fmt::Display) -> Self {
        IoError::Write {
            path: path.to_path_buf(),
            problem: one_line(&problem.to_string()),
        }
    }

    /// An open problem in `path`, phrased for the user.
    pub fn open(path: &Path, err: &std::io::Error) -> Self {
        let problem = if path.is_dir() {
            "is a directory, not an image file".to_string()
        } else {
            match err.kind() {
                std::io::ErrorKind::NotFound => "no such file".to_string(),
                std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                _ => one_line(&err.to_string()),
            }
        };
        IoError::Open {
            path: path.to_path_buf(),
            problem,
        }
    }
}

/// Collapses a message to one line.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
