//! Section 5: one core against both cores: the run, its results and its table.

use crate::machine::{self, Cpu};
use crate::measure::{prepare, run_check, Config, Results, FIXED, PORTFOLIO_SCENARIOS};
use crate::stats::{count, rate, ratio, secs};
use iomc_explore::{ShuttleKind, Strategy, DEFAULT_PCT_DEPTH};
use iomc_harness::Prepared;
use iomc_scenario::{Scenario, Verdict};
use std::fmt::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::info;

/// One timed run of one or more concurrent shuttle searches.
#[derive(Clone, Debug)]
pub struct PortfolioRun {
    /// What ran, e.g. `random x2`.
    pub label: String,
    /// The schedulers, one OS thread each.
    pub kinds: Vec<ShuttleKind>,
    /// Executions of all threads together.
    pub executions: u64,
    /// Wall time from the first start to the last join.
    pub secs: f64,
    /// Process CPU time during the run.
    pub cpu: Cpu,
    /// Cores kept busy by other processes meanwhile, on average.
    pub others: f64,
}

impl PortfolioRun {
    /// Executions per second, all threads.
    pub fn rate(&self) -> f64 {
        if self.secs > 0.0 {
            self.executions as f64 / self.secs
        } else {
            0.0
        }
    }
}

/// One-core and two-core runs on one scenario.
#[derive(Clone, Debug)]
pub struct Portfolio {
    /// Scenario name.
    pub scenario: String,
    /// Preset.
    pub preset: String,
    /// Wall clock of each run.
    pub wall: f64,
    /// Rounds run; each row is the best of them.
    pub rounds: usize,
    /// The runs.
    pub runs: Vec<PortfolioRun>,
}

/// How a scheduler is named in the core-count table.
pub fn kind_label(k: ShuttleKind) -> String {
    match k {
        ShuttleKind::Random => "random".into(),
        ShuttleKind::Pct { depth } => format!("pct({depth})"),
        ShuttleKind::Dfs => "dfs".into(),
    }
}

pub(crate) fn parallel(p: &Arc<Prepared>, kinds: &[ShuttleKind], wall: Duration) -> PortfolioRun {
    let cpu0 = Cpu::now();
    let busy = machine::Busy::now();
    let start = Instant::now();
    let handles: Vec<_> = kinds
        .iter()
        .enumerate()
        .map(|(i, &kind)| {
            let p = p.clone();
            std::thread::spawn(move || {
                let strategy = Strategy::Shuttle { kind, iterations: 1_000_000_000, seed: 1 + i as u64 };
                run_check(&p, &strategy, wall).executions
            })
        })
        .collect();
    let executions = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    let secs = start.elapsed().as_secs_f64();
    let names: Vec<String> = kinds.iter().map(|k| kind_label(*k)).collect();
    let label = if names.len() > 1 && names.iter().all(|n| *n == names[0]) {
        format!("{} ×{}", names[0], names.len())
    } else {
        names.join(" + ")
    };
    let others = machine::Busy::now().others_since(&busy);
    PortfolioRun { label, kinds: kinds.to_vec(), executions, secs, cpu: Cpu::now().since(cpu0), others }
}

pub(crate) fn portfolio(cfg: &Config, scenarios: &[Arc<Scenario>]) -> Result<Option<Portfolio>, String> {
    let pass_on_fixed = |s: &&Arc<Scenario>| s.expected(FIXED) == Some(&Verdict::Pass);
    let s = PORTFOLIO_SCENARIOS
        .iter()
        .filter_map(|n| scenarios.iter().find(|s| s.name == *n))
        .find(pass_on_fixed)
        .or_else(|| scenarios.iter().find(pass_on_fixed));
    let Some(s) = s else { return Ok(None) };
    let p = prepare(s, FIXED)?;
    let pct = ShuttleKind::Pct { depth: DEFAULT_PCT_DEPTH };
    let random = ShuttleKind::Random;
    let plans: [&[ShuttleKind]; 5] = [&[random], &[random, random], &[pct], &[pct, pct], &[pct, random]];
    let mut runs: Vec<PortfolioRun> = Vec::new();
    for (round, kinds) in (0..cfg.portfolio_rounds.max(1)).flat_map(|r| plans.iter().map(move |k| (r, *k))) {
        let r = parallel(&p, kinds, cfg.portfolio_wall);
        info!(
            "[cores] {} {FIXED} {}: {} executions in {:.2} s = {:.0}/s (cpu user {:.2} s, sys {:.2} s; others {:.2} cores)",
            s.name,
            r.label,
            r.executions,
            r.secs,
            r.rate(),
            r.cpu.user,
            r.cpu.sys,
            r.others
        );
        if round == 0 {
            runs.push(r);
        } else if let Some(best) = runs.iter_mut().find(|x| x.label == r.label) {
            if r.rate() > best.rate() {
                *best = r;
            }
        }
    }
    Ok(Some(Portfolio {
        scenario: s.name.clone(),
        preset: FIXED.into(),
        wall: cfg.portfolio_wall.as_secs_f64(),
        rounds: cfg.portfolio_rounds.max(1),
        runs,
    }))
}

pub(crate) fn section_portfolio(out: &mut String, r: &Results) {
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
        let singles: Vec<f64> =
            run.kinds.iter().filter_map(|k| rate_of(&crate::sections::portfolio::kind_label(*k))).collect();
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
