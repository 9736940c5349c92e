//! XFS buffered-write iomap callbacks (fs/xfs/xfs_iomap.c).

use super::{iomap_from_extent, Bmap};
use crate::behaviour::WriteFailureCleanup;
use crate::events::{IomapType, What};
use crate::iomap::{iomap_file_buffered_write_punch_delalloc, Errno, Iomap, IomapOps, IterFlags};
use crate::pagecache::truncate_pagecache_range;
use crate::world::Ctx;

/// `xfs_buffered_write_iomap_begin` (fs/xfs/xfs_iomap.c, 6.1; 6.2 adds the cookie): under
/// ILOCK_EXCL, return the existing extent at `pos` (flags 0), or reserve delalloc over the
/// hole up to the end of the write or the next extent and return it DELALLOC with
/// IOMAP_F_NEW; the validity cookie is `if_seq` sampled under the ILOCK.
/// For IOMAP_ZERO a hole is reported as a hole up to the next extent or the end of the range
/// ("We never need to allocate blocks for zeroing or unsharing a hole").
/// Simplification: no speculative preallocation beyond EOF, no COW fork, no extent size hints.
pub fn xfs_buffered_write_iomap_begin(cx: &Ctx<'_>, pos: u64, len: u64, flags: IterFlags) -> Result<Iomap, Errno> {
    let geo = &cx.w.geo;
    let bs = geo.block_size;
    let mut core = cx.w.ip.ilock.lock();
    let fsb = pos / bs;
    let end_fsb = (pos + len).div_ceil(bs).min(geo.nr_blocks());
    let (start, elen, b) = core.extent_at(fsb);
    let iomap = if b == Bmap::Hole && flags.zero {
        // xfs_hole_to_iomap(ip, iomap, offset_fsb, imap.br_startoff)
        let end = end_fsb.min(start + elen).max(fsb + 1);
        Iomap { offset: fsb * bs, length: (end - fsb) * bs, cookie: core.if_seq, ..Iomap::NONE }
    } else if b != Bmap::Hole {
        iomap_from_extent(&core, geo, fsb)
    } else {
        // xfs_bmapi_reserve_delalloc over [fsb, min(end of write, next extent)).
        let end = end_fsb.min(start + elen).max(fsb + 1);
        core.update(cx, "xfs_bmapi_reserve_delalloc", fsb, end, |_, _| Some(Bmap::Delalloc));
        Iomap {
            offset: fsb * bs,
            length: (end - fsb) * bs,
            ty: IomapType::Delalloc,
            addr: 0,
            new: true,
            stale: false,
            cookie: core.if_seq,
        }
    };
    let what =
        What::Iomap { offset: iomap.offset, length: iomap.length, ty: iomap.ty, new: iomap.new, cookie: iomap.cookie };
    cx.ev("xfs_buffered_write_iomap_begin", what);
    Ok(iomap)
}

/// `xfs_bmap_punch_delalloc_range` (fs/xfs/xfs_bmap_util.c, 6.2 byte-range form 7348b322332d;
/// 6.1 takes blocks, same effect): under ILOCK_EXCL remove delalloc, and only delalloc, over
/// `[start, end)` bytes (`start_fsb = XFS_B_TO_FSBT(start)`, `end_fsb = XFS_B_TO_FSB(end)`).
/// The walk starts at `xfs_iext_lookup_extent_before(end_fsb)` and goes backwards: an empty
/// range at block 0 (6.2's `xfs_discard_folio(pos = 0)`) looks up block `end_fsb - 1`, which
/// underflows, falls back to the fork's last extent and deletes every delalloc extent from 0
/// to its end (kernel.md §14, 8ac5b996bf51's message); an empty range elsewhere deletes nothing.
pub fn xfs_bmap_punch_delalloc_range(cx: &Ctx<'_>, start: u64, end: u64) {
    let bs = cx.w.geo.block_size;
    cx.ev("xfs_bmap_punch_delalloc_range", What::Punch { from: start, to: end });
    let mut core = cx.w.ip.ilock.lock();
    let (start_fsb, mut end_fsb) = (start / bs, end.div_ceil(bs));
    if start_fsb >= end_fsb {
        if start_fsb != 0 {
            return;
        }
        end_fsb = core.df.len() as u64;
    }
    core.update(cx, "xfs_bmap_del_extent_delay", start_fsb, end_fsb, |_, b| {
        (b == Bmap::Delalloc).then_some(Bmap::Hole)
    });
}

