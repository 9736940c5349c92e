//! The default strategy, [`Strategy::PctThenLoom`]: a violation the PCT phase can reach comes
//! back from it, with a schedule and without any loom execution; a model without one runs the
//! PCT phase in full and then exactly loom's own exhaustive search, so a pass rests on loom.

mod common;

use iomc_explore::{explore, Body, Budget, Exec, Report, Stop, Strategy};
use std::collections::BTreeSet;
use std::sync::Arc;

/// The three appenders of [`common::append_abc`]; the result is `Some(order)` when the order is
/// `bad` (a stand-in for a corrupting interleaving), and every order is recorded with whether
/// loom ran it.
fn appenders(bad: Option<&'static str>, seen: Arc<std::sync::Mutex<BTreeSet<(String, bool)>>>) -> Body<String> {
    Arc::new(move |e: &Exec| {
        let last = common::append_abc(e);
        seen.lock().unwrap().insert((last.clone(), e.bound.is_some()));
        (Some(last.as_str()) == bad).then_some(last)
    })
}

fn run(strategy: &Strategy, body: Body<String>) -> Report<String> {
    let r = explore(strategy, Budget::default(), body, None);
    println!("{}: {} executions ({} PCT), {:?}", strategy.name(), r.executions, r.presearch, r.stop);
    r
}

/// "cba" needs the two later threads to overtake the first: PCT finds it within its phase
/// (every order has probability well above 1/1000 under PCT depth 3), so loom never runs.
#[test]
fn a_reachable_violation_comes_from_the_pct_phase() {
    let seen = Arc::new(std::sync::Mutex::new(BTreeSet::new()));
    let s = Strategy::PctThenLoom { pct_iterations: 1_000, seed: 3, max_bound: 2 };
    let r = run(&s, appenders(Some("cba"), seen.clone()));
    assert_eq!(r.stop, Stop::Found);
    let f = r.found.as_ref().expect("a finding");
    assert_eq!(f.finding, "cba");
    assert_eq!(f.bound, None, "found by PCT, not by a loom pass");
    assert!(f.schedule.is_some(), "a PCT finding carries its schedule for replay");
    assert_eq!(r.presearch, r.executions);
    assert!(r.executions <= 1_000);
    assert!(seen.lock().unwrap().iter().all(|(_, loom)| !loom), "no loom execution ran");
    // The schedule replays to the same order.
    let replay = Strategy::ShuttleReplay { schedule: f.schedule.clone().unwrap() };
    let again = run(&replay, appenders(Some("cba"), seen));
    assert_eq!(again.found.map(|f| f.finding).as_deref(), Some("cba"));
}

/// Without a violation the PCT phase runs in full, then loom's iterative search runs exactly
/// as `Strategy::Loom { 0..=2 }` does on this model (77 executions, pinned in runaway.rs), and
/// the pass is loom's: exhausted under bound 2, every order seen by loom itself.
#[test]
fn a_pass_is_the_pct_phase_then_exactly_loom() {
    let seen = Arc::new(std::sync::Mutex::new(BTreeSet::new()));
    let s = Strategy::PctThenLoom { pct_iterations: 200, seed: 3, max_bound: 2 };
    let r = run(&s, appenders(None, seen.clone()));
    assert!(r.exhaustive_pass());
    assert_eq!((r.presearch, r.executions, r.bound), (200, 200 + 77, Some(2)));
    let by_loom: BTreeSet<String> =
        seen.lock().unwrap().iter().filter(|(_, loom)| *loom).map(|(o, _)| o.clone()).collect();
    assert_eq!(by_loom.into_iter().collect::<Vec<_>>(), ["abc", "acb", "bac", "bca", "cab", "cba"]);
}

/// A PCT phase of 0 executions is loom alone (one-thread scenarios, which shuttle refuses).
#[test]
fn no_pct_phase_is_loom_alone() {
    let seen = Arc::new(std::sync::Mutex::new(BTreeSet::new()));
    let s = Strategy::PctThenLoom { pct_iterations: 0, seed: 3, max_bound: 2 };
    let r = run(&s, appenders(None, seen));
    assert!(r.exhaustive_pass());
    assert_eq!((r.presearch, r.executions), (0, 77));
}

/// The wall-clock budget covers both phases: a run out of time in the PCT phase stops there
/// and is not a pass.
#[test]
fn the_budget_covers_both_phases() {
    let seen = Arc::new(std::sync::Mutex::new(BTreeSet::new()));
    let s = Strategy::PctThenLoom { pct_iterations: u64::MAX / 2, seed: 3, max_bound: 2 };
    let budget = Budget { wall: Some(std::time::Duration::from_millis(50)), ..Budget::default() };
    let r = explore(&s, budget, appenders(None, seen), None);
    assert_eq!(r.stop, Stop::WallBudget);
    assert!(!r.exhaustive_pass());
    assert_eq!(r.bound, None, "loom never started");
}
