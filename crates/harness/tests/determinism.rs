//! Determinism: the same scenario, preset, strategy and seed give the same answer every time,
//! and the models have no nondeterminism that the checkers do not control.
//!
//! * Every shipped scenario × every preset in its `[expect]` runs twice under loom and twice
//!   under shuttle PCT (depth 3, seed 5, 2,000 executions); the two runs must agree on the
//!   outcome, the execution count, where the violation was found (bound, execution index,
//!   schedule), its event sequence, and the other violation classes met on the way.
//! * shuttle's uncontrolled-nondeterminism check runs every scenario × preset: each random
//!   schedule is run twice and must meet the same runnable threads at every step.
//! * (Replaying every found violation from its token is `scenarios.rs`,
//!   `every_found_violation_replays_from_its_token`.)
//!
//! The last section forces each way a real scenario's check can be cut short and checks that it
//! comes back `Incomplete`, never as a verdict.

use iomc_explore::{check_uncontrolled_nondeterminism, Body, Budget, Exec, ShuttleKind, Stop, Strategy};
use iomc_harness::oracle::Violation;
use iomc_harness::{check, default_strategy, exec, CheckResult, Outcome, Prepared};
use iomc_models::Behaviour;
use iomc_scenario::{Scenario, Verdict};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

fn scenarios() -> Vec<Arc<Scenario>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let files = iomc_scenario::collect_files(&[dir]).unwrap();
    assert!(files.len() >= 11, "only {} scenarios", files.len());
    files
        .iter()
        .map(|f| Arc::new(Scenario::load(f, &Behaviour::preset_names()).unwrap_or_else(|e| panic!("{e}"))))
        .collect()
}

/// Every scenario × every preset its `[expect]` names.
fn checks() -> Vec<Arc<Prepared>> {
    let mut out = Vec::new();
    for s in scenarios() {
        for (preset, _, _) in &s.expect {
            out.push(Arc::new(Prepared::new(s.clone(), preset, &[]).unwrap()));
        }
    }
    out
}

/// Where and what a violation was: bound, execution index, schedule, summary, events.
#[derive(Debug, PartialEq)]
struct FoundAt {
    bound: Option<u32>,
    exec: u64,
    schedule: Option<String>,
    summary: String,
    events: Vec<iomc_models::Event>,
}

/// What two runs must agree on.
#[derive(Debug, PartialEq)]
struct Fingerprint {
    outcome: Outcome,
    executions: u64,
    stop: Stop,
    bound: Option<u32>,
    found: Option<FoundAt>,
    /// Other classes met while searching, with how often and the first one's events.
    other: Vec<(Verdict, u64, Vec<iomc_models::Event>)>,
}

fn fingerprint(r: &CheckResult) -> Fingerprint {
    Fingerprint {
        outcome: r.outcome.clone(),
        executions: r.report.executions,
        stop: r.report.stop.clone(),
        bound: r.report.bound,
        found: r.report.found.as_ref().map(|f| FoundAt {
            bound: f.bound,
            exec: f.exec,
            schedule: f.schedule.clone(),
            summary: f.finding.summary.clone(),
            events: f.finding.events.clone(),
        }),
        other: r.other.iter().map(|(v, (n, first))| (v.clone(), *n, first.events.clone())).collect(),
    }
}

/// Two runs at once, on two OS threads of the same process: besides halving the wall time, it
/// shows that runs share no state (no statics in the model, the oracle or the explorer).
fn twice(p: &Arc<Prepared>, strategy: &Strategy) -> Fingerprint {
    let run = || fingerprint(&check(p.clone(), strategy, Budget::default(), None));
    let (first, second) = std::thread::scope(|s| {
        let other = s.spawn(run);
        let mine = run();
        (mine, other.join().expect("the second run panicked"))
    });
    assert_eq!(first, second, "{} [{}] under {strategy:?}: two runs differ", p.scenario.name, p.preset);
    assert!(first.executions > 0);
    first
}

/// loom: the default strategy for the presets where a violation is expected (it stops at the
/// first one, fast), loom bounds 0..=1 where a pass is expected (exhaustive bound 2 and 3 runs
/// are `scenarios.rs`'s; bound 1 keeps this test to seconds).
#[test]
fn loom_runs_twice_identically_for_every_scenario() {
    let mut n = 0;
    for p in checks() {
        let expected = p.scenario.expected(&p.preset).cloned();
        let strategy = match expected {
            Some(Verdict::Pass) | None => Strategy::Loom { min_bound: 0, max_bound: 1 },
            Some(_) => default_strategy(&p.scenario),
        };
        let f = twice(&p, &strategy);
        println!("{} [{}]: {:?} after {} executions", p.scenario.name, p.preset, f.outcome, f.executions);
        n += 1;
    }
    assert!(n >= 25, "only {n} checks");
}

