//! `iomc mutants`: undo one kernel fix (a knob, on the preset that has the fix) or one
//! safety-relevant model step (a [`iomc_models::Mutation`], on `linux-6.2`) at a time, and find
//! the first shipped scenario whose expected verdict on that preset changes.

use crate::{check, default_strategy, Outcome, Prepared};
use iomc_explore::Budget;
use iomc_models::MUTATIONS;
use iomc_scenario::{Scenario, Verdict};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The preset the model mutations are applied to.
pub const BASE: &str = "linux-6.2";

/// Kernel fixes as knobs, each flipped to its pre-fix value on the first preset that has the
/// fix: (preset, `knob=value`, what it undoes).
pub const KNOB_MUTATIONS: &[(&str, &str, &str)] = &[
    (
        "linux-6.1",
        "writeback_seq_check=off",
        "writeback trusts a cached map whose data-fork if_seq moved (9f9bc034b849 undone)",
    ),
    ("linux-6.2", "iomap_valid=off", "no ->iomap_valid after the folio lock (d7b64041164c, 304a68b9c63b)"),
    ("linux-6.2", "write_failure_cleanup=truncate-then-punch", "the 6.1 short-write cleanup (f43dc4dc3eff undone)"),
    ("linux-6.2", "cleanup_invalidate_lock=off", "the cleanup without invalidate_lock (198dd8aedee6 undone)"),
    ("linux-6.2", "cleanup_eof_cap=off", "the release walk not capped at EOF (the V4 EOF rule undone)"),
    ("linux-6.2", "drop_writes_errortag=on", "the drop_writes error tag kept (6e8af15ccdc4 undone)"),
    ("linux-6.2", "fault_iomap_end=on", "page_mkwrite with the buffered-write ->iomap_end (118e021b4b66 undone)"),
    (
        "linux-6.3",
        "discard_folio_round_up=on",
        "xfs_discard_folio punches [pos, round_up(pos)) again (8ac5b996bf51 undone)",
    ),
    ("linux-6.6", "ifs_punch=off", "the release walk keeps delalloc under clean blocks of dirty folios"),
    (
        "linux-6.12",
        "zero_range_flush=off",
        "iomap_zero_range skips dirty cache over unwritten extents (c5c810b94cfd, 7d9b474ee4cc undone)",
    ),
    ("linux-6.12", "release_reseek=off", "the release walk WARNs on an empty data range (7a9d43eace88 undone)"),
    ("linux-6.13", "ioend_size_clamp=off", "the ioend is not clamped to the sampled i_size (51d20d1dacbe undone)"),
    (
        "linux-6.12",
        "cow_iomap_new=off",
        "COW write mappings SHARED without NEW again (7d6fe5c586e6 undone): no punch of a COW reservation",
    ),
    ("linux-6.12", "cow_fork_punch=off", "the short-write punch goes to the data fork only (f6f91d290c8b undone)"),
    ("linux-6.12", "punch_lock_in_fs=off", "the release walk takes invalidate_lock itself again (abd7d651ad2c undone)"),
    (
        "linux-6.13",
        "isize_extended_zero=off",
        "pagecache_isize_extended only write-protects the EOF folio (the 6.13 mm zeroing undone)",
    ),
    (
        "linux-6.18",
        "zoned_short_write=off",
        "a zoned write takes more blocks than its reservation has left (058dd70c65ab's cap undone)",
    ),
    (
        "linux-6.18 zero_flush_holes=off zoned_zero_hole_flush=on",
        "zoned_zero_hole_flush=off",
        "7.1's zoned zeroing without its own hole flush (2f46c239fce6, 92e9dff9ca50 undone; a35bb0dec955 kept)",
    ),
];

/// Why a survivor cannot change behaviour (or which scenario it needs), by mutation.
pub const ARGUED: &[(&str, &str)] = &[
    (
        "fault_iomap_end=on",
        "equivalent: iomap_page_mkwrite always processes the whole length, so ->iomap_end sees \
         written == length and punches nothing; only drop_writes made it act, and 6.2 rejects that tag",
    ),
    (
        "mutation=no-seq-bump-delalloc-convert",
        "equivalent for every actor the model has: a map cached across the conversion is DELALLOC \
         where the fork now says UNWRITTEN, and every user treats the two alike (the writer and \
         the read path zero a block that is not MAPPED either way, the release walk's punch removes \
         only delalloc and finds none, page_mkwrite maps under the folio lock writeback needs to \
         convert that folio, writeback never caches a DELALLOC map); and a folio is reclaimable \
         only after I/O completion, whose unwritten->written conversion bumps if_seq",
    ),
    (
        "mutation=shadow-is-hole",
        "equivalent: a shadow entry is DATA to SEEK_DATA, but the scan finds no folio there and \
         punches the range anyway, exactly as for a hole",
    ),
];

