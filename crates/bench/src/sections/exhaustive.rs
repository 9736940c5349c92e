//! Section 3: exhaustive loom, one bound at a time, and the default strategy's PCT phase on the same cells: the run, its results and its table.

use crate::measure::{prepare, run_check, Config, Results, Run, FIXED};
use crate::report::{check_run, run_cell};
use crate::stats::{count, secs};
use iomc_explore::estimate::{next_pass, PassCount};
use iomc_explore::{ShuttleKind, Strategy, DEFAULT_PCT_DEPTH};
use iomc_harness::{default_strategy, DEFAULT_PCT_ITERATIONS};
use iomc_scenario::{Scenario, Verdict};
use std::fmt::Write;
use std::sync::Arc;
use std::time::Duration;
use tracing::info;

/// Exhaustive loom passes over one scenario x preset.
#[derive(Clone, Debug)]
pub struct Exhaustive {
    /// Scenario name.
    pub scenario: String,
    /// Preset.
    pub preset: String,
    /// Expected verdict.
    pub expected: String,
    /// (bound, run) for each bound, explored alone (`min_bound = max_bound`).
    pub bounds: Vec<(u32, Run)>,
    /// The default strategy's PCT phase alone (PCT depth 3, seed 0, its 1,000 executions), which
    /// the default pays before these passes.
    pub pct_phase: Option<Run>,
}

impl Exhaustive {
    /// The run at `bound`, if measured.
    pub fn at(&self, bound: u32) -> Option<&Run> {
        self.bounds.iter().find(|(b, _)| *b == bound).map(|(_, r)| r)
    }
}

pub(crate) fn exhaustive(cfg: &Config, scenarios: &[Arc<Scenario>]) -> Result<Vec<Exhaustive>, String> {
    let mut cells = Vec::new();
    for s in scenarios {
        if let Some(v) = s.expected(FIXED) {
            cells.push((s.clone(), FIXED.to_string(), v.clone()));
        }
    }
    for s in scenarios {
        for (preset, v, _) in &s.expect {
            if preset != FIXED && *v == Verdict::Pass {
                cells.push((s.clone(), preset.clone(), v.clone()));
            }
        }
    }
    let mut out = Vec::new();
    for (s, preset, expected) in cells {
        let p = prepare(&s, &preset)?;
        let mut bounds = Vec::new();
        for &b in &cfg.bounds {
            let r = run_check(&p, &Strategy::Loom { min_bound: b, max_bound: b }, cfg.exhaustive_wall);
            info!(
                "[exhaustive] {} {preset} bound {b}: {} executions, {:.3} s, {} ({})",
                s.name, r.executions, r.secs, r.outcome, r.stop
            );
            bounds.push((b, r));
        }
        out.push(Exhaustive {
            scenario: s.name.clone(),
            preset,
            expected: expected.to_string(),
            bounds,
            pct_phase: None,
        });
    }
    Ok(out)
}

/// The default strategy's PCT phase alone on each exhaustive cell: what `iomc check` pays
/// before its loom passes (a shuttle search: run after the loom ones, see [`run_all`]).
pub(crate) fn pct_phase(cfg: &Config, scenarios: &[Arc<Scenario>], ex: &[Exhaustive]) -> Result<Vec<Run>, String> {
    let mut out = Vec::new();
    for e in ex {
        let s = scenarios.iter().find(|s| s.name == e.scenario).ok_or("exhaustive cell without its scenario")?;
        let p = prepare(s, &e.preset)?;
        let Strategy::PctThenLoom { pct_iterations, seed, .. } = default_strategy(s) else {
            return Err("the default strategy has no PCT phase".into());
        };
        let kind = ShuttleKind::Pct { depth: DEFAULT_PCT_DEPTH };
        let r = run_check(&p, &Strategy::Shuttle { kind, iterations: pct_iterations, seed }, cfg.exhaustive_wall);
        info!(
            "[pct phase] {} {}: {} executions, {:.3} s, {} ({})",
            e.scenario, e.preset, r.executions, r.secs, r.outcome, r.stop
        );
        out.push(r);
    }
    Ok(out)
}

