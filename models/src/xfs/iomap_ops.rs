//! XFS buffered-write iomap callbacks (fs/xfs/xfs_iomap.c).

use super::zoned::{xfs_zoned_buffered_write_iomap_begin, ZoneAllocCtx};
use super::{iomap_from_extent, Bmap, Fork, InodeCore};
use crate::behaviour::WriteFailureCleanup;
use crate::events::{IomapType, What};
use crate::iomap::{
    iomap_file_buffered_write_punch_delalloc, iomap_unused_delalloc, iomap_write_delalloc_release, Errno, Iomap,
    IomapOps, IterFlags, PunchFn, SrcMap,
};
use crate::pagecache::truncate_pagecache_range;
use crate::world::Ctx;

/// `xfs_buffered_write_iomap_begin` (fs/xfs/xfs_iomap.c, 6.1 to 6.18; 6.2 adds the cookie):
/// under ILOCK_EXCL, return the existing extent at `pos` (flags 0), or reserve delalloc over the
/// hole up to the end of the write or the next extent and return it DELALLOC with
/// IOMAP_F_NEW; the validity cookie is `if_seq` sampled under the ILOCK
/// (`xfs_iomap_inode_sequence`: with the COW fork's in the high half when SHARED).
/// For IOMAP_ZERO a hole is reported as a hole up to the next extent or the end of the range
/// ("We never need to allocate blocks for zeroing or unsharing a hole").
/// On a reflinked inode (`xfs_is_cow_inode`) an existing COW-fork extent at `pos` wins
/// (`found_cow`), and a written extent whose blocks are shared (`xfs_bmap_trim_cow`) gets a
/// COW-fork delalloc reservation over the shared run; the COW mapping comes back with the data
/// extent as srcmap. With `always_cow` (a geometry key standing for the XFS debug knob) every
/// write is a COW write, over holes too. Before 6.12 it is SHARED only when a data extent is at `pos` and never
/// NEW; from 6.12 ([`Behaviour::cow_iomap_new`], 7d6fe5c586e6, c29440ff66d6) always SHARED,
/// and NEW when just reserved.
/// Simplifications: no speculative preallocation beyond EOF, no extent size hints; a COW
/// reservation covers exactly the blocks written (the kernel aligns it to the COW extent size
/// hint, 32 blocks by default, and never punches the slop: kernel.md §14).
///
/// [`Behaviour::cow_iomap_new`]: crate::Behaviour
pub fn xfs_buffered_write_iomap_begin(cx: &Ctx<'_>, pos: u64, len: u64, flags: IterFlags) -> Result<Iomap, Errno> {
    xfs_buffered_write_iomap_begin_ac(cx, pos, len, flags, None)
}

/// [`xfs_buffered_write_iomap_begin`] with the operation's zone allocation context
/// (`iter->private`): a zoned inode goes to `xfs_zoned_buffered_write_iomap_begin` (6.15+),
/// which `ASSERT(ac)`s.
pub fn xfs_buffered_write_iomap_begin_ac(
    cx: &Ctx<'_>,
    pos: u64,
    len: u64,
    flags: IterFlags,
    ac: Option<&ZoneAllocCtx>,
) -> Result<Iomap, Errno> {
    if cx.w.geo.zoned {
        let Some(ac) = ac else {
            cx.warn(
                "xfs_zoned_buffered_write_iomap_begin",
                "called without a zone allocation context (ASSERT(ac))".into(),
            );
            return Err(crate::iomap::EIO);
        };
        return xfs_zoned_buffered_write_iomap_begin(cx, pos, len, flags, ac);
    }
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
    } else if let Some(m) = cow_mapping(cx, &mut core, fsb, end_fsb, b, flags) {
        m
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
            new: true,
            cookie: core.if_seq,
            ..Iomap::NONE
        }
    };
    let what =
        What::Iomap { offset: iomap.offset, length: iomap.length, ty: iomap.ty, new: iomap.new, cookie: iomap.cookie };
    cx.ev("xfs_buffered_write_iomap_begin", what);
    Ok(iomap)
}

