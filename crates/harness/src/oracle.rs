//! The oracle: which bytes a file may hold after an execution, and what it actually holds.
//!
//! For each byte, the writes that cover it define its allowed values: the value of every
//! covering write that no other covering write started after the end of; the initial content
//! (zero: the file starts empty) if no write covers it. This is a per-byte regular register:
//! it never accepts a zero where an earlier, completed write put data, and it never rejects a
//! legal concurrent outcome. A write that returned short covers the bytes it reported
//! "definitely" and the rest "maybe" (its value is allowed there, but it hides nothing).
//!
//! Two views are checked after the threads join, plus every `read` at its own time, plus the
//! crash view if a `crash` op ran (crash_view.rs):
//! * the page-cache view: what a read through the cache returns now;
//! * the durable view: write everything back (WB_SYNC_ALL), evict every folio, read the disk
//!   through the extent map.
//!
//! The disk starts as poison, so a byte that never got data shows as poison (`stale-data`); a
//! zero that is not allowed is `zeroed-data`; anything else not allowed is `lost-write`.
//! A folio whose writeback failed with a reported error (`xfs_discard_folio`) may read as a
//! hole (zero) from then on: the error told the application its data may be lost.
//!
//! `dirty-over-hole` reads a ghost per-block "changed since cleaned" state, not the 6.6+
//! per-block dirty bits, on every preset: the real bits over-approximate (page_mkwrite and
//! `ifs_alloc` on a dirty folio set every bit of the folio, so a block whose bytes never
//! changed can be dirty over a hole, which loses nothing), and before 6.6 there are none.
//! Before the flush, the quiescent invariants are checked: no block of a dirty folio that was
//! changed since it was last cleaned, inside EOF, over a hole (`invariant:dirty-over-hole`), no delalloc inside EOF without a dirty folio over it
//! (`invariant:orphan-delalloc`), no delalloc at or beyond EOF (`invariant:delalloc-beyond-eof`:
//! the model has no speculative preallocation, so any is a leak), and every model WARN
//! (`invariant:<name>`).

use crate::Prepared;
use iomc_models::events::Warning;
use iomc_models::pagecache::invalidate_after_exit;
use iomc_models::xfs::{self, Bmap, POISON};
use iomc_models::{Ctx, Event, OpDesc, OpRecord, What, World};
use iomc_scenario::Verdict;

/// A violation found in one execution.
#[derive(Clone, Debug)]
pub struct Violation {
    /// Its class.
    pub verdict: Verdict,
    /// One line: what is wrong where.
    pub summary: String,
    /// More lines (expected vs found, which write was lost).
    pub detail: Vec<String>,
    /// Every event of the execution.
    pub events: Vec<Event>,
    /// Number of events that happened before the oracle's own flush.
    pub events_before_check: usize,
    /// The operation history.
    pub ops: Vec<OpRecord>,
}

/// A write-like op as the register sees it.
#[derive(Clone)]
pub(crate) struct Wr {
    pub(crate) op: usize,
    pub(crate) start: u64,
    /// End of the bytes it surely wrote.
    pub(crate) def_end: u64,
    /// End of the bytes it may have written.
    pub(crate) may_end: u64,
    pub(crate) value: u8,
    pub(crate) inv: u64,
    pub(crate) resp: u64,
}

