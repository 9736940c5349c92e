//! Section 4: loom against shuttle DFS on the same exhaustive check: the run, its results and its table.

use crate::measure::{prepare, run_check, Config, Results, Run, DFS_SCENARIOS, FIXED};
use crate::report::run_cell;
use crate::sections::exhaustive::Exhaustive;
use crate::stats::{count, ratio};
use iomc_explore::{ShuttleKind, Strategy};
use iomc_scenario::Scenario;
use std::fmt::Write;
use std::sync::Arc;
use tracing::info;

/// loom and shuttle DFS execution counts for one scenario x preset.
#[derive(Clone, Debug)]
pub struct DfsRow {
    /// Scenario name.
    pub scenario: String,
    /// Preset.
    pub preset: String,
    /// Number of scenario threads.
    pub threads: usize,
    /// A bench-only scenario (crates/bench/scenarios), not a shipped one.
    pub bench_only: bool,
    /// loom at each measured bound (from the exhaustive table).
    pub loom: Vec<(u32, Run)>,
    /// loom without a preemption bound (full DPOR).
    pub loom_unbounded: Run,
    /// shuttle DFS.
    pub dfs: Run,
    /// DFS execution cap.
    pub dfs_cap: u64,
}

/// A preemption bound no execution of these scenarios reaches (loom keeps it in a `u8`): in
/// effect loom's full DPOR.
pub const UNBOUNDED: u32 = 200;

/// The scenarios compared under loom and DFS.
pub(crate) fn dfs_picks(scenarios: &[Arc<Scenario>], extra: &[Arc<Scenario>]) -> Vec<Arc<Scenario>> {
    let all: Vec<&Arc<Scenario>> = extra.iter().chain(scenarios).collect();
    let picked: Vec<Arc<Scenario>> = DFS_SCENARIOS
        .iter()
        .filter_map(|n| all.iter().find(|s| s.name == *n && s.expected(FIXED).is_some()))
        .map(|s| (*s).clone())
        .collect();
    if !picked.is_empty() {
        return picked;
    }
    let mut small: Vec<Arc<Scenario>> = scenarios.iter().filter(|s| s.expected(FIXED).is_some()).cloned().collect();
    small.sort_by_key(|s| s.threads.len());
    small.into_iter().take(2).collect()
}

/// loom at bounds 2 and 3 (from the exhaustive table, or run here for a bench-only scenario)
/// and without a bound, on each DFS scenario (run before any shuttle search).
#[allow(clippy::type_complexity)]
pub(crate) fn dfs_loom(
    cfg: &Config,
    picks: &[Arc<Scenario>],
    ex: &[Exhaustive],
) -> Result<Vec<(Vec<(u32, Run)>, Run)>, String> {
    let mut out = Vec::new();
    for s in picks {
        let p = prepare(s, FIXED)?;
        let known = ex.iter().find(|e| e.scenario == s.name && e.preset == FIXED);
        let mut bounded = Vec::new();
        for &b in cfg.bounds.iter().filter(|b| **b >= 2) {
            let r = match known.and_then(|e| e.at(b)) {
                Some(r) => r.clone(),
                None => run_check(&p, &Strategy::Loom { min_bound: b, max_bound: b }, cfg.exhaustive_wall),
            };
            bounded.push((b, r));
        }
        let unbounded = Strategy::Loom { min_bound: UNBOUNDED, max_bound: UNBOUNDED };
        let r = run_check(&p, &unbounded, cfg.dfs_wall);
        info!("[dfs] {} loom unbounded: {} executions, {:.2} s ({})", s.name, r.executions, r.secs, r.stop);
        out.push((bounded, r));
    }
    Ok(out)
}

pub(crate) fn dfs(
    cfg: &Config,
    shipped: &[Arc<Scenario>],
    picks: &[Arc<Scenario>],
    loom_runs: Vec<(Vec<(u32, Run)>, Run)>,
) -> Result<Vec<DfsRow>, String> {
    let mut out = Vec::new();
    for (s, (loom, loom_unbounded)) in picks.iter().zip(loom_runs) {
        let p = prepare(s, FIXED)?;
        let strategy = Strategy::Shuttle { kind: ShuttleKind::Dfs, iterations: cfg.dfs_cap, seed: 0 };
        let d = run_check(&p, &strategy, cfg.dfs_wall);
        info!("[dfs] {} shuttle dfs: {} executions, {:.2} s ({})", s.name, d.executions, d.secs, d.stop);
        out.push(DfsRow {
            scenario: s.name.clone(),
            preset: FIXED.into(),
            threads: s.threads.len(),
            bench_only: !shipped.iter().any(|x| x.name == s.name),
            loom,
            loom_unbounded,
            dfs: d,
            dfs_cap: cfg.dfs_cap,
        });
    }
    Ok(out)
}

pub(crate) fn section_dfs(out: &mut String, r: &Results) {
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
