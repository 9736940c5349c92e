//! Human-readable output: result lines and the failing execution's events.

use crate::oracle::Violation;
use crate::{CheckResult, Outcome};
use iomc_explore::{ShuttleKind, Stop, Strategy, DEFAULT_PCT_DEPTH};
use iomc_models::events::{ExtKind, IomapType};
use iomc_models::{Event, What};

fn ext(k: ExtKind) -> &'static str {
    match k {
        ExtKind::Hole => "hole",
        ExtKind::Delalloc => "delalloc",
        ExtKind::Unwritten => "unwritten",
        ExtKind::Written => "written",
    }
}

fn ty(t: IomapType) -> &'static str {
    match t {
        IomapType::Hole => "HOLE",
        IomapType::Delalloc => "DELALLOC",
        IomapType::Mapped => "MAPPED",
        IomapType::Unwritten => "UNWRITTEN",
    }
}

/// Is this event worth a line in the default timeline? (Locks and lookups are in `--trace`.)
pub fn is_major(e: &Event) -> bool {
    !matches!(
        e.what,
        What::Lock { .. }
            | What::Unlock { .. }
            | What::FolioLocked { .. }
            | What::FolioUnlocked { .. }
            | What::FolioFound { .. }
    )
}

/// One event's text (without actor and function).
pub fn describe(w: &What) -> String {
    match *w {
        What::Lock { name, excl } => format!("take {name} ({})", if excl { "excl" } else { "shared" }),
        What::Unlock { name } => format!("drop {name}"),
        What::FolioCreated { pos, size, .. } => format!("folio {pos}+{size}: absent -> created, not uptodate"),
        What::FolioFound { pos, uptodate, dirty, writeback, .. } => format!(
            "folio {pos} cached{}{}{}",
            if uptodate { ", uptodate" } else { ", not uptodate" },
            if dirty { ", dirty" } else { "" },
            if writeback { ", writeback" } else { "" }
        ),
        What::FolioLocked { pos } => format!("lock folio {pos}"),
        What::FolioUnlocked { pos } => format!("unlock folio {pos}"),
        What::FolioEvicted { pos, size, shadow } => {
            format!("folio {pos}+{size}: evicted{}", if shadow { " (shadow entry left)" } else { "" })
        }
        What::FolioKept { pos, why } => format!("folio {pos} kept: {why}"),
        What::FolioDirty { pos } => format!("folio {pos}: clean -> dirty"),
        What::FolioClean { pos } => format!("folio {pos}: dirty -> clean (for I/O)"),
        What::WritebackStart { pos } => format!("folio {pos}: writeback started"),
        What::WritebackEnd { pos } => format!("folio {pos}: writeback ended"),
        What::Zero { from, to } => format!("zeroes [{from}, {to})"),
        What::ReadIn { from, to, ty: t } => match t {
            IomapType::Mapped => format!("reads [{from}, {to}) from disk"),
            _ => format!("zero-fills [{from}, {to}) ({})", ty(t)),
        },
        What::Copy { from, to, fill } => format!("copies {fill:#04x} into [{from}, {to})"),
        What::Iomap { offset, length, ty: t, new, cookie } => {
            format!("iomap [{offset}, {}) {}{} cookie {cookie}", offset + length, ty(t), if new { " NEW" } else { "" })
        }
        What::Extent { from_byte, to_byte, was, now, seq_was, seq_now } => {
            format!("extent [{from_byte}, {to_byte}): {} -> {}; if_seq {seq_was} -> {seq_now}", ext(was), ext(now))
        }
        What::Valid { cookie, if_seq, valid } => {
            format!("cookie {cookie} vs if_seq {if_seq}: {}", if valid { "valid" } else { "STALE" })
        }
        What::IomapEnd { pos, length, written } => format!("written {written} of [{pos}, {})", pos + length),
        What::Punch { from, to } => format!("punch delalloc [{from}, {to})"),
        What::TruncatePagecache { from, to } => format!("truncate page cache [{from}, {to})"),
        What::DiskWrite { from, to, pblk } => format!("[{from}, {to}) -> disk block {pblk}"),
        What::WritebackSkip { from, to, why } => format!("skips [{from}, {to}): {why}"),
        What::WritebackError { pos, errno } => format!("fails at {pos}: {} (injected)", errno_name(errno)),
        What::Size { was, now } => format!("i_size {was} -> {now}"),
        What::ShortWrite { pos, why } => format!("at {pos}: {why}"),
        What::Note(s) => s.to_string(),
        What::Seek { data, start, end, found } => {
            let whence = if data { "SEEK_DATA" } else { "SEEK_HOLE" };
            match found {
                Some(f) => format!("{whence} in [{start}, {end}): {f}"),
                None => format!("{whence} in [{start}, {end}): -ENXIO"),
            }
        }
        What::Returned { offset, ref runs } => returned(offset, runs),
    }
}

