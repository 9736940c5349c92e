//! What every measurement shares (the configuration, one check reduced to numbers, loading the
//! scenarios) and [`run_all`], which runs the measurements of [`crate::sections`] in order.
//! Each runs the public harness API (`check` with a strategy and a wall-clock budget) and
//! keeps plain numbers; `report` turns them into tables.

use crate::machine;
use crate::sections::cost::{cost, Cost};
use crate::sections::defaults::{defaults, ScenarioDefaults};
use crate::sections::dfs::{dfs, dfs_loom, dfs_picks, DfsRow};
use crate::sections::exhaustive::{exhaustive, pct_phase, Exhaustive};
use crate::sections::overhead::{overhead, Overhead};
use crate::sections::portfolio::{kind_label, portfolio, Portfolio};
use crate::sections::ttfv::{ttfv, ttfv_default, ttfv_loom, violation_cells, Ttfv};
use crate::stats::count;
use iomc_explore::{Budget, ShuttleKind, Stop, Strategy};
use iomc_harness::{check, preflight, CheckResult, Prepared};
use iomc_models::Behaviour;
use iomc_scenario::{collect_files, Scenario};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::info;

/// The preset of the fixed kernel.
pub const FIXED: &str = "linux-6.2";
/// The preset of the buggy kernel.
pub const BUGGY: &str = "linux-6.1";
/// The preset with only the stale-iomap check.
pub const STALE_ONLY: &str = "stale-check-only";

/// Scenarios compared under loom and shuttle DFS, in order of preference.
pub(crate) const DFS_SCENARIOS: &[&str] =
    &["tiny-write-reclaim", "generic-346-hole-efault", "lore-2022-08-17-unwritten"];
/// Scenario for the one-core vs two-core runs, in order of preference.
pub(crate) const PORTFOLIO_SCENARIOS: &[&str] = &["lore-2022-08-17-unwritten", "lore-2022-08-17-delalloc", "xfs-559"];

/// What to measure, and the caps that keep a run bounded.
#[derive(Clone, Debug)]
pub struct Config {
    /// Smoke run: fewer seeds and repeats, short caps, no bound-3 exhaustive pass.
    pub quick: bool,
    /// Scenario files or directories.
    pub scenarios: Vec<PathBuf>,
    /// Only these scenario names (all when empty).
    pub only: Vec<String>,
    /// Scenarios used only for loom vs DFS (not shipped: small enough for DFS to finish).
    pub extra: Vec<PathBuf>,
    /// The binary to re-execute for per-scenario memory (`__child`).
    pub exe: PathBuf,
    /// Seeds per randomized strategy (the default strategy's PCT phase, PCT, random).
    pub seeds: u64,
    /// Repeats of the deterministic loom-alone search.
    pub repeats: usize,
    /// Executions allowed to one seed of PCT or random.
    pub seed_iterations: u64,
    /// Wall clock allowed to one seed.
    pub seed_wall: Duration,
    /// Wall clock allowed to all seeds of one strategy on one scenario x preset.
    pub cell_wall: Duration,
    /// Stress cap for the lore scenarios on linux-6.1 (the 60 s target).
    pub stress_wall_lore: Duration,
    /// Stress cap for the other scenarios.
    pub stress_wall_other: Duration,
    /// Stress runs again after a find, until this many finds or its cap.
    pub stress_finds: usize,
    /// loom bounds explored one by one for the exhaustive table.
    pub bounds: Vec<u32>,
    /// Wall clock allowed to one exhaustive loom pass.
    pub exhaustive_wall: Duration,
    /// Executions allowed to shuttle DFS.
    pub dfs_cap: u64,
    /// Wall clock allowed to DFS and to unbounded loom.
    pub dfs_wall: Duration,
    /// Wall clock of each one-core / two-core run.
    pub portfolio_wall: Duration,
    /// Rounds of the one-core / two-core runs; the best of them is kept for each.
    pub portfolio_rounds: usize,
    /// How often a short part of the run is measured again when other processes disturbed it.
    pub retries: usize,
    /// Repeats of each harness-overhead measurement (the fastest is kept).
    pub overhead_repeats: usize,
    /// shuttle executions per harness-overhead measurement.
    pub overhead_iterations: u64,
    /// Wall clock per scenario and backend for the per-execution cost.
    pub cost_wall: Duration,
    /// Wall clock allowed to each default check in the memory child.
    pub child_wall: Duration,
}