/// The COW part of `xfs_buffered_write_iomap_begin` (6.6 to 6.18): `None` when the data
/// mapping stands (not a reflinked inode, no COW extent at `fsb`, the data extent not shared,
/// zeroing over an unwritten extent).
fn cow_mapping(
    cx: &Ctx<'_>,
    core: &mut InodeCore,
    fsb: u64,
    end_fsb: u64,
    data: Bmap,
    flags: IterFlags,
) -> Option<Iomap> {
    let geo = &cx.w.geo;
    let always_cow = geo.always_cow;
    if !core.reflink && !always_cow {
        return None;
    }
    let bs = geo.block_size;
    let new_flags = cx.w.behaviour.cow_iomap_new;
    let mut reserved = false;
    if core.cf[fsb as usize] == Bmap::Hole {
        // Not found_cow. xfs_bmap_trim_cow: COW a written extent whose blocks are shared; with
        // always_cow any allocated extent, and a data-fork hole too (allocfork = XFS_COW_FORK).
        // Zeroing over an unwritten extent goes to found_imap; zeroing holes was handled before.
        let cows = |b: Bmap, c: &InodeCore| match b {
            Bmap::Written(p) => always_cow || c.shared(p),
            Bmap::Unwritten(_) => always_cow && !flags.zero,
            Bmap::Hole => always_cow,
            Bmap::Delalloc => false,
        };
        if !cows(data, core) {
            return None;
        }
        // The run from fsb up to the write's end, the data extent's (or hole's) end and the
        // next COW extent (xfs_bmapi_reserve_delalloc stops at the next extent of the fork).
        let (dstart, dlen, _) = core.extent_at(fsb);
        let stop = end_fsb.min(dstart + dlen);
        let mut end = fsb;
        while end < stop && core.cf[end as usize] == Bmap::Hole && cows(core.df[end as usize], core) {
            end += 1;
        }
        if end == fsb {
            return None;
        }
        core.update_fork(cx, "xfs_bmapi_reserve_delalloc", Fork::Cow, fsb, end, |_, _| Some(Bmap::Delalloc));
        reserved = true;
    }
    // found_cow: the COW extent at fsb, trimmed to the data extent (or hole) it sits over.
    let (cstart, clen, cb) = core.fork_extent_at(Fork::Cow, fsb);
    let (dstart, dlen, _) = core.extent_at(fsb);
    let over_data = data != Bmap::Hole;
    let (ty, addr) = match cb {
        Bmap::Delalloc => (IomapType::Delalloc, 0),
        Bmap::Unwritten(p) => (IomapType::Unwritten, p * bs),
        Bmap::Written(p) => (IomapType::Mapped, p * bs),
        Bmap::Hole => return None,
    };
    let (offset, mut end) = (cstart * bs, (cstart + clen) * bs);
    let addr_at = |o: u64| if addr == 0 { 0 } else { addr + (o - cstart * bs) };
    if !over_data {
        // Over a data-fork hole: trim to the hole's end.
        end = end.min((dstart + dlen) * bs);
    }
    let shared = new_flags || over_data;
    let srcmap = over_data.then(|| {
        let d = iomap_from_extent(core, geo, fsb);
        SrcMap { offset: d.offset, length: d.length, ty: d.ty, addr: d.addr }
    });
    let cookie = core.iomap_sequence(shared);
    Some(Iomap {
        offset,
        length: end - offset,
        ty,
        addr: addr_at(offset),
        new: reserved && new_flags,
        stale: false,
        cookie,
        shared,
        srcmap,
    })
}

/// `xfs_bmap_punch_delalloc_range` (fs/xfs/xfs_bmap_util.c, 6.2 byte-range form 7348b322332d;
/// 6.1 takes blocks, same effect): under ILOCK_EXCL remove delalloc, and only delalloc, over
/// `[start, end)` bytes (`start_fsb = XFS_B_TO_FSBT(start)`, `end_fsb = XFS_B_TO_FSB(end)`).
/// The walk starts at `xfs_iext_lookup_extent_before(end_fsb)` and goes backwards: an empty
/// range at block 0 (6.2's `xfs_discard_folio(pos = 0)`) looks up block `end_fsb - 1`, which
/// underflows, falls back to the fork's last extent and deletes every delalloc extent from 0
/// to its end (kernel.md §14, 8ac5b996bf51's message); an empty range elsewhere deletes nothing.
pub fn xfs_bmap_punch_delalloc_range(cx: &Ctx<'_>, start: u64, end: u64) {
    xfs_bmap_punch_delalloc_range_fork(cx, Fork::Data, start, end, None);
}

