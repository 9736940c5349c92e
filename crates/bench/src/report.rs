//! The markdown report: the machine, the targets, and one table per measurement.

use crate::machine::Machine;
use crate::measure::{Config, Overhead, Results, Run, Ttfv, BUGGY, FIXED, NOISY, UNBOUNDED};
use crate::stats::{count, countf, dur, rate, ratio, secs, summary};
use iomc_explore::DEFAULT_PCT_DEPTH;
use iomc_harness::DEFAULT_PCT_ITERATIONS;
use std::fmt::Write;

/// First line of the generated part of docs/performance.md.
pub const BEGIN: &str = "<!-- iomc-bench: generated from here to the end marker; edit crates/bench, not this -->";
/// Last line of the generated part.
pub const END: &str = "<!-- iomc-bench: end of generated part -->";

const MIB: f64 = 1024.0;

fn median_secs(runs: &[Run]) -> Option<f64> {
    let found: Vec<f64> = runs.iter().filter(|r| r.found).map(|r| r.secs).collect();
    summary(&found).map(|s| s.median)
}

/// The median time of the default strategy over its seeds, if every seed found the violation
/// (a seed that did not find it has no time, so a median of the others would flatter it).
fn default_median(t: &Ttfv) -> Option<f64> {
    let all = !t.default.is_empty() && t.default.iter().all(|r| r.found);
    median_secs(&t.default).filter(|_| all)
}

/// The default strategy over the seeds: median [min, max] (p90), executions, found, by loom.
fn default_cell(t: &Ttfv) -> String {
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
fn check_run<'a>(r: &'a Results, scenario: &str, preset: &str) -> Option<&'a Run> {
    r.defaults
        .iter()
        .filter(|d| d.scenario == scenario)
        .flat_map(|d| d.rows.iter())
        .find(|(p, _, _)| p == preset)
        .map(|(_, _, run)| run)
}

fn run_cell(r: &Run) -> String {
    if r.complete() {
        format!("{} in {}", count(r.executions), secs(r.secs))
    } else {
        format!("> {} ({} after {})", count(r.executions), r.stop, secs(r.secs))
    }
}

fn stress_cell(t: &Ttfv) -> String {
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

fn seeds_cell(runs: &[Run], planned: u64) -> String {
    let found: Vec<f64> = runs.iter().filter(|r| r.found).map(|r| r.secs).collect();
    let n = runs.iter().filter(|r| r.found).count();
    let tail = if runs.len() as u64 == planned { String::new() } else { format!(" of {planned} planned") };
    match summary(&found) {
        Some(s) => format!("{} (p90 {}; {n}/{}{tail})", secs(s.median), secs(s.p90), runs.len()),
        None => format!("not found (0/{}{tail})", runs.len()),
    }
}

/// The status word for a target.
fn status(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "**met**",
        Some(false) => "**gap**",
        None => "not measured",
    }
}

