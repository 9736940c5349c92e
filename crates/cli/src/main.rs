//! `iomc`: check scenarios, run the CI matrix, replay a found execution, list scenarios and
//! presets. See the README for the commands and exit statuses.

use clap::{Args, Parser, Subcommand, ValueEnum};
use iomc_explore::{Budget, Progress, ShuttleKind, Strategy, DEFAULT_PCT_DEPTH};
use iomc_harness::{
    check, fuzz, json, loom_bound, matrix, mutants, pct_phase, preflight, render, token, CheckResult, Outcome,
    Prepared, DEFAULT_PCT_ITERATIONS,
};
use iomc_models::{Behaviour, PRESETS};
use iomc_scenario::{collect_files, Scenario};

#[macro_use]
mod out;
mod conform;
mod shard;
use shard::shard_strategy;
mod diag;
mod files;
use diag::progress;
use files::{parse_new_file, parse_out_dir, parse_out_file, write_atomically};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

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

#[derive(Parser)]
#[command(name = "iomc", version, about = "Model checker for Linux page-cache / iomap / XFS buffered I/O races")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
    /// More diagnostics on stderr: -v a span per check, phase and loom bound with executions,
    /// rates and why each stopped; -vv trace. RUST_LOG, when set, chooses instead.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// No progress lines or diagnostics on stderr (errors still print).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum BackendArg {
    /// PCT (depth 3) for --iterations executions (default 1000) to find a bug fast, then loom
    /// as below to find it anyway or prove a pass
    Default,
    /// loom bounded DPOR, preemption bound raised 0, 1, ... up to --preemption-bound
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

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Format {
    /// Result lines and race diagrams.
    Text,
    /// One JSON document with every check.
    Json,
}

#[derive(Args, Clone)]
struct ExploreArgs {
    /// Kernel preset(s) to check; default: every preset the scenario's [expect] names.
    #[arg(long = "variant", value_parser = parse_variant)]
    variants: Vec<String>,
    /// Exploration backend.
    #[arg(long, value_enum, default_value = "default")]
    backend: BackendArg,
    /// loom: highest preemption bound, 0..=6 (default: the scenario's, else 3).
    #[arg(long, allow_negative_numbers = true)]
    #[arg(value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_PREEMPTION_BOUND)))]
    preemption_bound: Option<u32>,
    /// shuttle/stress: executions to try, 1..=1000000000 (default: the scenario's, else 10000);
    /// default backend: executions of its PCT phase (default 1000).
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(u64).range(1..=MAX_ITERATIONS))]
    iterations: Option<u64>,
    /// shuttle, and the default backend's PCT phase: seed.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    seed: u64,
    /// Override a knob of the preset: knob=value (repeatable; `iomc list` shows the knobs).
    #[arg(long = "set", value_parser = parse_knob)]
    sets: Vec<String>,
    /// Wall-clock budget per check, in seconds: more than 0, at most 31536000 (a year); stopping
    /// early is reported as incomplete.
    #[arg(long, value_parser = parse_seconds, allow_negative_numbers = true)]
    time_limit: Option<Duration>,
    /// Run shard K of N (1-based, `K/N`): loom and DFS checks are dealt round-robin to the
    /// shards; PCT, random and stress checks run on every shard with their iterations split and
    /// a distinct seed per shard.
    #[arg(long, value_parser = parse_shard)]
    shard: Option<(u64, u64)>,
}

/// Highest `--preemption-bound` (the scenario format's limit: loom's search grows steeply with it).
const MAX_PREEMPTION_BOUND: u32 = 6;
/// Most `--iterations` of a check.
const MAX_ITERATIONS: u64 = 1_000_000_000;
/// Longest `--time-limit`, in seconds (a year).
const MAX_TIME_LIMIT_SECS: f64 = 31_536_000.0;

