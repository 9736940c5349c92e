//! # iomc-explore: who picks the schedule
//!
//! A model is a closure that builds a fresh world, runs its actors as threads of one
//! [`Backend`], checks the result and returns `Some(finding)` if the execution violated
//! something. This crate runs that closure under a [`Strategy`]:
//!
//! * [`Strategy::PctThenLoom`], the default: a short PCT search first (a bug of small depth
//!   shows within a few hundred executions, i.e. milliseconds), then loom, which alone can
//!   turn "nothing found" into a pass under a bound. loom's depth-first order is thorough but
//!   slow to reach a race that needs two preemptions in the right places (it exhausts bounds 0
//!   and 1 first); PCT's random priority change points hit such races with probability at
//!   least 1/(n·k^(d−1)) per execution (n threads, k steps, depth d), and in practice far more.
//! * [`Strategy::Loom`]: loom's bounded DPOR, with the preemption bound raised 0, 1, 2, …
//!   up to a maximum (iterative context bounding), so the first violation found tends to have
//!   few preemptions. loom's bound is not complete per bound (see the design notes), so a
//!   pass reads "no violation under loom bound k", never "under all k-preemption schedules".
//! * [`Strategy::Shuttle`]: shuttle's PCT, random or DFS scheduler with a seed; every decision
//!   is recorded so a violation comes back with a schedule that [`Strategy::ShuttleReplay`]
//!   re-runs exactly.
//! * [`Strategy::LoomReplay`]: re-runs loom's deterministic DFS at one bound up to one
//!   execution index.
//! * [`Strategy::Stress`]: OS threads, no control: the baseline a checker must beat.
//!
//! Violations are values, not panics: the closure returns them, and this crate stops the
//! checker early (for loom by unwinding with a private payload that a quiet panic hook hides).
//! Every run reports how many executions it explored and whether the search was exhaustive,
//! so a "pass" can always say what it rests on.
//!
//! Diagnostics: each phase (PCT, random, DFS, loom, stress, a replay) has a `tracing` span,
//! `phase{kind}`, and each loom pass one under it, `bound{bound}`; a debug event ends each with
//! its executions, elapsed time, rate and [`Stop::label`]. They are created between the
//! checkers' runs and never entered while a model runs ([`explore_in`] takes the parent span).

pub mod estimate;
mod loom_run;
mod panics;
mod phases;
mod shuttle_run;
mod stops;

use iomc_sync::Backend;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use loom_run::loom_builder;
pub use panics::{panic_message, quiet_this_thread};
pub use shuttle_run::check_uncontrolled_nondeterminism;

/// Which shuttle scheduler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShuttleKind {
    /// Uniform random choice at each scheduling point.
    Random,
    /// Probabilistic concurrency testing with this bug depth.
    Pct {
        /// PCT depth (number of priority change points + 1).
        depth: usize,
    },
    /// Exhaustive depth-first search without partial-order reduction.
    Dfs,
}

impl ShuttleKind {
    /// The scheduler's name in diagnostics (`pct`, `random`, `dfs`).
    pub fn label(&self) -> &'static str {
        match self {
            ShuttleKind::Random => "random",
            ShuttleKind::Pct { .. } => "pct",
            ShuttleKind::Dfs => "dfs",
        }
    }
}

/// How to explore.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// loom, bounds `min_bound..=max_bound` in turn (0..=max by default).
    Loom {
        /// First preemption bound tried.
        min_bound: u32,
        /// Last preemption bound tried; a pass is exhaustive under this bound.
        max_bound: u32,
    },
    /// PCT (depth [`DEFAULT_PCT_DEPTH`]) for `pct_iterations` executions from `seed`, then, if it
    /// found nothing, loom with bounds `0..=max_bound`. A violation from the PCT phase carries a
    /// shuttle schedule; a pass always comes from the loom phase. `pct_iterations` 0 skips the
    /// PCT phase (shuttle refuses a model with one thread: "did not exercise any concurrency").
    PctThenLoom {
        /// Executions of the PCT phase.
        pct_iterations: u64,
        /// PCT seed.
        seed: u64,
        /// Last loom preemption bound.
        max_bound: u32,
    },
    /// loom at one bound, stopping at one execution index (1-based).
    LoomReplay {
        /// Preemption bound of the pass that found it.
        bound: u32,
        /// Index of the execution within that pass.
        exec: u64,
    },
    /// A shuttle scheduler.
    Shuttle {
        /// Which scheduler.
        kind: ShuttleKind,
        /// Executions to try (DFS: the cap).
        iterations: u64,
        /// Seed (ignored by DFS).
        seed: u64,
    },
    /// Re-run one recorded shuttle schedule.
    ShuttleReplay {
        /// The schedule as shuttle serialises it.
        schedule: String,
    },
    /// OS threads, `iterations` times.
    Stress {
        /// Executions to try.
        iterations: u64,
    },
}

