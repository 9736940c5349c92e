//! The model-side observations of the conformance check: sequential runs give the sizes and
//! extent states XFS gives, the serialisations are every interleaving (or distinct random
//! ones), and loom's outcome set of two overlapping pwrites is exactly their two orders.
//!
//! The expected values come from what XFS does (fallocate allocates unwritten extents and
//! extends i_size; a buffered write leaves an unwritten extent unwritten and reserves
//! delalloc over a hole; I/O completion converts to written; a punch unmaps whole blocks
//! only; truncate frees the blocks beyond the new EOF block), not from the model's output.

use iomc_explore::{Budget, Stop};
use iomc_harness::observe::{outcome_set, run_sequential, serializations};
use iomc_harness::Prepared;
use iomc_models::Behaviour;
use iomc_scenario::observe::{BlockState, FinalViews, OpResult, RunOutcome, Snapshot};
use iomc_scenario::Scenario;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use BlockState::{Delalloc as D, Hole as H, Unwritten as U, Written as W};

fn load(name: &str) -> Arc<Scenario> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios").join(format!("{name}.toml"));
    Arc::new(Scenario::load(&path, &Behaviour::preset_names()).unwrap_or_else(|e| panic!("{e}")))
}

/// A scenario on 4 KiB blocks, pages and folios with these setup ops and threads (TOML op
/// lists).
fn inline(setup: &str, threads: &[&str]) -> Arc<Scenario> {
    let mut text = format!(
        "name = \"observe-test\"\nsummary = \"test\"\nsource = \"test\"\nsetup = [{setup}]\n\n\
         [geometry]\nblock_size = 4096\npage_size = 4096\nfolio_pages = [1]\n"
    );
    for (i, ops) in threads.iter().enumerate() {
        text += &format!("\n[[thread]]\nname = \"t{i}\"\nops = [{ops}]\n");
    }
    text += "\n[expect]\n\"linux-6.2\" = \"pass\"\n";
    Arc::new(Scenario::parse("observe-test.toml", &text, &Behaviour::preset_names()).unwrap_or_else(|e| panic!("{e}")))
}

fn prepared(s: Arc<Scenario>) -> Prepared {
    Prepared::new(s, "linux-6.2", &[]).unwrap()
}

fn ok(ret: i64) -> OpResult {
    OpResult { ret, data: Vec::new() }
}

fn snap(size: u64, blocks: &[BlockState]) -> Snapshot {
    Snapshot { size, blocks: blocks.to_vec() }
}

fn bytes(runs: &[(u8, usize)]) -> Vec<u8> {
    runs.iter().flat_map(|&(b, n)| vec![b; n]).collect()
}

