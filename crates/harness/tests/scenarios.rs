//! Every shipped scenario × kernel preset gives the verdict the kernel is known to give.
//!
//! The expected verdicts below come from the scenarios' sources (kernel.md: the lore thread,
//! the fix series, fstests), and must agree with each file's `[expect]` table. A `pass` must
//! come from an exhaustive loom run (bound >= 2) that was not cut short; a violation must be
//! found by a search, never by a scripted schedule.

use iomc_explore::{Budget, ShuttleKind, Stop, Strategy};
use iomc_harness::{check, default_strategy, token, CheckResult, Outcome, Prepared};
use iomc_models::Behaviour;
use iomc_scenario::{Scenario, Verdict};
use std::path::PathBuf;
use std::sync::Arc;

fn load(name: &str) -> Arc<Scenario> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios").join(format!("{name}.toml"));
    Arc::new(Scenario::load(&path, &Behaviour::preset_names()).unwrap_or_else(|e| panic!("{e}")))
}

fn run(name: &str, preset: &str, sets: &[&str], strategy: Option<Strategy>) -> CheckResult {
    let s = load(name);
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let strategy = strategy.unwrap_or_else(|| default_strategy(&s));
    let p = Arc::new(Prepared::new(s, preset, &sets).unwrap());
    let r = check(p, &strategy, Budget::default(), None);
    println!(
        "{name} {preset} {sets:?}: {} after {} executions, stop {:?}, bound {:?}, {:?}",
        r.outcome.label(),
        r.report.executions,
        r.report.stop,
        r.report.bound,
        r.report.elapsed
    );
    r
}

/// Assert the known verdict, that the file agrees, and how the verdict was reached.
fn expect(name: &str, preset: &str, known: Verdict) {
    let s = load(name);
    assert_eq!(
        s.expected(preset),
        Some(&known),
        "{name}: the file's [expect] disagrees with the kernel's known behaviour"
    );
    let r = run(name, preset, &[], Some(at_most_bound_3(&s)));
    assert_eq!(r.outcome, Outcome::Verdict(known.clone()), "{name} on {preset}");
    assert!(r.report.executions > 0);
    if known == Verdict::Pass {
        assert_eq!(r.report.stop, Stop::Exhausted, "a pass must come from an exhaustive search");
        assert!(r.report.bound.unwrap_or(0) >= 3, "a pass needs loom bound >= 3 here");
    } else {
        let f = r.report.found.as_ref().expect("a violation carries its execution");
        assert!(f.finding.summary.starts_with(&known.to_string()), "{}", f.finding.summary);
        assert!(r.token.is_some());
    }
}

/// The default strategy with its loom phase capped at bound 3. The matrix gate (`ci/gate.sh`,
/// `iomc matrix`, in the same CI run) proves every pass at the default bound (4 for up to three
/// threads); proving them at 4 here again would cost CI about four more minutes for nothing.
fn at_most_bound_3(s: &Scenario) -> Strategy {
    match default_strategy(s) {
        Strategy::PctThenLoom { pct_iterations, seed, max_bound } => {
            Strategy::PctThenLoom { pct_iterations, seed, max_bound: max_bound.min(3) }
        }
        other => panic!("the default strategy changed shape: {other:?}"),
    }
}