impl Config {
    /// Cap every wall-clock limit at `cap` (for smoke tests).
    pub fn cap_walls(&mut self, cap: Duration) {
        for d in [
            &mut self.seed_wall,
            &mut self.cell_wall,
            &mut self.stress_wall_lore,
            &mut self.stress_wall_other,
            &mut self.exhaustive_wall,
            &mut self.dfs_wall,
            &mut self.portfolio_wall,
            &mut self.cost_wall,
            &mut self.child_wall,
        ] {
            *d = (*d).min(cap);
        }
    }

    /// The full benchmark (about 5 to 10 minutes on 2 cores).
    pub fn full(scenarios: Vec<PathBuf>, exe: PathBuf) -> Config {
        Config {
            quick: false,
            scenarios,
            only: Vec::new(),
            extra: Vec::new(),
            exe,
            seeds: 20,
            repeats: 5,
            seed_iterations: 1_000_000,
            seed_wall: Duration::from_secs(5),
            cell_wall: Duration::from_secs(30),
            stress_wall_lore: Duration::from_secs(60),
            stress_wall_other: Duration::from_secs(15),
            stress_finds: 5,
            bounds: vec![0, 1, 2, 3, 4],
            exhaustive_wall: Duration::from_secs(120),
            dfs_cap: 2_000_000,
            dfs_wall: Duration::from_secs(20),
            portfolio_wall: Duration::from_secs(3),
            portfolio_rounds: 3,
            retries: 2,
            overhead_repeats: 3,
            overhead_iterations: 3_000,
            cost_wall: Duration::from_secs(1),
            child_wall: Duration::from_secs(180),
        }
    }

    /// The smoke run (well under a minute).
    pub fn quick(scenarios: Vec<PathBuf>, exe: PathBuf) -> Config {
        Config {
            quick: true,
            seeds: 5,
            repeats: 2,
            seed_iterations: 100_000,
            seed_wall: Duration::from_secs(1),
            cell_wall: Duration::from_secs(3),
            stress_wall_lore: Duration::from_secs(3),
            stress_wall_other: Duration::from_secs(1),
            stress_finds: 2,
            bounds: vec![0, 1, 2],
            exhaustive_wall: Duration::from_secs(20),
            dfs_cap: 20_000,
            dfs_wall: Duration::from_secs(2),
            portfolio_wall: Duration::from_secs(1),
            portfolio_rounds: 1,
            retries: 0,
            overhead_repeats: 1,
            overhead_iterations: 300,
            cost_wall: Duration::from_millis(200),
            child_wall: Duration::from_secs(60),
            ..Config::full(scenarios, exe)
        }
    }
}

/// One `check` call, reduced to numbers (also what the memory child reports, as JSON).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Run {
    /// Executions explored.
    pub executions: u64,
    /// Wall time of the call.
    pub secs: f64,
    /// Outcome label (`pass`, `zeroed-data`, `incomplete`, ...).
    pub outcome: String,
    /// Did the outcome match the scenario's expectation?
    pub matches: bool,
    /// Did the search find the expected violation?
    pub found: bool,
    /// Why the search ended, in a word or two.
    pub stop: String,
    /// Last loom bound (`None` when no loom pass ran, e.g. a find in the PCT phase of the
    /// default strategy).
    pub bound: Option<u32>,
    /// Executions of the default strategy's PCT phase (included in `executions`).
    pub presearch: u64,
}

