//! Scenario files: loading and collection (I/O errors, non-UTF-8 bytes), and property tests that
//! the parser never panics and always reports in-range locations.

mod common;

use common::{parse, PRESETS, VALID};
use iomc_scenario::{collect_files, Scenario, ScenarioError, MAX_FILE_BYTES, MAX_SCENARIO_FILE_BYTES};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh empty directory under the system temp dir.
fn temp_dir(tag: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("iomc-scenario-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn non_utf8_bytes() {
    let dir = temp_dir("utf8");
    let path = dir.join("bad.toml");
    let mut bytes = VALID.as_bytes().to_vec();
    bytes.splice(10..10, [0xff, 0xfe]);
    std::fs::write(&path, &bytes).unwrap();
    let err = Scenario::load(&path, PRESETS).unwrap_err();
    assert_eq!((err.line, err.col), (1, 1));
    assert_eq!(err.file, path.display().to_string());
    assert!(err.message.contains("not valid UTF-8"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn load_reads_files_and_reports_io_errors() {
    let dir = temp_dir("load");
    let path = dir.join("ok.toml");
    std::fs::write(&path, VALID).unwrap();
    let s = Scenario::load(&path, PRESETS).unwrap();
    assert_eq!(s, parse(VALID).map(|s| Scenario { file: path.display().to_string(), ..s }).unwrap());

    let missing = dir.join("missing.toml");
    let err = Scenario::load(&missing, PRESETS).unwrap_err();
    assert_eq!((err.line, err.col), (1, 1));
    assert!(err.message.contains("cannot open file"), "{err}");

    let big = dir.join("big.toml");
    std::fs::write(&big, vec![b'#'; usize::try_from(MAX_SCENARIO_FILE_BYTES).unwrap() + 1]).unwrap();
    let err = Scenario::load(&big, PRESETS).unwrap_err();
    assert_eq!((err.line, err.col), (1, 1));
    assert!(err.message.contains("larger than"), "{err}");

    let err = Scenario::load(&dir, PRESETS).unwrap_err();
    assert_eq!((err.line, err.col), (1, 1));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn collect_files_walks_sorts_and_dedups() {
    let dir = temp_dir("collect");
    let touch = |p: &Path| {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "").unwrap();
    };
    touch(&dir.join("b.toml"));
    touch(&dir.join("a.toml"));
    touch(&dir.join("notes.md"));
    touch(&dir.join("sub/deeper/c.toml"));
    touch(&dir.join("sub/x.txt"));
    let explicit = dir.join("sub/x.txt");
    let got = collect_files(&[dir.clone(), dir.join("a.toml"), explicit.clone()]).unwrap();
    assert_eq!(got, vec![dir.join("a.toml"), dir.join("b.toml"), dir.join("sub/deeper/c.toml"), explicit]);

    let err = collect_files(&[dir.join("nope")]).unwrap_err();
    assert!(err.contains("nope"), "{err}");
    assert_eq!(collect_files(&[]).unwrap(), Vec::<PathBuf>::new());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Checks an error's location against the text it came from.
fn check_error_location(text: &str, err: &ScenarioError) -> Result<(), TestCaseError> {
    let lines = text.lines().count();
    prop_assert!(err.line >= 1 && err.col >= 1, "{}", err);
    prop_assert!(usize::try_from(err.line).unwrap() <= lines + 1, "{} (text has {} lines)", err, lines);
    let line_text = text.split('\n').nth(usize::try_from(err.line - 1).unwrap()).unwrap_or("");
    prop_assert!(usize::try_from(err.col).unwrap() <= line_text.chars().count() + 1, "{}", err);
    Ok(())
}

#[derive(Clone, Debug)]
enum Mutation {
    Delete(usize),
    Insert(usize, u8),
    Replace(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // Bytes biased towards TOML punctuation and digits, which reach deeper into validation than random bytes.
    let byte = prop_oneof![any::<u8>(), prop::sample::select(b"[]{}=,.\"'#\n 0123456789-_xabe".to_vec()),];
    prop_oneof![
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), byte.clone()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), byte).prop_map(|(i, b)| Mutation::Replace(i, b)),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        match *m {
            Mutation::Delete(i) if !bytes.is_empty() => {
                bytes.remove(i % bytes.len());
            }
            Mutation::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
            Mutation::Replace(i, b) if !bytes.is_empty() => {
                let n = bytes.len();
                bytes[i % n] = b;
            }
            _ => {}
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        if let Err(e) = parse(&text) {
            check_error_location(&text, &e)?;
        }
    }

    #[test]
    fn tomlish_strings_never_panic(text in "[\\[\\]{}=,.\"# \na-z0-9_]{0,200}") {
        if let Err(e) = parse(&text) {
            check_error_location(&text, &e)?;
        }
    }

    #[test]
    fn mutated_valid_files_never_panic(mutations in prop::collection::vec(mutation(), 1..8)) {
        let bytes = apply(VALID.as_bytes().to_vec(), &mutations);
        let text = String::from_utf8_lossy(&bytes);
        match parse(&text) {
            Ok(s) => {
                let span = s.span_bytes();
                prop_assert!(span >= s.geometry.page_size && span <= MAX_FILE_BYTES);
                prop_assert_eq!(span % s.geometry.page_size, 0);
            }
            Err(e) => check_error_location(&text, &e)?,
        }
    }
}
