//! `iomc conform`: the model against the real kernel.
//!
//! Two checks per scenario, the way SibylFS and herd7/litmus7 earn trust in a model:
//! 1. **Sequential differential.** For each serialization of the scenario's thread ops (all of
//!    them at op granularity when there are at most `--orders`, else that many random ones),
//!    run setup and the ops on one thread, on a real XFS file and on the model's reference
//!    preset, and compare after every op: its return value and the bytes a read returned, the
//!    file size, and the extent state (hole, delalloc, unwritten, written) of every block inside
//!    EOF; at the end the page-cache and durable views. The first difference is printed with
//!    the op sequence and both values, saved as a one-thread scenario that reproduces it, and
//!    the command exits 1.
//! 2. **Observed within allowed.** Run the scenario's threads as real OS threads `--runs`
//!    times (start barrier, random spins) and collect the distinct outcomes (each op's result,
//!    the final views); explore the model exhaustively under the scenario's loom bound and
//!    collect its outcomes. An observed outcome the model does not allow means the model lacks
//!    a kernel behaviour: printed with how often it was seen, exit 1.
//!
//! The reference preset is the one named for the running kernel's series (`uname -r`), or the
//! newest preset when the tool has none for it (said so).

mod diff;

use diff::{compare_seq, label, ops_in_order, runs_of, show_result, SeqDiff};
use iomc_explore::Budget;
use iomc_harness::{loom_bound, observe, Prepared};
use iomc_models::{preset_for_release, Behaviour};
use iomc_realfs::{RunOutcome, XfsMount};
use iomc_scenario::{Op, Scenario, ThreadSpec, Verdict};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What `iomc conform` was asked to do.
pub struct ConformArgs {
    /// Scenarios to run (already loaded).
    pub scenarios: Vec<Scenario>,
    /// An existing XFS mount to use instead of making one per block size.
    pub mount: Option<PathBuf>,
    /// Real threaded runs per scenario.
    pub runs: u32,
    /// Most serializations per scenario in the sequential differential.
    pub orders: usize,
    /// Seed for random serializations and the real runs' delays.
    pub seed: u64,
    /// Preset to compare with (default: the running kernel's).
    pub preset: Option<String>,
    /// `--set` overrides on the preset.
    pub sets: Vec<String>,
    /// Skip the threaded check (sequential differential only).
    pub sequential_only: bool,
    /// Where differences are saved as scenario files.
    pub found_dir: PathBuf,
}

/// How one scenario fared.
#[derive(Debug, PartialEq, Eq)]
pub enum Fared {
    /// Both checks agree with the model.
    Agrees,
    /// The scenario has an op with no real counterpart here.
    NotRunnable(String),
    /// The model and the kernel differ (already printed).
    Differs,
    /// The model's outcome set could not be computed completely.
    Incomplete(String),
}

/// Folio sizes (pages) the 6.6+ write path may create when the model stands for the real
/// kernel: every size up to 16 pages, the scenario format's limit. The kernel chooses folio
/// sizes itself: a buffered write asks for `fgf_set_order(len)`, while a first read or fault
/// on a small file reads around with order-0 folios (`page_cache_sync_ra` and
/// `do_sync_mmap_readahead` set `ra->order = 0`; only later asynchronous readahead raises it).
/// A scenario's `folio_pages` is a modelling choice that keeps the search small; kept, it made
/// the model write back smaller folios than the kernel does (found by `--generate`).
pub const KERNEL_WRITE_FOLIO_PAGES: [u64; 5] = [1, 2, 4, 8, 16];

/// `s` prepared on `preset` with the folio sizes the real kernel uses for it: order-0 folios
/// from reads and faults, [`KERNEL_WRITE_FOLIO_PAGES`] from writes; `reclaim` reaching only
/// uptodate folios, as the real counterpart does ([`iomc_models::Geometry`]).
fn prepare_as_on_the_kernel(s: &Scenario, preset: &str, sets: &[String]) -> Result<Prepared, String> {
    let mut wide = s.clone();
    wide.geometry.folio_pages = KERNEL_WRITE_FOLIO_PAGES.to_vec();
    let mut p = Prepared::new(Arc::new(wide), preset, sets)?;
    p.geo.folio_pages = vec![1];
    p.geo.write_folio_pages = KERNEL_WRITE_FOLIO_PAGES.to_vec();
    p.geo.pageout_uptodate_only = true;
    Ok(p)
}