impl Strategy {
    /// The backend the model must be built for.
    pub fn backend(&self) -> Backend {
        match self {
            // The loom phase decides what fits (loom's thread limit is the tighter one).
            Strategy::Loom { .. } | Strategy::LoomReplay { .. } | Strategy::PctThenLoom { .. } => Backend::Loom,
            Strategy::Shuttle { .. } | Strategy::ShuttleReplay { .. } => Backend::Shuttle,
            Strategy::Stress { .. } => Backend::Std,
        }
    }

    /// Short name for reports.
    pub fn name(&self) -> String {
        match self {
            Strategy::Loom { .. } => "loom".into(),
            Strategy::PctThenLoom { .. } => "pct+loom".into(),
            Strategy::LoomReplay { .. } => "loom-replay".into(),
            Strategy::Shuttle { kind: ShuttleKind::Random, .. } => "random".into(),
            Strategy::Shuttle { kind: ShuttleKind::Pct { depth }, .. } => format!("pct(depth {depth})"),
            Strategy::Shuttle { kind: ShuttleKind::Dfs, .. } => "dfs".into(),
            Strategy::ShuttleReplay { .. } => "shuttle-replay".into(),
            Strategy::Stress { .. } => "stress".into(),
        }
    }
}

/// PCT depth of [`Strategy::PctThenLoom`] and of `--backend pct`: the lore races need the
/// writer preempted twice (after its mapping, before re-creating the folio), i.e. two
/// priority change points.
pub const DEFAULT_PCT_DEPTH: usize = 3;

/// Limits that stop a run early (an early stop is reported as incomplete).
///
/// The limits, in one place: [`Budget::wall`] per run (checked before each execution, so a run
/// overshoots by at most one execution, itself bounded by the step budget);
/// [`Budget::steps_per_execution`] per execution (loom `max_branches`, shuttle `max_steps`,
/// default 100,000; it also sizes loom's per-execution branch table, so keep it modest);
/// [`Budget::cancel`] checked before each execution; and the strategy's own iteration count or
/// DFS cap. loom's `max_permutations` and `max_duration` are never set (see [`loom_builder`]):
/// loom stops on them silently, as if the search were complete. Stress runs on OS threads and
/// cannot stop a deadlocked or spinning execution; use loom or shuttle for those.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Wall-clock limit for the whole run, checked before each execution.
    pub wall: Option<Duration>,
    /// loom: scheduling points allowed per execution (`max_branches`); shuttle: steps
    /// (`max_steps`). Exceeding it is a runaway model, reported by name ([`STEP_BUDGET`]).
    pub steps_per_execution: usize,
    /// Set (e.g. by a Ctrl-C handler) to stop the run before the next execution.
    pub cancel: Option<&'static AtomicBool>,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { wall: None, steps_per_execution: 100_000, cancel: None }
    }
}

impl Budget {
    /// Has the run to stop before its next execution, and why?
    pub fn exhausted(&self, start: Instant) -> Option<Stop> {
        if self.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Some(Stop::Interrupted);
        }
        if self.wall.is_some_and(|w| start.elapsed() > w) {
            return Some(Stop::WallBudget);
        }
        None
    }
}

/// What one execution is told about itself.
#[derive(Clone, Copy, Debug)]
pub struct Exec {
    /// Backend to build the world with.
    pub backend: Backend,
    /// 1-based index of this execution within the current pass.
    pub index: u64,
    /// loom preemption bound of the current pass.
    pub bound: Option<u32>,
}

/// The name of [`Budget::steps_per_execution`] in reports.
pub const STEP_BUDGET: &str = "steps_per_execution";
/// The name of [`Budget::wall`] in reports.
pub const WALL_BUDGET: &str = "wall";

/// Why a run ended.
///
/// Only [`Stop::Exhausted`] (and [`Stop::Found`], for the violation it carries) conclude
/// anything; every other stop means the search was cut short and proves nothing
/// ([`Stop::is_complete`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The strategy's whole space (under its bound) was explored.
    Exhausted,
    /// A violation was found.
    Found,
    /// The iteration count ran out (random, PCT, stress; DFS cap reached).
    IterationLimit,
    /// The wall-clock budget ([`Budget::wall`]) ran out.
    WallBudget,
    /// The cancel flag was set (Ctrl-C).
    Interrupted,
    /// One execution took more than [`Budget::steps_per_execution`] scheduling points: a thread
    /// spinning without progress (livelock) or a runaway model. The search stopped there.
    StepBudget {
        /// The budget that was exceeded.
        limit: usize,
        /// Which execution, and what each thread held, waited for and how often it yielded.
        detail: String,
    },
    /// Every model thread was blocked: the checker found a deadlock.
    Deadlock {
        /// The threads, the locks they hold and the locks they wait for.
        detail: String,
    },
    /// The model panicked or the checker reported another failure.
    Panicked(String),
}

