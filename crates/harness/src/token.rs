//! Replay tokens: scenario + variant + strategy + schedule + what the execution showed, in one
//! string that single quotes make shell-safe.
//!
//! `iomc2:<content hash>:<preset>:<overrides or ->:<schedule>:<verdict>:<events>:<check>:<scenario path>`
//!
//! * the schedule is `loom.b<bound>.e<execution>` (loom's DFS is deterministic, so re-running
//!   that pass to that execution replays it) or `shuttle.<schedule>` (shuttle's own encoding of
//!   every scheduling decision);
//! * the content hash binds the token to the exact scenario file;
//! * the verdict (its `:` written `=`, as in `invariant=dirty-over-hole`) and the events'
//!   fingerprint (FNV-1a over every event, 16 hex digits) say what the execution showed, so a
//!   replay can tell whether it reproduced *that* execution ([`verify`]);
//! * the check (FNV-1a, 8 hex digits) covers everything before it, so a flipped or truncated
//!   token is refused before anything runs;
//! * the scenario path is relative to the repository root (the nearest directory above the file
//!   with a `.git`), else absolute; [`resolve`] finds it from any working directory.
//!
//! Tokens of the first format (`iomc1:<hash>:<preset>:<overrides>:<schedule>:<path>`, no
//! verdict, events or check) are still read; their shuttle schedules are checked for structure
//! only.

use crate::oracle::Violation;
use crate::{CheckResult, Prepared};
use iomc_explore::{Found, Strategy};
use iomc_models::Event;
use iomc_scenario::Verdict;
use std::path::{Path, PathBuf};

/// The highest loom preemption bound a token may name (the scenario format's limit).
pub const MAX_TOKEN_BOUND: u32 = 6;

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
    /// Scenario file path, as the token holds it.
    pub file: String,
    /// What the named execution showed (None for a first-format token, which does not say).
    pub expect: Option<Expected>,
}

/// What the execution a token names showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    /// Its violation class.
    pub verdict: Verdict,
    /// [`fingerprint`] of its events.
    pub events: u64,
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The check field: FNV-1a of everything before it, folded to 32 bits.
fn check_of(body: &str) -> u32 {
    let h = fnv1a64(body.as_bytes());
    // Folding keeps every input bit's influence; truncation is intended.
    ((h >> 32) ^ (h & 0xffff_ffff)) as u32
}

/// FNV-1a over every event (actor, kernel function, what it did), in order.
pub fn fingerprint(events: &[Event]) -> u64 {
    let mut text = String::new();
    for e in events {
        text.push_str(&format!("{}\u{1f}{}\u{1f}{:?}\u{1e}", e.actor, e.func, e.what));
    }
    fnv1a64(text.as_bytes())
}

/// Encode a token for a violation found by `strategy` (None for stress: not replayable).
pub fn encode(p: &Prepared, strategy: &Strategy, found: &Found<Violation>) -> Option<String> {
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
    let verdict = found.finding.verdict.to_string().replace(':', "=");
    let body = format!(
        "iomc2:{:016x}:{}:{}:{}:{}:{:016x}",
        p.scenario.content_hash,
        p.preset,
        sets,
        sched,
        verdict,
        fingerprint(&found.finding.events)
    );
    let check = check_of(&body);
    Some(format!("{body}:{check:08x}:{}", portable_path(&p.scenario.file)))
}

/// The path a token holds for `file`: relative to the repository root (the nearest directory
/// above it holding `.git`), else absolute; as given if it cannot be canonicalised.
pub fn portable_path(file: &str) -> String {
    let Ok(abs) = std::fs::canonicalize(file) else { return file.to_string() };
    let root = abs.ancestors().skip(1).find(|d| d.join(".git").exists());
    let rel = root.and_then(|r| abs.strip_prefix(r).ok());
    match rel {
        Some(rel) => rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"),
        None => abs.display().to_string(),
    }
}