macro_rules! verdicts {
    ($($test:ident: $name:literal, $preset:literal => $verdict:expr;)*) => {
        $( #[test] fn $test() { expect($name, $preset, $verdict); } )*
    };
}

verdicts! {
    lore_unwritten_6_1: "lore-2022-08-17-unwritten", "linux-6.1" => Verdict::ZeroedData;
    lore_unwritten_6_2: "lore-2022-08-17-unwritten", "linux-6.2" => Verdict::Pass;
    lore_delalloc_6_1: "lore-2022-08-17-delalloc", "linux-6.1" => Verdict::ZeroedData;
    lore_delalloc_6_2: "lore-2022-08-17-delalloc", "linux-6.2" => Verdict::Pass;
    xfs_559_6_1: "xfs-559", "linux-6.1" => Verdict::ZeroedData;
    xfs_559_6_2: "xfs-559", "linux-6.2" => Verdict::Pass;
    subpage_1k_6_1: "subpage-blocks-1k", "linux-6.1" => Verdict::ZeroedData;
    subpage_1k_6_2: "subpage-blocks-1k", "linux-6.2" => Verdict::Pass;
    large_folio_6_1: "large-folio-readahead", "linux-6.1" => Verdict::ZeroedData;
    large_folio_6_2: "large-folio-readahead", "linux-6.2" => Verdict::Pass;
    g346_hole_6_1: "generic-346-hole", "linux-6.1" => Verdict::Pass;
    g346_hole_stale_only: "generic-346-hole", "stale-check-only" => Verdict::ZeroedData;
    g346_hole_6_2: "generic-346-hole", "linux-6.2" => Verdict::Pass;
    g346_efault_6_1: "generic-346-hole-efault", "linux-6.1" => Verdict::ZeroedData;
    g346_efault_stale_only: "generic-346-hole-efault", "stale-check-only" => Verdict::ZeroedData;
    g346_efault_6_2: "generic-346-hole-efault", "linux-6.2" => Verdict::Pass;
    g346_f2_6_1: "generic-346-f2", "linux-6.1" => Verdict::Invariant("dirty-over-hole".into());
    g346_f2_stale_only: "generic-346-f2", "stale-check-only" => Verdict::Invariant("dirty-over-hole".into());
    g346_f2_6_2: "generic-346-f2", "linux-6.2" => Verdict::Pass;
    g346_unwritten_6_1: "generic-346-unwritten", "linux-6.1" => Verdict::Pass;
    g346_unwritten_stale_only: "generic-346-unwritten", "stale-check-only" => Verdict::Pass;
    g346_unwritten_6_2: "generic-346-unwritten", "linux-6.2" => Verdict::Pass;
    g346_written_6_1: "generic-346-written", "linux-6.1" => Verdict::Pass;
    g346_written_stale_only: "generic-346-written", "stale-check-only" => Verdict::Pass;
    g346_written_6_2: "generic-346-written", "linux-6.2" => Verdict::Pass;
    xfs_196_6_1: "xfs-196", "linux-6.1" => Verdict::ZeroedData;
    xfs_196_stale_only: "xfs-196", "stale-check-only" => Verdict::ZeroedData;
    xfs_196_6_2: "xfs-196", "linux-6.2" => Verdict::Unsupported;
    eof_cap_6_1: "delalloc-beyond-eof", "linux-6.1" => Verdict::Pass;
    eof_cap_6_2: "delalloc-beyond-eof", "linux-6.2" => Verdict::Pass;
    g524_6_1: "generic-524-writeback-stale-map", "linux-6.1" => Verdict::Pass;
    g524_6_2: "generic-524-writeback-stale-map", "linux-6.2" => Verdict::Pass;
    g524_5_0: "generic-524-writeback-stale-map", "linux-5.0" => Verdict::Pass;
    stale_map_5_0: "writeback-stale-map-5.0", "linux-5.0" => Verdict::Invariant("orphan-delalloc".into());
    discard_folio_6_1: "xfs-discard-folio-6.2", "linux-6.1" => Verdict::Pass;
    discard_folio_6_2: "xfs-discard-folio-6.2", "linux-6.2" => Verdict::Invariant("dirty-over-hole".into());
    discard_folio_6_3: "xfs-discard-folio-6.2", "linux-6.3" => Verdict::Pass;
    ifs_punch_6_1: "ifs-punch-clean-blocks", "linux-6.1" => Verdict::Invariant("xfs-bmapi-convert-delalloc".into());
    ifs_punch_6_3: "ifs-punch-clean-blocks", "linux-6.3" => Verdict::Pass;
    ifs_punch_6_6: "ifs-punch-clean-blocks", "linux-6.6" => Verdict::Pass;
    dio_release_walk_6_6: "dio-release-walk", "linux-6.6" => Verdict::Invariant("iomap-write-delalloc-release".into());
    dio_release_walk_6_12: "dio-release-walk", "linux-6.12" => Verdict::Pass;
    zero_eof_write_6_6: "zero-eof-unwritten-write", "linux-6.6" => Verdict::StaleData;
    zero_eof_write_6_12: "zero-eof-unwritten-write", "linux-6.12" => Verdict::Pass;
    zero_eof_truncate_6_6: "zero-eof-unwritten-truncate", "linux-6.6" => Verdict::StaleData;
    zero_eof_truncate_6_12: "zero-eof-unwritten-truncate", "linux-6.12" => Verdict::Pass;
    append_crash_6_12: "append-writeback-crash", "linux-6.12" => Verdict::ZeroedData;
    append_crash_6_13: "append-writeback-crash", "linux-6.13" => Verdict::Pass;
    eof_extend_mmap_6_12: "eof-folio-extend-mmap", "linux-6.12" => Verdict::StaleData;
    eof_extend_mmap_6_13: "eof-folio-extend-mmap", "linux-6.13" => Verdict::Pass;
    cow_punch_6_6: "cow-short-write-punch", "linux-6.6" => Verdict::Invariant("orphan-cow-delalloc".into());
    cow_punch_6_12: "cow-short-write-punch", "linux-6.12" => Verdict::Pass;
    cow_zero_lock_6_12: "cow-zero-invalidate-lock", "linux-6.12" => Verdict::Pass;
    always_cow_6_6: "always-cow-short-write", "linux-6.6" => Verdict::Invariant("orphan-cow-delalloc".into());
    always_cow_6_12: "always-cow-short-write", "linux-6.12" => Verdict::Pass;
    zoned_zero_hole_6_13: "zoned-zero-hole", "linux-6.13" => Verdict::Unsupported;
    zoned_zero_hole_6_18: "zoned-zero-hole", "linux-6.18" => Verdict::Pass;
    zoned_short_write_6_13: "zoned-three-way-short-write", "linux-6.13" => Verdict::Unsupported;
    zoned_short_write_6_18: "zoned-three-way-short-write", "linux-6.18" => Verdict::Pass;
}

/// §9.6's finding is in the crash view: the on-disk size covers the zeroes of the old post-EOF
/// tail, while the live file (after the threads joined) is whole.
#[test]
fn append_crash_is_found_in_the_crash_view_only() {
    let r = run("append-writeback-crash", "linux-6.12", &[], None);
    let f = r.report.found.as_ref().expect("a violation");
    assert!(f.finding.summary.contains("crash view (on-disk size 2000)"), "{}", f.finding.summary);
    assert!(f.finding.detail.iter().any(|d| d.contains("every byte as expected")), "{:?}", f.finding.detail);
}

/// §9.2's leak needs per-block dirty state without the ifs punch: with both (6.6) or neither
/// (6.3) nothing leaks; 6.6 without the punch leaves the clean blocks' delalloc behind.
#[test]
fn ifs_punch_off_leaks_delalloc_on_6_6() {
    let r = run("ifs-punch-clean-blocks", "linux-6.6", &["ifs_punch=off"], None);
    assert_eq!(r.outcome, Outcome::Verdict(Verdict::Invariant("orphan-delalloc".into())));
    let f = r.report.found.as_ref().expect("the leak carries its execution");
    assert!(f.finding.summary.contains("[2048, 3072)"), "{}", f.finding.summary);
}

/// §9.1 step by step: on 6.2 the ENOSPC at offset 0 punches `[0, 0)`, which deletes the whole
/// delalloc extent, folio 1's block included; the failing folio's own loss is allowed (its
/// error was reported), so the finding is about block 1 only.
#[test]
fn discard_folio_6_2_punches_the_next_folio() {
    let r = run("xfs-discard-folio-6.2", "linux-6.2", &[], None);
    let f = r.report.found.as_ref().expect("found");
    let punched = f.finding.events.iter().any(|e| {
        e.func == "xfs_bmap_del_extent_delay"
            && matches!(e.what, iomc_models::What::Extent { from_byte: 0, to_byte: 8192, .. })
    });
    assert!(punched, "the empty punch at 0 must delete the delalloc of both folios");
    assert!(f.finding.summary.contains("[4096, 8192)"), "{}", f.finding.summary);
}

/// 5.0's writeback reuses its cached map only for a folio of a later batch: with one folio per
/// batch the two-page generic/524 shows the race the 15-page batch hides (kernel.md §14).
#[test]
fn batches_hide_the_two_page_stale_map_on_5_0() {
    let r = run("generic-524-writeback-stale-map", "linux-5.0", &["writeback_batch=1"], None);
    assert_eq!(r.outcome, Outcome::Verdict(Verdict::Invariant("orphan-delalloc".into())));
}

/// F2 leaves a dirty page over a hole; writeback skips it, so the store never reaches the
/// disk: the oracle's own fsync shows the skip, and its durable view reports the lost bytes.
#[test]
fn f2_store_never_reaches_the_disk() {
    let r = run("generic-346-f2", "linux-6.1", &[], None);
    let f = r.report.found.as_ref().expect("F2 found");
    let skipped = f.finding.events.iter().any(|e| {
        e.func == "iomap_writepage_map"
            && matches!(e.what, iomc_models::What::WritebackSkip { why: "mapped to a hole", .. })
    });
    assert!(skipped, "the oracle's fsync must show writeback skipping the block mapped to a hole");
    let on_disk = f.finding.detail.iter().find(|d| d.starts_with("and on disk:")).expect("durable finding");
    assert!(on_disk.contains("zeroed-data") && on_disk.contains("[3072, 3080)"), "{on_disk}");
}

/// Keeping drop_writes on 6.2 shows why it was removed: the new cleanup keeps the delalloc
/// under the dirty folio, so the "failed" writes land after all and nothing is tossed.
#[test]
fn drop_writes_on_6_2_no_longer_drops_anything() {
    let r = run("xfs-196", "linux-6.2", &["drop_writes_errortag=on"], None);
    assert_eq!(r.outcome, Outcome::Verdict(Verdict::Pass));
}

/// Undoing the validity check on 6.2 re-opens the race (d7b64041164c/304a68b9c63b are what
/// close it).
#[test]
fn lore_6_2_without_iomap_valid_fails_again() {
    let r = run("lore-2022-08-17-unwritten", "linux-6.2", &["iomap_valid=off"], None);
    assert_eq!(r.outcome, Outcome::Verdict(Verdict::ZeroedData));
}

/// The 6.1 race needs a preemption: loom bound 0 (no preemptions) cannot show it, and the
/// search reports that as exhaustive under bound 0, not as a general pass.
#[test]
fn bound_zero_is_exhaustive_but_misses_the_race() {
    let r = run("lore-2022-08-17-unwritten", "linux-6.1", &[], Some(Strategy::Loom { min_bound: 0, max_bound: 0 }));
    assert_eq!(r.report.stop, Stop::Exhausted);
    assert_eq!(r.report.bound, Some(0));
    assert!(r.report.found.is_none());
}

/// A loom token replays to the same violation, event for event.
#[test]
fn loom_token_replays_the_same_execution() {
    let s = load("lore-2022-08-17-unwritten");
    let r = run("lore-2022-08-17-unwritten", "linux-6.1", &[], Some(iomc_harness::loom_strategy(&s)));
    let first = r.report.found.as_ref().unwrap();
    let t = token::decode(r.token.as_ref().unwrap()).unwrap();
    assert!(matches!(t.strategy, Strategy::LoomReplay { .. }));
    let again = run("lore-2022-08-17-unwritten", &t.preset, &[], Some(t.strategy.clone()));
    let second = again.report.found.as_ref().expect("replay reproduces the violation");
    assert_eq!(first.finding.summary, second.finding.summary);
    assert_eq!(first.finding.events, second.finding.events);
}

/// shuttle PCT with a fixed seed finds the 6.1 race by search, and its recorded schedule
/// replays to the same violation.
#[test]
fn pct_finds_the_race_and_its_schedule_replays() {
    let pct = Strategy::Shuttle { kind: ShuttleKind::Pct { depth: 3 }, iterations: 10_000, seed: 7 };
    let r = run("xfs-559", "linux-6.1", &[], Some(pct));
    let first = r.report.found.as_ref().expect("PCT depth 3 finds a depth-2 race in 10,000 runs");
    let t = token::decode(r.token.as_ref().unwrap()).unwrap();
    assert!(matches!(t.strategy, Strategy::ShuttleReplay { .. }));
    let again = run("xfs-559", "linux-6.1", &[], Some(t.strategy));
    let second = again.report.found.as_ref().expect("shuttle replay reproduces the violation");
    assert_eq!(first.finding.events, second.finding.events);
}

/// Random scheduling on 6.2 finds nothing in 2,000 runs of every scenario (a sample, on top
/// of the exhaustive loom proofs above).
#[test]
fn random_finds_nothing_on_6_2() {
    for name in ["lore-2022-08-17-unwritten", "lore-2022-08-17-delalloc", "subpage-blocks-1k"] {
        let random = Strategy::Shuttle { kind: ShuttleKind::Random, iterations: 2_000, seed: 1 };
        let r = run(name, "linux-6.2", &[], Some(random));
        assert_eq!(r.outcome, Outcome::Verdict(Verdict::Pass), "{name}");
        assert_eq!(r.report.executions, 2_000);
    }
}

/// More threads than loom allows is a clear error before anything runs.
#[test]
fn loom_thread_limit_is_an_error_not_a_panic() {
    let mut s = (*load("lore-2022-08-17-unwritten")).clone();
    let extra = s.threads[2].clone();
    for i in 0..2 {
        let mut t = extra.clone();
        t.name = format!("kswapd{i}");
        s.threads.push(t);
    }
    let p = Prepared::new(Arc::new(s), "linux-6.1", &[]).unwrap();
    let err = iomc_harness::preflight(&p, &Strategy::Loom { min_bound: 0, max_bound: 2 }).unwrap_err();
    assert!(err.contains("loom allows at most 5 threads"), "{err}");
    assert!(
        iomc_harness::preflight(&p, &Strategy::Shuttle { kind: ShuttleKind::Random, iterations: 1, seed: 0 }).is_ok()
    );
}

/// Every violation the shipped scenarios produce replays from its token to the same
/// violation, event for event.
#[test]
fn every_found_violation_replays_from_its_token() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let files = iomc_scenario::collect_files(&[dir]).unwrap();
    let mut replayed = 0;
    for f in files {
        let s = Arc::new(Scenario::load(&f, &Behaviour::preset_names()).unwrap());
        for (preset, verdict, _) in &s.expect {
            // A deadlock ends the search as a stop that names the locks, with no execution to
            // replay (no token yet).
            if *verdict == Verdict::Pass || *verdict == Verdict::Deadlock {
                continue;
            }
            let p = Arc::new(Prepared::new(s.clone(), preset, &[]).unwrap());
            let r = check(p.clone(), &default_strategy(&s), Budget::default(), None);
            let first = r.report.found.as_ref().unwrap_or_else(|| panic!("{} {preset}: no violation", s.name));
            let t = token::decode(r.token.as_ref().unwrap()).unwrap();
            assert_eq!(t.hash, s.content_hash);
            let again = check(p, &t.strategy, Budget::default(), None);
            let second = again.report.found.as_ref().unwrap_or_else(|| panic!("{} {preset}: replay lost it", s.name));
            assert_eq!(first.finding.summary, second.finding.summary, "{} {preset}", s.name);
            assert_eq!(first.finding.events, second.finding.events, "{} {preset}", s.name);
            replayed += 1;
        }
    }
    assert!(replayed >= 13, "only {replayed} violations replayed");
}

