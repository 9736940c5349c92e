//! Writing a file atomically: readers see the old contents or the new, never a part.

use std::io::Write;
use std::path::Path;

/// Write `bytes` to `path` atomically: a temporary file in the same directory (so the rename
/// stays on one filesystem), written and synced to disk, then renamed over `path`
/// (tempfile's `persist`). The directory must exist. On any error the temporary file is
/// removed and `path` is left as it was.
///
/// The new file is created with mode 0666 less the umask, as `std::fs::write` would (a
/// temporary file's own default, 0600, would make a report unreadable to others).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    // Dropping the temporary file on an error path removes it.
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    // Make the rename itself durable where the platform allows it (best effort).
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("iomc-atomic-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let d = scratch("replace");
        let p = d.join("out.json");
        write_atomically(&p, b"first").unwrap();
        write_atomically(&p, b"second").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, [std::ffi::OsString::from("out.json")]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_missing_directory_or_a_directory_target_is_an_error_and_leaves_nothing() {
        let d = scratch("errors");
        assert!(write_atomically(&d.join("absent/out.json"), b"x").is_err());
        std::fs::create_dir(d.join("dir")).unwrap();
        assert!(write_atomically(&d.join("dir"), b"x").is_err());
        let names: Vec<_> = std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, [std::ffi::OsString::from("dir")]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_readable_by_others_as_with_fs_write() {
        use std::os::unix::fs::PermissionsExt;
        let d = scratch("mode");
        let p = d.join("report.xml");
        write_atomically(&p, b"x").unwrap();
        let reference = d.join("reference");
        std::fs::write(&reference, b"x").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&p), mode(&reference));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
