//! Table 8 alone (harness overhead), for working on the oracle without the 9-minute run:
//! `cargo run --release -p iomc-bench --example overhead [-- --quick]`.

use iomc_bench::measure::{self, Config};
use iomc_explore::{ShuttleKind, Strategy};
use std::path::Path;

fn main() -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let quick = std::env::args().any(|a| a == "--quick");
    let scen = vec![root.join("scenarios")];
    let cfg = if quick { Config::quick(scen, exe) } else { Config::full(scen, exe) };
    let scenarios = measure::load(&cfg)?;
    // Progress as `tracing` events on stderr, as iomc-bench prints it.
    iomc_bench::init_tracing();
    for (label, strategy) in [
        ("loom", Strategy::Loom { min_bound: 2, max_bound: 2 }),
        ("shuttle", Strategy::Shuttle { kind: ShuttleKind::Random, iterations: cfg.overhead_iterations, seed: 1 }),
    ] {
        let rows = iomc_bench::sections::overhead::overhead(&cfg, &scenarios, &strategy, label)?;
        let (mut full, mut off, mut n) = (0.0, 0.0, 0);
        for o in &rows {
            full += o.modes[0].secs;
            off += o.modes[2].secs;
            n += o.modes[0].executions;
        }
        println!(
            "{label}: {n} executions, full {:.1} µs/exec, off {:.1} µs/exec, overhead {:.0}%",
            full * 1e6 / n as f64,
            off * 1e6 / n as f64,
            (full - off) / full * 100.0
        );
    }
    Ok(())
}