/// The default strategy finds the lore races in its PCT phase (their depth is 2 priority
/// changes, within PCT depth 3; the phase's 1,000 executions miss them with probability about
/// 0.5% by the measured hit rates), so loom never runs, and the token is a shuttle schedule
/// that replays to the same violation.
#[test]
fn default_strategy_finds_the_lore_races_in_its_pct_phase() {
    for name in ["lore-2022-08-17-unwritten", "lore-2022-08-17-delalloc"] {
        let r = run(name, "linux-6.1", &[], None);
        assert_eq!(r.outcome, Outcome::Verdict(Verdict::ZeroedData), "{name}");
        let f = r.report.found.as_ref().unwrap();
        assert_eq!(f.bound, None, "{name}: found by the PCT phase, not by loom");
        assert!(r.report.presearch <= iomc_harness::DEFAULT_PCT_ITERATIONS);
        let t = token::decode(r.token.as_ref().unwrap()).unwrap();
        assert!(matches!(t.strategy, Strategy::ShuttleReplay { .. }), "{name}");
        let again = run(name, &t.preset, &[], Some(t.strategy.clone()));
        assert_eq!(again.report.found.as_ref().map(|g| g.finding.events.clone()), Some(f.finding.events.clone()));
    }
}

/// A pass under the default strategy is the PCT phase in full, then loom's exhaustive search.
#[test]
fn default_strategy_pass_rests_on_loom() {
    let r = run("lore-2022-08-17-unwritten", "linux-6.2", &[], None);
    assert_eq!(r.outcome, Outcome::Verdict(Verdict::Pass));
    assert_eq!(r.report.presearch, iomc_harness::DEFAULT_PCT_ITERATIONS);
    assert_eq!(r.report.stop, Stop::Exhausted);
    assert_eq!(r.report.bound, Some(iomc_harness::DEFAULT_PREEMPTION_BOUND));
    assert!(r.report.executions > r.report.presearch);
}

