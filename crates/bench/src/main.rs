//! `iomc-bench`: run the whole benchmark and print (and optionally write) the markdown report.

use clap::{Parser, Subcommand};
use iomc_bench::measure::{self, Config};
use iomc_bench::{child, machine, report};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use tracing::{error, info, warn};

/// Measures every shipped scenario (executions, time to the first violation per strategy,
/// exhaustive loom per bound, loom vs shuttle DFS, one core vs two, peak memory, cost per
/// execution), prints a markdown report, and with --out puts it into FILE between the
/// iomc-bench markers (keeping the rest of the file). Progress goes to stderr as `tracing`
/// events (RUST_LOG; default: the bench's info events, other crates' warnings).
#[derive(Debug, Parser)]
#[command(name = "iomc-bench", args_conflicts_with_subcommands = true)]
struct Cli {
    /// Smoke run: 5 seeds, 2 repeats, short caps, no bound 3 (under a minute).
    #[arg(long)]
    quick: bool,
    /// Write the report into FILE (e.g. docs/performance.md).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Scenario file or directory (repeatable; default: scenarios/ of the workspace).
    #[arg(long, value_name = "PATH")]
    scenarios: Vec<PathBuf>,
    /// Only this scenario (repeatable).
    #[arg(long, value_name = "NAME")]
    only: Vec<String>,
    /// Seeds per randomized strategy (default 20, quick 5).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    seeds: Option<u64>,
    /// Stress cap per scenario (default 60 for lore on linux-6.1, 15 others).
    #[arg(long, value_name = "S", value_parser = parse_secs)]
    stress_secs: Option<Duration>,
    /// Wall time of each one-core / two-core run (default 3, quick 1).
    #[arg(long, value_name = "S", value_parser = parse_secs)]
    portfolio_secs: Option<Duration>,
    /// Cap every wall-clock limit at S seconds (smoke tests).
    #[arg(long, value_name = "S", value_parser = parse_secs)]
    cap_secs: Option<Duration>,
    #[command(subcommand)]
    child: Option<Hidden>,
}

#[derive(Debug, Subcommand)]
enum Hidden {
    /// The memory child: reads a JSON request on stdin, writes a JSON report on stdout.
    #[command(name = child::SUBCOMMAND, hide = true)]
    Child,
}

/// Seconds: a finite number more than 0 and at most a day.
fn parse_secs(v: &str) -> Result<Duration, String> {
    let s: f64 = v.parse().map_err(|_| format!("not a number of seconds: {v:?}"))?;
    if !(s.is_finite() && s > 0.0 && s <= 86_400.0) {
        return Err(format!("must be more than 0 and at most 86400 seconds, got {v:?}"));
    }
    Duration::try_from_secs_f64(s).map_err(|e| format!("{v:?}: {e}"))
}

/// The workspace root: the nearest ancestor of the current directory with a Cargo.lock,
/// else the one this crate was built in.
fn workspace_root() -> PathBuf {
    if let Ok(cwd) = std::env::current_dir() {
        if let Some(d) = cwd.ancestors().find(|d| d.join("Cargo.lock").is_file() && d.join("scenarios").is_dir()) {
            return d.to_path_buf();
        }
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn config(cli: &Cli) -> Result<Config, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let root = workspace_root();
    let mut scenarios = cli.scenarios.clone();
    if scenarios.is_empty() {
        scenarios.push(root.join("scenarios"));
    }
    let mut cfg = if cli.quick { Config::quick(scenarios, exe) } else { Config::full(scenarios, exe) };
    cfg.only = cli.only.clone();
    let extra = root.join("crates/bench/scenarios");
    cfg.extra = vec![if extra.is_dir() { extra } else { Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios") }];
    if let Some(n) = cli.seeds {
        cfg.seeds = n;
    }
    if let Some(s) = cli.stress_secs {
        cfg.stress_wall_lore = s;
        cfg.stress_wall_other = s;
    }
    if let Some(p) = cli.portfolio_secs {
        cfg.portfolio_wall = p;
    }
    if let Some(c) = cli.cap_secs {
        cfg.cap_walls(c);
    }
    Ok(cfg)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    iomc_bench::init_tracing();
    if cli.child.is_some() {
        return match child::child_main() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                error!("{e}");
                ExitCode::from(1)
            }
        };
    }
    let cfg = match config(&cli) {
        Ok(c) => c,
        Err(e) => {
            error!("{e}");
            return ExitCode::from(2);
        }
    };
    let command: String = std::iter::once("cargo run --release -p iomc-bench --".to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    if cfg!(debug_assertions) {
        warn!("a debug build; run with --release for figures worth writing down");
    }
    let results = match measure::run_all(&cfg) {
        Ok(r) => r,
        Err(e) => {
            error!("{e}");
            return ExitCode::from(1);
        }
    };
    let m = machine::describe(&workspace_root());
    let md = report::markdown(&m, &cfg, &results, &command);
    println!("{md}");
    if let Some(out) = &cli.out {
        let existing = match std::fs::read_to_string(out) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                error!("cannot read {} to splice the report into it: {e}", out.display());
                return ExitCode::from(1);
            }
        };
        if let Err(e) = iomc_harness::atomic::write_atomically(out, report::splice(&existing, &md).as_bytes()) {
            error!("cannot write {}: {e}", out.display());
            return ExitCode::from(1);
        }
        info!("wrote {}", out.display());
    }
    ExitCode::SUCCESS
}