/// A read's bytes as runs, the disk's poison named.
fn returned(offset: u64, runs: &[(u64, u64, u8)]) -> String {
    let n: u64 = runs.iter().map(|(f, t, _)| t - f).sum();
    let shown: Vec<String> = runs
        .iter()
        .map(|&(f, t, b)| {
            let what = if b == iomc_models::xfs::POISON { " (never written)" } else { "" };
            format!("[{f}, {t}) {b:#04x}{what}")
        })
        .collect();
    format!("returns {n} bytes from {offset}: {}", if shown.is_empty() { "none".into() } else { shown.join(", ") })
}

/// `-28` as `-ENOSPC`, for the errnos the model returns.
fn errno_name(e: i64) -> String {
    match e {
        -5 => "-EIO".into(),
        -11 => "-EAGAIN".into(),
        -14 => "-EFAULT".into(),
        -22 => "-EINVAL".into(),
        -28 => "-ENOSPC".into(),
        _ => e.to_string(),
    }
}

/// Width the timeline is laid out for (a mail reader's 100 columns).
pub const TIMELINE_WIDTH: usize = 100;

/// Greedy word wrap to `width` characters; a word longer than a line is broken.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(8);
    let mut lines: Vec<String> = Vec::new();
    let mut cur: Vec<char> = Vec::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let mut word: Vec<char> = word.chars().collect();
        if !cur.is_empty() && cur.len() + 1 + word.len() > width {
            lines.push(cur.drain(..).collect());
        }
        while word.len() > width {
            lines.push(word.drain(..width).collect());
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.extend(word);
    }
    if !cur.is_empty() {
        lines.push(cur.into_iter().collect());
    }
    lines
}

/// An event as lines of at most `width` characters: the kernel function, then what it did,
/// indented.
fn event_lines(e: &Event, width: usize) -> Vec<String> {
    let mut l = wrap(&format!("{}:", e.func), width);
    l.extend(wrap(&describe(&e.what), width - 2).into_iter().map(|x| format!("  {x}")));
    l
}