/// One mutation's result.
#[derive(Debug)]
pub struct MutantRow {
    /// The preset mutated.
    pub base: String,
    /// `knob=value` applied on top of `base`.
    pub set: String,
    /// What it undoes.
    pub what: String,
    /// The first scenario that caught it: (scenario, expected, got).
    pub caught_by: Option<(String, Verdict, String)>,
    /// Checks run for this mutation.
    pub checks: usize,
    /// Executions explored for this mutation.
    pub executions: u64,
    /// Wall time.
    pub elapsed: Duration,
}

/// Every mutation to try, as (preset, `knob=value`, what): the knobs, then the model mutations.
pub fn all_mutations() -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> =
        KNOB_MUTATIONS.iter().map(|(b, s, w)| (b.to_string(), s.to_string(), w.to_string())).collect();
    v.extend(MUTATIONS.iter().map(|(_, n, w)| (BASE.to_string(), format!("mutation={n}"), w.to_string())));
    v
}

/// Run every mutation in `only` (all when empty) against `scenarios`' expectations on the
/// mutation's preset, cheapest scenarios first; `each` sees each row as it completes.
pub fn run(
    scenarios: &[Arc<Scenario>],
    only: &[String],
    budget: Budget,
    mut each: impl FnMut(&MutantRow),
) -> Vec<MutantRow> {
    // Per preset, the scenarios that expect something of it, ordered by how many executions
    // their unmutated check takes, so a mutation is usually caught fast.
    let mutations: Vec<(String, String, String)> = all_mutations()
        .into_iter()
        .filter(|(_, set, _)| only.is_empty() || only.iter().any(|o| set.contains(o.as_str())))
        .collect();
    let mut bases: Vec<(String, Vec<Arc<Scenario>>)> = Vec::new();
    for (preset, _, _) in &mutations {
        if bases.iter().any(|(b, _)| b == preset) {
            continue;
        }
        // Cost in executions, not seconds: the order (and so which scenario is reported as
        // the catcher) depends on nothing but the model, never on the machine's load.
        let mut timed: Vec<(u64, Arc<Scenario>)> = Vec::new();
        for s in scenarios.iter().filter(|s| s.expected(preset).is_some()) {
            let Ok(p) = Prepared::new(s.clone(), preset, &[]) else { continue };
            let r = check(Arc::new(p), &default_strategy(s), budget, None);
            timed.push((r.report.executions, s.clone()));
        }
        timed.sort_by(|(a, x), (b, y)| a.cmp(b).then_with(|| x.name.cmp(&y.name)));
        bases.push((preset.clone(), timed.into_iter().map(|(_, s)| s).collect()));
    }
    let mut rows = Vec::new();
    for (preset, set, what) in mutations {
        let start = Instant::now();
        let mut row = MutantRow {
            base: preset.clone(),
            set: set.clone(),
            what,
            caught_by: None,
            checks: 0,
            executions: 0,
            elapsed: Duration::ZERO,
        };
        let ordered = bases.iter().find(|(b, _)| *b == preset).map(|(_, v)| v.as_slice()).unwrap_or(&[]);
        for s in ordered {
            let Ok(p) = Prepared::new(s.clone(), &preset, std::slice::from_ref(&set)) else { continue };
            let r = check(Arc::new(p), &default_strategy(s), budget, None);
            row.checks += 1;
            row.executions += r.report.executions;
            if !r.matches() {
                let expected = r.expected.clone().unwrap_or(Verdict::Pass);
                let got = match &r.outcome {
                    Outcome::Verdict(v) => v.to_string(),
                    other => other.label(),
                };
                row.caught_by = Some((s.name.clone(), expected, got));
                break;
            }
        }
        row.elapsed = start.elapsed();
        each(&row);
        rows.push(row);
    }
    rows
}

/// The table: mutation -> first scenario and class that caught it, or SURVIVED with the argument.
pub fn table(rows: &[MutantRow]) -> String {
    let mut out = String::new();
    let name = |r: &MutantRow| format!("{} {}", r.base, r.set);
    let w = rows.iter().map(|r| name(r).len()).max().unwrap_or(10);
    for r in rows {
        match &r.caught_by {
            Some((scn, exp, got)) => out.push_str(&format!(
                "{:<w$}  caught by {scn}: {got} (expected {exp}) after {}, {:.1?}\n",
                name(r),
                crate::render::plural(r.checks as u64, "check"),
                r.elapsed
            )),
            None => {
                out.push_str(&format!(
                    "{:<w$}  SURVIVED {} ({})\n",
                    name(r),
                    crate::render::plural(r.checks as u64, "check"),
                    crate::render::plural(r.executions, "execution")
                ));
                if let Some((_, why)) = ARGUED.iter().find(|(m, _)| *m == r.set) {
                    out.push_str(&crate::render::wrapped(why, w + 4));
                }
            }
        }
    }
    let caught = rows.iter().filter(|r| r.caught_by.is_some()).count();
    let argued = rows.iter().filter(|r| r.caught_by.is_none() && ARGUED.iter().any(|(m, _)| *m == r.set)).count();
    out.push_str(&format!(
        "{caught} of {} mutations caught, {argued} survivors argued above, {} unexplained\n",
        rows.len(),
        rows.len() - caught - argued
    ));
    out
}