/// Issue 17: a scenario that sets no bound is proved at bound 4 with up to three threads and at
/// bound 3 with four (loom's limit), where bound 4 costs eight times bound 3.
#[test]
fn default_bound_follows_the_thread_count() {
    assert_eq!(iomc_harness::DEFAULT_PREEMPTION_BOUND, 4);
    for (name, threads, bound) in
        [("xfs-196", 1, 4), ("generic-346-f2", 2, 4), ("xfs-559", 3, 4), ("customer-4-thread", 4, 3)]
    {
        let s = load(name);
        assert_eq!(s.threads.len(), threads, "{name}");
        assert_eq!(s.explore.preemption_bound, None, "{name}: the shipped files take the default");
        assert_eq!(iomc_harness::loom_bound(&s), bound, "{name}");
    }
}

/// §9.5(b): with 6.12's NEW on COW mappings but the release walk still taking invalidate_lock
/// itself, a short zeroing under truncate's invalidate_lock takes it again: a deadlock the
/// report names with the lock and its holder.
#[test]
fn cow_zero_with_the_old_lock_placement_deadlocks() {
    let r = run("cow-zero-invalidate-lock", "linux-6.12", &["punch_lock_in_fs=off"], None);
    assert_eq!(r.outcome, Outcome::Verdict(Verdict::Deadlock));
    let Stop::Deadlock { detail } = &r.report.stop else { panic!("{:?}", r.report.stop) };
    assert!(detail.contains("truncator holds i_rwsem (IOLOCK), invalidate_lock"), "{detail}");
    assert!(detail.contains("waits for invalidate_lock (held by truncator)"), "{detail}");
}

