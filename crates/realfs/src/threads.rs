//! Whole runs of a scenario on the real kernel: concurrent ([`run_threads`]) and in a chosen
//! sequential order ([`run_sequential`]).
//!
//! Concurrent runs cannot choose an interleaving; they sample them. Each run starts the threads
//! together (each announces itself on an atomic counter and spins on an atomic flag that the
//! main thread flips once all have arrived, so they leave within a microsecond or so of each
//! other) and each thread spins a seeded random 0..=50 µs before every op,
//! which is in the range of one buffered op (a few µs) up to a writeback on the loop device
//! (tens to hundreds of µs), so ops of different threads land at shifting offsets of each
//! other. The delays are deterministic given the seed; which interleaving the kernel then
//! produces is not.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use iomc_scenario::observe::{FinalViews, OpResult, RunOutcome, Snapshot};
use iomc_scenario::Scenario;

use crate::mount::XfsMount;
use crate::ops::{runnable, NotRunnable, RealFile, ThreadState};
use crate::{Error, Result};

/// Largest random spin before an op, in microseconds.
pub const MAX_DELAY_MICROS: u64 = 50;

/// One op of a sequential run and what it did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeqStep {
    /// The scenario thread that ran it, or `None` for a setup op.
    pub thread: Option<usize>,
    /// The op's index in its thread's (or the setup's) list.
    pub op: usize,
    /// What the op returned.
    pub result: OpResult,
    /// The file right after the op.
    pub snapshot: Snapshot,
}

/// A sequential run: every op in the order run (setup first) and the final views.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeqRun {
    /// Setup ops, then the requested ops, in the order they ran.
    pub steps: Vec<SeqStep>,
    /// The file at the end.
    pub views: FinalViews,
}

/// A 64-bit mix (splitmix64's finaliser), to derive independent per-run, per-thread seeds.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Releases the run threads together: each announces itself and spins (yielding now and then,
/// so that waiting threads do not starve the releasing one on a small machine) until the main
/// thread, having seen all of them arrive, flips `state`. A plain [`std::sync::Barrier`] would
/// wake them through the scheduler one by one, tens of microseconds apart; and it cannot be
/// abandoned if spawning a later thread fails.
#[derive(Default)]
struct StartGate {
    arrived: AtomicUsize,
    /// 0: wait, 1: go, 2: abandon.
    state: AtomicU8,
}

