//! loom: iterative preemption bounds over `loom::model::Builder::check`.

use crate::estimate::{self, PassCount};
use crate::panics::{self, QuietGuard, StopExploring, Ticker};
use crate::{phases, stops, Body, Budget, Exec, Found, Pass, ProgressFn, Report, Stop};
use iomc_sync::waits::WaitFor;
use iomc_sync::Backend;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Why the body unwound out of loom.
enum Halt<F> {
    Found(F, u64),
    ReplayMissed(u64),
    Budget(Stop),
}

/// Run bounds `lo..=hi`; with `target`, stop at that execution of the (single) pass, recording
/// its lock state. Each pass has a span under `phase` and a debug event when it ends.
#[allow(clippy::too_many_arguments)] // the strategy's fields, the run's settings, the span
pub(crate) fn run_bounds<F: Send + 'static>(
    lo: u32,
    hi: u32,
    target: Option<u64>,
    budget: Budget,
    body: Body<F>,
    progress: Option<ProgressFn>,
    start: Instant,
    phase: &tracing::Span,
) -> Report<F> {
    let mut total = 0u64;
    let ticker = Arc::new(Mutex::new(Ticker::new(progress, start)));
    let mut passes: Vec<Pass> = Vec::new();
    for bound in lo..=hi {
        let span = phases::bound_span(phase, bound);
        let history: Vec<PassCount> =
            passes.iter().map(|p| PassCount { bound: p.bound, executions: p.executions, elapsed: p.elapsed }).collect();
        let estimate = estimate::next_pass(&history).filter(|e| e.bound == bound);
        if let Some(e) = estimate {
            phases::estimated(&span, &e);
        }
        if let Ok(mut t) = ticker.lock() {
            t.pass_starts(total, bound, estimate);
        }
        let pass_start = Instant::now();
        let count = Arc::new(AtomicU64::new(0));
        let halt: Arc<Mutex<Option<Halt<F>>>> = Arc::new(Mutex::new(None));
        let (c, h, b, t) = (count.clone(), halt.clone(), body.clone(), ticker.clone());
        let run = move || {
            let index = c.fetch_add(1, Ordering::Relaxed) + 1;
            if let Ok(mut t) = t.lock() {
                t.tick(total + index, Some(bound), Some(index));
            }
            if let Some(stop) = budget.exhausted(start) {
                *h.lock().unwrap_or_else(|e| e.into_inner()) = Some(Halt::Budget(stop));
                panic::panic_any(StopExploring);
            }
            if target == Some(index) {
                stops::begin_execution();
            }
            let exec = Exec { backend: Backend::Loom, index, bound: Some(bound) };
            let result = b(&exec);
            let stop = match (result, target) {
                (Some(f), _) => Some(Halt::Found(f, index)),
                (None, Some(t)) if t == index => Some(Halt::ReplayMissed(index)),
                _ => None,
            };
            if let Some(s) = stop {
                *h.lock().unwrap_or_else(|e| e.into_inner()) = Some(s);
                panic::panic_any(StopExploring);
            }
        };
        let builder = match loom_builder(bound, &budget) {
            Ok(b) => b,
            Err(e) => {
                return Report {
                    found: None,
                    executions: total,
                    stop: Stop::Panicked(e),
                    bound: Some(bound),
                    elapsed: start.elapsed(),
                    presearch: 0,
                    passes: Vec::new(),
                }
            }
        };
        let outcome = {
            let _q = QuietGuard::new();
            panic::catch_unwind(AssertUnwindSafe(|| builder.check(run)))
        };
        let state = stops::end_execution();
        let halted = halt.lock().unwrap_or_else(|e| e.into_inner()).take();
        let mut ran = count.load(Ordering::Relaxed);
        if matches!(halted, Some(Halt::Budget(_))) {
            ran -= 1; // the execution that noticed the budget did not run
        }
        total += ran;
        passes.push(Pass {
            bound,
            executions: ran,
            elapsed: pass_start.elapsed(),
            estimate: estimate.map(|e| e.executions),
        });
        let report = |found, stop| Report {
            found,
            executions: total,
            stop,
            bound: Some(bound),
            elapsed: start.elapsed(),
            presearch: 0,
            passes: passes.clone(),
        };
        let ended = match (outcome, halted) {
            (_, Some(Halt::Found(f, exec))) => {
                let found = Found { finding: f, bound: Some(bound), exec, schedule: None };
                Some(report(Some(found), Stop::Found))
            }
            (_, Some(Halt::ReplayMissed(i))) => {
                Some(report(None, Stop::Panicked(format!("replay: execution {i} at bound {bound} found no violation"))))
            }
            (_, Some(Halt::Budget(stop))) => Some(report(None, stop)),
            (Err(p), None) => {
                let msg = panics::panic_message(&*p);
                let state = match state {
                    None if target.is_none() && stops::wants_state(&msg) => explain(bound, ran, &budget, &body),
                    state => state,
                };
                let at = format!("execution {ran} at loom bound {bound}");
                Some(report(None, stops::classify(msg, state, &budget, &at)))
            }
            (Ok(()), None) if target.is_some() => {
                Some(report(None, Stop::Panicked(format!("replay: bound {bound} has fewer executions"))))
            }
            (Ok(()), None) => None,
        };
        let stop = ended.as_ref().map_or(&Stop::Exhausted, |r| &r.stop);
        phases::ended(&span, "bound", ran, pass_start.elapsed(), stop);
        if let Some(r) = ended {
            return r;
        }
    }
    Report {
        found: None,
        executions: total,
        stop: Stop::Exhausted,
        bound: Some(hi),
        elapsed: start.elapsed(),
        presearch: 0,
        passes,
    }
}

