//! Section 2: time to the first violation per strategy: the run, its results and its table.

use crate::measure::{prepare, run_check, Config, Results, Run, BUGGY, STALE_ONLY};
use crate::report::{default_cell, default_median, median_secs, seeds_cell, stress_cell};
use crate::stats::{count, countf, ratio, secs, summary};
use iomc_explore::{ShuttleKind, Strategy, DEFAULT_PCT_DEPTH};
use iomc_harness::{default_strategy_seeded, loom_strategy, Prepared, DEFAULT_PCT_ITERATIONS};
use iomc_scenario::{Scenario, Verdict};
use std::fmt::Write;
use std::sync::Arc;
use std::time::Instant;
use tracing::info;

/// Time to the first violation on one scenario x preset, per strategy.
#[derive(Clone, Debug)]
pub struct Ttfv {
    /// Scenario name.
    pub scenario: String,
    /// Preset.
    pub preset: String,
    /// The expected violation.
    pub expected: String,
    /// The default strategy (PCT, then loom), one run per seed of its PCT phase.
    pub default: Vec<Run>,
    /// loom alone (the default before the PCT phase; deterministic), repeated.
    pub loom: Vec<Run>,
    /// PCT depth 3, one run per seed.
    pub pct: Vec<Run>,
    /// Random, one run per seed.
    pub random: Vec<Run>,
    /// Seeds that were planned per randomized strategy.
    pub seeds: u64,
    /// The stress runs: again after each find, until enough finds or the cap.
    pub stress: Vec<Run>,
    /// Its wall-clock cap, seconds.
    pub stress_cap: f64,
    /// Finds after which stress stopped.
    pub stress_finds: usize,
}

/// A scenario, a preset, and the verdict it expects there.
pub type Cell = (Arc<Scenario>, String, Verdict);

impl Ttfv {
    /// Stress: (finds, executions, seconds in all runs).
    pub fn stress_total(&self) -> (usize, u64, f64) {
        let finds = self.stress.iter().filter(|r| r.found).count();
        (finds, self.stress.iter().map(|r| r.executions).sum(), self.stress.iter().map(|r| r.secs).sum())
    }

    /// Stress's mean time to the violation (all stress time ÷ finds), if it found it at all.
    pub fn stress_time(&self) -> Option<f64> {
        let (finds, _, secs) = self.stress_total();
        (finds > 0).then(|| secs / finds as f64)
    }
}

/// Is this a lore scenario (the 20 ms / 10,000x targets)?
pub fn is_lore(name: &str) -> bool {
    name.starts_with("lore-")
}

/// The scenario x preset pairs whose time to a violation is measured: every linux-6.1
/// violation, and stale-check-only violations that linux-6.1 does not have.
pub fn violation_cells(scenarios: &[Arc<Scenario>]) -> Vec<Cell> {
    let mut out = Vec::new();
    for s in scenarios {
        let buggy = s.expected(BUGGY).filter(|v| **v != Verdict::Pass);
        if let Some(v) = buggy {
            out.push((s.clone(), BUGGY.to_string(), v.clone()));
        }
        if let Some(v) = s.expected(STALE_ONLY).filter(|v| **v != Verdict::Pass) {
            if buggy.is_none() {
                out.push((s.clone(), STALE_ONLY.to_string(), v.clone()));
            }
        }
    }
    out
}

/// One search per seed 1..=`cfg.seeds` (each capped at `cfg.seed_wall`), until `cfg.cell_wall`.
pub(crate) fn seeds(
    cfg: &Config,
    p: &Arc<Prepared>,
    strategy: impl Fn(u64) -> Strategy,
    label: &str,
) -> Result<Vec<Run>, String> {
    let start = Instant::now();
    let mut runs = Vec::new();
    for seed in 1..=cfg.seeds {
        if start.elapsed() > cfg.cell_wall {
            break;
        }
        let r = run_check(p, &strategy(seed), cfg.seed_wall);
        if r.stop.starts_with("failed") {
            return Err(r.stop);
        }
        runs.push(r);
    }
    let found = runs.iter().filter(|r| r.found).count();
    let by_loom = runs.iter().filter(|r| r.found_by_loom()).count();
    info!(
        "[ttfv] {} {} {label}: found by {found} of {} seeds{} in {:.2} s",
        p.scenario.name,
        p.preset,
        runs.len(),
        if by_loom > 0 { format!(" ({by_loom} in a loom pass)") } else { String::new() },
        start.elapsed().as_secs_f64()
    );
    Ok(runs)
}