/// The running kernel's release (`uname -r`).
pub fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string()).unwrap_or_default()
}

/// The preset to compare with and a line saying why.
pub fn reference_preset(asked: Option<&str>) -> Result<(String, String), String> {
    let release = kernel_release();
    if let Some(p) = asked {
        Behaviour::preset(p)
            .ok_or_else(|| format!("unknown preset {p:?} (known: {})", Behaviour::preset_names().join(", ")))?;
        return Ok((p.to_string(), format!("real kernel {release}, compared with preset {p} (--preset)")));
    }
    let (p, exact) = preset_for_release(&release);
    let why = if exact {
        format!("real kernel {release}, compared with its preset {}", p.name)
    } else {
        format!("real kernel {release}: iomc has no preset for this series; compared with the newest, {}", p.name)
    };
    Ok((p.name.to_string(), why))
}

/// Mounts by block size, made on first use and kept for the whole command.
pub struct Mounts {
    existing: Option<PathBuf>,
    by_block: BTreeMap<u64, XfsMount>,
}

impl Mounts {
    /// Mounts to be made per block size, or `existing` for every scenario.
    pub fn new(existing: Option<PathBuf>) -> Mounts {
        Mounts { existing, by_block: BTreeMap::new() }
    }

    /// The mount for `block_size`.
    pub fn get(&mut self, block_size: u64) -> Result<&XfsMount, String> {
        if !self.by_block.contains_key(&block_size) {
            let m = match &self.existing {
                Some(dir) => XfsMount::existing(dir, block_size),
                None => XfsMount::create(block_size),
            }
            .map_err(|e| e.to_string())?;
            self.by_block.insert(block_size, m);
        }
        self.by_block.get(&block_size).ok_or_else(|| "mount vanished".to_string())
    }

    /// Unmount everything made (errors printed).
    pub fn unmount_all(&mut self) {
        for (_, m) in std::mem::take(&mut self.by_block) {
            if let Err(e) = m.unmount() {
                tracing::warn!("{e}");
            }
        }
    }
}

/// A one-thread scenario that runs `order` after the setup: `iomc conform` on it repeats the
/// difference.
fn serialized(s: &Scenario, order: &[(usize, usize)], preset: &str) -> Scenario {
    let ops: Vec<Op> = order.iter().map(|&(t, i)| s.threads[t].ops[i].clone()).collect();
    let loc = s.threads[0].loc.clone();
    let mut out = s.clone();
    out.name = format!("{}-serialized", s.name);
    out.summary = format!("{} (one serialization, from iomc conform)", s.summary);
    out.threads = vec![ThreadSpec { name: "seq".into(), ops, loc }];
    let verdict = s.expected(preset).cloned().unwrap_or(Verdict::Pass);
    out.expect = vec![(preset.to_string(), verdict, s.threads[0].loc.clone())];
    out
}

fn save(dir: &Path, s: &Scenario, comment: &[String]) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut n = 1;
    let path = loop {
        let p = dir.join(format!("conform-{}-{n}.toml", s.name));
        if !p.exists() {
            break p;
        }
        n += 1;
    };
    crate::files::write_atomically(&path, &s.to_toml(comment)?).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// Real runs of one serialization before a difference counts. The real kernel is not
/// deterministic where the model fixes a choice: a large folio allocation may fall back to
/// smaller folios (seen once in about nine runs of `ci/conform.sh`: an 8 KiB write cached as two
/// pages, so a later flush of one page left the other dirty). A model that is wrong differs on
/// every run; one that matches some real run agrees, and the repeats are counted and shown.
const REAL_TRIES: u32 = 3;

/// Run `order` on the real kernel until it agrees with `model`, at most [`REAL_TRIES`] times:
/// `Ok(None)` and the runs it took, or the last real run's difference.
fn real_agrees(
    mount: &XfsMount,
    s: &Scenario,
    order: &[(usize, usize)],
    model: &observe::SeqRun,
) -> Result<(Option<SeqDiff>, u32), String> {
    let mut last = None;
    for run in 1..=REAL_TRIES {
        let real = iomc_realfs::run_sequential(mount, s, order).map_err(|e| e.to_string())?;
        match compare_seq(model, &real) {
            None => return Ok((None, run)),
            Some(d) => last = Some(d),
        }
    }
    Ok((last, REAL_TRIES))
}

