//! The command line: every command and flag, with the parsers that range-check them.

use crate::files::{parse_new_file, parse_out_dir, parse_out_file};
use clap::{Args, Parser, Subcommand, ValueEnum};
use iomc_models::Behaviour;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "iomc", version, about = "Model checker for Linux page-cache / iomap / XFS buffered I/O races")]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) cmd: Cmd,
    /// More diagnostics on stderr: -v a span per check, phase and loom bound with executions,
    /// rates and why each stopped; -vv trace. RUST_LOG, when set, chooses instead.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub(crate) verbose: u8,
    /// No progress lines or diagnostics on stderr (errors still print).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub(crate) quiet: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum BackendArg {
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
pub(crate) enum Format {
    /// Result lines and race diagrams.
    Text,
    /// One JSON document with every check.
    Json,
}

#[derive(Args, Clone)]
pub(crate) struct ExploreArgs {
    /// Kernel preset(s) to check; default: every preset the scenario's [expect] names.
    #[arg(long = "variant", value_parser = parse_variant)]
    pub(crate) variants: Vec<String>,
    /// Exploration backend.
    #[arg(long, value_enum, default_value = "default")]
    pub(crate) backend: BackendArg,
    /// loom: highest preemption bound, 0..=6 (default: the scenario's, else 4 with up to 3 threads, 3 with 4).
    #[arg(long, allow_negative_numbers = true)]
    #[arg(value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_PREEMPTION_BOUND)))]
    pub(crate) preemption_bound: Option<u32>,
    /// shuttle/stress: executions to try, 1..=1000000000 (default: the scenario's, else 10000);
    /// default backend: executions of its PCT phase (default 1000).
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(u64).range(1..=MAX_ITERATIONS))]
    pub(crate) iterations: Option<u64>,
    /// shuttle, and the default backend's PCT phase: seed.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub(crate) seed: u64,
    /// Override a knob of the preset: knob=value (repeatable; `iomc list` shows the knobs).
    #[arg(long = "set", value_parser = parse_knob)]
    pub(crate) sets: Vec<String>,
    /// Wall-clock budget per check, in seconds: more than 0, at most 31536000 (a year); stopping
    /// early is reported as incomplete.
    #[arg(long, value_parser = parse_seconds, allow_negative_numbers = true)]
    pub(crate) time_limit: Option<Duration>,
    /// Run shard K of N (1-based, `K/N`): loom and DFS checks are dealt round-robin to the
    /// shards; PCT, random and stress checks run on every shard with their iterations split and
    /// a distinct seed per shard.
    #[arg(long, value_parser = parse_shard)]
    pub(crate) shard: Option<(u64, u64)>,
}

/// Highest `--preemption-bound` (the scenario format's limit: loom's search grows steeply with it).
pub(crate) const MAX_PREEMPTION_BOUND: u32 = 6;
/// Most `--iterations` of a check.
pub(crate) const MAX_ITERATIONS: u64 = 1_000_000_000;
/// Longest `--time-limit`, in seconds (a year).
pub(crate) const MAX_TIME_LIMIT_SECS: f64 = 31_536_000.0;

/// `--time-limit`: seconds, finite, more than 0, at most [`MAX_TIME_LIMIT_SECS`].
pub(crate) fn parse_seconds(s: &str) -> Result<Duration, String> {
    let range = format!("seconds, a number more than 0 and at most {MAX_TIME_LIMIT_SECS:.0} (a year)");
    let secs: f64 = s.trim().parse().map_err(|_| format!("{s:?} is not a number of seconds; expected {range}"))?;
    if !secs.is_finite() || secs <= 0.0 || secs > MAX_TIME_LIMIT_SECS {
        return Err(format!("{s:?} is out of range; expected {range}"));
    }
    Duration::try_from_secs_f64(secs).map_err(|e| format!("{s:?}: {e}; expected {range}"))
}

/// `--variant`: a preset, or a preset with knobs as an `[expect]` key writes it
/// (`"linux-6.2 iomap_valid=off"`), checked before any scenario is read.
pub(crate) fn parse_variant(s: &str) -> Result<String, String> {
    Behaviour::from_spec(s).map(|_| s.to_string())
}

/// `--set knob=value`: a knob the model has, with a value it takes.
pub(crate) fn parse_knob(s: &str) -> Result<String, String> {
    let mut b = iomc_models::newest_preset().behaviour;
    b.set(s).map(|()| s.to_string())
}

pub(crate) fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let (k, n) = s.split_once('/').ok_or_else(|| format!("--shard takes K/N, got {s:?}"))?;
    let k: u64 = k.parse().map_err(|_| format!("--shard: {k:?} is not a number"))?;
    let n: u64 = n.parse().map_err(|_| format!("--shard: {n:?} is not a number"))?;
    if n == 0 || k == 0 || k > n {
        return Err(format!("--shard K/N needs 1 <= K <= N, got {k}/{n}"));
    }
    Ok((k, n))
}

#[derive(Subcommand)]
pub(crate) enum Cmd {
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
