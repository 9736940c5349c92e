//! `iomc`: check scenarios, run the CI matrix, replay a found execution, list scenarios and
//! presets. See the README for the commands and exit statuses.

use clap::Parser;
use iomc_harness::fuzz;

#[macro_use]
mod out;
mod args;
mod checks;
mod commands;
mod conform;
mod diag;
mod files;
mod shard;
use args::{Cli, Cmd};
use checks::{cmd_check, cmd_matrix};
use commands::{cmd_conform, cmd_fuzz, cmd_list, cmd_mutants, cmd_replay};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// Exit status when every verdict matched its expectation.
const EXIT_OK: u8 = 0;
/// Exit status when a verdict did not match (or a replay did not reproduce).
const EXIT_MISMATCH: u8 = 1;
/// Exit status for bad input (scenario files, flags, tokens).
const EXIT_BAD_INPUT: u8 = 2;
/// Exit status when a search stopped before concluding (time limit, step budget, DFS cap, Ctrl-C).
const EXIT_INCOMPLETE: u8 = 3;

/// Set by the Ctrl-C handler; every exploration checks it before its next execution.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The environment variables the checkers read, and what each must parse as. loom's
/// `Builder::new` and shuttle's seeded schedulers panic on a value that does not parse; iomc
/// overrides loom's settings afterwards (see `iomc_explore::loom_builder`), but they must still
/// parse. `SHUTTLE_RANDOM_SEED` replaces every shuttle seed (`--seed`).
const CHECKED_ENV: &[(&str, &str)] = &[
    ("LOOM_CHECKPOINT_INTERVAL", "usize"),
    ("LOOM_MAX_BRANCHES", "usize"),
    ("LOOM_MAX_DURATION", "u64"),
    ("LOOM_MAX_PERMUTATIONS", "usize"),
    ("LOOM_MAX_PREEMPTIONS", "usize"),
    ("SHUTTLE_RANDOM_SEED", "u64"),
];

/// Check [`CHECKED_ENV`]: a value that is not a whole number in range (or not UTF-8) is bad input.
fn check_env() -> Result<(), String> {
    for (name, ty) in CHECKED_ENV {
        let Some(raw) = std::env::var_os(name) else { continue };
        let Some(v) = raw.to_str() else {
            return Err(format!("environment variable {name} is not valid UTF-8; unset it or set a whole number"));
        };
        let ok = match *ty {
            "usize" => v.parse::<usize>().is_ok(),
            _ => v.parse::<u64>().is_ok(),
        };
        if !ok {
            return Err(format!(
                "environment variable {name}={v:?} is not a whole number from 0 to {}; unset it or fix it",
                if *ty == "usize" { usize::MAX as u64 } else { u64::MAX }
            ));
        }
    }
    if let Ok(seed) = std::env::var("SHUTTLE_RANDOM_SEED") {
        tracing::info!("SHUTTLE_RANDOM_SEED={seed} replaces every shuttle seed (--seed and the shards' seeds)");
    }
    Ok(())
}

fn main() -> ExitCode {
    let code = run();
    if out::stdout_closed() {
        // The reader went away (`iomc ... | head -1`): end quietly, as a Unix tool does.
        return ExitCode::from(out::EXIT_CLOSED);
    }
    ExitCode::from(code)
}

fn run() -> u8 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_BAD_INPUT } else { EXIT_OK };
        }
    };
    if let Err(e) = diag::init(cli.verbose, cli.quiet) {
        errln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    if let Err(e) = check_env() {
        errln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    if let Cmd::Conform { .. } = cli.cmd {
        // Real mounts: Ctrl-C unmounts and detaches them, then exits 130.
        if let Err(e) = iomc_realfs::install_cleanup_on_signal() {
            errln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    } else {
        // A second Ctrl-C kills the process the usual way.
        let _ = ctrlc::set_handler(|| {
            if INTERRUPTED.swap(true, Ordering::Relaxed) {
                std::process::exit(130);
            }
        });
    }
    let code = match cli.cmd {
        Cmd::Check { paths, explore, trace, format, found_dir } => {
            cmd_check(&paths, &explore, trace, format, &found_dir)
        }
        Cmd::Matrix { paths, explore, junit } => cmd_matrix(&paths, &explore, junit.as_deref()),
        Cmd::Replay { token, brief, format, scenario, chrome_trace } => {
            cmd_replay(&token, brief, format, scenario.as_deref(), chrome_trace.as_deref())
        }
        Cmd::Mutants { paths, only } => cmd_mutants(&paths, &only),
        Cmd::Fuzz { variant, cases, seed, iterations, unbiased, want, out } => {
            let want = match want.as_deref().map(|w| iomc_scenario::Verdict::parse(w).ok_or(w)) {
                Some(Err(w)) => {
                    errln!("error: --want {w:?} is not a violation class (zeroed-data, lost-write, stale-data, invariant:<name>, ...)");
                    return EXIT_BAD_INPUT;
                }
                Some(Ok(v)) => Some(v),
                None => None,
            };
            let cfg = fuzz::FuzzConfig {
                preset: variant,
                cases,
                seed,
                iterations,
                biased: !unbiased,
                want,
                max_threads: 4,
                out: Some(out),
            };
            cmd_fuzz(&cfg)
        }
        Cmd::List { paths } => cmd_list(&paths),
        Cmd::Conform { paths, mount, runs, orders, seed, preset, sets, sequential_only, generate, found_dir } => {
            let args = conform::ConformArgs {
                scenarios: Vec::new(),
                mount,
                runs,
                orders: usize::try_from(orders).unwrap_or(usize::MAX),
                seed,
                preset,
                sets,
                sequential_only,
                found_dir,
            };
            cmd_conform(&paths, args, generate)
        }
    };
    code
}
