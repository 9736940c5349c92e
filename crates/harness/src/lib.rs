//! # iomc-harness: from a scenario file to a verdict
//!
//! [`Prepared::new`] turns a parsed scenario and a kernel preset (plus `--set` overrides) into
//! everything one execution needs. [`check`] explores it with an
//! [`iomc_explore::Strategy`]; every execution builds a fresh [`iomc_models::World`], runs the
//! `setup` ops on the main thread, runs each scenario thread as a model thread, joins them and
//! asks the [`oracle`]. The result says what was found (or that nothing was), how many
//! executions it took, under which bound, and carries a replay token.

pub mod atomic;
mod crash_view;
pub mod exec;
pub mod fuzz;
pub mod mutants;
pub mod observe;
pub mod oracle;
pub mod present;
pub use present::{chrome, json, matrix, render};
pub mod token;

use iomc_explore::{explore, explore_in, Body, Budget, Exec, Found, ProgressFn, Report, ShuttleKind, Stop, Strategy};
use iomc_models::{Behaviour, Geometry};
use iomc_scenario::{Scenario, Verdict};
use iomc_sync::Spawner;
use oracle::Violation;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Default loom preemption bound of a scenario with up to three threads that does not set one.
/// The loom docs say "2 or 3 is enough to catch most bugs" and the shipped races need 1–2;
/// bound 4 is one preemption of margin past that, for the proof of a pass. Measured after
/// issue 17's reductions (docs/performance.md): the largest shipped 3-thread pass at bound 4
/// is 224,052 executions (generic-346-hole, about 20 s on this 2-core machine), and the whole
/// matrix of the 3-thread scenarios at bound 4 (87 checks, every preset) takes 5.4 minutes on
/// two shards, the 1- and 2-thread ones 46 s: within CI's 20 minutes with the rest of the suite.
pub const DEFAULT_PREEMPTION_BOUND: u32 = 4;

/// Default loom preemption bound of a scenario with four threads (loom's limit): each bound
/// costs about 8 times the one below, so bound 4 of customer-4-thread (417,546 executions,
/// about 40 s) on each of the six presets it passes would take CI's budget on its own.
pub const DEFAULT_PREEMPTION_BOUND_4_THREADS: u32 = 3;

/// The default loom preemption bound of a scenario with `threads` threads.
pub fn default_preemption_bound(threads: usize) -> u32 {
    if threads <= 3 {
        DEFAULT_PREEMPTION_BOUND
    } else {
        DEFAULT_PREEMPTION_BOUND_4_THREADS
    }
}

/// Executions of the default strategy's PCT phase. The hardest shipped race for PCT
/// (lore-2022-08-17-delalloc on linux-6.1) takes a median of 133 executions over 20 seeds
/// (docs/performance.md), i.e. about p = ln 2 / 133 = 0.5% per execution, so 1,000
/// executions miss it with probability (1 − p)^1000 ≈ 0.5%; every other shipped race is 3 to 13
/// times likelier. A miss costs only time: the loom phase that follows finds it (about 50 ms).
/// A scenario that passes pays the phase in full: 1,000 executions, 25–50 ms (docs/performance.md, table 3).
pub const DEFAULT_PCT_ITERATIONS: u64 = 1_000;

/// A scenario bound to a kernel variant, ready to execute.
#[derive(Debug)]
pub struct Prepared {
    /// The scenario.
    pub scenario: Arc<Scenario>,
    /// Preset name.
    pub preset: String,
    /// `--set` overrides applied on top of the preset, in order.
    pub overrides: Vec<String>,
    /// Resulting knobs.
    pub behaviour: Behaviour,
    /// Model geometry (span covers every op, rounded up to the largest folio).
    pub geo: Geometry,
    /// Actor names: index 0 is "setup", then the scenario threads.
    pub actor_names: Vec<String>,
    /// What each execution records and checks (full unless a benchmark says otherwise).
    pub instrument: Instrument,
}

/// What an execution records and checks. Anything but [`Instrument::FULL`] is for measuring
/// the harness's own cost: without the oracle no violation can be found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instrument {
    /// Record events and the operation history.
    pub record: bool,
    /// Run the oracle after the join.
    pub oracle: bool,
}

