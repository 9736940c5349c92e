//! The markdown report: the machine, the targets, and one table per measurement.

use crate::machine::Machine;
use crate::measure::{Config, Results, Run, BUGGY, FIXED, NOISY};
use crate::sections::cost::section_cost;
use crate::sections::defaults::{section_defaults, section_memory};
use crate::sections::dfs::section_dfs;
use crate::sections::exhaustive::section_exhaustive;
use crate::sections::overhead::{section_overhead, total_shares};
use crate::sections::portfolio::section_portfolio;
use crate::sections::ttfv::section_ttfv;
use crate::sections::ttfv::Ttfv;
use crate::stats::{count, countf, dur, ratio, secs, summary};
use std::fmt::Write;

/// First line of the generated part of docs/performance.md.
pub const BEGIN: &str = "<!-- iomc-bench: generated from here to the end marker; edit crates/bench, not this -->";
/// Last line of the generated part.
pub const END: &str = "<!-- iomc-bench: end of generated part -->";

pub(crate) const MIB: f64 = 1024.0;

pub(crate) fn median_secs(runs: &[Run]) -> Option<f64> {
    let found: Vec<f64> = runs.iter().filter(|r| r.found).map(|r| r.secs).collect();
    summary(&found).map(|s| s.median)
}

/// The median time of the default strategy over its seeds, if every seed found the violation
/// (a seed that did not find it has no time, so a median of the others would flatter it).
pub(crate) fn default_median(t: &Ttfv) -> Option<f64> {
    let all = !t.default.is_empty() && t.default.iter().all(|r| r.found);
    median_secs(&t.default).filter(|_| all)
}

/// The default strategy over the seeds: median [min, max] (p90), executions, found, by loom.
pub(crate) fn default_cell(t: &Ttfv) -> String {
    let found: Vec<&Run> = t.default.iter().filter(|r| r.found).collect();
    let by_loom = found.iter().filter(|r| r.found_by_loom()).count();
    let tail = if t.default.len() as u64 == t.seeds { String::new() } else { format!(" of {} planned", t.seeds) };
    let ts = summary(&found.iter().map(|r| r.secs).collect::<Vec<_>>());
    let es = summary(&found.iter().map(|r| r.executions as f64).collect::<Vec<_>>());
    match (ts, es) {
        (Some(ts), Some(es)) => format!(
            "{} [{}, {}] (p90 {}), {} ex.; {}/{}{tail}, {by_loom} by loom",
            secs(ts.median),
            secs(ts.min),
            secs(ts.max),
            secs(ts.p90),
            countf(es.median),
            found.len(),
            t.default.len()
        ),
        _ => format!("not found (0/{}{tail})", t.default.len()),
    }
}

/// `iomc check`'s own run of the default strategy (seed 0) on this cell, from table 1.
pub(crate) fn check_run<'a>(r: &'a Results, scenario: &str, preset: &str) -> Option<&'a Run> {
    r.defaults
        .iter()
        .filter(|d| d.scenario == scenario)
        .flat_map(|d| d.rows.iter())
        .find(|(p, _, _)| p == preset)
        .map(|(_, _, run)| run)
}

pub(crate) fn run_cell(r: &Run) -> String {
    if r.complete() {
        format!("{} in {}", count(r.executions), secs(r.secs))
    } else {
        format!("> {} ({} after {})", count(r.executions), r.stop, secs(r.secs))
    }
}

pub(crate) fn stress_cell(t: &Ttfv) -> String {
    let (finds, execs, total) = t.stress_total();
    match t.stress_time() {
        Some(st) => {
            let finds = if finds == 1 { "1 find".to_string() } else { format!("{finds} finds") };
            format!("{} ({finds} in {}, {} ex.)", secs(st), secs(total), count(execs))
        }
        None => {
            let why = t.stress.last().map(|r| r.stop.as_str()).unwrap_or("not run");
            format!("not found in {} ({} ex., {why})", secs(total), count(execs))
        }
    }
}

pub(crate) fn seeds_cell(runs: &[Run], planned: u64) -> String {
    let found: Vec<f64> = runs.iter().filter(|r| r.found).map(|r| r.secs).collect();
    let n = runs.iter().filter(|r| r.found).count();
    let tail = if runs.len() as u64 == planned { String::new() } else { format!(" of {planned} planned") };
    match summary(&found) {
        Some(s) => format!("{} (p90 {}; {n}/{}{tail})", secs(s.median), secs(s.p90), runs.len()),
        None => format!("not found (0/{}{tail})", runs.len()),
    }
}

