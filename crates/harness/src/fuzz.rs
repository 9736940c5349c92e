//! `iomc fuzz` and the generated-scenario property: proptest generates scenarios
//! ([`iomc_scenario::generate`]), shuttle's PCT explores each one with a seed that proptest also
//! generates (so a failing case, and its shrinking, are deterministic), and a failure shrinks
//! to a minimal scenario that is written out as a scenario file `iomc check` accepts.

use crate::{check, token, CheckResult, Prepared};
use iomc_explore::{Budget, ShuttleKind, Strategy, DEFAULT_PCT_DEPTH};
use iomc_models::Behaviour;
use iomc_scenario::generate::{scenarios, GenConfig};
use iomc_scenario::{Scenario, Verdict};
use proptest::prelude::*;
use proptest::strategy::Strategy as _;
use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What to fuzz.
#[derive(Clone, Debug)]
pub struct FuzzConfig {
    /// Kernel preset.
    pub preset: String,
    /// Generated scenarios to try.
    pub cases: u32,
    /// Seed of the generator (the same seed generates the same scenarios).
    pub seed: u64,
    /// PCT (depth 3) executions per scenario.
    pub iterations: u64,
    /// Bias toward partial blocks and adjacent ranges.
    pub biased: bool,
    /// Look for this violation class only (None: any violation is a counterexample).
    pub want: Option<Verdict>,
    /// Most threads per generated scenario (2..=4).
    pub max_threads: usize,
    /// Where to write a counterexample (None: do not write).
    pub out: Option<PathBuf>,
}

/// A shrunk counterexample.
#[derive(Debug)]
pub struct Counterexample {
    /// The minimal scenario.
    pub scenario: Scenario,
    /// Its check under the fuzzed preset.
    pub result: CheckResult,
    /// The file it was written to, and the replay token bound to that file.
    pub written: Option<(PathBuf, String)>,
}

/// The result of a fuzz run.
#[derive(Debug)]
pub struct FuzzReport {
    /// Scenarios that ran without a violation before the run ended.
    pub passed: u32,
    /// The counterexample, if one was found.
    pub counterexample: Option<Counterexample>,
}

fn pct(iterations: u64, seed: u64) -> Strategy {
    Strategy::Shuttle { kind: ShuttleKind::Pct { depth: DEFAULT_PCT_DEPTH }, iterations, seed }
}

fn run_case(s: &Scenario, preset: &str, iterations: u64, seed: u64) -> Result<CheckResult, String> {
    let p = Prepared::new(Arc::new(s.clone()), preset, &[])?;
    Ok(check(Arc::new(p), &pct(iterations, seed), Budget::default(), None))
}

