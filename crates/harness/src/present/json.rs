//! `--format json`: the same report as structured data, from serde-derived types.
//!
//! The schema is versioned: the top-level object's `schema` field is [`SCHEMA`]. Every field is
//! described in `docs/json-output.md`, and `docs/json/iomc-check-1.schema.json` is its JSON
//! Schema (a test validates real output against it). No field carries Rust `Debug` text: verdicts,
//! stop reasons and strategies are the documented strings below.

use crate::render::describe;
use crate::{CheckResult, Outcome};
use iomc_explore::{ShuttleKind, Stop, Strategy};
use serde::Serialize;

/// The schema identifier of `iomc check --format json` and `iomc replay --format json`.
pub const SCHEMA: &str = "iomc-check/1";

/// A whole run: every check, and how many met their expectation.
#[derive(Debug, Serialize)]
pub struct Run<'a> {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// One entry per check (scenario x preset), in the order they ran.
    pub checks: Vec<Check<'a>>,
    /// Checks whose outcome met their expectation.
    pub matched: usize,
    /// Checks in `checks`.
    pub total: usize,
}

/// One scenario checked under one kernel preset.
#[derive(Debug, Serialize)]
pub struct Check<'a> {
    /// Scenario name.
    pub scenario: &'a str,
    /// Scenario file as given.
    pub file: &'a str,
    /// Kernel preset (possibly with knobs, as an `[expect]` key has them).
    pub preset: &'a str,
    /// `--set` overrides applied on top of the preset, in order.
    pub overrides: &'a [String],
    /// The verdict the scenario expects for this preset, if it names one.
    pub expected: Option<String>,
    /// A verdict (`pass`, `zeroed-data`, ..., `invariant:<name>`), `incomplete` or `error`.
    pub got: String,
    /// Did `got` meet `expected` (no expectation: a pass meets it)?
    pub matches: bool,
    /// Why the check is incomplete or failed (null for a verdict).
    pub note: Option<&'a str>,
    /// The exploration strategy.
    pub strategy: StrategyJson,
    /// Why the search ended.
    pub stop: StopJson,
    /// Executions run in total (every phase and bound).
    pub executions: u64,
    /// Executions of the PCT phase before loom (included in `executions`).
    pub pct_executions: u64,
    /// Last loom preemption bound explored (null when loom did not run).
    pub bound: Option<u32>,
    /// Wall time of the search in milliseconds.
    pub elapsed_ms: f64,
    /// Replay token of the violation (null when none was found or it cannot be replayed).
    pub token: Option<&'a str>,
    /// The violation found (null for none).
    pub violation: Option<ViolationJson>,
    /// Violations of other classes met while searching for the expected one.
    pub other_findings: Vec<OtherFinding>,
    /// loom's passes, one per bound, with the size estimated before each ran.
    pub passes: Vec<PassJson>,
}

/// One loom pass ([`iomc_explore::Pass`]).
#[derive(Debug, Serialize)]
pub struct PassJson {
    /// The preemption bound.
    pub bound: u32,
    /// Executions it ran.
    pub executions: u64,
    /// Executions estimated before it ran ([`iomc_explore::estimate`]), null for the first
    /// passes (too little history).
    pub estimated_executions: Option<u64>,
    /// Its wall time in milliseconds.
    pub elapsed_ms: f64,
}

/// The exploration strategy's kind and parameters.
#[derive(Debug, Serialize)]
pub struct StrategyJson {
    /// Which strategy.
    pub kind: StrategyKind,
    /// PCT depth (`pct` only, else null).
    pub pct_depth: Option<usize>,
    /// Seed of the random, PCT or stress search (null for loom and replays).
    pub seed: Option<u64>,
}

/// Strategy names, as `iomc check` prints them.
#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum StrategyKind {
    /// loom alone, iterative preemption bounds.
    Loom,
    /// The default: a PCT phase, then loom.
    #[serde(rename = "pct+loom")]
    PctThenLoom,
    /// loom, replaying one execution.
    LoomReplay,
    /// shuttle random scheduling.
    Random,
    /// shuttle PCT.
    Pct,
    /// shuttle DFS.
    Dfs,
    /// shuttle, replaying one schedule.
    ShuttleReplay,
    /// OS threads.
    Stress,
}

/// Why the search ended.
#[derive(Debug, Serialize)]
pub struct StopJson {
    /// The reason.
    pub reason: StopReason,
    /// Detail for `step-budget`, `deadlock` and `panicked` (null otherwise).
    pub detail: Option<String>,
    /// The exceeded per-execution step budget (`step-budget` only, else null).
    pub step_limit: Option<usize>,
}

/// Why a search ended.
#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    /// The whole space (under the bound) was explored.
    Exhausted,
    /// A violation was found.
    Found,
    /// The iteration count ran out.
    IterationLimit,
    /// The wall-clock budget ran out.
    WallBudget,
    /// Ctrl-C.
    Interrupted,
    /// One execution exceeded the step budget.
    StepBudget,
    /// Every model thread was blocked.
    Deadlock,
    /// The model panicked or the checker failed.
    Panicked,
}

/// A violation and the execution that shows it.
#[derive(Debug, Serialize)]
pub struct ViolationJson {
    /// The violation class (a verdict other than `pass`).
    pub verdict: String,
    /// One line.
    pub summary: String,
    /// Further lines.
    pub detail: Vec<String>,
    /// loom bound of the pass that found it (null for shuttle).
    pub bound: Option<u32>,
    /// 1-based execution index within that pass or phase.
    pub execution: u64,
    /// The execution's kernel-function events, in order.
    pub events: Vec<EventJson>,
}

