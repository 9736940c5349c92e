//! Runaway models and early stops, injected on purpose through test-only models built directly
//! on iomc-sync: a deadlock and a livelock must be reported by name with the threads and the
//! locks involved (never a hang, never a bare panic), and every way a search can stop early
//! (wall clock, Ctrl-C, iteration cap, step budget) must be reported as that stop, never as
//! [`Stop::Exhausted`]. The exhaustive case is pinned to loom's exact execution count and the
//! exact set of outcomes, the way loom's own tests pin theirs.

mod common;

use iomc_explore::{explore, loom_builder, Body, Budget, Exec, Report, ShuttleKind, Stop, Strategy, STEP_BUDGET};
use iomc_sync::{yield_now, Backend, Mutex, RwLock, Spawner};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const LOOM: Strategy = Strategy::Loom { min_bound: 0, max_bound: 2 };

fn shuttle(kind: ShuttleKind, iterations: u64) -> Strategy {
    Strategy::Shuttle { kind, iterations, seed: 11 }
}

/// Hang protection, not a speed check: a search that does not stop within this long means the
/// stop under test never fired, and the watchdog fails the test by name instead of letting
/// `cargo test` hang. Generous (every run here stops in well under a second on 2 cores), so a
/// slow or loaded machine never fails it.
const HANG: Duration = Duration::from_secs(300);

fn run(strategy: &Strategy, budget: Budget, body: Body<()>) -> Report<()> {
    let (tx, rx) = std::sync::mpsc::channel();
    let name = strategy.name();
    let owned = strategy.clone();
    let h = std::thread::spawn(move || {
        let _ = tx.send(explore(&owned, budget, body, None));
    });
    let r = match rx.recv_timeout(HANG) {
        Ok(r) => r,
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match h.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the search thread ended without a report"),
        },
        Err(e) => panic!("{name}: no report within {HANG:?} ({e}): the search hung"),
    };
    println!("{}: {} executions, {:?} in {:?}", strategy.name(), r.executions, r.stop, r.elapsed);
    r
}

/// Two threads take two mutexes in opposite orders (an ABBA deadlock).
fn abba() -> Body<()> {
    Arc::new(|e: &Exec| {
        let b = e.backend;
        let folio = Arc::new(Mutex::named(b, "folio 0", 0u32));
        let ilock = Arc::new(Mutex::named(b, "ilock", 0u32));
        let sp = Spawner::new(b);
        let (f, i) = (folio.clone(), ilock.clone());
        let writer = sp
            .spawn("writer", move || {
                let _folio = f.lock();
                let _ilock = i.lock();
            })
            .unwrap();
        let flusher = sp
            .spawn("flusher", move || {
                let _ilock = ilock.lock();
                let _folio = folio.lock();
            })
            .unwrap();
        writer.join().unwrap();
        flusher.join().unwrap();
        None
    })
}

fn assert_abba_deadlock(r: &Report<()>) {
    let Stop::Deadlock { detail } = &r.stop else { panic!("expected a deadlock, got {:?}", r.stop) };
    assert!(!r.stop.is_complete());
    assert!(r.found.is_none());
    // Both actors, the lock each holds and the lock each waits for, with its holder.
    for part in [
        "writer holds folio 0, waits for ilock (held by flusher)",
        "flusher holds ilock, waits for folio 0 (held by writer)",
        "main waits for writer to exit",
    ] {
        assert!(detail.contains(part), "{part:?} missing from: {detail}");
    }
    assert!(r.executions >= 1);
}

#[test]
fn deadlock_under_loom_names_threads_and_locks() {
    let r = run(&LOOM, Budget::default(), abba());
    assert_abba_deadlock(&r);
    // No preemption, no deadlock: it takes loom bound 1.
    assert_eq!(r.bound, Some(1));
    let Stop::Deadlock { detail } = &r.stop else { unreachable!() };
    assert!(detail.starts_with("every thread is blocked in execution 3 at loom bound 1: "), "{detail}");
}

#[test]
fn deadlock_under_shuttle_names_threads_and_locks() {
    for kind in [ShuttleKind::Random, ShuttleKind::Pct { depth: 2 }, ShuttleKind::Dfs] {
        let r = run(&shuttle(kind, 1_000), Budget::default(), abba());
        assert_abba_deadlock(&r);
    }
}