/// The register's view of the history's write-like ops. `folio_max` is the largest folio the
/// geometry allows, in bytes (the reach of a direct write's page-cache invalidation).
pub(crate) fn writes(ops: &[OpRecord], folio_max: u64) -> Vec<Wr> {
    // The instants at which i_size grew: (actor, when, from, to).
    let extends: Vec<(u8, u64, u64, u64)> = ops
        .iter()
        .filter_map(|r| match r.desc {
            OpDesc::Extend { from, to } => Some((r.actor, r.inv, from, to)),
            _ => None,
        })
        .collect();
    // An instant `t` falls inside op `r`'s interval.
    let during = |r: &OpRecord, t: u64| r.inv < t && t < r.resp;
    // Direct writes whose page cache could not be invalidated afterwards (the kernel warned and
    // set -EIO): their data may not show through the cache, so they hide nothing.
    let stale: Vec<(u8, u64)> =
        ops.iter().filter(|r| matches!(r.desc, OpDesc::StalePagecache { .. })).map(|r| (r.actor, r.inv)).collect();
    // Linux keeps direct and buffered I/O coherent only between them, not while both are in
    // flight over the same folio: a buffered write or store that runs while a direct write is
    // in flight may zero around its bytes over a not yet converted extent, or be written back
    // over the direct write's data. Such a direct write hides nothing either.
    let buffered_near = |r: &OpRecord, offset: u64, length: u64| {
        ops.iter().any(|x| {
            let (o, l) = match x.desc {
                OpDesc::Write { offset, length, .. }
                | OpDesc::Store { offset, length, .. }
                | OpDesc::Zero { offset, length } => (offset, length),
                _ => return false,
            };
            let (s, e) = (offset / folio_max * folio_max, (offset + length).div_ceil(folio_max) * folio_max);
            x.actor != r.actor && x.inv < r.resp && r.inv < x.resp && o < e && s < o + l
        })
    };
    let mut ws: Vec<Wr> = ops
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let (start, len, value) = match r.desc {
                OpDesc::Write { offset, length, fill }
                | OpDesc::DirectWrite { offset, length, fill }
                | OpDesc::Store { offset, length, fill } => (offset, length, fill),
                OpDesc::Zero { offset, length } | OpDesc::Discard { offset, length } => (offset, length, 0),
                _ => return None,
            };
            let incoherent = matches!(r.desc, OpDesc::DirectWrite { .. })
                && (stale.iter().any(|&(a, t)| a == r.actor && during(r, t)) || buffered_near(r, start, len));
            let done = match r.desc {
                _ if incoherent => 0,
                OpDesc::Write { .. } | OpDesc::DirectWrite { .. } | OpDesc::Store { .. } => {
                    r.result.clamp(0, len as i64) as u64
                }
                // A reported writeback error: the folio may read as a hole from then on, or
                // keep what it had; it hides nothing.
                OpDesc::Discard { .. } => 0,
                _ => len,
            };
            // A store's bytes beyond the EOF of its moment are not file data (POSIX: they are
            // not written to the file), unless another actor moved i_size while it ran, so
            // that they may have been inside EOF when stored.
            let may_len = match r.desc {
                OpDesc::Store { .. } if !extends.iter().any(|&(a, t, _, _)| a != r.actor && during(r, t)) => done,
                _ => len,
            };
            Some(Wr { op: i, start, def_end: start + done, may_end: start + may_len, value, inv: r.inv, resp: r.resp })
        })
        .collect();
    // An op that grows i_size zeroes the gap it opens as part of itself (POSIX: the bytes
    // between the old EOF and a write beyond it read zero): the gap from the old EOF to the
    // write's start (to the new size for truncate, fallocate and zero_range) is a zeroing over
    // the op's whole interval. The kernel does that zeroing in more than one step (the EOF
    // zeroing before the copy, from 6.13 `pagecache_isize_extended` after the size moved), so
    // a store that runs meanwhile may be zeroed.
    for (i, r) in ops.iter().enumerate() {
        let gap_end = |to: u64| match r.desc {
            OpDesc::Write { offset, .. } | OpDesc::DirectWrite { offset, .. } => Some(to.min(offset)),
            OpDesc::Zero { .. } | OpDesc::Neutral(_) => Some(to),
            _ => None,
        };
        for &(_, _, from, to) in extends.iter().filter(|&&(a, t, _, _)| a == r.actor && during(r, t)) {
            let Some(gap_end) = gap_end(to) else { break };
            if from < gap_end {
                ws.push(Wr {
                    op: i,
                    start: from,
                    def_end: gap_end,
                    may_end: gap_end,
                    value: 0,
                    inv: r.inv,
                    resp: r.resp,
                });
            }
        }
    }
    // A clone (an instant under the locks it holds) copies what its source could read then:
    // per segment of the source, one definite write of its value when only one is allowed, else
    // a possible write of each.
    for (i, r) in ops.iter().enumerate() {
        let OpDesc::Clone { src, dst, length } = r.desc else { continue };
        let before: Vec<Wr> = ws.iter().filter(|w| w.inv < r.inv).cloned().collect();
        for (seg_s, seg_e, vals) in segments(&before, src, length, (r.inv, r.resp)) {
            let (s, e) = (dst + (seg_s - src), dst + (seg_e - src));
            let def_end = if vals.len() == 1 { e } else { s };
            for value in vals {
                ws.push(Wr { op: i, start: s, def_end, may_end: e, value, inv: r.inv, resp: r.resp });
            }
        }
    }
    ws
}