impl Instrument {
    /// Record everything and check every execution.
    pub const FULL: Instrument = Instrument { record: true, oracle: true };
}

impl Prepared {
    /// Bind `scenario` to `preset` with `overrides` (`knob=value`). `preset` may carry knobs of
    /// its own, as an `[expect]` key does (`"linux-6.2 iomap_valid=off"`); `overrides` apply
    /// after them.
    pub fn new(scenario: Arc<Scenario>, preset: &str, overrides: &[String]) -> Result<Prepared, String> {
        let mut behaviour = Behaviour::from_spec(preset)?;
        for o in overrides {
            behaviour.set(o)?;
        }
        let g = &scenario.geometry;
        let max_folio = g.page_size * g.folio_pages.iter().copied().max().unwrap_or(1);
        let span = scenario.span_bytes().div_ceil(max_folio).max(1) * max_folio;
        let mut folio_pages = g.folio_pages.clone();
        folio_pages.sort_unstable();
        let mut geo = Geometry::new(g.block_size, g.page_size, folio_pages, span);
        geo.always_cow = g.always_cow;
        geo.zoned = g.zoned;
        let mut actor_names = vec!["setup".to_string()];
        actor_names.extend(scenario.threads.iter().map(|t| t.name.clone()));
        Ok(Prepared {
            scenario,
            preset: preset.to_string(),
            overrides: overrides.to_vec(),
            behaviour,
            geo,
            actor_names,
            instrument: Instrument::FULL,
        })
    }
}

/// What a check concluded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A verdict: `pass` (exhaustive under the bound, or every sampled execution clean) or a
    /// violation class.
    Verdict(Verdict),
    /// The search stopped before it could conclude (budget, wall clock).
    Incomplete(String),
    /// The model or checker failed (not a verdict).
    Error(String),
}

impl Outcome {
    /// Text for tables.
    pub fn label(&self) -> String {
        match self {
            Outcome::Verdict(v) => v.to_string(),
            Outcome::Incomplete(_) => "incomplete".into(),
            Outcome::Error(_) => "error".into(),
        }
    }
}

/// The result of checking one scenario under one variant.
#[derive(Debug)]
pub struct CheckResult {
    /// The prepared scenario.
    pub prepared: Arc<Prepared>,
    /// What the scenario expects for this preset (None if it does not say).
    pub expected: Option<Verdict>,
    /// What the search concluded.
    pub outcome: Outcome,
    /// Exploration figures.
    pub report: Report<Violation>,
    /// Strategy used.
    pub strategy: Strategy,
    /// Token that replays the violation, if one was found by a replayable strategy.
    pub token: Option<String>,
    /// Other violation classes met while searching for the expected one.
    pub other: OtherFindings,
    /// A replay token per class in `other`: the first execution of that class the same search
    /// met ([`token_for_class`]).
    pub other_tokens: BTreeMap<Verdict, String>,
}

impl CheckResult {
    /// A verdict for a preset the scenario expects nothing of (`--variant` naming a preset its
    /// `[expect]` does not): shown, not judged.
    pub fn unjudged(&self) -> bool {
        self.expected.is_none() && matches!(self.outcome, Outcome::Verdict(_))
    }

    /// Did the outcome match the expectation? (No expectation: a pass matches.)
    pub fn matches(&self) -> bool {
        match (&self.outcome, &self.expected) {
            (Outcome::Verdict(v), Some(e)) => v == e,
            (Outcome::Verdict(v), None) => *v == Verdict::Pass,
            _ => false,
        }
    }
}

/// The default strategy for a scenario: [`DEFAULT_PCT_ITERATIONS`] executions of PCT (seed 0)
/// to find a violation fast, then loom with iterative preemption bounds up to the scenario's
/// bound (or [`default_preemption_bound`]) to find it anyway or prove its absence.
pub fn default_strategy(s: &Scenario) -> Strategy {
    default_strategy_seeded(s, 0)
}

/// [`default_strategy`] with its PCT phase started from `seed` (`iomc check --seed`).
pub fn default_strategy_seeded(s: &Scenario, seed: u64) -> Strategy {
    Strategy::PctThenLoom { pct_iterations: pct_phase(s, DEFAULT_PCT_ITERATIONS), seed, max_bound: loom_bound(s) }
}