impl Stop {
    /// A short name for diagnostics (`exhausted`, `iteration-limit`, `deadlock`, ...).
    pub fn label(&self) -> &'static str {
        match self {
            Stop::Exhausted => "exhausted",
            Stop::Found => "found",
            Stop::IterationLimit => "iteration-limit",
            Stop::WallBudget => "wall-budget",
            Stop::Interrupted => "interrupted",
            Stop::StepBudget { .. } => "step-budget",
            Stop::Deadlock { .. } => "deadlock",
            Stop::Panicked(_) => "panicked",
        }
    }

    /// Did the search cover what it set out to cover? False for every early stop (budgets,
    /// Ctrl-C, caps, failures): such a run must never be reported as a pass.
    pub fn is_complete(&self) -> bool {
        matches!(self, Stop::Exhausted | Stop::Found)
    }
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Exhausted => write!(f, "exhausted the search space"),
            Stop::Found => write!(f, "found a violation"),
            Stop::IterationLimit => write!(f, "reached the iteration limit"),
            Stop::WallBudget => write!(f, "wall-clock budget `{WALL_BUDGET}` ran out"),
            Stop::Interrupted => write!(f, "interrupted"),
            Stop::StepBudget { detail, .. } => write!(f, "step budget exceeded: {detail}"),
            Stop::Deadlock { detail } => write!(f, "deadlock: {detail}"),
            Stop::Panicked(m) => write!(f, "panicked: {m}"),
        }
    }
}

/// A violation and where it was found.
#[derive(Clone, Debug)]
pub struct Found<F> {
    /// What the closure returned.
    pub finding: F,
    /// loom bound of the pass that found it.
    pub bound: Option<u32>,
    /// 1-based execution index within that pass.
    pub exec: u64,
    /// shuttle schedule that reproduces it.
    pub schedule: Option<String>,
}

/// The result of a run.
#[derive(Clone, Debug)]
pub struct Report<F> {
    /// The violation, if one was found.
    pub found: Option<Found<F>>,
    /// Executions run in total (all passes).
    pub executions: u64,
    /// Why it ended.
    pub stop: Stop,
    /// Last loom bound explored (or being explored when it stopped).
    pub bound: Option<u32>,
    /// Wall time.
    pub elapsed: Duration,
    /// Executions of a PCT phase before loom ([`Strategy::PctThenLoom`]; included in
    /// `executions`), 0 for every other strategy.
    pub presearch: u64,
    /// loom's passes, one per bound, with what [`estimate::next_pass`] expected of each before
    /// it ran (empty for shuttle and stress).
    pub passes: Vec<Pass>,
}

/// One loom pass: its bound, what it ran, and what was estimated of it beforehand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pass {
    /// The preemption bound.
    pub bound: u32,
    /// Executions it ran (all of them when it was exhausted).
    pub executions: u64,
    /// Its wall time.
    pub elapsed: Duration,
    /// The executions estimated before it ran, from the passes before it.
    pub estimate: Option<u64>,
}

impl<F> Report<F> {
    /// True when the search covered its whole space (under its bound) without a violation.
    pub fn exhaustive_pass(&self) -> bool {
        self.stop == Stop::Exhausted && self.found.is_none()
    }
}

/// A progress line's contents.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Executions so far.
    pub executions: u64,
    /// Time since the start.
    pub elapsed: Duration,
    /// Current loom bound.
    pub bound: Option<u32>,
    /// Executions of the current loom pass so far.
    pub pass_executions: Option<u64>,
    /// The current loom pass's estimated size, when the passes before it allow one.
    pub estimate: Option<estimate::Estimate>,
}

/// Called about once a second during long runs.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// The model: build, run, check one execution.
pub type Body<F> = Arc<dyn Fn(&Exec) -> Option<F> + Send + Sync>;

/// Run `body` under `strategy`, its diagnostics (`tracing` spans per phase and loom bound)
/// under the current span.
pub fn explore<F: Send + 'static>(
    strategy: &Strategy,
    budget: Budget,
    body: Body<F>,
    progress: Option<ProgressFn>,
) -> Report<F> {
    explore_in(strategy, budget, body, progress, &tracing::Span::current())
}