/// A reader-writer deadlock: unnamed locks are reported by kind and creation order.
#[test]
fn deadlock_on_unnamed_rwlocks_is_reported_by_creation_order() {
    let body: Body<()> = Arc::new(|e: &Exec| {
        let b = e.backend;
        let (x, y) = (Arc::new(RwLock::new(b, ())), Arc::new(Mutex::new(b, ())));
        let sp = Spawner::new(b);
        let (x2, y2) = (x.clone(), y.clone());
        let a = sp
            .spawn("reader", move || {
                let _r = x2.read();
                let _m = y2.lock();
            })
            .unwrap();
        let c = sp
            .spawn("locker", move || {
                let _m = y.lock();
                let _w = x.write();
            })
            .unwrap();
        a.join().unwrap();
        c.join().unwrap();
        None
    });
    for strategy in [LOOM, shuttle(ShuttleKind::Dfs, 1_000)] {
        let r = run(&strategy, Budget::default(), body.clone());
        let Stop::Deadlock { detail } = &r.stop else { panic!("{strategy:?}: {:?}", r.stop) };
        assert!(detail.contains("reader holds rwlock #1 (shared), waits for mutex #2 (held by locker)"), "{detail}");
        assert!(detail.contains("locker holds mutex #2, waits for rwlock #1 (held by reader)"), "{detail}");
    }
}

/// A thread spins (`cond_resched` in a loop) on a flag that nobody will set, while the other
/// thread exits: no deadlock (the spinner is always runnable), no progress. A small step
/// budget stops the execution and names the budget and the spinner.
fn livelock() -> Body<()> {
    Arc::new(|e: &Exec| {
        let b = e.backend;
        let flag = Arc::new(Mutex::named(b, "done flag", false));
        let sp = Spawner::new(b);
        let f = flag.clone();
        let spinner = sp
            .spawn("spinner", move || loop {
                if *f.lock() {
                    break;
                }
                yield_now(b);
            })
            .unwrap();
        let quitter = sp.spawn("quitter", move || drop(flag)).unwrap();
        quitter.join().unwrap();
        spinner.join().unwrap();
        None
    })
}

fn assert_step_budget(r: &Report<()>, limit: usize) {
    let Stop::StepBudget { limit: l, detail } = &r.stop else { panic!("expected the step budget, got {:?}", r.stop) };
    assert_eq!(*l, limit);
    assert!(!r.stop.is_complete());
    assert!(detail.contains(STEP_BUDGET), "{detail}");
    // The spinner is named, with how often it spun; main is blocked joining.
    let spinner = detail.split("; ").find(|p| p.starts_with("spinner")).unwrap_or_else(|| panic!("{detail}"));
    assert!(spinner.contains("yielded") && spinner.ends_with("times"), "{detail}");
    assert!(detail.contains("main waits for"), "{detail}");
    assert!(r.stop.to_string().contains("step budget `steps_per_execution` (200 scheduling points)"), "{}", r.stop);
    // It stopped in the first execution that spun, not after a long search.
    assert!(r.executions <= 3, "{} executions", r.executions);
}

#[test]
fn livelock_hits_the_step_budget_under_loom() {
    let budget = Budget { steps_per_execution: 200, ..Budget::default() };
    let r = run(&LOOM, budget, livelock());
    assert_step_budget(&r, 200);
}

#[test]
fn livelock_hits_the_step_budget_under_shuttle() {
    let budget = Budget { steps_per_execution: 200, ..Budget::default() };
    for kind in [ShuttleKind::Random, ShuttleKind::Pct { depth: 3 }, ShuttleKind::Dfs] {
        let r = run(&shuttle(kind, 1_000), budget, livelock());
        assert_step_budget(&r, 200);
    }
}

/// The step budget also replays: a recorded schedule that spins stops by name, not by hanging.
#[test]
fn the_step_budget_applies_to_replay_too() {
    let budget = Budget { steps_per_execution: 200, ..Budget::default() };
    let r = run(&Strategy::LoomReplay { bound: 0, exec: 1 }, budget, livelock());
    assert_step_budget(&r, 200);
}

