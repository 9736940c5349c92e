//! Turning a checker's failure panic into a named stop: a deadlock with its wait-for state, a
//! step budget with the state it was hit in, or a plain panic.
//!
//! The wait-for state comes from iomc-sync's per-execution record, which is off during a search
//! (no cost on the common path) and on while the failing execution is replayed to explain it
//! (loom: the same pass up to the same execution index; shuttle: the recorded schedule), and in
//! every explicit replay.

use crate::{Budget, Stop, STEP_BUDGET};
use iomc_sync::waits::{self, WaitFor};

/// Does `msg` say that every thread was blocked? (loom 0.7.3: "deadlock; threads = [...]";
/// shuttle 0.9.9: "deadlock! blocked tasks: [...]", also at teardown.)
fn is_deadlock(msg: &str) -> bool {
    msg.starts_with("deadlock") || msg.contains("deadlock while dropping")
}

/// Does `msg` say that one execution ran past its step budget? (loom: "Model exceeded maximum
/// number of branches"; shuttle: "exceeded max_steps bound N" or "exceeded the step bound (N)".)
fn is_step_budget(msg: &str) -> bool {
    msg.contains("maximum number of branches") || msg.contains("max_steps bound") || msg.contains("the step bound")
}

/// Start recording the lock state of the execution about to run (on this OS thread, where
/// loom and shuttle run every model thread of it).
pub(crate) fn begin_execution() {
    waits::begin_execution();
}

/// Stop recording, and return the lock state the last execution left (to classify a failure).
pub(crate) fn end_execution() -> Option<WaitFor> {
    waits::end_execution()
}

/// Would the report for this failure name threads and locks? Searches run without recording
/// (it would cost every lock operation of every execution something); when one of them ends in
/// such a failure, the explorer replays the failing execution with recording on to explain it.
pub(crate) fn wants_state(msg: &str) -> bool {
    is_deadlock(msg) || is_step_budget(msg)
}

/// Classify the panic message `msg` that ended the execution `at` ("execution 3 at loom bound
/// 1"), given the lock state that execution left.
pub(crate) fn classify(msg: String, state: Option<WaitFor>, budget: &Budget, at: &str) -> Stop {
    let state = state.filter(|w| !w.is_empty());
    if is_deadlock(&msg) {
        let detail = match state {
            Some(w) if w.blocked().next().is_some() => {
                format!("every thread is blocked in {at}: {w}")
            }
            // A model that does not go through iomc-sync's locks: the checker's own words.
            _ => format!("every thread is blocked in {at} ({msg})"),
        };
        return Stop::Deadlock { detail };
    }
    if is_step_budget(&msg) {
        let limit = budget.steps_per_execution;
        let then = match state {
            Some(w) => format!("; at that point {w}"),
            None => String::new(),
        };
        let detail = format!(
            "{at} ran past the step budget `{STEP_BUDGET}` ({limit} scheduling points): a \
             thread spinning without progress (livelock) or a runaway model{then}"
        );
        return Stop::StepBudget { limit, detail };
    }
    Stop::Panicked(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_of_both_checkers_are_recognised() {
        assert!(is_deadlock("deadlock; threads = [(Id(0), Blocked)]"));
        assert!(is_deadlock("deadlock! blocked tasks: [main-thread (task 0)]"));
        assert!(!is_deadlock("assertion failed: x"));
        assert!(is_step_budget("Model exceeded maximum number of branches. This is often caused by ..."));
        assert!(is_step_budget("exceeded max_steps bound 200. this might be caused by an unfair schedule"));
        assert!(!is_step_budget("index out of bounds"));
        let b = Budget { steps_per_execution: 7, ..Budget::default() };
        match classify("exceeded max_steps bound 7".into(), None, &b, "execution 3") {
            Stop::StepBudget { limit: 7, detail } => {
                assert!(detail.contains("execution 3") && detail.contains(STEP_BUDGET), "{detail}")
            }
            other => panic!("{other:?}"),
        }
        match classify("deadlock; threads = []".into(), None, &b, "execution 1") {
            Stop::Deadlock { detail } => assert!(detail.contains("deadlock; threads"), "{detail}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(classify("boom".into(), None, &b, "execution 1"), Stop::Panicked("boom".into()));
    }
}