/// Run the property "no generated scenario has a violation on `cfg.preset`".
pub fn fuzz(cfg: &FuzzConfig, on_case: impl Fn(u32)) -> Result<FuzzReport, String> {
    if Behaviour::preset(&cfg.preset).is_none() {
        return Err(format!("unknown preset {:?} (known: {})", cfg.preset, Behaviour::preset_names().join(", ")));
    }
    // Zero cases or zero executions per case would search nothing and report "no violation".
    if cfg.cases == 0 {
        return Err("--cases must be at least 1: 0 generated scenarios prove nothing".into());
    }
    if cfg.iterations == 0 {
        return Err("--iterations must be at least 1: 0 executions per scenario prove nothing".into());
    }
    let mut seed32 = [0u8; 32];
    seed32[..8].copy_from_slice(&cfg.seed.to_le_bytes());
    let config = Config {
        cases: cfg.cases,
        failure_persistence: None,
        max_shrink_iters: 512,
        // A case that panics would be a harness bug: let it surface.
        fork: false,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed32));
    // Expect "pass" so that any violation ends each case's search, or the wanted class so that
    // the search looks for that class (check() then skips executions of other classes).
    let expect = cfg.want.clone().unwrap_or(Verdict::Pass);
    let gen =
        scenarios(GenConfig { biased: cfg.biased, max_threads: cfg.max_threads }, vec![(cfg.preset.clone(), expect)]);
    let strategy = (gen, any::<u64>().no_shrink());
    let passed = std::cell::Cell::new(0u32);
    let outcome = runner.run(&strategy, |(s, seed)| {
        let r = run_case(&s, &cfg.preset, cfg.iterations, seed).map_err(TestCaseError::fail)?;
        match &r.report.found {
            Some(f) if cfg.want.as_ref().is_none_or(|w| *w == f.finding.verdict) => {
                Err(TestCaseError::fail(f.finding.summary.clone()))
            }
            Some(_) => {
                passed.set(passed.get() + 1);
                on_case(passed.get());
                Ok(())
            }
            None => {
                passed.set(passed.get() + 1);
                on_case(passed.get());
                Ok(())
            }
        }
    });
    match outcome {
        Ok(()) => Ok(FuzzReport { passed: cfg.cases, counterexample: None }),
        Err(TestError::Abort(why)) => Err(format!("proptest aborted: {why}")),
        Err(TestError::Fail(_, (s, seed))) => {
            let result = run_case(&s, &cfg.preset, cfg.iterations, seed)?;
            let mut cx = Counterexample { scenario: s, result, written: None };
            if let Some(dir) = &cfg.out {
                cx.written = Some(write_counterexample(dir, cfg, &mut cx)?);
            }
            Ok(FuzzReport { passed: passed.get(), counterexample: Some(cx) })
        }
    }
}

/// Write the counterexample as `<dir>/fuzz-<preset>-<seed>.toml` expecting the class it showed
/// on the fuzzed preset (and `pass` on the newest preset, which has every fix the model knows:
/// the claim the fixes make), check it back from the file, and return the path and a replay
/// token bound to that file.
fn write_counterexample(dir: &Path, cfg: &FuzzConfig, cx: &mut Counterexample) -> Result<(PathBuf, String), String> {
    let found = cx.result.report.found.as_ref().ok_or("no violation to write")?;
    let verdict = found.finding.verdict.clone();
    let name = format!("fuzz-{}-{}", cfg.preset, cfg.seed);
    let s = &mut cx.scenario;
    s.name = name.clone();
    s.summary = format!("generated counterexample: {}", found.finding.summary);
    s.source = format!(
        "iomc fuzz --variant {} --seed {} --iterations {} (shrunk by proptest)",
        cfg.preset, cfg.seed, cfg.iterations
    );
    s.expect = vec![(cfg.preset.clone(), verdict.clone(), iomc_scenario::Loc { line: 0, col: 0 })];
    let newest = iomc_models::newest_preset().name;
    if cfg.preset != newest {
        s.expect.push((newest.into(), Verdict::Pass, iomc_scenario::Loc { line: 0, col: 0 }));
    }
    let comment = vec![
        format!("Found by `iomc fuzz --variant {} --seed {}` and shrunk by proptest.", cfg.preset, cfg.seed),
        format!("{}: {}", cfg.preset, found.finding.summary),
        format!("Expectations: the class the fuzzed kernel showed; {newest} is expected to pass (the fixes' claim)."),
    ];
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(format!("{name}.toml"));
    crate::atomic::write_atomically(&path, s.to_toml(&comment)?.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    // Check it back from the file, so the token names the file and its content hash.
    let loaded = Scenario::load(&path, &Behaviour::preset_names()).map_err(|e| e.to_string())?;
    let p = Arc::new(Prepared::new(Arc::new(loaded), &cfg.preset, &[])?);
    let seed = match &cx.result.strategy {
        Strategy::Shuttle { seed, .. } => *seed,
        _ => 0,
    };
    let r = check(p.clone(), &pct(cfg.iterations, seed), Budget::default(), None);
    let tok = r
        .report
        .found
        .as_ref()
        .and_then(|f| token::encode(&p, &r.strategy, f))
        .ok_or("the written file did not reproduce")?;
    let token_path = dir.join(format!("{name}.token"));
    crate::atomic::write_atomically(&token_path, format!("{tok}\n").as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", token_path.display()))?;
    Ok((path, tok))
}