/// Cheap executions, astronomically many of them: four threads each take one mutex five times.
fn huge_space() -> Body<()> {
    Arc::new(|e: &Exec| {
        let b = e.backend;
        let m = Arc::new(Mutex::new(b, 0u64));
        let sp = Spawner::new(b);
        let hs: Vec<_> = (0..4)
            .map(|i| {
                let m = m.clone();
                sp.spawn(&format!("t{i}"), move || {
                    for _ in 0..5 {
                        *m.lock() += 1;
                    }
                })
                .unwrap()
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(*m.lock(), 20);
        None
    })
}

const BIG_LOOM: Strategy = Strategy::Loom { min_bound: 3, max_bound: 6 };

#[test]
fn wall_budget_stops_loom_shuttle_and_stress_by_name() {
    let budget = Budget { wall: Some(Duration::from_millis(50)), ..Budget::default() };
    for strategy in [
        BIG_LOOM,
        shuttle(ShuttleKind::Random, u64::MAX),
        shuttle(ShuttleKind::Pct { depth: 3 }, u64::MAX),
        shuttle(ShuttleKind::Dfs, u64::MAX),
        Strategy::Stress { iterations: u64::MAX },
    ] {
        let r = run(&strategy, budget, huge_space());
        assert_eq!(r.stop, Stop::WallBudget, "{strategy:?}");
        assert!(!r.stop.is_complete());
        assert!(r.executions > 0, "{strategy:?} ran nothing");
        assert!(r.found.is_none());
        // The space is astronomically large (and shuttle/stress asked for u64::MAX iterations):
        // only the wall budget can have ended it, and it did so by name.
        assert!(r.executions < 1_000_000_000, "{strategy:?}: {} executions", r.executions);
        assert!(r.stop.to_string().contains("`wall`"));
    }
}

/// Ctrl-C: the flag is set from another OS thread while the search runs.
fn interrupted_after_50ms(strategy: Strategy, flag: &'static AtomicBool) {
    let setter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        flag.store(true, Ordering::Relaxed);
    });
    let r = run(&strategy, Budget { cancel: Some(flag), ..Budget::default() }, huge_space());
    setter.join().unwrap();
    assert_eq!(r.stop, Stop::Interrupted, "{strategy:?}");
    assert!(!r.stop.is_complete());
    assert!(r.executions > 0);
    assert!(r.found.is_none(), "{strategy:?}");
}

#[test]
fn cancel_flag_interrupts_loom() {
    static FLAG: AtomicBool = AtomicBool::new(false);
    interrupted_after_50ms(BIG_LOOM, &FLAG);
}

#[test]
fn cancel_flag_interrupts_shuttle() {
    static FLAG: AtomicBool = AtomicBool::new(false);
    interrupted_after_50ms(shuttle(ShuttleKind::Pct { depth: 3 }, u64::MAX), &FLAG);
}

#[test]
fn cancel_flag_interrupts_stress() {
    static FLAG: AtomicBool = AtomicBool::new(false);
    interrupted_after_50ms(Strategy::Stress { iterations: u64::MAX }, &FLAG);
}

/// A flag already set stops the run before its first execution.
#[test]
fn a_cancel_flag_set_before_the_run_runs_nothing() {
    static FLAG: AtomicBool = AtomicBool::new(true);
    for strategy in [LOOM, shuttle(ShuttleKind::Random, 10), Strategy::Stress { iterations: 10 }] {
        let r = run(&strategy, Budget { cancel: Some(&FLAG), ..Budget::default() }, huge_space());
        assert_eq!((r.stop, r.executions), (Stop::Interrupted, 0), "{strategy:?}");
    }
}

/// shuttle's DFS capped below the size of the space reports the cap, not exhaustion.
#[test]
fn dfs_cap_is_an_iteration_limit_not_exhaustion() {
    let r = run(&shuttle(ShuttleKind::Dfs, 25), Budget::default(), huge_space());
    assert_eq!((r.stop.clone(), r.executions), (Stop::IterationLimit, 25));
    assert!(!r.stop.is_complete());
}

/// Each of three threads appends its letter under one mutex; main records the final string.
fn appenders(outcomes: Arc<std::sync::Mutex<BTreeSet<String>>>) -> Body<()> {
    Arc::new(move |e: &Exec| {
        outcomes.lock().unwrap().insert(common::append_abc(e));
        None
    })
}

