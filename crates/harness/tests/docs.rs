//! docs/scenario-format.md's presets, knobs and mutations are the program's own: the tables
//! between the markers are what `iomc_models::behaviour::markdown_tables` generates.

#[test]
fn presets_knobs_and_mutations_tables_are_generated() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/scenario-format.md");
    let doc = std::fs::read_to_string(path).expect("docs/scenario-format.md is in the repository");
    let begin = "<!-- presets table: begin (generated from iomc_models::behaviour::markdown_tables) -->\n";
    let start = doc.find(begin).expect("begin marker") + begin.len();
    let end = doc.find("<!-- presets table: end -->").expect("end marker");
    let want = iomc_models::behaviour::markdown_tables();
    assert!(doc[start..end] == want, "docs/scenario-format.md's presets table differs; replace it with:\n{want}");
}