/// The sequential differential over `orders`; prints the first difference.
fn sequential(
    a: &ConformArgs,
    p: &Prepared,
    mount: &XfsMount,
    out: &mut String,
) -> Result<(Fared, usize, bool), String> {
    let s = &*p.scenario;
    let (orders, all) = observe::serializations(s, a.orders, a.seed);
    for (n, order) in orders.iter().enumerate() {
        let model = observe::run_sequential(p, order);
        let (diff, runs) = real_agrees(mount, s, order, &model)?;
        let Some(diff) = diff else {
            if runs > 1 {
                let _ = writeln!(
                    out,
                    "note {} [{}]: serialization {} agreed on real run {runs} of {REAL_TRIES} (the kernel varied)",
                    s.name,
                    p.preset,
                    n + 1
                );
            }
            continue;
        };
        let ops = ops_in_order(s, order);
        let _ =
            writeln!(out, "DIFFERS {} [{}]: sequential, serialization {} of {}", s.name, p.preset, n + 1, orders.len());
        for (i, (t, op)) in ops.iter().enumerate() {
            let mark = if diff.step == Some(i) { "=>" } else { "  " };
            let _ = writeln!(out, "   {mark} {:>2}. {}", i + 1, label(s, *t, op));
            if diff.step == Some(i) {
                break;
            }
        }
        if diff.step.is_none() {
            let _ = writeln!(out, "      at the end (fsync, evict, read back):");
        }
        for l in &diff.lines {
            let _ = writeln!(out, "      {l}");
        }
        if !model.warnings.is_empty() {
            let _ = writeln!(out, "      model warnings: {}", model.warnings.join("; "));
        }
        let comment = vec![
            format!(
                "iomc conform: the model ({}) and the real kernel differ on this serialization of {}",
                p.preset, s.file
            ),
            format!("kernel {}", kernel_release()),
        ];
        match save(&a.found_dir, &serialized(s, order, &p.preset), &comment) {
            Ok(path) => {
                let _ = writeln!(out, "      saved: {} (repeat: iomc conform {})", path.display(), path.display());
            }
            Err(e) => {
                let _ = writeln!(out, "      could not save the serialization: {e}");
            }
        }
        return Ok((Fared::Differs, n + 1, all));
    }
    Ok((Fared::Agrees, orders.len(), all))
}

fn show_outcome(s: &Scenario, o: &RunOutcome) -> Vec<String> {
    let mut out = Vec::new();
    for (t, rs) in o.results.iter().enumerate() {
        let name = s.threads.get(t).map_or("?", |t| t.name.as_str());
        let rs: Vec<String> = rs.iter().map(show_result).collect();
        out.push(format!("{name}: {}", rs.join("; ")));
    }
    out.push(format!("size {}; page cache {}", o.views.size, runs_of(&o.views.cache, 0)));
    out.push(format!("durable {}", runs_of(&o.views.durable, 0)));
    out
}

/// Observed within allowed.
fn threaded(a: &ConformArgs, p: &Prepared, mount: &XfsMount, out: &mut String) -> Result<Fared, String> {
    let s = &*p.scenario;
    let bound = loom_bound(s);
    let budget = Budget { cancel: Some(&crate::INTERRUPTED), ..Budget::default() };
    let model_start = std::time::Instant::now();
    let model = observe::outcome_set(p, bound, budget)?;
    let model_time = model_start.elapsed();
    if !model.complete {
        return Ok(Fared::Incomplete(format!(
            "the model's outcome set under loom bound {bound} is incomplete ({:?} after {} executions)",
            model.stop, model.executions
        )));
    }
    let real_start = std::time::Instant::now();
    let seen = iomc_realfs::run_threads(mount, s, a.runs, a.seed).map_err(|e| e.to_string())?;
    let real_time = real_start.elapsed();
    let unexplained: Vec<(&RunOutcome, &u32)> = seen.iter().filter(|(o, _)| !model.outcomes.contains(o)).collect();
    let never = model.outcomes.iter().filter(|o| !seen.contains_key(o)).count();
    let head = format!(
        "{} real runs: {} distinct outcomes; the model allows {} (loom bound {bound}, {} executions, exhaustive); \
         {never} of those never observed",
        a.runs,
        seen.len(),
        model.outcomes.len(),
        model.executions
    );
    if unexplained.is_empty() {
        let _ = writeln!(out, "     threaded: {head}");
        let per_s = |n: u64, t: std::time::Duration| n as f64 / t.as_secs_f64().max(1e-9);
        let _ = writeln!(
            out,
            "     speed: real {:.0} runs/s ({} in {:.2?}); model {:.0} executions/s ({} in {:.2?})",
            per_s(u64::from(a.runs), real_time),
            a.runs,
            real_time,
            per_s(model.executions, model_time),
            model.executions,
            model_time
        );
        return Ok(Fared::Agrees);
    }
    let _ = writeln!(out, "DIFFERS {} [{}]: observed outcomes the model does not allow; {head}", s.name, p.preset);
    for (o, n) in unexplained {
        let _ = writeln!(out, "   seen {n} times:");
        for l in show_outcome(s, o) {
            let _ = writeln!(out, "      {l}");
        }
    }
    Ok(Fared::Differs)
}

