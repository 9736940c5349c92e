//! The hand-written bad-input corpus in `tests/bad/` (at the repository root): every file there
//! is rejected by [`Scenario::load`] with the line, column and message its first line promises.
//!
//! Each file starts with `# expect: <line>:<col>: <part of the message>`. The one exception is
//! `# expect: preflight`: a valid scenario that the parser must accept and that the checker
//! refuses later, before exploring (loom's thread limit; the CLI test in
//! `crates/cli/tests/bad_input.rs` runs the real binary on every file here).
//!
//! Overlapping op ranges are not in the corpus: the format allows them on purpose (two
//! threads writing the same block is what most races are), see
//! [`overlapping_ranges_are_valid_input`].

use iomc_scenario::{Scenario, MAX_THREADS};
use std::path::{Path, PathBuf};

const PRESETS: &[&str] = &["linux-6.1", "stale-check-only", "linux-6.2"];

/// `iomc_sync::LOOM_MAX_THREADS` (main included); the scenario crate does not depend on
/// iomc-sync, and the refusal itself is tested in `crates/harness/tests/scenarios.rs` and by the
/// CLI test.
const LOOM_MAX_THREADS: usize = 5;

/// What a corpus file's first line promises.
#[derive(Debug, PartialEq, Eq)]
enum Expect {
    /// `line:col: substring`
    Error { line: u32, col: u32, needle: String },
    /// Parses; refused later by the checker's preflight.
    Preflight,
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/bad")
}

fn corpus() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("tests/bad exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

/// Reads the `# expect:` line of `path` (the file may not be UTF-8 past its first line).
fn expectation(path: &Path) -> Expect {
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let first = text.lines().next().unwrap_or_default();
    let rest = first
        .strip_prefix("# expect: ")
        .unwrap_or_else(|| panic!("{}: first line must be `# expect: ...`, is {first:?}", path.display()))
        .trim();
    if rest == "preflight" {
        return Expect::Preflight;
    }
    let mut parts = rest.splitn(3, ':');
    let mut num = |what: &str| -> u32 {
        let s = parts.next().unwrap_or_default().trim();
        s.parse().unwrap_or_else(|_| panic!("{}: bad {what} {s:?} in {first:?}", path.display()))
    };
    let (line, col) = (num("line"), num("column"));
    let needle = parts.next().unwrap_or_default().trim().to_string();
    assert!(!needle.is_empty(), "{}: no message substring in {first:?}", path.display());
    Expect::Error { line, col, needle }
}

#[test]
fn every_bad_file_fails_where_its_comment_says() {
    let files = corpus();
    let mut bad = 0;
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        match (expectation(f), Scenario::load(f, PRESETS)) {
            (Expect::Error { line, col, needle }, Err(e)) => {
                assert_eq!(e.file, f.display().to_string(), "{name}");
                assert!(
                    e.message.contains(&needle),
                    "{name}: message {:?} lacks {needle:?}\n(full error: {e})",
                    e.message
                );
                assert_eq!((e.line, e.col), (line, col), "{name}: wrong location in {e}");
                assert!(e.to_string().starts_with(&format!("{}:{line}:{col}: error: ", f.display())), "{e}");
                bad += 1;
            }
            (Expect::Error { .. }, Ok(_)) => panic!("{name} parsed, but it is in the bad corpus"),
            (Expect::Preflight, Ok(s)) => {
                // More scenario threads than loom's limit leaves room for (main counts as one).
                assert!(s.threads.len() + 1 > LOOM_MAX_THREADS, "{name}: {} threads fit loom", s.threads.len());
                assert!(s.threads.len() <= MAX_THREADS);
            }
            (Expect::Preflight, Err(e)) => panic!("{name} must parse (the checker refuses it later): {e}"),
        }
    }
    assert!(bad >= 12, "only {bad} bad files in {}", corpus_dir().display());
}

/// Every case the issue lists has its file, so deleting one is noticed.
#[test]
fn the_corpus_covers_every_listed_case() {
    let names: Vec<String> = corpus().iter().map(|p| p.file_stem().unwrap().to_string_lossy().into_owned()).collect();
    for case in [
        "unknown-op",
        "offset-out-of-range",
        "block-size-not-power-of-two",
        "block-larger-than-folio",
        "zero-length-op",
        "loom-too-many-threads",
        "unknown-preset",
        "duplicate-thread-names",
        "huge-length",
        "huge-integer",
        "huge-truncate",
        "too-many-threads",
        "non-utf8",
    ] {
        assert!(names.iter().any(|n| n == case), "tests/bad/{case}.toml is missing");
    }
}

/// Op ranges may overlap, within a thread and across threads: a race needs two actors on the
/// same bytes, and the oracle treats every byte as a register with a history, so overlap is
/// meaningful input, not an error.
#[test]
fn overlapping_ranges_are_valid_input() {
    let text = r#"name = "overlap"
summary = "two writers and a punch over the same block"
source = "tests"
setup = [ { op = "pwrite", offset = 0, length = 8192, fill = 1 } ]
[geometry]
block_size = 4096
page_size = 4096
folio_pages = [1]
[[thread]]
name = "a"
ops = [ { op = "pwrite", offset = 0, length = 4096, fill = 2 }, { op = "pwrite", offset = 2048, length = 4096, fill = 3 } ]
[[thread]]
name = "b"
ops = [ { op = "punch_hole", offset = 1024, length = 4096 } ]
[expect]
"linux-6.2" = "pass"
"#;
    let s = Scenario::parse("overlap.toml", text, PRESETS).unwrap();
    assert_eq!(s.threads.len(), 2);
    assert_eq!(s.span_bytes(), 8192);
}