/// `--time-limit`: seconds, finite, more than 0, at most [`MAX_TIME_LIMIT_SECS`].
fn parse_seconds(s: &str) -> Result<Duration, String> {
    let range = format!("seconds, a number more than 0 and at most {MAX_TIME_LIMIT_SECS:.0} (a year)");
    let secs: f64 = s.trim().parse().map_err(|_| format!("{s:?} is not a number of seconds; expected {range}"))?;
    if !secs.is_finite() || secs <= 0.0 || secs > MAX_TIME_LIMIT_SECS {
        return Err(format!("{s:?} is out of range; expected {range}"));
    }
    Duration::try_from_secs_f64(secs).map_err(|e| format!("{s:?}: {e}; expected {range}"))
}

/// `--variant`: a preset, or a preset with knobs as an `[expect]` key writes it
/// (`"linux-6.2 iomap_valid=off"`), checked before any scenario is read.
fn parse_variant(s: &str) -> Result<String, String> {
    Behaviour::from_spec(s).map(|_| s.to_string())
}

/// `--set knob=value`: a knob the model has, with a value it takes.
fn parse_knob(s: &str) -> Result<String, String> {
    let mut b = iomc_models::newest_preset().behaviour;
    b.set(s).map(|()| s.to_string())
}

fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let (k, n) = s.split_once('/').ok_or_else(|| format!("--shard takes K/N, got {s:?}"))?;
    let k: u64 = k.parse().map_err(|_| format!("--shard: {k:?} is not a number"))?;
    let n: u64 = n.parse().map_err(|_| format!("--shard: {n:?} is not a number"))?;
    if n == 0 || k == 0 || k > n {
        return Err(format!("--shard K/N needs 1 <= K <= N, got {k}/{n}"));
    }
    Ok((k, n))
}

#[derive(Subcommand)]
enum Cmd {
    /// Check scenario files (or directories of them) against their expectations.
    Check {
        /// Scenario files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        explore: ExploreArgs,
        /// Show every event (locks, lookups, the oracle's flush) in race diagrams.
        #[arg(long)]
        trace: bool,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Where a found violation's replay token and scenario are saved before it is printed.
        #[arg(long, default_value = "iomc-found", value_parser = parse_out_dir)]
        found_dir: PathBuf,
    },
    /// Every scenario x every preset its expectations name: a summary table, and JUnit XML.
    Matrix {
        /// Scenario files or directories.
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        explore: ExploreArgs,
        /// Write JUnit XML here (atomically).
        #[arg(long, value_parser = parse_out_file)]
        junit: Option<PathBuf>,
    },
    /// Re-run exactly the execution a token names and print its full trace.
    Replay {
        /// The token printed by `iomc check`.
        token: String,
        /// Show only the major events.
        #[arg(long)]
        brief: bool,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// The scenario file to replay on (default: the token's path, looked up from the working
        /// directory, the directories above it, and the directories above the iomc executable).
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// Also write the execution as Chrome trace-event JSON to this file (atomically), for
        /// https://ui.perfetto.dev or chrome://tracing: a track per actor, kernel functions and
        /// locks held as slices, the finding as an instant event.
        #[arg(long, value_name = "FILE", value_parser = parse_new_file)]
        chrome_trace: Option<PathBuf>,
    },
    /// Undo each part of the 6.2 fix, and each safety-relevant model step, one at a time on
    /// linux-6.2: which shipped scenario notices?
    Mutants {
        /// Scenario files or directories.
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
        /// Only mutations whose `knob=value` contains this text (repeatable).
        #[arg(long)]
        only: Vec<String>,
    },
    /// Generate scenarios (proptest) and explore each with shuttle PCT; a violation shrinks to a
    /// minimal scenario written as a scenario file.
    Fuzz {
        /// Kernel preset.
        #[arg(long = "variant", default_value = "linux-6.2")]
        variant: String,
        /// Generated scenarios to try, 1..=1000000.
        #[arg(long, default_value_t = 200, allow_negative_numbers = true)]
        #[arg(value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        cases: u32,
        /// Generator seed.
        #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
        seed: u64,
        /// PCT executions per generated scenario, 1..=1000000000.
        #[arg(long, default_value_t = 300, allow_negative_numbers = true)]
        #[arg(value_parser = clap::value_parser!(u64).range(1..=MAX_ITERATIONS))]
        iterations: u64,
        /// Uniform offsets and lengths (no bias toward partial blocks and adjacent ranges).
        #[arg(long)]
        unbiased: bool,
        /// Look for this violation class only (e.g. zeroed-data); default: any violation.
        #[arg(long)]
        want: Option<String>,
        /// Directory for the counterexample scenario file and its replay token.
        #[arg(long, default_value = "fuzz-found", value_parser = parse_out_dir)]
        out: PathBuf,
    },
    /// Run scenarios on a real XFS (loop-mounted, on the running kernel) and compare with the
    /// model: every serialization op by op, then real threads' outcomes within the model's.
    Conform {
        /// Scenario files or directories.
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
        /// Use this existing XFS mount (its block size must be the scenario's) instead of making
        /// a loop-mounted image per block size.
        #[arg(long)]
        mount: Option<PathBuf>,
        /// Real threaded runs per scenario.
        #[arg(long, default_value_t = 1000, allow_negative_numbers = true)]
        #[arg(value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
        runs: u32,
        /// Most serializations per scenario (all of them when there are no more).
        #[arg(long, default_value_t = 200, allow_negative_numbers = true)]
        #[arg(value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        orders: u64,
        /// Seed for random serializations and the real runs' delays.
        #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
        seed: u64,
        /// Preset to compare with (default: the one named for the running kernel's series).
        #[arg(long)]
        preset: Option<String>,
        /// Override a knob of the preset: knob=value (repeatable).
        #[arg(long = "set")]
        sets: Vec<String>,
        /// Only the sequential differential (no real threads).
        #[arg(long)]
        sequential_only: bool,
        /// Generate this many scenarios (1, 2 and 4 KiB blocks) and run the sequential
        /// differential on each instead of reading scenario files; a difference shrinks to a
        /// minimal scenario file.
        #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        generate: Option<u32>,
        /// Where differences are saved as scenario files.
        #[arg(long, default_value = "iomc-found", value_parser = parse_out_dir)]
        found_dir: PathBuf,
    },
    /// List scenarios (with summary and source) and presets (with their knobs).
    List {
        /// Scenario files or directories.
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
    },
}

