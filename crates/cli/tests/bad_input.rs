//! The real binary on every file of the bad-input corpus (`tests/bad/` at the repository root):
//! exit status 2, and on stderr `<file>:<line>:<col>: error: <message>` at the line and column
//! the file's `# expect:` comment gives; never a panic. The one valid file there
//! (`# expect: preflight`) is refused for loom before anything runs, also with exit status 2,
//! and runs under a shuttle backend.

use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn iomc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iomc")).args(args).current_dir(root()).output().expect("run iomc")
}

/// `tests/bad/<name>.toml` paths, relative to the repository root, sorted.
fn corpus() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("tests/bad"))
        .expect("tests/bad exists")
        .map(|e| e.expect("readable entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .map(|n| format!("tests/bad/{n}"))
        .collect();
    names.sort();
    names
}

/// The file's `# expect:` line, after the prefix.
fn expectation(rel: &str) -> String {
    let bytes = std::fs::read(root().join(rel)).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("# expect: ").unwrap_or_else(|| panic!("{rel}: no `# expect:` line")).trim().to_string()
}

#[test]
fn every_bad_file_is_exit_2_with_its_location() {
    let files = corpus();
    assert!(files.len() >= 13, "{} files", files.len());
    for rel in &files {
        let expect = expectation(rel);
        let o = iomc(&["check", rel]);
        let err = String::from_utf8_lossy(&o.stderr);
        let out = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(2), "{rel}: exit {:?}\n{out}{err}", o.status.code());
        assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{rel} panicked: {err}");
        if expect == "preflight" {
            assert!(err.contains("loom allows at most 5 threads") && err.contains("--backend"), "{rel}: {err}");
            continue;
        }
        // "<line>:<col>: <part of the message>"
        let (loc, needle) = expect.split_once(": ").unwrap_or_else(|| panic!("{rel}: bad expect line {expect:?}"));
        let head = format!("{rel}:{loc}: error: ");
        let line = err.lines().find(|l| l.starts_with(&head)).unwrap_or_else(|| panic!("{rel}: no {head:?} in {err}"));
        assert!(line.contains(needle), "{rel}: {line:?} lacks {needle:?}");
        assert!(out.is_empty(), "{rel}: nothing is checked, so nothing is printed on stdout: {out}");
    }
}

/// All bad files at once (a directory): every one is reported, not just the first, and
/// nothing is explored.
#[test]
fn a_directory_of_bad_files_reports_each_one() {
    let o = iomc(&["check", "tests/bad"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for rel in corpus() {
        if expectation(&rel) != "preflight" {
            assert!(err.contains(&format!("{rel}:")), "{rel} not reported: {err}");
        }
    }
}

/// The five-thread scenario is valid: refused for loom, accepted by shuttle.
#[test]
fn the_preflight_file_runs_under_shuttle() {
    let o = iomc(&["check", "tests/bad/loom-too-many-threads.toml", "--backend", "pct", "--iterations", "20"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("1 of 1 checks met their expectation"), "{out}");
}

/// One bad file among good ones: it is reported with its location, every good scenario is
/// still checked, and the exit status is 2 at the end (no check failed).
#[test]
fn a_bad_file_does_not_stop_the_others() {
    let dir = std::env::temp_dir().join(format!("iomc-mixed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(root().join("scenarios/xfs-196.toml"), dir.join("a-good.toml")).unwrap();
    std::fs::write(dir.join("b-bad.toml"), "name = \"bad\"\nfoo = 1\n").unwrap();
    std::fs::copy(root().join("scenarios/generic-346-f2.toml"), dir.join("c-good.toml")).unwrap();
    let d = dir.to_str().unwrap();
    let o = iomc(&["check", d, "--variant", "linux-6.1"]);
    let err = String::from_utf8_lossy(&o.stderr);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(err.contains(&format!("{}:2:1: error: unknown key `foo`", dir.join("b-bad.toml").display())), "{err}");
    assert!(out.contains("ok xfs-196 [linux-6.1]") && out.contains("ok generic-346-f2 [linux-6.1]"), "{out}");
    assert!(out.contains("2 of 2 checks met their expectation"), "{out}");
    // A failed check still wins: exit 1 says more than the bad file.
    let o = iomc(&["check", d, "--variant", "linux-6.2", "--set", "write_failure_cleanup=truncate-then-punch"]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stdout));
    let _ = std::fs::remove_dir_all(&dir);
}
