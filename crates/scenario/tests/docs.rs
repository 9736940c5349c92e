//! docs/scenario-format.md follows the program: its ops, verdict and invariant tables are the
//! ones the program's own tables generate, and every verdict the parser accepts is documented.

use iomc_scenario::{ops, verdicts, Verdict};

fn doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/scenario-format.md");
    std::fs::read_to_string(path).expect("docs/scenario-format.md is in the repository")
}

/// The text between `<!-- {what} table: begin ... -->` and `<!-- {what} table: end -->`.
fn section(doc: &str, what: &str) -> String {
    let begin = format!("<!-- {what} table: begin");
    let start = doc.find(&begin).unwrap_or_else(|| panic!("{what}: begin marker"));
    let start = start + doc[start..].find("-->\n").expect("marker end") + 4;
    let end = doc.find(&format!("<!-- {what} table: end -->")).unwrap_or_else(|| panic!("{what}: end marker"));
    doc[start..end].to_string()
}

#[test]
fn tables_are_generated_from_the_program() {
    let doc = doc();
    for (what, want) in [
        ("ops", ops::markdown_table()),
        ("verdicts", verdicts::verdicts_markdown()),
        ("invariants", verdicts::invariants_markdown()),
    ] {
        assert!(
            section(&doc, what) == want,
            "docs/scenario-format.md's {what} table differs from the program's; replace it with:\n{want}"
        );
    }
}

/// Every class the parser accepts is in the table, and every name in the table parses.
#[test]
fn every_verdict_class_is_documented() {
    let names: Vec<&str> = verdicts::VERDICTS.iter().map(|c| c.name).collect();
    for v in ["pass", "zeroed-data", "lost-write", "stale-data", "deadlock", "unsupported"] {
        assert!(Verdict::parse(v).is_some());
        assert!(names.contains(&v), "verdict {v} is not in iomc_scenario::verdicts::VERDICTS");
    }
    for c in verdicts::VERDICTS.iter().filter(|c| c.name != "invariant:<name>") {
        assert!(Verdict::parse(c.name).is_some(), "{} does not parse", c.name);
    }
    for c in verdicts::INVARIANTS {
        let v = format!("invariant:{}", c.name);
        assert!(Verdict::parse(&v).is_some(), "{v} does not parse");
    }
}
