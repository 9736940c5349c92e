//! `iomap_zero_range` and `iomap_truncate_page` (fs/iomap/buffered-io.c) as each preset has
//! them: every XFS caller of `xfs_zero_range` (the EOF gap of an extending write, truncate up
//! and down, the edges of a hole punch) comes through here.
//!
//! - 6.1 to 6.11: `iomap_zero_iter` skips HOLE and UNWRITTEN mappings, even over dirty page
//!   cache (kernel.md §9.4), and zeroes DELALLOC and MAPPED ranges through
//!   `iomap_write_begin`/`iomap_write_end` (folio lock, validity check, dirtying).
//! - 6.12 (c5c810b94cfd, 7d9b474ee4cc; knob `zero_range_flush`): whether any of the range needs
//!   writeback is sampled once up front; the first HOLE or UNWRITTEN mapping met while it does
//!   writes back and waits for the rest of the range and marks the mapping stale, so the
//!   iterator maps the same position again (now written, if the flush converted it).
//! - 6.13 (knob `zero_range_partial_eof`): an unaligned start whose block needs writeback is
//!   zeroed directly in the page cache, whatever the mapping, before the flush logic runs on
//!   the rest.

use super::{
    iomap_iter, iomap_length, iomap_write_begin, iomap_write_end, Errno, IomapIter, IomapOps, IomapType, IterFlags,
    WritebackOps,
};
use crate::events::What;
use crate::iomap::filemap_write_and_wait_range;
use crate::pagecache::filemap_range_needs_writeback;
use crate::world::Ctx;

/// `iomap_zero_range` (fs/iomap/buffered-io.c; per version as the module doc says): zero
/// `[pos, pos+len)` in the page cache where the mapping is not already zero on disk. `wb` is
/// the mapping's writeback (`filemap_write_and_wait_range` → `->writepages`). Returns
/// `did_zero` (a DELALLOC or MAPPED range was zeroed) or the errno of a failed iteration.
pub fn iomap_zero_range(
    cx: &Ctx<'_>,
    pos: u64,
    len: u64,
    ops: &dyn IomapOps,
    wb: &dyn WritebackOps,
) -> Result<bool, Errno> {
    if len == 0 {
        return Ok(false);
    }
    let b = &cx.w.behaviour;
    let bs = cx.w.geo.block_size;
    let flags = IterFlags { zero: true, ..IterFlags::default() };
    let mut iter = IomapIter::new(pos, len, flags);
    let mut did_zero = false;
    let off = pos % bs;
    let plen = len.min(bs - off);
    if b.zero_range_partial_eof && off != 0 && filemap_range_needs_writeback(cx, pos, pos + plen) {
        // 6.13: zero the dirty partial first block directly rather than flushing it.
        iter.len = plen;
        while iomap_iter(cx, &mut iter, ops)? {
            iter.processed = iomap_zero_iter(cx, &mut iter, ops, &mut did_zero);
        }
        iter = IomapIter { len: len - (iter.pos - pos), ..IomapIter::new(iter.pos, 0, flags) };
        if iter.len == 0 {
            return Ok(did_zero);
        }
    }
    let mut range_dirty = b.zero_range_flush && filemap_range_needs_writeback(cx, iter.pos, iter.pos + iter.len);
    while iomap_iter(cx, &mut iter, ops)? {
        if matches!(iter.iomap.ty, IomapType::Hole | IomapType::Unwritten) {
            // 7.1 (a35bb0dec955): iomap flushes over UNWRITTEN only; holes are XFS's business.
            let flushes = iter.iomap.ty == IomapType::Unwritten || b.zero_flush_holes;
            iter.processed = if range_dirty && flushes {
                range_dirty = false;
                iomap_zero_iter_flush_and_stale(cx, &mut iter, wb)
            } else {
                iomap_length(&iter) as i64
            };
            continue;
        }
        iter.processed = iomap_zero_iter(cx, &mut iter, ops, &mut did_zero);
    }
    Ok(did_zero)
}

/// `iomap_truncate_page` (fs/iomap/buffered-io.c, 6.1 to 6.18): zero the rest of the block
/// that contains the new EOF `pos`; nothing at a block boundary.
pub fn iomap_truncate_page(cx: &Ctx<'_>, pos: u64, ops: &dyn IomapOps, wb: &dyn WritebackOps) -> Result<bool, Errno> {
    let bs = cx.w.geo.block_size;
    let off = pos % bs;
    if off == 0 {
        return Ok(false);
    }
    iomap_zero_range(cx, pos, bs - off, ops, wb)
}

/// `iomap_zero_iter_flush_and_stale` (fs/iomap/buffered-io.c, 6.12 to 6.18): mark the mapping
/// stale and `filemap_write_and_wait_range` over the rest of the iteration. Returns 0 bytes
/// processed (the iterator remaps the same position).
fn iomap_zero_iter_flush_and_stale(cx: &Ctx<'_>, iter: &mut IomapIter, wb: &dyn WritebackOps) -> i64 {
    cx.ev("iomap_zero_range", What::Note("dirty page cache over a hole or unwritten extent: flush and remap"));
    iter.iomap.stale = true;
    // No fault injected: nothing fails.
    let _ = filemap_write_and_wait_range(cx, wb, iter.pos, iter.pos + iter.len);
    0
}

/// `iomap_zero_iter` (fs/iomap/buffered-io.c, 6.1 to 6.18; the HOLE/UNWRITTEN skip is the
/// caller's from 6.12 on, same effect): for each folio of the mapping, `iomap_write_begin`
/// (6.2+: a stale mapping ends this mapping's pass), zero the bytes, `iomap_write_end`.
/// Simplification: 6.13's WARN on zeroing a folio wholly beyond EOF is not modelled (no
/// post-EOF delalloc reaches it without speculative preallocation).
fn iomap_zero_iter(cx: &Ctx<'_>, iter: &mut IomapIter, ops: &dyn IomapOps, did_zero: &mut bool) -> i64 {
    let geo = &cx.w.geo;
    let mut pos = iter.pos;
    let mut length = iomap_length(iter);
    let mut written: u64 = 0;
    while length > 0 {
        let folio = match iomap_write_begin(cx, iter, pos, length, ops) {
            Err(e) => return if written > 0 { written as i64 } else { e },
            Ok(None) => break,
            Ok(Some(f)) => f,
        };
        let bytes = length.min(folio.pos(geo) + folio.size(geo) - pos);
        let done = iomap_write_end(cx, iter, pos, bytes, bytes, 0, folio);
        if done <= 0 {
            cx.warn("iomap_zero_iter", format!("iomap_write_end failed zeroing [{pos}, {})", pos + bytes));
            return super::EIO;
        }
        pos += bytes;
        written += bytes;
        length -= bytes;
    }
    *did_zero = true;
    written as i64
}
