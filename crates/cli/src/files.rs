//! Files the CLI writes: output-path flags checked at parse time, atomic writes, and the
//! replay's Chrome trace.

use iomc_harness::{atomic, chrome, CheckResult};
use std::path::{Path, PathBuf};

/// An output file (`--junit`): not empty, not an existing directory.
pub fn parse_out_file(s: &str) -> Result<PathBuf, String> {
    let p = PathBuf::from(s);
    if s.is_empty() {
        return Err("an empty path; expected a file to write".into());
    }
    if p.is_dir() {
        return Err(format!("{s} is a directory; expected a file to write"));
    }
    Ok(p)
}

/// An output directory (`--found-dir`, `--out`): not empty, not an existing non-directory.
pub fn parse_out_dir(s: &str) -> Result<PathBuf, String> {
    let p = PathBuf::from(s);
    if s.is_empty() {
        return Err("an empty path; expected a directory".into());
    }
    if p.exists() && !p.is_dir() {
        return Err(format!("{s} exists and is not a directory"));
    }
    Ok(p)
}

/// A file to write in an existing directory (`--chrome-trace`): not empty, not a directory or
/// another non-regular file (it is replaced by a rename), and its directory exists.
pub fn parse_new_file(s: &str) -> Result<PathBuf, String> {
    let p = parse_out_file(s)?;
    if p.exists() && !p.is_file() {
        return Err(format!("{s} exists and is not a regular file; expected a file to write"));
    }
    let dir = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(format!("{}: no such directory; expected a file in an existing directory", dir.display()));
    }
    Ok(p)
}

/// Write `contents` to `path` atomically ([`atomic::write_atomically`]), creating its directory.
pub fn write_atomically(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    atomic::write_atomically(path, contents.as_bytes())
}

/// Write the violation of a replayed check as Chrome trace-event JSON to `path` (atomically).
pub fn write_chrome_trace(r: &CheckResult, path: &Path) -> Result<(), String> {
    let trace = chrome::of_result(r).ok_or("the replay found no violation to draw")?;
    let json = trace.to_json().map_err(|e| format!("cannot encode the trace: {e}"))?;
    atomic::write_atomically(path, &json).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