/// Exhaustive loom on a tiny model: the exact set of outcomes and loom's exact count.
///
/// The outcome set is computed by hand: the three appends all conflict on one mutex, so every
/// one of the 3! orders is a distinct outcome, and at bound 2 each is reachable (the thread
/// spawned last goes first by preempting main and then the first thread). The count is loom's:
/// it branches at every scheduling point (spawn, lock, unlock, thread exit, join) and its DPOR
/// prunes only some redundant orders, so 64 is pinned from loom 0.7.3 rather than derived; it
/// changes only if loom's search or the model's scheduling points change (see
/// [`recording_adds_no_scheduling_point`]).
#[test]
fn exhaustive_loom_explores_exactly_the_six_orders() {
    let outcomes = Arc::new(std::sync::Mutex::new(BTreeSet::new()));
    let r = run(&Strategy::Loom { min_bound: 2, max_bound: 2 }, Budget::default(), appenders(outcomes.clone()));
    assert_eq!(r.stop, Stop::Exhausted);
    assert!(r.stop.is_complete() && r.exhaustive_pass());
    let got: Vec<String> = outcomes.lock().unwrap().iter().cloned().collect();
    assert_eq!(got, ["abc", "acb", "bac", "bca", "cab", "cba"]);
    assert_eq!(r.executions, 64);
    // Iterative bounds add the passes up: 1 (bound 0) + 12 (bound 1) + 64 (bound 2).
    let r = run(&Strategy::Loom { min_bound: 0, max_bound: 2 }, Budget::default(), appenders(outcomes.clone()));
    assert_eq!((r.stop, r.executions, r.bound), (Stop::Exhausted, 77, Some(2)));
}

/// The wait-for record that names deadlocked threads and locks must not change the search:
/// the same model run by a bare loom `check` has exactly as many executions with the record on
/// for every execution as with it off. (Searches keep it off and replay a failing execution
/// with it on; the two must explore the same schedules for that replay to be faithful.)
#[test]
fn recording_adds_no_scheduling_point() {
    for record in [false, true] {
        let outcomes = Arc::new(std::sync::Mutex::new(BTreeSet::new()));
        let body = appenders(outcomes.clone());
        let count = Arc::new(AtomicU64::new(0));
        let c = count.clone();
        loom_builder(2, &Budget::default()).unwrap().check(move || {
            let index = c.fetch_add(1, Ordering::Relaxed) + 1;
            if record {
                iomc_sync::waits::begin_execution();
            }
            body(&Exec { backend: Backend::Loom, index, bound: Some(2) });
            let state = iomc_sync::waits::end_execution();
            assert_eq!(state.is_some(), record);
            if let Some(w) = state {
                // Every append is done and every thread joined: nothing held, nothing awaited.
                assert!(w.threads.iter().all(|t| t.holds.is_empty() && t.waits_for.is_none()), "{w}");
                assert_eq!(w.threads.len(), 4, "main and three appenders: {w:?}");
            }
        });
        assert_eq!(count.load(Ordering::Relaxed), 64, "record {record}");
        assert_eq!(outcomes.lock().unwrap().len(), 6);
    }
}

/// Bound 0 (no preemptions) allows exactly one order of the appenders: spawn order.
#[test]
fn bound_zero_sees_one_order() {
    let outcomes = Arc::new(std::sync::Mutex::new(BTreeSet::new()));
    let r = run(&Strategy::Loom { min_bound: 0, max_bound: 0 }, Budget::default(), appenders(outcomes.clone()));
    assert_eq!(r.stop, Stop::Exhausted);
    let got: Vec<String> = outcomes.lock().unwrap().iter().cloned().collect();
    assert_eq!(got, ["abc"]);
    assert_eq!(r.executions, 1);
}

