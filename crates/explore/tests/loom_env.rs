//! loom reads `LOOM_MAX_PERMUTATIONS`, `LOOM_MAX_DURATION` and `LOOM_CHECKPOINT_INTERVAL` from
//! the environment, and with them set, `Builder::check` returns early *with success*: a search
//! cut after one execution would read as exhaustive. iomc overrides them. This test sets them
//! (in a test binary of its own, so no other test shares the environment) and checks that the
//! search still runs every execution, and that an unparsable `LOOM_*` value is an error that
//! names loom's complaint instead of a panic.

use iomc_explore::{explore, Body, Budget, Exec, Stop, Strategy};
use iomc_sync::{Mutex, Spawner};
use std::sync::Arc;

/// Three threads, one conflicting lock each: 64 loom executions at bound 2 (see runaway.rs).
fn three_lockers() -> Body<()> {
    Arc::new(|e: &Exec| {
        let m = Arc::new(Mutex::new(e.backend, 0u32));
        let sp = Spawner::new(e.backend);
        let hs: Vec<_> = ["a", "b", "c"]
            .into_iter()
            .map(|n| {
                let m = m.clone();
                sp.spawn(n, move || *m.lock() += 1).unwrap()
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        None
    })
}

#[test]
fn loom_environment_cannot_cut_a_search_silently() {
    let strategy = Strategy::Loom { min_bound: 2, max_bound: 2 };
    let clean = explore(&strategy, Budget::default(), three_lockers(), None);
    assert_eq!((clean.stop.clone(), clean.executions), (Stop::Exhausted, 64));

    // Were these honoured, loom would return from `check` as if it had finished after one
    // permutation or zero seconds, explore no preemption, or overflow its branch table; an
    // interval of 0 would divide by zero.
    std::env::set_var("LOOM_MAX_PERMUTATIONS", "1");
    std::env::set_var("LOOM_MAX_DURATION", "0");
    std::env::set_var("LOOM_CHECKPOINT_INTERVAL", "0");
    std::env::set_var("LOOM_MAX_PREEMPTIONS", "0");
    std::env::set_var("LOOM_MAX_BRANCHES", "3");
    let r = explore(&strategy, Budget::default(), three_lockers(), None);
    assert_eq!((r.stop.clone(), r.executions), (Stop::Exhausted, 64), "the environment cut the search");

    std::env::set_var("LOOM_MAX_PERMUTATIONS", "many");
    let r = explore(&strategy, Budget::default(), three_lockers(), None);
    let Stop::Panicked(m) = &r.stop else { panic!("{:?}", r.stop) };
    assert!(m.contains("LOOM_") && m.contains("LOOM_MAX_PERMUTATIONS"), "{m}");
    assert_eq!(r.executions, 0);
    for v in [
        "LOOM_MAX_PERMUTATIONS",
        "LOOM_MAX_DURATION",
        "LOOM_CHECKPOINT_INTERVAL",
        "LOOM_MAX_PREEMPTIONS",
        "LOOM_MAX_BRANCHES",
    ] {
        std::env::remove_var(v);
    }
}