impl Run {
    fn of(r: &CheckResult) -> Run {
        Run {
            executions: r.report.executions,
            secs: r.report.elapsed.as_secs_f64(),
            outcome: r.outcome.label(),
            matches: r.matches(),
            found: r.report.found.is_some() && r.matches(),
            stop: stop_name(&r.report.stop),
            bound: r.report.bound,
            presearch: r.report.presearch,
        }
    }

    /// Found by the loom phase of the default strategy (rather than its PCT phase)?
    pub fn found_by_loom(&self) -> bool {
        self.found && self.bound.is_some()
    }

    /// True when the search covered its whole space (or found what was expected).
    pub fn complete(&self) -> bool {
        self.stop == "exhaustive" || self.found
    }

    /// Executions per second.
    pub fn rate(&self) -> f64 {
        if self.secs > 0.0 {
            self.executions as f64 / self.secs
        } else {
            0.0
        }
    }
}

pub(crate) fn stop_name(s: &Stop) -> String {
    match s {
        Stop::Exhausted => "exhaustive".into(),
        Stop::Found => "found".into(),
        Stop::IterationLimit => "iteration cap".into(),
        Stop::WallBudget => "wall cap".into(),
        Stop::Interrupted => "interrupted".into(),
        Stop::Panicked(m) => format!("failed: {}", m.lines().next().unwrap_or("")),
        #[allow(unreachable_patterns)] // the explorer may grow reasons; name them by Debug
        other => format!("{other:?}").split([' ', '{', '(']).next().unwrap_or("other").to_lowercase(),
    }
}

pub(crate) fn budget(wall: Duration) -> Budget {
    Budget { wall: Some(wall), ..Budget::default() }
}

/// Load the scenario files (and keep those named in `only`).
pub fn load(cfg: &Config) -> Result<Vec<Arc<Scenario>>, String> {
    let presets = Behaviour::preset_names();
    let files = collect_files(&cfg.scenarios)?;
    let mut out = Vec::new();
    for f in files {
        let s = Scenario::load(&f, &presets).map_err(|e| e.to_string())?;
        if cfg.only.is_empty() || cfg.only.contains(&s.name) {
            out.push(Arc::new(s));
        }
    }
    if out.is_empty() {
        return Err(format!("no scenarios under {:?} (only: {:?})", cfg.scenarios, cfg.only));
    }
    Ok(out)
}

/// Load the bench-only scenarios (`extra`); a missing directory is no error.
pub(crate) fn load_extra(cfg: &Config) -> Result<Vec<Arc<Scenario>>, String> {
    let presets = Behaviour::preset_names();
    let dirs: Vec<PathBuf> = cfg.extra.iter().filter(|d| d.exists()).cloned().collect();
    if dirs.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for f in collect_files(&dirs)? {
        out.push(Arc::new(Scenario::load(&f, &presets).map_err(|e| e.to_string())?));
    }
    Ok(out)
}

pub(crate) fn prepare(s: &Arc<Scenario>, preset: &str) -> Result<Arc<Prepared>, String> {
    Prepared::new(s.clone(), preset, &[]).map(Arc::new)
}

pub(crate) fn run_check(p: &Arc<Prepared>, strategy: &Strategy, wall: Duration) -> Run {
    if let Err(e) = preflight(p, strategy) {
        return Run {
            executions: 0,
            secs: 0.0,
            outcome: "error".into(),
            matches: false,
            found: false,
            stop: format!("failed: {e}"),
            bound: None,
            presearch: 0,
        };
    }
    Run::of(&check(p.clone(), strategy, budget(wall), None))
}

/// How a strategy is named in the tables, e.g. `loom 0..=3` or `PCT 1,000 + loom 0..=3`.
pub fn strategy_label(s: &Strategy) -> String {
    match s {
        Strategy::Loom { min_bound, max_bound } => format!("loom {min_bound}..={max_bound}"),
        Strategy::PctThenLoom { pct_iterations, max_bound, .. } => {
            format!("PCT {} + loom 0..={max_bound}", count(*pct_iterations))
        }
        Strategy::Shuttle { kind, iterations, .. } => format!("{} ×{}", kind_label(*kind), count(*iterations)),
        other => other.name(),
    }
}

