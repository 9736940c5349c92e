//! Every invariant the model or the oracle can raise is in `iomc_scenario::verdicts::INVARIANTS`
//! (and so in `iomc list` and docs/scenario-format.md): the names are read from the source,
//! every `warn("name", ..)` of the model and the harness and every `Verdict::Invariant("name")`
//! the oracle builds, so a new WARN cannot go undocumented.

use iomc_scenario::verdicts::INVARIANTS;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The string literal that follows each `needle` in `text` (up to the next `"`), skipping
/// whitespace and newlines after it.
fn literals_after<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(needle) {
        rest = &rest[i + needle.len()..];
        let t = rest.trim_start();
        // `warn(0, "harness", ..)`: the recorder's form takes the actor first.
        let t = t.strip_prefix("0,").map(str::trim_start).unwrap_or(t);
        if let Some(lit) = t.strip_prefix('"') {
            if let Some(end) = lit.find('"') {
                out.push(&lit[..end]);
            }
        }
    }
    out
}

#[test]
fn every_raised_invariant_is_documented() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    rust_files(&root.join("models/src"), &mut files);
    rust_files(&root.join("crates/harness/src"), &mut files);
    let documented: Vec<&str> = INVARIANTS.iter().map(|c| c.name).collect();
    let mut seen = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        // Source files only up to their unit tests: tests build verdicts of their own.
        let text = text.split("#[cfg(test)]").next().unwrap_or("");
        let warned = literals_after(text, ".warn(").into_iter().map(|n| n.replace('_', "-"));
        let built = literals_after(text, "Verdict::Invariant(").into_iter().map(str::to_string);
        for name in warned.chain(built) {
            // "unsupported" is a verdict of its own (the harness maps that warning to it).
            if name == "unsupported" {
                continue;
            }
            seen += 1;
            assert!(
                documented.contains(&name.as_str()),
                "{}: invariant:{name} is raised but not in iomc_scenario::verdicts::INVARIANTS",
                f.display()
            );
        }
    }
    // The scan found the model's WARNs (a scan that finds nothing checks nothing).
    assert!(seen >= 15, "only {seen} invariant names found in the source");
}
