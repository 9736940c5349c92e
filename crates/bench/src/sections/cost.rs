//! Section 7: the cost of one execution per backend: the run, its results and its table.

use crate::measure::{prepare, run_check, Config, Results, FIXED};
use crate::sections::exhaustive::Exhaustive;
use crate::stats::{dur, ratio};
use iomc_explore::{ShuttleKind, Strategy};
use iomc_harness::Prepared;
use iomc_scenario::Scenario;
use std::fmt::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::info;

/// Executions and seconds accumulated over a timed loop.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    /// Executions.
    pub executions: u64,
    /// Seconds.
    pub secs: f64,
    /// `check` calls (more than one when a search stops early on a finding).
    pub calls: u64,
}

impl Tally {
    /// Microseconds per execution.
    pub fn us(&self) -> Option<f64> {
        (self.executions > 0).then(|| self.secs * 1e6 / self.executions as f64)
    }
}

/// Per-execution cost of one scenario under each backend.
#[derive(Clone, Debug)]
pub struct Cost {
    /// Scenario name.
    pub scenario: String,
    /// Preset.
    pub preset: String,
    /// Scenario threads.
    pub threads: usize,
    /// loom, from the exhaustive bound-2 pass.
    pub loom: Option<Tally>,
    /// shuttle random.
    pub shuttle: Tally,
    /// OS threads (stress).
    pub stress: Tally,
}

pub(crate) fn timed(p: &Arc<Prepared>, wall: Duration, strategy: impl Fn(u64) -> Strategy) -> Tally {
    let start = Instant::now();
    let mut t = Tally::default();
    while start.elapsed() < wall {
        let left = wall.saturating_sub(start.elapsed());
        let r = run_check(p, &strategy(t.calls + 1), left);
        t.executions += r.executions;
        t.calls += 1;
        if r.executions == 0 {
            break;
        }
    }
    t.secs = start.elapsed().as_secs_f64();
    t
}

pub(crate) fn cost(cfg: &Config, scenarios: &[Arc<Scenario>], ex: &[Exhaustive]) -> Result<Vec<Cost>, String> {
    let mut out = Vec::new();
    for s in scenarios {
        let preset = if s.expected(FIXED).is_some() {
            FIXED.to_string()
        } else {
            match s.expect.first() {
                Some((p, _, _)) => p.clone(),
                None => continue,
            }
        };
        let p = prepare(s, &preset)?;
        let loom = ex.iter().find(|e| e.scenario == s.name && e.preset == preset).and_then(|e| {
            let r = e.at(2)?;
            r.complete().then_some(Tally { executions: r.executions, secs: r.secs, calls: 1 })
        });
        let shuttle = timed(&p, cfg.cost_wall, |seed| Strategy::Shuttle {
            kind: ShuttleKind::Random,
            iterations: 1_000_000_000,
            seed,
        });
        let stress = timed(&p, cfg.cost_wall, |_| Strategy::Stress { iterations: u64::MAX / 2 });
        info!(
            "[cost] {} {preset}: loom {:?} µs, shuttle {:?} µs, stress {:?} µs per execution",
            s.name,
            loom.and_then(|t| t.us()).map(|x| x.round()),
            shuttle.us().map(|x| x.round()),
            stress.us().map(|x| x.round())
        );
        out.push(Cost { scenario: s.name.clone(), preset, threads: s.threads.len(), loom, shuttle, stress });
    }
    Ok(out)
}

pub(crate) fn section_cost(out: &mut String, cfg: &Config, r: &Results) {
    let _ = writeln!(out, "### 7. Cost of one execution\n");
    if r.cost.is_empty() {
        let _ = writeln!(out, "Not measured.\n");
        return;
    }
    let _ = writeln!(
        out,
        "Wall time per execution of the whole harness (fresh world, setup, threads, join, oracle) under each backend: \
         loom from the exhaustive bound-2 pass of table 3, shuttle random and stress from back-to-back `check` calls \
         for {} each (a search that stops on a finding is restarted with the next seed, so its check set-up is \
         included). Preset {FIXED} unless the scenario does not name it.\n",
        dur(cfg.cost_wall)
    );
    let _ = writeln!(
        out,
        "| scenario | preset | threads | loom µs/exec | shuttle random µs/exec | stress µs/exec | loom ÷ shuttle |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|");
    let us = |x: Option<f64>| x.map(|v| format!("{v:.1}")).unwrap_or_else(|| "-".into());
    for c in &r.cost {
        let l = c.loom.and_then(|t| t.us());
        let s = c.shuttle.us();
        let x = match (l, s) {
            (Some(l), Some(s)) if s > 0.0 => ratio(l / s),
            _ => "-".into(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {x} |",
            c.scenario,
            c.preset,
            c.threads,
            us(l),
            us(s),
            us(c.stress.us())
        );
    }
    let _ = writeln!(out);
}
