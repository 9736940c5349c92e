//! The scenario parser and validator on arbitrary input: any byte string must come back as
//! `Ok(scenario)` or `Err(ScenarioError)` with a location inside the text, never a panic, a
//! hang or an allocation proportional to a number written in the file.

#![no_main]

use iomc_scenario::{Scenario, MAX_SCENARIO_FILE_BYTES};
use libfuzzer_sys::fuzz_target;

const PRESETS: &[&str] = &["linux-6.1", "stale-check-only", "linux-6.2"];

fuzz_target!(|data: &[u8]| {
    // Non-UTF-8 input is rejected by `Scenario::load` before parsing; here it is fed through a
    // lossy conversion so the fuzzer's byte mutations still reach the parser.
    let text = String::from_utf8_lossy(data);
    match Scenario::parse("fuzz.toml", &text, PRESETS) {
        Ok(s) => {
            // A scenario that parses must satisfy the documented limits.
            assert!(!s.threads.is_empty() && s.threads.len() <= iomc_scenario::MAX_THREADS);
            assert!(s.setup.len() <= iomc_scenario::MAX_OPS);
            assert!(s.threads.iter().all(|t| !t.ops.is_empty() && t.ops.len() <= iomc_scenario::MAX_OPS));
            assert!(s.span_bytes() <= iomc_scenario::MAX_FILE_BYTES.max(s.geometry.page_size));
            assert!(!s.expect.is_empty());
            assert!((text.len() as u64) <= MAX_SCENARIO_FILE_BYTES);
        }
        Err(e) => {
            // The location is 1-based and inside the text (one past the end at most).
            let lines = text.split('\n').count() as u32;
            assert!(e.line >= 1 && e.line <= lines.max(1), "line {} of {lines}: {e}", e.line);
            assert!(e.col >= 1, "{e}");
            assert!(!e.message.is_empty());
            assert!(!e.message.contains('\n'), "multi-line message: {e}");
            assert_eq!(e.file, "fuzz.toml");
        }
    }
});