/// [`xfs_bmap_punch_delalloc_range`] on fork `which` (the `whichfork` argument of 6.12,
/// 8fe3b21efa07), with the zone allocation context of a zoned buffered write (6.15+): the
/// punched blocks go back to `ac->reserved_blocks` "for the following iomap iterations".
pub fn xfs_bmap_punch_delalloc_range_fork(cx: &Ctx<'_>, which: Fork, start: u64, end: u64, ac: Option<&ZoneAllocCtx>) {
    let bs = cx.w.geo.block_size;
    let func = if which == Fork::Cow { "xfs_bmap_punch_delalloc_range(COW)" } else { "xfs_bmap_punch_delalloc_range" };
    cx.ev(func, What::Punch { from: start, to: end });
    let mut core = cx.w.ip.ilock.lock();
    let (start_fsb, mut end_fsb) = (start / bs, end.div_ceil(bs));
    if start_fsb >= end_fsb {
        if start_fsb != 0 {
            return;
        }
        end_fsb = core.df.len() as u64;
    }
    let mut punched = 0;
    core.update_fork(cx, "xfs_bmap_del_extent_delay", which, start_fsb, end_fsb, |_, b| {
        punched += u64::from(b == Bmap::Delalloc);
        (b == Bmap::Delalloc).then_some(Bmap::Hole)
    });
    if let Some(ac) = ac.filter(|_| cx.w.geo.zoned) {
        ac.reserved_blocks.set(ac.reserved_blocks.get() + punched);
    }
}

/// `xfs_buffered_write_iomap_ops` (+ `xfs_iomap_page_ops` from 6.2), with the iterator's
/// private zone allocation context on a zoned inode.
#[derive(Clone, Copy, Debug)]
pub struct XfsBufferedWriteIomapOps<'a> {
    /// `iter->private`: the operation's block reservation (zoned XFS only).
    pub ac: Option<&'a ZoneAllocCtx>,
}

/// The ops a buffered write uses (no zone allocation context).
pub const XFS_BUFFERED_WRITE_IOMAP_OPS: XfsBufferedWriteIomapOps<'static> = XfsBufferedWriteIomapOps { ac: None };

impl IomapOps for XfsBufferedWriteIomapOps<'_> {
    fn iomap_begin(&self, cx: &Ctx<'_>, pos: u64, len: u64, flags: IterFlags) -> Result<Iomap, Errno> {
        xfs_buffered_write_iomap_begin_ac(cx, pos, len, flags, self.ac)
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
        flags: IterFlags,
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
        let b = &cx.w.behaviour;
        // 6.12: the punch callback picks the COW fork for a SHARED mapping.
        let ac = self.ac;
        let cow = move |cx: &Ctx<'_>, start: u64, end: u64| xfs_buffered_write_delalloc_punch_cow(cx, start, end, ac);
        let punch: PunchFn<'_> =
            if iomap.shared && b.cow_fork_punch { &cow } else { &xfs_buffered_write_delalloc_punch };
        match b.write_failure_cleanup {
            WriteFailureCleanup::TruncateThenPunch => truncate_then_punch(cx, &iomap, pos, length, written),
            // 6.2-6.11: iomap's helper, whose walk takes invalidate_lock itself.
            WriteFailureCleanup::SeekScan if !b.punch_lock_in_fs => {
                iomap_file_buffered_write_punch_delalloc(cx, &iomap, pos, length, written, punch)
            }
            // 6.12 (abd7d651ad2c): XFS computes the range and takes invalidate_lock for the
            // walk, except for zeroing, whose callers hold it.
            WriteFailureCleanup::SeekScan => {
                if let Some((start, end)) = iomap_unused_delalloc(&cx.w.geo, &iomap, pos, length, written) {
                    let _inval = (!flags.zero).then(|| {
                        let g = cx.w.mapping.invalidate_lock.write();
                        cx.ev("filemap_invalidate_lock", What::Lock { name: "invalidate_lock", excl: true });
                        g
                    });
                    iomap_write_delalloc_release(cx, start, end, punch);
                }
            }
        }
        Some(Ok(()))
    }

    /// `xfs_iomap_valid` (fs/xfs/xfs_iomap.c, 6.2, 304a68b9c63b): the cookie against the data
    /// fork's `if_seq`, read without the ILOCK. Absent before 6.2.
    fn iomap_valid(&self, cx: &Ctx<'_>, iomap: &Iomap, merged: bool) -> Option<bool> {
        if !cx.w.behaviour.iomap_valid {
            return None;
        }
        // xfs_iomap_inode_sequence(ip, iomap->flags): the COW fork's sequence too when SHARED.
        let core = cx.w.ip.ilock.lock_merged_if(merged);
        let if_seq = core.iomap_sequence(iomap.shared);
        drop(core);
        let valid = iomap.cookie == if_seq;
        cx.ev("xfs_iomap_valid", What::Valid { cookie: iomap.cookie, if_seq, valid });
        Some(valid)
    }
}