/// shuttle's DFS has no reduction: its exhaustive count is larger than loom's, but it reaches
/// the same outcome set, and says it is exhaustive only when it ran out of schedules below its
/// cap.
#[test]
fn exhaustive_dfs_reaches_the_same_outcomes() {
    let outcomes = Arc::new(std::sync::Mutex::new(BTreeSet::new()));
    let r = run(&shuttle(ShuttleKind::Dfs, 100_000), Budget::default(), appenders(outcomes.clone()));
    assert_eq!(r.stop, Stop::Exhausted);
    assert!(r.executions >= 6 && r.executions < 100_000);
    assert_eq!(outcomes.lock().unwrap().len(), 6);
}

/// loom's `max_permutations` and `max_duration` stop `Builder::check` *silently*: it returns as
/// if the space were exhausted. iomc never sets them, whatever the environment says, so a loom
/// "exhausted" really is exhausted; the budgets iomc uses are checked by the explorer and
/// reported by name. (`tests/loom_env.rs` runs a model with `LOOM_MAX_PERMUTATIONS=1` and
/// friends set, in a process of its own, and still gets every execution.)
#[test]
fn loom_builder_never_sets_silent_stops() {
    for bound in [0, 3, 6] {
        let b = loom_builder(bound, &Budget::default()).unwrap();
        assert_eq!(b.max_permutations, None);
        assert_eq!(b.max_duration, None);
        assert_eq!(b.checkpoint_file, None);
        assert_eq!(b.preemption_bound, Some(bound as usize));
        assert_eq!(b.max_branches, Budget::default().steps_per_execution);
    }
}

/// Only a complete search may read as one.
#[test]
fn only_exhaustion_and_findings_are_complete() {
    assert!(Stop::Exhausted.is_complete() && Stop::Found.is_complete());
    for s in [
        Stop::IterationLimit,
        Stop::WallBudget,
        Stop::Interrupted,
        Stop::StepBudget { limit: 1, detail: String::new() },
        Stop::Deadlock { detail: String::new() },
        Stop::Panicked(String::new()),
    ] {
        assert!(!s.is_complete(), "{s:?}");
    }
}

/// The wait-for record is per execution: a model that finishes cleanly leaves nothing behind,
/// and the Std backend (stress) records nothing at all.
#[test]
fn clean_runs_leave_no_wait_for_state() {
    let r = run(&LOOM, Budget::default(), huge_space_small());
    assert_eq!(r.stop, Stop::Exhausted);
    assert!(iomc_sync::waits::snapshot().is_none(), "recording is off after a run");
    let r = run(&Strategy::Stress { iterations: 5 }, Budget::default(), abba_safe());
    assert_eq!(r.stop, Stop::IterationLimit);
}

fn huge_space_small() -> Body<()> {
    Arc::new(|e: &Exec| {
        let m = Arc::new(Mutex::new(e.backend, 0));
        let sp = Spawner::new(e.backend);
        let m2 = m.clone();
        let h = sp.spawn("t", move || *m2.lock() += 1).unwrap();
        *m.lock() += 1;
        h.join().unwrap();
        None
    })
}

/// Both threads take the locks in the same order: no deadlock, safe on OS threads.
fn abba_safe() -> Body<()> {
    Arc::new(|e: &Exec| {
        let b = e.backend;
        let (x, y) = (Arc::new(Mutex::new(b, ())), Arc::new(Mutex::new(b, ())));
        let sp = Spawner::new(b);
        let hs: Vec<_> = ["p", "q"]
            .into_iter()
            .map(|n| {
                let (x, y) = (x.clone(), y.clone());
                sp.spawn(n, move || {
                    let _a = x.lock();
                    let _b = y.lock();
                })
                .unwrap()
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        None
    })
}

/// A model panic that is neither a deadlock nor a budget stays a panic, with its message.
#[test]
fn a_model_panic_is_reported_as_such() {
    let body: Body<()> = Arc::new(|e: &Exec| {
        let sp = Spawner::new(e.backend);
        let h = sp.spawn("bad", || panic!("model bug: folio refcount underflow")).unwrap();
        let r = h.join();
        assert!(r.is_ok(), "worker panicked");
        None
    });
    for strategy in [LOOM, shuttle(ShuttleKind::Random, 10)] {
        let r = run(&strategy, Budget::default(), body.clone());
        let Stop::Panicked(m) = &r.stop else { panic!("{strategy:?}: {:?}", r.stop) };
        assert!(m.contains("folio refcount underflow") || m.contains("worker panicked"), "{m}");
    }
}