/// Every scenario under `paths`, and a message per file that is not one (file:line:col).
/// Err only when there is nothing to read at all.
fn load_each(paths: &[PathBuf]) -> Result<(Vec<Scenario>, Vec<String>), Vec<String>> {
    let presets = Behaviour::preset_names();
    let files = collect_files(paths).map_err(|e| vec![format!("error: {e}")])?;
    if files.is_empty() {
        return Err(vec![format!("error: no *.toml scenario files under {paths:?}")]);
    }
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for f in files {
        match Scenario::load(&f, &presets) {
            Ok(s) => {
                // An [expect] key with knobs: every knob must be one the model has.
                let bad: Vec<String> = s
                    .expect
                    .iter()
                    .filter_map(|(key, _, loc)| {
                        let e = Behaviour::from_spec(key).err()?;
                        Some(format!("{}:{loc}: error: [expect] key {key:?}: {e}", f.display()))
                    })
                    .collect();
                if bad.is_empty() {
                    out.push(s);
                } else {
                    errs.extend(bad);
                }
            }
            Err(e) => errs.push(e.to_string()),
        }
    }
    Ok((out, errs))
}

/// As [`load_each`], but any bad file is an error (commands that need the whole set).
fn load(paths: &[PathBuf]) -> Result<Vec<Scenario>, Vec<String>> {
    match load_each(paths)? {
        (out, errs) if errs.is_empty() => Ok(out),
        (_, errs) => Err(errs),
    }
}

