//! The model's side of the conformance check: what a user would observe of the modelled file,
//! in the shared types of [`iomc_scenario::observe`], so the same scenario can be compared
//! with a run on a real XFS mount.
//!
//! Only values a program can see through system calls are observed, because only those can
//! be compared with the real kernel (folio states, `if_seq` or physical block numbers have no
//! user-visible counterpart and differ between runs of the real kernel anyway):
//! * each op's return value ([`OpResult`]): what the system call returns (bytes for `pwrite`,
//!   `read` and the mmap store, 0 or `-errno` for the others) and the bytes a `read` returned;
//! * after each op of a sequential run ([`run_sequential`]), a [`Snapshot`]: the file size
//!   (`st_size`: the model's `i_size`) and the extent state of every block inside EOF (what
//!   FIEMAP reports: hole, delalloc, unwritten or written, read from the XFS data fork);
//! * at the end of a run, the [`FinalViews`]: `[0, size)` read through the page cache (what
//!   `pread` returns now, computed as the oracle computes it), then `[0, size)` after `fsync`
//!   and evicting every folio (what the disk holds: what a reader sees after the cache is
//!   dropped, e.g. `echo 1 > drop_caches` or a remount).
//!
//! Threaded runs are compared as sets of [`RunOutcome`]s ([`outcome_set`]): the real kernel's
//! outcome of one threaded run must be in the model's set, which loom enumerates exhaustively
//! under a preemption bound. [`serializations`] lists the op-granularity interleavings a
//! sequential differential can run on both sides.

use crate::exec::{self, run_op, ActorState};
use crate::oracle::{self, Violation};
use crate::{preflight, Prepared};
use iomc_explore::{explore, Body, Budget, Exec, Stop, Strategy};
use iomc_models::events::ExtKind;
use iomc_models::pagecache::invalidate_after_exit;
use iomc_models::{xfs, Ctx, World};
use iomc_scenario::observe::{BlockState, FinalViews, OpResult, RunOutcome, Snapshot};
use iomc_scenario::Scenario;
use iomc_sync::Backend;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One op of a sequential run: what it returned and the file right after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// What the op returned.
    pub result: OpResult,
    /// Size and extent states right after the op.
    pub after: Snapshot,
}

/// A sequential run of a scenario's ops in one order ([`run_sequential`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeqRun {
    /// The setup ops first, then the ops of the order, in the order they ran.
    pub steps: Vec<Step>,
    /// The final views.
    pub views: FinalViews,
    /// Model warnings (standing for kernel WARN_ONs), as `name: detail (in actor)`; any of
    /// them means the model reached a state the kernel asserts against.
    pub warnings: Vec<String>,
}

/// Every outcome of a scenario's threads under loom at one preemption bound ([`outcome_set`]).
#[derive(Clone, Debug)]
pub struct OutcomeSet {
    /// The distinct outcomes.
    pub outcomes: BTreeSet<RunOutcome>,
    /// Executions explored.
    pub executions: u64,
    /// True only when loom exhausted the interleavings under `bound`: only then is
    /// `outcomes` every outcome the model allows under that bound. A cut-short search
    /// (budget, Ctrl-C, deadlock, step budget) gives a subset.
    pub complete: bool,
    /// Why the exploration ended.
    pub stop: Stop,
    /// The preemption bound explored.
    pub bound: u32,
    /// Executions the oracle found a violation in (model WARNs included).
    pub violations: u64,
    /// The first of them, in loom's (deterministic) order.
    pub first_violation: Option<Violation>,
    /// Wall time.
    pub elapsed: Duration,
}

fn block_state(k: ExtKind) -> BlockState {
    match k {
        ExtKind::Hole => BlockState::Hole,
        ExtKind::Delalloc => BlockState::Delalloc,
        ExtKind::Unwritten => BlockState::Unwritten,
        ExtKind::Written => BlockState::Written,
    }
}

/// The file size and the data-fork state of each block inside EOF, now.
fn snapshot(w: &World) -> Snapshot {
    let size = w.mapping.i_pages.lock().i_size;
    let core = w.ip.ilock.lock();
    let n = (w.geo.block_up(size) / w.geo.block_size).min(core.df.len() as u64);
    let blocks = core.df[..n as usize].iter().map(|b| block_state(b.kind())).collect();
    Snapshot { size, blocks }
}

