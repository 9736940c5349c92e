//! Quiet unwinding: how a run stops a checker early without printing a panic.

use crate::{Progress, ProgressFn};
use std::any::Any;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;
use std::time::{Duration, Instant};

/// Payload used to unwind out of a checker when the run must stop (a violation was found,
/// the replay target was reached, or the wall-clock budget ran out).
#[derive(Debug)]
pub(crate) struct StopExploring;

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Install (once per process) a panic hook that stays silent while a run is exploring on this
/// OS thread, and otherwise behaves like the hook it replaces.
///
/// shuttle installs a hook of its own on its first execution, which prints "test panicked in
/// task ..." for every panic in the process (a loom run's early stop on another thread
/// included); it is installed first here so that the quiet hook sits on top of it.
pub(crate) fn install_quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        crate::shuttle_run::install_shuttle_panic_hook();
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.with(|q| q.get()) {
                default(info);
            }
        }));
    });
}

/// Mark this OS thread as exploring (panics are not printed) for the guard's lifetime.
pub(crate) struct QuietGuard(bool);

impl QuietGuard {
    pub(crate) fn new() -> QuietGuard {
        QuietGuard(QUIET.with(|q| q.replace(true)))
    }
}

impl Drop for QuietGuard {
    fn drop(&mut self) {
        let old = self.0;
        QUIET.with(|q| q.set(old));
    }
}

/// Run `f` with panics silenced; a panic comes back as its message.
pub(crate) fn quietly<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    let _q = QuietGuard::new();
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|p| panic_message(&*p))
}

/// The text of a panic payload.
pub fn panic_message(p: &(dyn Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else if p.is::<StopExploring>() {
        "stop".to_string()
    } else {
        "panic with a non-text payload".to_string()
    }
}

/// Mark a model thread (e.g. a stress OS thread) quiet.
pub fn quiet_this_thread() {
    QUIET.with(|q| q.set(true));
}

/// Calls the progress callback about once a second.
pub(crate) struct Ticker {
    progress: Option<ProgressFn>,
    start: Instant,
    next: Duration,
    estimate: Option<crate::estimate::Estimate>,
}

impl Ticker {
    pub(crate) fn new(progress: Option<ProgressFn>, start: Instant) -> Ticker {
        Ticker { progress, start, next: Duration::from_secs(1), estimate: None }
    }

    pub(crate) fn tick(&mut self, executions: u64, bound: Option<u32>, pass_executions: Option<u64>) {
        // Checking the clock every 256 executions keeps the cost negligible.
        if self.progress.is_none() || !executions.is_multiple_of(256) {
            return;
        }
        let elapsed = self.start.elapsed();
        if elapsed >= self.next {
            self.next = elapsed + Duration::from_secs(1);
            if let Some(p) = &self.progress {
                p(Progress { executions, elapsed, bound, pass_executions, estimate: self.estimate });
            }
        }
    }

    /// A loom pass starts at `bound` with this estimate: say so now (not at the next tick), so
    /// the size of a long pass is known before it runs.
    pub(crate) fn pass_starts(&mut self, executions: u64, bound: u32, estimate: Option<crate::estimate::Estimate>) {
        self.estimate = estimate;
        if let (Some(p), Some(_)) = (&self.progress, estimate) {
            p(Progress {
                executions,
                elapsed: self.start.elapsed(),
                bound: Some(bound),
                pass_executions: Some(0),
                estimate,
            });
        }
    }
}