fn strategy_for(s: &Scenario, a: &ExploreArgs) -> Strategy {
    let iters = a.iterations.or(s.explore.iterations).unwrap_or(10_000);
    let max_bound = a.preemption_bound.unwrap_or_else(|| loom_bound(s));
    match a.backend {
        BackendArg::Default => Strategy::PctThenLoom {
            pct_iterations: pct_phase(s, a.iterations.unwrap_or(DEFAULT_PCT_ITERATIONS)),
            seed: a.seed,
            max_bound,
        },
        BackendArg::Loom => Strategy::Loom { min_bound: 0, max_bound },
        BackendArg::Pct => {
            Strategy::Shuttle { kind: ShuttleKind::Pct { depth: DEFAULT_PCT_DEPTH }, iterations: iters, seed: a.seed }
        }
        BackendArg::Random => Strategy::Shuttle { kind: ShuttleKind::Random, iterations: iters, seed: a.seed },
        BackendArg::Dfs => Strategy::Shuttle { kind: ShuttleKind::Dfs, iterations: iters, seed: a.seed },
        BackendArg::Stress => Strategy::Stress { iterations: iters },
    }
}

/// What [`run_checks`] did: the results, and whether some input was bad (a file that is not a
/// scenario, a check that could not be prepared), reported and skipped.
struct Checks {
    results: Vec<CheckResult>,
    bad_input: bool,
}

/// Run every requested check; `each` sees each result as it completes. A bad scenario file is
/// reported (file:line:col) and the rest are still checked; the exit status says so at the end.
fn run_checks(paths: &[PathBuf], a: &ExploreArgs, mut each: impl FnMut(&CheckResult)) -> Result<Checks, u8> {
    let (scenarios, errs) = load_each(paths).map_err(|errs| {
        for e in errs {
            errln!("{e}");
        }
        EXIT_BAD_INPUT
    })?;
    let mut bad_input = !errs.is_empty();
    for e in errs {
        errln!("{e}");
    }
    let budget = Budget { wall: a.time_limit, cancel: Some(&INTERRUPTED), ..Budget::default() };
    // Validate everything before exploring anything.
    let mut jobs = Vec::new();
    let mut jobs_seen = 0u64;
    for s in scenarios {
        let s = Arc::new(s);
        let presets: Vec<String> = if a.variants.is_empty() {
            s.expect.iter().map(|(p, _, _)| p.clone()).collect()
        } else {
            a.variants.clone()
        };
        for preset in presets {
            let p = match Prepared::new(s.clone(), &preset, &a.sets) {
                Ok(p) => p,
                Err(e) => {
                    errln!("{}: error: [{preset}]: {e}", s.file);
                    bad_input = true;
                    continue;
                }
            };
            let strategy = strategy_for(&s, a);
            if let Err(e) = preflight(&p, &strategy) {
                errln!("{}: error: {e}", s.file);
                bad_input = true;
                continue;
            }
            if let Some(strategy) = shard_strategy(jobs_seen, strategy, a.shard) {
                jobs.push((Arc::new(p), strategy));
            }
            jobs_seen += 1;
        }
    }
    if let Some((k, n)) = a.shard {
        tracing::info!("shard {k}/{n}: {} of {jobs_seen} checks", jobs.len());
    }
    let mut results = Vec::new();
    for (p, strategy) in jobs {
        if INTERRUPTED.load(Ordering::Relaxed) {
            break;
        }
        let label = format!("{} [{}]", p.scenario.name, p.preset);
        let (f, bar) = progress(&label);
        let r = check(p, &strategy, budget, Some(f));
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        each(&r);
        results.push(r);
    }
    if bad_input {
        errln!("error: some input was not checked (above); the exit status is 2 unless a check failed");
    }
    Ok(Checks { results, bad_input })
}

/// The exit status: a check that failed (1) before bad input (2) before an incomplete search (3).
fn status(checks: &Checks) -> u8 {
    let results = &checks.results;
    if results.iter().any(|r| !r.matches() && matches!(r.outcome, Outcome::Verdict(_) | Outcome::Error(_))) {
        EXIT_MISMATCH
    } else if checks.bad_input {
        EXIT_BAD_INPUT
    } else if INTERRUPTED.load(Ordering::Relaxed) || results.iter().any(|r| !r.matches()) {
        EXIT_INCOMPLETE
    } else {
        EXIT_OK
    }
}

fn interrupted_note(results: &[CheckResult]) {
    if INTERRUPTED.load(Ordering::Relaxed) {
        let n: u64 = results.iter().map(|r| r.report.executions).sum();
        errln!("interrupted: {} checks ran ({n} executions); the result is incomplete", results.len());
    }
}

