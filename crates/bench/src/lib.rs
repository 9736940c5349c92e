//! # iomc-bench: the performance benchmark
//!
//! One run (`cargo run --release -p iomc-bench -- [--quick] [--out docs/performance.md]`)
//! measures, per scenario × preset × strategy, through the public harness API:
//!
//! 1. the default strategy (what `iomc check` runs: PCT, then loom): executions, time,
//!    executions per second;
//! 2. time to the first violation on linux-6.1: the default strategy, PCT and random over many
//!    seeds (median, spread), loom alone (repeated), and `stress` on OS threads, with the
//!    slowdown;
//! 3. exhaustive loom at each preemption bound on linux-6.2 and every other passing preset,
//!    next to the default strategy's pass;
//! 4. loom against shuttle's DFS on the same exhaustive check;
//! 5. one core against both cores (concurrent shuttle searches);
//! 6. peak memory per scenario, from a child process's VmHWM;
//! 7. the cost of one execution under loom, shuttle and OS threads;
//! 8. the harness overhead (oracle, recording) against the bare model.
//!
//! Each measurement is a module of [`sections`] (its run, its result types, its table);
//! [`measure::run_all`] runs them and [`report::markdown`] prints the tables with the machine
//! described, and checks each figure against the performance targets. Timings are never asserted in tests.

/// The `tracing` filter when RUST_LOG is unset: this crate's progress events (info), and only
/// warnings from the rest (shuttle logs an info event per run, loom a debug one per step).
pub const DEFAULT_LOG: &str = "warn,iomc_bench=info";

pub mod child;
pub mod machine;
pub mod measure;
pub mod report;
pub mod sections;
pub mod stats;

/// Diagnostics to stderr as `tracing` events, filtered by RUST_LOG (default [`DEFAULT_LOG`]:
/// the bench's info events; loom's and shuttle's own, one per execution, only from warnings up).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .init();
}