/// §9.8: with iomap no longer flushing over holes (a35bb0dec955, 7.1) and nothing in XFS doing
/// it, the zoned zeroing of an extending truncate skips the dirty cache over a data-fork hole;
/// with 7.1's zoned flush (2f46c239fce6) it is whole again, exhaustively.
#[test]
fn zoned_zero_hole_needs_the_zoned_flush_once_iomap_stops_flushing() {
    let r = run("zoned-zero-hole", "linux-6.18", &["zero_flush_holes=off"], None);
    assert_eq!(r.outcome, Outcome::Verdict(Verdict::StaleData));
    let f = r.report.found.as_ref().expect("a violation carries its execution");
    assert!(f.finding.summary.contains("[2000, 2100) hold 0x22"), "{}", f.finding.summary);
    let r = run("zoned-zero-hole", "linux-6.18", &["zero_flush_holes=off", "zoned_zero_hole_flush=on"], None);
    assert_eq!(r.outcome, Outcome::Verdict(Verdict::Pass));
    assert_eq!(r.report.stop, Stop::Exhausted);
}

/// §9.9, negative control: without the cap on the reservation the model's WARN fires (the
/// write's mapping goes stale at its first or second folio, so it asks for 8 blocks with 7
/// left or for 4 with 3: either way one block more than it has).
#[test]
fn zoned_write_without_the_reservation_cap_warns() {
    let r = run("zoned-three-way-short-write", "linux-6.18", &["zoned_short_write=off"], None);
    assert_eq!(r.outcome, Outcome::Verdict(Verdict::Invariant("xfs-zoned-buffered-write-iomap-begin".into())));
    let f = r.report.found.as_ref().expect("a violation carries its execution");
    let s = &f.finding.summary;
    assert!(s.contains("8 blocks reserved with 7 left") || s.contains("4 blocks reserved with 3 left"), "{s}");
}