/// The size and `[0, size)` read through the page cache now.
fn cache_now(w: &World) -> (u64, Vec<u8>) {
    let size = w.mapping.i_pages.lock().i_size;
    let mut view = oracle::cache_view(w);
    view.truncate(size.min(w.geo.span) as usize);
    (size, view)
}

/// `[0, size)` after `fsync` and evicting every folio (the oracle's durable view), as actor 0.
/// Running it after the oracle's own flush is harmless: nothing is dirty or cached any more.
fn durable_now(w: &World) -> Vec<u8> {
    let cx = Ctx { w, actor: 0 };
    xfs::xfs_file_fsync(&cx);
    invalidate_after_exit(&cx, 0, w.geo.span);
    cache_now(w).1
}

fn warning_lines(w: &World, p: &Prepared) -> Vec<String> {
    w.rec
        .history()
        .1
        .iter()
        .map(|x| {
            let who = p.actor_names.get(x.actor as usize).map(String::as_str).unwrap_or("?");
            format!("{}: {} (in {who})", x.name, x.detail)
        })
        .collect()
}

/// Run the setup ops (as actor 0), then the ops `order` names, `(thread, op index)`, in that
/// order, on one OS thread with [`Backend::Std`], and observe the file after each op and at
/// the end.
///
/// Each op runs as the actor of its thread (thread index + 1) with that thread's own state
/// (a pending `short_copy`, its mapping) carried across its ops, exactly as in an execution
/// of the threads, so any order of the threads' ops is a legal serialisation when each
/// thread's ops keep their order (the order is not checked). The final views are taken
/// after the last op; the durable view's `fsync` runs as actor 0.
///
/// # Panics
/// If `order` names a thread or op that does not exist, or the model panics (a model bug).
pub fn run_sequential(p: &Prepared, order: &[(usize, usize)]) -> SeqRun {
    let w = World::with_recording(Backend::Std, p.geo.clone(), p.behaviour, p.instrument.record);
    let mut steps = Vec::with_capacity(p.scenario.setup.len() + order.len());
    let setup_cx = Ctx { w: &w, actor: 0 };
    let mut setup_st = ActorState::default();
    for op in &p.scenario.setup {
        let result = run_op::<true>(&setup_cx, &op.kind, &mut setup_st);
        steps.push(Step { result, after: snapshot(&w) });
    }
    let mut states: Vec<ActorState> = p.scenario.threads.iter().map(|_| ActorState::default()).collect();
    for &(t, i) in order {
        let op = &p.scenario.threads[t].ops[i];
        let cx = Ctx { w: &w, actor: (t + 1) as u8 };
        let result = run_op::<true>(&cx, &op.kind, &mut states[t]);
        steps.push(Step { result, after: snapshot(&w) });
    }
    let (size, cache) = cache_now(&w);
    let durable = durable_now(&w);
    let warnings = warning_lines(&w, p);
    SeqRun { steps, views: FinalViews { size, cache, durable }, warnings }
}

/// A copy of `p` that an exploration body can own.
fn owned(p: &Prepared) -> Prepared {
    Prepared {
        scenario: p.scenario.clone(),
        preset: p.preset.clone(),
        overrides: p.overrides.clone(),
        behaviour: p.behaviour,
        geo: p.geo.clone(),
        actor_names: p.actor_names.clone(),
        instrument: p.instrument,
    }
}

