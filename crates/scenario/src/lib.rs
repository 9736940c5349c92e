//! Scenario files for iomc.
//!
//! A scenario is a small TOML file describing a page-cache/XFS race: the file system geometry, a sequential
//! `setup`, a few concurrent threads of file operations, and the verdict expected under each kernel preset.
//! [`Scenario::parse`] validates the whole schema and reports the first problem as a [`ScenarioError`] that names
//! the file, line and column (1-based, columns counted in characters) of the offending key or value.
//!
//! ```
//! let text = r#"
//! name = "tiny"
//! summary = "one write, one writeback"
//! source = "example"
//!
//! [geometry]
//! block_size = 4096
//! page_size = 4096
//! folio_pages = [1]
//!
//! [[thread]]
//! name = "writer"
//! ops = [ { op = "pwrite", offset = 0, length = 4096, fill = 0x42 } ]
//!
//! [expect]
//! "linux-6.1" = "pass"
//! "#;
//! let s = iomc_scenario::Scenario::parse("tiny.toml", text, &["linux-6.1"]).unwrap();
//! assert_eq!(s.threads.len(), 1);
//! assert_eq!(s.expected("linux-6.1"), Some(&iomc_scenario::Verdict::Pass));
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod fields;
mod files;
pub mod generate;
pub mod observe;
pub mod ops;
mod parse;
pub mod verdicts;
mod write;

use std::fmt;
use std::path::Path;

pub use files::collect_files;
pub use ops::{OpKind, OPS};

/// Largest file size (and largest end of any byte range) a scenario may use: 1 MiB.
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// Largest number of threads in a scenario.
pub const MAX_THREADS: usize = 8;
/// Largest number of ops in `setup` and in each thread.
pub const MAX_OPS: usize = 64;
/// Largest scenario file accepted; bigger files are rejected before parsing.
pub const MAX_SCENARIO_FILE_BYTES: u64 = 1 << 20;
/// The model disk's poison byte, meaning "never written"; it may not be used as a fill byte.
pub const POISON: u8 = 0xA5;

/// A position in a scenario file: 1-based line and 1-based column (in characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loc {
    /// Line number, starting at 1.
    pub line: u32,
    /// Column number in characters, starting at 1.
    pub col: u32,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A problem with a scenario file, located at a file, line and column.
///
/// Displays as `{file}:{line}:{col}: error: {message}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file's path as given by the caller.
    pub file: String,
    /// Line number, starting at 1.
    pub line: u32,
    /// Column number in characters, starting at 1.
    pub col: u32,
    /// What is wrong, without location.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: error: {}", self.file, self.line, self.col, self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// File system and page cache geometry of a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// File system block size in bytes: a power of two in 512..=65536, at most the largest folio.
    pub block_size: u64,
    /// Page size in bytes: a power of two in 4096..=65536.
    pub page_size: u64,
    /// Folio sizes, in pages, that the page cache may create: distinct powers of two in 1..=16, non-empty.
    pub folio_pages: Vec<u64>,
    /// XFS's `always_cow` debug knob (`/sys/fs/xfs/debug/always_cow`, CONFIG_XFS_DEBUG): every
    /// write goes through the COW fork. Optional, default false.
    pub always_cow: bool,
    /// Zoned XFS (an internal RT device on a zoned block device, `mkfs.xfs -r zoned=1`, 6.15):
    /// every write goes out of place through the COW fork, with a per-write block reservation.
    /// Optional, default false.
    pub zoned: bool,
}

/// One op of a scenario, with where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    /// What the op does.
    pub kind: OpKind,
    /// Where the op's table starts in the file.
    pub loc: Loc,
}

/// One thread of a scenario: a name and the ops it runs in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadSpec {
    /// Thread name, unique in the scenario, `[a-z0-9_-]+`.
    pub name: String,
    /// The ops, 1..=[`MAX_OPS`] of them.
    pub ops: Vec<Op>,
    /// Where the thread's table starts in the file.
    pub loc: Loc,
}

/// The outcome expected from exploring a scenario under one kernel preset.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// No violation found.
    Pass,
    /// Data that was written reads back as zeroes.
    ZeroedData,
    /// A completed write is lost.
    LostWrite,
    /// Stale (older) data is read back.
    StaleData,
    /// Threads deadlock.
    Deadlock,
    /// The kernel rejects something the scenario asks for (e.g. an error tag it no longer has).
    Unsupported,
    /// A named model invariant is violated (`invariant:<name>`, name `[a-z0-9-]+`).
    Invariant(String),
}

impl Verdict {
    /// Parses `"pass"`, `"zeroed-data"`, `"lost-write"`, `"stale-data"`, `"deadlock"`, `"unsupported"` or `"invariant:<name>"`
    /// (name `[a-z0-9-]+`).
    pub fn parse(s: &str) -> Option<Verdict> {
        match s {
            "pass" => Some(Verdict::Pass),
            "zeroed-data" => Some(Verdict::ZeroedData),
            "lost-write" => Some(Verdict::LostWrite),
            "stale-data" => Some(Verdict::StaleData),
            "deadlock" => Some(Verdict::Deadlock),
            "unsupported" => Some(Verdict::Unsupported),
            _ => {
                let name = s.strip_prefix("invariant:")?;
                let ok =
                    !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                ok.then(|| Verdict::Invariant(name.to_string()))
            }
        }
    }