/// `xfs_buffered_write_iomap_ops` (+ `xfs_iomap_page_ops` from 6.2).
#[derive(Clone, Copy, Debug)]
pub struct XfsBufferedWriteIomapOps;

/// The ops a buffered write uses.
pub const XFS_BUFFERED_WRITE_IOMAP_OPS: XfsBufferedWriteIomapOps = XfsBufferedWriteIomapOps;

impl IomapOps for XfsBufferedWriteIomapOps {
    fn iomap_begin(&self, cx: &Ctx<'_>, pos: u64, len: u64, flags: IterFlags) -> Result<Iomap, Errno> {
        xfs_buffered_write_iomap_begin(cx, pos, len, flags)
    }

    /// `xfs_buffered_write_iomap_end` (fs/xfs/xfs_iomap.c): 6.1 truncates the page cache over
    /// the unused part of a DELALLOC+NEW mapping and punches it (drop_writes forces written = 0
    /// and NEW); 6.2 hands the range to `iomap_file_buffered_write_punch_delalloc`.
    fn iomap_end(
        &self,
        cx: &Ctx<'_>,
        pos: u64,
        length: u64,
        written: u64,
        _flags: IterFlags,
        iomap: &Iomap,
    ) -> Option<Result<(), Errno>> {
        if iomap.ty != IomapType::Delalloc {
            return Some(Ok(()));
        }
        let mut iomap = *iomap;
        let mut written = written;
        let drop_writes = cx.w.behaviour.drop_writes_errortag && cx.w.ip.ilock.lock().drop_writes;
        if drop_writes {
            // XFS_TEST_ERROR(XFS_ERRTAG_DROP_WRITES)
            iomap.new = true;
            written = 0;
        }
        cx.ev("xfs_buffered_write_iomap_end", What::IomapEnd { pos, length, written });
        match cx.w.behaviour.write_failure_cleanup {
            WriteFailureCleanup::TruncateThenPunch => truncate_then_punch(cx, &iomap, pos, length, written),
            WriteFailureCleanup::SeekScan => iomap_file_buffered_write_punch_delalloc(
                cx,
                &iomap,
                pos,
                length,
                written,
                xfs_buffered_write_delalloc_punch,
            ),
        }
        Some(Ok(()))
    }

    /// `xfs_iomap_valid` (fs/xfs/xfs_iomap.c, 6.2, 304a68b9c63b): the cookie against the data
    /// fork's `if_seq`, read without the ILOCK. Absent before 6.2.
    fn iomap_valid(&self, cx: &Ctx<'_>, iomap: &Iomap) -> Option<bool> {
        if !cx.w.behaviour.iomap_valid {
            return None;
        }
        let if_seq = cx.w.ip.ilock.lock().if_seq;
        let valid = iomap.cookie == if_seq;
        cx.ev("xfs_iomap_valid", What::Valid { cookie: iomap.cookie, if_seq, valid });
        Some(valid)
    }
}

/// `xfs_buffered_write_delalloc_punch` (fs/xfs/xfs_iomap.c, 6.2): the punch callback.
fn xfs_buffered_write_delalloc_punch(cx: &Ctx<'_>, start: u64, end: u64) {
    xfs_bmap_punch_delalloc_range(cx, start, end);
}

/// The 6.1 cleanup in `xfs_buffered_write_iomap_end`: `truncate_pagecache_range` then
/// `xfs_bmap_punch_delalloc_range`, two separate steps, holding the IOLOCK only (or the
/// invalidate_lock too with `cleanup_invalidate_lock`, as 198dd8aedee6 did first).
fn truncate_then_punch(cx: &Ctx<'_>, iomap: &Iomap, pos: u64, length: u64, written: u64) {
    let geo = &cx.w.geo;
    let start = if written > 0 { geo.block_up(pos + written) } else { geo.block_down(pos) };
    let end = geo.block_up(pos + length);
    if !iomap.new || start >= end {
        return;
    }
    let _inval = cx.w.behaviour.cleanup_invalidate_lock.then(|| cx.w.mapping.invalidate_lock.write());
    truncate_pagecache_range(cx, start, end);
    xfs_bmap_punch_delalloc_range(cx, start, end);
}
