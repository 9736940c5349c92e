//! Section 8: the harness overhead (recording and the oracle switched off): the run, its results and its table.

use crate::measure::{run_check, Config, Results, FIXED};
use crate::sections::cost::Tally;
use crate::stats::count;
use iomc_explore::Strategy;
use iomc_harness::{Instrument, Prepared};
use iomc_scenario::{Scenario, Verdict};
use std::fmt::Write;
use std::sync::Arc;
use tracing::info;

/// The three instrumentation levels compared, in table order.
pub const MODES: [(&str, Instrument); 3] = [
    ("full", Instrument::FULL),
    ("no oracle", Instrument { record: true, oracle: false }),
    ("off", Instrument { record: false, oracle: false }),
];

/// One backend's figures for [`MODES`] on one scenario.
#[derive(Clone, Debug)]
pub struct Overhead {
    /// Scenario name.
    pub scenario: String,
    /// Preset (one the scenario expects to pass, so every execution runs to its end).
    pub preset: String,
    /// Executions and the fastest time of the repeats, per mode.
    pub modes: Vec<Tally>,
    /// Did every mode explore the same number of executions?
    pub same_executions: bool,
}

impl Overhead {
    /// (full − off) ÷ full, and the oracle's and the recording's parts of it.
    pub fn shares(&self) -> Option<(f64, f64, f64)> {
        let [full, no_oracle, off] = [&self.modes[0], &self.modes[1], &self.modes[2]];
        (full.secs > 0.0).then(|| {
            (
                (full.secs - off.secs) / full.secs,
                (full.secs - no_oracle.secs) / full.secs,
                (no_oracle.secs - off.secs) / full.secs,
            )
        })
    }
}

/// The scenarios measured for overhead: each on linux-6.2 if it passes there.
pub(crate) fn overhead_cells(scenarios: &[Arc<Scenario>]) -> Vec<Arc<Scenario>> {
    scenarios.iter().filter(|s| s.expected(FIXED) == Some(&Verdict::Pass)).cloned().collect()
}

pub fn overhead(
    cfg: &Config,
    scenarios: &[Arc<Scenario>],
    strategy: &Strategy,
    label: &str,
) -> Result<Vec<Overhead>, String> {
    let mut out = Vec::new();
    for s in overhead_cells(scenarios) {
        let prepared: Vec<Arc<Prepared>> = MODES
            .iter()
            .map(|(_, inst)| {
                let mut p = Prepared::new(s.clone(), FIXED, &[])?;
                p.instrument = *inst;
                Ok(Arc::new(p))
            })
            .collect::<Result<_, String>>()?;
        let mut modes = vec![Tally::default(); MODES.len()];
        let mut counts = vec![Vec::new(); MODES.len()];
        // Interleave the modes so that a slow patch of the machine hits all of them.
        for _ in 0..cfg.overhead_repeats.max(1) {
            for (i, p) in prepared.iter().enumerate() {
                let r = run_check(p, strategy, cfg.exhaustive_wall);
                counts[i].push(r.executions);
                let t = &mut modes[i];
                if t.calls == 0 || r.secs < t.secs {
                    t.secs = r.secs;
                    t.executions = r.executions;
                }
                t.calls += 1;
            }
        }
        let first = counts[0].first().copied().unwrap_or(0);
        let same_executions = counts.iter().flatten().all(|c| *c == first);
        let o = Overhead { scenario: s.name.clone(), preset: FIXED.into(), modes, same_executions };
        if let Some((all, oracle, record)) = o.shares() {
            info!(
                "[overhead] {} {label}: harness {:.0}% (oracle {:.0}%, recording {:.0}%){}",
                s.name,
                all * 100.0,
                oracle * 100.0,
                record * 100.0,
                if same_executions { "" } else { ", execution counts differ" }
            );
        }
        out.push(o);
    }
    Ok(out)
}

/// (full − off) ÷ full over all rows, and the oracle's and recording's parts.
pub(crate) fn total_shares(rows: &[Overhead]) -> Option<(f64, f64, f64)> {
    let sum = |i: usize| rows.iter().map(|o| o.modes[i].secs).sum::<f64>();
    let (full, no_oracle, off) = (sum(0), sum(1), sum(2));
    (full > 0.0).then(|| ((full - off) / full, (full - no_oracle) / full, (no_oracle - off) / full))
}

pub(crate) fn section_overhead(out: &mut String, cfg: &Config, r: &Results) {
    let _ = writeln!(
        out,
        "### 8. Harness overhead
"
    );
    let _ = writeln!(
        out,
        "The same search three times per scenario that passes on {FIXED}, with `Prepared::instrument` at \
         `Instrument::FULL`, without the oracle (`record: true, oracle: false`), and with recording off too \
         (`record: false, oracle: false`, the bare model). Recording is no scheduling point, so each mode explores the \
         same executions (loom: exhaustive bound 2; shuttle: random, seed 1, {} executions). The modes were run \
         interleaved, {}; the fastest run of each is kept. Overhead = (full − off) ÷ full; the oracle's \
         part is (full − no oracle) ÷ full, recording's (no oracle − off) ÷ full.\n",
        count(cfg.overhead_iterations),
        if cfg.overhead_repeats <= 1 {
            "once each".to_string()
        } else {
            format!("{} times each", cfg.overhead_repeats)
        }
    );
    for (name, rows) in [("loom bound 2", &r.overhead_loom), ("shuttle random", &r.overhead_shuttle)] {
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "| {name} | executions | full µs/exec | no oracle µs/exec | off µs/exec | overhead | oracle | recording |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|");
        let pct = |x: f64| format!("{:.0}%", x * 100.0);
        for o in rows.iter() {
            let us = |i: usize| o.modes[i].us().map(|v| format!("{v:.1}")).unwrap_or_else(|| "-".into());
            let (all, oracle, record) = o.shares().unwrap_or((0.0, 0.0, 0.0));
            let execs = if o.same_executions {
                count(o.modes[0].executions)
            } else {
                format!("{} (differs by mode)", count(o.modes[0].executions))
            };
            let _ = writeln!(
                out,
                "| {} | {execs} | {} | {} | {} | {} | {} | {} |",
                o.scenario,
                us(0),
                us(1),
                us(2),
                pct(all),
                pct(oracle),
                pct(record)
            );
        }
        if let Some((all, oracle, record)) = total_shares(rows) {
            let execs: u64 = rows.iter().map(|o| o.modes[0].executions).sum();
            let total = |i: usize| {
                let secs: f64 = rows.iter().map(|o| o.modes[i].secs).sum();
                let n: u64 = rows.iter().map(|o| o.modes[i].executions).sum();
                if n > 0 {
                    format!("{:.1}", secs * 1e6 / n as f64)
                } else {
                    "-".into()
                }
            };
            let _ = writeln!(
                out,
                "| **all** | {} | {} | {} | {} | **{}** | {} | {} |",
                count(execs),
                total(0),
                total(1),
                total(2),
                pct(all),
                pct(oracle),
                pct(record)
            );
        }
        let _ = writeln!(out);
    }
}