fn targets(out: &mut String, r: &Results) {
    let _ = writeln!(out, "### Targets\n");
    let _ = writeln!(out, "| target | measured | status |");
    let _ = writeln!(out, "|---|---|---|");

    // Lore scenarios on linux-6.1, default strategy median < 20 ms.
    let lore: Vec<&Ttfv> =
        r.ttfv.iter().filter(|t| crate::measure::is_lore(&t.scenario) && t.preset == BUGGY).collect();
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
    let _ = writeln!(
        out,
        "| lore scenarios on {BUGGY}: median time to the violation < 20 ms with the default strategy | {} | {} |",
        parts.join("; "),
        status(met)
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
    let _ = writeln!(
        out,
        "| stress on the same scenario ≥ 10,000× slower (than the default strategy's median), or not at all within \
         60 s | {} | {} |",
        parts.join("; "),
        status(met)
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
        let _ = writeln!(
            out,
            "| exhaustive loom (bound 3) over every shipped scenario on {FIXED}: < 60 s in total | {} scenarios, {} \
             executions, {}{} (bound 3 alone); `iomc check --variant {FIXED}` (bounds 0..=scenario bound) {} | {} |",
            b3.len(),
            count(execs),
            secs(total),
            if complete { "" } else { ", some passes incomplete" },
            secs(default_fixed),
            status(Some(complete && total < 60.0))
        );
    } else {
        let _ = writeln!(
            out,
            "| exhaustive loom (bound 3) over every shipped scenario on {FIXED}: < 60 s in total | bound 3 skipped \
             (`--quick`); `iomc check --variant {FIXED}` {} | {} |",
            secs(default_fixed),
            status(None)
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
    let _ = writeln!(
        out,
        "| harness overhead (history, oracle, event recording) ≤ 33% of execution time against the same model run \
         with recording off | {} of the time of all {FIXED} passes (table 8) | {} |",
        if parts.is_empty() { "not measured".to_string() } else { parts.join("; ") },
        status(met)
    );

    // Portfolio on both cores.
    match &r.portfolio {
        Some(p) => {
            let rate_of = |label: &str| p.runs.iter().find(|x| x.label == label).map(|x| x.rate());
            let mut parts = Vec::new();
            let mut headline = None;
            for run in p.runs.iter().filter(|x| x.kinds.len() > 1) {
                let singles: Vec<f64> =
                    run.kinds.iter().filter_map(|k| rate_of(&crate::measure::kind_label(*k))).collect();
                if singles.len() == run.kinds.len() {
                    let one = singles.iter().sum::<f64>() / singles.len() as f64;
                    let x = run.rate() / one;
                    parts.push(format!("{}: {}", run.label, ratio(x)));
                    if run.label.contains('+') {
                        headline = Some(x >= 1.8);
                    }
                }
            }
            let _ = writeln!(
                out,
                "| a portfolio on both cores ≥ 1.8× the executions per second of one core | {} on {} [{}] \
                 (status: the mixed portfolio) | {} |",
                parts.join(", "),
                p.scenario,
                p.preset,
                status(headline)
            );
        }
        None => {
            let _ = writeln!(out, "| a portfolio on both cores ≥ 1.8× one core | no scenario passes on {FIXED} | - |");
        }
    }

    // Peak memory.
    let max = r.defaults.iter().max_by_key(|d| d.peak_kib);
    if let Some(d) = max {
        let _ = writeln!(
            out,
            "| peak memory < 200 MiB for any shipped scenario | largest: {} at {:.1} MiB (default check of every preset) \
             | {} |",
            d.scenario,
            d.peak_kib as f64 / MIB,
            status(Some((d.peak_kib as f64 / MIB) < 200.0 && r.defaults.iter().all(|d| d.error.is_none())))
        );
    }
    let _ = writeln!(out);
}

fn section_defaults(out: &mut String, r: &Results) {
    let _ = writeln!(out, "### 1. Default strategy, every scenario × preset\n");
    let _ = writeln!(
        out,
        "What `iomc check scenarios/` runs: {} PCT executions (depth {DEFAULT_PCT_DEPTH}, seed 0), then, if they \
         found nothing, loom with the preemption bound raised from 0 to the scenario's `[explore] preemption_bound` \
         (else 3). A violation stops the search in either phase (\"found by PCT\", or \"found at bound b\" by the \
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

fn section_ttfv(out: &mut String, r: &Results) {
    let _ = writeln!(out, "### 2. Time to the first violation\n");
    let Some(t0) = r.ttfv.first() else {
        let _ = writeln!(out, "No scenario expects a violation on {BUGGY}.\n");
        return;
    };
    let n = count(DEFAULT_PCT_ITERATIONS);
    let _ = writeln!(
        out,
        "Every {BUGGY} violation, and the stale-check-only violations {BUGGY} does not have. The default strategy \
         (what `iomc check` runs: PCT depth {DEFAULT_PCT_DEPTH} for {n} executions, then loom with bounds 0..=the \
         scenario's bound if PCT found nothing) is randomized by the seed of its PCT phase, so it ran once per seed \
         1..={} (`iomc check` itself uses seed 0: table 1); \"by loom\" counts the seeds whose {n} PCT executions \
         missed, so that the loom phase found it (those runs include the {n} PCT executions). loom alone is the \
         former default (`--backend loom`: bounds 0..=the scenario's bound; deterministic: median of {} repeats, \
         executions are the same every time). PCT (depth {DEFAULT_PCT_DEPTH}) and random ran one search per seed \
         1..={} (capped per seed and per cell, see the configuration); the time is the median over the seeds that \
         found it, with p90 and how many found it. stress runs the same model and oracle on OS threads until it \
         finds the violation, again after each find (up to {} finds) until its cap; its time is all stress time ÷ \
         finds. The ratios divide it by the median of the default strategy and of loom alone. The default's PCT \
         phase is the PCT column's scheduler with the same seeds, so where it finds the violation it does so in the \
         same executions.\n",
        t0.seeds,
        t0.loom.len(),
        t0.seeds,
        t0.stress_finds
    );
    let _ = writeln!(
        out,
        "| scenario | preset | expected | default: median [min, max] (p90), executions; found, by loom | loom alone: \
         median [min, max], executions | PCT | random | stress | stress ÷ default | stress ÷ loom |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---:|---:|");
    for t in &r.ttfv {
        let loom_times: Vec<f64> = t.loom.iter().filter(|r| r.found).map(|r| r.secs).collect();
        let loom = match (summary(&loom_times), t.loom.first()) {
            (Some(s), Some(first)) => format!(
                "{} [{}, {}], {} ex. (bound {})",
                secs(s.median),
                secs(s.min),
                secs(s.max),
                count(first.executions),
                first.bound.map(|b| b.to_string()).unwrap_or_default()
            ),
            (_, Some(first)) => format!("not found ({})", first.stop),
            _ => "-".into(),
        };
        let over = |base: Option<f64>| match (t.stress_time(), base) {
            (Some(st), Some(b)) => ratio(st / b),
            (None, Some(b)) => format!("> {}", ratio(t.stress_total().2 / b)),
            _ => "-".into(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {loom} | {} | {} | {} | {} | {} |",
            t.scenario,
            t.preset,
            t.expected,
            default_cell(t),
            seeds_cell(&t.pct, t.seeds),
            seeds_cell(&t.random, t.seeds),
            stress_cell(t),
            over(default_median(t)),
            over(median_secs(&t.loom))
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Spread over the seeds (seeds that found the violation; executions include the failing one, and for the \
         default strategy the {n} PCT executions before a find by loom; \"found\" says how many of the default's \
         finds came from its loom phase):\n"
    );
    let _ = writeln!(
        out,
        "| scenario | preset | strategy | found | time median | min | max | p90 | executions median | min | max | p90 |"
    );
    let _ = writeln!(out, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let pct_name = format!("pct({DEFAULT_PCT_DEPTH})");
    for t in &r.ttfv {
        for (name, runs) in [("default", &t.default), (pct_name.as_str(), &t.pct), ("random", &t.random)] {
            let found: Vec<&Run> = runs.iter().filter(|r| r.found).collect();
            let by_loom = found.iter().filter(|r| r.found_by_loom()).count();
            let found_cell = if name == "default" {
                format!("{}/{} ({by_loom} by loom)", found.len(), runs.len())
            } else {
                format!("{}/{}", found.len(), runs.len())
            };
            let ts = summary(&found.iter().map(|r| r.secs).collect::<Vec<_>>());
            let es = summary(&found.iter().map(|r| r.executions as f64).collect::<Vec<_>>());
            match (ts, es) {
                (Some(ts), Some(es)) => {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {name} | {found_cell} | {} | {} | {} | {} | {} | {} | {} | {} |",
                        t.scenario,
                        t.preset,
                        secs(ts.median),
                        secs(ts.min),
                        secs(ts.max),
                        secs(ts.p90),
                        countf(es.median),
                        countf(es.min),
                        countf(es.max),
                        countf(es.p90)
                    );
                }
                _ => {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {name} | {found_cell} | - | - | - | - | - | - | - | - |",
                        t.scenario, t.preset
                    );
                }
            }
        }
    }
    let _ = writeln!(out);
}

fn section_exhaustive(out: &mut String, r: &Results) {
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
}

fn section_dfs(out: &mut String, r: &Results) {
    let _ = writeln!(out, "### 4. loom vs shuttle DFS on the same exhaustive check\n");
    let Some(first) = r.dfs.first() else {
        let _ = writeln!(out, "Not measured.\n");
        return;
    };
    let _ = writeln!(
        out,
        "shuttle's DFS enumerates every schedule without partial-order reduction and without a preemption bound; \
         loom's DPOR prunes schedules that only reorder independent operations. \"no bound\" is loom with a \
         preemption bound of {UNBOUNDED} (full DPOR). DFS is capped at {} executions; a capped run reads \"> N\". \
         \"bench only\" scenarios live in crates/bench/scenarios: small enough for DFS to finish.\n",
        count(first.dfs_cap)
    );
    let bounds: Vec<u32> = first.loom.iter().map(|(b, _)| *b).collect();
    let mut head = String::from("| scenario | preset | threads |");
    let mut rule = String::from("|---|---|---:|");
    for b in &bounds {
        let _ = write!(head, " loom bound {b} |");
        rule.push_str("---:|");
    }
    head.push_str(" loom, no bound | shuttle DFS | DFS ÷ loom no bound |");
    rule.push_str("---:|---:|---:|");
    let _ = writeln!(out, "{head}\n{rule}");
    for d in &r.dfs {
        let name = if d.bench_only { format!("{} (bench only)", d.scenario) } else { d.scenario.clone() };
        let mut line = format!("| {name} | {} | {} |", d.preset, d.threads);
        for (_, run) in &d.loom {
            let _ = write!(line, " {} |", run_cell(run));
        }
        let x = if d.loom_unbounded.executions > 0 {
            let x = d.dfs.executions as f64 / d.loom_unbounded.executions as f64;
            if d.dfs.complete() && d.loom_unbounded.complete() {
                ratio(x)
            } else {
                format!("≥ {}", ratio(x))
            }
        } else {
            "-".into()
        };
        let _ = writeln!(line, " {} | {} | {x} |", run_cell(&d.loom_unbounded), run_cell(&d.dfs));
        out.push_str(&line);
    }
    let _ = writeln!(out);
}

fn section_portfolio(out: &mut String, r: &Results) {
    let _ = writeln!(out, "### 5. One core vs both cores\n");
    let Some(p) = &r.portfolio else {
        let _ = writeln!(out, "Not measured (no scenario passes on {FIXED}).\n");
        return;
    };
    let _ = writeln!(
        out,
        "{} on {}, which passes, so every search runs for the whole {}. Each search is its own `check` call on its \
         own OS thread, seeds 1 and 2; executions are summed. The five runs were repeated {} times, one after the \
         other, and each row is the best of its repeats (the least disturbed by other processes). \"× one core\" \
         divides by the one-thread rate of the same scheduler (for a mix, by the mean of the two). CPU is the \
         process's user and system time during the run.\n",
        p.scenario,
        p.preset,
        secs(p.wall),
        p.rounds
    );
    let _ = writeln!(
        out,
        "| run | OS threads | executions | wall | exec/s | × one core | CPU user | CPU sys | other processes |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let rate_of = |label: &str| p.runs.iter().find(|x| x.label == label).map(|x| x.rate());
    for run in &p.runs {
        let singles: Vec<f64> = run.kinds.iter().filter_map(|k| rate_of(&crate::measure::kind_label(*k))).collect();
        let x = if run.kinds.len() > 1 && singles.len() == run.kinds.len() {
            ratio(run.rate() / (singles.iter().sum::<f64>() / singles.len() as f64))
        } else {
            "1×".into()
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {x} | {:.2} s | {:.2} s | {:.2} cores |",
            run.label,
            run.kinds.len(),
            count(run.executions),
            secs(run.secs),
            rate(run.executions, run.secs),
            run.cpu.user,
            run.cpu.sys,
            run.others
        );
    }
    let _ = writeln!(out);
}

fn section_memory(out: &mut String, r: &Results) {
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

fn section_cost(out: &mut String, cfg: &Config, r: &Results) {
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

/// (full − off) ÷ full over all rows, and the oracle's and recording's parts.
fn total_shares(rows: &[Overhead]) -> Option<(f64, f64, f64)> {
    let sum = |i: usize| rows.iter().map(|o| o.modes[i].secs).sum::<f64>();
    let (full, no_oracle, off) = (sum(0), sum(1), sum(2));
    (full > 0.0).then(|| ((full - off) / full, (full - no_oracle) / full, (no_oracle - off) / full))
}

fn section_overhead(out: &mut String, cfg: &Config, r: &Results) {
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

fn config_line(cfg: &Config) -> String {
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
