//! `iomc-bench`: run the whole benchmark and print (and optionally write) the markdown report.

use iomc_bench::measure::{self, Config};
use iomc_bench::{machine, report};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "\
usage: iomc-bench [--quick] [--out FILE] [--scenarios PATH]... [--only NAME]...
                  [--seeds N] [--stress-secs S] [--portfolio-secs S] [--cap-secs S]

Measures every shipped scenario (executions, time to the first violation per strategy,
exhaustive loom per bound, loom vs shuttle DFS, one core vs two, peak memory, cost per
execution), prints a markdown report, and with --out puts it into FILE between the
iomc-bench markers (keeping the rest of the file).

  --quick             smoke run: 5 seeds, 2 repeats, short caps, no bound 3 (under a minute)
  --out FILE          write the report into FILE (e.g. docs/performance.md)
  --scenarios PATH    scenario file or directory (default: scenarios/ of the workspace)
  --only NAME         only this scenario (repeatable)
  --seeds N           seeds per randomized strategy (default 20, quick 5)
  --stress-secs S     stress cap per scenario (default 60 for lore on linux-6.1, 15 others)
  --portfolio-secs S  wall time of each one-core / two-core run (default 3, quick 1)
  --cap-secs S        cap every wall-clock limit at S seconds (smoke tests)";

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

fn secs(flag: &str, v: Option<String>) -> Result<Duration, String> {
    let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
    let s: f64 = v.parse().map_err(|_| format!("{flag}: not a number of seconds: {v:?}"))?;
    if !(s.is_finite() && s > 0.0) {
        return Err(format!("{flag}: must be positive, got {v:?}"));
    }
    Ok(Duration::from_secs_f64(s))
}

struct Args {
    cfg: Config,
    out: Option<PathBuf>,
    command: String,
}

fn parse(args: Vec<String>) -> Result<Option<Args>, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let quick = args.iter().any(|a| a == "--quick");
    let root = workspace_root();
    let mut scenarios = Vec::new();
    let mut only = Vec::new();
    let mut out = None;
    let (mut seeds, mut stress, mut portfolio, mut cap) = (None, None, None, None);
    let mut it = args.iter().cloned();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => {}
            "-h" | "--help" => return Ok(None),
            "--out" => out = Some(PathBuf::from(it.next().ok_or("--out needs a file")?)),
            "--scenarios" => scenarios.push(PathBuf::from(it.next().ok_or("--scenarios needs a path")?)),
            "--only" => only.push(it.next().ok_or("--only needs a scenario name")?),
            "--seeds" => {
                let v = it.next().ok_or("--seeds needs a number")?;
                seeds = Some(v.parse::<u64>().ok().filter(|n| *n > 0).ok_or(format!("--seeds: bad number {v:?}"))?);
            }
            "--stress-secs" => stress = Some(secs(&a, it.next())?),
            "--portfolio-secs" => portfolio = Some(secs(&a, it.next())?),
            "--cap-secs" => cap = Some(secs(&a, it.next())?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if scenarios.is_empty() {
        scenarios.push(root.join("scenarios"));
    }
    let mut cfg = if quick { Config::quick(scenarios, exe) } else { Config::full(scenarios, exe) };
    cfg.only = only;
    let extra = root.join("crates/bench/scenarios");
    cfg.extra = vec![if extra.is_dir() { extra } else { Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios") }];
    if let Some(n) = seeds {
        cfg.seeds = n;
    }
    if let Some(s) = stress {
        cfg.stress_wall_lore = s;
        cfg.stress_wall_other = s;
    }
    if let Some(p) = portfolio {
        cfg.portfolio_wall = p;
    }
    if let Some(c) = cap {
        cfg.cap_walls(c);
    }
    let mut command = String::from("cargo run --release -p iomc-bench --");
    for a in &args {
        command.push(' ');
        command.push_str(a);
    }
    Ok(Some(Args { cfg, out, command }))
}

fn write_atomically(path: &Path, contents: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("md.tmp");
    std::fs::write(&tmp, contents)?;
    std::fs::rename(&tmp, path)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("__child") {
        let (Some(file), Some(wall)) = (args.get(1), args.get(2).and_then(|w| w.parse::<f64>().ok())) else {
            eprintln!("usage: iomc-bench __child FILE WALL_SECS");
            return ExitCode::from(2);
        };
        return match measure::child_main(Path::new(file), Duration::from_secs_f64(wall)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        };
    }
    let parsed = match parse(args) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; run with --release for figures worth writing down");
    }
    let log = |line: &str| eprintln!("{line}");
    let results = match measure::run_all(&parsed.cfg, &log) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let m = machine::describe(&workspace_root());
    let md = report::markdown(&m, &parsed.cfg, &results, &parsed.command);
    println!("{md}");
    if let Some(out) = &parsed.out {
        let existing = std::fs::read_to_string(out).unwrap_or_default();
        if let Err(e) = write_atomically(out, &report::splice(&existing, &md)) {
            eprintln!("error: cannot write {}: {e}", out.display());
            return ExitCode::from(1);
        }
        eprintln!("wrote {}", out.display());
    }
    ExitCode::SUCCESS
}