/// Save a found violation's replay token and the scenario text under `dir` before anything is
/// printed about it, so a run killed while printing still leaves them (atomic writes).
fn save_found(dir: &Path, r: &CheckResult) {
    let Some(tok) = &r.token else { return };
    let p = &r.prepared;
    let stem = format!("{}-{}", p.scenario.name, p.preset);
    let scenario_text = std::fs::read_to_string(&p.scenario.file).unwrap_or_default();
    let token_text = format!(
        "{tok}\n# {}\n# iomc replay '{tok}'\n",
        r.report.found.as_ref().map(|f| f.finding.summary.as_str()).unwrap_or("")
    );
    for (name, text) in [(format!("{stem}.token"), token_text), (format!("{stem}.toml"), scenario_text)] {
        if let Err(e) = write_atomically(&dir.join(&name), &text) {
            tracing::warn!("cannot save {}: {e}", dir.join(name).display());
        }
    }
}

fn cmd_check(paths: &[PathBuf], a: &ExploreArgs, trace: bool, format: Format, found_dir: &Path) -> u8 {
    let checks = match run_checks(paths, a, |r| {
        save_found(found_dir, r);
        if format == Format::Text {
            out!("{}", render::full_report(r, trace));
            if trace && r.report.found.is_none() && r.outcome == Outcome::Verdict(iomc_scenario::Verdict::Pass) {
                if let Some(f) = iomc_harness::representative(&r.prepared) {
                    out!("{}", render::representative_report(&f.finding, &r.prepared.actor_names));
                }
            }
        }
    }) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if checks.results.is_empty() && checks.bad_input {
        // Nothing could be checked: the errors above are the whole answer.
        return EXIT_BAD_INPUT;
    }
    let results = &checks.results;
    match format {
        Format::Text => {
            let ok = results.iter().filter(|r| r.matches()).count();
            outln!("{ok} of {} checks met their expectation", results.len());
        }
        Format::Json => out!("{}", json::run(results)),
    }
    interrupted_note(results);
    status(&checks)
}

fn cmd_matrix(paths: &[PathBuf], a: &ExploreArgs, junit: Option<&Path>) -> u8 {
    let checks = match run_checks(paths, a, |r| {
        if !diag::quiet() {
            errln!("{}", render::result_line(r));
        }
    }) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if checks.results.is_empty() && checks.bad_input {
        return EXIT_BAD_INPUT;
    }
    let results = &checks.results;
    out!("{}", matrix::table(results));
    if let Some(path) = junit {
        if let Err(e) = matrix::junit(results).and_then(|x| write_atomically(path, &x).map_err(|e| e.to_string())) {
            errln!("error: cannot write {}: {e}", path.display());
            return EXIT_BAD_INPUT;
        }
        outln!("JUnit XML written to {}", path.display());
    }
    interrupted_note(results);
    status(&checks)
}