/// Executions of the PCT phase for `s`: `wanted`, or 0 for a scenario with one thread (a
/// single thread has no schedule to search, and shuttle refuses to run it; loom runs it once).
pub fn pct_phase(s: &Scenario, wanted: u64) -> u64 {
    if s.threads.len() < 2 {
        0
    } else {
        wanted
    }
}

/// loom alone with iterative preemption bounds up to the scenario's bound (or
/// [`default_preemption_bound`]): `--backend loom`, and the strategy whose first finding has
/// the fewest preemptions.
pub fn loom_strategy(s: &Scenario) -> Strategy {
    Strategy::Loom { min_bound: 0, max_bound: loom_bound(s) }
}

/// The scenario's loom preemption bound, else [`default_preemption_bound`] of its threads.
pub fn loom_bound(s: &Scenario) -> u32 {
    s.explore.preemption_bound.unwrap_or_else(|| default_preemption_bound(s.threads.len()))
}

/// Refuse strategies that cannot run this scenario (loom's thread limit) with a clear error.
pub fn preflight(p: &Prepared, strategy: &Strategy) -> Result<(), String> {
    Spawner::check_fits(strategy.backend(), p.scenario.threads.len())
        .map_err(|e| format!("{}: {} threads: {e}", p.scenario.file, p.scenario.threads.len()))
}

/// One execution to show for a check that found nothing (`iomc check --trace` on a pass): loom's
/// first execution at bound 0, the threads run one after another without preemption, with
/// every event and the oracle's verdict on it. `None` if that execution could not run.
pub fn representative(p: &Arc<Prepared>) -> Option<Found<Violation>> {
    let pp = p.clone();
    let body: Body<Violation> = Arc::new(move |e: &Exec| Some(exec::execute_observed(&pp, e.backend)));
    explore(&Strategy::LoomReplay { bound: 0, exec: 1 }, Budget::default(), body, None).found
}

/// Violations of other classes seen while searching for the expected one.
pub type OtherFindings = BTreeMap<Verdict, (u64, Violation)>;

/// Explore `p` with `strategy`.
///
/// When the scenario expects a violation class for this preset, the search looks for an
/// execution of that class (the expectation says "this corruption is reachable on this
/// kernel"); executions with other violations are counted in `other` and the search goes on.
/// When it expects `pass` (or nothing), any violation ends the search.
///
/// Diagnostics: a `tracing` span `check{scenario, preset, strategy}` holds the exploration's
/// phase and bound spans, and a debug event ends it with the outcome.
pub fn check(p: Arc<Prepared>, strategy: &Strategy, budget: Budget, progress: Option<ProgressFn>) -> CheckResult {
    let target = p.scenario.expected(&p.preset).cloned().filter(|v| *v != Verdict::Pass);
    check_for(p, strategy, budget, progress, target, None)
}

/// A replay of `strategy` (a [`Strategy::LoomReplay`] or [`Strategy::ShuttleReplay`]) made by a
/// search that looked for class `target`: executions before the token's one that show another
/// class are passed over as that search passed over them, and the token's own execution ends
/// the replay whatever it shows (so a token that no longer reproduces says what it saw).
pub fn replay(p: Arc<Prepared>, strategy: &Strategy, budget: Budget, target: Option<Verdict>) -> CheckResult {
    let at = match strategy {
        Strategy::LoomReplay { exec, .. } => Some(*exec),
        _ => Some(1),
    };
    check_for(p, strategy, budget, None, target, at)
}