/// The failing execution as a race diagram: setup as a preamble, then one column per actor
/// (each row one step: the kernel function and the state it changed), then the oracle's flush
/// and its finding. `full` includes locks and lookups.
pub fn timeline(v: &Violation, names: &[String], full: bool) -> String {
    let mut out = String::new();
    let actors: Vec<usize> = (1..names.len()).collect();
    let ncols = actors.len().max(1);
    let step_w = 5;
    let col_w = (TIMELINE_WIDTH - step_w - 1) / ncols - 3;
    let shown: Vec<(usize, &Event)> = v.events.iter().enumerate().filter(|(_, e)| full || is_major(e)).collect();
    let cell = |e: &Event| format!("{}: {}", e.func, describe(&e.what));
    let listed = |e: &Event| {
        let mut l = wrap(&cell(e), TIMELINE_WIDTH - 10);
        for x in l.iter_mut().skip(1) {
            x.insert_str(0, "  ");
        }
        l
    };
    // Setup, single-threaded, before the actors start.
    let setup: Vec<&(usize, &Event)> =
        shown.iter().filter(|(i, e)| e.actor == 0 && *i < v.events_before_check).collect();
    if !setup.is_empty() {
        out.push_str("     setup (before the threads start):\n");
        for (_, e) in &setup {
            for line in listed(e) {
                out.push_str(&format!("       {line}\n"));
            }
        }
    }
    let mut header = format!("{:>step_w$} ", "step");
    let mut rule = format!("{:->step_w$} ", "");
    for a in &actors {
        header.push_str(&format!("| {:<col_w$} ", names[*a]));
        rule.push_str(&format!("+-{:-<col_w$}-", ""));
    }
    out.push_str(&format!("{}\n{}\n", header.trim_end(), rule.trim_end()));
    let mut step = 0;
    for (i, e) in &shown {
        if e.actor == 0 || *i >= v.events_before_check {
            continue;
        }
        step += 1;
        let col = actors.iter().position(|a| *a == e.actor as usize).unwrap_or(0);
        for (k, line) in event_lines(e, col_w).into_iter().enumerate() {
            let mut row = if k == 0 { format!("{step:>step_w$} ") } else { format!("{:>step_w$} ", "") };
            for c in 0..ncols {
                let text = if c == col { line.as_str() } else { "" };
                row.push_str(&format!("| {text:<col_w$} "));
            }
            out.push_str(row.trim_end());
            out.push('\n');
        }
    }
    let after: Vec<&(usize, &Event)> = shown.iter().filter(|(i, _)| *i >= v.events_before_check).collect();
    if !after.is_empty() {
        out.push_str("     oracle (after the threads joined): fsync, evict everything, read the disk");
        out.push_str(if full { ":\n" } else { " (events with --trace)\n" });
        for (_, e) in after.iter().skip(1).filter(|_| full) {
            for line in listed(e) {
                out.push_str(&format!("       {line}\n"));
            }
        }
    }
    out.push_str(&wrapped(&format!("=> {}", v.summary), 5));
    for d in &v.detail {
        out.push_str(&wrapped(d, 8));
    }
    out
}

/// `text` wrapped to the timeline width, each line indented by `indent` spaces.
pub fn wrapped(text: &str, indent: usize) -> String {
    wrap(text, TIMELINE_WIDTH - indent).into_iter().map(|l| format!("{:indent$}{l}\n", "")).collect()
}

/// How the search ended, in words ("exhaustive, loom bound 3").
fn how(r: &CheckResult) -> String {
    let rep = &r.report;
    let pct_then_loom = matches!(r.strategy, Strategy::PctThenLoom { .. });
    match (&rep.stop, rep.bound) {
        (Stop::Exhausted, Some(b)) if rep.presearch > 0 => {
            format!("{} PCT, then loom: exhaustive under loom bound {b}", rep.presearch)
        }
        // One thread: nothing for PCT to reorder, so the default strategy runs loom alone.
        (Stop::Exhausted, Some(b)) if pct_then_loom => {
            format!("loom (one thread: no PCT phase), exhaustive under loom bound {b}")
        }
        (Stop::Exhausted, Some(b)) => format!("{}, exhaustive under loom bound {b}", r.strategy.name()),
        (Stop::Exhausted, None) => format!("{}, exhaustive", r.strategy.name()),
        (_, Some(b)) if pct_then_loom && rep.presearch > 0 => format!("{} PCT, then loom bound {b}", rep.presearch),
        (_, Some(b)) if pct_then_loom => format!("loom bound {b}"),
        (_, Some(b)) => format!("{}, loom bound {b}", r.strategy.name()),
        // The default strategy stopped in its PCT phase: loom never ran.
        (_, None) if pct_then_loom => format!("PCT depth {DEFAULT_PCT_DEPTH}; loom not run"),
        (Stop::IterationLimit, None) => format!("{}, sampled, not exhaustive", r.strategy.name()),
        (_, None) => r.strategy.name(),
    }
}

/// `1 execution`, `2 executions`.
pub fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The one-line summary of a check (at most about 100 columns).
pub fn result_line(r: &CheckResult) -> String {
    let p = &r.prepared;
    let exp = r
        .expected
        .as_ref()
        .map(|e| format!("expected {e}"))
        .unwrap_or_else(|| "not judged: the preset is not in [expect]".into());
    let mark = match (r.matches(), r.unjudged()) {
        (true, _) => "ok  ",
        (false, true) => "--  ",
        (false, false) => "FAIL",
    };
    let sets = if p.overrides.is_empty() { String::new() } else { format!(" --set {}", p.overrides.join(",")) };
    let line = format!(
        "{mark} {} [{}{sets}]: {} ({exp}); {} ({}) in {:.2?}",
        p.scenario.name,
        p.preset,
        r.outcome.label(),
        plural(r.report.executions, "execution"),
        how(r),
        r.report.elapsed
    );
    let mut out = wrap(&line, TIMELINE_WIDTH);
    for l in out.iter_mut().skip(1) {
        l.insert_str(0, "     ");
    }
    out.join("\n")
}

