//! `iomc mutants` on a small set, as CI cannot afford the whole run: each mutation is caught by
//! the scenario that exists for it, the survivors are exactly the argued equivalent ones, and a
//! survivor nobody argued for fails the run.

use std::path::PathBuf;
use std::process::{Command, Output};

fn iomc(args: &[&str]) -> Output {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    Command::new(env!("CARGO_BIN_EXE_iomc")).args(args).current_dir(root).output().expect("run iomc")
}

const SCENARIOS: [&str; 4] = [
    "scenarios/lore-2022-08-17-unwritten.toml",
    "scenarios/generic-346-hole-efault.toml",
    "scenarios/release-walk-drop-caches.toml",
    "scenarios/generic-346-f2.toml",
];

#[test]
fn a_small_set_catches_what_it_exists_for_and_only_argued_mutants_survive() {
    let mut args = vec!["mutants"];
    args.extend(SCENARIOS);
    for m in
        ["iomap_valid", "valid-before", "stale-ends-write", "punch-under-dirty", "shadow-is-hole", "fault_iomap_end"]
    {
        args.extend(["--only", m]);
    }
    let o = iomc(&args);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", String::from_utf8_lossy(&o.stderr));
    for (mutation, caught) in [
        ("linux-6.2 iomap_valid=off", "caught by lore-2022-08-17-unwritten: zeroed-data (expected pass)"),
        ("linux-6.2 mutation=valid-before-folio-lock", "caught by lore-2022-08-17-unwritten: zeroed-data"),
        ("linux-6.2 mutation=stale-ends-write", "caught by lore-2022-08-17-unwritten: invariant:short-write"),
        ("linux-6.2 mutation=punch-under-dirty", "caught by generic-346-f2: invariant:dirty-over-hole"),
        ("linux-6.2 fault_iomap_end=on", "SURVIVED 4 checks"),
        ("linux-6.2 mutation=shadow-is-hole", "SURVIVED 4 checks"),
    ] {
        let line =
            out.lines().find(|l| l.starts_with(&format!("{mutation} "))).unwrap_or_else(|| panic!("{mutation}: {out}"));
        assert!(line.contains(caught), "{mutation}: {line}");
    }
    assert!(out.contains("4 of 6 mutations caught, 2 survivors argued above, 0 unexplained"), "{out}");
}

/// A survivor with no argument is a finding: exit 1 (here a scenario set too small to catch it).
#[test]
fn an_unexplained_survivor_fails_the_run() {
    let o = iomc(&["mutants", SCENARIOS[0], "--only", "punch-under-dirty"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("SURVIVED 1 check (")
            && out.contains("0 of 1 mutations caught, 0 survivors argued above, 1 unexplained"),
        "{out}"
    );
}

/// Every argued survivor names a mutation `iomc mutants` runs.
#[test]
fn every_argued_survivor_is_a_mutation() {
    let all = iomc_harness::mutants::all_mutations();
    for (m, _) in iomc_harness::mutants::ARGUED {
        assert!(all.iter().any(|(_, set, _)| set == m), "{m} is argued but is no mutation");
    }
}