// ---------------------------------------------------------------------------------------------

/// Wall time of one part of the run, and how busy other processes kept the machine meanwhile.
#[derive(Clone, Debug)]
pub struct Section {
    /// Which tables it fed.
    pub name: String,
    /// Wall time.
    pub secs: f64,
    /// Cores used by other (not niced) processes, on average.
    pub others: f64,
    /// Runs it took (more than one when other processes disturbed the first).
    pub attempts: usize,
}

/// Everything one benchmark run measured.
#[derive(Clone, Debug)]
pub struct Results {
    /// The parts of the run, in order.
    pub sections: Vec<Section>,
    /// Section 1 and 6.
    pub defaults: Vec<ScenarioDefaults>,
    /// Section 2.
    pub ttfv: Vec<Ttfv>,
    /// Section 3.
    pub exhaustive: Vec<Exhaustive>,
    /// Section 4.
    pub dfs: Vec<DfsRow>,
    /// Section 5.
    pub portfolio: Option<Portfolio>,
    /// Section 7.
    pub cost: Vec<Cost>,
    /// Section 8, loom bound 2 exhaustive.
    pub overhead_loom: Vec<Overhead>,
    /// Section 8, shuttle random.
    pub overhead_shuttle: Vec<Overhead>,
    /// Wall time of the whole benchmark.
    pub total_secs: f64,
    /// /proc/loadavg before the run.
    pub load_before: String,
    /// /proc/loadavg after the run.
    pub load_after: String,
    /// Cores kept busy by other processes during the run, on average.
    pub others: f64,
}

/// Other processes' cores above which a short part of the run is measured again.
pub const NOISY: f64 = 0.25;

/// Wait (at most 30 s) until other processes leave the machine idle for 3 s; false if they
/// did not.
pub(crate) fn wait_for_quiet() -> bool {
    let start = Instant::now();
    let mut quiet = 0;
    while start.elapsed() < Duration::from_secs(30) && quiet < 3 {
        let b = machine::Busy::now();
        std::thread::sleep(Duration::from_secs(1));
        quiet = if machine::Busy::now().others_since(&b) < 0.1 { quiet + 1 } else { 0 };
    }
    info!("[quiet] waited {:.0} s for other processes", start.elapsed().as_secs_f64());
    quiet >= 3
}

/// Run one part of the benchmark and record how busy other processes kept the machine; a
/// part that may be `retried` is run again when they kept more than [`NOISY`] cores busy and
/// then left the machine quiet within 30 s, and the least disturbed run is kept.
pub(crate) fn part<T>(
    sections: &mut Vec<Section>,
    name: &str,
    retries: usize,
    mut f: impl FnMut() -> Result<T, String>,
) -> Result<T, String> {
    let mut best: Option<(T, Section)> = None;
    let mut tries = 0;
    for attempt in 0..=retries {
        tries += 1;
        if attempt > 0 && !wait_for_quiet() {
            break;
        }
        let t0 = machine::Busy::now();
        let value = f()?;
        let t1 = machine::Busy::now();
        let sec = Section { name: name.into(), secs: t1.secs_since(&t0), others: t1.others_since(&t0), attempts: 1 };
        info!("[part] {name}: {:.1} s, other processes {:.2} cores", sec.secs, sec.others);
        let noisy = sec.others > NOISY;
        if best.as_ref().is_none_or(|(_, b)| sec.others < b.others) {
            best = Some((value, sec));
        }
        if !noisy {
            break;
        }
    }
    let (value, mut sec) = best.ok_or("no attempt")?;
    sec.attempts = tries;
    sections.push(sec);
    Ok(value)
}