/// Re-run the pass at `bound` up to execution `exec`, which failed, with the lock state
/// recorded for that execution only, and return the state it failed in. loom's search is
/// deterministic, so the replay fails the same way.
fn explain<F: Send + 'static>(bound: u32, exec: u64, budget: &Budget, body: &Body<F>) -> Option<WaitFor> {
    let builder = loom_builder(bound, budget).ok()?;
    let count = Arc::new(AtomicU64::new(0));
    let (c, b) = (count.clone(), body.clone());
    let run = move || {
        let index = c.fetch_add(1, Ordering::Relaxed) + 1;
        if index > exec {
            panic::panic_any(StopExploring);
        }
        if index == exec {
            stops::begin_execution();
        }
        let _ = b(&Exec { backend: Backend::Loom, index, bound: Some(bound) });
        if index == exec {
            // It did not fail this time: nothing to explain (and nothing recorded is kept).
            stops::end_execution();
            panic::panic_any(StopExploring);
        }
    };
    let _ = {
        let _q = QuietGuard::new();
        panic::catch_unwind(AssertUnwindSafe(|| builder.check(run)))
    };
    stops::end_execution()
}

/// The loom builder every pass uses, at preemption bound `bound`.
///
/// Everything that could stop loom early *silently* is off: `max_permutations` and
/// `max_duration` are `None` (loom checks them every `checkpoint_interval` executions and then
/// returns from `check` as if the space were exhausted, which would make a cut search read as
/// a pass), and so is the checkpoint file (a stale one resumes a later run). The budgets iomc
/// does use are checked by the explorer itself and reported by name. The `LOOM_*` environment
/// variables for these settings are overridden (`LOOM_LOG` and `LOOM_LOCATION`, debugging aids,
/// are left alone); an unparsable one (loom's `Builder::new` panics on it) is an error naming it.
pub fn loom_builder(bound: u32, budget: &Budget) -> Result<loom::model::Builder, String> {
    let mut builder = panics::quietly(loom::model::Builder::new)
        .map_err(|m| format!("loom refused its environment (unset or fix the LOOM_* variable): {m}"))?;
    builder.preemption_bound = Some(usize::try_from(bound).unwrap_or(usize::MAX));
    builder.max_branches = budget.steps_per_execution;
    builder.checkpoint_file = None;
    builder.max_permutations = None;
    builder.max_duration = None;
    // loom's default; `LOOM_CHECKPOINT_INTERVAL=0` would divide by zero inside `check`.
    builder.checkpoint_interval = 20_000;
    builder.expect_explicit_explore = false;
    Ok(builder)
}