/// The status word for a target.
pub(crate) fn status(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "**met**",
        Some(false) => "**gap**",
        None => "not measured",
    }
}

/// One performance target: what it asks, what was measured, and whether it is met (`None`:
/// not measured in this run).
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// What the target asks.
    pub name: String,
    /// What the run measured.
    pub measured: String,
    /// Met, a gap, or not measured.
    pub met: Option<bool>,
}

fn target(v: &mut Vec<Target>, name: impl Into<String>, measured: impl Into<String>, met: Option<bool>) {
    v.push(Target { name: name.into(), measured: measured.into(), met });
}

/// The targets judged from the results (apart from the markdown: [`targets`] renders them).
pub fn judge(r: &Results) -> Vec<Target> {
    let mut v = Vec::new();

    // Lore scenarios on linux-6.1, default strategy median < 20 ms.
    let lore: Vec<&Ttfv> =
        r.ttfv.iter().filter(|t| crate::sections::ttfv::is_lore(&t.scenario) && t.preset == BUGGY).collect();
    let mut parts = Vec::new();
    let mut met = (!lore.is_empty()).then_some(true);
    let or_not_found = |x: Option<f64>| x.map(secs).unwrap_or_else(|| "not found".into());
    for t in &lore {
        let default = default_median(t);
        if default.is_none_or(|d| d >= 0.020) {
            met = Some(false);
        }
        let found: Vec<&Run> = t.default.iter().filter(|r| r.found).collect();
        let p90 = summary(&found.iter().map(|r| r.secs).collect::<Vec<_>>()).map(|s| s.p90);
        let by_loom = found.iter().filter(|r| r.found_by_loom()).count();
        let seed0 = check_run(r, &t.scenario, &t.preset)
            .filter(|c| c.found)
            .map(|c| format!("; `iomc check` (seed 0) {}", secs(c.secs)))
            .unwrap_or_default();
        parts.push(format!(
            "{}: default {} (p90 {}, found by {}/{} seeds, {by_loom} of them by loom{seed0}); loom alone {}, PCT {}",
            t.scenario,
            or_not_found(median_secs(&t.default)),
            or_not_found(p90),
            found.len(),
            t.default.len(),
            or_not_found(median_secs(&t.loom)),
            or_not_found(median_secs(&t.pct))
        ));
    }
    target(
        &mut v,
        format!("lore scenarios on {BUGGY}: median time to the violation < 20 ms with the default strategy"),
        parts.join("; "),
        met,
    );

    // Stress >= 10,000x slower or not at all within 60 s.
    let mut parts = Vec::new();
    // Per lore scenario: met, a gap, or (stress found nothing within a cap under 60 s) open.
    let mut verdicts = Vec::new();
    for t in &lore {
        let default = default_median(t);
        let (finds, _, total) = t.stress_total();
        if let Some(st) = t.stress_time() {
            let x = default.map(|d| st / d);
            let over = |base: Option<f64>| base.map(|b| ratio(st / b)).unwrap_or_else(|| "?".into());
            parts.push(format!(
                "{}: stress {} (found {finds}× in {}) = {} the default strategy ({} loom alone, {} PCT)",
                t.scenario,
                secs(st),
                secs(total),
                over(default),
                over(median_secs(&t.loom)),
                over(median_secs(&t.pct))
            ));
            verdicts.push(Some(x.is_some_and(|x| x >= 10_000.0)));
        } else {
            let at_least =
                default.map(|d| format!(" (> {} the default strategy)", ratio(total / d))).unwrap_or_default();
            parts.push(format!("{}: stress did not find it in {}{at_least}", t.scenario, secs(total)));
            verdicts.push((t.stress_cap >= 60.0).then_some(true));
        }
    }
    let met = if verdicts.is_empty() || (verdicts.contains(&None) && !verdicts.contains(&Some(false))) {
        None
    } else {
        Some(!verdicts.contains(&Some(false)))
    };
    target(
        &mut v,
        "stress on the same scenario ≥ 10,000× slower (than the default strategy's median), or not at all within 60 s",
        parts.join("; "),
        met,
    );

    // Exhaustive loom bound 3 over every scenario on linux-6.2 < 60 s.
    let fixed: Vec<_> = r.exhaustive.iter().filter(|e| e.preset == FIXED).collect();
    let b3: Vec<&Run> = fixed.iter().filter_map(|e| e.at(3)).collect();
    let default_fixed: f64 =
        r.defaults.iter().flat_map(|d| d.rows.iter()).filter(|(p, _, _)| p == FIXED).map(|(_, _, run)| run.secs).sum();
    if b3.len() == fixed.len() && !b3.is_empty() {
        let total: f64 = b3.iter().map(|r| r.secs).sum();
        let complete = b3.iter().all(|r| r.complete());
        let execs: u64 = b3.iter().map(|r| r.executions).sum();
        target(
            &mut v,
            format!("exhaustive loom (bound 3) over every shipped scenario on {FIXED}: < 60 s in total"),
            format!(
                "{} scenarios, {} executions, {}{} (bound 3 alone); `iomc check --variant {FIXED}` (bounds \
                 0..=scenario bound) {}",
                b3.len(),
                count(execs),
                secs(total),
                if complete { "" } else { ", some passes incomplete" },
                secs(default_fixed)
            ),
            Some(complete && total < 60.0),
        );
    } else {
        target(
            &mut v,
            format!("exhaustive loom (bound 3) over every shipped scenario on {FIXED}: < 60 s in total"),
            format!("bound 3 skipped (`--quick`); `iomc check --variant {FIXED}` {}", secs(default_fixed)),
            None,
        );
    }

    let mut parts = Vec::new();
    let mut met = None;
    for (name, rows) in [("loom bound 2", &r.overhead_loom), ("shuttle random", &r.overhead_shuttle)] {
        if let Some((all, oracle, record)) = total_shares(rows) {
            parts.push(format!(
                "{name}: {:.0}% (oracle {:.0}%, recording {:.0}%)",
                all * 100.0,
                oracle * 100.0,
                record * 100.0
            ));
            met = Some(met.unwrap_or(true) && all <= 0.33);
        }
    }
    target(
        &mut v,
        "harness overhead (history, oracle, event recording) ≤ 33% of execution time against the same model run \
         with recording off",
        format!(
            "{} of the time of all {FIXED} passes (table 8)",
            if parts.is_empty() { "not measured".to_string() } else { parts.join("; ") }
        ),
        met,
    );

    // Portfolio on both cores.
    match &r.portfolio {
        Some(p) => {
            let rate_of = |label: &str| p.runs.iter().find(|x| x.label == label).map(|x| x.rate());
            let mut parts = Vec::new();
            let mut headline = None;
            for run in p.runs.iter().filter(|x| x.kinds.len() > 1) {
                let singles: Vec<f64> =
                    run.kinds.iter().filter_map(|k| rate_of(&crate::sections::portfolio::kind_label(*k))).collect();
                if singles.len() == run.kinds.len() {
                    let one = singles.iter().sum::<f64>() / singles.len() as f64;
                    let x = run.rate() / one;
                    parts.push(format!("{}: {}", run.label, ratio(x)));
                    if run.label.contains('+') {
                        headline = Some(x >= 1.8);
                    }
                }
            }
            target(
                &mut v,
                "a portfolio on both cores ≥ 1.8× the executions per second of one core",
                format!("{} on {} [{}] (status: the mixed portfolio)", parts.join(", "), p.scenario, p.preset),
                headline,
            );
        }
        None => {
            target(&mut v, "a portfolio on both cores ≥ 1.8× one core", format!("no scenario passes on {FIXED}"), None);
        }
    }

    // Peak memory.
    let max = r.defaults.iter().max_by_key(|d| d.peak_kib);
    if let Some(d) = max {
        target(
            &mut v,
            "peak memory < 200 MiB for any shipped scenario",
            format!("largest: {} at {:.1} MiB (default check of every preset)", d.scenario, d.peak_kib as f64 / MIB),
            Some((d.peak_kib as f64 / MIB) < 200.0 && r.defaults.iter().all(|d| d.error.is_none())),
        );
    }
    v
}