/// shuttle PCT with a fixed seed: same schedules, same answer. The checks are dealt into three
/// shards (tests run in parallel, and each stays at a couple of seconds).
fn pct_twice(shard: usize) -> usize {
    let pct = Strategy::Shuttle { kind: ShuttleKind::Pct { depth: 3 }, iterations: 2_000, seed: 5 };
    let mut found = 0;
    for p in checks().into_iter().skip(shard).step_by(PCT_SHARDS) {
        let f = twice(&p, &pct);
        println!("{} [{}]: {:?} after {} executions", p.scenario.name, p.preset, f.outcome, f.executions);
        if let Some(at) = &f.found {
            assert!(at.schedule.is_some() && at.exec <= 2_000);
            found += 1;
        }
    }
    found
}

const PCT_SHARDS: usize = 3;

#[test]
fn pct_runs_twice_identically_shard_0() {
    pct_twice(0);
}

#[test]
fn pct_runs_twice_identically_shard_1() {
    pct_twice(1);
}

#[test]
fn pct_runs_twice_identically_shard_2() {
    // Not vacuous: PCT finds violations (with schedules to compare) in this shard too.
    assert!(pct_twice(2) > 0, "PCT found nothing: the comparison of schedules was vacuous");
}

/// shuttle's own check for nondeterminism outside its control (clocks, hash-map order,
/// statics, OS threads): every random schedule is run twice, and the second run must meet the
/// same runnable threads at every scheduling decision and end at the same step.
///
/// Checks that expect a deadlock are left out: shuttle's checker ends such a run with its own
/// "deadlock!" panic, which it reports as a failure of the check, not of determinism (the PCT
/// and loom comparisons above run them twice).
#[test]
fn models_have_no_uncontrolled_nondeterminism() {
    let checks: Vec<Arc<Prepared>> =
        checks().into_iter().filter(|p| p.scenario.expected(&p.preset) != Some(&Verdict::Deadlock)).collect();
    for p in checks {
        let pp = p.clone();
        let body: Body<Violation> = Arc::new(move |e: &Exec| exec::execute(&pp, e.backend));
        let ran = check_uncontrolled_nondeterminism(body, 200, 17, Budget::default())
            .unwrap_or_else(|m| panic!("{} [{}]: {m}", p.scenario.name, p.preset));
        assert_eq!(ran, 400, "{} [{}]", p.scenario.name, p.preset);
    }
}

/// The check is not vacuous: a model that consults something outside the checker's control
/// (here a process-wide counter, standing for a clock or a hash seed) fails it.
#[test]
fn the_nondeterminism_check_catches_an_uncontrolled_model() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let body: Body<()> = Arc::new(|e: &Exec| {
        let m = Arc::new(iomc_sync::Mutex::new(e.backend, 0));
        // Every other run takes the lock one more time: a different number of scheduling points.
        let extra = CALLS.fetch_add(1, Ordering::Relaxed) % 2;
        for _ in 0..=extra {
            *m.lock() += 1;
        }
        let sp = iomc_sync::Spawner::new(e.backend);
        let m2 = m.clone();
        sp.spawn("t", move || *m2.lock() += 1).unwrap().join().unwrap();
        None
    });
    let err = check_uncontrolled_nondeterminism(body, 20, 1, Budget::default()).unwrap_err();
    assert!(err.contains("nondeterminism"), "{err}");
}

// ---- No false pass: every early stop of a real check is Incomplete ----

fn lore(preset: &str) -> Arc<Prepared> {
    let s = scenarios().into_iter().find(|s| s.name == "lore-2022-08-17-unwritten").unwrap();
    Arc::new(Prepared::new(s, preset, &[]).unwrap())
}

fn assert_incomplete(r: &CheckResult, needle: &str) {
    let Outcome::Incomplete(why) = &r.outcome else { panic!("expected incomplete, got {:?}", r.outcome) };
    assert!(why.contains(needle), "{why:?} lacks {needle:?}");
    assert!(!r.matches(), "an incomplete search never meets an expectation");
    assert!(!r.report.stop.is_complete());
}

#[test]
fn a_cut_check_is_incomplete_never_a_pass() {
    let p = lore("linux-6.2"); // expects pass
    let loom = default_strategy(&p.scenario);

    let wall = Budget { wall: Some(Duration::ZERO), ..Budget::default() };
    assert_incomplete(&check(p.clone(), &loom, wall, None), "wall-clock budget");

    static CTRL_C: AtomicBool = AtomicBool::new(true);
    let cancel = Budget { cancel: Some(&CTRL_C), ..Budget::default() };
    assert_incomplete(&check(p.clone(), &loom, cancel, None), "interrupted");

    let dfs = Strategy::Shuttle { kind: ShuttleKind::Dfs, iterations: 50, seed: 0 };
    assert_incomplete(&check(p.clone(), &dfs, Budget::default(), None), "DFS stopped at its cap");

    let steps = Budget { steps_per_execution: 5, ..Budget::default() };
    for strategy in [loom, dfs] {
        let r = check(p.clone(), &strategy, steps, None);
        assert_incomplete(&r, "steps_per_execution");
        assert!(matches!(r.report.stop, Stop::StepBudget { limit: 5, .. }), "{:?}", r.report.stop);
    }
}