/// Decode a token. Every field is checked; nothing here panics on any input.
pub fn decode(s: &str) -> Result<Token, String> {
    let s = s.trim();
    let shown: String =
        if s.chars().count() > 120 { format!("{}...", s.chars().take(120).collect::<String>()) } else { s.to_string() };
    let bad = |why: &str| format!("not a replay token ({why}): {shown:?}");
    if s.starts_with("iomc1:") {
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        if parts.len() != 6 {
            return Err(bad("expected iomc1:<hash>:<preset>:<overrides>:<schedule>:<file>"));
        }
        return finish(&parts[1..5], None, parts[5], &bad);
    }
    if !s.starts_with("iomc2:") {
        return Err(bad("expected iomc2:<hash>:<preset>:<overrides>:<schedule>:<verdict>:<events>:<check>:<file>"));
    }
    let parts: Vec<&str> = s.splitn(9, ':').collect();
    if parts.len() != 9 {
        return Err(bad(
            "expected iomc2:<hash>:<preset>:<overrides>:<schedule>:<verdict>:<events>:<check>:<file>; is it truncated?",
        ));
    }
    let body = parts[..7].join(":");
    let check = u32::from_str_radix(parts[7], 16).ok().filter(|_| parts[7].len() == 8);
    match check {
        None => return Err(bad("the check field is not 8 hex digits")),
        Some(c) if c != check_of(&body) => {
            return Err(bad("its check does not match: the token was altered or truncated; copy it again whole"))
        }
        Some(_) => {}
    }
    let verdict = Verdict::parse(&parts[5].replacen('=', ":", 1)).ok_or_else(|| bad("unknown verdict"))?;
    let events = parse_hex64(parts[6]).ok_or_else(|| bad("the events fingerprint is not 16 hex digits"))?;
    finish(&parts[1..5], Some(Expected { verdict, events }), parts[8], &bad)
}

