//! docs/scenario-format.md follows the program: its ops table is the one the op definition
//! generates, and every verdict the parser accepts is documented.

use iomc_scenario::{ops, Verdict};

fn doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/scenario-format.md");
    std::fs::read_to_string(path).expect("docs/scenario-format.md is in the repository")
}

#[test]
fn ops_table_is_generated_from_the_op_definition() {
    let doc = doc();
    let begin = "<!-- ops table: begin (generated from iomc_scenario::ops::markdown_table) -->\n";
    let start = doc.find(begin).expect("begin marker") + begin.len();
    let end = doc.find("<!-- ops table: end -->").expect("end marker");
    let want = ops::markdown_table();
    assert!(
        doc[start..end] == want,
        "docs/scenario-format.md's ops table differs from the program's; replace it with:\n{want}"
    );
}

#[test]
fn every_verdict_class_is_documented() {
    let doc = doc();
    for v in ["pass", "zeroed-data", "lost-write", "stale-data", "deadlock", "unsupported"] {
        assert!(Verdict::parse(v).is_some());
        assert!(doc.contains(&format!("| `{v}` |")), "verdict {v} is not in docs/scenario-format.md");
    }
    // Every invariant name the model or harness can raise (kept in step by grepping the source).
    for name in [
        "dirty-over-hole",
        "orphan-delalloc",
        "delalloc-beyond-eof",
        "short-write",
        "iomap-write-begin",
        "iomap-iter-done",
        "iomap-writepage-map",
        "iomap-write-delalloc-release",
        "iomap-folio-mkwrite-iter",
        "xfs-bmapi-convert-delalloc",
        "iomap-dio-bio-iter",
        "orphan-cow-delalloc",
        "xfs-reflink-remap-blocks",
        "xfs-zoned-buffered-write-iomap-begin",
    ] {
        assert!(doc.contains(&format!("| `{name}` |")), "invariant:{name} is not documented");
    }
}
