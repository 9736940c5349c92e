//! shuttle: PCT, random and DFS with every decision recorded, and exact replay.

use crate::panics::{self, QuietGuard, Ticker};
use crate::{stops, Body, Budget, Exec, Found, ProgressFn, Report, ShuttleKind, Stop};
use iomc_sync::waits::WaitFor;
use iomc_sync::Backend;
use shuttle::scheduler::{
    DfsScheduler, PctScheduler, RandomScheduler, ReplayScheduler, Schedule, Scheduler, Task, TaskId,
    UncontrolledNondeterminismCheckScheduler,
};
use shuttle::{Config, FailurePersistence, MaxSteps, Runner};
use shuttle_engine::scheduler::serialization;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Debug, Default)]
struct Recorded {
    current: Schedule,
    stop: bool,
    /// Why the run was stopped early, if it was.
    cut: Option<Stop>,
}

/// Wraps a scheduler, records its decisions, and ends the run once `stop` is set.
struct Recording<S> {
    inner: S,
    rec: Arc<Mutex<Recorded>>,
    budget: Budget,
    start: Instant,
}

impl<S: Scheduler> Scheduler for Recording<S> {
    fn new_execution(&mut self) -> Option<Schedule> {
        let mut rec = self.rec.lock().unwrap_or_else(|e| e.into_inner());
        if rec.stop {
            return None;
        }
        if let Some(stop) = self.budget.exhausted(self.start) {
            rec.cut = Some(stop);
            return None;
        }
        let s = self.inner.new_execution()?;
        rec.current = Schedule::new(s.seed);
        Some(s)
    }

    fn next_task(&mut self, runnable: &[&Task], current: Option<TaskId>, is_yielding: bool) -> Option<TaskId> {
        let t = self.inner.next_task(runnable, current, is_yielding)?;
        self.rec.lock().unwrap_or_else(|e| e.into_inner()).current.push_task(t);
        Some(t)
    }

    fn next_u64(&mut self) -> u64 {
        self.rec.lock().unwrap_or_else(|e| e.into_inner()).current.push_random();
        self.inner.next_u64()
    }
}

/// Run one empty shuttle execution, so that shuttle installs its process-wide panic hook now
/// (it does so once, on its first execution) and the explorer's quiet hook can go on top of it.
pub(crate) fn install_shuttle_panic_hook() {
    let runner = Runner::new(RandomScheduler::new_from_seed(0, 1), config(&Budget::default()));
    let _ = panic::catch_unwind(AssertUnwindSafe(|| runner.run(|| {})));
}

fn config(budget: &Budget) -> Config {
    let mut c = Config::new();
    c.stack_size = 1 << 20;
    c.failure_persistence = FailurePersistence::None;
    c.max_steps = MaxSteps::FailAfter(budget.steps_per_execution);
    c.max_time = budget.wall;
    c.silence_warnings = true;
    c
}

pub(crate) fn run<F: Send + 'static>(
    kind: ShuttleKind,
    iterations: u64,
    seed: u64,
    budget: Budget,
    body: Body<F>,
    progress: Option<ProgressFn>,
    start: Instant,
) -> Report<F> {
    let iters = iterations as usize;
    let inner: Box<dyn Scheduler + Send> = match kind {
        ShuttleKind::Random => Box::new(RandomScheduler::new_from_seed(seed, iters)),
        ShuttleKind::Pct { depth } => Box::new(PctScheduler::new_from_seed(seed, depth, iters)),
        ShuttleKind::Dfs => Box::new(DfsScheduler::new(Some(iters), false)),
    };
    let rec = Arc::new(Mutex::new(Recorded::default()));
    let found: Arc<Mutex<Option<(F, u64)>>> = Arc::new(Mutex::new(None));
    let count = Arc::new(AtomicU64::new(0));
    let ticker = Arc::new(Mutex::new(Ticker::new(progress, start)));
    let (r, fd, c, b, t) = (rec.clone(), found.clone(), count.clone(), body.clone(), ticker.clone());
    let runner = Runner::new(Recording { inner, rec: rec.clone(), budget, start }, config(&budget));
    let outcome = {
        let _q = QuietGuard::new();
        panic::catch_unwind(AssertUnwindSafe(|| {
            runner.run(move || {
                let index = c.fetch_add(1, Ordering::Relaxed) + 1;
                if let Ok(mut t) = t.lock() {
                    t.tick(index, None, None);
                }
                let exec = Exec { backend: Backend::Shuttle, index, bound: None };
                if let Some(f) = b(&exec) {
                    *fd.lock().unwrap_or_else(|e| e.into_inner()) = Some((f, index));
                    r.lock().unwrap_or_else(|e| e.into_inner()).stop = true;
                }
            })
        }))
    };
    let executions = count.load(Ordering::Relaxed);
    let failed = outcome.err().map(|p| {
        let msg = panics::panic_message(&*p);
        let state = if stops::wants_state(&msg) {
            let schedule = rec.lock().unwrap_or_else(|e| e.into_inner()).current.clone();
            explain(schedule, &budget, &body)
        } else {
            None
        };
        stops::classify(msg, state, &budget, &format!("execution {executions}"))
    });
    let elapsed = start.elapsed();
    if let Some((f, exec)) = found.lock().unwrap_or_else(|e| e.into_inner()).take() {
        let schedule = serialization::serialize_schedule(&rec.lock().unwrap_or_else(|e| e.into_inner()).current);
        let found = Found { finding: f, bound: None, exec, schedule: Some(schedule.replace('\n', "")) };
        return Report {
            found: Some(found),
            executions,
            stop: Stop::Found,
            bound: None,
            elapsed,
            presearch: 0,
            passes: Vec::new(),
        };
    }
    let cut = rec.lock().unwrap_or_else(|e| e.into_inner()).cut.clone();
    let stop = match (failed, cut) {
        (Some(stop), _) | (None, Some(stop)) => stop,
        // shuttle's own `max_time` (the same wall budget) ended the run between executions.
        (None, None) if budget.wall.is_some_and(|w| elapsed > w) => Stop::WallBudget,
        (None, None) if kind == ShuttleKind::Dfs && executions < iterations => Stop::Exhausted,
        (None, None) => Stop::IterationLimit,
    };
    Report { found: None, executions, stop, bound: None, elapsed, presearch: 0, passes: Vec::new() }
}

