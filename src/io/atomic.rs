//! Atomic output: write to a temporary file beside the target, then rename,
//! so a reader never sees a half-written file and an existing file is only
//! replaced by a complete one.

use super::error::IoError;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The temporary path used while `path` is being written.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    path.with_file_name(format!(".{name}.{}.part", std::process::id()))
}

/// Writes `path` atomically through `fill`, which gets a buffered writer.
pub fn write_atomic<F>(path: &Path, fill: F) -> Result<(), IoError>
where
    F: FnOnce(&mut BufWriter<File>) -> Result<(), String>,
{
    let tmp = temp_path(path);
    let result = (|| {
        let f = File::create(&tmp).map_err(|e| e.to_string())?;
        let mut w = BufWriter::new(f);
        fill(&mut w)?;
        w.flush().map_err(|e| e.to_string())?;
        let f = w.into_inner().map_err(|e| e.to_string())?;
        f.sync_all().map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, path).map_err(|e| e.to_string())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(IoError::write(path, e));
    }
    Ok(())
}

/// Writes bytes atomically.
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    write_atomic(path, |w| w.write_all(bytes).map_err(|e| e.to_string()))
}