/// Allowed values for byte `b`, observed by a reader active over `[r_inv, r_resp]`
/// (`(u64::MAX, u64::MAX)` = after everything). Returns (values, ops whose value it is).
pub(crate) fn allowed(ws: &[Wr], b: u64, r_inv: u64, r_resp: u64) -> (Vec<u8>, Vec<usize>) {
    let covers_def = |w: &Wr| w.start <= b && b < w.def_end;
    let covers_may = |w: &Wr| w.start <= b && b < w.may_end;
    // A write is hidden if a definite covering write started after it ended and ended
    // before the reader started.
    let hidden = |w: &Wr| ws.iter().any(|x| covers_def(x) && w.resp < x.inv && x.resp < r_inv);
    let mut vals = Vec::new();
    let mut who = Vec::new();
    for w in ws.iter().filter(|w| covers_may(w) && w.inv < r_resp && !hidden(w)) {
        if !vals.contains(&w.value) {
            vals.push(w.value);
        }
        who.push(w.op);
    }
    let initial_hidden = ws.iter().any(|x| covers_def(x) && x.resp < r_inv);
    if !initial_hidden && !vals.contains(&0) {
        vals.push(0);
    }
    (vals, who)
}

/// The class of a byte at `b` that holds `found`, not an allowed value: poison (never-written
/// disk) or a value no write ever put there as file data (a store beyond EOF exposed by a size
/// increase) is `stale-data`; a zero is `zeroed-data`; an older write's value is `lost-write`.
pub(crate) fn class_of(ws: &[Wr], b: u64, found: u8) -> Verdict {
    match found {
        POISON => Verdict::StaleData,
        0 => Verdict::ZeroedData,
        v if ws.iter().any(|w| w.value == v && w.start <= b && b < w.may_end) => Verdict::LostWrite,
        _ => Verdict::StaleData,
    }
}

pub(crate) fn hex_list(v: &[u8]) -> String {
    v.iter().map(|b| format!("{b:#04x}")).collect::<Vec<_>>().join(" or ")
}

fn describe_op(ops: &[OpRecord], names: &[String], i: usize) -> String {
    let r = &ops[i];
    let who = names.get(r.actor as usize).map(String::as_str).unwrap_or("?");
    match r.desc {
        OpDesc::Write { offset, length, fill } => {
            format!("write of {fill:#04x} over [{offset}, {}) by {who}", offset + length)
        }
        OpDesc::DirectWrite { offset, length, fill } => {
            format!("O_DIRECT write of {fill:#04x} over [{offset}, {}) by {who}", offset + length)
        }
        OpDesc::Store { offset, length, fill } => {
            format!("mmap store of {fill:#04x} over [{offset}, {}) by {who}", offset + length)
        }
        OpDesc::Zero { offset, length } => format!("zeroing of [{offset}, {}) by {who}", offset + length),
        OpDesc::Clone { src, dst, length } => {
            format!("clone of [{src}, {}) to [{dst}, {}) by {who}", src + length, dst + length)
        }
        OpDesc::Discard { offset, length } => {
            format!("writeback error discarding [{offset}, {}) in {who}", offset + length)
        }
        _ => format!("op #{i} by {who}"),
    }
}