/// Both checks on one scenario; what is printed goes to `out`.
pub fn conform_one(a: &ConformArgs, mounts: &mut Mounts, s: Scenario, out: &mut String) -> Result<Fared, String> {
    let (preset, _) = reference_preset(a.preset.as_deref())?;
    let s = Arc::new(s);
    let mount = mounts.get(s.geometry.block_size)?;
    if let Err(why) = iomc_realfs::runnable(mount, &s) {
        let _ = writeln!(out, "not runnable on the real kernel: {} ({why})", s.name);
        return Ok(Fared::NotRunnable(why));
    }
    let p = prepare_as_on_the_kernel(&s, &preset, &a.sets)?;
    let start = std::time::Instant::now();
    let (fared, n, all) = sequential(a, &p, mount, out)?;
    if fared != Fared::Agrees {
        return Ok(fared);
    }
    let which = if all { format!("all {n}") } else { format!("{n} random (seed {})", a.seed) };
    let _ = writeln!(out, "ok {} [{preset}]: sequential: {which} serializations agree after every op", s.name);
    if a.sequential_only {
        return Ok(Fared::Agrees);
    }
    let fared = threaded(a, &p, mount, out)?;
    if fared == Fared::Agrees {
        let _ = writeln!(out, "     in {:.1?}", start.elapsed());
    }
    Ok(fared)
}

/// Tally of a conform run.
#[derive(Default)]
struct Tally {
    agree: u32,
    differ: u32,
    not_runnable: u32,
    incomplete: u32,
    errors: u32,
}

/// Exit status: 1 if anything differs, 2 if the real side failed, 3 if something could not be
/// concluded or nothing was compared, else 0.
fn exit_code(t: &Tally) -> u8 {
    if t.differ > 0 {
        1
    } else if t.errors > 0 {
        2
    } else if t.incomplete > 0 || t.agree == 0 {
        3
    } else {
        0
    }
}

/// Both checks on every scenario of `a`; prints as it goes and a summary.
pub fn run(a: &mut ConformArgs, mounts: &mut Mounts) -> u8 {
    let scenarios = std::mem::take(&mut a.scenarios);
    let mut t = Tally::default();
    for s in scenarios {
        let name = s.name.clone();
        let mut out = String::new();
        let fared = conform_one(a, mounts, s, &mut out);
        out!("{out}");
        match fared {
            Ok(Fared::Agrees) => t.agree += 1,
            Ok(Fared::Differs) => t.differ += 1,
            Ok(Fared::NotRunnable(_)) => t.not_runnable += 1,
            Ok(Fared::Incomplete(why)) => {
                outln!("incomplete {name}: {why}");
                t.incomplete += 1;
            }
            Err(e) => {
                outln!("error {name}: {e}");
                t.errors += 1;
            }
        }
        if crate::INTERRUPTED.load(std::sync::atomic::Ordering::Relaxed) {
            break;
        }
    }
    outln!(
        "{} scenarios agree with the real kernel, {} differ, {} not runnable on the real kernel, {} incomplete, {} errors",
        t.agree, t.differ, t.not_runnable, t.incomplete, t.errors
    );
    if t.agree + t.differ == 0 {
        outln!("nothing was compared");
    }
    exit_code(&t)
}

/// Serializations per generated scenario (`--generate`): ten keep 200 scenarios at 2,000
/// sequences, enough to cover each generated layout in several orders.
const GENERATED_ORDERS: usize = 10;