fn parse_hex64(s: &str) -> Option<u64> {
    if s.len() != 16 {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

/// The fields both formats share: hash, preset, overrides, schedule.
fn finish(f: &[&str], expect: Option<Expected>, file: &str, bad: &dyn Fn(&str) -> String) -> Result<Token, String> {
    let hash = parse_hex64(f[0]).ok_or_else(|| bad("the content hash is not 16 hex digits"))?;
    if f[1].is_empty() {
        return Err(bad("the preset is empty"));
    }
    let overrides = if f[2] == "-" { Vec::new() } else { f[2].split(',').map(str::to_string).collect() };
    let strategy = if let Some(rest) = f[3].strip_prefix("loom.b") {
        let (b, e) = rest.split_once(".e").ok_or_else(|| bad("loom schedule is loom.b<bound>.e<exec>"))?;
        let bound: u32 = b.parse().map_err(|_| bad("loom bound is not a number"))?;
        if bound > MAX_TOKEN_BOUND {
            return Err(bad(&format!("loom bound {bound} is above {MAX_TOKEN_BOUND}")));
        }
        let exec: u64 = e.parse().map_err(|_| bad("loom execution is not a number"))?;
        if exec == 0 {
            return Err(bad("loom executions are numbered from 1"));
        }
        Strategy::LoomReplay { bound, exec }
    } else if let Some(rest) = f[3].strip_prefix("shuttle.") {
        check_shuttle_schedule(rest).map_err(|why| bad(&format!("shuttle schedule: {why}")))?;
        Strategy::ShuttleReplay { schedule: rest.to_string() }
    } else {
        return Err(bad("unknown schedule kind (loom.b<bound>.e<exec> or shuttle.<schedule>)"));
    };
    if file.is_empty() {
        return Err(bad("no scenario file"));
    }
    Ok(Token { hash, preset: f[1].to_string(), overrides, strategy, file: file.to_string(), expect })
}

/// Check a shuttle schedule (shuttle-engine 0.1.8's encoding: hex of a magic byte 0x91, varints
/// task-id width, step count and seed, then the steps as packed bits) without shuttle's decoder,
/// which indexes out of bounds on a short or empty input and allocates whatever step count the
/// input claims.
pub fn check_shuttle_schedule(s: &str) -> Result<(), String> {
    let hex: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if hex.is_empty() {
        return Err("it is empty".into());
    }
    if hex.len() & 1 == 1 {
        return Err("odd number of hex digits (truncated?)".into());
    }
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<_, _>>()
        .map_err(|_| "not hex".to_string())?;
    let (&magic, mut rest) = bytes.split_first().ok_or("it is empty")?;
    if magic != 0x91 {
        return Err(format!("unknown format byte {magic:#04x} (expected 0x91)"));
    }
    let mut varint = |what: &str| -> Result<u64, String> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let (&b, r) = rest.split_first().ok_or_else(|| format!("ends inside its {what} (truncated?)"))?;
            rest = r;
            v |= u64::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(format!("its {what} is too long"))
    };
    let width = varint("task-id width")?;
    let steps = varint("step count")?;
    varint("seed")?;
    if !(1..=32).contains(&width) {
        return Err(format!("task-id width {width} is out of range"));
    }
    let bits = rest.len() as u64 * 8;
    let bit = |i: u64| rest.get((i / 8) as usize).is_some_and(|b| (b >> (i % 8)) & 1 == 1);
    let mut at = 0u64;
    for n in 0..steps {
        if at >= bits {
            return Err(format!("ends after {n} of its {steps} steps (truncated?)"));
        }
        at += if bit(at) { 1 } else { 1 + width };
        if at > bits {
            return Err(format!("ends inside step {} of {steps} (truncated?)", n + 1));
        }
    }
    Ok(())
}

/// Find the scenario file a token names: `explicit` if given; else the path as held, relative
/// to the working directory, to each directory above it, and to each directory above this
/// executable (a checkout's `target/release/iomc`). The first candidate whose contents hash to
/// the token's wins; if none does, the first that exists (the caller reports the change).
pub fn resolve(t: &Token, explicit: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(p) = explicit {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(format!("--scenario {}: no such file", p.display()))
        };
    }
    let held = Path::new(&t.file);
    let mut candidates: Vec<PathBuf> = Vec::new();
    if held.is_absolute() {
        candidates.push(held.to_path_buf());
    } else {
        let mut bases: Vec<PathBuf> = Vec::new();
        if let Ok(cwd) = std::env::current_dir() {
            bases.extend(cwd.ancestors().map(Path::to_path_buf));
        }
        if let Ok(exe) = std::env::current_exe() {
            bases.extend(exe.ancestors().skip(1).map(Path::to_path_buf));
        }
        for b in bases {
            let c = b.join(held);
            if !candidates.contains(&c) {
                candidates.push(c);
            }
        }
    }
    let existing: Vec<&PathBuf> = candidates.iter().filter(|c| c.is_file()).collect();
    // Only files a scenario could be are read (Scenario::load refuses larger ones anyway).
    let small = |c: &&&PathBuf| c.metadata().is_ok_and(|m| m.len() <= iomc_scenario::MAX_SCENARIO_FILE_BYTES);
    let matching = existing.iter().filter(small).find(|c| std::fs::read(c).is_ok_and(|b| fnv1a64(&b) == t.hash));
    match (matching, existing.first()) {
        (Some(c), _) | (None, Some(c)) => Ok((*c).clone()),
        (None, None) => Err(format!(
            "cannot find the token's scenario file {} (looked {}); run iomc from the repository that holds it, \
             or pass its path with --scenario",
            t.file,
            if held.is_absolute() {
                "there".to_string()
            } else {
                "under the working directory, the directories above it and above the iomc executable".to_string()
            }
        )),
    }
}