/// The lore race's ops in the order writer, flusher, kswapd: fallocate gives three unwritten
/// blocks and i_size 12288; buffered writes into them leave them unwritten (the data is only
/// in the page cache); writeback of block 2 converts it to written at I/O completion; reclaim
/// changes no extent.
#[test]
fn lore_unwritten_in_thread_order() {
    let p = prepared(load("lore-2022-08-17-unwritten"));
    let t = Instant::now();
    let r = run_sequential(&p, &[(0, 0), (1, 0), (2, 0)]);
    println!("run_sequential: {:?}", t.elapsed());
    let got: Vec<(OpResult, Snapshot)> = r.steps.iter().map(|s| (s.result.clone(), s.after.clone())).collect();
    let want = vec![
        (ok(0), snap(12288, &[U, U, U])),     // setup: fallocate 0..12288
        (ok(2048), snap(12288, &[U, U, U])),  // setup: pwrite [10240, 12288) of 0x41
        (ok(10240), snap(12288, &[U, U, U])), // writer: pwrite [0, 10240) of 0x42
        (ok(0), snap(12288, &[U, U, W])),     // flusher: writeback [8192, 12288)
        (ok(0), snap(12288, &[U, U, W])),     // kswapd: reclaim [8192, 12288)
    ];
    assert_eq!(got, want);
    let data = bytes(&[(0x42, 10240), (0x41, 2048)]);
    assert_eq!(r.views, FinalViews { size: 12288, cache: data.clone(), durable: data });
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

/// The race's bad order run sequentially is harmless: writeback and reclaim of block 2
/// before the writer starts; the writer then maps block 2 as written and reads W1's bytes
/// back in. Sequential runs cannot show the race (it needs the writer preempted mid-op).
#[test]
fn lore_unwritten_flush_first() {
    let p = prepared(load("lore-2022-08-17-unwritten"));
    let r = run_sequential(&p, &[(1, 0), (2, 0), (0, 0)]);
    let maps: Vec<String> = r.steps.iter().map(|s| BlockState::map(&s.after.blocks)).collect();
    assert_eq!(maps, ["uuu", "uuu", "uuW", "uuW", "uuW"]);
    assert_eq!(r.steps[4].result, ok(10240));
    let data = bytes(&[(0x42, 10240), (0x41, 2048)]);
    assert_eq!(r.views.cache, data);
    assert_eq!(r.views.durable, data);
}

/// Every op kind a user can see the effect of, one thread, in order.
#[test]
fn sequential_op_effects_follow_xfs() {
    let ops = [
        r#"{ op = "pwrite", offset = 0, length = 6144, fill = 0x42 }"#, // delalloc over the hole
        r#"{ op = "writeback" }"#,                                      // allocated, written at completion
        r#"{ op = "punch_hole", offset = 0, length = 4096 }"#,          // whole block 0 unmapped
        r#"{ op = "read", offset = 0, length = 8192 }"#,                // stops at EOF 6144
        r#"{ op = "truncate", size = 2048 }"#,                          // frees block 1
        r#"{ op = "fallocate", offset = 0, length = 8192 }"#,           // unwritten, i_size 8192
        r#"{ op = "pwrite", offset = 8192, length = 1024, fill = 0x44 }"#, // delalloc past EOF
    ];
    let p = prepared(inline("", &[&ops.join(", ")]));
    let order: Vec<(usize, usize)> = (0..ops.len()).map(|i| (0, i)).collect();
    let r = run_sequential(&p, &order);
    let got: Vec<Snapshot> = r.steps.iter().map(|s| s.after.clone()).collect();
    assert_eq!(
        got,
        vec![
            snap(6144, &[D, D]),
            snap(6144, &[W, W]),
            snap(6144, &[H, W]),
            snap(6144, &[H, W]),
            snap(2048, &[H]),
            snap(8192, &[U, U]),
            snap(9216, &[U, U, D]),
        ]
    );
    let rets: Vec<i64> = r.steps.iter().map(|s| s.result.ret).collect();
    assert_eq!(rets, [6144, 0, 0, 6144, 0, 0, 1024]);
    assert_eq!(r.steps[3].result.data, bytes(&[(0, 4096), (0x42, 2048)]), "the punched block reads as zeroes");
    assert!(r.steps.iter().enumerate().all(|(i, s)| i == 3 || s.result.data.is_empty()));
    let data = bytes(&[(0, 8192), (0x44, 1024)]);
    assert_eq!(r.views, FinalViews { size: 9216, cache: data.clone(), durable: data });
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

fn is_interleaving(order: &[(usize, usize)], lens: &[usize]) -> bool {
    let mut next = vec![0; lens.len()];
    for &(t, i) in order {
        if t >= lens.len() || next[t] != i {
            return false;
        }
        next[t] += 1;
    }
    next == lens
}

const PW: &str = r#"{ op = "pwrite", offset = 0, length = 4096, fill = 0x42 }"#;

#[test]
fn serializations_of_two_and_one_ops_are_three() {
    let s = inline("", &[&format!("{PW}, {PW}"), PW]);
    let (all, complete) = serializations(&s, 100, 0);
    assert!(complete);
    assert_eq!(all, vec![vec![(0, 0), (0, 1), (1, 0)], vec![(0, 0), (1, 0), (0, 1)], vec![(1, 0), (0, 0), (0, 1)]]);
    // Exactly at the limit: still all of them.
    assert_eq!(serializations(&s, 3, 0), (all, true));
}

/// 2, 2 and 1 ops: 5! / (2! 2! 1!) = 30 interleavings, all distinct and legal.
#[test]
fn serializations_count_is_the_multinomial() {
    let s = inline("", &[&format!("{PW}, {PW}"), &format!("{PW}, {PW}"), PW]);
    let (all, complete) = serializations(&s, 30, 7);
    assert!(complete);
    assert_eq!(all.len(), 30);
    assert!(all.iter().all(|o| is_interleaving(o, &[2, 2, 1])));
    assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), 30);
    // One thread, or no ops at all: one order.
    assert_eq!(serializations(&inline("", &[&format!("{PW}, {PW}")]), 5, 0).0.len(), 1);
}

/// More than `max`: `max` distinct legal random ones, the same for the same seed.
#[test]
fn serializations_random_mode_gives_max_distinct_orders() {
    let s = inline("", &[&format!("{PW}, {PW}"), &format!("{PW}, {PW}"), PW]);
    let (some, complete) = serializations(&s, 29, 1);
    assert!(!complete);
    assert_eq!(some.len(), 29);
    assert_eq!(some.iter().collect::<BTreeSet<_>>().len(), 29);
    assert!(some.iter().all(|o| is_interleaving(o, &[2, 2, 1])));
    assert_eq!(serializations(&s, 29, 1).0, some, "deterministic for a seed");
    assert_ne!(serializations(&s, 29, 2).0, some, "another seed, another draw order");
    // Far too many to list (8 threads of 64 ops): still exactly `max`.
    let many = vec![vec![PW; 64].join(", "); 8];
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let (some, complete) = serializations(&inline("", &many), 50, 3);
    assert!(!complete);
    assert_eq!(some.len(), 50);
    assert!(some.iter().all(|o| is_interleaving(o, &[64; 8])));
}