/// `--generate N`: the sequential differential on N generated scenarios (1, 2 and 4 KiB
/// blocks); proptest shrinks a difference to a minimal scenario, which is printed and saved.
pub fn generated(a: &ConformArgs, mounts: &mut Mounts, cases: u32) -> u8 {
    use iomc_scenario::generate::{scenarios, GenConfig};
    use proptest::strategy::Strategy as _;
    use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
    use std::cell::RefCell;

    let (preset, _) = match reference_preset(a.preset.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            errln!("error: {e}");
            return 2;
        }
    };
    let expect = vec![(preset.clone(), Verdict::Pass)];
    // Real XFS (V5) needs blocks of at least 1 KiB.
    let strategy = scenarios(GenConfig::default(), expect)
        .prop_filter("real XFS needs 1 KiB blocks or more", |s| s.geometry.block_size >= 1024);
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&a.seed.to_le_bytes());
    let config = Config { cases, failure_persistence: None, max_shrink_iters: 10_000, ..Config::default() };
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let mounts = RefCell::new(mounts);
    let sequences = RefCell::new((0u64, BTreeMap::<u64, u64>::new()));
    let repeated = RefCell::new(0u64);
    let orders = a.orders.min(GENERATED_ORDERS);
    let sub = ConformArgs {
        scenarios: Vec::new(),
        mount: None,
        runs: 0,
        orders,
        seed: a.seed,
        preset: Some(preset.clone()),
        sets: a.sets.clone(),
        sequential_only: true,
        found_dir: a.found_dir.clone(),
    };
    let start = std::time::Instant::now();
    let result = runner.run(&strategy, |s| {
        let mut m = mounts.borrow_mut();
        let p = prepare_as_on_the_kernel(&s, &preset, &sub.sets).map_err(TestCaseError::fail)?;
        let mount = m.get(s.geometry.block_size).map_err(TestCaseError::fail)?;
        let (order_list, _) = observe::serializations(&s, orders, sub.seed);
        for order in &order_list {
            let model = observe::run_sequential(&p, order);
            let (diff, runs) = real_agrees(mount, &s, order, &model).map_err(TestCaseError::fail)?;
            if diff.is_some() {
                return Err(TestCaseError::fail("the model and the real kernel differ"));
            }
            if runs > 1 {
                *repeated.borrow_mut() += 1;
            }
        }
        let mut seq = sequences.borrow_mut();
        seq.0 += order_list.len() as u64;
        *seq.1.entry(s.geometry.block_size).or_default() += order_list.len() as u64;
        Ok(())
    });
    let (total, per_block) = sequences.into_inner();
    let per_block: Vec<String> = per_block.iter().map(|(b, n)| format!("{n} with {b}-byte blocks")).collect();
    match result {
        Ok(()) => {
            outln!(
                "ok: {cases} generated scenarios, {total} sequences ({}) agree with the real kernel op by op, in {:.1?}",
                per_block.join(", "),
                start.elapsed()
            );
            let repeated = repeated.into_inner();
            if repeated > 0 {
                outln!(
                    "note: {repeated} of them agreed only on a repeated real run (at most {REAL_TRIES}): the kernel \
                     varied where the model fixes a choice (e.g. a large folio's size)"
                );
            }
            if total == 0 {
                outln!("nothing was compared");
                return 3;
            }
            0
        }
        Err(TestError::Abort(why)) => {
            outln!("error: generation aborted: {why}");
            2
        }
        Err(TestError::Fail(why, s)) => {
            outln!("a generated scenario differs ({why}); shrunk to:");
            let mut out = String::new();
            let m = mounts.into_inner();
            let fared = match m.get(s.geometry.block_size) {
                Ok(mount) => {
                    prepare_as_on_the_kernel(&s, &preset, &sub.sets).and_then(|p| sequential(&sub, &p, mount, &mut out))
                }
                Err(e) => Err(e),
            };
            out!("{out}");
            if let Err(e) = fared {
                outln!("error while repeating it: {e}");
            }
            let comment = vec![format!("iomc conform --generate: shrunk difference (seed {})", a.seed)];
            match save(&a.found_dir, &s, &comment) {
                Ok(path) => outln!("scenario: {} (repeat: iomc conform {})", path.display(), path.display()),
                Err(e) => outln!("could not save the scenario: {e}"),
            }
            1
        }
    }
}