    /// The verdict as written in scenario files, e.g. `"zeroed-data"` or `"invariant:dirty-over-hole"`.
    pub fn as_str(&self) -> String {
        match self {
            Verdict::Pass => "pass".to_string(),
            Verdict::ZeroedData => "zeroed-data".to_string(),
            Verdict::LostWrite => "lost-write".to_string(),
            Verdict::StaleData => "stale-data".to_string(),
            Verdict::Deadlock => "deadlock".to_string(),
            Verdict::Unsupported => "unsupported".to_string(),
            Verdict::Invariant(name) => format!("invariant:{name}"),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

/// Exploration settings a scenario may suggest; `None` leaves the choice to the caller.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExploreDefaults {
    /// Preemption bound, 0..=6.
    pub preemption_bound: Option<u32>,
    /// Number of randomised (shuttle) iterations, 1..=10_000_000.
    pub iterations: Option<u64>,
}

/// A validated scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
    /// The file's path as given, for messages.
    pub file: String,
    /// Scenario name, `[a-z0-9._-]+`.
    pub name: String,
    /// One-line description of the race.
    pub summary: String,
    /// Where the race was reported (mailing list message id, commit, ...).
    pub source: String,
    /// File system and page cache geometry.
    pub geometry: Geometry,
    /// Ops run sequentially before the threads start (at most [`MAX_OPS`]).
    pub setup: Vec<Op>,
    /// The concurrent threads, 1..=[`MAX_THREADS`].
    pub threads: Vec<ThreadSpec>,
    /// Expected verdict per kernel preset, in file order, with the location of each preset key.
    pub expect: Vec<(String, Verdict, Loc)>,
    /// Suggested exploration settings.
    pub explore: ExploreDefaults,
    /// FNV-1a 64 hash of the file's bytes, to bind replay tokens to the exact file.
    pub content_hash: u64,
}

impl Scenario {
    /// Parses and validates scenario `text`; `file` is used in messages only. Every preset named in `[expect]` must
    /// be one of `known_presets`.
    pub fn parse(file: &str, text: &str, known_presets: &[&str]) -> Result<Scenario, ScenarioError> {
        parse::parse(file, text, known_presets)
    }

    /// Reads and parses the scenario file at `path`. I/O errors, files larger than [`MAX_SCENARIO_FILE_BYTES`] and
    /// non-UTF-8 files are reported at 1:1.
    pub fn load(path: &Path, known_presets: &[&str]) -> Result<Scenario, ScenarioError> {
        let file = path.display().to_string();
        let at_start = |message: String| ScenarioError { file: file.clone(), line: 1, col: 1, message };
        let bytes = files::read_limited(path, MAX_SCENARIO_FILE_BYTES).map_err(at_start)?;
        let text = String::from_utf8(bytes).map_err(|e| {
            at_start(format!("file is not valid UTF-8 (invalid byte at offset {})", e.utf8_error().valid_up_to()))
        })?;
        Self::parse(&file, &text, known_presets)
    }

    /// The verdict expected under `preset`, if the scenario names it.
    pub fn expected(&self, preset: &str) -> Option<&Verdict> {
        self.expect.iter().find(|(p, _, _)| p == preset).map(|(_, v, _)| v)
    }

    /// Largest byte offset any op or setup op touches (end of the furthest range, or truncate size), rounded up to
    /// `page_size`; at least one page.
    pub fn span_bytes(&self) -> u64 {
        let page = self.geometry.page_size.max(1);
        let end = self
            .setup
            .iter()
            .chain(self.threads.iter().flat_map(|t| t.ops.iter()))
            .map(|op| op.kind.end())
            .max()
            .unwrap_or(0);
        let pages = end.div_ceil(page).max(1);
        pages.saturating_mul(page)
    }
}

/// FNV-1a 64-bit hash.
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_round_trip() {
        for s in
            ["pass", "zeroed-data", "lost-write", "stale-data", "deadlock", "unsupported", "invariant:dirty-over-hole"]
        {
            let v = Verdict::parse(s).unwrap();
            assert_eq!(v.as_str(), s);
            assert_eq!(v.to_string(), s);
        }
        for s in ["", "Pass", "invariant:", "invariant:Bad", "invariant:a_b", "zeroed", "pass "] {
            assert_eq!(Verdict::parse(s), None, "{s:?}");
        }
    }

    #[test]
    fn fnv_known_values() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn op_names() {
        assert_eq!(OpKind::Fsync.name(), "fsync");
        assert_eq!(OpKind::PunchHole { offset: 0, length: 1 }.name(), "punch_hole");
        assert_eq!(OpKind::ShortCopy { bytes: 3 }.name(), "short_copy");
    }

    #[test]
    fn error_display() {
        let e = ScenarioError { file: "a.toml".into(), line: 3, col: 7, message: "bad".into() };
        assert_eq!(e.to_string(), "a.toml:3:7: error: bad");
    }

    #[test]
    fn span_bytes_handles_degenerate_values() {
        let mut s = Scenario {
            file: String::new(),
            name: String::new(),
            summary: String::new(),
            source: String::new(),
            geometry: Geometry { block_size: 4096, page_size: 0, folio_pages: vec![], always_cow: false, zoned: false },
            setup: vec![],
            threads: vec![],
            expect: vec![],
            explore: ExploreDefaults::default(),
            content_hash: 0,
        };
        assert_eq!(s.span_bytes(), 1);
        s.geometry.page_size = 4096;
        assert_eq!(s.span_bytes(), 4096);
        let loc = Loc { line: 1, col: 1 };
        s.setup.push(Op { kind: OpKind::Pwrite { offset: u64::MAX, length: u64::MAX, fill: 1 }, loc });
        assert_eq!(s.span_bytes(), u64::MAX);
    }
}
