//! Replay tokens: scenario + variant + strategy + schedule, in one shell-safe string.
//!
//! `iomc1:<content hash>:<preset>:<overrides or ->:<schedule>:<scenario path>` where the
//! schedule is `loom.b<bound>.e<execution>` (loom's DFS is deterministic, so re-running that
//! pass to that execution replays it) or `shuttle.<schedule>` (shuttle's own encoding of every
//! scheduling decision). The content hash binds the token to the exact scenario file.

use crate::Prepared;
use iomc_explore::{Found, Strategy};

/// What a token names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// FNV-1a of the scenario file.
    pub hash: u64,
    /// Preset.
    pub preset: String,
    /// `--set` overrides.
    pub overrides: Vec<String>,
    /// How to replay.
    pub strategy: Strategy,
    /// Scenario file path.
    pub file: String,
}

/// Encode a token for a violation found by `strategy` (None for stress: not replayable).
pub fn encode<F>(p: &Prepared, strategy: &Strategy, found: &Found<F>) -> Option<String> {
    let sched = match strategy {
        // The default strategy's violation comes from its PCT phase (a schedule) or its loom
        // phase (a bound and an index).
        Strategy::PctThenLoom { .. } => match &found.schedule {
            Some(s) => format!("shuttle.{s}"),
            None => format!("loom.b{}.e{}", found.bound?, found.exec),
        },
        Strategy::Loom { .. } | Strategy::LoomReplay { .. } => format!("loom.b{}.e{}", found.bound?, found.exec),
        Strategy::Shuttle { .. } | Strategy::ShuttleReplay { .. } => format!("shuttle.{}", found.schedule.as_ref()?),
        Strategy::Stress { .. } => return None,
    };
    let sets = if p.overrides.is_empty() { "-".to_string() } else { p.overrides.join(",") };
    Some(format!("iomc1:{:016x}:{}:{}:{}:{}", p.scenario.content_hash, p.preset, sets, sched, p.scenario.file))
}

/// Decode a token.
pub fn decode(s: &str) -> Result<Token, String> {
    let bad = |why: &str| format!("not a replay token ({why}): {s:?}");
    let parts: Vec<&str> = s.trim().splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "iomc1" {
        return Err(bad("expected iomc1:<hash>:<preset>:<overrides>:<schedule>:<file>"));
    }
    let hash = u64::from_str_radix(parts[1], 16).map_err(|_| bad("hash is not hex"))?;
    let overrides = if parts[3] == "-" { Vec::new() } else { parts[3].split(',').map(str::to_string).collect() };
    let strategy = if let Some(rest) = parts[4].strip_prefix("loom.b") {
        let (b, e) = rest.split_once(".e").ok_or_else(|| bad("loom schedule is loom.b<bound>.e<exec>"))?;
        Strategy::LoomReplay {
            bound: b.parse().map_err(|_| bad("loom bound is not a number"))?,
            exec: e.parse().map_err(|_| bad("loom execution is not a number"))?,
        }
    } else if let Some(rest) = parts[4].strip_prefix("shuttle.") {
        Strategy::ShuttleReplay { schedule: rest.to_string() }
    } else {
        return Err(bad("unknown schedule kind"));
    };
    Ok(Token { hash, preset: parts[2].to_string(), overrides, strategy, file: parts[5].to_string() })
}
