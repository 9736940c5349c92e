//! The explorer's own diagnostics: a `tracing` span per phase (PCT, random, DFS, loom, stress,
//! a replay) and per loom preemption bound, and a debug event when each ends with its
//! executions, elapsed time, rate and why it stopped.
//!
//! Nothing here runs inside an execution: spans are created and their events emitted between
//! the checkers' runs, and no span is entered while loom or shuttle runs the model (shuttle
//! re-enters the caller's current span on every scheduling step, and a model's behaviour must
//! not depend on anything but its schedule). Events name their span as an explicit parent.

use crate::{Report, Stop};
use std::time::{Duration, Instant};
use tracing::Span;

/// Executions per second, as `1234/s`.
struct Rate(u64, Duration);

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.1.as_secs_f64().max(1e-9);
        write!(f, "{:.0}/s", self.0 as f64 / secs)
    }
}

/// A duration rounded for reading (`12.35ms`).
struct Elapsed(Duration);

impl std::fmt::Display for Elapsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.2?}", self.0)
    }
}

/// The span of one phase, `phase{kind=pct}`, under `parent`.
pub(crate) fn phase_span(parent: &Span, kind: &'static str) -> Span {
    tracing::debug_span!(parent: parent, "phase", kind = %kind)
}

/// The span of one loom pass, `bound{bound=2}`, under its phase's span.
pub(crate) fn bound_span(phase: &Span, bound: u32) -> Span {
    tracing::debug_span!(parent: phase, "bound", bound)
}

/// The debug event that starts a loom pass with its estimated size.
pub(crate) fn estimated(span: &Span, e: &crate::estimate::Estimate) {
    tracing::debug!(
        parent: span,
        estimated_executions = e.executions,
        estimated_time = %Elapsed(e.time),
        "bound start"
    );
}

/// The debug event that ends a phase or a bound: what it ran and why it stopped.
pub(crate) fn ended(span: &Span, what: &'static str, executions: u64, elapsed: Duration, stop: &Stop) {
    tracing::debug!(
        parent: span,
        executions,
        elapsed = %Elapsed(elapsed),
        rate = %Rate(executions, elapsed),
        stop = %stop.label(),
        "{what} end"
    );
}

/// Run one phase `kind` under `parent`: its span, a start event, and the end event from its report.
pub(crate) fn phase<F>(parent: &Span, kind: &'static str, run: impl FnOnce(&Span) -> Report<F>) -> Report<F> {
    let span = phase_span(parent, kind);
    tracing::debug!(parent: &span, "phase start");
    let start = Instant::now();
    let report = run(&span);
    ended(&span, "phase", report.executions, start.elapsed(), &report.stop);
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_durations_read_plainly() {
        assert_eq!(Rate(500, Duration::from_millis(250)).to_string(), "2000/s");
        assert_eq!(Rate(0, Duration::ZERO).to_string(), "0/s");
        assert_eq!(Elapsed(Duration::from_micros(12_346)).to_string(), "12.35ms");
    }
}