impl StartGate {
    /// Called by a run thread: returns `true` to run, `false` if the run was abandoned.
    fn arrive_and_wait(&self) -> bool {
        self.arrived.fetch_add(1, Ordering::AcqRel);
        let mut spins = 0u32;
        loop {
            match self.state.load(Ordering::Acquire) {
                0 => {}
                1 => return true,
                _ => return false,
            }
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(1024) {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
    }

    /// Waits until `n` threads have arrived, then lets them all go.
    fn release_when_all(&self, n: usize) {
        while self.arrived.load(Ordering::Acquire) < n {
            std::thread::yield_now();
        }
        self.open(true);
    }

    fn open(&self, run: bool) {
        self.state.store(if run { 1 } else { 2 }, Ordering::Release);
    }
}

/// Busy-waits `micros` µs (sleeping would hand the CPU to the scheduler for far longer).
fn spin_for(micros: u64) {
    let until = Instant::now() + Duration::from_micros(micros);
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

/// Runs `scenario` `runs` times on fresh files in `mount` and counts the distinct outcomes.
///
/// Each run: a fresh file ([`RealFile::for_scenario`]); the setup ops in order on this thread
/// (with their own [`ThreadState`], dropped before the threads start); one OS thread per
/// scenario thread, each with its own [`ThreadState`] and descriptor, released together, each
/// spinning a random 0..=[`MAX_DELAY_MICROS`] µs (seeded from `seed`, the run and the thread)
/// before every op; after all have joined, [`RealFile::final_views`]. The file is deleted
/// after the run. Fails before running anything if [`runnable`] does.
pub fn run_threads(mount: &XfsMount, scenario: &Scenario, runs: u32, seed: u64) -> Result<BTreeMap<RunOutcome, u32>> {
    runnable(mount, scenario).map_err(NotRunnable)?;
    let mut outcomes = BTreeMap::new();
    for run in 0..runs {
        let outcome = run_once(mount, scenario, mix(seed ^ mix(u64::from(run))))?;
        *outcomes.entry(outcome).or_insert(0) += 1;
    }
    Ok(outcomes)
}

fn run_once(mount: &XfsMount, scenario: &Scenario, run_seed: u64) -> Result<RunOutcome> {
    let mut file = RealFile::for_scenario(mount, scenario)?;
    {
        let mut setup = ThreadState::new();
        for op in &scenario.setup {
            file.run_op(&op.kind, &mut setup)?;
        }
    }
    let handles: Vec<RealFile> = scenario.threads.iter().map(|_| file.try_clone()).collect::<Result<_>>()?;
    let gate = StartGate::default();
    let results = std::thread::scope(|s| {
        let mut joins = Vec::with_capacity(handles.len());
        let mut spawn_err = None;
        for (i, (spec, mut handle)) in scenario.threads.iter().zip(handles).enumerate() {
            let gate = &gate;
            let spawned = std::thread::Builder::new().name(format!("realfs-{}", spec.name)).spawn_scoped(
                s,
                move || -> Result<Vec<OpResult>, NotRunnable> {
                    let mut rng = fastrand::Rng::with_seed(mix(run_seed ^ (i as u64 + 1)));
                    let mut state = ThreadState::new();
                    let mut out = Vec::with_capacity(spec.ops.len());
                    if !gate.arrive_and_wait() {
                        return Ok(out);
                    }
                    for op in &spec.ops {
                        spin_for(rng.u64(0..=MAX_DELAY_MICROS));
                        out.push(handle.run_op(&op.kind, &mut state)?);
                    }
                    Ok(out)
                },
            );
            match spawned {
                Ok(j) => joins.push((spec.name.clone(), j)),
                Err(e) => {
                    spawn_err = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = spawn_err {
            // Send the threads already waiting home without running anything.
            gate.open(false);
            for (_, j) in joins {
                let _ = j.join();
            }
            return Err(Error::Io { context: "spawning a run thread".into(), source: e });
        }
        gate.release_when_all(joins.len());
        let mut results = Vec::with_capacity(joins.len());
        for (name, j) in joins {
            match j.join() {
                Ok(r) => results.push(r?),
                Err(_) => return Err(Error::ThreadPanicked(name)),
            }
        }
        Ok(results)
    })?;
    let views = file.final_views()?;
    Ok(RunOutcome { results, views })
}

/// Runs `scenario` on one thread on a fresh file in `mount`: the setup ops, then the ops named
/// by `order` as `(thread index, op index)` pairs, in that order, each with its scenario
/// thread's own [`ThreadState`]. Returns every op's result and the [`Snapshot`] after it
/// (setup ops included, with `thread: None`), and the final views (taken after dropping the
/// thread states, so their mappings do not pin pages).
///
/// `order` may name ops in any order, repeat or omit them; an index out of range is an
/// [`Error::Invalid`]. Fails before running anything if [`runnable`] does.
pub fn run_sequential(mount: &XfsMount, scenario: &Scenario, order: &[(usize, usize)]) -> Result<SeqRun> {
    runnable(mount, scenario).map_err(NotRunnable)?;
    for &(t, o) in order {
        let Some(thread) = scenario.threads.get(t) else {
            return Err(Error::Invalid(format!("order names thread {t}, the scenario has {}", scenario.threads.len())));
        };
        if o >= thread.ops.len() {
            return Err(Error::Invalid(format!(
                "order names op {o} of thread {t} ({}), which has {}",
                thread.name,
                thread.ops.len()
            )));
        }
    }
    let mut file = RealFile::for_scenario(mount, scenario)?;
    let mut steps = Vec::with_capacity(scenario.setup.len() + order.len());
    {
        let mut setup = ThreadState::new();
        for (i, op) in scenario.setup.iter().enumerate() {
            let result = file.run_op(&op.kind, &mut setup)?;
            steps.push(SeqStep { thread: None, op: i, result, snapshot: file.snapshot()? });
        }
    }
    {
        let mut states: Vec<ThreadState> = scenario.threads.iter().map(|_| ThreadState::new()).collect();
        for &(t, o) in order {
            let result = file.run_op(&scenario.threads[t].ops[o].kind, &mut states[t])?;
            steps.push(SeqStep { thread: Some(t), op: o, result, snapshot: file.snapshot()? });
        }
    }
    let views = file.final_views()?;
    Ok(SeqRun { steps, views })
}
