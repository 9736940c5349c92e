//! `iomc`: check scenarios, replay a found execution, list scenarios and presets.

use clap::{Parser, Subcommand, ValueEnum};
use iomc_explore::{Budget, Progress, ProgressFn, ShuttleKind, Strategy};
use iomc_harness::{check, default_strategy, preflight, render, token, CheckResult, Outcome, Prepared};
use iomc_models::{Behaviour, PRESETS};
use iomc_scenario::{collect_files, Scenario};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Exit status when every verdict matched its expectation.
const EXIT_OK: u8 = 0;
/// Exit status when a verdict did not match.
const EXIT_MISMATCH: u8 = 1;
/// Exit status for bad input (scenario files, flags, tokens).
const EXIT_BAD_INPUT: u8 = 2;
/// Exit status when a search stopped before concluding (budget, wall clock).
const EXIT_INCOMPLETE: u8 = 3;

#[derive(Parser)]
#[command(
    name = "iomc",
    version,
    about = "Model checker for Linux page-cache / iomap / XFS buffered I/O races"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum BackendArg {
    /// loom bounded DPOR, preemption bound raised 0, 1, … up to --preemption-bound
    Loom,
    /// shuttle PCT (depth 3)
    Pct,
    /// shuttle uniform random
    Random,
    /// shuttle depth-first search (no reduction), capped by --iterations
    Dfs,
    /// real OS threads, --iterations times
    Stress,
}

#[derive(Subcommand)]
enum Cmd {
    /// Check scenario files (or directories of them) against their expectations.
    Check {
        /// Scenario files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Kernel preset(s) to check; default: every preset the scenario's [expect] names.
        #[arg(long = "variant")]
        variants: Vec<String>,
        /// Exploration backend.
        #[arg(long, value_enum, default_value = "loom")]
        backend: BackendArg,
        /// loom: highest preemption bound (default: the scenario's, else 3).
        #[arg(long)]
        preemption_bound: Option<u32>,
        /// shuttle/stress: executions to try (default: the scenario's, else 10000).
        #[arg(long)]
        iterations: Option<u64>,
        /// shuttle: seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Override a knob of the preset: knob=value (repeatable).
        #[arg(long = "set")]
        sets: Vec<String>,
        /// Wall-clock budget per check, in seconds (stopping early is reported as incomplete).
        #[arg(long)]
        time_limit: Option<f64>,
        /// Show every event (locks, lookups) in timelines.
        #[arg(long)]
        trace: bool,
    },
    /// Re-run exactly the execution a token names and print its full trace.
    Replay {
        /// The token printed by `iomc check`.
        token: String,
        /// Show only the major events.
        #[arg(long)]
        brief: bool,
    },
    /// List scenarios (with summary and source) and presets (with their knobs).
    List {
        /// Scenario files or directories.
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
    },
}

fn progress_printer() -> ProgressFn {
    let tty = std::io::stderr().is_terminal();
    Arc::new(move |p: Progress| {
        let secs = p.elapsed.as_secs_f64();
        let rate = p.executions as f64 / secs.max(1e-9);
        let bound = p.bound.map(|b| format!(", loom bound {b}")).unwrap_or_default();
        let line = format!("  ... {} executions, {rate:.0}/s, {secs:.0}s{bound}", p.executions);
        if tty {
            eprint!("\r{line}   ");
        } else {
            eprintln!("{line}");
        }
    })
}

