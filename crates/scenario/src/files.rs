//! Finding and reading scenario files.

use std::collections::HashSet;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// All `*.toml` files under each path (a file is taken as is; a dir is walked recursively), sorted by path,
/// deduplicated.
///
/// Symbolic links are followed; a directory reached twice (e.g. through a link cycle) is walked once. A path that
/// does not exist, or a directory that cannot be read, is an error naming the path.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let mut visited = HashSet::new();
    for path in paths {
        let meta = fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if meta.is_dir() {
            walk(path, &mut out, &mut visited)?;
        } else {
            out.push(path.clone());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn is_toml(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "toml")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, visited: &mut HashSet<PathBuf>) -> Result<(), String> {
    let canonical = fs::canonicalize(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if !visited.insert(canonical) {
        return Ok(());
    }
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        paths.push(entry.path());
    }
    paths.sort();
    for path in paths {
        match fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => walk(&path, out, visited)?,
            Ok(meta) if meta.is_file() && is_toml(&path) => out.push(path),
            Ok(_) => {}
            // A dangling link that claims to be a scenario is worth reporting; other unreadable entries are not ours.
            Err(e) if is_toml(&path) => return Err(format!("{}: {e}", path.display())),
            Err(_) => {}
        }
    }
    Ok(())
}

/// Reads the whole file at `path`, refusing files larger than `limit` bytes. Errors are messages without location.
pub(crate) fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let too_big = |len: u64| format!("file is {len} bytes, larger than the {limit}-byte limit for scenario files");
    let file = fs::File::open(path).map_err(|e| format!("cannot open file: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot read file: {e}"))?;
    if meta.is_dir() {
        return Err("is a directory, not a scenario file".to_string());
    }
    if meta.len() > limit {
        return Err(too_big(meta.len()));
    }
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| format!("cannot read file: {e}"))?;
    let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if len > limit {
        return Err(too_big(len));
    }
    Ok(bytes)
}
