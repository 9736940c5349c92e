//! The memory child: `iomc-bench __child` runs the default strategy on every preset of one
//! scenario in a process of its own, so its peak RSS is that scenario's. Parent and child talk
//! serde JSON: the parent writes a [`ChildRequest`] to the child's stdin, the child answers with
//! one [`ChildReport`] on stdout. Anything on the child's stderr is diagnostics.

use crate::machine::{self, Cpu};
use crate::measure::{prepare, run_check, strategy_label, Run};
use iomc_harness::default_strategy;
use iomc_models::Behaviour;
use iomc_scenario::Scenario;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// The hidden subcommand's name.
pub const SUBCOMMAND: &str = "__child";

/// What the parent asks of the child.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChildRequest {
    /// The scenario file.
    pub file: PathBuf,
    /// Wall clock allowed to each check, seconds (finite, more than 0).
    pub wall_secs: f64,
}

/// One preset's check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChildRow {
    /// Preset (an `[expect]` key).
    pub preset: String,
    /// The expected verdict.
    pub expected: String,
    /// What the check did.
    pub run: Run,
}

/// What the child reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChildReport {
    /// Strategy name and bounds, e.g. `PCT 1,000 + loom 0..=3`.
    pub strategy: String,
    /// One row per preset of `[expect]`, in file order.
    pub rows: Vec<ChildRow>,
    /// Peak RSS (VmHWM) at the end, KiB.
    pub peak_kib: u64,
    /// Peak RSS after loading the scenario, before any check, KiB.
    pub base_kib: u64,
    /// CPU time of the child.
    pub cpu: Cpu,
}

/// The child's side: read the request from stdin, run, write the report to stdout.
pub fn child_main() -> Result<(), String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).map_err(|e| format!("cannot read the request from stdin: {e}"))?;
    let req: ChildRequest = serde_json::from_str(&input).map_err(|e| format!("bad request on stdin: {e}"))?;
    if !(req.wall_secs.is_finite() && req.wall_secs > 0.0 && req.wall_secs < 1e9) {
        return Err(format!("bad request: wall_secs {} is not a positive number of seconds", req.wall_secs));
    }
    let report = run(&req.file, Duration::from_secs_f64(req.wall_secs))?;
    let json = serde_json::to_string(&report).map_err(|e| format!("cannot serialise the report: {e}"))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{json}").and_then(|()| out.flush()).map_err(|e| format!("cannot write the report: {e}"))
}

fn run(file: &Path, wall: Duration) -> Result<ChildReport, String> {
    let cpu0 = Cpu::now();
    let s = Arc::new(Scenario::load(file, &Behaviour::preset_names()).map_err(|e| e.to_string())?);
    let (base_kib, _) = machine::memory_kib();
    let strategy = default_strategy(&s);
    let mut rows = Vec::new();
    for (preset, expected, _) in &s.expect {
        let p = prepare(&s, preset)?;
        rows.push(ChildRow {
            preset: preset.clone(),
            expected: expected.to_string(),
            run: run_check(&p, &strategy, wall),
        });
    }
    let (peak_kib, _) = machine::memory_kib();
    Ok(ChildReport { strategy: strategy_label(&strategy), rows, peak_kib, base_kib, cpu: Cpu::now().since(cpu0) })
}

/// What became of a child run: its report (if it sent one) and its stderr.
#[derive(Debug)]
pub struct ChildOutcome {
    /// The report, or why there is none.
    pub report: Result<ChildReport, String>,
    /// What the child wrote to stderr.
    pub stderr: String,
}

/// The parent's side: run `exe __child` on `file` and read its report.
pub fn spawn(exe: &Path, file: &Path, wall: Duration) -> ChildOutcome {
    let req = ChildRequest { file: file.to_path_buf(), wall_secs: wall.as_secs_f64() };
    let fail = |e: String| ChildOutcome { report: Err(e), stderr: String::new() };
    let json = match serde_json::to_vec(&req) {
        Ok(j) => j,
        Err(e) => return fail(format!("cannot serialise the request: {e}")),
    };
    let mut child = match Command::new(exe)
        .arg(SUBCOMMAND)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return fail(format!("cannot run {}: {e}", exe.display())),
    };
    // The request is small: writing it before reading the output cannot deadlock on a full pipe.
    let wrote = child.stdin.take().map(|mut stdin| stdin.write_all(&json));
    let o = match child.wait_with_output() {
        Ok(o) => o,
        Err(e) => return fail(format!("cannot wait for {}: {e}", exe.display())),
    };
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let report = if let Some(Err(e)) = wrote {
        Err(format!("cannot send the request to the child: {e}"))
    } else if !o.status.success() {
        Err(format!("child exited {}: {}", o.status, stderr.trim()))
    } else {
        serde_json::from_slice::<ChildReport>(&o.stdout).map_err(|e| format!("the child's report is not valid: {e}"))
    };
    ChildOutcome { report, stderr }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_round_trip_through_json() {
        let r = ChildReport {
            strategy: "PCT 1,000 + loom 0..=3".into(),
            rows: vec![ChildRow {
                preset: "linux-6.1".into(),
                expected: "zeroed-data".into(),
                run: Run {
                    executions: 12,
                    secs: 0.001,
                    outcome: "zeroed-data".into(),
                    matches: true,
                    found: true,
                    stop: "found".into(),
                    bound: None,
                    presearch: 12,
                },
            }],
            peak_kib: 4000,
            base_kib: 3000,
            cpu: Cpu { user: 1.5, sys: 0.5 },
        };
        let back: ChildReport = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        let req = ChildRequest { file: "scenarios/x.toml".into(), wall_secs: 2.5 };
        assert_eq!(serde_json::from_str::<ChildRequest>(&serde_json::to_string(&req).unwrap()).unwrap(), req);
    }
}
