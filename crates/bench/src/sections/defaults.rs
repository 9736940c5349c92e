//! Section 1 and 6: the default strategy on every scenario x preset, each scenario in a child process that reports its peak memory: the run, its results and its table.

use crate::child;
use crate::machine::Cpu;
use crate::measure::{Config, Results, Run};
use crate::report::MIB;
use crate::stats::{count, rate, secs};
use iomc_explore::DEFAULT_PCT_DEPTH;
use iomc_harness::DEFAULT_PCT_ITERATIONS;
use iomc_scenario::Scenario;
use std::fmt::Write;
use std::path::Path;
use std::sync::Arc;
use tracing::{error, info, warn};

/// The default-strategy checks of one scenario, run in a child process.
#[derive(Clone, Debug)]
pub struct ScenarioDefaults {
    /// Scenario name.
    pub scenario: String,
    /// (preset, expected, run) for every preset in `[expect]`.
    pub rows: Vec<(String, String, Run)>,
    /// Strategy name and bounds, e.g. `PCT 1,000 + loom 0..=3`.
    pub strategy: String,
    /// Peak RSS of the child (VmHWM), KiB.
    pub peak_kib: u64,
    /// Peak RSS after loading the scenario, before any check, KiB.
    pub base_kib: u64,
    /// CPU time of the child.
    pub cpu: Cpu,
    /// Why the child failed, if it did.
    pub error: Option<String>,
    /// Lines the child wrote to stderr (none expected: `iomc check` prints no panic noise).
    pub stderr_lines: usize,
}

pub(crate) fn defaults(cfg: &Config, scenarios: &[Arc<Scenario>]) -> Vec<ScenarioDefaults> {
    let mut out = Vec::new();
    for s in scenarios {
        let o = child::spawn(&cfg.exe, Path::new(&s.file), cfg.child_wall);
        let stderr_lines = o.stderr.lines().count();
        if let Some(first) = o.stderr.lines().next() {
            warn!(scenario = %s.name, stderr_lines, "[default] {}: the child wrote {stderr_lines} lines to stderr, first: {first}", s.name);
        }
        let d = match o.report {
            Ok(r) => ScenarioDefaults {
                scenario: s.name.clone(),
                rows: r.rows.into_iter().map(|row| (row.preset, row.expected, row.run)).collect(),
                strategy: r.strategy,
                peak_kib: r.peak_kib,
                base_kib: r.base_kib,
                cpu: r.cpu,
                error: None,
                stderr_lines,
            },
            Err(e) => {
                error!(scenario = %s.name, "[default] {}: {e}", s.name);
                ScenarioDefaults {
                    scenario: s.name.clone(),
                    rows: Vec::new(),
                    strategy: String::new(),
                    peak_kib: 0,
                    base_kib: 0,
                    cpu: Cpu::default(),
                    error: Some(e),
                    stderr_lines,
                }
            }
        };
        for (preset, _, r) in &d.rows {
            info!(
                scenario = %s.name, preset = %preset, executions = r.executions, secs = r.secs,
                "[default] {} {preset}: {} in {} executions, {:.3} s",
                s.name, r.outcome, r.executions, r.secs
            );
        }
        info!(scenario = %s.name, peak_kib = d.peak_kib, "[memory] {}: peak {} KiB", s.name, d.peak_kib);
        out.push(d);
    }
    out
}

pub(crate) fn section_defaults(out: &mut String, r: &Results) {
    let _ = writeln!(out, "### 1. Default strategy, every scenario × preset\n");
    let _ = writeln!(
        out,
        "What `iomc check scenarios/` runs: {} PCT executions (depth {DEFAULT_PCT_DEPTH}, seed 0), then, if they \
         found nothing, loom with the preemption bound raised from 0 to the scenario's `[explore] preemption_bound` \
         (else 4 with up to three threads, 3 with four). A violation stops the search in either phase (\"found by PCT\", or \"found at bound b\" by the \
         loom phase); a pass is exhaustive under that bound, and its executions include the {} of the PCT phase. \
         Each scenario ran in its own process (table 6).\n",
        count(DEFAULT_PCT_ITERATIONS),
        count(DEFAULT_PCT_ITERATIONS)
    );
    let _ = writeln!(out, "| scenario | preset | strategy | expected | got | executions | time | exec/s | ends |");
    let _ = writeln!(out, "|---|---|---|---|---|---:|---:|---:|---|");
    let mut total = (0u64, 0.0f64);
    for d in &r.defaults {
        for (preset, expected, run) in &d.rows {
            total.0 += run.executions;
            total.1 += run.secs;
            let got = if run.matches { run.outcome.clone() } else { format!("{} (MISMATCH)", run.outcome) };
            let ends = match run.bound {
                Some(b) => format!("{} at bound {b}", run.stop),
                None if run.found && run.presearch > 0 => "found by PCT".to_string(),
                None => run.stop.clone(),
            };
            let _ = writeln!(
                out,
                "| {} | {preset} | {} | {expected} | {got} | {} | {} | {} | {ends} |",
                d.scenario,
                d.strategy,
                count(run.executions),
                secs(run.secs),
                rate(run.executions, run.secs)
            );
        }
        if let Some(e) = &d.error {
            let _ = writeln!(out, "| {} | - | - | - | error: {} | | | | |", d.scenario, e.replace('|', "/"));
        }
    }
    let _ = writeln!(
        out,
        "| **total** | | | | | {} | {} | {} | |\n",
        count(total.0),
        secs(total.1),
        rate(total.0, total.1)
    );
}

pub(crate) fn section_memory(out: &mut String, r: &Results) {
    let _ = writeln!(out, "### 6. Peak memory\n");
    let _ = writeln!(
        out,
        "Each scenario's default checks (table 1, every preset) in a child process (`iomc-bench __child`); peak is the \
         child's VmHWM from /proc/self/status just before it exits, \"after load\" its VmHWM once the scenario is \
         parsed and before any check (the process floor).\n"
    );
    let _ = writeln!(out, "| scenario | presets | executions | peak RSS | after load | CPU user | CPU sys |");
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
    for d in &r.defaults {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.1} MiB | {:.1} MiB | {:.2} s | {:.2} s |",
            d.scenario,
            d.rows.len(),
            count(d.rows.iter().map(|(_, _, r)| r.executions).sum()),
            d.peak_kib as f64 / MIB,
            d.base_kib as f64 / MIB,
            d.cpu.user,
            d.cpu.sys
        );
    }
    let _ = writeln!(out);
}