/// loom alone (`loom_strategy`: the default before it had a PCT phase) on each violation cell,
/// repeated (run before any shuttle search, see [`run_all`]).
pub(crate) fn ttfv_loom(cfg: &Config, cells: &[Cell]) -> Result<Vec<Vec<Run>>, String> {
    let mut out = Vec::new();
    for (s, preset, _) in cells {
        let p = prepare(s, preset)?;
        let strategy = loom_strategy(s);
        let loom: Vec<Run> = (0..cfg.repeats).map(|_| run_check(&p, &strategy, cfg.cell_wall)).collect();
        if let Some(r) = loom.first() {
            info!(
                "[ttfv] {} {preset} loom: {} after {} executions, {:.2} ms",
                s.name,
                r.outcome,
                r.executions,
                r.secs * 1e3
            );
        }
        out.push(loom);
    }
    Ok(out)
}

/// The default strategy (PCT, then loom) on each violation cell, one search per seed of its PCT
/// phase. It runs shuttle and then loom in one call, as `iomc check` does.
pub(crate) fn ttfv_default(cfg: &Config, cells: &[Cell]) -> Result<Vec<Vec<Run>>, String> {
    let mut out = Vec::new();
    for (s, preset, _) in cells {
        let p = prepare(s, preset)?;
        out.push(seeds(cfg, &p, |seed| default_strategy_seeded(s, seed), "default")?);
    }
    Ok(out)
}

pub(crate) fn ttfv(
    cfg: &Config,
    cells: &[Cell],
    loom: Vec<Vec<Run>>,
    default: Vec<Vec<Run>>,
) -> Result<Vec<Ttfv>, String> {
    let mut out = Vec::new();
    for (((s, preset, expected), loom), default) in cells.iter().zip(loom).zip(default) {
        let p = prepare(s, preset)?;
        let (n, pct) = (cfg.seed_iterations, ShuttleKind::Pct { depth: DEFAULT_PCT_DEPTH });
        let pct = seeds(cfg, &p, |seed| Strategy::Shuttle { kind: pct, iterations: n, seed }, "pct")?;
        let random =
            seeds(cfg, &p, |seed| Strategy::Shuttle { kind: ShuttleKind::Random, iterations: n, seed }, "random")?;
        let cap = if is_lore(&s.name) && preset == BUGGY { cfg.stress_wall_lore } else { cfg.stress_wall_other };
        let start = Instant::now();
        let mut stress = Vec::new();
        while start.elapsed() < cap && stress.iter().filter(|r: &&Run| r.found).count() < cfg.stress_finds {
            let r = run_check(&p, &Strategy::Stress { iterations: u64::MAX / 2 }, cap.saturating_sub(start.elapsed()));
            info!(
                "[ttfv] {} {preset} stress: {} after {} executions, {:.2} s",
                s.name, r.outcome, r.executions, r.secs
            );
            let stop = !r.found;
            stress.push(r);
            if stop {
                break;
            }
        }
        out.push(Ttfv {
            scenario: s.name.clone(),
            preset: preset.clone(),
            expected: expected.to_string(),
            default,
            loom,
            pct,
            random,
            seeds: cfg.seeds,
            stress,
            stress_cap: cap.as_secs_f64(),
            stress_finds: cfg.stress_finds,
        });
    }
    Ok(out)
}

pub(crate) fn section_ttfv(out: &mut String, r: &Results) {
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