pub(crate) fn section_exhaustive(out: &mut String, r: &Results) {
    let _ = writeln!(out, "### 3. Exhaustive loom, one bound at a time\n");
    let bounds: Vec<u32> = r.exhaustive.first().map(|e| e.bounds.iter().map(|(b, _)| *b).collect()).unwrap_or_default();
    let top = bounds.iter().max().copied().unwrap_or(0);
    let n = count(DEFAULT_PCT_ITERATIONS);
    let _ = writeln!(
        out,
        "`Strategy::Loom {{ min_bound: b, max_bound: b }}`: one loom pass at bound b (which includes the schedules \
         with fewer preemptions). Every scenario on {FIXED}, then every other preset a scenario expects to pass. \
         \"0..={top} (sum)\" is what loom alone (`--backend loom`, iterative) pays for a pass at bound {top} (the \
         passes one after the other). The default strategy pays its {n} PCT executions (depth {DEFAULT_PCT_DEPTH}, \
         seed 0) first, then the same passes up to the scenario's bound: \"PCT phase\" is that search \
         alone (PCT depth {DEFAULT_PCT_DEPTH}, {n} executions, seed 0, in this process), \"default\" is table 1's \
         run of the whole strategy (in the scenario's own process, where loom may run faster than in this \
         long-lived one), with the bound it reached when that is not {top}. A violation found where one is \
         expected (xfs-196 on {FIXED}: unsupported) ends the pass early.\n"
    );
    let mut head = String::from("| scenario | preset | expected |");
    let mut rule = String::from("|---|---|---|");
    for b in &bounds {
        let _ = write!(head, " bound {b} |");
        rule.push_str("---:|");
    }
    if !bounds.is_empty() {
        let _ = write!(head, " 0..={top} (sum) | PCT phase | default: PCT {n} + loom 0..=bound (table 1) |");
        rule.push_str("---:|---:|---:|");
    }
    let _ = writeln!(out, "{head}\n{rule}");
    struct Group {
        name: String,
        secs: Vec<f64>,
        execs: Vec<u64>,
        complete: bool,
        pct: (u64, f64),
        default: (u64, f64),
    }
    let mut groups: Vec<Group> = Vec::new();
    for e in &r.exhaustive {
        let name = if e.preset == FIXED { FIXED.to_string() } else { "other pass presets".to_string() };
        if groups.last().is_none_or(|g| g.name != name) {
            groups.push(Group {
                name,
                secs: vec![0.0; bounds.len()],
                execs: vec![0; bounds.len()],
                complete: true,
                pct: (0, 0.0),
                default: (0, 0.0),
            });
        }
        let g = groups.last_mut().expect("pushed above");
        let mut line = format!("| {} | {} | {} |", e.scenario, e.preset, e.expected);
        for (i, (_, run)) in e.bounds.iter().enumerate() {
            let _ = write!(line, " {} |", run_cell(run));
            g.secs[i] += run.secs;
            g.execs[i] += run.executions;
            g.complete &= run.complete();
        }
        let s: f64 = e.bounds.iter().map(|(_, r)| r.secs).sum();
        let n: u64 = e.bounds.iter().map(|(_, r)| r.executions).sum();
        let _ = write!(line, " {} in {} |", count(n), secs(s));
        match &e.pct_phase {
            Some(p) => {
                g.pct.0 += p.executions;
                g.pct.1 += p.secs;
                let cell = match p.stop.as_str() {
                    _ if p.found => format!("{} in {} (found it)", count(p.executions), secs(p.secs)),
                    "iteration cap" => format!("{} in {}", count(p.executions), secs(p.secs)),
                    _ => run_cell(p),
                };
                let _ = write!(line, " {cell} |");
            }
            None => line.push_str(" - |"),
        }
        let default = match check_run(r, &e.scenario, &e.preset) {
            Some(d) => {
                g.default.0 += d.executions;
                g.default.1 += d.secs;
                let note = match d.bound {
                    _ if d.found && d.bound.is_none() => " (found by PCT)".to_string(),
                    Some(b) if b != top => format!(" (0..={b})"),
                    _ => String::new(),
                };
                format!("{}{note}", run_cell(d))
            }
            None => "-".into(),
        };
        let _ = writeln!(line, " {default} |");
        out.push_str(&line);
    }
    for g in &groups {
        let mut line = format!("| **total, {}** | | |", g.name);
        for (s, e) in g.secs.iter().zip(&g.execs) {
            let _ = write!(line, " **{} in {}** |", count(*e), secs(*s));
        }
        let _ = write!(line, " **{} in {}** |", count(g.execs.iter().sum()), secs(g.secs.iter().sum()));
        let _ = write!(line, " **{} in {}** |", count(g.pct.0), secs(g.pct.1));
        let _ = write!(line, " **{} in {}** |", count(g.default.0), secs(g.default.1));
        if !g.complete {
            line.push_str(" (some passes hit their cap)");
        }
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out);
    section_estimates(out, r);
}

/// Table 3b: what `iomc_explore::estimate` would have said of each pass from the passes below
/// it (the estimate `iomc check` prints before a pass), against what the pass ran.
fn section_estimates(out: &mut String, r: &Results) {
    let _ = writeln!(
        out,
        "#### 3b. Estimates before each pass, against what it ran\n\n\
         `iomc check` prints, before each loom pass, an estimate of its size from the passes below it \
         (`iomc_explore::estimate`: the growth factors of the pass sizes extrapolated; one factor repeated \
         when only one is known). Here: the estimate from this table's own smaller passes, the pass's \
         actual executions, and estimate / actual. Complete passes only.\n"
    );
    let _ = writeln!(
        out,
        "| scenario | preset | bound | estimate | actual | estimate / actual |\n|---|---|---:|---:|---:|---:|"
    );
    let mut ratios = Vec::new();
    for e in &r.exhaustive {
        let mut history: Vec<PassCount> = Vec::new();
        for (b, run) in &e.bounds {
            if !run.complete() {
                break;
            }
            if let Some(est) = next_pass(&history).filter(|x| x.bound == *b) {
                let ratio = est.executions as f64 / run.executions.max(1) as f64;
                ratios.push(ratio);
                let _ = writeln!(
                    out,
                    "| {} | {} | {b} | {} | {} | {ratio:.2} |",
                    e.scenario,
                    e.preset,
                    count(est.executions),
                    count(run.executions)
                );
            }
            history.push(PassCount {
                bound: *b,
                executions: run.executions,
                elapsed: Duration::from_secs_f64(run.secs),
            });
        }
    }
    if !ratios.is_empty() {
        ratios.sort_by(f64::total_cmp);
        let median = ratios[ratios.len() / 2];
        let within_2x = ratios.iter().filter(|r| (0.5..=2.0).contains(*r)).count();
        let _ = writeln!(
            out,
            "\n{} estimates: median estimate / actual {median:.2}; {within_2x} within a factor of 2.\n",
            ratios.len()
        );
    }
}