/// `iomc check --trace` on a check that found nothing: one execution of it (the
/// [`crate::representative`] one), every event, and what the oracle said about it.
pub fn representative_report(v: &Violation, names: &[String]) -> String {
    let mut out = wrapped(
        "one execution of it (--trace; loom bound 0, execution 1: the threads one after another, no preemption):",
        5,
    );
    out.push_str(&timeline(v, names, true));
    out
}

/// Everything to print for a check: the line, and for a violation its story and replay.
pub fn full_report(r: &CheckResult, trace: bool) -> String {
    let mut out = result_line(r);
    out.push('\n');
    match &r.outcome {
        Outcome::Verdict(iomc_scenario::Verdict::Deadlock) => {
            out.push_str(&wrapped(&format!("deadlock: {}", r.report.stop), 5));
        }
        Outcome::Incomplete(why) => out.push_str(&wrapped(&format!("incomplete: {why}"), 5)),
        Outcome::Error(why) => out.push_str(&wrapped(&format!("error: {why}"), 5)),
        Outcome::Verdict(_) => {}
    }
    for (v, (n, first)) in &r.other {
        let text = format!("also seen while searching: {v} in {}, e.g. {}", plural(*n, "execution"), first.summary);
        out.push_str(&wrapped(&text, 5));
        if let Some(t) = r.other_tokens.get(v) {
            out.push_str(&format!("       iomc replay '{t}'\n"));
        }
    }
    if let Some(f) = &r.report.found {
        let v = &f.finding;
        let names = &r.prepared.actor_names;
        out.push_str(&wrapped(&v.summary, 5));
        let preemptions =
            |b: u32| if b == 1 { "at most 1 preemption".to_string() } else { format!("at most {b} preemptions") };
        let changes = |d: usize| {
            if d == 2 {
                "at most 1 priority change".to_string()
            } else {
                format!("at most {} priority changes", d - 1)
            }
        };
        let at = match (f.bound, &r.strategy) {
            (Some(0), _) => format!("execution {} of loom bound 0 (no preemptions)", f.exec),
            (Some(b), Strategy::Loom { min_bound, .. }) if b > *min_bound => format!(
                "execution {} of loom bound {b}: {}; bound {} was explored without finding it",
                f.exec,
                preemptions(b),
                b - 1
            ),
            (Some(b), Strategy::PctThenLoom { .. }) if r.report.presearch > 0 => format!(
                "execution {} of loom bound {b}, after {}: {}; bound {} was explored without finding it",
                f.exec,
                plural(r.report.presearch, "PCT execution"),
                preemptions(b),
                b - 1
            ),
            (Some(b), Strategy::PctThenLoom { .. }) => format!(
                "execution {} of loom bound {b} (one thread: no PCT phase): {}; bound {} was explored without \
                 finding it",
                f.exec,
                preemptions(b),
                b - 1
            ),
            (None, Strategy::PctThenLoom { .. }) => format!(
                "execution {} of the PCT phase (depth {DEFAULT_PCT_DEPTH}): {}; loom was not needed",
                f.exec,
                changes(DEFAULT_PCT_DEPTH)
            ),
            (Some(b), _) => format!("execution {} of loom bound {b}: {}", f.exec, preemptions(b)),
            (None, Strategy::Shuttle { kind: ShuttleKind::Pct { depth }, .. }) => {
                format!("execution {} of PCT depth {depth}: {}", f.exec, changes(*depth))
            }
            (None, _) => format!("execution {}", f.exec),
        };
        out.push_str(&wrapped(&format!("found at {at}"), 5));
        out.push_str(&timeline(v, names, trace));
        match &r.token {
            Some(t) => out.push_str(&format!("     replay:\n       iomc replay '{t}'\n")),
            None => out.push_str("     (stress runs cannot be replayed: use a loom or shuttle strategy)\n"),
        }
    }
    out
}