/// Explore the scenario's threads with loom under preemption bound `bound` (one pass at that
/// bound, which covers every schedule with at most `bound` preemptions) and collect every
/// execution's [`RunOutcome`]: what each thread's ops returned, the page-cache view after the
/// join, then the durable view. The oracle checks each execution as `iomc check` does (before
/// the durable view is taken); executions with a violation are counted, not collected apart.
///
/// Each execution builds a fresh world, so an outcome depends only on its schedule. `Err` when
/// loom cannot run the scenario (too many threads) or the model or checker failed.
pub fn outcome_set(p: &Prepared, bound: u32, budget: Budget) -> Result<OutcomeSet, String> {
    let strategy = Strategy::Loom { min_bound: bound, max_bound: bound };
    preflight(p, &strategy)?;
    let outcomes: Arc<Mutex<BTreeSet<RunOutcome>>> = Arc::new(Mutex::new(BTreeSet::new()));
    let violations: Arc<Mutex<(u64, Option<Violation>)>> = Arc::new(Mutex::new((0, None)));
    let (pp, oo, vv) = (Arc::new(owned(p)), outcomes.clone(), violations.clone());
    let body: Body<()> = Arc::new(move |e: &Exec| {
        let (world, results) = exec::run_scenario::<true>(&pp, e.backend);
        let (size, cache) = cache_now(&world);
        let violation = if pp.instrument.oracle { oracle::check(&world, &pp) } else { None };
        let durable = durable_now(&world);
        if let Some(v) = violation {
            let mut g = vv.lock().unwrap_or_else(|e| e.into_inner());
            g.0 += 1;
            g.1.get_or_insert(v);
        }
        let outcome = RunOutcome { results, views: FinalViews { size, cache, durable } };
        oo.lock().unwrap_or_else(|e| e.into_inner()).insert(outcome);
        None
    });
    let report = explore(&strategy, budget, body, None);
    if let Stop::Panicked(m) = &report.stop {
        return Err(format!("{}: after {} executions at loom bound {bound}: {m}", p.scenario.file, report.executions));
    }
    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap_or_else(|e| e.into_inner()));
    let (violations, first_violation) = std::mem::take(&mut *violations.lock().unwrap_or_else(|e| e.into_inner()));
    Ok(OutcomeSet {
        outcomes,
        executions: report.executions,
        complete: report.stop == Stop::Exhausted,
        stop: report.stop,
        bound,
        violations,
        first_violation,
        elapsed: report.elapsed,
    })
}

/// SplitMix64 (Steele, Lea and Flood 2014): a small deterministic generator.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0), by multiply-shift (bias below 2^-50 for our `n`).
    fn below(&mut self, n: usize) -> usize {
        ((self.next() as u128 * n as u128) >> 64) as usize
    }
}

/// The number of interleavings of sequences of these lengths (the multinomial coefficient
/// `(Σn)! / Πn!`), or `None` if it does not fit in a `u128`.
fn interleavings(lens: &[usize]) -> Option<u128> {
    let mut total: u128 = 1;
    let mut so_far: u128 = 0;
    for &k in lens {
        // total *= C(so_far + k, k), one factor at a time; each partial product is exact.
        for j in 1..=k as u128 {
            total = total.checked_mul(so_far + j)? / j;
        }
        so_far += k as u128;
    }
    Some(total)
}

fn enumerate(
    ops: &[usize],
    next: &mut [usize],
    cur: &mut Vec<(usize, usize)>,
    out: &mut Vec<Vec<(usize, usize)>>,
    len: usize,
) {
    if cur.len() == len {
        out.push(cur.clone());
        return;
    }
    for t in 0..ops.len() {
        if next[t] < ops[t] {
            cur.push((t, next[t]));
            next[t] += 1;
            enumerate(ops, next, cur, out, len);
            next[t] -= 1;
            cur.pop();
        }
    }
}

/// The interleavings of the scenario threads' ops at op granularity, each thread's ops in
/// their order, as `(thread, op index)` lists for [`run_sequential`].
///
/// When there are at most `max` of them, all of them, in lexicographic order of thread
/// indices, and `true`. Otherwise `max` distinct ones drawn uniformly at random (each step
/// picks a thread with probability proportional to its remaining ops) from `seed`, in the
/// order drawn, and `false`. The same arguments give the same list.
pub fn serializations(s: &Scenario, max: usize, seed: u64) -> (Vec<Vec<(usize, usize)>>, bool) {
    let ops: Vec<usize> = s.threads.iter().map(|t| t.ops.len()).collect();
    let len: usize = ops.iter().sum();
    let count = interleavings(&ops);
    if let Some(n) = count.filter(|n| *n <= max as u128) {
        let mut out = Vec::with_capacity(n as usize);
        enumerate(&ops, &mut vec![0; ops.len()], &mut Vec::with_capacity(len), &mut out, len);
        return (out, true);
    }
    // More than `max` exist, so `max` distinct ones can always be drawn.
    let mut rng = SplitMix64(seed);
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(max);
    while out.len() < max {
        let mut left = ops.clone();
        let mut remaining = len;
        let mut order = Vec::with_capacity(len);
        while remaining > 0 {
            let mut r = rng.below(remaining);
            let t = left
                .iter()
                .position(|&l| {
                    if r < l {
                        true
                    } else {
                        r -= l;
                        false
                    }
                })
                .expect("r < remaining = sum of left");
            order.push((t, ops[t] - left[t]));
            left[t] -= 1;
            remaining -= 1;
        }
        if seen.insert(order.clone()) {
            out.push(order);
        }
    }
    (out, false)
}