/// Allowed values per segment of `[base, base+len)`: the register is constant between the
/// boundaries of the writes, so it is evaluated once per segment, not once per byte.
fn segments(ws: &[Wr], base: u64, len: u64, reader: (u64, u64)) -> Vec<(u64, u64, Vec<u8>)> {
    let end = base + len;
    let mut cuts = vec![base, end];
    for w in ws {
        for c in [w.start, w.def_end, w.may_end] {
            if base < c && c < end {
                cuts.push(c);
            }
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    cuts.windows(2).map(|c| (c[0], c[1], allowed(ws, c[0], reader.0, reader.1).0)).collect()
}

/// Index of the first byte of `data` that is not one of `vals`. The common case (one allowed
/// value over a segment) compares 64 bytes at a time without an early exit, which the compiler
/// vectorises: this loop is most of the oracle's cost.
pub(crate) fn first_not_in(data: &[u8], vals: &[u8]) -> Option<usize> {
    if let [v] = vals {
        let mut off = 0;
        for chunk in data.chunks(64) {
            if chunk.iter().fold(0u8, |acc, b| acc | (b ^ v)) != 0 {
                return chunk.iter().position(|b| b != v).map(|i| off + i);
            }
            off += chunk.len();
        }
        return None;
    }
    let mut ok = [false; 256];
    for v in vals {
        ok[*v as usize] = true;
    }
    data.iter().position(|b| !ok[*b as usize])
}

/// Compare a view with the register; the first bad range becomes a violation.
fn compare(
    p: &Prepared,
    view_name: &str,
    base: u64,
    data: &[u8],
    ws: &[Wr],
    ops: &[OpRecord],
    reader: (u64, u64),
) -> Option<(Verdict, String, Vec<String>)> {
    let bs = p.geo.block_size;
    let segs = segments(ws, base, data.len() as u64, reader);
    let ok = |i: usize| -> bool {
        let b = base + i as u64;
        segs.iter().find(|(s, e, _)| *s <= b && b < *e).is_none_or(|(_, _, v)| v.contains(&data[i]))
    };
    let first = segs.iter().find_map(|(s, e, vals)| {
        let (s, e) = ((s - base) as usize, (e - base) as usize);
        first_not_in(&data[s..e], vals).map(|i| s + i)
    })?;
    let found = data[first];
    let mut last = first;
    while last + 1 < data.len() && data[last + 1] == found && !ok(last + 1) {
        last += 1;
    }
    let (a, e) = (base + first as u64, base + last as u64 + 1);
    let (vals, who) = allowed(ws, a, reader.0, reader.1);
    let verdict = class_of(ws, a, found);
    let (blk_s, blk_e) = (a / bs * bs, e.div_ceil(bs) * bs);
    let partial = blk_e - blk_s > e - a;
    let summary = format!(
        "{verdict}: {view_name} bytes [{a}, {e}) hold {found:#04x}, expected {} ({} block{} [{blk_s}, {blk_e}))",
        hex_list(&vals),
        if partial { "partial" } else { "whole" },
        if blk_e - blk_s > bs { "s" } else { "" },
    );
    let detail = who
        .into_iter()
        .map(|i| match ws.iter().find(|w| w.op == i && w.value == 0 && w.start <= a && a < w.may_end) {
            // A gap an op's size increase opened (its zeroing), not the op's own data.
            Some(w) if !matches!(ops[i].desc, OpDesc::Zero { .. } | OpDesc::Discard { .. }) => {
                let who = p.actor_names.get(ops[i].actor as usize).map(String::as_str).unwrap_or("?");
                format!("lost: zeroing of [{}, {}), the gap {who}'s size increase opened", w.start, w.def_end)
            }
            _ => format!("lost: {}", describe_op(ops, &p.actor_names, i)),
        })
        .collect();
    Some((verdict, summary, detail))
}

/// What a read through the page cache returns for `[0, span)` now (zero beyond EOF).
pub(crate) fn cache_view(w: &World) -> Vec<u8> {
    let geo = &w.geo;
    let bs = geo.block_size;
    let st = w.mapping.i_pages.lock();
    let core = w.ip.ilock.lock();
    let mut out = vec![0u8; geo.span as usize];
    for blk in 0..geo.nr_blocks() {
        let pos = blk * bs;
        if pos >= st.i_size {
            break;
        }
        let dst = &mut out[pos as usize..(pos + bs) as usize];
        let cached = st.folio_at_pos(geo, pos).and_then(|id| {
            let f = &st.folios[id];
            let off = pos - f.pos(geo);
            f.block_uptodate((off / bs) as usize).then(|| &f.data[off as usize..(off + bs) as usize])
        });
        match (cached, core.df[blk as usize]) {
            (Some(b), _) => dst.copy_from_slice(b),
            (None, Bmap::Written(pblk)) => w.disk.read_into(pblk * bs, dst),
            (None, _) => {}
        }
    }
    let i_size = st.i_size.min(geo.span) as usize;
    out[i_size..].fill(0);
    out
}

fn invariants(w: &World) -> Option<(Verdict, String)> {
    let geo = &w.geo;
    let bs = geo.block_size;
    let st = w.mapping.i_pages.lock();
    let core = w.ip.ilock.lock();
    for f in st.folios.iter().filter(|f| f.in_mapping && f.dirty) {
        let fpos = f.pos(geo);
        for i in 0..f.size(geo) / bs {
            let pos = fpos + i * bs;
            let changed = f.changed.get(i as usize).copied().unwrap_or(false);
            // Zeroes over a hole lose nothing (a hole reads zero): e.g. 6.13's direct zeroing
            // of a dirty partial EOF block whatever its mapping.
            let off = (pos - fpos) as usize;
            let data = f.data[off..off + bs as usize].iter().any(|b| *b != 0);
            // A COW-fork extent backs the block too (always_cow writes a hole through it).
            let blk = (pos / bs) as usize;
            let backed = core.df[blk] != Bmap::Hole || core.cf[blk] != Bmap::Hole;
            if pos < st.i_size && changed && data && !backed {
                let s =
                    format!("invariant:dirty-over-hole: dirty block [{pos}, {}) inside EOF has no extent", pos + bs);
                return Some((Verdict::Invariant("dirty-over-hole".into()), s));
            }
        }
    }
    for (blk, b) in core.df.iter().enumerate() {
        let pos = blk as u64 * bs;
        if *b == Bmap::Delalloc && pos >= st.i_size {
            // The model has no speculative preallocation, so delalloc at or beyond EOF at
            // quiescence is a leaked reservation: writeback never writes beyond EOF.
            let s = format!(
                "invariant:delalloc-beyond-eof: delalloc block [{pos}, {}) at or beyond EOF {}",
                pos + bs,
                st.i_size
            );
            return Some((Verdict::Invariant("delalloc-beyond-eof".into()), s));
        }
        if core.cf[blk] == Bmap::Delalloc {
            // The model reserves exactly the blocks a write covers in the COW fork (a one-block
            // COW extent size hint), so COW delalloc without a dirty folio over it at quiescence
            // is a reservation a short write failed to punch (kernel.md §9.5(a)).
            let dirty = st.folio_at_pos(geo, pos).is_some_and(|id| st.folios[id].dirty);
            if !dirty {
                let s = format!(
                    "invariant:orphan-cow-delalloc: COW-fork delalloc block [{pos}, {}) has no dirty folio",
                    pos + bs
                );
                return Some((Verdict::Invariant("orphan-cow-delalloc".into()), s));
            }
        }
        if *b == Bmap::Delalloc && pos < st.i_size {
            let dirty = st.folio_at_pos(geo, pos).is_some_and(|id| st.folios[id].dirty);
            if !dirty {
                let s = format!(
                    "invariant:orphan-delalloc: delalloc block [{pos}, {}) inside EOF has no dirty folio",
                    pos + bs
                );
                return Some((Verdict::Invariant("orphan-delalloc".into()), s));
            }
        }
    }
    None
}

fn warning_violation(w: &Warning, names: &[String]) -> (Verdict, String) {
    if w.name == "unsupported" {
        return (Verdict::Unsupported, format!("unsupported: {}", w.detail));
    }
    let who = names.get(w.actor as usize).map(String::as_str).unwrap_or("?");
    (
        Verdict::Invariant(w.name.replace('_', "-")),
        format!("invariant:{}: {} (in {who})", w.name.replace('_', "-"), w.detail),
    )
}

/// Check a finished execution. Runs the oracle's own flush in the world (as actor 0).
///
/// The first finding gives the verdict (model WARNs, then reads, then the quiescent
/// invariants, then the page-cache view, then the durable view); the durable view is checked
/// even after an earlier finding, so a report also says whether the data reached the disk.
pub fn check(w: &World, p: &Prepared) -> Option<Violation> {
    let (found, before) = findings(w, p);
    let (verdict, summary, detail) = found?;
    let (events, ops, _) = w.rec.snapshot();
    Some(Violation { verdict, summary, detail, events, events_before_check: before, ops })
}

/// [`check`] for an execution shown whatever it found (`iomc check --trace` on a pass): a
/// finding, or a `pass` with the events of the run and of the oracle's own flush.
pub fn observe(w: &World, p: &Prepared) -> Violation {
    let (found, before) = findings(w, p);
    let (verdict, summary, detail) = found.unwrap_or_else(|| {
        let why = "no violation in this execution: every byte read, cached and on disk as allowed";
        (Verdict::Pass, why.to_string(), Vec::new())
    });
    let (events, ops, _) = w.rec.snapshot();
    Violation { verdict, summary, detail, events, events_before_check: before, ops }
}

/// The first finding of a finished execution (verdict, summary, detail) and the number of
/// events before the oracle's own flush.
type Finding = (Verdict, String, Vec<String>);

fn findings(w: &World, p: &Prepared) -> (Option<Finding>, usize) {
    let (ops, warnings) = w.rec.history();
    let ws = writes(&ops, p.geo.max_folio_pages() * p.geo.page_size);
    let mut found: Vec<Finding> = Vec::new();
    if let Some(warn) = warnings.first() {
        let (v, s) = warning_violation(warn, &p.actor_names);
        found.push((v, s, Vec::new()));
    }
    if found.is_empty() {
        for r in ops.iter().filter(|r| matches!(r.desc, OpDesc::Read { .. })) {
            if let OpDesc::Read { offset, .. } = r.desc {
                let who = p.actor_names.get(r.actor as usize).cloned().unwrap_or_default();
                let view = format!("read by {who}:");
                if let Some(v) = compare(p, &view, offset, &r.data, &ws, &ops, (r.inv, r.resp)) {
                    found.push(v);
                    break;
                }
            }
        }
    }
    if found.is_empty() {
        if let Some((v, s)) = invariants(w) {
            found.push((v, s, Vec::new()));
        }
    }
    if found.is_empty() {
        let view = cache_view(w);
        found.extend(compare(p, "page cache:", 0, &view, &ws, &ops, (u64::MAX, u64::MAX)));
    }
    if found.is_empty() {
        found.extend(crate::crash_view::check(w, &ops, &ws));
    }
    let before = w.rec.event_count();
    if warnings.is_empty() {
        let cx = Ctx { w, actor: 0 };
        cx.ev("oracle", What::Note("all threads joined: fsync, evict everything, read the disk"));
        xfs::xfs_file_fsync(&cx);
        invalidate_after_exit(&cx, 0, w.geo.span);
        let view = cache_view(w);
        let durable = compare(p, "durable (after fsync + evict):", 0, &view, &ws, &ops, (u64::MAX, u64::MAX));
        match (found.first_mut(), durable) {
            (Some(first), Some((_, s, _))) => first.2.push(format!("and on disk: {s}")),
            (Some(first), None) => first.2.push("on disk after fsync + evict: every byte as expected".into()),
            (None, Some(d)) => found.push(d),
            (None, None) => {}
        }
        if found.is_empty() {
            if let Some(warn) = w.rec.first_warning() {
                let (v, s) = warning_violation(&warn, &p.actor_names);
                found.push((v, s, Vec::new()));
            }
        }
    }
    (found.into_iter().next(), before)
}

#[cfg(test)]
mod tests {
    use super::{allowed, class_of, first_not_in, writes};
    use iomc_models::{OpDesc, OpRecord};
    use iomc_scenario::Verdict;

    fn rec(actor: u8, desc: OpDesc, inv: u64, resp: u64, result: i64) -> OpRecord {
        OpRecord { actor, desc, inv, resp, result, data: Vec::new() }
    }

    /// The register: a completed write hides the initial zero and older writes; a concurrent
    /// one is allowed beside it; a short write's tail is allowed but hides nothing.
    #[test]
    fn allowed_follows_the_register() {
        let ops = [
            rec(1, OpDesc::Write { offset: 0, length: 100, fill: 0x11 }, 1, 2, 100),
            rec(1, OpDesc::Write { offset: 0, length: 100, fill: 0x22 }, 3, 6, 50),
            rec(2, OpDesc::Write { offset: 0, length: 100, fill: 0x33 }, 4, 5, 100),
        ];
        let ws = writes(&ops, 4096);
        let after = (u64::MAX, u64::MAX);
        // Byte 10: 0x22 (definite) and 0x33 overlap in time; 0x11 is hidden by both.
        let mut v = allowed(&ws, 10, after.0, after.1).0;
        v.sort_unstable();
        assert_eq!(v, [0x22, 0x33]);
        // Byte 60: 0x22 only "maybe" (short write), so 0x33 hides 0x11 but 0x22 stays possible.
        let mut v = allowed(&ws, 60, after.0, after.1).0;
        v.sort_unstable();
        assert_eq!(v, [0x22, 0x33]);
        // A reader that ended before anything was written sees the initial zero only.
        assert_eq!(allowed(&ws, 10, 0, 1).0, [0]);
    }

    /// A store's bytes beyond the EOF of its moment are not file data, unless another actor
    /// moved i_size while it ran.
    #[test]
    fn stores_beyond_eof_are_not_file_data() {
        let store = rec(1, OpDesc::Store { offset: 2000, length: 100, fill: 0x22 }, 1, 4, 0);
        let ws = writes(std::slice::from_ref(&store), 4096);
        assert_eq!(allowed(&ws, 2050, u64::MAX, u64::MAX).0, [0]);
        assert_eq!(class_of(&ws, 2050, 0x22), Verdict::StaleData, "exposed post-EOF store");
        let own = rec(1, OpDesc::Extend { from: 1000, to: 3000 }, 2, 2, 0);
        let ws = writes(&[store.clone(), own], 4096);
        assert_eq!(allowed(&ws, 2050, u64::MAX, u64::MAX).0, [0], "its own actor's extension proves nothing");
        let other = rec(2, OpDesc::Extend { from: 1000, to: 3000 }, 2, 2, 0);
        let ws = writes(&[store, other], 4096);
        let mut v = allowed(&ws, 2050, u64::MAX, u64::MAX).0;
        v.sort_unstable();
        assert_eq!(v, [0, 0x22], "a concurrent extension may have put the store inside EOF");
    }

    /// Classes: poison is stale, zero is zeroed, an older write's value is lost-write, a value
    /// never written there is stale.
    #[test]
    fn class_of_names_what_the_byte_holds() {
        let ops = [rec(1, OpDesc::Write { offset: 0, length: 10, fill: 0x11 }, 1, 2, 10)];
        let ws = writes(&ops, 4096);
        assert_eq!(class_of(&ws, 5, iomc_models::xfs::POISON), Verdict::StaleData);
        assert_eq!(class_of(&ws, 5, 0), Verdict::ZeroedData);
        assert_eq!(class_of(&ws, 5, 0x11), Verdict::LostWrite);
        assert_eq!(class_of(&ws, 5, 0x44), Verdict::StaleData);
        assert_eq!(class_of(&ws, 50, 0x11), Verdict::StaleData, "0x11 was never written at 50");
    }

    /// The vectorised scan finds the same first bad byte as a plain per-byte scan, for one
    /// allowed value and for several, at every position across chunk boundaries.
    #[test]
    fn first_not_in_matches_a_byte_by_byte_scan() {
        for len in [0usize, 1, 63, 64, 65, 200] {
            for bad_at in (0..len).chain([usize::MAX]) {
                let mut data = vec![0x41u8; len];
                if bad_at < len {
                    data[bad_at] = 0;
                }
                for vals in [&[0x41u8][..], &[0x42, 0x41][..], &[0x00][..]] {
                    let plain = data.iter().position(|b| !vals.contains(b));
                    assert_eq!(first_not_in(&data, vals), plain, "len {len}, bad at {bad_at}, {vals:?}");
                }
            }
        }
    }
}