/// The targets table of docs/performance.md, from [`judge`].
pub(crate) fn targets(out: &mut String, r: &Results) {
    let _ = writeln!(out, "### Targets\n");
    let _ = writeln!(out, "| target | measured | status |");
    let _ = writeln!(out, "|---|---|---|");
    for t in judge(r) {
        let _ = writeln!(out, "| {} | {} | {} |", t.name, t.measured, status(t.met));
    }
    let _ = writeln!(out);
}

pub(crate) fn config_line(cfg: &Config) -> String {
    format!(
        "{} run: {} seeds per randomized strategy (≤ {} executions and {} each, ≤ {} per cell), {} loom repeats, \
         stress cap {} (lore on {BUGGY}) / {} (others), exhaustive bounds {:?} (≤ {} a pass), DFS cap {} executions / \
         {}, {} per core-count run, {} per cost figure",
        if cfg.quick { "`--quick`" } else { "Full" },
        cfg.seeds,
        count(cfg.seed_iterations),
        dur(cfg.seed_wall),
        dur(cfg.cell_wall),
        cfg.repeats,
        dur(cfg.stress_wall_lore),
        dur(cfg.stress_wall_other),
        cfg.bounds,
        dur(cfg.exhaustive_wall),
        count(cfg.dfs_cap),
        dur(cfg.dfs_wall),
        dur(cfg.portfolio_wall),
        dur(cfg.cost_wall),
    )
}

