//! A search that ran no execution proves nothing: whatever the strategy, zero executions is an
//! incomplete outcome, never a pass (issue 15: `--iterations 0` used to print "pass; 0
//! executions").

use iomc_explore::{Budget, ShuttleKind, Strategy};
use iomc_harness::{check, Outcome, Prepared};
use iomc_models::Behaviour;
use iomc_scenario::Scenario;
use std::path::PathBuf;
use std::sync::Arc;

#[test]
fn zero_executions_are_incomplete_for_every_sampling_strategy() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/lore-2022-08-17-unwritten.toml");
    let s = Arc::new(Scenario::load(&path, &Behaviour::preset_names()).unwrap());
    // linux-6.2 expects a pass here: the case where a false pass would hide.
    let p = Arc::new(Prepared::new(s, "linux-6.2", &[]).unwrap());
    let strategies = [
        Strategy::Shuttle { kind: ShuttleKind::Pct { depth: 3 }, iterations: 0, seed: 0 },
        Strategy::Shuttle { kind: ShuttleKind::Random, iterations: 0, seed: 0 },
        Strategy::Shuttle { kind: ShuttleKind::Dfs, iterations: 0, seed: 0 },
        Strategy::Stress { iterations: 0 },
    ];
    for strategy in strategies {
        let r = check(p.clone(), &strategy, Budget::default(), None);
        assert_eq!(r.report.executions, 0, "{strategy:?}");
        assert!(
            matches!(&r.outcome, Outcome::Incomplete(m) if m.contains("no execution ran")),
            "{strategy:?}: {:?}",
            r.outcome
        );
        assert!(!r.matches(), "{strategy:?}");
    }
    // One execution is a sample, and a sample of a passing scenario is a pass.
    let one = Strategy::Shuttle { kind: ShuttleKind::Random, iterations: 1, seed: 0 };
    let r = check(p, &one, Budget::default(), None);
    assert_eq!(r.report.executions, 1);
    assert!(r.matches(), "{:?}", r.outcome);
}