/// `xfs_buffered_write_delalloc_punch` (fs/xfs/xfs_iomap.c, 6.2 to 6.18): the punch callback,
/// on the data fork (always before 6.12; for a mapping without IOMAP_F_SHARED from 6.12).
fn xfs_buffered_write_delalloc_punch(cx: &Ctx<'_>, start: u64, end: u64) {
    xfs_bmap_punch_delalloc_range(cx, start, end);
}

/// `xfs_buffered_write_delalloc_punch` for an IOMAP_F_SHARED mapping (6.12, f6f91d290c8b):
/// the COW fork, returning the blocks to a zoned write's reservation (6.15+).
fn xfs_buffered_write_delalloc_punch_cow(cx: &Ctx<'_>, start: u64, end: u64, ac: Option<&ZoneAllocCtx>) {
    xfs_bmap_punch_delalloc_range_fork(cx, Fork::Cow, start, end, ac);
}

/// The 6.1 cleanup in `xfs_buffered_write_iomap_end`: `truncate_pagecache_range` then
/// `xfs_bmap_punch_delalloc_range`, two separate steps, holding the IOLOCK only (or the
/// invalidate_lock too with `cleanup_invalidate_lock`, as 198dd8aedee6 did first).
fn truncate_then_punch(cx: &Ctx<'_>, iomap: &Iomap, pos: u64, length: u64, written: u64) {
    let Some((start, end)) = iomap_unused_delalloc(&cx.w.geo, iomap, pos, length, written) else { return };
    let _inval = cx.w.behaviour.cleanup_invalidate_lock.then(|| cx.w.mapping.invalidate_lock.write());
    truncate_pagecache_range(cx, start, end);
    xfs_bmap_punch_delalloc_range(cx, start, end);
}

/// `xfs_read_iomap_ops`: `xfs_read_iomap_begin` (fs/xfs/xfs_iomap.c, 5.0 to 6.18) maps the data
/// fork's extent at `pos` under ILOCK shared (holes, delalloc and unwritten read as zeroes,
/// written extents from the disk); no `->iomap_end`, no `->iomap_valid` (a read mapping is used
/// under the folio lock it was looked up for). Simplification: the model's ILOCK is exclusive
/// (shared holders never conflict with each other here: readers change nothing).
#[derive(Clone, Copy, Debug)]
pub struct XfsReadIomapOps;

/// The ops buffered reads and read faults use.
pub const XFS_READ_IOMAP_OPS: XfsReadIomapOps = XfsReadIomapOps;

impl IomapOps for XfsReadIomapOps {
    fn iomap_begin(&self, cx: &Ctx<'_>, pos: u64, _len: u64, _flags: IterFlags) -> Result<Iomap, Errno> {
        let core = cx.w.ip.ilock.lock();
        Ok(iomap_from_extent(&core, &cx.w.geo, pos / cx.w.geo.block_size))
    }

    fn iomap_end(&self, _: &Ctx<'_>, _: u64, _: u64, _: u64, _: IterFlags, _: &Iomap) -> Option<Result<(), Errno>> {
        None
    }

    fn iomap_valid(&self, _: &Ctx<'_>, _: &Iomap, _: bool) -> Option<bool> {
        None
    }
}