/// Run every measurement, with one `tracing` info event of progress per measurement.
///
/// Every loom-only search runs before the first shuttle search, then the default strategy
/// (PCT, then loom in the same call, as `iomc check` runs it) and its PCT phase alone, then the
/// shuttle and OS-thread searches. The order once kept stderr clean: shuttle installs a process-wide panic hook
/// that stays, and loom's coroutines (the `generator` crate) end every model thread by
/// unwinding, so each loom thread exit after a shuttle run went through shuttle's hook (two
/// lines). The explorer now installs shuttle's hook up front with a quiet hook above it, so a
/// loom search after a shuttle one prints nothing (the default strategy relies on that); the
/// order stays so that the loom-alone figures come from a process that has run no shuttle.
pub fn run_all(cfg: &Config) -> Result<Results, String> {
    let start = Instant::now();
    let busy = machine::Busy::now();
    let load_before = machine::loadavg();
    let scenarios = load(cfg)?;
    let extra = load_extra(cfg)?;
    let cells = violation_cells(&scenarios);
    let picks = dfs_picks(&scenarios, &extra);
    let r = cfg.retries;
    let mut sec = Vec::new();
    // loom (and the child processes).
    let defaults =
        part(&mut sec, "1, 6: default strategy and memory (child processes)", r, || Ok(defaults(cfg, &scenarios)))?;
    let mut exhaustive = part(&mut sec, "3: exhaustive loom", 0, || exhaustive(cfg, &scenarios))?;
    let loom_ttfv = part(&mut sec, "2: time to the violation, loom alone", r, || ttfv_loom(cfg, &cells))?;
    let loom_b2 = Strategy::Loom { min_bound: 2, max_bound: 2 };
    let overhead_loom = part(&mut sec, "8: harness overhead, loom", r, || overhead(cfg, &scenarios, &loom_b2, "loom"))?;
    let dfs_loom_runs = part(&mut sec, "4: loom without a bound", 0, || dfs_loom(cfg, &picks, &exhaustive))?;
    // The default strategy: shuttle (PCT), then loom, in one call.
    let default_ttfv =
        part(&mut sec, "2: time to the violation, default strategy (PCT, then loom)", r, || ttfv_default(cfg, &cells))?;
    let phase = part(&mut sec, "3: the default strategy's PCT phase on the same cells", r, || {
        pct_phase(cfg, &scenarios, &exhaustive)
    })?;
    for (e, run) in exhaustive.iter_mut().zip(phase) {
        e.pct_phase = Some(run);
    }
    // shuttle and OS threads.
    let ttfv = part(&mut sec, "2: time to the violation, PCT, random, stress", 0, || {
        ttfv(cfg, &cells, loom_ttfv.clone(), default_ttfv.clone())
    })?;
    let dfs = part(&mut sec, "4: shuttle DFS", 0, || dfs(cfg, &scenarios, &picks, dfs_loom_runs.clone()))?;
    let portfolio = part(&mut sec, "5: one core vs both cores", r, || portfolio(cfg, &scenarios))?;
    let cost = part(&mut sec, "7: cost of one execution", r, || cost(cfg, &scenarios, &exhaustive))?;
    let random = Strategy::Shuttle { kind: ShuttleKind::Random, iterations: cfg.overhead_iterations, seed: 1 };
    let overhead_shuttle =
        part(&mut sec, "8: harness overhead, shuttle", r, || overhead(cfg, &scenarios, &random, "shuttle"))?;
    Ok(Results {
        sections: sec,
        defaults,
        ttfv,
        exhaustive,
        dfs,
        portfolio,
        cost,
        overhead_loom,
        overhead_shuttle,
        total_secs: start.elapsed().as_secs_f64(),
        load_before,
        load_after: machine::loadavg(),
        others: machine::Busy::now().others_since(&busy),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategy_labels() {
        assert_eq!(strategy_label(&Strategy::Loom { min_bound: 0, max_bound: 3 }), "loom 0..=3");
        let d = Strategy::PctThenLoom { pct_iterations: 1_000, seed: 0, max_bound: 2 };
        assert_eq!(strategy_label(&d), "PCT 1,000 + loom 0..=2");
    }
}
