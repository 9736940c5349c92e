//! Human-readable output: result lines and the failing execution's events.

use crate::oracle::Violation;
use crate::{CheckResult, Outcome};
use iomc_explore::Stop;
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
        What::FolioFound {
            pos,
            uptodate,
            dirty,
            writeback,
            ..
        } => format!(
            "folio {pos} cached{}{}{}",
            if uptodate { ", uptodate" } else { ", not uptodate" },
            if dirty { ", dirty" } else { "" },
            if writeback { ", writeback" } else { "" }
        ),
        What::FolioLocked { pos } => format!("lock folio {pos}"),
        What::FolioUnlocked { pos } => format!("unlock folio {pos}"),
        What::FolioEvicted { pos, size, shadow } => {
            format!(
                "folio {pos}+{size}: evicted{}",
                if shadow { " (shadow entry left)" } else { "" }
            )
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
        What::Uptodate { from, to } => format!("[{from}, {to}) uptodate"),
        What::Iomap {
            offset,
            length,
            ty: t,
            new,
            cookie,
        } => format!(
            "iomap [{offset}, {}) {}{} cookie {cookie}",
            offset + length,
            ty(t),
            if new { " NEW" } else { "" }
        ),
        What::Extent {
            from_byte,
            to_byte,
            was,
            now,
            seq_was,
            seq_now,
        } => format!(
            "extent [{from_byte}, {to_byte}): {} -> {}; if_seq {seq_was} -> {seq_now}",
            ext(was),
            ext(now)
        ),
        What::Valid { cookie, if_seq, valid } => {
            format!(
                "cookie {cookie} vs if_seq {if_seq}: {}",
                if valid { "valid" } else { "STALE" }
            )
        }
        What::IomapEnd { pos, length, written } => format!("written {written} of [{pos}, {})", pos + length),
        What::Punch { from, to } => format!("punch delalloc [{from}, {to})"),
        What::TruncatePagecache { from, to } => format!("truncate page cache [{from}, {to})"),
        What::DiskWrite { from, to, pblk } => format!("[{from}, {to}) -> disk block {pblk}"),
        What::WritebackSkip { from, to, why } => format!("skips [{from}, {to}): {why}"),
        What::Size { was, now } => format!("i_size {was} -> {now}"),
        What::ShortWrite { pos, why } => format!("at {pos}: {why}"),
        What::Note(s) => s.to_string(),
    }
}

/// The failing execution's events, one per line: step, actor, kernel function, what changed.
pub fn timeline(v: &Violation, names: &[String], full: bool) -> String {
    let mut out = String::new();
    let w = names.iter().map(|n| n.len()).max().unwrap_or(5).max(5);
    let mut n = 0;
    for (i, e) in v.events.iter().enumerate() {
        if i == v.events_before_check {
            out.push_str("      --- oracle: fsync, evict everything, read the disk ---\n");
        }
        if !full && !is_major(e) {
            continue;
        }
        n += 1;
        let name = names.get(e.actor as usize).map(String::as_str).unwrap_or("?");
        out.push_str(&format!("  {n:>3}  {name:<w$}  {:<32} {}\n", e.func, describe(&e.what)));
    }
    out
}

/// The one-line summary of a check.
pub fn result_line(r: &CheckResult) -> String {
    let p = &r.prepared;
    let exp = r.expected.as_ref().map(|e| e.to_string()).unwrap_or_else(|| "-".into());
    let mark = if r.matches() { "ok  " } else { "FAIL" };
    let sets = if p.overrides.is_empty() {
        String::new()
    } else {
        format!(" [{}]", p.overrides.join(","))
    };
    let rep = &r.report;
    let how = match (&rep.stop, rep.bound) {
        (Stop::Exhausted, Some(b)) => format!("exhaustive, loom bound {b}"),
        (Stop::Exhausted, None) => "exhaustive".to_string(),
        (_, Some(b)) => format!("loom bound {b}"),
        (Stop::IterationLimit, None) => "sampled, not exhaustive".to_string(),
        (_, None) => String::new(),
    };
    let how = if how.is_empty() {
        String::new()
    } else {
        format!(", {how}")
    };
    format!(
        "{mark} {:<34} {:<17} got {:<14} expected {:<14} {} executions ({}{}) in {:.2?}",
        p.scenario.name,
        format!("{}{sets}", p.preset),
        r.outcome.label(),
        exp,
        rep.executions,
        r.strategy.name(),
        how,
        rep.elapsed
    )
}

/// Everything to print for a check: the line, and for a violation its story and replay.
pub fn full_report(r: &CheckResult, trace: bool) -> String {
    let mut out = result_line(r);
    out.push('\n');
    match &r.outcome {
        Outcome::Incomplete(why) => out.push_str(&format!("     incomplete: {why}\n")),
        Outcome::Error(why) => out.push_str(&format!("     error: {why}\n")),
        Outcome::Verdict(_) => {}
    }
    for (v, (n, first)) in &r.other {
        out.push_str(&format!(
            "     also seen while searching: {v} in {n} execution(s), e.g. {}\n",
            first.summary
        ));
    }
    if let Some(f) = &r.report.found {
        let v = &f.finding;
        let names = &r.prepared.actor_names;
        out.push_str(&format!("     {}\n", v.summary));
        for d in &v.detail {
            out.push_str(&format!("     {d}\n"));
        }
        let at = match f.bound {
            Some(b) => format!("execution {} of loom bound {b}", f.exec),
            None => format!("execution {}", f.exec),
        };
        out.push_str(&format!("     found at {at}; the failing execution, in order:\n"));
        out.push_str(&timeline(v, names, trace));
        match &r.token {
            Some(t) => out.push_str(&format!("     replay: iomc replay '{t}'\n")),
            None => out.push_str("     (stress runs cannot be replayed: use a loom or shuttle strategy)\n"),
        }
    }
    out
}