fn load(paths: &[PathBuf]) -> Result<Vec<Scenario>, Vec<String>> {
    let presets = Behaviour::preset_names();
    let files = collect_files(paths).map_err(|e| vec![e])?;
    if files.is_empty() {
        return Err(vec![format!("no *.toml scenario files under {paths:?}")]);
    }
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for f in files {
        match Scenario::load(&f, &presets) {
            Ok(s) => out.push(s),
            Err(e) => errs.push(e.to_string()),
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(errs)
    }
}

#[allow(clippy::too_many_arguments)]
fn cmd_check(
    paths: &[PathBuf],
    variants: &[String],
    backend: BackendArg,
    preemption_bound: Option<u32>,
    iterations: Option<u64>,
    seed: u64,
    sets: &[String],
    time_limit: Option<f64>,
    trace: bool,
) -> u8 {
    let scenarios = match load(paths) {
        Ok(s) => s,
        Err(errs) => {
            for e in errs {
                eprintln!("{e}");
            }
            return EXIT_BAD_INPUT;
        }
    };
    let budget = Budget {
        wall: time_limit.map(Duration::from_secs_f64),
        ..Budget::default()
    };
    let mut status = EXIT_OK;
    let (mut total, mut matched) = (0, 0);
    for s in scenarios {
        let s = Arc::new(s);
        let presets: Vec<String> = if variants.is_empty() {
            s.expect.iter().map(|(p, _, _)| p.clone()).collect()
        } else {
            variants.to_vec()
        };
        for preset in presets {
            let prepared = match Prepared::new(s.clone(), &preset, sets) {
                Ok(p) => Arc::new(p),
                Err(e) => {
                    eprintln!("{}: error: {e}", s.file);
                    return EXIT_BAD_INPUT;
                }
            };
            let iters = iterations.or(s.explore.iterations).unwrap_or(10_000);
            let strategy = match backend {
                BackendArg::Loom => match (default_strategy(&s), preemption_bound) {
                    (Strategy::Loom { min_bound, .. }, Some(b)) => Strategy::Loom {
                        min_bound,
                        max_bound: b,
                    },
                    (st, _) => st,
                },
                BackendArg::Pct => Strategy::Shuttle {
                    kind: ShuttleKind::Pct { depth: 3 },
                    iterations: iters,
                    seed,
                },
                BackendArg::Random => Strategy::Shuttle {
                    kind: ShuttleKind::Random,
                    iterations: iters,
                    seed,
                },
                BackendArg::Dfs => Strategy::Shuttle {
                    kind: ShuttleKind::Dfs,
                    iterations: iters,
                    seed,
                },
                BackendArg::Stress => Strategy::Stress { iterations: iters },
            };
            if let Err(e) = preflight(&prepared, &strategy) {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
            let r: CheckResult = check(prepared, &strategy, budget, Some(progress_printer()));
            if std::io::stderr().is_terminal() {
                eprint!("\r{:60}\r", "");
            }
            print!("{}", render::full_report(&r, trace));
            total += 1;
            if r.matches() {
                matched += 1;
            } else if matches!(r.outcome, Outcome::Incomplete(_)) {
                // A mismatch outranks an incomplete search in the exit status.
                if status == EXIT_OK {
                    status = EXIT_INCOMPLETE;
                }
            } else {
                status = EXIT_MISMATCH;
            }
        }
    }
    println!("{matched} of {total} checks met their expectation");
    status
}

fn cmd_replay(tok: &str, brief: bool) -> u8 {
    let t = match token::decode(tok) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let s = match Scenario::load(&PathBuf::from(&t.file), &Behaviour::preset_names()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    if s.content_hash != t.hash {
        eprintln!(
            "error: {} has changed since the token was made (hash {:016x}, token {:016x}); the schedule may not apply",
            t.file, s.content_hash, t.hash
        );
        return EXIT_BAD_INPUT;
    }
    let p = match Prepared::new(Arc::new(s), &t.preset, &t.overrides) {
        Ok(p) => Arc::new(p),
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let r = check(p, &t.strategy, Budget::default(), None);
    print!("{}", render::full_report(&r, !brief));
    match r.outcome {
        Outcome::Verdict(_) if r.report.found.is_some() => EXIT_OK,
        _ => EXIT_MISMATCH,
    }
}

fn cmd_list(paths: &[PathBuf]) -> u8 {
    let scenarios = match load(paths) {
        Ok(s) => s,
        Err(errs) => {
            for e in errs {
                eprintln!("{e}");
            }
            return EXIT_BAD_INPUT;
        }
    };
    println!("scenarios:");
    for s in &scenarios {
        let exp: Vec<String> = s.expect.iter().map(|(p, v, _)| format!("{p}={v}")).collect();
        println!("  {:<34} {}", s.name, s.summary);
        println!("  {:<34} source: {}; expect: {}", "", s.source, exp.join(", "));
    }
    println!("presets:");
    for p in PRESETS {
        println!("  {:<18} {}", p.name, p.summary);
        let knobs: Vec<String> = p
            .behaviour
            .describe()
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        println!("  {:<18} {}", "", knobs.join(" "));
    }
    EXIT_OK
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_BAD_INPUT } else { EXIT_OK });
        }
    };
    let code = match cli.cmd {
        Cmd::Check {
            paths,
            variants,
            backend,
            preemption_bound,
            iterations,
            seed,
            sets,
            time_limit,
            trace,
        } => cmd_check(
            &paths,
            &variants,
            backend,
            preemption_bound,
            iterations,
            seed,
            &sets,
            time_limit,
            trace,
        ),
        Cmd::Replay { token, brief } => cmd_replay(&token, brief),
        Cmd::List { paths } => cmd_list(&paths),
    };
    ExitCode::from(code)
}
