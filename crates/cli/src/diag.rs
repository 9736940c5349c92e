//! The tool's own diagnostics: `tracing` events and spans, written to stderr.
//!
//! What is shown: `RUST_LOG` when it is set (an `EnvFilter` directive list, e.g. `debug` or
//! `iomc_explore=debug`; one that does not parse is bad input), else `-v` (debug: a span per
//! check, phase and loom bound, and an event when each ends with its executions, rate and why
//! it stopped), `-vv` (trace), `-q` (errors only, and no progress lines), or by default
//! warnings and notes, printed as `warning: ...` and `note: ...` as before.
//!
//! loom and shuttle trace every scheduling step of every execution through `tracing` (spans per
//! iteration, thread and step, an event per context switch): their targets stay off unless
//! `RUST_LOG` names them (`RUST_LOG=debug,loom=trace`), so a debug run costs the search nothing
//! per execution.
//!
//! The model's event recorder (the race diagram's timeline, which the oracle reads) is data,
//! not logging, and does not go through here.

use crate::out;
use indicatif::{ProgressBar, ProgressStyle};
use iomc_explore::{Progress, ProgressFn};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// The variable that chooses what is shown, overriding `-v` and `-q`.
pub const RUST_LOG: &str = "RUST_LOG";

/// Targets of the checkers' per-step tracing, off unless `RUST_LOG` names them (a prefix
/// matches: `shuttle` covers `shuttle_engine`).
const CHECKERS: &[&str] = &["loom", "shuttle", "generator"];

static QUIET: AtomicBool = AtomicBool::new(false);

/// The spinner being drawn, if any: diagnostics are written with it suspended, so a line
/// never lands in the middle of it.
static SPINNER: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Was `-q` given? (No progress lines then.)
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// `tracing` output through [`out::stderr`] (quiet once stdout is closed).
struct Stderr;

impl std::io::Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let spinner = SPINNER.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match spinner {
            Some(bar) if !bar.is_finished() => bar.suspend(|| out::stderr(&text)),
            _ => out::stderr(&text),
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The default format: `warning: ...`, `note: ...`, as iomc printed them before tracing.
struct Plain;

impl<S, N> FormatEvent<S, N> for Plain
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut w: Writer<'_>, event: &Event<'_>) -> std::fmt::Result {
        let word = match *event.metadata().level() {
            Level::ERROR => "error",
            Level::WARN => "warning",
            Level::INFO => "note",
            Level::DEBUG => "debug",
            Level::TRACE => "trace",
        };
        write!(w, "{word}: ")?;
        ctx.field_format().format_fields(w.by_ref(), event)?;
        writeln!(w)
    }
}

/// The filter `RUST_LOG` asks for, with the checkers' targets off unless it names them; `None`
/// when it is unset or empty.
fn from_env() -> Result<Option<EnvFilter>, String> {
    let Some(raw) = std::env::var_os(RUST_LOG) else { return Ok(None) };
    let Some(v) = raw.to_str() else {
        return Err(format!(
            "environment variable {RUST_LOG} is not valid UTF-8; unset it or set e.g. {RUST_LOG}=debug"
        ));
    };
    if v.trim().is_empty() {
        return Ok(None);
    }
    let mut filter = EnvFilter::builder().parse(v).map_err(|e| {
        format!(
            "environment variable {RUST_LOG}={v:?} is not a valid filter ({e}); unset it or set e.g. \
             {RUST_LOG}=debug or {RUST_LOG}=iomc_explore=debug"
        )
    })?;
    for t in CHECKERS.iter().filter(|t| !v.contains(*t)) {
        filter = filter.add_directive(format!("{t}=off").parse().map_err(|e| format!("{t}=off: {e}"))?);
    }
    Ok(Some(filter))
}

/// The filter for `-v` (count) and `-q`.
fn from_flags(verbose: u8, quiet: bool) -> Result<EnvFilter, String> {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let others = if quiet { "error" } else { "warn" };
    let checkers: Vec<String> = CHECKERS.iter().map(|t| format!("{t}=off")).collect();
    let spec = format!("{others},iomc={level},{}", checkers.join(","));
    EnvFilter::builder().parse(&spec).map_err(|e| format!("diagnostics filter {spec:?}: {e}"))
}

/// Set up diagnostics for the run: `RUST_LOG` if set (an invalid one is an error naming it),
/// else `-v`/`-q`.
pub fn init(verbose: u8, quiet: bool) -> Result<(), String> {
    QUIET.store(quiet, Ordering::Relaxed);
    let (filter, detailed) = match from_env()? {
        Some(f) => (f, true),
        None => (from_flags(verbose, quiet)?, verbose > 0 && !quiet),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(|| Stderr);
    // Already set (only in tests that call this twice): keep the first.
    let _ = if detailed {
        builder
            .with_timer(tracing_subscriber::fmt::time::uptime())
            .with_ansi(std::io::stderr().is_terminal())
            .try_init()
    } else {
        builder.event_format(Plain).try_init()
    };
    Ok(())
}

/// Progress for long runs: a spinner on a terminal, a plain line every second otherwise.
pub fn progress(label: &str) -> (ProgressFn, Option<ProgressBar>) {
    if quiet() {
        return (Arc::new(|_: Progress| {}), None);
    }
    let label = label.to_string();
    if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        *SPINNER.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar.clone());
        let b = bar.clone();
        let f: ProgressFn = Arc::new(move |p: Progress| b.set_message(progress_text(&label, &p)));
        (f, Some(bar))
    } else {
        (Arc::new(move |p: Progress| errln!("{}", progress_text(&label, &p))), None)
    }
}

fn progress_text(label: &str, p: &Progress) -> String {
    let secs = p.elapsed.as_secs_f64();
    let rate = p.executions as f64 / secs.max(1e-9);
    // The loom pass: how far into it, and its estimated size, known before it runs
    // (iomc_explore::estimate).
    let estimate = p.estimate.map(|e| {
        let t = e.time.as_secs_f64();
        let t = if t < 1.0 { "<1s".to_string() } else { format!("{t:.0}s") };
        format!(" of ~{} (~{t})", iomc_explore::estimate::approx(e.executions))
    });
    let bound = match (p.bound, p.pass_executions) {
        (Some(b), Some(n)) => format!(", loom bound {b}: {n}{}", estimate.unwrap_or_default()),
        (Some(b), None) => format!(", loom bound {b}"),
        _ => String::new(),
    };
    format!("{label}: {} executions, {rate:.0}/s, {secs:.0}s{bound}", p.executions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_filters_parse() {
        for (v, q) in [(0, false), (1, false), (2, false), (5, false), (0, true)] {
            assert!(from_flags(v, q).is_ok(), "{v} {q}");
        }
    }
}