/// The release walk's SEEK_DATA/SEEK_HOLE calls are events (generic/346's cleanup decides what
/// to punch from them), and a read's event carries the bytes it returned: on 6.2 the writer's
/// read of the file's second half returns what the direct write's unwritten extent and the holes
/// read as (zeroes), and its SEEK_HOLE returns the offset SEEK_DATA just found.
#[test]
fn release_walk_seeks_and_read_bytes_are_events() {
    use iomc_models::What;
    let r = run("dio-release-walk", "linux-6.2", &[], None);
    let f = r.report.found.as_ref().expect("found");
    let seeks: Vec<_> = f
        .finding
        .events
        .iter()
        .filter_map(|e| match e.what {
            What::Seek { data, start, found, .. } if e.func == "mapping_seek_hole_data" => Some((data, start, found)),
            _ => None,
        })
        .collect();
    assert!(seeks.contains(&(false, 6144, Some(6144))), "SEEK_HOLE(6144) returning 6144 is an event: {seeks:?}");
    assert!(seeks.iter().any(|s| s.0), "SEEK_DATA calls are events too: {seeks:?}");
    let reads: Vec<_> = f
        .finding
        .events
        .iter()
        .filter_map(|e| match &e.what {
            What::Returned { offset, runs } if e.func == "xfs_file_buffered_read" => Some((*offset, runs.clone())),
            _ => None,
        })
        .collect();
    assert!(reads.contains(&(0, vec![(0, 8192, 0)])), "the setup read returns 8192 zeroes: {reads:?}");
    assert!(reads.iter().all(|(o, runs)| runs.first().map(|r| r.0) == Some(*o)), "{reads:?}");
    let text = iomc_harness::render::describe(&What::Returned { offset: 0, runs: vec![(0, 2, 0xA5), (2, 3, 1)] });
    assert_eq!(text, "returns 3 bytes from 0: [0, 2) 0xa5 (never written), [2, 3) 0x01");
}