/// Re-run the failing execution from its recorded `schedule` with the lock state recorded,
/// and return the state it failed in.
fn explain<F: Send + 'static>(schedule: Schedule, budget: &Budget, body: &Body<F>) -> Option<WaitFor> {
    let b = body.clone();
    let runner = Runner::new(ReplayScheduler::new_from_schedule(schedule), config(budget));
    let _ = {
        let _q = QuietGuard::new();
        panic::catch_unwind(AssertUnwindSafe(|| {
            runner.run(move || {
                stops::begin_execution();
                let _ = b(&Exec { backend: Backend::Shuttle, index: 1, bound: None });
            })
        }))
    };
    stops::end_execution()
}

pub(crate) fn replay<F: Send + 'static>(schedule: &str, budget: Budget, body: Body<F>) -> Report<F> {
    let start = Instant::now();
    let report = |found, stop| Report {
        found,
        executions: 1,
        stop,
        bound: None,
        elapsed: start.elapsed(),
        presearch: 0,
        passes: Vec::new(),
    };
    let Some(decoded) = serialization::deserialize_schedule(schedule) else {
        return report(None, Stop::Panicked("replay: the shuttle schedule in the token does not decode".into()));
    };
    let found: Arc<Mutex<Option<F>>> = Arc::new(Mutex::new(None));
    let fd = found.clone();
    let runner = Runner::new(ReplayScheduler::new_from_schedule(decoded), config(&budget));
    let outcome = {
        let _q = QuietGuard::new();
        panic::catch_unwind(AssertUnwindSafe(|| {
            runner.run(move || {
                stops::begin_execution();
                let exec = Exec { backend: Backend::Shuttle, index: 1, bound: None };
                if let Some(f) = body(&exec) {
                    *fd.lock().unwrap_or_else(|e| e.into_inner()) = Some(f);
                }
            })
        }))
    };
    let state = stops::end_execution();
    let failed =
        outcome.err().map(|p| stops::classify(panics::panic_message(&*p), state, &budget, "the replayed execution"));
    if let Some(f) = found.lock().unwrap_or_else(|e| e.into_inner()).take() {
        let found = Found { finding: f, bound: None, exec: 1, schedule: Some(schedule.to_string()) };
        return report(Some(found), Stop::Found);
    }
    match failed {
        Some(stop) => report(None, stop),
        None => report(None, Stop::Panicked("replay: the schedule ran to the end without a violation".into())),
    }
}

/// Run `body` under shuttle's uncontrolled-nondeterminism check: `iterations` random schedules
/// from `seed`, each run twice, the second time checking that every scheduling decision meets
/// the same set of runnable threads. A model whose behaviour depends on anything but the
/// schedule (a clock, a hash-map order, a global counter, an OS thread) fails it. The body's
/// findings are ignored: only determinism is checked.
///
/// Returns the number of executions run (two per schedule), or shuttle's complaint.
pub fn check_uncontrolled_nondeterminism<F: Send + 'static>(
    body: Body<F>,
    iterations: u64,
    seed: u64,
    budget: Budget,
) -> Result<u64, String> {
    panics::install_quiet_hook();
    let iters = usize::try_from(iterations).unwrap_or(usize::MAX);
    let scheduler = UncontrolledNondeterminismCheckScheduler::new(RandomScheduler::new_from_seed(seed, iters));
    let count = Arc::new(AtomicU64::new(0));
    let c = count.clone();
    let runner = Runner::new(scheduler, config(&budget));
    let outcome = {
        let _q = QuietGuard::new();
        panic::catch_unwind(AssertUnwindSafe(|| {
            runner.run(move || {
                let index = c.fetch_add(1, Ordering::Relaxed) + 1;
                let _ = body(&Exec { backend: Backend::Shuttle, index, bound: None });
            })
        }))
    };
    match outcome {
        Ok(_) => Ok(count.load(Ordering::Relaxed)),
        Err(p) => Err(panics::panic_message(&*p)),
    }
}
