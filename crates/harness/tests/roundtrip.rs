//! Scenario files written by `Scenario::to_toml` (toml_edit) parse back to the same scenario:
//! every shipped scenario, parsed, written and parsed again, means the same.

use iomc_models::Behaviour;
use iomc_scenario::Scenario;
use std::path::PathBuf;

#[test]
fn every_shipped_scenario_round_trips_through_the_writer() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let presets = Behaviour::preset_names();
    let files = iomc_scenario::collect_files(&[root]).expect("scenarios/");
    assert!(files.len() >= 20, "{} scenario files", files.len());
    for f in files {
        let s = Scenario::load(&f, &presets).unwrap_or_else(|e| panic!("{e}"));
        let text = s.to_toml(&["round trip".into()]).unwrap();
        let back = Scenario::parse("back.toml", &text, &presets).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(back.without_locations(), s.without_locations(), "{}:\n{text}", f.display());
        // Writing is deterministic: the written file writes itself again unchanged.
        assert_eq!(back.to_toml(&["round trip".into()]).unwrap(), text);
    }
}