/// One kernel-function event.
#[derive(Debug, Serialize)]
pub struct EventJson {
    /// 1-based position in the execution.
    pub step: usize,
    /// Actor name (`setup` or a scenario thread).
    pub actor: String,
    /// Kernel function.
    pub function: String,
    /// What it did.
    pub what: String,
    /// False for setup events (before the threads start), true after.
    pub after_threads: bool,
}

/// A violation of another class than the expected one.
#[derive(Debug, Serialize)]
pub struct OtherFinding {
    /// Its class.
    pub verdict: String,
    /// Executions that showed it.
    pub executions: u64,
    /// One line.
    pub summary: String,
    /// A replay token for the first execution of that class the search met.
    pub token: Option<String>,
}

fn strategy(s: &Strategy) -> StrategyJson {
    let (kind, pct_depth, seed) = match s {
        Strategy::Loom { .. } => (StrategyKind::Loom, None, None),
        Strategy::PctThenLoom { seed, .. } => (StrategyKind::PctThenLoom, None, Some(*seed)),
        Strategy::LoomReplay { .. } => (StrategyKind::LoomReplay, None, None),
        Strategy::Shuttle { kind, seed, .. } => match kind {
            ShuttleKind::Random => (StrategyKind::Random, None, Some(*seed)),
            ShuttleKind::Pct { depth } => (StrategyKind::Pct, Some(*depth), Some(*seed)),
            ShuttleKind::Dfs => (StrategyKind::Dfs, None, None),
        },
        Strategy::ShuttleReplay { .. } => (StrategyKind::ShuttleReplay, None, None),
        Strategy::Stress { .. } => (StrategyKind::Stress, None, None),
    };
    StrategyJson { kind, pct_depth, seed }
}

fn stop(s: &Stop) -> StopJson {
    let (reason, detail, step_limit) = match s {
        Stop::Exhausted => (StopReason::Exhausted, None, None),
        Stop::Found => (StopReason::Found, None, None),
        Stop::IterationLimit => (StopReason::IterationLimit, None, None),
        Stop::WallBudget => (StopReason::WallBudget, None, None),
        Stop::Interrupted => (StopReason::Interrupted, None, None),
        Stop::StepBudget { limit, detail } => (StopReason::StepBudget, Some(detail.clone()), Some(*limit)),
        Stop::Deadlock { detail } => (StopReason::Deadlock, Some(detail.clone()), None),
        Stop::Panicked(m) => (StopReason::Panicked, Some(m.clone()), None),
    };
    StopJson { reason, detail, step_limit }
}

/// One check as its JSON value.
pub fn check(r: &CheckResult) -> Check<'_> {
    let p = &r.prepared;
    let rep = &r.report;
    let names = &p.actor_names;
    let violation = rep.found.as_ref().map(|f| {
        let v = &f.finding;
        ViolationJson {
            verdict: v.verdict.to_string(),
            summary: v.summary.clone(),
            detail: v.detail.clone(),
            bound: f.bound,
            execution: f.exec,
            events: v
                .events
                .iter()
                .enumerate()
                .map(|(i, e)| EventJson {
                    step: i + 1,
                    actor: names.get(e.actor as usize).cloned().unwrap_or_else(|| format!("actor {}", e.actor)),
                    function: e.func.to_string(),
                    what: describe(&e.what),
                    after_threads: i >= v.events_before_check,
                })
                .collect(),
        }
    });
    Check {
        scenario: &p.scenario.name,
        file: &p.scenario.file,
        preset: &p.preset,
        overrides: &p.overrides,
        expected: r.expected.as_ref().map(|e| e.to_string()),
        got: r.outcome.label(),
        matches: r.matches(),
        note: match &r.outcome {
            Outcome::Incomplete(w) | Outcome::Error(w) => Some(w),
            Outcome::Verdict(_) => None,
        },
        strategy: strategy(&r.strategy),
        stop: stop(&rep.stop),
        executions: rep.executions,
        pct_executions: rep.presearch,
        bound: rep.bound,
        elapsed_ms: rep.elapsed.as_secs_f64() * 1e3,
        token: r.token.as_deref(),
        violation,
        other_findings: r
            .other
            .iter()
            .map(|(v, (n, viol))| OtherFinding {
                verdict: v.to_string(),
                executions: *n,
                summary: viol.summary.clone(),
                token: r.other_tokens.get(v).cloned(),
            })
            .collect(),
        passes: rep
            .passes
            .iter()
            .map(|p| PassJson {
                bound: p.bound,
                executions: p.executions,
                estimated_executions: p.estimate,
                elapsed_ms: p.elapsed.as_secs_f64() * 1e3,
            })
            .collect(),
    }
}

/// A whole run as its JSON value.
pub fn run_value(results: &[CheckResult]) -> Run<'_> {
    Run {
        schema: SCHEMA,
        checks: results.iter().map(check).collect(),
        matched: results.iter().filter(|r| r.matches()).count(),
        total: results.len(),
    }
}

/// A whole run as one line of JSON (with a trailing newline).
pub fn run(results: &[CheckResult]) -> String {
    // Serialising these types cannot fail: every map key is a string and f64 NaN is written as
    // null by serde_json. Fall back to a JSON error object rather than panicking all the same.
    match serde_json::to_string(&run_value(results)) {
        Ok(s) => s + "\n",
        Err(e) => format!("{{\"schema\":\"{SCHEMA}\",\"error\":{}}}\n", serde_json::Value::String(e.to_string())),
    }
}
