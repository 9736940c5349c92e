//! `iomc check` and `iomc matrix`: load scenarios (a bad file is reported, the rest still run),
//! run every check, save found violations, and the exit status.

use crate::args::{BackendArg, ExploreArgs, Format};
use crate::diag::{self, progress};
use crate::files::write_atomically;
use crate::shard::shard_strategy;
use crate::{EXIT_BAD_INPUT, EXIT_INCOMPLETE, EXIT_MISMATCH, EXIT_OK, INTERRUPTED};
use iomc_explore::{Budget, ShuttleKind, Strategy, DEFAULT_PCT_DEPTH};
use iomc_harness::{
    check, json, loom_bound, matrix, pct_phase, preflight, render, CheckResult, Outcome, Prepared,
    DEFAULT_PCT_ITERATIONS,
};
use iomc_models::Behaviour;
use iomc_scenario::{collect_files, Scenario};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Every scenario under `paths`, and a message per file that is not one (file:line:col).
/// Err only when there is nothing to read at all.
pub(crate) fn load_each(paths: &[PathBuf]) -> Result<(Vec<Scenario>, Vec<String>), Vec<String>> {
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
pub(crate) fn load(paths: &[PathBuf]) -> Result<Vec<Scenario>, Vec<String>> {
    match load_each(paths)? {
        (out, errs) if errs.is_empty() => Ok(out),
        (_, errs) => Err(errs),
    }
}

pub(crate) fn strategy_for(s: &Scenario, a: &ExploreArgs) -> Strategy {
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
pub(crate) struct Checks {
    pub(crate) results: Vec<CheckResult>,
    pub(crate) bad_input: bool,
}

/// Run every requested check; `each` sees each result as it completes. A bad scenario file is
/// reported (file:line:col) and the rest are still checked; the exit status says so at the end.
pub(crate) fn run_checks(paths: &[PathBuf], a: &ExploreArgs, mut each: impl FnMut(&CheckResult)) -> Result<Checks, u8> {
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
pub(crate) fn status(checks: &Checks) -> u8 {
    let results = &checks.results;
    let failed = |r: &&CheckResult| !r.matches() && !r.unjudged();
    if results.iter().filter(failed).any(|r| matches!(r.outcome, Outcome::Verdict(_) | Outcome::Error(_))) {
        EXIT_MISMATCH
    } else if checks.bad_input {
        EXIT_BAD_INPUT
    } else if INTERRUPTED.load(Ordering::Relaxed) || results.iter().any(|r| failed(&r)) {
        EXIT_INCOMPLETE
    } else {
        EXIT_OK
    }
}

pub(crate) fn interrupted_note(results: &[CheckResult]) {
    if INTERRUPTED.load(Ordering::Relaxed) {
        let n: u64 = results.iter().map(|r| r.report.executions).sum();
        errln!("interrupted: {} checks ran ({n} executions); the result is incomplete", results.len());
    }
}

/// Save a found violation's replay token and the scenario text under `dir` before anything is
/// printed about it, so a run killed while printing still leaves them (atomic writes).
pub(crate) fn save_found(dir: &Path, r: &CheckResult) {
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

pub(crate) fn cmd_check(paths: &[PathBuf], a: &ExploreArgs, trace: bool, format: Format, found_dir: &Path) -> u8 {
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
            let ok = results.iter().filter(|r| r.matches() && !r.unjudged()).count();
            let unjudged = results.iter().filter(|r| r.unjudged()).count();
            let judged = results.len() - unjudged;
            let extra = if unjudged > 0 {
                format!(" ({unjudged} more for presets their [expect] does not name)")
            } else {
                String::new()
            };
            outln!("{ok} of {judged} checks met their expectation{extra}");
        }
        Format::Json => out!("{}", json::run(results)),
    }
    interrupted_note(results);
    status(&checks)
}

pub(crate) fn cmd_matrix(paths: &[PathBuf], a: &ExploreArgs, junit: Option<&Path>) -> u8 {
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
