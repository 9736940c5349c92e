//! The valid scenario text the parser tests start from, shared by the test files.

/// Presets the test scenarios may name.
pub const PRESETS: &[&str] = &["linux-6.1", "linux-6.2"];

/// A full valid file: every op, both geometry forms, expectations and exploration defaults.
pub const VALID: &str = r#"name = "lore-2022-08-17-unwritten"
summary = "stale UNWRITTEN iomap zeroes the tail of an adjacent earlier write after writeback + reclaim"
source = "ML:20220817093627.GZ3600936@dread.disaster.area"
setup = [
  { op = "fallocate", offset = 0, length = 12288 },
  { op = "pwrite", offset = 10240, length = 2048, fill = 0x41 },
]

[geometry]
block_size = 4096        # bytes
page_size = 4096
folio_pages = [1, 4]

[[thread]]
name = "writer"
ops = [ { op = "pwrite", offset = 0, length = 10240, fill = 0x42 } ]

[[thread]]
name = "flusher"
ops = [
  { op = "writeback", offset = 8192, length = 4096 },
  { op = "reclaim" },
  { op = "mmap_write", offset = 100, length = 8000, fill = 7 },
  { op = "read", offset = 0, length = 1 },
  { op = "punch_hole", offset = 4096, length = 4096 },
  { op = "truncate", size = 0 },
  { op = "fsync" },
  { op = "drop_caches" },
  { op = "errortag", name = "drop_writes", value = 1 },
  { op = "short_copy", bytes = 17 },
  { op = "writeback" },
  { op = "reclaim", offset = 0, length = 1048576 },
]

[expect]                 # verdict per kernel preset
"linux-6.1" = "zeroed-data"
"linux-6.2" = "pass"

[explore]
preemption_bound = 3
iterations = 10000
"#;

/// Parses `text` as `scenarios/x.toml`.
pub fn parse(text: &str) -> Result<iomc_scenario::Scenario, iomc_scenario::ScenarioError> {
    iomc_scenario::Scenario::parse("scenarios/x.toml", text, PRESETS)
}