/// The generated part of docs/performance.md (between [`BEGIN`] and [`END`]).
pub fn markdown(m: &Machine, cfg: &Config, r: &Results, command: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{BEGIN}\n");
    let _ = writeln!(out, "## Results\n");
    let _ = writeln!(out, "Generated by `{command}` on {} in {}. {}.\n", m.date, secs(r.total_secs), config_line(cfg));
    let _ = writeln!(out, "| machine | |");
    let _ = writeln!(out, "|---|---|");
    let _ = writeln!(out, "| CPUs (`nproc`) | {} |", m.nproc);
    let _ = writeln!(out, "| CPU model (/proc/cpuinfo) | {} |", m.cpu);
    let _ = writeln!(out, "| memory (MemTotal) | {} |", m.memory);
    let _ = writeln!(out, "| Linux | {} |", m.kernel);
    let _ = writeln!(out, "| rustc | {} |", m.rustc);
    let _ = writeln!(out, "| checkers (Cargo.lock) | {} |", m.checkers);
    let _ = writeln!(out, "| build | {} |", m.profile);
    let _ = writeln!(out, "| commit | {} |", m.commit);
    let _ = writeln!(out, "| load average (1, 5, 15 min) before / after | {} / {} |", r.load_before, r.load_after);
    let _ =
        writeln!(out, "| other processes during the run (niced ones not counted) | {:.2} cores on average |", r.others);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Other processes compete for the 2 cores; each part of the run says how busy they kept the machine \
         (figures taken next to a busy neighbour are not worth keeping). The short parts are measured again when \
         other processes kept more than {NOISY} cores busy and then left the machine quiet within 30 s; the least \
         disturbed run is kept.\n"
    );
    let _ = writeln!(out, "| part of the run | wall | other processes | runs |");
    let _ = writeln!(out, "|---|---:|---:|---:|");
    for sec in &r.sections {
        let _ = writeln!(out, "| {} | {} | {:.2} cores | {} |", sec.name, secs(sec.secs), sec.others, sec.attempts);
    }
    let _ = writeln!(out);
    targets(&mut out, r);
    section_defaults(&mut out, r);
    section_ttfv(&mut out, r);
    section_exhaustive(&mut out, r);
    section_dfs(&mut out, r);
    section_portfolio(&mut out, r);
    section_memory(&mut out, r);
    section_cost(&mut out, cfg, r);
    section_overhead(&mut out, cfg, r);
    let _ = writeln!(out, "{END}");
    out
}

/// Put `generated` into `existing` between the markers (or after it, if it has none).
pub fn splice(existing: &str, generated: &str) -> String {
    match (existing.find(BEGIN), existing.find(END)) {
        (Some(b), Some(e)) if e > b => {
            let tail = &existing[e + END.len()..];
            let tail = tail.strip_prefix('\n').unwrap_or(tail);
            format!("{}{generated}{tail}", &existing[..b])
        }
        _ if existing.trim().is_empty() => format!("# Performance\n\n{generated}"),
        _ => format!("{}\n\n{generated}", existing.trim_end()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_replaces_only_the_generated_part() {
        let doc = format!("# P\n\nprose\n\n{BEGIN}\nold\n{END}\n\nmore prose\n");
        let new = format!("{BEGIN}\nnew\n{END}\n");
        let out = splice(&doc, &new);
        assert_eq!(out, format!("# P\n\nprose\n\n{BEGIN}\nnew\n{END}\n\nmore prose\n"));
        assert!(splice("", &new).starts_with("# Performance"));
        assert!(splice("# X\n", &new).ends_with(&new));
    }
}