/// [`explore`] with its diagnostics under `parent`, a span the caller has not entered (no span
/// is entered while the model runs: see the `phases` module).
pub fn explore_in<F: Send + 'static>(
    strategy: &Strategy,
    budget: Budget,
    body: Body<F>,
    progress: Option<ProgressFn>,
    parent: &tracing::Span,
) -> Report<F> {
    panics::install_quiet_hook();
    let start = Instant::now();
    let mut report = match strategy {
        Strategy::Loom { min_bound, max_bound } => phases::phase(parent, "loom", |span| {
            loom_run::run_bounds(*min_bound, *max_bound, None, budget, body, progress, start, span)
        }),
        Strategy::LoomReplay { bound, exec } => phases::phase(parent, "loom-replay", |span| {
            loom_run::run_bounds(*bound, *bound, Some(*exec), budget, body, progress, start, span)
        }),
        Strategy::Shuttle { kind, iterations, seed } => phases::phase(parent, kind.label(), |_| {
            shuttle_run::run(*kind, *iterations, *seed, budget, body, progress, start)
        }),
        Strategy::PctThenLoom { pct_iterations, seed, max_bound } => {
            pct_then_loom(*pct_iterations, *seed, *max_bound, budget, body, progress, start, parent)
        }
        Strategy::ShuttleReplay { schedule } => {
            phases::phase(parent, "shuttle-replay", |_| shuttle_run::replay(schedule, budget, body))
        }
        Strategy::Stress { iterations } => {
            phases::phase(parent, "stress", |_| stress(*iterations, budget, body, progress, start))
        }
    };
    report.elapsed = start.elapsed();
    report
}

/// [`Strategy::PctThenLoom`]: the PCT phase (skipped for 0 iterations), and loom only if
/// that ran to its iteration count without a finding; one wall budget covers both.
#[allow(clippy::too_many_arguments)] // the strategy's fields, the run's settings, the span
fn pct_then_loom<F: Send + 'static>(
    pct_iterations: u64,
    seed: u64,
    max_bound: u32,
    budget: Budget,
    body: Body<F>,
    progress: Option<ProgressFn>,
    start: Instant,
    parent: &tracing::Span,
) -> Report<F> {
    let mut done = 0;
    if pct_iterations > 0 {
        let pct = ShuttleKind::Pct { depth: DEFAULT_PCT_DEPTH };
        let first = phases::phase(parent, pct.label(), |_| {
            shuttle_run::run(pct, pct_iterations, seed, budget, body.clone(), progress.clone(), start)
        });
        if first.stop != Stop::IterationLimit {
            // Found, or cut short (budget, Ctrl-C, deadlock, panic): that is the answer.
            return Report { presearch: first.executions, ..first };
        }
        done = first.executions;
    }
    // Progress lines count on from the PCT phase's executions.
    let progress = progress.map(|p| -> ProgressFn {
        Arc::new(move |mut x: Progress| {
            x.executions += done;
            p(x)
        })
    });
    let r = phases::phase(parent, "loom", |span| {
        loom_run::run_bounds(0, max_bound, None, budget, body, progress, start, span)
    });
    Report { executions: r.executions + done, presearch: done, ..r }
}

fn stress<F: Send + 'static>(
    iterations: u64,
    budget: Budget,
    body: Body<F>,
    progress: Option<ProgressFn>,
    start: Instant,
) -> Report<F> {
    let mut ticker = panics::Ticker::new(progress, start);
    for i in 1..=iterations {
        if let Some(stop) = budget.exhausted(start) {
            return Report {
                found: None,
                executions: i - 1,
                stop,
                bound: None,
                elapsed: start.elapsed(),
                presearch: 0,
                passes: Vec::new(),
            };
        }
        ticker.tick(i, None, None);
        let exec = Exec { backend: Backend::Std, index: i, bound: None };
        match panics::quietly(|| body(&exec)) {
            Ok(Some(f)) => {
                let found = Found { finding: f, bound: None, exec: i, schedule: None };
                return Report {
                    found: Some(found),
                    executions: i,
                    stop: Stop::Found,
                    bound: None,
                    elapsed: start.elapsed(),
                    presearch: 0,
                    passes: Vec::new(),
                };
            }
            Ok(None) => {}
            Err(msg) => {
                return Report {
                    found: None,
                    executions: i,
                    stop: Stop::Panicked(msg),
                    bound: None,
                    elapsed: start.elapsed(),
                    presearch: 0,
                    passes: Vec::new(),
                }
            }
        }
    }
    Report {
        found: None,
        executions: iterations,
        stop: Stop::IterationLimit,
        bound: None,
        elapsed: start.elapsed(),
        presearch: 0,
        passes: Vec::new(),
    }
}