/// Two overlapping pwrites serialise on the IOLOCK: the file holds one or the other order's
/// bytes, each write returns its full length, and loom finds both and nothing else.
#[test]
fn outcome_set_of_two_overlapping_pwrites_is_both_orders() {
    let a = r#"{ op = "pwrite", offset = 0, length = 8192, fill = 0x42 }"#;
    let b = r#"{ op = "pwrite", offset = 4096, length = 8192, fill = 0x43 }"#;
    let p = prepared(inline("", &[a, b]));
    let t = Instant::now();
    let set = outcome_set(&p, 2, Budget::default()).unwrap();
    println!("outcome_set: {} executions, {:?} ({:?})", set.executions, set.elapsed, t.elapsed());
    assert!(set.complete);
    assert_eq!(set.stop, Stop::Exhausted);
    assert_eq!(set.violations, 0, "{:?}", set.first_violation.map(|v| v.summary));
    let outcome = |data: Vec<u8>| RunOutcome {
        results: vec![vec![ok(8192)], vec![ok(8192)]],
        views: FinalViews { size: 12288, cache: data.clone(), durable: data },
    };
    let a_then_b = outcome(bytes(&[(0x42, 4096), (0x43, 8192)]));
    let b_then_a = outcome(bytes(&[(0x42, 8192), (0x43, 4096)]));
    assert_eq!(set.outcomes, BTreeSet::from([a_then_b, b_then_a]));
    assert!(set.executions >= 2);
}

/// A reader next to a writer sees the old or the new bytes, whole blocks at a time here
/// (both hold the IOLOCK), and the set is reported with its reads' data.
#[test]
fn outcome_set_records_what_reads_returned() {
    let setup = r#"{ op = "pwrite", offset = 0, length = 4096, fill = 0x41 }"#;
    let w = r#"{ op = "pwrite", offset = 0, length = 4096, fill = 0x42 }"#;
    let r = r#"{ op = "read", offset = 0, length = 4096 }"#;
    let p = prepared(inline(setup, &[w, r]));
    let set = outcome_set(&p, 2, Budget::default()).unwrap();
    assert!(set.complete && set.violations == 0);
    let reads: BTreeSet<Vec<u8>> = set.outcomes.iter().map(|o| o.results[1][0].data.clone()).collect();
    assert_eq!(reads, BTreeSet::from([vec![0x41; 4096], vec![0x42; 4096]]));
    assert!(set.outcomes.iter().all(|o| o.views.cache == vec![0x42; 4096] && o.views.durable == o.views.cache));
}

/// A budget that runs out makes the set incomplete, never a full set.
#[test]
fn a_cut_short_exploration_is_incomplete() {
    let p = prepared(load("lore-2022-08-17-unwritten"));
    let budget = Budget { wall: Some(std::time::Duration::ZERO), ..Budget::default() };
    let set = outcome_set(&p, 3, budget).unwrap();
    assert!(!set.complete);
    assert_eq!(set.stop, Stop::WallBudget);
}

/// On 6.1 the lore race is reachable: its outcome set has the zeroed tail in it, and the
/// executions that show it are counted as violations; on 6.2 there are none.
#[test]
fn outcome_set_counts_oracle_violations() {
    let s = load("lore-2022-08-17-unwritten");
    let zeroed = bytes(&[(0x42, 10240), (0, 2048)]);
    let old = Prepared::new(s.clone(), "linux-6.1", &[]).unwrap();
    let set = outcome_set(&old, 3, Budget::default()).unwrap();
    println!("6.1: {} executions, {} outcomes, {} violations", set.executions, set.outcomes.len(), set.violations);
    assert!(set.complete);
    assert!(set.violations > 0);
    assert!(set.first_violation.as_ref().is_some_and(|v| v.summary.starts_with("zeroed-data")));
    assert!(set.outcomes.iter().any(|o| o.views.cache == zeroed));
    let new = prepared(s);
    let set = outcome_set(&new, 3, Budget::default()).unwrap();
    println!("6.2: {} executions, {} outcomes", set.executions, set.outcomes.len());
    assert!(set.complete);
    assert_eq!(set.violations, 0);
    assert!(set.outcomes.iter().all(|o| o.views.cache == bytes(&[(0x42, 10240), (0x41, 2048)])));
}

/// §9.9's positive space: on 6.18 the zoned writer returns all 8192 bytes or, when the fault's
/// folio was written back between its two mappings (4 blocks stolen, 3 left in its
/// reservation), exactly the 3 blocks after the first folio more (4096 + 3 * 1024 = 7168);
/// nothing else, and no violation: the short write is the kernel's, and loses nothing.
#[test]
fn zoned_three_way_race_ends_the_write_short_by_the_stolen_blocks() {
    let p = Prepared::new(load("zoned-three-way-short-write"), "linux-6.18", &[]).unwrap();
    let set = outcome_set(&p, 3, Budget::default()).unwrap();
    println!("zoned short write: {} executions in {:?}", set.executions, set.elapsed);
    assert!(set.complete, "{:?}", set.stop);
    assert_eq!(set.violations, 0, "{:?}", set.first_violation.map(|v| v.summary));
    let writer: BTreeSet<i64> = set.outcomes.iter().map(|o| o.results[0][0].ret).collect();
    assert_eq!(writer, BTreeSet::from([7168, 8192]));
}