fn cmd_replay(tok: &str, brief: bool, format: Format, scenario: Option<&Path>, chrome: Option<&Path>) -> u8 {
    let t = match token::decode(tok) {
        Ok(t) => t,
        Err(e) => {
            errln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let path = match token::resolve(&t, scenario) {
        Ok(p) => p,
        Err(e) => {
            errln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let s = match Scenario::load(&path, &Behaviour::preset_names()) {
        Ok(s) => s,
        Err(e) => {
            errln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    if s.content_hash != t.hash {
        errln!(
            "error: {} has changed since the token was made (content hash {:016x}, token {:016x}); \
             the schedule does not apply to it",
            path.display(),
            s.content_hash,
            t.hash
        );
        return EXIT_BAD_INPUT;
    }
    let p = match Prepared::new(Arc::new(s), &t.preset, &t.overrides) {
        Ok(p) => Arc::new(p),
        Err(e) => {
            errln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if let Err(e) = preflight(&p, &t.strategy) {
        errln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    let budget = Budget { cancel: Some(&INTERRUPTED), ..Budget::default() };
    // The search that made the token looked for its class (other classes went by uncounted),
    // so the replay does too.
    let target = t.expect.as_ref().map(|e| e.verdict.clone()).filter(|v| *v != iomc_scenario::Verdict::Pass);
    let r = iomc_harness::replay(p, &t.strategy, budget, target);
    let verified = token::verify(&t, &r);
    match format {
        // A violation that is not the token's is not shown as if it were.
        Format::Text if verified.is_ok() => out!("{}", render::full_report(&r, !brief)),
        Format::Text => {}
        Format::Json => out!("{}", json::run(std::slice::from_ref(&r))),
    }
    match verified {
        Ok(()) => match chrome.map(|path| (path, files::write_chrome_trace(&r, path))) {
            Some((_, Err(e))) => {
                errln!("error: --chrome-trace: {e}");
                EXIT_BAD_INPUT
            }
            Some((path, Ok(()))) => {
                tracing::info!("Chrome trace written to {} (open it in https://ui.perfetto.dev)", path.display());
                EXIT_OK
            }
            None => EXIT_OK,
        },
        Err(_) if INTERRUPTED.load(Ordering::Relaxed) => {
            errln!("interrupted: the replay did not finish");
            EXIT_INCOMPLETE
        }
        Err(why) => {
            errln!("{why}");
            EXIT_MISMATCH
        }
    }
}

fn cmd_mutants(paths: &[PathBuf], only: &[String]) -> u8 {
    let scenarios = match load(paths) {
        Ok(s) => s.into_iter().map(Arc::new).collect::<Vec<_>>(),
        Err(errs) => {
            for e in errs {
                errln!("{e}");
            }
            return EXIT_BAD_INPUT;
        }
    };
    let budget = Budget { cancel: Some(&INTERRUPTED), ..Budget::default() };
    if !diag::quiet() {
        errln!(
            "undoing one fix (on the preset that has it) or one model step (on {}) at a time; unmutated baselines first",
            mutants::BASE
        );
    }
    let rows = mutants::run(&scenarios, only, budget, |r| {
        let what = match &r.caught_by {
            Some((s, _, got)) => format!("caught by {s} ({got})"),
            None => "SURVIVED".into(),
        };
        if !diag::quiet() {
            errln!("  {}: {what}", r.set);
        }
    });
    out!("{}", mutants::table(&rows));
    if INTERRUPTED.load(Ordering::Relaxed) {
        errln!("interrupted: the table is incomplete");
        return EXIT_INCOMPLETE;
    }
    let unexplained = rows.iter().any(|r| r.caught_by.is_none() && !mutants::ARGUED.iter().any(|(m, _)| *m == r.set));
    if unexplained {
        EXIT_MISMATCH
    } else {
        EXIT_OK
    }
}

fn cmd_fuzz(cfg: &fuzz::FuzzConfig) -> u8 {
    let (f, bar) = progress(&format!("fuzz {}", cfg.preset));
    let start = std::time::Instant::now();
    let report = fuzz::fuzz(cfg, |n| {
        f(Progress { executions: u64::from(n), elapsed: start.elapsed(), bound: None });
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    match report {
        Err(e) => {
            errln!("error: {e}");
            EXIT_BAD_INPUT
        }
        Ok(r) => match r.counterexample {
            // Never a pass that rests on nothing (the flags refuse 0 cases; this is the backstop).
            None if r.passed == 0 => {
                errln!("no generated scenario was checked: nothing is proven");
                EXIT_INCOMPLETE
            }
            None => {
                outln!(
                    "{} generated scenarios on {}: no violation ({} PCT depth-3 executions each, seed {}) in {:.1?}",
                    r.passed,
                    cfg.preset,
                    cfg.iterations,
                    cfg.seed,
                    start.elapsed()
                );
                EXIT_OK
            }
            Some(cx) => {
                outln!("counterexample on {} after {} clean scenarios, shrunk:", cfg.preset, r.passed);
                out!("{}", render::full_report(&cx.result, false));
                if let Some((path, tok)) = &cx.written {
                    outln!("written to {} (check it with: iomc check {})", path.display(), path.display());
                    outln!("replay: iomc replay '{tok}'");
                }
                EXIT_MISMATCH
            }
        },
    }
}

fn cmd_list(paths: &[PathBuf]) -> u8 {
    let scenarios = match load(paths) {
        Ok(s) => s,
        Err(errs) => {
            for e in errs {
                errln!("{e}");
            }
            return EXIT_BAD_INPUT;
        }
    };
    outln!("scenarios:");
    for s in &scenarios {
        let exp: Vec<String> = s.expect.iter().map(|(p, v, _)| format!("{p}={v}")).collect();
        outln!("  {}  ({})", s.name, s.file);
        out!("{}", render::wrapped(&s.summary, 4));
        out!("{}", render::wrapped(&format!("source: {}", s.source), 4));
        out!("{}", render::wrapped(&format!("expect: {}", exp.join(", ")), 4));
    }
    outln!("ops (docs/scenario-format.md):");
    for op in iomc_scenario::OPS {
        let ranged = |a: &&iomc_scenario::ops::ArgSpec| op.range_optional && matches!(a.name, "offset" | "length");
        let range: Vec<&str> = op.args.iter().filter(ranged).map(|a| a.name).collect();
        let mut args: Vec<String> = Vec::new();
        if !range.is_empty() {
            args.push(format!("[{}]", range.join(", ")));
        }
        for a in op.args.iter().filter(|a| !ranged(a)) {
            args.push(if a.optional { format!("[{}]", a.name) } else { a.name.to_string() });
        }
        let args = args.join(", ");
        outln!("  {:<12} {{{args}}}", op.name);
        out!("{}", render::wrapped(op.summary, 4));
        out!("{}", render::wrapped(&format!("model: {}", op.kernel), 4));
        out!("{}", render::wrapped(&format!("real kernel: {}", op.real), 4));
    }
    outln!("presets:");
    for p in PRESETS {
        outln!("  {}", p.name);
        out!("{}", render::wrapped(p.summary, 4));
        let knobs: Vec<String> = p.behaviour.describe().into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        out!("{}", render::wrapped(&knobs.join(" "), 4));
    }
    outln!("knobs (override with --set knob=value):");
    for (k, d) in iomc_models::KNOBS {
        outln!("  {k:<24} {d}");
    }
    outln!("mutations (--set mutation=<name>; iomc mutants runs each against the scenarios):");
    for (_, name, what) in iomc_models::behaviour::MUTATIONS {
        outln!("  {name:<30} {what}");
    }
    outln!("verdicts ([expect] values; docs/scenario-format.md):");
    for c in iomc_scenario::verdicts::VERDICTS {
        outln!("  {}", c.name);
        out!("{}", render::wrapped(c.meaning, 4));
    }
    outln!("invariants (invariant:<name>):");
    for c in iomc_scenario::verdicts::INVARIANTS {
        outln!("  {}", c.name);
        out!("{}", render::wrapped(c.meaning, 4));
    }
    EXIT_OK
}

fn cmd_conform(paths: &[PathBuf], mut args: conform::ConformArgs, generate: Option<u32>) -> u8 {
    if let Err(missing) = iomc_realfs::preflight() {
        errln!("error: cannot run on the real kernel: {missing}");
        return EXIT_BAD_INPUT;
    }
    let (preset, why) = match conform::reference_preset(args.preset.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            errln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if let Some(mut b) = Behaviour::preset(&preset) {
        for o in &args.sets {
            if let Err(e) = b.set(o) {
                errln!("error: --set: {e}");
                return EXIT_BAD_INPUT;
            }
        }
    }
    outln!("{why}");
    let mut mounts = conform::Mounts::new(args.mount.clone());
    let code = match generate {
        Some(n) => conform::generated(&args, &mut mounts, n),
        None => {
            args.scenarios = match load(paths) {
                Ok(s) => s,
                Err(errs) => {
                    for e in errs {
                        errln!("{e}");
                    }
                    mounts.unmount_all();
                    return EXIT_BAD_INPUT;
                }
            };
            conform::run(&mut args, &mut mounts)
        }
    };
    mounts.unmount_all();
    code
}

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