/// Did the replay `r` reproduce exactly the execution `t` names? The same violation class,
/// the same events, and for loom the same execution index (an earlier violation at that bound
/// is a different execution).
pub fn verify(t: &Token, r: &CheckResult) -> Result<(), String> {
    let Some(f) = &r.report.found else {
        let why = match (&t.strategy, &r.outcome) {
            (Strategy::LoomReplay { bound, exec }, crate::Outcome::Error(_)) if r.report.executions < *exec => {
                format!(
                    "the pass at loom bound {bound} has only {} executions; the token names execution {exec}, \
                     past the end of the search",
                    r.report.executions
                )
            }
            (_, crate::Outcome::Error(m) | crate::Outcome::Incomplete(m)) => first_words(m),
            (_, crate::Outcome::Verdict(v)) => format!("the replayed execution showed {v}"),
        };
        return Err(format!("the token did not reproduce its violation: {why}"));
    };
    if let Strategy::LoomReplay { bound, exec } = t.strategy {
        if f.exec != exec {
            return Err(format!(
                "the token did not reproduce its violation: execution {} at loom bound {bound} already showed {} \
                 before the token's execution {exec} (the token names an execution past the search, or the model \
                 changed since it was made)",
                f.exec, f.finding.verdict
            ));
        }
    }
    if let Some(e) = &t.expect {
        if e.verdict != f.finding.verdict {
            return Err(format!(
                "the token did not reproduce its violation: the execution showed {}, the token names {} (the model \
                 changed since it was made)",
                f.finding.verdict, e.verdict
            ));
        }
        let got = fingerprint(&f.finding.events);
        if e.events != got {
            return Err(format!(
                "the token did not reproduce its violation: the execution showed {} with different events \
                 (fingerprint {got:016x}, the token's {:016x}; the model changed since it was made)",
                f.finding.verdict, e.events
            ));
        }
    }
    Ok(())
}

/// The first line of a checker's message, at most 200 characters (shuttle's replay complaint
/// carries a debug dump of every task).
fn first_words(m: &str) -> String {
    let line = m.lines().next().unwrap_or_default();
    let line = line.split(", but choices were").next().unwrap_or(line);
    if line.chars().count() > 200 {
        format!("{}...", line.chars().take(200).collect::<String>())
    } else {
        line.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_that_cannot_decode_are_refused() {
        for bad in ["", "9", "zz", "00", "91", "9101", "910102", "91010a00", "91ff", "91218000"] {
            assert!(check_shuttle_schedule(bad).is_err(), "{bad:?} accepted");
        }
        // width 1, 2 steps, seed 0, steps task 1 then random: bits 0,1 then 1 -> 0b110 = 0x06.
        assert_eq!(check_shuttle_schedule("9101020006"), Ok(()));
    }

    #[test]
    fn first_format_and_bad_fields() {
        let t = decode("iomc1:00000000000000ab:linux-6.1:-:loom.b2.e5:scenarios/x.toml").unwrap();
        assert_eq!(t.strategy, Strategy::LoomReplay { bound: 2, exec: 5 });
        assert_eq!(t.expect, None);
        for bad in [
            "iomc1:00000000000000ab:linux-6.1:-:loom.b2.e0:x.toml",
            "iomc1:00000000000000ab:linux-6.1:-:loom.b99.e1:x.toml",
            "iomc1:00000000000000ab:linux-6.1:-:shuttle.:x.toml",
            "iomc1:00000000000000ab:linux-6.1:-:shuttle.91:x.toml",
            "iomc1:00000000000000ab:linux-6.1:-:loom.b2.e5:",
            "iomc2:00000000000000ab:linux-6.1:-:loom.b2.e5:zeroed-data:0000000000000000:00000000:x.toml",
        ] {
            assert!(decode(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn the_check_catches_a_flipped_character() {
        let body = "iomc2:00000000000000ab:linux-6.1:-:loom.b2.e5:invariant=dirty-over-hole:0123456789abcdef";
        let good = format!("{body}:{:08x}:scenarios/x.toml", check_of(body));
        let t = decode(&good).unwrap();
        assert_eq!(t.expect.unwrap().verdict, Verdict::Invariant("dirty-over-hole".into()));
        let flipped = good.replacen("e5", "e6", 1);
        assert!(decode(&flipped).unwrap_err().contains("check does not match"));
    }
}