/// [`check`] looking for executions of class `target` (`None`: any violation ends the search);
/// any violation in execution `at` of a pass ends it too.
fn check_for(
    p: Arc<Prepared>,
    strategy: &Strategy,
    budget: Budget,
    progress: Option<ProgressFn>,
    target: Option<Verdict>,
    at: Option<u64>,
) -> CheckResult {
    let expected = p.scenario.expected(&p.preset).cloned();
    let other: Arc<Mutex<OtherFindings>> = Arc::new(Mutex::new(BTreeMap::new()));
    let (pp, oo) = (p.clone(), other.clone());
    let body: Body<Violation> = Arc::new(move |e: &Exec| {
        let v = exec::execute(&pp, e.backend)?;
        match &target {
            Some(t) if *t != v.verdict && at != Some(e.index) => {
                let mut o = oo.lock().unwrap_or_else(|e| e.into_inner());
                o.entry(v.verdict.clone()).or_insert((0, v)).0 += 1;
                None
            }
            _ => Some(v),
        }
    });
    let span = tracing::info_span!(
        "check",
        scenario = %p.scenario.name,
        preset = %p.preset,
        sets = tracing::field::Empty,
        strategy = %strategy.name()
    );
    if !p.overrides.is_empty() {
        span.record("sets", p.overrides.join(","));
    }
    let report = explore_in(strategy, budget, body, progress, &span);
    let other = std::mem::take(&mut *other.lock().unwrap_or_else(|e| e.into_inner()));
    let first_other = other.keys().next().cloned();
    let outcome = match (&report.found, &report.stop) {
        (Some(f), _) => Outcome::Verdict(f.finding.verdict.clone()),
        // Nothing ran (an iteration count of 0, or a budget spent before the first execution):
        // a search of nothing proves nothing.
        (None, Stop::Exhausted | Stop::IterationLimit) if report.executions == 0 => {
            Outcome::Incomplete("no execution ran (0 iterations): nothing is proven".into())
        }
        (None, Stop::IterationLimit) if matches!(strategy, Strategy::Shuttle { kind: ShuttleKind::Dfs, .. }) => {
            Outcome::Incomplete(format!(
                "DFS stopped at its cap of {} executions before exhausting the space",
                report.executions
            ))
        }
        (None, Stop::Exhausted) | (None, Stop::IterationLimit) => {
            Outcome::Verdict(first_other.unwrap_or(Verdict::Pass))
        }
        (None, Stop::WallBudget) => Outcome::Incomplete(format!(
            "wall-clock budget of {:?} ran out after {} executions",
            budget.wall.unwrap_or(Duration::ZERO),
            report.executions
        )),
        (None, Stop::Interrupted) => Outcome::Incomplete(format!(
            "interrupted (Ctrl-C) after {} executions{}: nothing is proven",
            report.executions,
            report.bound.map(|b| format!(" at loom bound {b}")).unwrap_or_default()
        )),
        // The detail (threads, locks held and waited for) stays in `report.stop`.
        (None, Stop::Deadlock { .. }) => Outcome::Verdict(Verdict::Deadlock),
        (None, Stop::StepBudget { .. }) => Outcome::Incomplete(report.stop.to_string()),
        (None, Stop::Panicked(m)) => Outcome::Error(m.clone()),
        (None, Stop::Found) => Outcome::Error("found without a finding".into()),
    };
    let token = report.found.as_ref().and_then(|f| token::encode(&p, strategy, f));
    let other_tokens = other
        .keys()
        .filter(|_| report.stop != Stop::Interrupted)
        .filter_map(|v| Some((v.clone(), token_for_class(&p, strategy, budget, v)?)))
        .collect();
    tracing::debug!(
        parent: &span,
        outcome = %outcome.label(),
        executions = report.executions,
        elapsed = %format!("{:.2?}", report.elapsed),
        "check end"
    );
    CheckResult { prepared: p, expected, outcome, report, strategy: strategy.clone(), token, other, other_tokens }
}

/// A replay token for the first execution of class `class` that `strategy` meets: the same
/// search again, stopping at that class. Searches are deterministic (loom's DFS order, a seeded
/// PCT), and which executions a search visits does not depend on what the closure returns, so
/// this is the execution the first search counted first, found again. Costs at most the first
/// search's executions up to that one. `None` for stress runs (no schedule) or when the budget
/// ran out first.
pub fn token_for_class(p: &Arc<Prepared>, strategy: &Strategy, budget: Budget, class: &Verdict) -> Option<String> {
    let (pp, want) = (p.clone(), class.clone());
    let body: Body<Violation> = Arc::new(move |e: &Exec| exec::execute(&pp, e.backend).filter(|v| v.verdict == want));
    let report = explore(strategy, budget, body, None);
    token::encode(p, strategy, report.found.as_ref()?)
}
